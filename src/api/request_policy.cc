// Host, Origin and Content-Type rules (see request_policy.h).
#include "api/request_policy.h"

#include <charconv>

#include "api/ip_literal.h"

namespace qpipe::api {
namespace {

struct HostPort {
  std::string_view name; // with brackets for IPv6
  std::optional<uint16_t> port;
};

// "name", "name:port", "[v6]", "[v6]:port"; none when malformed (an
// unbracketed IPv6 address, an empty name, a port that is not a number).
std::optional<HostPort> split_host(std::string_view host) {
  HostPort hp;
  std::string_view rest;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.name = host.substr(0, close + 1);
    rest = host.substr(close + 1);
  } else {
    size_t colon = host.find(':');
    hp.name = host.substr(0, colon);
    if (colon != std::string_view::npos) rest = host.substr(colon);
  }
  if (hp.name.empty()) return std::nullopt;
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2) return std::nullopt;
    rest.remove_prefix(1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
    if (ec != std::errc() || end != rest.data() + rest.size() || port > 65535) return std::nullopt;
    hp.port = static_cast<uint16_t>(port);
  }
  return hp;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

Response forbidden(std::string message) {
  return json_error(403, "forbidden", std::move(message));
}

} // namespace

bool host_allowed(std::string_view host, const HostRules& rules) {
  auto hp = split_host(host);
  if (!hp) return false;
  std::string_view name = hp->name;
  if (name.back() == '.') name.remove_suffix(1); // "localhost." is localhost
  for (const auto& allowed : rules.allowed_names)
    if (iequals(name, allowed)) return true;
  // Loopback names and the bound address only with the service's own port
  // (none given means 80).
  if (hp->port.value_or(80) != rules.port) return false;
  if (iequals(name, "localhost")) return true;
  auto ip = parse_ip_literal(name);
  if (!ip) return false; // any other name could have been rebound
  // An address literal cannot be rebound: loopback, the bound address, or
  // any address when the service listens on all of them.
  return is_loopback_address(name) || is_wildcard_address(rules.bind) ||
         parse_ip_literal(rules.bind) == ip;
}

bool origin_allowed(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"})
    if (starts_with_nocase(origin, scheme) && iequals(origin.substr(scheme.size()), host))
      return true;
  return false;
}

bool is_json_media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t'))
    type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t'))
    type.remove_prefix(1);
  return iequals(type, "application/json");
}

std::optional<Response> refuse_foreign(const Request& request, const HostRules& rules) {
  auto host = request.header("Host");
  if (!host) {
    // HTTP/1.0 may leave Host out, and no browser does: nothing to check.
    if (request.http10) return std::nullopt;
    return json_error(400, "bad_request", "the request has no Host header");
  }
  if (!host_allowed(*host, rules))
    return forbidden("Host " + std::string(*host) +
                     " is not this service (a loopback name or the bound address with its "
                     "port; other names need --allow-host)");
  if (auto origin = request.header("Origin"); origin && !origin_allowed(*origin, *host))
    return forbidden("Origin " + std::string(*origin) +
                     " is not this service's own: cross-site requests are refused");
  // A browser says where a request comes from even when it sends no Origin
  // (a GET in no-cors mode); only the user's own navigation may come from
  // elsewhere, and it changes nothing.
  auto site = request.header("Sec-Fetch-Site");
  if (site && (iequals(*site, "cross-site") || iequals(*site, "same-site")) &&
      !iequals(request.header("Sec-Fetch-Mode").value_or(""), "navigate"))
    return forbidden("a request from another site is refused");
  return std::nullopt;
}

std::optional<Response> refuse_non_json_body(const Request& request) {
  const std::string& m = request.method;
  bool carries_body = !request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH";
  if (!carries_body) return std::nullopt;
  auto type = request.header("Content-Type");
  if (type && is_json_media_type(*type)) return std::nullopt;
  return json_error(415, "unsupported_media_type",
                    "request bodies must be JSON, sent with Content-Type: application/json" +
                        (type ? " (not " + std::string(*type) + ")" : std::string()));
}

} // namespace qpipe::api
