// Tests of the pure parts of the API's HTTP layer: route matching and query
// strings (src/api/router.h), token checks and cookies
// (src/api/bearer_auth.h) and the serialization of responses
// (src/api/http_message.h).
#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "api/bearer_auth.h"
#include "api/http_message.h"
#include "api/router.h"

namespace qpipe::api {
namespace {

Handler named(std::string name) {
  return [name](const Request&) { return json_ok(200, {{"route", name}}); };
}

std::string route_of(const RouteMatch& m) {
  if (!m.handler) return "";
  Request req;
  return nlohmann::json::parse((*m.handler)(req).body)["route"].get<std::string>();
}

Router sample_router() {
  Router r;
  r.add("GET", "/v1/health", named("health"));
  r.add("GET", "/v1/transfers", named("list"));
  r.add("GET", "/v1/transfers/{id}", named("get"));
  r.add("DELETE", "/v1/transfers/{id}", named("delete"));
  r.add("POST", "/v1/sends", named("send"));
  r.add("GET", "/", named("root"));
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_router)

BOOST_AUTO_TEST_CASE(literal_and_param_routes_match) {
  Router r = sample_router();
  BOOST_TEST(route_of(r.match("GET", "/v1/health")) == "health");
  BOOST_TEST(route_of(r.match("GET", "/v1/transfers")) == "list");
  BOOST_TEST(route_of(r.match("GET", "/")) == "root");
  auto m = r.match("GET", "/v1/transfers/t-42");
  BOOST_TEST(route_of(m) == "get");
  BOOST_TEST(m.params.at("id") == "t-42");
  BOOST_TEST(route_of(r.match("DELETE", "/v1/transfers/7")) == "delete");
}

BOOST_AUTO_TEST_CASE(params_are_percent_decoded) {
  Router r = sample_router();
  auto m = r.match("GET", "/v1/transfers/a%2Fb%20c%zz%4");
  BOOST_TEST(m.params.at("id") == "a/b c%zz%4");
}

BOOST_AUTO_TEST_CASE(no_match_is_404_and_wrong_method_lists_allowed) {
  Router r = sample_router();
  for (const char* path :
       {"/v1/healthz", "/v1/transfers/", "/v1/transfers/1/x", "", "*", "/v1//x"}) {
    auto m = r.match("GET", path);
    BOOST_TEST(!m.handler, path);
    BOOST_TEST(m.allowed.empty(), path);
  }
  auto m = r.match("POST", "/v1/transfers/1");
  BOOST_TEST(!m.handler);
  BOOST_TEST((m.allowed == std::vector<std::string>{"GET", "HEAD", "DELETE"}));
  BOOST_TEST(m.params.empty());
  auto s = r.match("GET", "/v1/sends");
  BOOST_TEST((s.allowed == std::vector<std::string>{"POST"}));
}

BOOST_AUTO_TEST_CASE(head_falls_back_to_get) {
  Router r = sample_router();
  BOOST_TEST(route_of(r.match("HEAD", "/v1/health")) == "health");
  r.add("HEAD", "/v1/health", named("head"));
  BOOST_TEST(route_of(r.match("HEAD", "/v1/health")) == "head");
}

BOOST_AUTO_TEST_CASE(first_route_added_wins) {
  Router r;
  r.add("GET", "/v1/transfers/latest", named("latest"));
  r.add("GET", "/v1/transfers/{id}", named("get"));
  BOOST_TEST(route_of(r.match("GET", "/v1/transfers/latest")) == "latest");
  BOOST_TEST(route_of(r.match("GET", "/v1/transfers/3")) == "get");
}

BOOST_AUTO_TEST_CASE(malformed_patterns_are_refused) {
  Router r;
  BOOST_CHECK_THROW(r.add("GET", "v1/x", named("x")), std::invalid_argument);
  BOOST_CHECK_THROW(r.add("GET", "/v1/{}", named("x")), std::invalid_argument);
  BOOST_CHECK_THROW(r.add("GET", "/v1/{id", named("x")), std::invalid_argument);
  BOOST_CHECK_THROW(r.add("GET", "/v1/x{id}", named("x")), std::invalid_argument);
  BOOST_TEST(r.empty());
}

BOOST_AUTO_TEST_CASE(bearer_tokens) {
  BOOST_TEST(bearer_token_matches("Bearer abc", "abc"));
  BOOST_TEST(bearer_token_matches("bearer   abc  ", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer abd", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer ab", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer abcd", "abc"));
  BOOST_TEST(!bearer_token_matches("Basic abc", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearerabc", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer ", ""));
  BOOST_TEST(!bearer_token_matches(std::nullopt, "abc"));
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(!constant_time_equal("a", ""));
  BOOST_TEST(!constant_time_equal("", "a"));
}

BOOST_AUTO_TEST_CASE(cookies) {
  BOOST_TEST(cookie_value("a=1; qpipe_token_8000=xyz; b=2", "qpipe_token_8000").value_or("") ==
             "xyz");
  BOOST_TEST(cookie_value("qpipe_token_8000=\"xyz\"", "qpipe_token_8000").value_or("") == "xyz");
  BOOST_TEST(!cookie_value("qpipe_token_80=xyz", "qpipe_token_8000"));
  BOOST_TEST(!cookie_value("xqpipe_token_8000=xyz", "qpipe_token_8000"));
  BOOST_TEST(!cookie_value("", "a"));
}

BOOST_AUTO_TEST_CASE(query_values_and_percent_encoding) {
  BOOST_TEST(query_value("token=a%2Bb&x=1", "token").value_or("") == "a+b");
  BOOST_TEST(query_value("x=1&token=a+b", "token").value_or("") == "a b");
  BOOST_TEST(query_value("token", "token").value_or("?") == "");
  BOOST_TEST(!query_value("tokens=1", "token"));
  BOOST_TEST(!query_value("", "token"));
  BOOST_TEST(percent_encode("aZ09-._~ +/;") == "aZ09-._~%20%2B%2F%3B");
  BOOST_TEST(percent_decode(percent_encode("\x01\xff=;")) == "\x01\xff=;");
}

BOOST_AUTO_TEST_CASE(error_bodies_have_the_spec_shape) {
  Response r = json_error(409, "conflict", "transfer 3 is \"done\"\n");
  BOOST_TEST(r.status == 409);
  BOOST_TEST(r.body == R"({"error":{"code":"conflict","message":"transfer 3 is \"done\"\n"}})");
  // Invalid UTF-8 is replaced, not thrown.
  Response bad = json_error(404, "not_found", std::string("no such path: /\xff"));
  BOOST_TEST(bad.body.find("no such path") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(responses_serialize_with_length_and_default_type) {
  Response r = json_ok(201, {{"id", 1}});
  r.headers.set("Location", "/v1/transfers/1");
  r.headers.set("Content-Length", "999"); // ignored: the server sets it
  BOOST_TEST(serialize(r, "", false) == "HTTP/1.1 201 Created\r\nLocation: /v1/transfers/1\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Content-Length: 8\r\n\r\n{\"id\":1}");
  BOOST_TEST(serialize(r, "close", true) == "HTTP/1.1 201 Created\r\nLocation: /v1/transfers/1\r\n"
                                            "Content-Type: application/json\r\n"
                                            "Content-Length: 8\r\nConnection: close\r\n\r\n");
  Response text = text_response(200, "text/plain", "hi");
  BOOST_TEST(serialize(text, "", false) ==
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
  Response none;
  none.status = 204;
  none.body = "dropped";
  BOOST_TEST(serialize(none, "", false) == "HTTP/1.1 204 No Content\r\n\r\n");
  Response injected;
  injected.headers.set("X-Evil", "a\r\nSet-Cookie: b");
  BOOST_TEST(serialize(injected, "", false).find("\r\nSet-Cookie") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(headers_are_case_insensitive) {
  Headers h;
  h.add("Content-Type", "a");
  h.add("X-Multi", "1");
  h.add("x-multi", "2");
  BOOST_TEST(h.get("content-type").value_or("") == "a");
  BOOST_TEST(h.get("X-MULTI").value_or("") == "1");
  BOOST_TEST(!h.get("missing"));
  h.set("X-MULTI", "3");
  BOOST_TEST(h.size() == 2u);
  BOOST_TEST(h.get("x-multi").value_or("") == "3");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
