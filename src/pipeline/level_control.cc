#include "pipeline/level_control.h"

#include <algorithm>
#include <charconv>

namespace qpipe::codec {
namespace {

std::optional<int> to_int(const std::string& s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The level `by` levels up (or down, negative); 0 is skipped (zstd reads it
// as level 3).
int next_level(int level, int by) {
  int next = level + by;
  if (next == 0 || (level > 0 && next < 0)) next += by > 0 ? 1 : -1;
  return next;
}

} // namespace

std::optional<ParsedLevels> parse_levels(const std::string& text) {
  if (text == "auto") return ParsedLevels{true, kAutoLevels.min, kAutoLevels.max};
  if (text.rfind("auto:", 0) == 0) {
    std::string rest = text.substr(5);
    auto colon = rest.find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto lo = to_int(rest.substr(0, colon)), hi = to_int(rest.substr(colon + 1));
    if (!lo || !hi) return std::nullopt;
    return ParsedLevels{true, *lo, *hi};
  }
  auto level = to_int(text);
  if (!level) return std::nullopt;
  return ParsedLevels{false, *level, *level};
}

std::string format_levels(const LevelRange& r) {
  if (r.fixed()) return std::to_string(r.min);
  if (r == kAutoLevels) return "auto";
  return "auto:" + std::to_string(r.min) + ":" + std::to_string(r.max);
}

LevelControl::LevelControl(LevelRange range, Tuning tuning)
    : range_(range), t_(tuning), level_(range.start()), backoff_(tuning.backoff) {}

void LevelControl::observe(const Observation& o) {
  ++seen_;
  if (settle_ > 0) {
    --settle_;
    return;
  }
  int vote = 0;
  if (o.waiting_compressed >= t_.network_behind)
    vote = 1;
  else if (o.waiting == 0 && o.busy >= o.workers)
    vote = -1;
  if (vote == 0 || (vote > 0) != (score_ > 0))
    score_ = vote;
  else
    score_ += vote;
  if (score_ >= t_.votes) step(1);
  if (score_ <= -t_.votes) step(-1);
}

void LevelControl::step(int dir) {
  score_ = 0;
  if (dir > 0) {
    if (level_ >= range_.max) return;
    if (too_slow_ && next_level(level_, 1) >= *too_slow_ && seen_ < too_slow_until_) return;
    // The level once too slow held long enough to be left upwards: it is
    // fast enough now, and the next one gets a fresh backoff.
    if (raised_to_ == level_ && too_slow_ && level_ >= *too_slow_) backoff_ = t_.backoff;
    level_ = next_level(level_, 1);
    raised_to_ = level_;
  } else {
    if (level_ <= range_.min) return;
    if (raised_to_ == level_) {
      // The last step up went too far: stay below for a while, longer each time.
      too_slow_ = level_;
      too_slow_until_ = seen_ + backoff_;
      backoff_ = std::min(backoff_ * 2, t_.max_backoff);
    }
    level_ = next_level(level_, -std::max(1, (level_ - range_.min) / 4));
    raised_to_.reset();
  }
  settle_ = t_.settle;
}

} // namespace qpipe::codec
