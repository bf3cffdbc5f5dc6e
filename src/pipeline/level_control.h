// The compression level of `-z` (auto): a pure controller, no I/O and no
// clock (the caller passes timestamps), that picks the zstd level from two
// rates: what the connection delivers and what the workers can compress.
//
// The link: wire bytes of payload acknowledged per second, one sample per
// window. A window in which compressed chunks waited for the connection
// measured the link (EWMA); one in which they did not measured only the
// input or the compressor, a lower bound of the link (the estimate only
// rises then).
// The workers: raw bytes per second each achieved at each level (EWMA of the
// time each chunk took on its worker) and the ratio at that level (only
// chunks that shrank: random data is no evidence about the level; averaged
// as compressed bytes per raw byte, so that a chunk that repeats its history
// at 600:1 does not outweigh the chunks around it).
// Then the workers feed the link at level L with
//   workers x raw_per_sec(L) / ratio(L)   wire bytes/s,
// and the level is the highest that keeps the link full: the current one
// stays while it feeds at least keep_margin x the link (while the link is
// measured; otherwise up_margin, as the link may be faster than it looked),
// another is chosen only if it feeds at least up_margin x the link. An
// untried level is extrapolated from the tried one below it, at most
// climb_most levels up, so the level climbs by trying. No change within
// hold_ns of the last.
// A window in which the connection mostly waited while every worker was
// busy overrides the rates (they promised more than the shared cores gave):
// one level down, none up, and the level left is not tried again for
// ceiling_ns, doubled each time it fails again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace qpipe::codec {

// The levels -z may use: MIN == MAX is a fixed level (`-z5`), otherwise the
// controller picks within [min, max] (`--zstd=auto:MIN:MAX`).
struct LevelRange {
  int min = 1, max = 19;
  bool fixed() const { return min == max; }
  // Level 0 is zstd's default (3): auto steps over it.
  // Where auto starts: zstd's default level, within the range.
  int start() const { return kStart < min ? min : kStart > max ? max : kStart; }
  bool operator==(const LevelRange&) const = default;
  static constexpr int kStart = 3;
  // From this level to below kTree, -z compresses against up to 8 MiB of
  // history with zstd's long-distance matcher: about three times slower than
  // the level below it (SendPipeline).
  static constexpr int kLong = 4;
  // From this level zstd's strategies build a binary tree over the whole
  // prefix for every chunk (8 MiB of text: 12 MB/s at level 12, 1 MB/s at
  // 13): the history is one chunk's worth again, without the long-distance
  // matcher, and plain -z stops below it.
  static constexpr int kTree = 13;
};

// The default of plain -z.
inline constexpr LevelRange kAutoLevels{1, LevelRange::kTree - 1};

// "auto", "auto:MIN:MAX" or a level; nullopt when it is none of these
// (the range check is the caller's).
struct ParsedLevels {
  bool is_auto = false;
  int min = 0, max = 0;
};
std::optional<ParsedLevels> parse_levels(const std::string& text);
// The text that parse_levels reads back: "5", "auto" or "auto:1:9".
std::string format_levels(const LevelRange& r);

class LevelControl {
public:
  struct Tuning {
    uint64_t window_ns = 200'000'000;    // one delivery-rate sample per window
    uint64_t hold_ns = 400'000'000;      // no level change this soon after the last
    uint64_t ceiling_ns = 3'000'000'000; // a level left for a busy compressor is not retried sooner
    double alpha = 0.3;                  // EWMA weight of a new sample
    double up_margin = 1.25;  // a level is chosen only if it can feed the link this much faster
    double keep_margin = 1.0; // the current level stays while it feeds the link this fast
    double busy_share = 0.5;  // observations in a window that must say "compressed data
                              // waits" for the window to have measured the link
    int network_behind = 2;   // compressed chunks waiting that mean the connection is behind
    // An untried level, extrapolated from the tried one below: this much
    // slower and this much better a ratio per level.
    double slower_per_level = 0.75, ratio_per_level = 1.02;
    // ... and this much slower again into LevelRange::kLong (measured on a
    // source tree: 401 MB/s at level 3, 104 at level 4 with the history).
    double slower_into_long = 0.35;
    // How many levels above the highest one tried a level is extrapolated
    // (and so how far one step climbs): far enough to reach a slow link's
    // level within a short transfer, near enough that the estimate holds
    // (zstd's speed falls faster than 0.75 a level above 9).
    int climb_most = 3;
  };
  // What the queues look like (as a chunk goes to the workers or one is acknowledged).
  struct Observation {
    int waiting = 0; // chunks ready to send in order, not yet all handed to the connection
    int waiting_compressed =
        0;           // ... of which compressed (raw ones gain nothing from a higher level)
    int busy = 0;    // chunks queued on or running in the workers
    int workers = 1; // how many chunks the workers compress at once
  };
  // What the workers measured at one level.
  struct LevelStats {
    double raw_per_sec = 0; // raw bytes one worker compresses per second (EWMA)
    double ratio =
        0; // raw / compressed of the chunks that shrank (EWMA of compressed / raw; 0: none yet)
    uint64_t chunks = 0;
  };

  explicit LevelControl(LevelRange range) : LevelControl(range, Tuning{}) {}
  LevelControl(LevelRange range, Tuning tuning);

  // The level for the next chunk.
  int level() const { return level_; }
  const LevelRange& range() const { return range_; }

  // A worker compressed `raw` bytes at `level` into `wire` bytes (0: it did
  // not shrink; its time counts, its ratio does not) in `busy_ns`.
  void compressed(int level, uint64_t raw, uint64_t wire, uint64_t busy_ns);
  // The connection's acknowledged payload so far (wire bytes), at `now_ns`.
  void delivered(uint64_t now_ns, uint64_t acked_wire);
  // The queues at `now_ns`; may change level().
  void observe(uint64_t now_ns, const Observation& o);

  // The link's payload rate (wire bytes/s) as last estimated; 0 before the first window.
  double link_rate() const { return link_; }
  // Raw bytes/s the workers would compress at `level`, over its ratio: the
  // wire bytes/s they could feed the link (measured or extrapolated; 0: unknown).
  double feed_rate(int level) const;
  const LevelStats* stats(int level) const;

private:
  void decide(uint64_t now_ns);

  LevelRange range_;
  Tuning t_;
  int level_;
  int workers_ = 1;
  std::map<int, LevelStats> levels_;
  double link_ = 0;               // wire bytes/s the connection delivers (EWMA)
  bool link_full_ = false;        // the last window measured the link, not the input
  bool compressor_bound_ = false; // ... or the connection waited for busy workers
  std::optional<int> ceiling_;    // the level last left for a busy compressor ...
  uint64_t ceiling_until_ = 0;    // ... out of reach until then
  uint64_t ceiling_backoff_ = 0;
  uint64_t window_start_ = 0, window_acked_ = 0;
  bool window_open_ = false;
  int window_obs_ = 0, window_behind_ = 0, window_starved_ = 0;
  uint64_t changed_at_ = 0;
  bool changed_ = false;
};

// Chunks sent compressed, by level: what --stats reports.
using LevelCounts = std::map<int, uint64_t>;

} // namespace qpipe::codec
