// Tests of the chunk hash and the stream digest (src/pipeline/digest.h).
//
// The pinned values below are part of the wire contract (qpipe/1): a sender
// and a listener of different versions must compute the same hashes and the
// same digest. If a change breaks them, the change is wrong, not the values.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "pipeline/digest.h"

namespace qpipe {
namespace {

std::vector<uint8_t> sample_data(size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t x = 12345;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

std::string hex(const wire::Digest& d) {
  std::string s;
  char buf[3];
  for (uint8_t b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    s += buf;
  }
  return s;
}

iovec piece(std::vector<uint8_t>& data, size_t at, size_t n) {
  return iovec{data.data() + at, n};
}

wire::Digest digest_of(const std::vector<std::pair<wire::Digest, uint64_t>>& chunks) {
  Digester d;
  for (const auto& [h, n] : chunks)
    d.add_chunk(h, n);
  return d.digest();
}

} // namespace

BOOST_AUTO_TEST_SUITE(digest)

BOOST_AUTO_TEST_CASE(iovecs_equal_bytes_for_any_split) {
  auto data = sample_data(1000);
  const auto whole = hash_bytes(data);
  // Every split in two, with an empty piece at either end for the extremes.
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    iovec parts[] = {piece(data, 0, cut), piece(data, cut, data.size() - cut)};
    BOOST_TEST_INFO("cut at " << cut);
    BOOST_TEST(hash_iovecs(parts) == whole);
  }
  // Three pieces with empty ones between and around them.
  iovec parts[] = {piece(data, 0, 0),   piece(data, 0, 1),   piece(data, 1, 0),
                   piece(data, 1, 499), piece(data, 500, 0), piece(data, 500, 500),
                   piece(data, 1000, 0)};
  BOOST_TEST(hash_iovecs(parts) == whole);
  // One piece per byte.
  std::vector<iovec> bytes;
  for (size_t i = 0; i < data.size(); ++i)
    bytes.push_back(piece(data, i, 1));
  BOOST_TEST(hash_iovecs(bytes) == whole);
  // One piece.
  iovec one[] = {piece(data, 0, data.size())};
  BOOST_TEST(hash_iovecs(one) == whole);
  // Larger than XXH3's internal buffers and stripes.
  auto big = sample_data(3 * 1024 * 1024 + 17);
  iovec big_parts[] = {piece(big, 0, 1024 * 1024 + 5), piece(big, 1024 * 1024 + 5, 12),
                       piece(big, 1024 * 1024 + 17, 2 * 1024 * 1024)};
  BOOST_TEST(hash_iovecs(big_parts) == hash_bytes(big));
}

// As the listener feeds it: stream frames of a packet's size, cut again
// where a 64 KiB block ends.
BOOST_AUTO_TEST_CASE(piece_hash_equals_bytes_however_fed) {
  auto data = sample_data(2 * 1024 * 1024 + 3);
  PieceHash h;
  size_t at = 0;
  while (at < data.size()) {
    size_t n = std::min<size_t>(1452, data.size() - at);
    size_t to_block_end = 65536 - at % 65536;
    if (n > to_block_end) {
      h.update({data.data() + at, to_block_end});
      at += to_block_end;
      n -= to_block_end;
    }
    h.update({data.data() + at, n});
    at += n;
  }
  BOOST_TEST(h.digest() == hash_bytes(data));
  BOOST_TEST(PieceHash().digest() == hash_bytes({}));
  PieceHash moved(std::move(h));
  BOOST_TEST(moved.digest() == hash_bytes(data));
}

BOOST_AUTO_TEST_CASE(empty_input) {
  const auto empty = hash_bytes({});
  BOOST_TEST(hash_iovecs({}) == empty);
  iovec zero[] = {iovec{nullptr, 0}};
  BOOST_TEST(hash_iovecs(zero) == empty);
  iovec zeros[] = {iovec{nullptr, 0}, iovec{nullptr, 0}};
  BOOST_TEST(hash_iovecs(zeros) == empty);
  auto one = sample_data(1);
  BOOST_TEST(hash_bytes(one) != empty);
}

BOOST_AUTO_TEST_CASE(hashes_differ) {
  auto a = sample_data(4096);
  auto b = a;
  b[4095] ^= 1;
  BOOST_TEST(hash_bytes(a) != hash_bytes(b));
  b = a;
  b.push_back(0);
  BOOST_TEST(hash_bytes(a) != hash_bytes(b));
}

// Part of the wire contract: the chunk hash is XXH3-128 in canonical
// (big-endian) form, and the digest is XXH3-128 over the chunk records.
BOOST_AUTO_TEST_CASE(pinned_values) {
  // XXH3-128 of no bytes, as published by xxHash.
  BOOST_TEST(hex(hash_bytes({})) == "99aa06d3014798d86001c324468d497f");
  const std::string text = "qpipe/1";
  auto h = hash_bytes({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  BOOST_TEST(hex(h) == "253513ee5ea659d318f5a58aadbc28ae");
  auto data = sample_data(1 << 20);
  BOOST_TEST(hex(hash_bytes(data)) == "6136830e7f0d7027674d693831b84cd2");

  Digester d; // No chunks: XXH3-128 of no bytes.
  BOOST_TEST(hex(d.digest()) == "99aa06d3014798d86001c324468d497f");
  d.add_chunk(h, text.size());
  d.add_chunk(hash_bytes(data), data.size());
  BOOST_TEST(hex(d.digest()) == "533c8f935055acc345c251bd65f3720b");
}

BOOST_AUTO_TEST_CASE(digester_follows_its_definition) {
  // XXH3-128 over (chunk hash || raw length as 8 big-endian bytes), in order.
  auto a = sample_data(100), b = sample_data(70000);
  const uint64_t lens[] = {a.size(), b.size(), 0x0102030405060708ull};
  const wire::Digest hashes[] = {hash_bytes(a), hash_bytes(b), hash_bytes({})};
  std::vector<uint8_t> records;
  Digester d;
  for (size_t i = 0; i < 3; ++i) {
    d.add_chunk(hashes[i], lens[i]);
    records.insert(records.end(), hashes[i].begin(), hashes[i].end());
    for (int k = 0; k < 8; ++k)
      records.push_back(static_cast<uint8_t>(lens[i] >> (56 - 8 * k)));
  }
  BOOST_TEST(d.digest() == hash_bytes(records));
}

BOOST_AUTO_TEST_CASE(digester_is_order_sensitive) {
  auto a = hash_bytes(sample_data(10)), b = hash_bytes(sample_data(11));
  BOOST_TEST(digest_of({{a, 100}, {b, 100}}) != digest_of({{b, 100}, {a, 100}}));
  // Swapping two chunks in the middle of a longer stream.
  auto c = hash_bytes(sample_data(12));
  BOOST_TEST(digest_of({{c, 5}, {a, 100}, {b, 100}, {c, 5}}) !=
             digest_of({{c, 5}, {b, 100}, {a, 100}, {c, 5}}));
}

BOOST_AUTO_TEST_CASE(digester_is_length_sensitive) {
  auto a = hash_bytes(sample_data(10)), b = hash_bytes(sample_data(11));
  // The same hashes with other lengths.
  BOOST_TEST(digest_of({{a, 100}}) != digest_of({{a, 101}}));
  BOOST_TEST(digest_of({{a, 1}}) != digest_of({{a, uint64_t{1} << 56}}));
  // The count of chunks: a dropped or a repeated chunk.
  BOOST_TEST(digest_of({{a, 100}, {b, 100}}) != digest_of({{a, 100}}));
  BOOST_TEST(digest_of({{a, 100}}) != digest_of({{a, 100}, {a, 100}}));
  BOOST_TEST(digest_of({}) != digest_of({{a, 100}}));
}

BOOST_AUTO_TEST_CASE(digester_is_deterministic) {
  auto a = hash_bytes(sample_data(10)), b = hash_bytes(sample_data(11));
  BOOST_TEST(digest_of({{a, 100}, {b, 7}}) == digest_of({{a, 100}, {b, 7}}));
  BOOST_TEST(digest_of({}) == digest_of({}));
  // digest() does not end the stream: more chunks may follow.
  Digester d;
  d.add_chunk(a, 100);
  auto first = d.digest();
  BOOST_TEST(d.digest() == first);
  d.add_chunk(b, 7);
  BOOST_TEST(d.digest() == digest_of({{a, 100}, {b, 7}}));
  BOOST_TEST(first == digest_of({{a, 100}}));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe
