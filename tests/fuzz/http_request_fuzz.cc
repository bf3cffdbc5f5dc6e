// Fuzzes the request path of `qpipe api`: the input is sent as raw bytes on a
// real TCP connection to an HttpServer (llhttp parsing, header and body
// limits, keep-alive and pipelining, the route table) whose routes parse JSON
// bodies with the same helpers as the service. The server must answer or
// close, never crash, hang or leak; the loop must stay healthy across inputs.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "api/http_server.h"
#include "api/json_body.h"
#include "core/log.h"
#include "fuzz_input.h"

using namespace qpipe;

namespace {

struct Harness {
  uv_loop_t loop;
  std::unique_ptr<api::HttpServer> server;
  Logger log{Verbosity::quiet};
  Harness() {
    uv_loop_init(&loop);
    api::ServerConfig cfg;
    cfg.bind = "127.0.0.1";
    cfg.port = 0;
    // The seeds' Host, so that requests get past the browser rules to the
    // routes (the rules themselves are fuzzed on every other Host).
    cfg.allowed_hosts = {"x", "z"};
    cfg.limits.max_body_bytes = 64 * 1024;
    cfg.limits.idle_timeout_ms = 2000;
    cfg.limits.request_timeout_ms = 2000;
    server = std::make_unique<api::HttpServer>(&loop, cfg, &log);
    server->route("GET", "/v1/transfers/{id}", [](const api::Request& r) {
      return api::json_ok(200, nlohmann::json{{"id", std::string(r.param("id"))}});
    });
    server->route("POST", "/v1/sends", [](const api::Request& r) {
      auto body = api::parse_json_object(r.body);
      if (!body) return body.error();
      api::JsonFields f(*body);
      f.required_string("peer");
      if (const auto* src = f.required_object("source")) {
        api::JsonFields s(*src, "source");
        s.optional_string("path");
        if (const auto* g = s.optional_object("gen")) {
          api::JsonFields gf(*g, "source.gen");
          gf.required_string("size");
          gf.optional_int("seed", 0, INT64_MAX);
          gf.reject_unknown();
          if (!gf.ok()) return gf.error();
        }
        s.reject_unknown();
        if (!s.ok()) return s.error();
      }
      f.optional_int("zstd", -131072, 22);
      f.optional_bool("insecure");
      f.reject_unknown();
      if (!f.ok()) return f.error();
      return api::json_ok(201, nlohmann::json{{"ok", true}});
    });
    FUZZ_CHECK(server->start().ok());
  }
};

Harness& harness() {
  static Harness* h = new Harness; // kept for the whole run
  return *h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  Harness& h = harness();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(h.server->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Closed with a reset, so that millions of runs do not use up the
  // ephemeral ports in TIME_WAIT.
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    // After millions of connections the client side can run out of ports or
    // meet a 4-tuple still in TIME_WAIT; that is not the server's doing, as
    // long as the server holds no connections (checked after every input).
    if (h.server->stats().open_connections != 0) {
      std::fprintf(stderr, "connect: %s; the server has %zu connections open\n",
                   std::strerror(errno), h.server->stats().open_connections);
      FUZZ_CHECK_MSG(false, "the server stopped accepting");
    }
    ::close(fd);
    return 0; // the client side ran out of ports: not the server's fault
  }
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  size_t sent = 0;
  bool shut = false, eof = false;
  char buf[65536];
  // Drive the loop and the client until the server has answered and closed,
  // or a bounded number of rounds (the server's own timeouts are 2 s).
  for (int round = 0; round < 200000 && !eof; ++round) {
    if (sent < size) {
      ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN)
        sent = size; // the server closed early
    } else if (!shut) {
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    uv_run(&h.loop, UV_RUN_NOWAIT);
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) eof = true;
    if (r <= 0 && !eof && sent >= size) usleep(50);
  }
  ::close(fd);
  for (int i = 0; i < 4; ++i)
    uv_run(&h.loop, UV_RUN_NOWAIT);
  FUZZ_CHECK_MSG(eof, "the server neither answered nor closed");
  // Every connection ends with its input: none may pile up in the server.
  for (int i = 0; i < 1000 && h.server->stats().open_connections > 0; ++i) {
    uv_run(&h.loop, UV_RUN_NOWAIT);
    if (h.server->stats().open_connections > 0) usleep(100);
  }
  FUZZ_CHECK_MSG(h.server->stats().open_connections == 0, "a connection outlived its input");
  return 0;
}
