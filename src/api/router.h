// The route table of the HTTP server: {method, pattern, handler}.
//
// A pattern is a path whose segments are literal text or `{name}`, e.g.
// `/v1/transfers/{id}`; a `{name}` segment matches one non-empty segment and
// its percent-decoded value becomes a path parameter. Matching is pure: the
// server turns "no pattern matches" into 404 and "a pattern matches, but not
// with this method" into 405 with the Allow header built from `allowed`.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"

namespace qpipe::api {

// Handlers run on the loop thread and must not block it.
using Handler = std::function<Response(const Request&)>;

struct RouteMatch {
  const Handler* handler = nullptr; // null when no route takes the request
  std::map<std::string, std::string, std::less<>> params;
  // When `handler` is null: the methods the path allows (405), or empty (404).
  std::vector<std::string> allowed;
};

class Router {
public:
  // Throws std::invalid_argument for a malformed pattern (a programming error).
  void add(std::string method, std::string_view pattern, Handler handler);
  // The first route, in the order added, that matches both. HEAD falls back
  // to GET routes, and GET routes allow HEAD.
  RouteMatch match(std::string_view method, std::string_view path) const;
  bool empty() const { return routes_.empty(); }

private:
  struct Segment {
    std::string text; // the literal, or the parameter's name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    Handler handler;
  };
  static bool matches(const Route& route, const std::vector<std::string_view>& parts,
                      std::map<std::string, std::string, std::less<>>* params);
  std::vector<Route> routes_;
};

// %XX sequences decoded; a malformed one is kept as it is.
std::string percent_decode(std::string_view s);
// Every byte but letters, digits and "-._~" as %XX.
std::string percent_encode(std::string_view s);

// The value of `name` in a query string ("a=1&b=2"), percent-decoded ('+'
// as a space); none when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

} // namespace qpipe::api
