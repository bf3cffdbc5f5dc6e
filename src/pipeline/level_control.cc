#include "pipeline/level_control.h"

#include <algorithm>
#include <charconv>
#include <cmath>

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
    : range_(range), t_(tuning), level_(range.start()) {}

void LevelControl::compressed(int level, uint64_t raw, uint64_t wire, uint64_t busy_ns) {
  if (raw == 0) return;
  LevelStats& s = levels_[level];
  double rate =
      static_cast<double>(raw) * 1e9 / static_cast<double>(std::max<uint64_t>(busy_ns, 1));
  s.raw_per_sec = s.chunks ? t_.alpha * rate + (1 - t_.alpha) * s.raw_per_sec : rate;
  // The ratio as wire bytes per raw byte, averaged: what feeds the link. (An
  // average of raw/wire would let one chunk that repeats what came before,
  // 600:1 against its history, promise the link hundreds of times less than
  // the chunks around it deliver.)
  if (wire > 0) {
    double fraction = static_cast<double>(wire) / static_cast<double>(raw);
    double before = s.ratio > 0 ? 1 / s.ratio : fraction;
    s.ratio = 1 / (t_.alpha * fraction + (1 - t_.alpha) * before);
  }
  ++s.chunks;
}

void LevelControl::delivered(uint64_t now_ns, uint64_t acked_wire) {
  if (!window_open_ || now_ns < window_start_) {
    window_open_ = true;
    window_start_ = now_ns;
    window_acked_ = acked_wire;
    window_obs_ = window_behind_ = window_starved_ = 0;
    return;
  }
  uint64_t dt = now_ns - window_start_;
  if (dt < t_.window_ns) return;
  double rate = static_cast<double>(acked_wire - window_acked_) * 1e9 / static_cast<double>(dt);
  link_full_ = window_obs_ > 0 && window_behind_ >= t_.busy_share * window_obs_;
  compressor_bound_ = window_obs_ > 0 && window_starved_ >= t_.busy_share * window_obs_;
  if (link_full_)
    link_ = link_ > 0 ? t_.alpha * rate + (1 - t_.alpha) * link_ : rate;
  else
    link_ = std::max(link_, rate); // the link is at least this fast
  window_start_ = now_ns;
  window_acked_ = acked_wire;
  window_obs_ = window_behind_ = window_starved_ = 0;
}

void LevelControl::observe(uint64_t now_ns, const Observation& o) {
  workers_ = std::max(1, o.workers);
  ++window_obs_;
  if (o.waiting_compressed >= t_.network_behind) ++window_behind_;
  if (o.waiting == 0 && o.busy >= o.workers) ++window_starved_;
  decide(now_ns);
}

const LevelControl::LevelStats* LevelControl::stats(int level) const {
  auto it = levels_.find(level);
  return it == levels_.end() ? nullptr : &it->second;
}

double LevelControl::feed_rate(int level) const {
  auto known = [](const LevelStats& s) { return s.raw_per_sec > 0 && s.ratio > 0; };
  if (auto* s = stats(level); s && known(*s)) return workers_ * s->raw_per_sec / s->ratio;
  // Extrapolate from the nearest tried level below, up to climb_most levels
  // (the level climbs by trying), ...
  for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
    if (it->first >= level || !known(it->second)) continue;
    double slower = 1, better = 1;
    int steps = 0;
    for (int l = it->first; l < level && steps <= t_.climb_most; l = next_level(l, 1)) {
      int up = next_level(l, 1);
      slower *= t_.slower_per_level * (up == LevelRange::kLong ? t_.slower_into_long : 1);
      better *= t_.ratio_per_level;
      ++steps;
    }
    if (steps > t_.climb_most) break;
    return workers_ * it->second.raw_per_sec * slower / (it->second.ratio * better);
  }
  // ... or from the nearest tried level above, any distance down.
  for (const auto& [l, s] : levels_) {
    if (l <= level || !known(s)) continue;
    double d = l - level;
    double faster = level < LevelRange::kLong && l >= LevelRange::kLong ? t_.slower_into_long : 1;
    return workers_ * s.raw_per_sec / std::pow(t_.slower_per_level, d) / faster /
           (s.ratio / std::pow(t_.ratio_per_level, d));
  }
  return 0;
}

void LevelControl::decide(uint64_t now_ns) {
  if (range_.fixed() || link_ <= 0) return;
  if (changed_ && now_ns - changed_at_ < t_.hold_ns) return;
  if (feed_rate(level_) <= 0) return; // the current level is not measured yet
  auto feeds = [&](int l, double margin) {
    double f = feed_rate(l);
    return f > 0 && f >= link_ * margin;
  };
  int target = level_;
  // While the link is not known to be full it may be faster than it
  // looked: the current level must show headroom too.
  if (!feeds(level_, link_full_ ? t_.keep_margin : t_.up_margin)) {
    target = range_.min;
    for (int l = next_level(level_, -1); l >= range_.min; l = next_level(l, -1))
      if (feeds(l, t_.up_margin)) {
        target = l;
        break;
      }
  } else {
    for (int l = next_level(level_, 1); l <= range_.max && feeds(l, t_.up_margin);
         l = next_level(l, 1))
      target = l;
  }
  // The connection waited for the workers while they were all busy: the
  // measured rates promised more than the machine delivers (the event loops,
  // the crypto and the other end share its cores). One level down at least,
  // none up.
  if (compressor_bound_ && target >= level_) {
    target = std::max(range_.min, next_level(level_, -1));
    // ... and the level left stays out of reach for a while.
    // (longer each time the same level fails again).
    if (target < level_) {
      ceiling_backoff_ =
          ceiling_ == level_ ? std::min(2 * ceiling_backoff_, 16 * t_.ceiling_ns) : t_.ceiling_ns;
      ceiling_ = level_;
      ceiling_until_ = now_ns + ceiling_backoff_;
    }
  }
  if (target > level_ && ceiling_) {
    if (level_ >= *ceiling_)
      ceiling_.reset(); // it held this time
    else if (now_ns < ceiling_until_)
      target = std::max(level_, next_level(*ceiling_, -1));
    else
      target = std::min(target, *ceiling_); // retried alone first
  }
  if (target == level_) return;
  level_ = target;
  changed_ = true;
  changed_at_ = now_ns;
}

} // namespace qpipe::codec
