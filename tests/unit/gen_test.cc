// Tests of the data generator (src/gen/generator.h) and of the checker behind
// `qpipe gen --check` (src/gen/gen_command.h).
//
// The digests and the literal bytes below pin the algorithm of
// man/gen-algorithm.txt. They are a contract with every other version of
// qpipe: if a change to the generator breaks them, the change is wrong, not
// the values.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <xxhash.h>
#include <zstd.h>

#include "gen/gen_command.h"
#include "gen/generator.h"

namespace qpipe::gen {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Kind kAllKinds[] = {Kind::random, Kind::zero, Kind::text, Kind::mixed};

std::vector<uint8_t> generate(Kind kind, uint64_t seed, uint64_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  Generator(kind, seed).fill(offset, out);
  return out;
}

double zstd_ratio(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> dst(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress(dst.data(), dst.size(), data.data(), data.size(), 3);
  BOOST_REQUIRE(!ZSTD_isError(n));
  return static_cast<double>(data.size()) / static_cast<double>(n);
}

bool is_text_byte(uint8_t c) {
  return (c >= 'a' && c <= 'z') || c == ' ' || c == '\n';
}

// An independent transcription of the random kind from the man page, for
// the first words.
uint64_t reference_random_word(uint64_t seed, uint64_t i) {
  const uint64_t p0 = 0xa0761d6478bd642full;
  const uint64_t p1 = 0xe7037ed1a0b428dbull;
  uint64_t x = seed + (i + 1) * p0;
  unsigned __int128 p = static_cast<unsigned __int128>(x) * (x ^ p1);
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// Feeds data to the checker in pieces of the given size.
Status feed_in_pieces(Checker& c, const std::vector<uint8_t>& data, size_t piece) {
  for (size_t at = 0; at < data.size(); at += piece) {
    size_t n = std::min(piece, data.size() - at);
    Status s = c.feed(std::span<const uint8_t>(data.data() + at, n));
    if (!s) return s;
  }
  return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(gen)

BOOST_AUTO_TEST_CASE(kinds_parse_and_name) {
  for (Kind k : kAllKinds) {
    auto parsed = parse_kind(kind_name(k));
    BOOST_REQUIRE(parsed.ok());
    BOOST_TEST(static_cast<int>(*parsed) == static_cast<int>(k));
  }
  auto bad = parse_kind("noise");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().exit_code() == 2);
  std::string msg = bad.error().message();
  BOOST_TEST(msg.find("noise") != std::string::npos);
  for (const char* name : {"random", "zero", "text", "mixed"})
    BOOST_TEST(msg.find(name) != std::string::npos);
  BOOST_TEST(!parse_kind("").ok());
  BOOST_TEST(!parse_kind("Random").ok());
  BOOST_TEST(kind_is_binary(Kind::random));
  BOOST_TEST(kind_is_binary(Kind::zero));
  BOOST_TEST(kind_is_binary(Kind::mixed));
  BOOST_TEST(!kind_is_binary(Kind::text));
}

// The values pin the algorithm: changing them breaks the contract.
BOOST_AUTO_TEST_CASE(digests_are_fixed) {
  struct Case {
    Kind kind;
    uint64_t seed;
    uint64_t digest; // XXH3_64bits of the first 2 MiB.
  };
  const Case cases[] = {
      {Kind::random, 0, 0x0e751e973faf4f4dull}, {Kind::random, 3, 0x8d0f87e61ab987c4ull},
      {Kind::zero, 0, 0x94e26d8e04364852ull},   {Kind::zero, 3, 0x94e26d8e04364852ull},
      {Kind::text, 0, 0x5040aee94cf46d73ull},   {Kind::text, 3, 0xa4ce7fe28940076full},
      {Kind::mixed, 0, 0xf9173effb2c51f7full},  {Kind::mixed, 3, 0x518dfdce9b0aede0ull},
  };
  for (const auto& c : cases) {
    auto data = generate(c.kind, c.seed, 0, 2 * kMiB);
    uint64_t d = XXH3_64bits(data.data(), data.size());
    BOOST_TEST_INFO(kind_name(c.kind) << " seed " << c.seed);
    BOOST_TEST(d == c.digest, std::hex << "0x" << d);
  }
}

BOOST_AUTO_TEST_CASE(random_first_words) {
  // Computed by hand from the formula of man/gen-algorithm.txt.
  const uint64_t expected[] = {0x111cb3a78f59a58eull, 0xceabd938ff4e856dull, 0x61fb51318f47d2a4ull};
  auto data = generate(Kind::random, 0, 0, 24);
  for (size_t i = 0; i < 3; ++i) {
    uint64_t w = 0;
    for (size_t b = 0; b < 8; ++b)
      w |= static_cast<uint64_t>(data[8 * i + b]) << (8 * b);
    BOOST_TEST(w == expected[i]);
    BOOST_TEST(w == reference_random_word(0, i));
  }
  // Further on and with other seeds, against the transcription.
  for (uint64_t seed : {uint64_t{3}, uint64_t{0xffffffffffffffffull}}) {
    auto far = generate(Kind::random, seed, 8 * 1000003, 16);
    for (size_t i = 0; i < 2; ++i) {
      uint64_t w = 0;
      for (size_t b = 0; b < 8; ++b)
        w |= static_cast<uint64_t>(far[8 * i + b]) << (8 * b);
      BOOST_TEST(w == reference_random_word(seed, 1000003 + i));
    }
  }
}

BOOST_AUTO_TEST_CASE(text_first_bytes) {
  auto data = generate(Kind::text, 0, 0, 16);
  BOOST_TEST(std::string(data.begin(), data.end()) == "eos eilmsgahbw y");
}

BOOST_AUTO_TEST_CASE(random_access_matches_sequential) {
  const size_t total = 3 * kMiB + 12345;
  struct Range {
    uint64_t offset;
    size_t length;
  };
  const Range ranges[] = {
      {0, 0},
      {0, 1},
      {1, 7},
      {3, 13},
      {5, 3},
      {7, 1},
      {65536 - 3, 7},       // Across a text block border.
      {65536 - 1, 1},       // The last byte of a block.
      {65536, 65536},       // Exactly one block.
      {65535, 65538},       // One byte either side of a block.
      {131071, 200001},     // Across several blocks.
      {kMiB - 5, 11},       // Across the first region border of mixed.
      {kMiB - 1, kMiB + 2}, // A whole region and a byte either side.
      {2 * kMiB - 9, 77777},
      {3 * kMiB - 1, 12346},
      {12345, total - 12345},
  };
  for (Kind k : kAllKinds) {
    for (uint64_t seed : {uint64_t{0}, uint64_t{42}}) {
      auto whole = generate(k, seed, 0, total);
      for (const auto& r : ranges) {
        auto part = generate(k, seed, r.offset, r.length);
        BOOST_TEST_INFO(kind_name(k)
                        << " seed " << seed << " offset " << r.offset << " length " << r.length);
        BOOST_TEST(std::equal(part.begin(), part.end(), whole.begin() + r.offset));
      }
      // Odd pieces one after the other make the same stream.
      std::vector<uint8_t> pieced(total);
      Generator g(k, seed);
      size_t at = 0;
      for (size_t n = 1; at < total; n = n * 3 + 1) {
        size_t take = std::min(n % 300007, total - at);
        g.fill(at, std::span<uint8_t>(pieced.data() + at, take));
        at += take;
      }
      BOOST_TEST_INFO(kind_name(k) << " seed " << seed);
      BOOST_TEST((pieced == whole));
    }
  }
}

BOOST_AUTO_TEST_CASE(far_offsets) {
  // Offsets far into the stream work without generating what comes before.
  for (Kind k : kAllKinds) {
    uint64_t offset = (uint64_t{1} << 50) + (uint64_t{1} << 20) - 3; // Ends in a text region.
    auto a = generate(k, 7, offset, 100);
    auto b = generate(k, 7, offset + 50, 50);
    BOOST_TEST(std::equal(b.begin(), b.end(), a.begin() + 50));
  }
}

BOOST_AUTO_TEST_CASE(zero_is_zero) {
  auto data = generate(Kind::zero, 99, 12345, 3 * kMiB);
  BOOST_TEST(std::all_of(data.begin(), data.end(), [](uint8_t c) { return c == 0; }));
}

BOOST_AUTO_TEST_CASE(text_is_text_and_compresses) {
  for (uint64_t seed : {uint64_t{0}, uint64_t{3}}) {
    auto data = generate(Kind::text, seed, 0, 4 * kMiB);
    BOOST_TEST(std::all_of(data.begin(), data.end(), is_text_byte));
    size_t newlines = static_cast<size_t>(std::count(data.begin(), data.end(), '\n'));
    BOOST_TEST(newlines > data.size() / 200); // Lines of about 100 bytes...
    BOOST_TEST(newlines < data.size() / 50);  // ... not of a few words.
    double ratio = zstd_ratio(data);
    BOOST_TEST_INFO("ratio " << ratio);
    BOOST_TEST((ratio >= 3.0 && ratio <= 5.0));
  }
}

BOOST_AUTO_TEST_CASE(random_does_not_compress) {
  auto data = generate(Kind::random, 5, 0, 4 * kMiB);
  BOOST_TEST(zstd_ratio(data) < 1.01);
}

BOOST_AUTO_TEST_CASE(mixed_alternates_regions) {
  const uint64_t seed = 11;
  auto mixed = generate(Kind::mixed, seed, 0, 4 * kMiB);
  auto random = generate(Kind::random, seed, 0, 4 * kMiB);
  auto text = generate(Kind::text, seed, 0, 4 * kMiB);
  for (size_t r = 0; r < 4; ++r) {
    auto begin = mixed.begin() + static_cast<ptrdiff_t>(r * kMiB);
    auto end = begin + static_cast<ptrdiff_t>(kMiB);
    const auto& source = r % 2 == 0 ? random : text;
    BOOST_TEST_INFO("region " << r);
    BOOST_TEST(std::equal(begin, end, source.begin() + static_cast<ptrdiff_t>(r * kMiB)));
    BOOST_TEST(std::all_of(begin, end, is_text_byte) == (r % 2 == 1));
  }
}

BOOST_AUTO_TEST_CASE(seeds_differ) {
  for (Kind k : {Kind::random, Kind::text, Kind::mixed}) {
    auto a = generate(k, 0, 0, 2 * kMiB);
    auto b = generate(k, 1, 0, 2 * kMiB);
    auto c = generate(k, 0x100000000ull, 0, 2 * kMiB);
    BOOST_TEST_INFO(kind_name(k));
    BOOST_TEST((a != b));
    BOOST_TEST((a != c));
    BOOST_TEST((b != c));
  }
  // Text blocks differ from one another, too.
  auto t = generate(Kind::text, 0, 0, 2 * 65536);
  BOOST_TEST(!std::equal(t.begin(), t.begin() + 65536, t.begin() + 65536));
}

BOOST_AUTO_TEST_CASE(checker_accepts_the_stream) {
  for (Kind k : kAllKinds) {
    const uint64_t size = 2 * kMiB + 333;
    auto data = generate(k, 9, 0, size);
    for (size_t piece : {size_t{1} << 20, size_t{4097}, size_t{3 * kMiB}}) {
      Checker c(Generator(k, 9), size);
      BOOST_TEST(feed_in_pieces(c, data, piece).ok());
      BOOST_TEST(c.finish().ok());
      BOOST_TEST(c.received() == size);
      BOOST_TEST(!c.mismatch().has_value());
    }
  }
  Checker empty(Generator(Kind::random, 0), 0);
  BOOST_TEST(empty.feed({}).ok());
  BOOST_TEST(empty.finish().ok());
}

BOOST_AUTO_TEST_CASE(checker_reports_a_flipped_byte) {
  const uint64_t size = 3 * kMiB;
  for (uint64_t at : {uint64_t{0}, uint64_t{1}, uint64_t{65537}, kMiB + 17, size - 1}) {
    auto data = generate(Kind::mixed, 1, 0, size);
    uint8_t expected = data[at];
    data[at] ^= 0x5a;
    Checker c(Generator(Kind::mixed, 1), size);
    Status s = feed_in_pieces(c, data, 100003);
    BOOST_TEST_INFO("offset " << at);
    BOOST_REQUIRE(!s.ok());
    BOOST_REQUIRE(c.mismatch().has_value());
    BOOST_TEST(c.mismatch()->offset == at);
    BOOST_TEST(c.mismatch()->expected == expected);
    BOOST_TEST(c.mismatch()->got == (expected ^ 0x5a));
    BOOST_TEST(s.error().exit_code() == 1);
    char hex[64];
    std::snprintf(hex, sizeof hex, "(expected 0x%02X, got 0x%02X)", expected, expected ^ 0x5a);
    BOOST_TEST(s.error().message() ==
               "check: data differs at byte offset " + std::to_string(at) + " " + hex);
    // The failure sticks.
    BOOST_TEST(!c.feed(std::span<const uint8_t>(data.data(), 1)).ok());
    BOOST_TEST(c.finish().error().message() == s.error().message());
  }
}

BOOST_AUTO_TEST_CASE(checker_reports_a_short_stream) {
  const uint64_t size = kMiB + 10;
  auto data = generate(Kind::text, 2, 0, size - 10);
  Checker c(Generator(Kind::text, 2), size);
  BOOST_TEST(feed_in_pieces(c, data, 65536).ok());
  Status s = c.finish();
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().exit_code() == 1);
  BOOST_TEST(s.error().message() ==
             "check: input is shorter than expected: 1048576 of 1048586 bytes");
  Checker nothing(Generator(Kind::text, 2), 5);
  BOOST_TEST(nothing.finish().error().message() ==
             "check: input is shorter than expected: 0 of 5 bytes");
}

BOOST_AUTO_TEST_CASE(checker_reports_a_long_stream) {
  const uint64_t size = 100000;
  for (size_t piece : {size_t{1}, size_t{99999}, size_t{100000}, size_t{1} << 20}) {
    // The right bytes, and one more.
    auto data = generate(Kind::random, 4, 0, size + 1);
    Checker c(Generator(Kind::random, 4), size);
    Status s = feed_in_pieces(c, data, piece);
    BOOST_TEST_INFO("piece " << piece);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(!c.mismatch().has_value());
    BOOST_TEST(s.error().exit_code() == 1);
    BOOST_TEST(s.error().message() ==
               "check: input is longer than expected: more than 100000 bytes");
    BOOST_TEST(!c.finish().ok());
  }
  Checker zero(Generator(Kind::zero, 0), 0);
  const uint8_t one = 0;
  BOOST_TEST(!zero.feed(std::span<const uint8_t>(&one, 1)).ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::gen
