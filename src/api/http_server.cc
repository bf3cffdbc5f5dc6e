// The API server: listener, connection table, request policy (see http_server.h).
#include "api/http_server.h"

#include <cstring>
#include <exception>
#include <utility>

#include "api/bearer_auth.h"
#include "api/http_connection.h"
#include "api/metrics.h"
#include "api/request_policy.h"
#include "core/log.h"

namespace qpipe::api {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr int kListenBacklog = 128;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

} // namespace

HttpServer::HttpServer(uv_loop_t* loop, ServerConfig config, const Logger* log)
    : loop_(loop), config_(std::move(config)), log_(log), read_buffer_(new char[kReadBufferSize]) {}

HttpServer::~HttpServer() {
  listener_.reset();
  connections_.clear();
  dead_.clear();
}

void HttpServer::route(std::string method, std::string_view pattern, Handler handler) {
  router_.add(std::move(method), pattern, std::move(handler));
}

Status HttpServer::start() {
  std::string host = strip_brackets(config_.bind);
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), config_.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), config_.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0)
    return make_error(Errc::usage, "--bind " + config_.bind,
                      "not an IPv4 or IPv6 address (a name is not resolved)");
  if (config_.token.empty() && !is_loopback_address(host))
    return make_error(Errc::usage, "--bind " + config_.bind,
                      "is not a loopback address; an API reachable from other hosts needs a "
                      "token (--token-file or QPIPE_API_TOKEN)");
  std::string what = "listen on " + config_.bind + ":" + std::to_string(config_.port);
  int rv = listener_.init(
      handles_, [this](uv_tcp_t* t) { return uv_tcp_init(loop_, t); }, this);
  if (rv != 0) return uv_error(Errc::connect, what, rv);
  rv = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rv == 0) rv = uv_listen(listener_.stream(), kListenBacklog, &HttpServer::on_connection);
  if (rv != 0) {
    listener_.reset();
    return uv_error(Errc::connect, what, rv);
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  if (uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0)
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void HttpServer::stop(std::function<void()> done) {
  stopping_ = true;
  listener_.reset();
  std::vector<HttpConnection*> open;
  open.reserve(connections_.size());
  for (auto& entry : connections_)
    open.push_back(entry.first);
  // A connection that closes retires itself into dead_; the pointers stay
  // valid until reap(), which runs from a trampoline, not from here (stop()
  // may run inside a handler).
  for (HttpConnection* c : open)
    c->stop();
  handles_.when_all_closed(std::move(done));
}

void HttpServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<HttpServer*>(listener->data);
  if (!self) return;
  if (status < 0) {
    if (self->log_) self->log_->debug(std::string("api: accept: ") + uv_strerror(status));
    return;
  }
  self->accept_one();
  self->reap();
}

void HttpServer::accept_one() {
  if (connections_.size() >= config_.limits.max_connections) {
    // Over the limit: accept and close at once, so the backlog does not fill
    // with connections that would wait for nothing.
    TrackedHandle<uv_tcp_t> refused;
    if (refused.init(
            handles_, [this](uv_tcp_t* t) { return uv_tcp_init(loop_, t); }, nullptr) == 0)
      (void)uv_accept(listener_.stream(), refused.stream());
    ++stats_.connections_refused;
    if (log_) log_->debug("api: connection refused: too many open connections");
    return; // `refused` closes here
  }
  ConnectionHost& host = *this; // the base is private: convert here, not in make_unique
  auto owned = std::make_unique<HttpConnection>(host);
  HttpConnection* c = owned.get();
  connections_.emplace(c, std::move(owned));
  stats_.open_connections = connections_.size();
  if (int rv = c->start(loop_, listener_.stream()); rv != 0) {
    if (log_) log_->debug(std::string("api: accept: ") + uv_strerror(rv));
    return;
  }
  ++stats_.connections_accepted;
}

uv_buf_t HttpServer::read_buffer() {
  return uv_buf_init(read_buffer_.get(), kReadBufferSize);
}

