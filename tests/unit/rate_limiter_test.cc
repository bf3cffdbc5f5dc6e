// Tests of the token bucket behind --limit (src/app/rate_limiter.h), with
// the clock passed in: it starts with a full burst, refuses once the burst
// is spent and says how long to wait, refills at the rate, and never holds
// more than one burst however long it was idle.
#include <boost/test/unit_test.hpp>

#include "app/rate_limiter.h"

using qpipe::app::RateLimiter;

namespace {
constexpr uint64_t kMs = 1'000'000; // nanoseconds
}

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(burst_is_64k_or_20ms_of_the_rate) {
  BOOST_TEST(RateLimiter(1'000'000).burst() == 64.0 * 1024);
  BOOST_TEST(RateLimiter(100'000'000).burst() == 2'000'000.0);
}

BOOST_AUTO_TEST_CASE(starts_full_then_refuses_with_the_wait) {
  RateLimiter r(1'000'000); // 1 MB/s, burst 64 KiB
  uint64_t wait = 0;
  BOOST_TEST(r.allows(1000 * kMs, &wait));
  r.consumed(64 * 1024 + 1000); // one packet past the burst: 1000 bytes in debt
  BOOST_TEST(!r.allows(1000 * kMs, &wait));
  BOOST_TEST(wait == 2u); // 1000 bytes at 1 MB/s is 1 ms, plus 1
}

BOOST_AUTO_TEST_CASE(refills_at_the_rate) {
  RateLimiter r(1'000'000);
  uint64_t wait = 0;
  BOOST_TEST(r.allows(0, &wait));
  r.consumed(64 * 1024 + 10'000); // 10 kB in debt: 10 ms at 1 MB/s
  BOOST_TEST(!r.allows(5 * kMs, &wait));
  BOOST_TEST(wait == 6u); // 5 kB still owed
  BOOST_TEST(r.allows(11 * kMs, &wait));
}

BOOST_AUTO_TEST_CASE(idle_time_saves_at_most_one_burst) {
  RateLimiter r(1'000'000);
  uint64_t wait = 0;
  BOOST_TEST(r.allows(0, &wait));
  BOOST_TEST(r.allows(3600'000 * kMs, &wait)); // an hour later
  r.consumed(64 * 1024 + 1);
  BOOST_TEST(!r.allows(3600'000 * kMs, &wait));
}

BOOST_AUTO_TEST_CASE(a_clock_going_backwards_refills_nothing) {
  RateLimiter r(1'000'000);
  uint64_t wait = 0;
  BOOST_TEST(r.allows(100 * kMs, &wait));
  r.consumed(64 * 1024 + 5000);
  BOOST_TEST(!r.allows(50 * kMs, &wait));
}

BOOST_AUTO_TEST_SUITE_END()
