// Tests of the api's transfer records (src/api/transfer_record.h): state,
// size and percent, the files a listener received, a refused identity.
#include <boost/test/unit_test.hpp>

#include "api/transfer_record.h"

namespace qpipe::api {

using nlohmann::json;

BOOST_AUTO_TEST_SUITE(api_transfer_record)

BOOST_AUTO_TEST_CASE(size_and_percent) {
  TransferRecord r;
  r.number = 7;
  r.role = "send";
  json j = to_json(r);
  BOOST_TEST(j["id"] == "t7");
  BOOST_TEST(j["state"] == "pending");
  BOOST_TEST(j["size"].is_null());
  BOOST_TEST(j["percent"].is_null());
  app::TransferStats s;
  s.bytes = 1000;
  s.size = 3000;
  s.peer = "h:1";
  r.refresh(s);
  j = to_json(r);
  BOOST_TEST(j["state"] == "running");
  BOOST_TEST(j["size"] == 3000);
  BOOST_TEST(j["percent"].get<double>() == 33.3);
  s.bytes = 3000;
  r.end({}, s, "2026-01-01T00:00:00.000Z");
  j = to_json(r);
  BOOST_TEST(j["state"] == "done");
  BOOST_TEST(j["percent"].get<double>() == 100.0);
  BOOST_TEST(j["finished"] == "2026-01-01T00:00:00.000Z");
  BOOST_TEST(j["error"].is_null());
}

BOOST_AUTO_TEST_CASE(a_listener_keeps_its_address_and_lists_files) {
  TransferRecord r;
  r.role = "listen";
  app::TransferStats s;
  s.local = "127.0.0.1:4433";
  r.refresh(s);
  r.refresh(app::TransferStats{}); // a receiver's stats carry no address
  using S = app::FileEvent::State;
  r.on_file({S::receiving, "a.bin", 10, 0, "1.2.3.4:5"});
  r.on_file({S::receiving, "b.bin", std::nullopt, 0, "1.2.3.4:5"});
  r.on_file({S::done, "a.bin", 10, 10, "1.2.3.4:5"});
  r.on_file({S::failed, "b.bin", std::nullopt, 4, "1.2.3.4:5"});
  json j = to_json(r);
  BOOST_TEST(j["listen"] == "127.0.0.1:4433");
  BOOST_REQUIRE(j["files"].size() == 2u);
  BOOST_TEST(j["files"][0]["name"] == "a.bin");
  BOOST_TEST(j["files"][0]["state"] == "done");
  BOOST_TEST(j["files"][0]["size"] == 10);
  BOOST_TEST(j["files"][0]["bytes"] == 10);
  BOOST_TEST(j["files"][1]["state"] == "failed");
  BOOST_TEST(j["files"][1]["size"].is_null());
  BOOST_TEST(j["files_received"] == 1);
  BOOST_TEST(j["files_failed"] == 1);
}

BOOST_AUTO_TEST_CASE(the_file_list_is_bounded) {
  TransferRecord r;
  r.role = "listen";
  using S = app::FileEvent::State;
  for (int i = 0; i < 250; ++i) {
    std::string name = "f" + std::to_string(i);
    r.on_file({S::receiving, name, 1, 0, "p"});
    r.on_file({S::done, name, 1, 1, "p"});
  }
  json j = to_json(r);
  BOOST_TEST(j["files"].size() == TransferRecord::kMaxFilesListed);
  BOOST_TEST(j["files"].back()["name"] == "f249");
  BOOST_TEST(j["files_received"] == 250);
}

BOOST_AUTO_TEST_CASE(a_refused_identity_names_both_fingerprints_and_the_fix) {
  TransferRecord r;
  r.role = "send";
  app::TransferStats s;
  s.identity_refused = tls::IdentityRefusal{"SHA256:new",
                                            "SHA256:old",
                                            "h:4433",
                                            "/kh",
                                            3,
                                            "If the change is expected, run qpipe --forget h:4433 "
                                            "(or remove line 3 of /kh), or run with --pin "
                                            "SHA256:new"};
  r.end(make_error(Errc::refused, "h:4433", "identity refused; nothing was sent"), s, "t");
  json j = to_json(r);
  BOOST_TEST(j["state"] == "failed");
  BOOST_TEST(j["identity"]["presented"] == "SHA256:new");
  BOOST_TEST(j["identity"]["expected"] == "SHA256:old");
  BOOST_TEST(j["identity"]["known_hosts"] == "/kh");
  BOOST_TEST(j["identity"]["line"] == 3);
  std::string fix = j["identity"]["fix"];
  BOOST_TEST(fix == "If the change is expected, run qpipe --forget h:4433 (or remove line 3 of "
                    "/kh), or send with \"pin\": \"SHA256:new\"");
  std::string error = j["error"];
  BOOST_TEST(error.find("identity refused") != std::string::npos);
  BOOST_TEST(error.find("/kh line 3 has SHA256:old; the listener presented SHA256:new") !=
             std::string::npos);
  BOOST_TEST(error.find(fix) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cancelled_and_failed) {
  TransferRecord r;
  r.role = "send";
  r.state = TransferState::cancelled; // DELETE asked for it
  r.end(make_error(Errc::transfer, "peer", "closed"), {}, "t");
  BOOST_TEST(to_json(r)["state"] == "cancelled");
  TransferRecord f;
  f.role = "send";
  f.end(make_error(Errc::transfer, "peer", "closed"), {}, "t");
  BOOST_TEST(to_json(f)["state"] == "failed");
  BOOST_TEST(to_json(f)["error"] == "peer: closed");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
