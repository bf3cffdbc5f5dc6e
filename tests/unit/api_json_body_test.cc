// Tests of the JSON body helpers of the API's handlers (src/api/json_body.h).
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "api/json_body.h"

namespace qpipe::api {
namespace {

std::string message_of(const Response& r) {
  return nlohmann::json::parse(r.body)["error"]["message"].get<std::string>();
}
std::string code_of(const Response& r) {
  return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_json_body)

BOOST_AUTO_TEST_CASE(parse_accepts_objects_only) {
  auto ok = parse_json_object(R"( {"a": 1} )");
  BOOST_REQUIRE(ok);
  BOOST_TEST((*ok)["a"] == 1);

  auto bad = parse_json_object("{\"a\": ");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().status == 400);
  BOOST_TEST(code_of(bad.error()) == "bad_request");
  BOOST_TEST(message_of(bad.error()).rfind("the request body is not valid JSON: parse error", 0) ==
             0);

  auto empty = parse_json_object(" \r\n");
  BOOST_REQUIRE(!empty);
  BOOST_TEST(empty.error().status == 400);

  auto array = parse_json_object("[1, 2]");
  BOOST_REQUIRE(!array);
  BOOST_TEST(array.error().status == 422);
  BOOST_TEST(code_of(array.error()) == "unprocessable");
  BOOST_TEST(message_of(array.error()) == "the request body is an array; expected a JSON object");
}

BOOST_AUTO_TEST_CASE(fields_are_read_and_checked) {
  auto j = nlohmann::json::parse(
      R"({"peer":"h:4433","zstd":3,"pin":null,"dry":true,"source":{"path":"a/b"}})");
  JsonFields f(j);
  BOOST_TEST(f.required_string("peer") == "h:4433");
  BOOST_TEST(f.optional_int("zstd", 1, 19).value() == 3);
  BOOST_TEST(!f.optional_int("streams", 1, 64));
  BOOST_TEST(f.optional_bool("dry").value());
  const nlohmann::json* source = f.required_object("source");
  BOOST_REQUIRE(source);
  JsonFields s(*source, "source");
  BOOST_TEST(s.required_string("path") == "a/b");
  BOOST_TEST(s.ok());
  BOOST_TEST(f.ok());
  f.reject_unknown(); // "pin" was never asked for
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST(message_of(f.error()) == "field \"pin\": unknown field");
}

BOOST_AUTO_TEST_CASE(errors_name_the_field_and_the_first_one_wins) {
  auto j = nlohmann::json::parse(R"({"peer": ["x"], "streams": 1.5, "gen": {"size": 1}})");
  JsonFields f(j);
  f.required_string("peer");
  f.optional_int("streams", 1, 64);
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST(f.error().status == 422);
  BOOST_TEST(code_of(f.error()) == "unprocessable");
  BOOST_TEST(message_of(f.error()) == "field \"peer\": expected a string, got an array");

  JsonFields g(j);
  g.optional_int("streams", 1, 64);
  BOOST_TEST(message_of(g.error()) ==
             "field \"streams\": expected an integer from 1 to 64, got 1.5");

  JsonFields h(j);
  h.required_string("listen");
  BOOST_TEST(message_of(h.error()) == "field \"listen\": is required (a string)");

  JsonFields gen(j["gen"], "source.gen");
  gen.required_string("size");
  BOOST_TEST(message_of(gen.error()) ==
             "field \"source.gen.size\": expected a string, got an integer");

  JsonFields custom(j);
  custom.fail("zstd", "expected a level from 1 to 19");
  BOOST_TEST(message_of(custom.error()) == "field \"zstd\": expected a level from 1 to 19");
}

BOOST_AUTO_TEST_CASE(integers_out_of_range) {
  auto j = nlohmann::json::parse(R"({"big": 18446744073709551615, "neg": -5, "ok": 64})");
  JsonFields f(j);
  BOOST_TEST(f.required_int("ok", 1, 64) == 64);
  BOOST_TEST(f.ok());
  f.required_int("big", 0, INT64_MAX);
  BOOST_TEST(!f.ok());
  JsonFields g(j);
  BOOST_TEST(!g.optional_int("neg", 0, 10));
  BOOST_TEST(message_of(g.error()) == "field \"neg\": expected an integer from 0 to 10, got -5");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