Response HttpServer::respond(Request& request) {
  Response response;
  try {
    response = respond_unguarded(request);
  } catch (const std::exception& e) {
    if (log_) log_->warn("api: " + request.method + " " + request.path + ": " + e.what());
    response = json_error(500, "internal", "internal error");
  } catch (...) {
    if (log_) log_->warn("api: " + request.method + " " + request.path + ": unknown exception");
    response = json_error(500, "internal", "internal error");
  }
  if (log_)
    log_->debug("api: " + request.method + " " + request.target + " -> " +
                std::to_string(response.status));
  return response;
}

Response HttpServer::respond_unguarded(Request& request) {
  if (auto refused = refuse_foreign(request, HostRules{config_.bind, port_, config_.allowed_hosts}))
    return *refused;
  if (!config_.token.empty()) {
    auto given = query_value(request.query, "token");
    if (given && (request.method == "GET" || request.method == "HEAD"))
      return log_in(request, *given);
    if (!authorized(request)) {
      Response r = json_error(401, "unauthorized",
                              request.header("Authorization")
                                  ? "the bearer token is not the right one"
                                  : "this API needs its token: send Authorization: Bearer "
                                    "<token>, or open the dashboard address printed at start "
                                    "(/?token=<token>)");
      r.headers.set("WWW-Authenticate", "Bearer");
      return r;
    }
  }
  RouteMatch m = router_.match(request.method, request.path);
  if (!m.handler) {
    if (m.allowed.empty()) return json_error(404, "not_found", "no such path: " + request.path);
    Response r = json_error(405, "method_not_allowed",
                            "method " + request.method + " is not allowed on " + request.path +
                                " (allowed: " + join(m.allowed, ", ") + ")");
    r.headers.set("Allow", join(m.allowed, ", "));
    return r;
  }
  if (auto refused = refuse_non_json_body(request)) return *refused;
  request.params = std::move(m.params);
  return (*m.handler)(request);
}

std::string HttpServer::token_cookie_name() const {
  return "qpipe_token_" + std::to_string(port_);
}

bool HttpServer::authorized(const Request& request) const {
  if (bearer_token_matches(request.header("Authorization"), config_.token)) return true;
  auto cookies = request.header("Cookie");
  if (!cookies) return false;
  auto cookie = cookie_value(*cookies, token_cookie_name());
  return cookie && constant_time_equal(percent_decode(*cookie), config_.token);
}

// ?token=: the browser gets the token as a cookie and goes to the same page
// without it.
Response HttpServer::log_in(const Request& request, const std::string& token) const {
  if (!constant_time_equal(token, config_.token))
    return json_error(401, "unauthorized", "the token in the address is not the right one");
  Response r;
  r.status = 303;
  r.headers.set("Location", request.path);
  r.headers.set("Set-Cookie", token_cookie_name() + "=" + percent_encode(config_.token) +
                                  "; Path=/; HttpOnly; SameSite=Strict");
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

void HttpServer::count_response(int status) {
  ++stats_.responses_by_status[status];
}

void HttpServer::retire(HttpConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  dead_.push_back(std::move(it->second));
  connections_.erase(it);
  stats_.open_connections = connections_.size();
}

void HttpServer::reap() {
  dead_.clear();
}

void HttpServer::write_metrics(MetricsWriter& out) const {
  out.family("qpipe_api_requests_total", "HTTP responses sent by the API, by status code.",
             MetricType::counter);
  for (const auto& [status, n] : stats_.responses_by_status)
    out.sample(n, {{"code", std::to_string(status)}});
  out.family("qpipe_api_connections_open", "Open HTTP connections.", MetricType::gauge);
  out.sample(stats_.open_connections);
  out.family("qpipe_api_connections_accepted_total", "HTTP connections accepted.",
             MetricType::counter);
  out.sample(stats_.connections_accepted);
  out.family("qpipe_api_connections_refused_total",
             "HTTP connections closed at once because too many were open.", MetricType::counter);
  out.sample(stats_.connections_refused);
}

} // namespace qpipe::api
