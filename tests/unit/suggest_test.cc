// Tests of "did you mean ...?" (src/core/suggest.h): the edit distance and
// which candidate, if any, is near enough to suggest.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "core/suggest.h"

namespace qpipe {

BOOST_AUTO_TEST_SUITE(suggest)

BOOST_AUTO_TEST_CASE(edit_distance_counts_edits_and_swaps) {
  BOOST_TEST(edit_distance("", "") == 0u);
  BOOST_TEST(edit_distance("gen", "gen") == 0u);
  BOOST_TEST(edit_distance("gne", "gen") == 1u); // a swap of neighbours
  BOOST_TEST(edit_distance("stream", "streams") == 1u);
  BOOST_TEST(edit_distance("strems", "streams") == 1u);
  BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
  BOOST_TEST(edit_distance("", "abc") == 3u);
  BOOST_TEST(edit_distance("abc", "") == 3u);
  BOOST_TEST(edit_distance("ca", "abc") == 3u); // optimal string alignment, not Damerau
}

BOOST_AUTO_TEST_CASE(closest_suggests_only_what_is_near) {
  std::vector<std::string> opts{"streams", "max-streams", "stats", "stats-file", "zstd", "size"};
  BOOST_TEST(closest("stream", opts).value_or("") == "streams");
  BOOST_TEST(closest("strams", opts).value_or("") == "streams");
  BOOST_TEST(closest("stat", opts).value_or("") == "stats");
  BOOST_TEST(closest("zstf", opts).value_or("") == "zstd");
  BOOST_TEST(closest("stats-fil", opts).value_or("") == "stats-file");
  BOOST_TEST(!closest("no-such-option", opts));
  BOOST_TEST(!closest("xyz", opts));
  // A unique beginning, when nothing is within the edit limit.
  BOOST_TEST(closest("max-s", opts).value_or("") == "max-streams");
  // Two equally near: no guess.
  std::vector<std::string> twins{"gen", "get"};
  BOOST_TEST(!closest("geb", twins));
  std::vector<std::string> modes{"gen", "api", "help"};
  BOOST_TEST(closest("gne", modes).value_or("") == "gen");
  BOOST_TEST(closest("hlep", modes).value_or("") == "help");
  BOOST_TEST(!closest("host", modes));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe
