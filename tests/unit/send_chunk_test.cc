// Tests of the sender's chunks in flight (src/app/send_chunk.h): how many
// streams it announces, how many chunks its congestion window keeps in
// flight, and the memory that lets it read that far ahead.
#include <boost/test/unit_test.hpp>

#include "app/send_chunk.h"

using namespace qpipe::app;

namespace {
constexpr uint32_t MiB = 1 << 20;
} // namespace

BOOST_AUTO_TEST_SUITE(send_chunk)

BOOST_AUTO_TEST_CASE(a_sender_announces_the_streams_of_40_mib_in_flight) {
  BOOST_TEST(streams_announced(MiB, 8) == 40);       // 40 chunks of 1 MiB
  BOOST_TEST(streams_announced(4 * MiB, 8) == 10);   // 10 of 4 MiB
  BOOST_TEST(streams_announced(16 * MiB, 2) == 3);   // 3 of 16 MiB
  BOOST_TEST(streams_announced(16 * MiB, 8) == 8);   // never fewer than --streams
  BOOST_TEST(streams_announced(64 * 1024, 8) == 40); // at most 40 streams
  BOOST_TEST(streams_announced(MiB, 100) == 100);
}

BOOST_AUTO_TEST_CASE(the_congestion_window_sets_the_chunks_in_flight) {
  // A short path: --streams is enough.
  BOOST_TEST(chunks_in_flight(1'400'000, MiB, 8, 40) == 8);
  // 1 Gbit/s × 200 ms: BBR's window of twice 25 MB wants all 40.
  BOOST_TEST(chunks_in_flight(50'000'000, MiB, 8, 40) == 40);
  // In between: one and a half windows, and one more.
  BOOST_TEST(chunks_in_flight(16 * MiB, MiB, 8, 40) == 25);
  // --streams is the floor, the announcement the ceiling.
  BOOST_TEST(chunks_in_flight(0, MiB, 8, 40) == 8);
  BOOST_TEST(chunks_in_flight(50'000'000, MiB, 8, 100) == 73);
}

BOOST_AUTO_TEST_CASE(memory_follows_the_chunks_in_flight_within_64_mib) {
  ChunkMemory m(MiB, 8, false);
  BOOST_TEST(m.max_held() == 9ull * MiB);
  m.set_in_flight(30);
  BOOST_TEST(m.max_held() == 31ull * MiB);
  m.set_in_flight(40);
  BOOST_TEST(m.max_held() == 41ull * MiB);
  m.set_in_flight(4); // never below the first
  BOOST_TEST(m.max_held() == 9ull * MiB);
  ChunkMemory z(MiB, 8, true); // a frame beside each chunk
  z.set_in_flight(40);
  BOOST_TEST(z.max_held() == 64ull * MiB);
}

BOOST_AUTO_TEST_SUITE_END()
