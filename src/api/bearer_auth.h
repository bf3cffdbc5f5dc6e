// Token authentication for `qpipe api`: a bearer token (RFC 6750) for
// scripts, or the same token in a cookie for the dashboard in a browser.
//
// The token is compared in constant time so that response timing does not
// reveal how much of a guess was right.
#pragma once

#include <optional>
#include <string_view>

namespace qpipe::api {

// True when the two are equal. The time taken depends on the lengths only,
// never on where the bytes differ; `secret`'s length decides the loop count.
bool constant_time_equal(std::string_view given, std::string_view secret);

// True when `authorization`, the Authorization header's value, is
// "Bearer <token>" (the scheme in any case) with exactly `token`.
bool bearer_token_matches(std::optional<std::string_view> authorization, std::string_view token);

// The value of the cookie `name` in a Cookie header ("a=1; b=2"); none when
// it is not there.
std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name);

} // namespace qpipe::api
