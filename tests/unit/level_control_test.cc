// Tests for src/pipeline/level_control.h: the level of -z (auto) rises while
// the network is the bottleneck, falls while the compressor is, stays within
// its range, waits for agreeing observations before a step, and settles at
// the crossover instead of oscillating; the --zstd value syntax.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include "pipeline/level_control.h"

using namespace qpipe::codec;

namespace {
using Obs = LevelControl::Observation;
const Obs kNetworkBound{8, 8, 1, 4};    // compressed chunks pile up waiting for the connection
const Obs kCompressorBound{0, 0, 6, 4}; // nothing to send, every worker busy
const Obs kInputBound{0, 0, 0, 4};      // nothing to send, workers idle
const Obs kRawWaiting{8, 0, 1, 4};      // raw chunks wait: no level makes them smaller

void feed(LevelControl& c, const Obs& o, int n) {
  for (int i = 0; i < n; ++i)
    c.observe(o);
}

// A simulated path: the compressor is the bottleneck at `crossover` and
// above, the network below it.
std::vector<int> run_against(LevelControl& c, int crossover, int n) {
  std::vector<int> levels;
  for (int i = 0; i < n; ++i) {
    c.observe(c.level() < crossover ? kNetworkBound : kCompressorBound);
    levels.push_back(c.level());
  }
  return levels;
}
} // namespace

BOOST_AUTO_TEST_SUITE(level_control)

BOOST_AUTO_TEST_CASE(starts_at_zstds_default_within_the_range) {
  BOOST_TEST(LevelControl(LevelRange{1, 19}).level() == 3);
  BOOST_TEST(LevelControl(LevelRange{5, 9}).level() == 5);
  BOOST_TEST(LevelControl(LevelRange{-5, 1}).level() == 1);
  BOOST_TEST(LevelControl(LevelRange{7, 7}).level() == 7);
}

BOOST_AUTO_TEST_CASE(a_slow_network_raises_the_level_up_to_max) {
  LevelControl c(LevelRange{1, 6});
  feed(c, kNetworkBound, 2);
  BOOST_TEST(c.level() == 3); // not yet: one step needs three agreeing votes
  feed(c, kNetworkBound, 1);
  BOOST_TEST(c.level() == 4);
  feed(c, kNetworkBound, 200);
  BOOST_TEST(c.level() == 6);
}

BOOST_AUTO_TEST_CASE(a_slow_compressor_lowers_the_level_down_to_min) {
  LevelControl c(LevelRange{-3, 19});
  feed(c, kCompressorBound, 3);
  BOOST_TEST(c.level() == 2);
  feed(c, kCompressorBound, 200);
  BOOST_TEST(c.level() == -3);
}

BOOST_AUTO_TEST_CASE(falls_faster_than_it_rises) {
  LevelControl c(LevelRange{1, 19}, LevelControl::Tuning{.votes = 1, .settle = 0});
  feed(c, kNetworkBound, 16);
  BOOST_TEST(c.level() == 19);
  std::vector<int> down;
  for (int i = 0; i < 6; ++i) {
    c.observe(kCompressorBound);
    down.push_back(c.level());
  }
  // A quarter of the way to MIN each step, at least one level.
  BOOST_TEST(down == (std::vector<int>{15, 12, 10, 8, 7, 6}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(steps_over_level_0_which_is_zstds_default) {
  LevelControl c(LevelRange{-3, 19}, LevelControl::Tuning{.votes = 1, .settle = 0});
  c.observe(kCompressorBound); // 3 -> 2
  c.observe(kCompressorBound); // 2 -> 1
  c.observe(kCompressorBound);
  BOOST_TEST(c.level() == -1);
  c.observe(kNetworkBound);
  BOOST_TEST(c.level() == 1);
}

BOOST_AUTO_TEST_CASE(slow_input_and_mixed_signals_move_nothing) {
  LevelControl c(LevelRange{1, 19});
  feed(c, kInputBound, 100);
  BOOST_TEST(c.level() == 3);
  // Disagreeing observations never add up to a step.
  for (int i = 0; i < 100; ++i) {
    c.observe(kNetworkBound);
    c.observe(kNetworkBound);
    c.observe(kCompressorBound);
    c.observe(kCompressorBound);
  }
  BOOST_TEST(c.level() == 3);
  // One chunk waiting is neither behind nor starved.
  feed(c, Obs{1, 1, 6, 4}, 100);
  BOOST_TEST(c.level() == 3);
  // Incompressible chunks waiting for the link: a higher level would not help.
  feed(c, kRawWaiting, 100);
  BOOST_TEST(c.level() == 3);
}

BOOST_AUTO_TEST_CASE(observations_right_after_a_step_are_ignored) {
  LevelControl c(LevelRange{1, 19}, LevelControl::Tuning{.votes = 1, .settle = 5});
  c.observe(kNetworkBound);
  BOOST_TEST(c.level() == 4);
  feed(c, kCompressorBound, 5); // the chunks still queued at level 3
  BOOST_TEST(c.level() == 4);
  c.observe(kCompressorBound);
  BOOST_TEST(c.level() == 3);
}

BOOST_AUTO_TEST_CASE(a_fixed_level_never_moves) {
  LevelControl c(LevelRange{5, 5});
  feed(c, kNetworkBound, 50);
  feed(c, kCompressorBound, 50);
  BOOST_TEST(c.level() == 5);
}

BOOST_AUTO_TEST_CASE(settles_below_the_crossover_instead_of_oscillating) {
  LevelControl c(LevelRange{1, 19});
  auto levels = run_against(c, 9, 2000);
  // It reaches the crossover ...
  BOOST_TEST(*std::max_element(levels.begin(), levels.end()) == 9);
  // ... and then spends nearly all its time just below it: the too-slow
  // level is retried less and less often.
  int below = 0, changes = 0;
  for (size_t i = 1000; i < levels.size(); ++i) {
    below += levels[i] == 8;
    changes += levels[i] != levels[i - 1];
  }
  BOOST_TEST(below >= 950);
  BOOST_TEST(changes <= 15);
  BOOST_TEST(*std::min_element(levels.begin() + 1000, levels.end()) >= 7);
}

BOOST_AUTO_TEST_CASE(follows_a_link_that_gets_faster_and_slower) {
  LevelControl c(LevelRange{1, 19});
  run_against(c, 12, 1000);
  BOOST_TEST(c.level() >= 10);
  BOOST_TEST(c.level() <= 12);
  run_against(c, 3, 1000); // a faster link: the compressor limits from level 3 up
  BOOST_TEST(c.level() == 2);
  run_against(c, 15, 3000); // a slower one again: the old ceiling expires
  BOOST_TEST(c.level() >= 13);
  BOOST_TEST(c.level() <= 15);
}

BOOST_AUTO_TEST_CASE(parses_and_prints_the_zstd_values) {
  auto a = parse_levels("auto");
  BOOST_TEST((a && a->is_auto && a->min == 1 && a->max == 19));
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
