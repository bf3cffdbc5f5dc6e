// Keep-alive interval and the idle timeout in force (transport/connection_settings.h).
#include <boost/test/unit_test.hpp>

#include "transport/connection_settings.h"

using namespace qpipe::transport;

BOOST_AUTO_TEST_SUITE(connection_settings)

BOOST_AUTO_TEST_CASE(keep_alive_is_a_third_of_the_idle_timeout_at_most_15_s) {
  BOOST_TEST(keep_alive_ms(3'000) == 1'000u);
  BOOST_TEST(keep_alive_ms(30'000) == 10'000u); // the default: inside a 30 s NAT mapping
  BOOST_TEST(keep_alive_ms(45'000) == 15'000u);
  BOOST_TEST(keep_alive_ms(600'000) == kMaxKeepAliveMs);
  BOOST_TEST(keep_alive_ms(1) == 1u); // never 0, which ngtcp2 reads as "off"
  for (uint64_t idle : {1'000u, 2'000u, 10'000u, 30'000u, 3'600'000u})
    BOOST_TEST(keep_alive_ms(idle) * 2 < idle); // two PINGs may be lost before the timeout
}

BOOST_AUTO_TEST_CASE(the_idle_timeout_in_force_is_the_smaller_one) {
  BOOST_TEST(effective_idle_timeout_ms(30'000, 3'000) == 3'000u);
  BOOST_TEST(effective_idle_timeout_ms(3'000, 30'000) == 3'000u);
  BOOST_TEST(effective_idle_timeout_ms(0, 5'000) == 5'000u); // 0: that side has none
  BOOST_TEST(effective_idle_timeout_ms(5'000, 0) == 5'000u);
  BOOST_TEST(effective_idle_timeout_ms(0, 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
