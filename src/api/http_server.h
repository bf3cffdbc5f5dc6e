// The HTTP/1.1 server of `qpipe api`, on a libuv loop.
//
// It listens on one TCP address, accepts connections up to a limit, and
// answers each request from a route table of synchronous handlers. Policy
// that applies to every request lives here, in this order: the browser rules
// of request_policy.h (Host and Origin, 403), the token (401), 404 and 405
// from the router, a body that is not JSON (415), and a handler's exception
// turned into 500.
//
// The token is accepted as "Authorization: Bearer <token>" or, for the
// dashboard in a browser, as the cookie qpipe_token_<port>: a GET of any
// page with ?token=<token> sets it (HttpOnly, SameSite=Strict) and redirects
// to the page without the query, so the token leaves the address bar.
// The connections themselves (parsing, keep-alive, pipelining, limits and
// timeouts) are HttpConnection's. Everything runs on the loop thread; nothing
// here blocks it.
//
// stop() is graceful: the listener closes, idle connections close, responses
// in flight finish, and `done` runs once the last handle of the server has
// been closed, so that the caller may then close the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <uv.h>
#include <vector>

#include "api/connection_host.h"
#include "api/http_message.h"
#include "api/ip_literal.h"
#include "api/router.h"
#include "api/server_limits.h"
#include "api/tracked_handle.h"
#include "core/error.h"

namespace qpipe {
class Logger;
}

namespace qpipe::api {

class HttpConnection;
class MetricsWriter;

struct ServerConfig {
  std::string bind = "127.0.0.1";         // an IPv4 or IPv6 literal; "[::1]" is accepted too
  uint16_t port = 0;                      // 0: an ephemeral port, see HttpServer::port()
  std::string token;                      // when not empty, every request needs it (see above)
  std::vector<std::string> allowed_hosts; // Host names allowed besides loopback (--allow-host)
  ServerLimits limits;
};

struct ServerStats {
  std::map<int, uint64_t> responses_by_status; // final responses queued, by status code
  size_t open_connections = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0; // closed at once: over ServerLimits::max_connections
};

class HttpServer final : private ConnectionHost {
public:
  // `log` (may be null) gets a debug line per request and handler failures.
  HttpServer(uv_loop_t* loop, ServerConfig config, const Logger* log = nullptr);
  // Closes every handle at once; a pending stop()'s `done` is not called.
  // Must not run inside one of the server's handlers.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a route; see Router::add. Routes may be added before or after start().
  void route(std::string method, std::string_view pattern, Handler handler);

  // Binds and listens. Errors: Errc::usage for an address that is not a
  // literal, or that is not loopback while no token is set (SPEC §6);
  // Errc::connect when binding or listening fails.
  Status start();
  // The port bound by start() (the ephemeral one when config.port was 0).
  uint16_t port() const { return port_; }
  // The name of the cookie that carries the token: qpipe_token_<port>
  // (cookies do not tell ports apart, services on two ports must not share one).
  std::string token_cookie_name() const;

  // Stops accepting, closes idle connections, lets responses in flight
  // finish, then calls `done` once every handle is closed (at once when none
  // is open). May be called from a handler; that request is still answered,
  // with Connection: close.
  void stop(std::function<void()> done);
  bool stopping() const override { return stopping_; }

  const ServerStats& stats() const { return stats_; }
  // The server's counters in Prometheus form (qpipe_api_*).
  void write_metrics(MetricsWriter& out) const;

private:
  // ConnectionHost.
  const ServerLimits& limits() const override { return config_.limits; }
  HandleGroup& handle_group() override { return handles_; }
  uv_buf_t read_buffer() override;
  Response respond(Request& request) override;
  void count_response(int status) override;
  void retire(HttpConnection* connection) override;
  void reap() override;

  static void on_connection(uv_stream_t* listener, int status);
  void accept_one();
  Response respond_unguarded(Request& request);
  bool authorized(const Request& request) const;
  Response log_in(const Request& request, const std::string& token) const;

  uv_loop_t* loop_;
  ServerConfig config_;
  const Logger* log_;
  Router router_;
  HandleGroup handles_;
  TrackedHandle<uv_tcp_t> listener_;
  uint16_t port_ = 0;
  bool stopping_ = false;
  std::unique_ptr<char[]> read_buffer_;
  // The one owner of each open connection; retired ones wait in `dead_`
  // until reap() runs outside their call stacks.
  std::unordered_map<HttpConnection*, std::unique_ptr<HttpConnection>> connections_;
  std::vector<std::unique_ptr<HttpConnection>> dead_;
  ServerStats stats_;
};

} // namespace qpipe::api
