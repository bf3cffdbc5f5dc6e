// Fuzzes qpipe::wire::decode_chunk_header (src/pipeline/wire.h), the first
// thing a listener does with the bytes of every data stream. The input is the
// 40 header bytes (zero-padded when shorter) followed by a 4-byte big-endian
// max_raw (kMaxChunkRaw when absent, as the listener passes it). Asserts
// that an accepted header obeys every bound the header documents (version
// and codec known, reserved bits clear, seq < 2^62, raw_len in 1..max_raw,
// wire_len == raw_len for raw data and 1..max_wire_len(raw_len) for zstd),
// that encode() gives back exactly the 40 input bytes, and that decoding that
// encoding again gives the same header; a rejected header must come with a
// message.
#include <array>
#include <cstring>

#include "fuzz_input.h"
#include "pipeline/wire.h"

using namespace qpipe;
using qpipe::fuzz::Input;

namespace {

bool same(const wire::ChunkHeader& a, const wire::ChunkHeader& b) {
  return a.codec == b.codec && a.seq == b.seq && a.raw_len == b.raw_len &&
         a.wire_len == b.wire_len && a.hash == b.hash && a.file == b.file;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kSize = wire::ChunkHeader::kSize;
  Input in(data, size);
  std::array<uint8_t, kSize> bytes{};
  auto head = in.take_bytes(kSize);
  std::memcpy(bytes.data(), head.data(), head.size());
  uint32_t max_raw = in.left() >= 4 ? static_cast<uint32_t>(in.take_uint(4)) : wire::kMaxChunkRaw;

  auto h = wire::decode_chunk_header(std::span<const uint8_t, kSize>(bytes), max_raw);
  if (!h) {
    FUZZ_CHECK(!h.error().message().empty());
    return 0;
  }
  FUZZ_CHECK(bytes[0] == wire::kVersion);
  FUZZ_CHECK(h->codec == wire::Codec::raw || h->codec == wire::Codec::zstd ||
             h->codec == wire::Codec::zstd_prefixed);
  FUZZ_CHECK(h->codec != wire::Codec::zstd_prefixed || h->seq > 0);
  FUZZ_CHECK(bytes[2] == 0 && (bytes[3] & ~wire::kChunkOutsideHistory) == 0);
  FUZZ_CHECK(h->seq < (uint64_t{1} << 62));
  FUZZ_CHECK(h->raw_len >= 1 && h->raw_len <= max_raw);
  if (h->codec == wire::Codec::raw) {
    FUZZ_CHECK(h->wire_len == h->raw_len);
  } else {
    FUZZ_CHECK(h->wire_len >= 1 && h->wire_len <= wire::max_wire_len(h->raw_len));
  }
  // For the chunk sizes qpipe uses, the compressed bound is never below the
  // raw length (zstd can always store a block raw).
  if (h->raw_len <= wire::kMaxChunkRaw) FUZZ_CHECK(wire::max_wire_len(h->raw_len) >= h->raw_len);

  std::array<uint8_t, kSize> again;
  again.fill(0xee); // encode must write every byte
  wire::encode(*h, again);
  FUZZ_CHECK_MSG(again == bytes, "re-encoding an accepted header changed its bytes");
  auto h2 = wire::decode_chunk_header(std::span<const uint8_t, kSize>(again), max_raw);
  FUZZ_CHECK(h2.ok());
  FUZZ_CHECK(same(*h, *h2));
  return 0;
}
