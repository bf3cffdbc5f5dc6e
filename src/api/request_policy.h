// The rules that make `qpipe api` safe to leave running next to a web
// browser (SPEC §6, "browser-proof").
//
// A web page can make the user's browser send requests to a service on
// loopback: simple cross-site requests (a form post, a text/plain fetch) go
// out without a CORS preflight, and DNS rebinding lets a page on a name the
// attacker controls talk to 127.0.0.1 as if it were its own origin. Three
// checks close these doors, before the token and before any handler:
//   - Host must name this service: a loopback name (localhost, 127.0.0.1,
//     [::1]) or the bound address, with the service's port, or a name that
//     the operator allowed (--allow-host NAME, any port). A rebound name is
//     refused (403).
//   - Origin, when present, must be the service's own (http:// or https://
//     and the Host); a browser's Sec-Fetch-Site of cross-site or same-site
//     is refused too, except for a top-level navigation (403).
//   - A request with a body must say Content-Type: application/json, which
//     no simple (preflight-free) cross-site request can (415).
// Pure functions: no I/O, unit-tested in api_request_policy_test.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"

namespace qpipe::api {

struct HostRules {
  std::string bind;                       // the address the service listens on
  uint16_t port = 0;                      // the port it listens on
  std::vector<std::string> allowed_names; // --allow-host: also these names, any port
};

// Whether a Host header value names this service.
bool host_allowed(std::string_view host, const HostRules& rules);

// Whether an Origin header value is the origin of a page served by the
// service reached under `host` (the request's Host header).
bool origin_allowed(std::string_view origin, std::string_view host);

// Whether a Content-Type value is application/json (parameters such as
// charset allowed, case-insensitive).
bool is_json_media_type(std::string_view content_type);

// Host and Origin: the 400 (an HTTP/1.1 request without Host) or 403
// response that refuses the request, or none when it may go on.
std::optional<Response> refuse_foreign(const Request& request, const HostRules& rules);

// The body's type: 415 for a request with a body (or a method that carries
// one) that is not declared application/json; none otherwise.
std::optional<Response> refuse_non_json_body(const Request& request);

} // namespace qpipe::api
