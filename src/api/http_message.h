// HTTP requests and responses as plain values.
//
// The server fills a Request from the parser and turns a Response into bytes;
// handlers only ever see these two. This file also holds the JSON conventions
// of `qpipe api` (SPEC §6): success bodies are JSON, and every error body is
// exactly {"error":{"code":"...","message":"..."}}.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qpipe::api {

// ASCII case-insensitive comparison, as for header names.
bool iequals(std::string_view a, std::string_view b);

// Header fields in the order received; names compare case-insensitively.
class Headers {
public:
  using Field = std::pair<std::string, std::string>;
  void add(std::string name, std::string value);
  // Replaces every field of that name.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  // The first field of that name.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }

private:
  std::vector<Field> fields_;
};

struct Request {
  std::string method; // as sent, e.g. "GET"
  std::string target; // the request target as sent: path and query
  std::string path;   // the target up to '?', not decoded
  std::string query;  // after '?', without it; empty when there is none
  Headers headers;
  std::string body;
  bool http10 = false; // HTTP/1.0 (which may come without Host)
  // Values of the route's {name} segments, percent-decoded.
  std::map<std::string, std::string, std::less<>> params;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  // The value of a {name} segment; empty when the route has none of that name.
  std::string_view param(std::string_view name) const;
};

// The body of a streaming response (server-sent events), written after the
// handler has returned, from the loop thread; see Response::stream.
class BodyStream {
public:
  virtual ~BodyStream() = default;
  // Queues bytes for the client. False once the stream is over: ended, the
  // client gone, or the client so far behind that it was dropped (queued
  // bytes over ServerLimits::max_pending_write_bytes).
  virtual bool write(std::string_view bytes) = 0;
  // Ends the body: the connection closes once what was written is out.
  virtual void end() = 0;
  virtual bool open() const = 0;
};

struct Response {
  int status = 200;
  // Content-Type defaults to application/json. The server sets
  // Content-Length and Connection itself and ignores them here.
  Headers headers;
  std::string body;
  // When set, the response is a stream: the head goes out without a
  // Content-Length and with Connection: close (the body ends when the
  // connection does), then `stream` is called with the writer of the body.
  // `body` is ignored; the connection reads no further requests.
  std::function<void(std::shared_ptr<BodyStream>)> stream;
};

// The error body of SPEC §6 with a fitting status, e.g.
// json_error(404, "not_found", "no transfer 7").
Response json_error(int status, std::string code, std::string message);
// `value` serialized compactly. Invalid UTF-8 in strings is replaced, never thrown.
Response json_ok(int status, const nlohmann::json& value);
// A body that is not JSON, e.g. the Prometheus text of /metrics.
Response text_response(int status, std::string content_type, std::string body);

// "Not Found" for 404; "Unknown" for codes this server never sends.
std::string_view reason_phrase(int status);

// The bytes of a response: status line, headers (Content-Type defaulted,
// Content-Length always, except for 1xx, 204 and 304 which have no body, and
// for a stream), then the body unless `head_only` (a HEAD request) or a
// stream. `connection` is the value of the Connection header, or empty for
// none.
std::string serialize(const Response& response, std::string_view connection, bool head_only);

} // namespace qpipe::api
