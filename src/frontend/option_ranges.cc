// The ranges of the options that both front ends take (see option_ranges.h).
#include "frontend/option_ranges.h"

#include "app/options.h"
#include "core/log.h"
#include "core/units.h"
#include "pipeline/codec.h"

namespace qpipe::frontend {
namespace {

// check_range, with the value in the type the engine takes.
template <typename T> Result<T> in_range(int64_t n, std::string_view what, int64_t lo, int64_t hi) {
  auto r = check_range(n, what, lo, hi);
  if (!r) return r.error();
  return static_cast<T>(*r);
}

} // namespace

Result<int> check_streams(int64_t n, std::string_view what) {
  return in_range<int>(n, what, 1, app::kMaxStreams);
}

Result<uint32_t> parse_chunk_size(std::string_view text, std::string_view what) {
  auto bytes = parse_size(text, what);
  if (!bytes) return bytes.error();
  if (*bytes < app::kMinChunkSize || *bytes > app::kMaxChunkSize)
    return make_error(Errc::usage, std::string(what),
                      strprintf("must be between %uK and %uM", app::kMinChunkSize >> 10,
                                app::kMaxChunkSize >> 20));
  return static_cast<uint32_t>(*bytes);
}

Result<int> check_zstd_level(int64_t level, std::string_view what) {
  return in_range<int>(level, what, codec::min_level(), codec::max_level());
}

Result<codec::LevelRange> parse_zstd(std::string_view text, std::string_view what) {
  std::string t(text);
  if (t.rfind("auto", 0) != 0) {
    auto n = parse_int(t, what, INT64_MIN, INT64_MAX);
    if (!n) return n.error();
    auto level = check_zstd_level(*n, what);
    if (!level) return level.error();
    return codec::LevelRange{*level, *level};
  }
  auto p = codec::parse_levels(t);
  if (!p)
    return make_error(Errc::usage, std::string(what),
                      "'" + t + "' is not auto, auto:MIN:MAX or a level");
  auto lo = check_zstd_level(p->min, what);
  if (!lo) return lo.error();
  auto hi = check_zstd_level(p->max, what);
  if (!hi) return hi.error();
  if (*lo > *hi)
    return make_error(Errc::usage, std::string(what),
                      strprintf("'%s': MIN is above MAX", t.c_str()));
  return codec::LevelRange{*lo, *hi};
}

Result<uint64_t> check_idle_timeout(int64_t seconds, std::string_view what) {
  auto s = in_range<uint64_t>(seconds, what, 1, 24 * 3600);
  if (!s) return s.error();
  return *s * 1000;
}

Result<int> check_max_connections(int64_t n, std::string_view what) {
  return in_range<int>(n, what, 1, 10000);
}

} // namespace qpipe::frontend
