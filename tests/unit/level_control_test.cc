// Tests for src/pipeline/level_control.h: the level of -z (auto) is the
// highest whose measured compression rate, over its ratio, keeps the link
// full; it climbs by trying untried levels at most climb_most above the
// highest tried, plain -z stops at level 12, it falls when the
// compressor cannot feed the link, ignores chunks that did not shrink in
// its ratio estimate, holds after a change, stays within its range; the
// --zstd value syntax.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "pipeline/level_control.h"

using namespace qpipe::codec;

namespace {
constexpr uint64_t kMs = 1'000'000;
constexpr int kWorkers = 2;

// A model of zstd: raw bytes/s of one worker and the ratio at each level
// (from LevelRange::kLong on with the long-distance matcher, three times
// slower).
double speed(int level) {
  return 400e6 * std::pow(0.7, level - 1) * (level >= LevelRange::kLong ? 0.35 : 1.0);
}
double ratio(int level, double base = 3.0) {
  return base * std::pow(1.04, level - 1);
}

// The wire bytes/s the workers feed the link at `level`.
double feed(int level, double base = 3.0) {
  return kWorkers * speed(level) / ratio(level, base);
}

// A fluid simulation: every 10 ms the workers compress what they can at the
// controller's level, the link (wire bytes/s) carries what it can, and the
// controller hears of both. Returns the level after each tick.
struct Sim {
  LevelControl& c;
  double link;
  uint64_t now = 0;
  double acked = 0;
  double base = 3.0;
  bool incompressible_every_other = false;
  double cpu_share = 1.0;   // the share of the measured rate the shared cores deliver
  bool input_bound = false; // the input, not the workers, is slow
  uint64_t tick_no = 0;

  int tick() {
    const uint64_t dt = 10 * kMs;
    int l = c.level();
    double raw = speed(l) * 0.01;
    bool skip = incompressible_every_other && (tick_no++ % 2);
    double r = skip ? 1.0 : ratio(l, base);
    c.compressed(l, static_cast<uint64_t>(raw), skip ? 0 : static_cast<uint64_t>(raw / r), dt);
    double produced = kWorkers * raw / r * cpu_share;
    bool network_bound = produced > link * 0.01;
    acked += std::min(produced, link * 0.01);
    now += dt;
    c.delivered(now, static_cast<uint64_t>(acked));
    LevelControl::Observation o;
    o.workers = kWorkers;
    o.busy = network_bound || input_bound ? 1 : kWorkers;
    o.waiting = o.waiting_compressed = network_bound ? 8 : 0;
    c.observe(now, o);
    return c.level();
  }
  std::vector<int> run(int ticks) {
    std::vector<int> v;
    for (int i = 0; i < ticks; ++i)
      v.push_back(tick());
    return v;
  }
};

// The highest level in [lo, hi] that feeds `link` with the controller's
// margin for a step up.
int best_level(double link, int lo, int hi, double margin = 1.25) {
  int best = lo;
  for (int l = lo; l <= hi; ++l)
    if (l != 0 && feed(l) >= link * margin) best = l;
  return best;
}

int changes(const std::vector<int>& v) {
  int n = 0;
  for (size_t i = 1; i < v.size(); ++i)
    n += v[i] != v[i - 1];
  return n;
}
} // namespace

BOOST_AUTO_TEST_SUITE(level_control)

BOOST_AUTO_TEST_CASE(starts_at_zstds_default_within_the_range) {
  BOOST_TEST(LevelControl(LevelRange{1, 19}).level() == 3);
  BOOST_TEST(LevelControl(LevelRange{5, 9}).level() == 5);
  BOOST_TEST(LevelControl(LevelRange{-5, 1}).level() == 1);
  BOOST_TEST(LevelControl(LevelRange{7, 7}).level() == 7);
}

