// The compression level of `-z` (auto): a pure controller, no I/O and no
// clock, that moves the zstd level chunk by chunk towards the point where
// the workers compress just as fast as the connection delivers.
//
// Each time a chunk is handed to the workers the sender reports what its
// queues look like (Observation). Compressed chunks piling up while they wait
// for the connection (credit, cwnd, pacing) mean the network is the
// bottleneck: the workers have time to spare, and a higher level sends fewer
// bytes (raw chunks waiting say nothing: no level makes them smaller).
// Nothing waiting for the connection while every worker is busy means
// the compressor is the bottleneck: a lower level feeds the link faster.
// Input that arrives slowly (nothing waiting, workers idle) moves nothing.
// Steps up are of one level; steps down of a quarter of the way to MIN (at
// least one), so that a level too slow for the data is left quickly.
//
// Hysteresis: a step needs `votes` consecutive observations that agree, and
// the `settle` observations after a step are ignored (the chunks already
// queued were compressed at the old level). A level that proved too slow
// (raised to, then left downwards) is not tried again for `backoff`
// observations, doubled each time it fails again, so the level settles
// instead of oscillating around the crossover.
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
};

// The default of plain -z.
inline constexpr LevelRange kAutoLevels{1, 19};

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
    int votes = 3;         // consecutive agreeing observations for one step
    int settle = 2;        // observations ignored after a step
    uint32_t backoff = 16; // observations a too-slow level is avoided at first
    uint32_t max_backoff = 1024;
    int network_behind = 2; // chunks waiting for the connection that mean it is behind
  };
  // What the queues look like as one more chunk goes to the workers.
  struct Observation {
    int waiting = 0; // chunks ready to send in order, not yet all handed to the connection
    int waiting_compressed =
        0;           // ... of which compressed (raw ones gain nothing from a higher level)
    int busy = 0;    // chunks queued on or running in the workers
    int workers = 1; // how many chunks the workers compress at once
  };

  explicit LevelControl(LevelRange range) : LevelControl(range, Tuning{}) {}
  LevelControl(LevelRange range, Tuning tuning);

  // The level for the next chunk.
  int level() const { return level_; }
  const LevelRange& range() const { return range_; }
  // Reports the queues as a chunk goes to the workers; may change level().
  void observe(const Observation& o);

private:
  void step(int dir);

  LevelRange range_;
  Tuning t_;
  int level_;
  int score_ = 0;  // consecutive votes: positive to raise, negative to lower
  int settle_ = 0; // observations still ignored after a step
  uint64_t seen_ = 0;
  std::optional<int> raised_to_; // the level the last step reached, when it was upwards
  std::optional<int> too_slow_;  // the lowest level known to be too slow ...
  uint64_t too_slow_until_ = 0;  // ... until this many observations
  uint32_t backoff_;
};

// Chunks sent compressed, by level: what --stats reports.
using LevelCounts = std::map<int, uint64_t>;

} // namespace qpipe::codec
