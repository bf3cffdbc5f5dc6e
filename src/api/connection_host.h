// The interface between the API server and its connections.
//
// A connection asks its host for the limits, the shared read buffer and the
// response to each request, and tells it when it is done. The server
// implements it privately; tests could implement it to drive a connection
// alone.
#pragma once

#include <uv.h>

#include "api/http_message.h"
#include "api/server_limits.h"
#include "api/tracked_handle.h"

namespace qpipe::api {

class HttpConnection;

// What a connection needs from the server that accepted it.
class ConnectionHost {
public:
  virtual const ServerLimits& limits() const = 0;
  virtual HandleGroup& handle_group() = 0;
  // One buffer for every read on the loop: reads are consumed synchronously.
  virtual uv_buf_t read_buffer() = 0;
  // The response to a complete request: authentication, routing, the
  // handler. Never throws.
  virtual Response respond(Request& request) = 0;
  // Called for every final response queued, for the metrics.
  virtual void count_response(int status) = 0;
  // True once the server stops: no connection is kept alive any more.
  virtual bool stopping() const = 0;
  // The connection has closed its handles and may be freed; the host frees
  // it in reap(), never from inside the connection's own call stack.
  virtual void retire(HttpConnection* connection) = 0;
  // Called by the connection's libuv trampolines after the connection's own
  // code has returned: the safe point to free retired connections.
  virtual void reap() = 0;

protected:
  ~ConnectionHost() = default;
};

} // namespace qpipe::api
