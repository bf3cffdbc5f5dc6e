// A chunk on the listening side, as it arrives on its stream: the header,
// then the payload in pooled blocks of kBlockSize bytes; after the thread
// pool has checked it (and decompressed a zstd chunk into `raw`), what the
// writer hands to the sink.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <sys/uio.h>
#include <vector>

#include "core/buffer_pool.h"
#include "core/error.h"
#include "pipeline/wire.h"
#include "transport/connection.h"

namespace qpipe::app {

inline constexpr size_t kBlockSize = 64 * 1024;

struct RxChunk {
  std::array<uint8_t, wire::ChunkHeader::kSize> hbuf{};
  size_t hgot = 0;
  bool have_header = false;
  wire::ChunkHeader hdr;
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  size_t got = 0; // payload bytes
  bool processing = false, hashed = false;
  wire::Digest actual{};
  std::unique_ptr<uint8_t[]> raw; // the decompressed bytes of a zstd chunk
  std::optional<Error> error;     // set by a failed decompression

  // Takes stream data: header bytes first, then payload into blocks from
  // `pool`. A header that does not decode, or more payload than it
  // announced, is a protocol error. `header_done` runs when the header is
  // complete (to check its sequence number).
  template <typename HeaderCheck>
  transport::Outcome feed(std::span<const uint8_t> data, BufferPool& pool,
                          HeaderCheck&& header_done);
  // After the stream's FIN: whether exactly the announced payload arrived.
  bool complete() const { return have_header && got == hdr.wire_len; }

  // What to write: the decompressed buffer, or the received blocks.
  std::vector<iovec> iov() const {
    if (raw) return {iovec{raw.get(), hdr.raw_len}};
    return received();
  }
  std::vector<iovec> received() const {
    std::vector<iovec> v;
    size_t left = got;
    for (const auto& b : blocks) {
      size_t n = std::min(left, kBlockSize);
      v.push_back({b.get(), n});
      left -= n;
    }
    return v;
  }
  // Gives the received blocks back to the pool.
  void recycle(BufferPool& pool) {
    for (auto& b : blocks)
      pool.put(std::move(b));
    blocks.clear();
  }
};

template <typename HeaderCheck>
transport::Outcome RxChunk::feed(std::span<const uint8_t> data, BufferPool& pool,
                                 HeaderCheck&& header_done) {
  constexpr size_t H = wire::ChunkHeader::kSize;
  if (!have_header) {
    size_t n = std::min(data.size(), H - hgot);
    std::memcpy(hbuf.data() + hgot, data.data(), n);
    hgot += n;
    data = data.subspan(n);
    if (hgot == H) {
      auto h = wire::decode_chunk_header(std::span<const uint8_t, H>(hbuf), wire::kMaxChunkRaw);
      if (!h) return transport::Abort{h.error(), transport::AppError::protocol};
      if (auto o = header_done(*h); !o) return o;
      hdr = *h;
      have_header = true;
    }
  }
  if (data.empty()) return {};
  if (!have_header || got + data.size() > hdr.wire_len)
    return transport::protocol_abort("chunk longer than its header says");
  while (!data.empty()) {
    size_t off = got % kBlockSize;
    if (off == 0) blocks.push_back(pool.get());
    size_t n = std::min(data.size(), kBlockSize - off);
    std::memcpy(blocks.back().get() + off, data.data(), n);
    got += n;
    data = data.subspan(n);
  }
  return {};
}

} // namespace qpipe::app
