// Tests of a chunk as the listener receives it (src/app/rx_chunk.h): the
// payload lands in blocks whatever the sizes of the pieces it comes in, the
// hash of a raw chunk taken a block at a time is the hash of its bytes, and
// a chunk longer than its header says is refused.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "app/rx_chunk.h"
#include "pipeline/digest.h"
#include "pipeline/wire.h"

namespace qpipe::app {
namespace {

// Bytes that differ from block to block and within one, so that a block
// hashed twice, or skipped, or out of order, changes the digest.
std::vector<uint8_t> payload(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>((i * 131) ^ (i >> 9));
  return v;
}

// The stream of a raw chunk: its header, then its payload.
std::vector<uint8_t> raw_chunk_stream(const std::vector<uint8_t>& data) {
  wire::ChunkHeader h;
  h.seq = 7;
  h.raw_len = static_cast<uint32_t>(data.size());
  h.wire_len = h.raw_len;
  h.hash = hash_bytes(data);
  std::vector<uint8_t> s(wire::ChunkHeader::kSize);
  wire::encode(h, std::span<uint8_t, wire::ChunkHeader::kSize>(s.data(), s.size()));
  s.insert(s.end(), data.begin(), data.end());
  return s;
}

// Feeds `stream` to `c` in pieces of the given sizes, cycling through them.
transport::Outcome feed_in_pieces(RxChunk& c, const std::vector<uint8_t>& stream,
                                  const std::vector<size_t>& sizes) {
  auto alloc = [](size_t n) { return heap_block(n); };
  auto header_ok = [](const wire::ChunkHeader&) { return transport::Outcome{}; };
  size_t at = 0;
  for (size_t i = 0; at < stream.size(); ++i) {
    size_t n = std::min(sizes[i % sizes.size()], stream.size() - at);
    auto o = c.feed(std::span<const uint8_t>(stream.data() + at, n), alloc, header_ok);
    if (!o) return o;
    at += n;
  }
  return {};
}

std::vector<uint8_t> gathered(const RxChunk& c) {
  std::vector<uint8_t> out(c.hdr.raw_len);
  c.copy_to(out.data());
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rx_chunk)

// Pieces the size of MTU-1500 packets, single bytes, and more than a block:
// the bytes and the hash come out the same.
BOOST_AUTO_TEST_CASE(a_raw_chunk_hashed_block_by_block_has_the_hash_of_its_bytes) {
  for (size_t len : {size_t{1}, kBlockSize - 1, kBlockSize, kBlockSize + 1, 5 * kBlockSize + 777}) {
    auto data = payload(len);
    auto stream = raw_chunk_stream(data);
    for (const auto& sizes : std::vector<std::vector<size_t>>{
             {1400}, {1, 2, 3}, {kBlockSize + 5}, {wire::ChunkHeader::kSize, 1 << 20}}) {
      RxChunk c;
      BOOST_REQUIRE(feed_in_pieces(c, stream, sizes).ok());
      BOOST_REQUIRE(c.complete());
      BOOST_TEST(gathered(c) == data);
      BOOST_TEST(c.finish_hash() == hash_bytes(data),
                 "length " << len << ", first piece " << sizes[0]);
      BOOST_TEST(!c.running);
    }
  }
}

// The hash covers the bytes as they are in the blocks: a payload that differs
// from the one the header's hash was made of gives another hash.
BOOST_AUTO_TEST_CASE(a_changed_byte_changes_the_hash) {
  auto data = payload(3 * kBlockSize + 10);
  auto stream = raw_chunk_stream(data);
  stream[wire::ChunkHeader::kSize + 2 * kBlockSize + 3] ^= 1;
  RxChunk c;
  BOOST_REQUIRE(feed_in_pieces(c, stream, {1400}).ok());
  BOOST_TEST(c.finish_hash() != c.hdr.hash);
}

BOOST_AUTO_TEST_CASE(more_payload_than_the_header_says_is_a_protocol_error) {
  auto data = payload(1000);
  auto stream = raw_chunk_stream(data);
  stream.push_back(0);
  RxChunk c;
  auto o = feed_in_pieces(c, stream, {600});
  BOOST_TEST(!o.ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::app
