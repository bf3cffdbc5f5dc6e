// What the user is told when a connection ended before success: the
// message and the exit code (Errc) for each way a QUIC connection can end,
// worded for the side that reports it ("the listener ...", "the sender ...").
#pragma once

#include <string>

#include "core/error.h"
#include "transport/connection.h"

namespace qpipe::app {

// The error a side reports when its connection ended before success.
Error describe_close(const transport::CloseInfo& info, bool handshake_done, const std::string& peer,
                     const char* peer_role, uint64_t idle_timeout_ms);

} // namespace qpipe::app
