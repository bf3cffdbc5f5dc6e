// Tests of the bounded records of `qpipe api` (src/api/record_table.h):
// the cap on finished records, their age, DELETE, and the order listed.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "api/record_table.h"

namespace qpipe::api {
namespace {

std::vector<std::string> ids(RecordTable& t) {
  std::vector<std::string> v;
  t.for_each([&](TransferRecord& r) { v.push_back(r.id()); });
  return v;
}

using Ids = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(api_record_table)

BOOST_AUTO_TEST_CASE(ids_are_listed_in_the_order_started) {
  RecordTable t({});
  for (int i = 0; i < 12; ++i)
    t.add(i % 2 ? "send" : "listen");
  auto v = ids(t);
  BOOST_REQUIRE_EQUAL(v.size(), 12u);
  BOOST_TEST(v[1] == "t2");
  BOOST_TEST(v[9] == "t10"); // numerically, not "t10" before "t2"
  BOOST_TEST(t.find("t10")->role == "send");
  BOOST_TEST(!t.find("t13"));
  BOOST_TEST(!t.find("x1"));
  BOOST_TEST(!t.find("t"));
  BOOST_TEST(!t.find("t1x"));
}

BOOST_AUTO_TEST_CASE(finished_records_beyond_the_cap_go_oldest_first) {
  RecordTable t({3, 1'000'000});
  for (int i = 0; i < 6; ++i)
    t.add("send");
  // Finished in the order 2, 5, 1, 4: the first one finished goes first.
  for (uint64_t n : {2, 5, 1, 4})
    t.finished(n, 0);
  BOOST_TEST((ids(t) == Ids{"t1", "t3", "t4", "t5", "t6"}));
  BOOST_TEST(t.finished_count() == 3u);
  // Live records are never dropped, however many.
  t.finished(3, 0);
  BOOST_TEST((ids(t) == Ids{"t1", "t3", "t4", "t6"}));
}

BOOST_AUTO_TEST_CASE(finished_records_expire_with_age) {
  RecordTable t({100, 1000});
  t.add("send");
  t.add("send");
  t.add("listen");
  t.finished(1, 5000);
  t.finished(2, 5500);
  t.expire(5999);
  BOOST_TEST((ids(t) == Ids{"t1", "t2", "t3"}));
  t.expire(6000);
  BOOST_TEST((ids(t) == Ids{"t2", "t3"}));
  t.expire(1'000'000);
  BOOST_TEST((ids(t) == Ids{"t3"})); // live: kept
}

BOOST_AUTO_TEST_CASE(a_cap_and_an_age_of_zero_keep_nothing_finished) {
  RecordTable t({0, 0});
  t.add("send");
  t.finished(1, 7);
  BOOST_TEST(t.size() == 0u);
}

BOOST_AUTO_TEST_CASE(remove_only_finished_records) {
  RecordTable t({});
  t.add("send");
  t.add("send");
  BOOST_TEST(!t.remove(1)); // live
  t.finished(1, 0);
  BOOST_TEST(t.remove(1));
  BOOST_TEST(!t.remove(1));
  BOOST_TEST((ids(t) == Ids{"t2"}));
  t.discard(2); // never started
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.add("send").id() == "t3"); // ids are not reused
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