BOOST_AUTO_TEST_CASE(settles_at_the_highest_level_that_keeps_the_link_full) {
  for (double link : {6e6, 25e6, 60e6}) {
    LevelControl c(kAutoLevels);
    Sim sim{c, link};
    auto v = sim.run(1000); // 10 s
    int best = best_level(link, kAutoLevels.min, kAutoLevels.max);
    BOOST_TEST_CONTEXT("link " << link) {
      BOOST_TEST(c.level() >= best - 1);
      BOOST_TEST(c.level() <= best);
      BOOST_TEST(feed(c.level()) >= link); // the link stays full
      // Settled: no change over the last 5 s.
      BOOST_TEST(changes(std::vector<int>(v.begin() + 500, v.end())) == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_slow_link_raises_the_level_up_to_max) {
  LevelControl c(LevelRange{1, 6});
  Sim sim{c, 1e5};
  sim.run(1000);
  BOOST_TEST(c.level() == 6);
}

BOOST_AUTO_TEST_CASE(a_fast_link_lowers_the_level_to_one_that_feeds_it) {
  LevelControl c(LevelRange{1, 19});
  Sim sim{c, feed(2) / 1.3}; // level 3 cannot feed it, level 2 can
  sim.run(300);
  BOOST_TEST(c.level() == 2);
  LevelControl d(LevelRange{1, 19});
  Sim fast{d, 1e12};
  fast.run(300);
  BOOST_TEST(d.level() == 1);
}

BOOST_AUTO_TEST_CASE(steps_over_level_0_which_is_zstds_default) {
  LevelControl c(LevelRange{-3, 2});
  Sim sim{c, 1e12};
  auto v = sim.run(500);
  for (int l : v)
    BOOST_TEST(l != 0);
  BOOST_TEST(c.level() == -3);
}

BOOST_AUTO_TEST_CASE(chunks_that_did_not_shrink_are_not_in_the_ratio) {
  LevelControl c(kAutoLevels);
  c.compressed(3, 1'000'000, 250'000, 10 * kMs);
  BOOST_TEST(c.stats(3)->ratio == 4.0);
  for (int i = 0; i < 10; ++i)
    c.compressed(3, 1'000'000, 0, 10 * kMs);
  BOOST_TEST(c.stats(3)->ratio == 4.0);
  BOOST_TEST(c.stats(3)->raw_per_sec == 100e6);
  BOOST_TEST(c.stats(3)->chunks == 11u);
}

BOOST_AUTO_TEST_CASE(a_chunk_that_repeats_its_history_does_not_swamp_the_ratio) {
  // One chunk at 500:1 (a file that repeats one 8 MiB back) among chunks at
  // 3:1: the link is fed at about 3:1, not at a fraction of it.
  LevelControl c(kAutoLevels);
  c.compressed(6, 2'000'000, 666'667, 40 * kMs);
  c.compressed(6, 2'000'000, 4'000, 40 * kMs);
  BOOST_TEST(c.stats(6)->ratio > 4.0);
  BOOST_TEST(c.stats(6)->ratio < 5.0);
  double fed = c.feed_rate(6);
  c.compressed(6, 2'000'000, 666'667, 40 * kMs);
  BOOST_TEST(c.feed_rate(6) > fed); // back toward 3:1
  BOOST_TEST(c.stats(6)->ratio < 4.0);
}

BOOST_AUTO_TEST_CASE(alternating_data_settles_instead_of_oscillating) {
  // Half the chunks incompressible (gen --kind mixed): the level depends on
  // the compressible half's rate and ratio, and does not swing.
  LevelControl c(kAutoLevels);
  Sim sim{c, 10e6};
  sim.incompressible_every_other = true;
  auto v = sim.run(1000);
  BOOST_TEST(changes(std::vector<int>(v.begin() + 500, v.end())) == 0);
  BOOST_TEST(c.level() > 3);
}

BOOST_AUTO_TEST_CASE(nothing_moves_before_the_link_is_measured_or_within_the_hold) {
  LevelControl c(kAutoLevels);
  c.compressed(3, 1'000'000, 300'000, 1 * kMs);
  LevelControl::Observation o{8, 8, 1, kWorkers};
  c.observe(0, o);
  BOOST_TEST(c.level() == 3); // no link rate yet
  c.delivered(1 * kMs, 0);
  c.observe(100 * kMs, o);
  c.delivered(250 * kMs, 1'000'000); // 4 MB/s, far below what level 3 feeds
  BOOST_TEST(c.link_rate() > 0);
  c.observe(251 * kMs, o);
  BOOST_TEST(c.level() == 6); // climb_most untried levels up
  c.compressed(6, 1'000'000, 280'000, 1 * kMs);
  c.observe(300 * kMs, o);
  BOOST_TEST(c.level() == 6); // held
  c.observe(700 * kMs, o);
  BOOST_TEST(c.level() == 9);
}

BOOST_AUTO_TEST_CASE(an_untried_level_is_extrapolated_at_most_climb_most_levels_up) {
  // Level 6 measured: 7, 8 and 9 are estimated (0.75 slower and 1.02 better
  // each), 10 is not (it will be tried from 9), however slow the link.
  LevelControl c(kAutoLevels);
  c.compressed(6, 1'000'000, 250'000, 10 * kMs);
  BOOST_TEST(c.feed_rate(9) == c.feed_rate(6) * std::pow(0.75 / 1.02, 3),
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(c.feed_rate(10) == 0);
  // Across level 4 the step into long matching counts once.
  LevelControl d(kAutoLevels);
  d.compressed(2, 1'000'000, 250'000, 10 * kMs);
  BOOST_TEST(d.feed_rate(5) == d.feed_rate(2) * std::pow(0.75 / 1.02, 3) * 0.35,
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(plain_z_stops_below_zstds_binary_tree_levels) {
  // From level 13 zstd builds a binary tree over the whole history for each
  // chunk: 4-30 times level 12's time for a few percent. A slow link gets 12.
  LevelControl c(kAutoLevels);
  Sim sim{c, 1e5};
  sim.run(1000);
  BOOST_TEST(c.level() == 12);
  BOOST_TEST(kAutoLevels.max == 12);
}

BOOST_AUTO_TEST_CASE(busy_workers_that_cannot_feed_the_link_lower_the_level) {
  // The workers measure level 3 fast enough, but the cores they share
  // deliver half of it: the connection waits for them, and the level falls
  // to one that feeds the link, and stays there.
  LevelControl c(kAutoLevels);
  Sim sim{c, 90e6};
  sim.cpu_share = 0.5;
  BOOST_TEST(feed(3) >= 1.25 * 90e6);
  auto v = sim.run(1000);
  BOOST_TEST(c.level() == 1);
  BOOST_TEST(changes(std::vector<int>(v.begin() + 500, v.end())) <= 2);
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] != v[i - 1]) BOOST_TEST_MESSAGE("t=" << i * 10 << "ms level " << v[i]);
}

BOOST_AUTO_TEST_CASE(slow_input_raises_the_level_by_the_rates) {
  // Nothing waits and the workers idle: the rates alone decide, and the
  // level climbs while it would still feed the link.
  LevelControl c(kAutoLevels);
  Sim sim{c, 10e6};
  sim.input_bound = true;
  sim.run(1000);
  BOOST_TEST(c.level() > 3);
  BOOST_TEST(feed(c.level()) >= 10e6);
}

BOOST_AUTO_TEST_CASE(the_step_into_long_matching_is_extrapolated_three_times_slower) {
  // Level 3 measured at 400 MB/s per worker, 3:1: level 4 (the long-distance
  // matcher) is expected at 0.75 x 0.35 of it, not 0.75; level 3 from a
  // measured level 4, as much faster.
  LevelControl c(kAutoLevels);
  c.compressed(3, 4'000'000, 1'000'000, 10 * kMs);
  BOOST_TEST(c.feed_rate(3) == 400e6 / 4, boost::test_tools::tolerance(1e-9)); // one worker
  BOOST_TEST(c.feed_rate(4) == c.feed_rate(3) * 0.75 * 0.35 / 1.02,
             boost::test_tools::tolerance(1e-9));
  LevelControl d(kAutoLevels);
  d.compressed(4, 1'000'000, 250'000, 10 * kMs);
  BOOST_TEST(d.feed_rate(3) == d.feed_rate(4) / 0.75 / 0.35 * 1.02,
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(a_fixed_level_never_moves) {
  LevelControl c(LevelRange{7, 7});
  Sim sim{c, 1e12};
  sim.run(200);
  BOOST_TEST(c.level() == 7);
}

BOOST_AUTO_TEST_CASE(follows_a_link_that_gets_faster_and_slower) {
  LevelControl c(kAutoLevels);
  Sim sim{c, 6e6};
  sim.run(1000);
  int slow = c.level();
  sim.link = 100e6;
  sim.run(1000);
  int fast = c.level();
  BOOST_TEST(fast < slow);
  BOOST_TEST(feed(fast) >= 100e6);
  sim.link = 6e6;
  sim.run(1000);
  BOOST_TEST(c.level() >= slow - 1);
}

BOOST_AUTO_TEST_CASE(parses_and_prints_the_zstd_values) {
  auto a = parse_levels("auto");
  BOOST_TEST((a && a->is_auto && a->min == 1 && a->max == 12));
  auto r = parse_levels("auto:-5:9");
  BOOST_TEST((r && r->is_auto && r->min == -5 && r->max == 9));
  auto l = parse_levels("-7");
  BOOST_TEST((l && !l->is_auto && l->min == -7 && l->max == -7));
  for (const char* bad : {"", "auto:", "auto:3", "auto:1:x", "fast", "3x", "auto:1:2:3"})
    BOOST_TEST(!parse_levels(bad), bad);
  BOOST_TEST(format_levels(LevelRange{5, 5}) == "5");
  BOOST_TEST(format_levels(kAutoLevels) == "auto");
  BOOST_TEST(format_levels(LevelRange{-5, 9}) == "auto:-5:9");
}

BOOST_AUTO_TEST_SUITE_END()
