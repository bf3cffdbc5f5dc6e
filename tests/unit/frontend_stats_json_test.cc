// Tests of a transfer's statistics as JSON (src/frontend/stats_json.h) and
// of the CLI's --stats=json line built on it (src/cli/report.h): the
// members, their order, the rounding of fractions and the escaping of text.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cli/report.h"
#include "frontend/stats_json.h"

namespace qpipe::frontend {
namespace {

app::TransferStats sample() {
  app::TransferStats s;
  s.bytes = 5242880;
  s.wire_bytes = 5400000;
  s.seconds = 0.1234564;
  s.rtt_ms = 1.23456;
  s.lost_packets = 3;
  s.chunks = 5;
  s.payload_wire_bytes = 5242000;
  s.udp_payload = 1452;
  s.path_changes = 2;
  s.gso = true;
  s.peer = "127.0.0.1:4433";
  s.fingerprint = "SHA256:x"; // not part of the stats object
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(frontend_stats_json)

BOOST_AUTO_TEST_CASE(members_in_order_rounded) {
  BOOST_TEST(to_json(sample()).dump() ==
             "{\"bytes\":5242880,\"wire_bytes\":5400000,\"seconds\":0.123456,"
             "\"rate\":42467462,\"ratio\":0.9709,\"rtt_ms\":1.235,\"lost_packets\":3,"
             "\"chunks\":5,\"payload_wire_bytes\":5242000,\"udp_payload\":1452,\"path_changes\":2,"
             "\"gso\":true,"
             "\"gro\":false,\"peer\":\"127.0.0.1:4433\"}");
}

BOOST_AUTO_TEST_CASE(nothing_measured_is_zero_not_a_division_by_zero) {
  auto j = to_json(app::TransferStats{});
  // No RTT sample and no report from the peer: those members are absent,
  // not a default that looks like a measurement (ngtcp2's initial 333 ms).
  BOOST_TEST(!j.contains("rtt_ms"));
  BOOST_TEST(!j.contains("lost_packets"));
  BOOST_TEST(j["rate"].get<uint64_t>() == 0u);
  BOOST_TEST(j["ratio"].get<double>() == 0.0);
  BOOST_TEST(j["peer"].get<std::string>() == "");
}

BOOST_AUTO_TEST_CASE(zstd_levels_by_level_only_when_compressed) {
  auto s = sample();
  BOOST_TEST(!to_json(s).contains("zstd_levels"));
  s.zstd_levels = {{-1, 2}, {3, 10}, {7, 40}};
  BOOST_TEST(to_json(s)["zstd_levels"].dump() == "{\"-1\":2,\"3\":10,\"7\":40}");
  // The text line: the range and the level used most.
  BOOST_TEST(cli::stats_text(s).find("(compressed 1.00x, zstd levels -1 to 7, mostly 7)") !=
             std::string::npos);
  s.zstd_levels = {{5, 3}};
  BOOST_TEST(cli::stats_text(s).find("(compressed 1.00x, zstd level 5)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cli_line_leads_with_ok_and_ends_with_the_error) {
  std::string ok = cli::stats_json(sample(), Status{});
  BOOST_TEST(ok.rfind("{\"ok\":true,\"bytes\":5242880,", 0) == 0);
  BOOST_TEST(ok.find("\"error\"") == std::string::npos);
  BOOST_TEST(ok.back() == '}');

  app::TransferStats s;
  s.peer = "h:1";
  std::string failed =
      cli::stats_json(s, make_error(Errc::transfer, "a \"b\"\\c", std::string("tab\there\x01")));
  BOOST_TEST(failed.rfind("{\"ok\":false,\"bytes\":0,", 0) == 0);
  BOOST_TEST(failed.find(",\"peer\":\"h:1\",\"error\":\"a \\\"b\\\"\\\\c: tab\\there\\u0001\"}") !=
             std::string::npos);
  // Whatever the text, the line parses back.
  std::string bad_utf8 = cli::stats_json(s, make_error(Errc::transfer, "file \xff", "gone"));
  BOOST_TEST(nlohmann::json::parse(bad_utf8)["ok"] == false);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
