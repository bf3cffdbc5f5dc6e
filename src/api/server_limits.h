// The bounds of `qpipe api`'s HTTP server.
//
// Every resource a client can make the server hold is capped here: header and
// body bytes per request, connections, queued response bytes, and how long a
// connection may sit idle or take to send one request, and how a streaming
// response keeps itself alive. The defaults suit a
// local control API; tests shrink them to exercise each limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qpipe::api {

struct ServerLimits {
  // Request line plus headers; more is answered 431 and the connection closes.
  size_t max_header_bytes = 16 * 1024;
  // Request body; more is answered 413 and the connection closes.
  size_t max_body_bytes = 1024 * 1024;
  // Open connections; one more is accepted and closed at once.
  size_t max_connections = 256;
  // A keep-alive connection with no request in progress is closed after this.
  uint64_t idle_timeout_ms = 30'000;
  // A request must arrive whole within this from its first byte, or it is
  // answered 408 and the connection closes (a slow trickle cannot pin it).
  uint64_t request_timeout_ms = 10'000;
  // After the last response of a closing connection: how long to wait for the
  // client's end while discarding what it still sends, so that the response
  // is not lost to a TCP reset.
  uint64_t linger_ms = 2'000;
  // Responses queued but not yet taken by the kernel; above this the server
  // stops reading (and parsing pipelined requests) until the client catches up.
  size_t max_pending_write_bytes = 1024 * 1024;
  // A streaming response (server-sent events) with nothing to say sends a
  // comment this often, so that proxies keep it open and a vanished client
  // is noticed; its bytes count against max_pending_write_bytes like any.
  uint64_t stream_keepalive_ms = 15'000;
};

} // namespace qpipe::api
