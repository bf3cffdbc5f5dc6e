// Requests, responses and their serialization (see http_message.h).
#include "api/http_message.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace qpipe::api {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// A header name or value from a handler must not end the header block.
void append_field_text(std::string& out, std::string_view s) {
  for (char c : s)
    out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

bool has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& f : fields_)
    if (iequals(f.first, name)) return std::string_view(f.second);
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

Response json_error(int status, std::string code, std::string message) {
  nlohmann::json j = {{"error", {{"code", std::move(code)}, {"message", std::move(message)}}}};
  return json_ok(status, j);
}

Response json_ok(int status, const nlohmann::json& value) {
  Response r;
  r.status = status;
  r.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response text_response(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 303:
    return "See Other";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 413:
    return "Content Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Content";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

std::string serialize(const Response& response, std::string_view connection, bool head_only) {
  int status = std::clamp(response.status, 100, 599);
  bool no_body = has_no_body(status);
  bool streaming = static_cast<bool>(response.stream);
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  auto field = [&](std::string_view name, std::string_view value) {
    append_field_text(out, name);
    out += ": ";
    append_field_text(out, value);
    out += "\r\n";
  };
  for (const auto& [name, value] : response.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Transfer-Encoding"))
      continue;
    field(name, value);
  }
  if (!no_body) {
    if (!response.headers.has("Content-Type")) field("Content-Type", "application/json");
    if (!streaming) field("Content-Length", std::to_string(response.body.size()));
  }
  if (!connection.empty()) field("Connection", connection);
  out += "\r\n";
  if (!no_body && !head_only && !streaming) out += response.body;
  return out;
}

} // namespace qpipe::api
