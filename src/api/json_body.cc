// JSON request bodies (see json_body.h).
#include "api/json_body.h"

#include <algorithm>
#include <limits>

namespace qpipe::api {
namespace {

bool is_string(const nlohmann::json& j) {
  return j.is_string();
}
bool is_boolean(const nlohmann::json& j) {
  return j.is_boolean();
}
bool is_object(const nlohmann::json& j) {
  return j.is_object();
}
bool is_number(const nlohmann::json& j) {
  return j.is_number();
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string strip_exception_id(std::string_view what) {
  if (!what.empty() && what.front() == '[')
    if (size_t end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
  return std::string(what);
}

} // namespace

std::string json_type_phrase(const nlohmann::json& value) {
  switch (value.type()) {
  case nlohmann::json::value_t::null:
    return "null";
  case nlohmann::json::value_t::object:
    return "an object";
  case nlohmann::json::value_t::array:
    return "an array";
  case nlohmann::json::value_t::string:
    return "a string";
  case nlohmann::json::value_t::boolean:
    return "a boolean";
  case nlohmann::json::value_t::number_integer:
  case nlohmann::json::value_t::number_unsigned:
    return "an integer";
  case nlohmann::json::value_t::number_float:
    return "a number";
  default:
    return "an unsupported value";
  }
}

Checked<nlohmann::json> parse_json_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return json_error(400, "bad_request", "the request body is empty; expected a JSON object");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return json_error(400, "bad_request",
                      "the request body is not valid JSON: " + strip_exception_id(e.what()));
  }
  if (!j.is_object())
    return json_error(422, "unprocessable",
                      "the request body is " + json_type_phrase(j) + "; expected a JSON object");
  return j;
}

JsonFields::JsonFields(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string JsonFields::field_name(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

Response field_error(std::string_view name, std::string_view why) {
  return json_error(422, "unprocessable",
                    "field \"" + std::string(name) + "\": " + std::string(why));
}

void JsonFields::fail(std::string_view name, std::string_view what) {
  if (!error_) error_ = field_error(field_name(name), what);
}

const nlohmann::json* JsonFields::find(std::string_view name, bool required, const char* expected,
                                       bool (*type_ok)(const nlohmann::json&)) {
  asked_.emplace_back(name);
  if (error_ || !object_.is_object()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end()) {
    if (required) fail(name, std::string("is required (") + expected + ")");
    return nullptr;
  }
  if (!type_ok(*it)) {
    fail(name, std::string("expected ") + expected + ", got " + json_type_phrase(*it));
    return nullptr;
  }
  return &*it;
}

std::string JsonFields::required_string(std::string_view name) {
  const auto* v = find(name, true, "a string", is_string);
  return v ? v->get<std::string>() : std::string();
}

std::optional<std::string> JsonFields::optional_string(std::string_view name) {
  const auto* v = find(name, false, "a string", is_string);
  if (!v) return std::nullopt;
  return v->get<std::string>();
}

std::optional<int64_t> JsonFields::read_int(std::string_view name, bool required, int64_t min,
                                            int64_t max) {
  const bool any =
      min == std::numeric_limits<int64_t>::min() && max == std::numeric_limits<int64_t>::max();
  std::string expected =
      any ? "an integer" : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const auto* v = find(name, required, expected.c_str(), is_number);
  if (!v) return std::nullopt;
  bool in_range = false;
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
    in_range = true;
  }
  if (!in_range || n < min || n > max) {
    fail(name, "expected " + expected + ", got " + v->dump());
    return std::nullopt;
  }
  return n;
}

int64_t JsonFields::required_int(std::string_view name, int64_t min, int64_t max) {
  return read_int(name, true, min, max).value_or(0);
}

std::optional<int64_t> JsonFields::optional_int(std::string_view name, int64_t min, int64_t max) {
  return read_int(name, false, min, max);
}

std::optional<int64_t> JsonFields::optional_int(std::string_view name) {
  return read_int(name, false, std::numeric_limits<int64_t>::min(),
                  std::numeric_limits<int64_t>::max());
}

std::optional<bool> JsonFields::optional_bool(std::string_view name) {
  const auto* v = find(name, false, "a boolean", is_boolean);
  if (!v) return std::nullopt;
  return v->get<bool>();
}

const nlohmann::json* JsonFields::required_object(std::string_view name) {
  return find(name, true, "an object", is_object);
}

const nlohmann::json* JsonFields::optional_object(std::string_view name) {
  return find(name, false, "an object", is_object);
}

void JsonFields::reject_unknown() {
  if (error_ || !object_.is_object()) return;
  for (const auto& [key, value] : object_.items())
    if (std::find(asked_.begin(), asked_.end(), key) == asked_.end())
      return fail(key, "unknown field");
}

} // namespace qpipe::api
