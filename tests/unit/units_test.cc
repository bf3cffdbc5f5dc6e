// Tests of sizes, rates and durations as users type them and as qpipe prints
// them (src/core/units.h).
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "core/units.h"

namespace qpipe {
namespace {

constexpr uint64_t kKi = 1024;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// The value of a size that must parse.
uint64_t size_of(std::string_view text) {
  auto r = parse_size(text, "SIZE");
  BOOST_TEST_INFO("'" << text << "'");
  BOOST_REQUIRE(r.ok());
  return *r;
}

// Checks that text is refused as a usage error that names the input.
void refused_size(std::string_view text) {
  auto r = parse_size(text, "--chunk-size");
  BOOST_TEST_INFO("'" << text << "'");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == 2);
  BOOST_TEST(r.error().message().rfind("--chunk-size: ", 0) == 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(units)

BOOST_AUTO_TEST_CASE(size_plain_and_bytes) {
  BOOST_TEST(size_of("0") == 0u);
  BOOST_TEST(size_of("1") == 1u);
  BOOST_TEST(size_of("123456789") == 123456789u);
  BOOST_TEST(size_of("10B") == 10u);
  BOOST_TEST(size_of("10b") == 10u);
  BOOST_TEST(size_of("0000012") == 12u);
  BOOST_TEST(size_of("18446744073709551615") == kMax);
}

BOOST_AUTO_TEST_CASE(size_binary_suffixes) {
  BOOST_TEST(size_of("1K") == kKi);
  BOOST_TEST(size_of("1k") == kKi);
  BOOST_TEST(size_of("3M") == 3 * kKi * kKi);
  BOOST_TEST(size_of("10G") == 10 * kKi * kKi * kKi);
  BOOST_TEST(size_of("2T") == 2 * kKi * kKi * kKi * kKi);
  BOOST_TEST(size_of("1KiB") == kKi);
  BOOST_TEST(size_of("1kib") == kKi);
  BOOST_TEST(size_of("5MiB") == 5 * kKi * kKi);
  BOOST_TEST(size_of("5GiB") == 5 * kKi * kKi * kKi);
  BOOST_TEST(size_of("5TiB") == 5 * kKi * kKi * kKi * kKi);
  BOOST_TEST(size_of("0G") == 0u);
}

BOOST_AUTO_TEST_CASE(size_decimal_suffixes) {
  BOOST_TEST(size_of("1KB") == 1000u);
  BOOST_TEST(size_of("1kb") == 1000u);
  BOOST_TEST(size_of("7MB") == 7000000u);
  BOOST_TEST(size_of("7GB") == 7000000000u);
  BOOST_TEST(size_of("7TB") == 7000000000000u);
  BOOST_TEST(size_of("7Mb") == 7000000u);
}

BOOST_AUTO_TEST_CASE(size_overflow) {
  refused_size("18446744073709551616");  // 2^64.
  refused_size("99999999999999999999");  // Twenty digits, too large.
  refused_size("123456789012345678901"); // Twenty-one digits.
  refused_size("16777216T");             // 2^24 * 2^40 = 2^64.
  refused_size("18446744073709552KB");   // Just over 2^64.
  BOOST_TEST(size_of("16777215T") == 16777215 * kKi * kKi * kKi * kKi);
  BOOST_TEST(size_of("17179869183G") == 17179869183 * kKi * kKi * kKi);
  auto r = parse_size("18446744073709551616", "SIZE");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message().find("too large") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(size_garbage) {
  for (const char* text :
       {"",      " ",   "abc", "G",     "KiB", "-1", "+1", " 1",   "1 ",  "1 G",  "1.5G",
        "1,000", "1GG", "1Gi", "1KIBB", "1iB", "1E", "1P", "0x10", "1/s", "1bit", "1e3"})
    refused_size(text);
  auto r = parse_size("abc", "--chunk-size");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message().find("'abc'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rate) {
  auto r = parse_rate("10M", "--rate");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 10 * kKi * kKi);
  r = parse_rate("10M/s", "--rate");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 10 * kKi * kKi);
  r = parse_rate("100KB/S", "--rate");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 100000u);
  r = parse_rate("1", "--rate");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 1u);
  for (const char* text : {"0", "0/s", "0M", "", "/s", "fast", "10M/", "10M/h", "-1/s", "10 M/s"}) {
    auto bad = parse_rate(text, "--rate");
    BOOST_TEST_INFO("'" << text << "'");
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().exit_code() == 2);
    BOOST_TEST(bad.error().message().rfind("--rate: ", 0) == 0);
  }
}

BOOST_AUTO_TEST_CASE(integers) {
  auto r = parse_int("42", "--streams", 1, 100);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 42);
  r = parse_int("-5", "--x", -10, 10);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == -5);
  r = parse_int("+7", "--x", 0, 10);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 7);
  r = parse_int("1", "--x", 1, 1);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 1);
  r = parse_int("999999999999999999", "--x", 0, std::numeric_limits<int64_t>::max());
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r == 999999999999999999);

  auto out = parse_int("101", "--streams", 1, 100);
  BOOST_REQUIRE(!out.ok());
  BOOST_TEST(out.error().exit_code() == 2);
  BOOST_TEST(out.error().message() == "--streams: 101 is out of range (1 to 100)");
  BOOST_TEST(!parse_int("0", "--streams", 1, 100).ok());
  BOOST_TEST(!parse_int("-11", "--x", -10, 10).ok());

  for (const char* text :
       {"", "-", "+", "abc", "1.0", "1e3", " 1", "1 ", "12x", "0x10", "9999999999999999999"}) {
    auto bad = parse_int(text, "--x", std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max());
    BOOST_TEST_INFO("'" << text << "'");
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().exit_code() == 2);
    BOOST_TEST(bad.error().message().rfind("--x: ", 0) == 0);
  }
}

