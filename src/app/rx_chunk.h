// A chunk on the listening side, as it arrives on its stream: the header,
// then the payload in blocks of kBlockSize bytes (the last one only as large
// as the rest of the chunk, so that a whole chunk holds no more memory than
// its length); after the thread pool has checked it (and decompressed a
// zstd chunk into `raw`), what the writer hands to the sink.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <sys/uio.h>
#include <vector>

#include "app/memory_budget.h"
#include "core/error.h"
#include "pipeline/digest.h"
#include "pipeline/wire.h"
#include "transport/connection.h"

namespace qpipe::app {

struct RxChunk {
  std::array<uint8_t, wire::ChunkHeader::kSize> hbuf{};
  size_t hgot = 0;
  bool have_header = false;
  wire::ChunkHeader hdr;
  std::vector<Block> blocks;
  size_t got = 0;                           // payload bytes
  bool processing = false, checked = false; // checked: `actual` is known
  bool in_history = false; // appended to the receiver's history (HELLO's kHelloHistory)
  wire::Digest actual{};
  // A raw chunk is hashed as it arrives, on the loop, a block at a time as
  // each one fills (still in the cache): a job of its own on the thread pool
  // cost the listener more (waking a pool thread and back, for each chunk)
  // than the hash itself, and a hash call per packet cost more than the
  // hashing on an MTU-1500 path. A zstd chunk is hashed where it is
  // decompressed.
  std::optional<PieceHash> running;
  size_t hashed = 0;              // payload bytes `running` has taken
  std::unique_ptr<uint8_t[]> raw; // the decompressed bytes of a zstd chunk
  std::optional<Error> error;     // set by a failed decompression

  // Takes stream data: header bytes first, then payload into blocks that
  // `alloc(size)` gives (null when they do not fit the transfer's memory).
  // A header that does not decode, or more payload than it announced, is a
  // protocol error. `header_done` runs when the header is complete (to
  // check its sequence number).
  template <typename Alloc, typename HeaderCheck>
  transport::Outcome feed(std::span<const uint8_t> data, Alloc&& alloc, HeaderCheck&& header_done);
  // After the stream's FIN: whether exactly the announced payload arrived.
  bool complete() const { return have_header && got == hdr.wire_len; }
  // The hash of a raw chunk's payload, once complete().
  wire::Digest finish_hash() {
    hash_received(got);
    wire::Digest d = running->digest();
    running.reset();
    return d;
  }
  // Gives `running` the received bytes before `upto` that it has not had.
  void hash_received(size_t upto) {
    while (hashed < upto) {
      size_t off = hashed % kBlockSize;
      size_t n = std::min(upto - hashed, kBlockSize - off);
      running->update({blocks[hashed / kBlockSize].get() + off, n});
      hashed += n;
    }
  }

  // What to write: the decompressed buffer, or the received blocks.
  std::vector<iovec> iov() const {
    if (raw) return {iovec{raw.get(), hdr.raw_len}};
    return received();
  }
  // Copies its decoded bytes (hdr.raw_len of them) to `out`.
  void copy_to(uint8_t* out) const {
    for (const auto& v : iov()) {
      std::memcpy(out, v.iov_base, v.iov_len);
      out += v.iov_len;
    }
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
  // Hands each received block and its size to `put`.
  template <typename Put> void recycle(Put&& put) {
    for (size_t i = 0; i < blocks.size(); ++i)
      put(std::move(blocks[i]), block_size(i));
    blocks.clear();
  }
  size_t block_size(size_t i) const {
    return std::min<size_t>(kBlockSize, hdr.wire_len - i * kBlockSize);
  }
};

template <typename Alloc, typename HeaderCheck>
transport::Outcome RxChunk::feed(std::span<const uint8_t> data, Alloc&& alloc,
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
      if (!wire::compressed(hdr.codec)) running.emplace();
    }
  }
  if (data.empty()) return {};
  if (!have_header || got + data.size() > hdr.wire_len)
    return transport::protocol_abort("chunk longer than its header says");
  while (!data.empty()) {
    size_t off = got % kBlockSize;
    if (off == 0) {
      auto block = alloc(block_size(blocks.size()));
      if (!block)
        return transport::protocol_abort(
            "the sender has more chunk data in flight than its streams and credit allow");
      blocks.push_back(std::move(block));
    }
    size_t n = std::min(data.size(), kBlockSize - off);
    std::memcpy(blocks.back().get() + off, data.data(), n);
    got += n;
    data = data.subspan(n);
  }
  if (running) hash_received(got - got % kBlockSize); // the blocks filled
  return {};
}

} // namespace qpipe::app
