// IP address literals as `qpipe api` meets them: in --bind, in a listener's
// "listen" address and in Host headers. Names are never resolved here; a
// literal is IPv4 dotted-quad or IPv6, the latter with or without brackets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qpipe::api {

// An address in network order: IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so
// that the two spellings of one address compare equal.
using IpBytes = std::array<uint8_t, 16>;

// The address of a literal; none for a name or a malformed literal.
std::optional<IpBytes> parse_ip_literal(std::string_view literal);

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 (brackets allowed);
// false for anything else, including names and malformed addresses.
bool is_loopback_address(std::string_view address);

// True for 0.0.0.0 and :: (listen on every address).
bool is_wildcard_address(std::string_view address);

// "[::1]" -> "::1"; anything else unchanged.
std::string strip_brackets(std::string_view address);

} // namespace qpipe::api
