// Tests of ChunkSeqs (src/app/chunk_seqs.h): a chunk is taken once, a
// written one never again, and what is remembered does not grow with the
// number of chunks.
#include <boost/test/unit_test.hpp>

#include "app/chunk_seqs.h"

using qpipe::app::ChunkSeqs;

BOOST_AUTO_TEST_SUITE(chunk_seqs)

BOOST_AUTO_TEST_CASE(a_chunk_is_taken_once) {
  ChunkSeqs s;
  BOOST_TEST(s.claim(0));
  BOOST_TEST(s.claim(2));
  BOOST_TEST(!s.claim(2));
  BOOST_TEST(s.claim(1));
  BOOST_TEST(!s.claim(0));
  s.written_below(1);
  BOOST_TEST(!s.claim(0)); // written: refused by the position alone
  BOOST_TEST(!s.claim(1));
  BOOST_TEST(s.remembered() == 2u);
}

BOOST_AUTO_TEST_CASE(memory_does_not_grow_with_the_stream) {
  ChunkSeqs s;
  // 8 streams in flight, out of order within each window of 8, over a
  // million chunks: at most 8 are remembered at any time.
  constexpr uint64_t kStreams = 8, kChunks = 1'000'000;
  size_t most = 0;
  for (uint64_t base = 0; base < kChunks; base += kStreams) {
    for (uint64_t i = kStreams; i-- > 0;)
      BOOST_REQUIRE(s.claim(base + i));
    most = std::max(most, s.remembered());
    for (uint64_t i = 0; i < kStreams; ++i)
      s.written_below(base + i + 1);
  }
  BOOST_TEST(most == kStreams);
  BOOST_TEST(s.remembered() == 0u);
  BOOST_TEST(!s.claim(kChunks - 1));
  BOOST_TEST(s.claim(kChunks));
}

BOOST_AUTO_TEST_SUITE_END()
