#include <boost/test/unit_test.hpp>

#include <cstring>
#include <numeric>
#include <unistd.h>
#include <vector>

#include "core/mirror_ring.h"

using qpipe::MirrorRing;

BOOST_AUTO_TEST_SUITE(mirror_ring)

BOOST_AUTO_TEST_CASE(its_size_is_whole_pages) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto r = MirrorRing::create(page + 1);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->size() == 2 * page);
  BOOST_TEST(r->head() == 0u);
}

BOOST_AUTO_TEST_CASE(the_last_bytes_are_contiguous_however_it_wrapped) {
  // Appends 7 KiB at a time into a 64 KiB ring, far past its end: the last
  // 64 KiB are always one span, equal to what was appended, and what was
  // written through one mapping reads back through the other.
  auto r = MirrorRing::create(64 * 1024);
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 64u * 1024);
  std::vector<uint8_t> stream(1 << 20);
  std::iota(stream.begin(), stream.end(), uint8_t{0});
  for (size_t i = 0; i < stream.size(); ++i)
    stream[i] = static_cast<uint8_t>(stream[i] ^ (i >> 8) ^ (i >> 16));
  const size_t piece = 7 * 1024;
  for (size_t at = 0; at + piece <= stream.size(); at += piece) {
    std::memcpy(r->at(r->head()), stream.data() + at, piece);
    r->advance(piece);
    uint64_t head = r->head();
    uint64_t from = head > r->size() ? head - r->size() : 0;
    auto v = r->view(from, head);
    BOOST_REQUIRE(v.size() == head - from);
    BOOST_REQUIRE(std::memcmp(v.data(), stream.data() + from, v.size()) == 0);
  }
  BOOST_TEST(r->at(5)[r->size()] == r->at(5)[0]); // the mirror
}

BOOST_AUTO_TEST_CASE(moving_keeps_the_mapping_and_the_head) {
  auto r = MirrorRing::create(4096);
  BOOST_REQUIRE(r.ok());
  r->at(0)[0] = 42;
  r->advance(1);
  MirrorRing moved = std::move(*r);
  BOOST_TEST(moved.head() == 1u);
  BOOST_TEST(moved.view(0, 1)[0] == 42);
  BOOST_TEST(r->size() == 0u); // the moved-from ring owns nothing
  MirrorRing other;
  other = std::move(moved);
  BOOST_TEST(other.view(0, 1)[0] == 42);
}

BOOST_AUTO_TEST_SUITE_END()
