// Addresses of a transfer: resolving the listener's name on libuv's
// resolver, and the numeric local address of --bind (or the wildcard).
#pragma once

#include <functional>
#include <string>
#include <uv.h>

#include "core/error.h"
#include "transport/udp_socket.h"
#include "uv/work.h"

namespace qpipe::app {

// Resolves host:port with uv_getaddrinfo (family AF_UNSPEC, AF_INET or
// AF_INET6); `done` runs on the loop unless `alive` was dropped first.
Status resolve(uv_loop_t* loop, const std::string& host, uint16_t port, int family,
               const uvx::AliveToken& alive, std::function<void(Result<transport::Address>)> done);

// A numeric local address (`--bind`), or the wildcard address of `family`.
Result<transport::Address> local_address(const std::string& bind, int family, uint16_t port);

} // namespace qpipe::app