BOOST_AUTO_TEST_CASE(bytes_formatting) {
  BOOST_TEST(format_bytes(0) == "0 B");
  BOOST_TEST(format_bytes(512) == "512 B");
  BOOST_TEST(format_bytes(999) == "999 B");
  // Never four digits before the point: 1000 B is the next unit's 0.98.
  BOOST_TEST(format_bytes(1000) == "0.98 KiB");
  BOOST_TEST(format_bytes(1023) == "1.00 KiB");
  BOOST_TEST(format_bytes(1024) == "1.00 KiB");
  BOOST_TEST(format_bytes(1536) == "1.50 KiB");
  BOOST_TEST(format_bytes(10 * kKi) == "10.0 KiB");
  BOOST_TEST(format_bytes(100 * kKi) == "100 KiB");
  BOOST_TEST(format_bytes(kKi * kKi) == "1.00 MiB");
  BOOST_TEST(format_bytes(3 * kKi * kKi * kKi / 2) == "1.50 GiB");
  BOOST_TEST(format_bytes(2 * kKi * kKi * kKi * kKi) == "2.00 TiB");
  BOOST_TEST(format_bytes(kKi * kKi * kKi * kKi * kKi) == "1.00 PiB");
  BOOST_TEST(format_bytes(kMax) == "16.0 EiB");
}

// One rule for every size: three significant digits, the precision chosen
// after rounding, so that 4.94, 10.0 and 14.9 MiB appear side by side, never
// "10.00 MiB" or "1024 KiB".
BOOST_AUTO_TEST_CASE(bytes_formatting_rounds_before_choosing_the_precision) {
  BOOST_TEST(format_bytes(10 * kKi * kKi - 1) == "10.0 MiB");
  BOOST_TEST(format_bytes(100 * kKi * kKi - 1) == "100 MiB");
  BOOST_TEST(format_bytes(kKi * kKi - 1) == "1.00 MiB");
  BOOST_TEST(format_bytes(1023 * kKi) == "1.00 MiB");
  BOOST_TEST(format_bytes(999 * kKi) == "999 KiB");
  BOOST_TEST(format_bytes(5180000) == "4.94 MiB");
  BOOST_TEST(format_bytes(15620000) == "14.9 MiB");
  for (uint64_t b = 1; b < kMax / 3; b = b * 3 + 1) {
    std::string s = format_bytes(b);
    BOOST_TEST_INFO(b << " -> " << s);
    size_t digits = s.find_first_not_of("0123456789.");
    std::string number = s.substr(0, digits);
    size_t sig = 0;
    for (char c : number)
      sig += c >= '0' && c <= '9' ? 1 : 0;
    BOOST_TEST((number.find('.') == std::string::npos ? number.size() <= 3 : sig == 3u));
  }
}

BOOST_AUTO_TEST_CASE(counts_agree_with_their_number) {
  BOOST_TEST(count_of(1, "packet") == "1 packet");
  BOOST_TEST(count_of(0, "packet") == "0 packets");
  BOOST_TEST(count_of(2, "file") == "2 files");
  BOOST_TEST(count_of(3, "entry", "entries") == "3 entries");
  BOOST_TEST(count_of(1, "entry", "entries") == "1 entry");
}

BOOST_AUTO_TEST_CASE(rates_and_durations_formatting) {
  BOOST_TEST(format_rate(0) == "0 B/s");
  BOOST_TEST(format_rate(93.1 * 1024 * 1024) == "93.1 MiB/s");
  BOOST_TEST(format_rate(-1) == "- B/s");
  BOOST_TEST(format_rate(std::numeric_limits<double>::infinity()) == "- B/s");
  BOOST_TEST(format_rate(std::numeric_limits<double>::quiet_NaN()) == "- B/s");
  BOOST_TEST(format_duration(0) == "0.0s");
  BOOST_TEST(format_duration(12.34) == "12.3s");
  BOOST_TEST(format_duration(59.97) == "1:00");
  BOOST_TEST(format_duration(62) == "1:02");
  BOOST_TEST(format_duration(3723) == "1:02:03");
  BOOST_TEST(format_duration(-5) == "0.0s");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe

// Found by the units fuzzer: doubles past 2^64 must not be converted to
// integers (undefined behaviour); they print as a bound instead.
BOOST_AUTO_TEST_SUITE(units_extremes)
BOOST_AUTO_TEST_CASE(huge_rates_and_durations) {
  BOOST_TEST(qpipe::format_rate(1e20) == "> 16 EiB/s");
  BOOST_TEST(qpipe::format_rate(18446744073709551615.0) == "> 16 EiB/s");
  BOOST_TEST(qpipe::format_duration(1e20) == "forever");
  BOOST_TEST(!qpipe::format_rate(1.8e19 - 1e6).empty());
}
BOOST_AUTO_TEST_SUITE_END()
