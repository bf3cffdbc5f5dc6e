// Fuzzes the parsers of what users type (src/core/units.h, src/core/host_port.h):
// parse_size, parse_rate, parse_int (over a few ranges) and
// parse_host_port (sending and listening), each on the whole input as a
// string, and the format_* functions on what they return and, when the
// input starts with 0xff or 0xfe (which no parser accepts), format_rate or
// format_duration on the next 8 bytes read as a double (any value: NaN,
// infinities, 1e300). Asserts that each
// parser accepts exactly what an independent reference implementation of
// units.h's grammar accepts, with the same value (SIZE: 1 to 20 digits and
// an optional case-insensitive suffix B, K/KiB, KB, M/MiB, MB, G/GiB, GB,
// T/TiB, TB, no overflow; RATE: a SIZE above zero with an optional "/s";
// INT: an optional sign and 1 to 18 digits, in range); and that an accepted
// host:port names a host when sending, a port above zero when sending, and
// reads back the same when written as HOST:PORT or [HOST]:PORT.
#include <cstring>
#include <optional>
#include <string>

#include "app/options.h"
#include "core/host_port.h"
#include "core/units.h"
#include "fuzz_input.h"

using namespace qpipe;

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<uint64_t> ref_size(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && digit(t[i]))
    ++i;
  if (i == 0 || i > 20) return std::nullopt;
  unsigned __int128 n = 0;
  for (size_t k = 0; k < i; ++k)
    n = n * 10 + static_cast<unsigned>(t[k] - '0');
  std::string suffix;
  for (char c : t.substr(i))
    suffix += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  unsigned __int128 mult = 0;
  const char* letters = "kmgt";
  if (suffix.empty() || suffix == "b") mult = 1;
  for (int p = 1; p <= 4; ++p) {
    std::string l(1, letters[p - 1]);
    if (suffix == l || suffix == l + "ib") mult = static_cast<unsigned __int128>(1) << (10 * p);
    if (suffix == l + "b") {
      mult = 1;
      for (int k = 0; k < p; ++k)
        mult *= 1000;
    }
  }
  if (mult == 0) return std::nullopt;
  unsigned __int128 v = n * mult;
  if (v > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(v);
}

std::optional<uint64_t> ref_rate(std::string_view t) {
  if (t.size() > 2 && (t.ends_with("/s") || t.ends_with("/S"))) t.remove_suffix(2);
  auto v = ref_size(t);
  if (!v || *v == 0) return std::nullopt;
  return v;
}

std::optional<int64_t> ref_int(std::string_view t, int64_t lo, int64_t hi) {
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty() || t.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : t) {
    if (!digit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (neg) n = -n;
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

void check_host_port(const std::string& text, bool listening) {
  auto hp = parse_host_port(text, listening, app::kDefaultPort);
  if (!hp) {
    FUZZ_CHECK(!hp.error().message().empty());
    return;
  }
  if (!listening) {
    FUZZ_CHECK_MSG(!hp->host.empty(), "a destination without a host");
    FUZZ_CHECK_MSG(hp->port != 0, "a destination with port 0");
  }
  // Brackets inside a host cannot be written back unambiguously.
  if (hp->host.find_first_of("[]") != std::string::npos) return;
  std::string again = hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host;
  again += ":" + std::to_string(hp->port);
  auto hp2 = parse_host_port(again, listening, app::kDefaultPort);
  FUZZ_CHECK_MSG(hp2.ok(), "HOST:PORT written from a parsed address does not parse");
  FUZZ_CHECK_MSG(hp2->host == hp->host && hp2->port == hp->port,
                 "HOST:PORT written from a parsed address reads back differently");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);

  auto s = parse_size(text, "--size");
  auto want_s = ref_size(text);
  FUZZ_CHECK_MSG(s.ok() == want_s.has_value(), "parse_size accepts against its grammar");
  if (s) {
    FUZZ_CHECK(*s == *want_s);
    FUZZ_CHECK(!format_bytes(*s).empty());
  } else {
    FUZZ_CHECK(!s.error().message().empty());
  }

  auto r = parse_rate(text, "--limit");
  auto want_r = ref_rate(text);
  FUZZ_CHECK_MSG(r.ok() == want_r.has_value(), "parse_rate accepts against its grammar");
  if (r) {
    FUZZ_CHECK(*r == *want_r);
    FUZZ_CHECK(!format_rate(static_cast<double>(*r)).empty());
  }

  static const std::pair<int64_t, int64_t> kRanges[] = {
      {INT64_MIN, INT64_MAX}, {1, 256}, {0, 65535}, {-5, 5}, {INT64_MIN, 0}};
  for (auto [lo, hi] : kRanges) {
    auto n = parse_int(text, "--int", lo, hi);
    auto want_n = ref_int(text, lo, hi);
    FUZZ_CHECK_MSG(n.ok() == want_n.has_value(), "parse_int accepts against its grammar");
    if (n) {
      FUZZ_CHECK(*n == *want_n && *n >= lo && *n <= hi);
      FUZZ_CHECK(!format_duration(static_cast<double>(*n)).empty());
    }
  }

  check_host_port(text, false);
  check_host_port(text, true);

  // The formatters take any double that a division of counters can give.
  if (size >= 1 + sizeof(double) && (data[0] == 0xff || data[0] == 0xfe)) {
    double d;
    std::memcpy(&d, data + 1, sizeof d);
    if (data[0] == 0xff) FUZZ_CHECK(!format_rate(d).empty());
    if (data[0] == 0xfe) FUZZ_CHECK(!format_duration(d).empty());
    if (d >= 0 && d < 1.8e19) FUZZ_CHECK(!format_bytes(static_cast<uint64_t>(d)).empty());
  }
  return 0;
}
