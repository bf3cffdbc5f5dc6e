// Tests of the option ranges that the CLI and `qpipe api` share
// (src/frontend/option_ranges.h): the bounds, the values in the engine's
// units, and one wording, the same from the command line.
#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "app/options.h"
#include "cli/parse.h"
#include "frontend/option_ranges.h"

namespace qpipe::frontend {
namespace {

// The message of a command line that is refused.
std::string cli_refusal(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"qpipe"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  auto r = cli::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
  BOOST_REQUIRE(!r.ok());
  return r.error().message();
}

} // namespace

BOOST_AUTO_TEST_SUITE(frontend_option_ranges)

BOOST_AUTO_TEST_CASE(streams) {
  BOOST_TEST(*check_streams(1, "streams") == 1);
  BOOST_TEST(*check_streams(app::kMaxStreams, "streams") == app::kMaxStreams);
  auto r = check_streams(0, "streams");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == 2);
  BOOST_TEST(r.error().what == "streams");
  BOOST_TEST(r.error().why == "0 is out of range (1 to 256)");
  BOOST_TEST(!check_streams(app::kMaxStreams + 1, "streams").ok());
  BOOST_TEST(!check_streams(-1, "streams").ok());
}

BOOST_AUTO_TEST_CASE(chunk_size) {
  BOOST_TEST(*parse_chunk_size("64K", "chunk_size") == app::kMinChunkSize);
  BOOST_TEST(*parse_chunk_size("16M", "chunk_size") == app::kMaxChunkSize);
  BOOST_TEST(*parse_chunk_size("1M", "chunk_size") == 1024u * 1024u);
  for (const char* bad : {"65535", "16777217", "0", "17M"}) {
    auto r = parse_chunk_size(bad, "chunk_size");
    BOOST_TEST_INFO(bad);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().why == "must be between 64K and 16M");
  }
  auto junk = parse_chunk_size("1X", "chunk_size");
  BOOST_REQUIRE(!junk.ok());
  BOOST_TEST(junk.error().what == "chunk_size");
}

BOOST_AUTO_TEST_CASE(zstd_level) {
  BOOST_TEST(*check_zstd_level(3, "zstd") == 3);
  BOOST_TEST(*check_zstd_level(-5, "zstd") == -5);
  BOOST_TEST(*check_zstd_level(0, "zstd") == 0);
  BOOST_TEST(*check_zstd_level(19, "zstd") == 19);
  auto r = check_zstd_level(99, "zstd");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().why.rfind("99 is out of range (", 0) == 0);
  BOOST_TEST(!check_zstd_level(-10000000, "zstd").ok());
}

BOOST_AUTO_TEST_CASE(idle_timeout_in_milliseconds) {
  BOOST_TEST(*check_idle_timeout(1, "--idle-timeout") == 1000u);
  BOOST_TEST(*check_idle_timeout(24 * 3600, "--idle-timeout") == 24u * 3600 * 1000);
  BOOST_TEST(!check_idle_timeout(0, "--idle-timeout").ok());
  BOOST_TEST(!check_idle_timeout(24 * 3600 + 1, "--idle-timeout").ok());
}

BOOST_AUTO_TEST_CASE(max_connections) {
  BOOST_TEST(*check_max_connections(1, "--max-connections") == 1);
  BOOST_TEST(*check_max_connections(10000, "--max-connections") == 10000);
  BOOST_TEST(!check_max_connections(0, "--max-connections").ok());
  BOOST_TEST(!check_max_connections(10001, "--max-connections").ok());
}

BOOST_AUTO_TEST_CASE(the_command_line_says_the_same) {
  BOOST_TEST(cli_refusal({"--streams", "0", "h"}) ==
             "--streams: " + check_streams(0, "").error().why);
  BOOST_TEST(cli_refusal({"-l", "--max-streams", "257"}) ==
             "--max-streams: " + check_streams(257, "").error().why);
  BOOST_TEST(cli_refusal({"--chunk-size", "1K", "h"}) ==
             "--chunk-size: " + parse_chunk_size("1K", "").error().why);
  BOOST_TEST(cli_refusal({"-z99", "h"}) == "-z: " + check_zstd_level(99, "").error().why);
  BOOST_TEST(cli_refusal({"--idle-timeout", "0", "h"}) ==
             "--idle-timeout: " + check_idle_timeout(0, "").error().why);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
