// Network addresses as users type them: HOST[:PORT] for a destination, or
// [[HOST]:PORT] for the address to listen on. Pure parsing, shared by the
// command line and `qpipe api`.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"

namespace qpipe {

// HOST[:PORT], [IPv6][:PORT], a bare IPv6 address, :PORT or PORT (listen).
struct HostPort {
  std::string host; // empty when listening on every address
  uint16_t port;
};

// A destination must name a host and a port from 1; a listen address may
// leave the host out and take port 0 (a free port). `default_port` is the
// port when the text names none.
Result<HostPort> parse_host_port(const std::string& text, bool listening, uint16_t default_port);

// A port number in [lo, 65535]; `what` names it in the message.
Result<uint16_t> parse_port(const std::string& text, const std::string& what, int lo = 1);

} // namespace qpipe
