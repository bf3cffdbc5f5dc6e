// Pieces shared by the sending and the listening side: name resolution,
// local addresses, and turning a closed connection into a user's message.
#pragma once

#include <functional>
#include <string>
#include <uv.h>

#include "core/error.h"
#include "transport/connection.h"
#include "uv/work.h"

namespace qpipe::app {

// Resolves host:port with uv_getaddrinfo (family AF_UNSPEC, AF_INET or
// AF_INET6); `done` runs on the loop unless `alive` was dropped first.
Status resolve(uv_loop_t* loop, const std::string& host, uint16_t port, int family,
               const uvx::AliveToken& alive, std::function<void(Result<transport::Address>)> done);

// A numeric local address (`--bind`), or the wildcard address of `family`.
Result<transport::Address> local_address(const std::string& bind, int family, uint16_t port);

// The error a side reports when its connection ended before success.
Error describe_close(const transport::CloseInfo& info, bool handshake_done, const std::string& peer,
                     const char* peer_role, uint64_t idle_timeout_ms);

} // namespace qpipe::app
