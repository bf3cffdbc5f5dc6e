#include "core/units.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "core/log.h"

namespace qpipe {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error bad(std::string_view what, std::string_view text, const char* why) {
  return make_error(Errc::usage, std::string(what),
                    "'" + std::string(text) + "' is not a valid " + why);
}

} // namespace

Result<uint64_t> parse_size(std::string_view text, std::string_view what) {
  const char* expect = "size (a whole number with an optional suffix K M G T, KiB.., KB..)";
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  if (i == 0 || i > 20) return bad(what, text, expect);
  uint64_t n = 0;
  for (size_t k = 0; k < i; ++k) {
    uint64_t d = static_cast<uint64_t>(text[k] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10)
      return make_error(Errc::usage, std::string(what), "'" + std::string(text) + "' is too large");
    n = n * 10 + d;
  }
  std::string suffix = lower(text.substr(i));
  uint64_t mult = 1;
  if (suffix.empty() || suffix == "b") {
    mult = 1;
  } else {
    static const struct {
      const char* bin1;
      const char* bin2;
      const char* dec;
      int power;
    } table[] = {
        {"k", "kib", "kb", 1}, {"m", "mib", "mb", 2}, {"g", "gib", "gb", 3}, {"t", "tib", "tb", 4}};
    bool found = false;
    for (const auto& row : table) {
      if (suffix == row.bin1 || suffix == row.bin2) {
        mult = uint64_t{1} << (10 * row.power);
        found = true;
      } else if (suffix == row.dec) {
        mult = 1;
        for (int p = 0; p < row.power; ++p)
          mult *= 1000;
        found = true;
      }
    }
    if (!found) return bad(what, text, expect);
  }
  if (n != 0 && mult > std::numeric_limits<uint64_t>::max() / n)
    return make_error(Errc::usage, std::string(what), "'" + std::string(text) + "' is too large");
  return n * mult;
}

Result<uint64_t> parse_rate(std::string_view text, std::string_view what) {
  std::string_view t = text;
  if (t.size() > 2 && (t.substr(t.size() - 2) == "/s" || t.substr(t.size() - 2) == "/S"))
    t.remove_suffix(2);
  auto r = parse_size(t, what);
  if (!r) return r.error();
  if (*r == 0)
    return make_error(Errc::usage, std::string(what), "a rate must be greater than zero");
  return *r;
}

Result<int64_t> parse_int(std::string_view text, std::string_view what, int64_t lo, int64_t hi) {
  size_t i = 0;
  bool neg = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    neg = text[0] == '-';
    i = 1;
  }
  if (i == text.size() || text.size() - i > 18)
    return make_error(Errc::usage, std::string(what),
                      "'" + std::string(text) + "' is not a whole number");
  int64_t n = 0;
  for (; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return make_error(Errc::usage, std::string(what),
                        "'" + std::string(text) + "' is not a whole number");
    n = n * 10 + (text[i] - '0');
  }
  if (neg) n = -n;
  return check_range(n, what, lo, hi);
}

Result<int64_t> check_range(int64_t n, std::string_view what, int64_t lo, int64_t hi) {
  if (n < lo || n > hi)
    return make_error(Errc::usage, std::string(what),
                      strprintf("%lld is out of range (%lld to %lld)", static_cast<long long>(n),
                                static_cast<long long>(lo), static_cast<long long>(hi)));
  return n;
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  // Three significant digits, the precision chosen after rounding (9.999
  // MiB is "10.0 MiB", never "10.00 MiB"), and never four digits before the
  // point: from 999.5 of a unit on, the next unit ("0.98 KiB").
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 999.5 && u < 6) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return strprintf("%llu B", static_cast<unsigned long long>(bytes));
  if (v < 9.995) return strprintf("%.2f %s", v, units[u]);
  if (v < 99.95) return strprintf("%.1f %s", v, units[u]);
  return strprintf("%.0f %s", v, units[u]);
}

std::string format_rate(double bytes_per_second) {
  if (!(bytes_per_second >= 0) || std::isinf(bytes_per_second)) return "- B/s";
  // A double at or past 2^64 does not convert to uint64_t (undefined behaviour).
  if (bytes_per_second >= 18446744073709551615.0) return "> 16 EiB/s";
  return format_bytes(static_cast<uint64_t>(bytes_per_second)) + "/s";
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 59.95) return strprintf("%.1fs", seconds); // not "60.0s"
  if (seconds >= 1e15) return "forever"; // past any real duration, and short of 2^64
  auto s = static_cast<uint64_t>(std::llround(seconds));
  if (s < 3600)
    return strprintf("%llu:%02llu", static_cast<unsigned long long>(s / 60),
                     static_cast<unsigned long long>(s % 60));
  return strprintf("%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                   static_cast<unsigned long long>(s / 60 % 60),
                   static_cast<unsigned long long>(s % 60));
}

std::string count_of(uint64_t n, std::string_view singular, std::string_view plural) {
  std::string out = std::to_string(n) + " ";
  if (n == 1) return out.append(singular);
  if (plural.empty()) return out.append(singular).append("s");
  return out.append(plural);
}

} // namespace qpipe
