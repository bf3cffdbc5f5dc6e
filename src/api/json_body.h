// Reading JSON request bodies in handlers.
//
// parse_json_object() turns a body into a JSON object or the response to
// send instead: 400 bad_request when the body is not JSON, 422 unprocessable
// when it is JSON but not an object. JsonFields then reads the members: a
// missing required member, a wrong type or a value out of range records a
// 422 that names the field, e.g. `field "peer": expected a string, got a
// number`. Only the first error is kept; after it the getters return empty
// values, so a handler reads every field and checks ok() once:
//
//   auto body = parse_json_object(req.body);
//   if (!body) return body.error();
//   JsonFields f(*body);
//   std::string peer = f.required_string("peer");
//   auto streams = f.optional_int("streams", 1, 64);
//   f.reject_unknown();
//   if (!f.ok()) return f.error();
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_message.h"

namespace qpipe::api {

// A value, or the error response to answer with instead.
template <typename T> class [[nodiscard]] Checked {
public:
  Checked(T value) : v_(std::move(value)) {}
  Checked(Response error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& operator*() const {
    assert(ok());
    return std::get<0>(v_);
  }
  T* operator->() { return &**this; }
  const T* operator->() const { return &**this; }
  const Response& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

private:
  std::variant<T, Response> v_;
};

Checked<nlohmann::json> parse_json_object(std::string_view body);

class JsonFields {
public:
  // Reads members of `object`, which must outlive this reader. `path` names
  // the object in messages: with "source", a field is `source.path`.
  explicit JsonFields(const nlohmann::json& object, std::string path = "");

  std::string required_string(std::string_view name);
  std::optional<std::string> optional_string(std::string_view name);
  // Integers in [min, max]; a number with a fraction is not an integer.
  int64_t required_int(std::string_view name, int64_t min, int64_t max);
  std::optional<int64_t> optional_int(std::string_view name, int64_t min, int64_t max);
  // Any integer, for a range that the handler checks itself (an option that
  // the CLI takes too, checked by src/frontend/option_ranges.h).
  std::optional<int64_t> optional_int(std::string_view name);
  std::optional<bool> optional_bool(std::string_view name);
  // A member that is an object, to read with a nested JsonFields; null when
  // absent (optional) or after an error.
  const nlohmann::json* required_object(std::string_view name);
  const nlohmann::json* optional_object(std::string_view name);

  // Records an error for the first member that no getter has asked for.
  void reject_unknown();
  // Records an error about a field that the handler checked itself, e.g.
  // fail("zstd", "expected a level from 1 to 19").
  void fail(std::string_view name, std::string_view what);

  bool ok() const { return !error_; }
  // The 422 response; only when !ok().
  const Response& error() const {
    assert(error_);
    return *error_;
  }

private:
  // The member when it exists with the expected type; records an error
  // otherwise (a missing one only when `required`).
  const nlohmann::json* find(std::string_view name, bool required, const char* expected,
                             bool (*type_ok)(const nlohmann::json&));
  std::optional<int64_t> read_int(std::string_view name, bool required, int64_t min, int64_t max);
  std::string field_name(std::string_view name) const;

  const nlohmann::json& object_;
  std::string path_;
  std::vector<std::string> asked_;
  std::optional<Response> error_;
};

// The 422 response about one field: `field "NAME": WHY`.
Response field_error(std::string_view name, std::string_view why);

// "a string", "a number", "null"...: what a JSON value is, for messages.
std::string json_type_phrase(const nlohmann::json& value);

} // namespace qpipe::api
