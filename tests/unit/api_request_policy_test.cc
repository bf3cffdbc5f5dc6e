// Tests of the browser rules of `qpipe api` (src/api/request_policy.h) and
// of the address literals they rest on (src/api/ip_literal.h).
#include <boost/test/unit_test.hpp>

#include "api/ip_literal.h"
#include "api/request_policy.h"

namespace qpipe::api {

BOOST_AUTO_TEST_SUITE(api_request_policy)

BOOST_AUTO_TEST_CASE(hosts_on_a_loopback_service) {
  HostRules rules{"127.0.0.1", 8000, {}};
  for (const char* h : {"localhost:8000", "LOCALHOST:8000", "localhost.:8000", "127.0.0.1:8000",
                        "127.0.0.2:8000", "[::1]:8000", "[::ffff:127.0.0.1]:8000"})
    BOOST_TEST(host_allowed(h, rules), h);
  for (const char* h : {"evil.example:8000", "localhost:8001", "localhost", "127.0.0.1",
                        "10.0.0.1:8000", "::1:8000", "[::1]:80000", "[::1:8000", ":8000", "",
                        "localhost:", "localhost:8000x", "sub.localhost:8000"})
    BOOST_TEST(!host_allowed(h, rules), h);
}

BOOST_AUTO_TEST_CASE(hosts_on_port_80_and_allowed_names) {
  HostRules rules{"127.0.0.1", 80, {"qpipe.lan"}};
  BOOST_TEST(host_allowed("localhost", rules));
  BOOST_TEST(host_allowed("localhost:80", rules));
  BOOST_TEST(host_allowed("qpipe.lan", rules));
  BOOST_TEST(host_allowed("QPIPE.lan:8443", rules)); // a proxy's port
  BOOST_TEST(!host_allowed("qpipe.lan.evil.example", rules));
}

BOOST_AUTO_TEST_CASE(hosts_on_other_addresses) {
  HostRules one{"192.168.1.5", 8000, {}};
  BOOST_TEST(host_allowed("192.168.1.5:8000", one));
  BOOST_TEST(host_allowed("localhost:8000", one));
  BOOST_TEST(!host_allowed("192.168.1.6:8000", one));
  BOOST_TEST(!host_allowed("myhost:8000", one));
  // Listening on every address: any address literal (it cannot be rebound).
  HostRules any{"0.0.0.0", 8000, {}};
  BOOST_TEST(host_allowed("192.168.1.6:8000", any));
  BOOST_TEST(host_allowed("[fe80::1]:8000", any));
  BOOST_TEST(!host_allowed("myhost:8000", any));
  HostRules any6{"::", 8000, {}};
  BOOST_TEST(host_allowed("10.1.2.3:8000", any6));
}

BOOST_AUTO_TEST_CASE(origins) {
  BOOST_TEST(origin_allowed("http://localhost:8000", "localhost:8000"));
  BOOST_TEST(origin_allowed("HTTP://LOCALHOST:8000", "localhost:8000"));
  BOOST_TEST(origin_allowed("https://qpipe.lan", "qpipe.lan"));
  BOOST_TEST(!origin_allowed("http://localhost:3000", "localhost:8000"));
  BOOST_TEST(!origin_allowed("http://127.0.0.1:8000", "localhost:8000"));
  BOOST_TEST(!origin_allowed("null", "localhost:8000"));
  BOOST_TEST(!origin_allowed("http://evil.example", "localhost:8000"));
  BOOST_TEST(!origin_allowed("", "localhost:8000"));
}

BOOST_AUTO_TEST_CASE(json_media_types) {
  for (const char* t : {"application/json", "Application/JSON", "application/json; charset=utf-8",
                        " application/json ;charset=UTF-8"})
    BOOST_TEST(is_json_media_type(t), t);
  for (const char* t : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                        "application/jsonp", "application/json-seq", ""})
    BOOST_TEST(!is_json_media_type(t), t);
}

BOOST_AUTO_TEST_CASE(bodies_must_be_declared_json) {
  Request r;
  r.method = "GET";
  BOOST_TEST(!refuse_non_json_body(r));
  r.method = "DELETE";
  BOOST_TEST(!refuse_non_json_body(r));
  r.method = "POST";
  BOOST_TEST(refuse_non_json_body(r)->status == 415); // a POST says what it carries
  r.headers.add("Content-Type", "text/plain;charset=UTF-8");
  r.body = "{}";
  BOOST_TEST(refuse_non_json_body(r)->status == 415);
  r.headers.set("Content-Type", "application/json");
  BOOST_TEST(!refuse_non_json_body(r));
  r.method = "DELETE"; // any method with a body
  r.headers.set("Content-Type", "text/plain");
  BOOST_TEST(refuse_non_json_body(r)->status == 415);
}

BOOST_AUTO_TEST_CASE(address_literals) {
  BOOST_TEST((parse_ip_literal("127.0.0.1") == parse_ip_literal("::ffff:127.0.0.1")));
  BOOST_TEST((parse_ip_literal("[::1]") == parse_ip_literal("::1")));
  BOOST_TEST(!parse_ip_literal("localhost"));
  BOOST_TEST(!parse_ip_literal("1.2.3"));
  BOOST_TEST(is_wildcard_address("0.0.0.0"));
  BOOST_TEST(is_wildcard_address("::"));
  BOOST_TEST(is_wildcard_address("[::]"));
  BOOST_TEST(!is_wildcard_address("127.0.0.1"));
  BOOST_TEST(!is_wildcard_address(""));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
