// Tests of the API's HTTP server (src/api/http_server.h) over real sockets.
//
// Each test starts a server on 127.0.0.1:0 on a fresh uv loop in the test's
// thread and drives it from a client thread with plain blocking sockets, each
// read and write bounded by a timeout. The client only records what it saw;
// the assertions run on the test's thread once the client is done, the
// server has stopped and the loop has closed with nothing left on it
// (uv_loop_close() == 0). Timeouts under test are shortened to fractions of
// a second; a watchdog ends a loop that would otherwise hang.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "uv/handle.h"

namespace qpipe::api {
namespace {

constexpr int kClientTimeoutMs = 5000;
constexpr uint64_t kWatchdogMs = 60'000;

struct Reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (iequals(n, name)) return v;
    return std::nullopt;
  }
};

// A blocking TCP client; every call gives up after kClientTimeoutMs.
class Client {
public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{kClientTimeoutMs / 1000, (kClientTimeoutMs % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // One response; interim 100 responses are skipped. `head`: no body follows.
  std::optional<Reply> read(bool head = false) {
    for (;;) {
      size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
        if (!fill()) return std::nullopt;
      Reply r;
      std::string head_text = buf_.substr(0, end);
      buf_.erase(0, end + 4);
      size_t line_end = head_text.find("\r\n");
      std::string status_line = head_text.substr(0, line_end);
      if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
      r.status = std::stoi(status_line.substr(9, 3));
      while (line_end != std::string::npos) {
        size_t start = line_end + 2;
        line_end = head_text.find("\r\n", start);
        std::string line = head_text.substr(start, line_end - start);
        size_t colon = line.find(':');
        if (colon == std::string::npos) return std::nullopt;
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        r.headers.emplace_back(line.substr(0, colon), value);
      }
      if (r.status == 100) continue;
      size_t length = 0;
      if (auto cl = r.header("Content-Length")) length = std::stoul(*cl);
      if (!head) {
        while (buf_.size() < length)
          if (!fill()) return std::nullopt;
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
      }
      return r;
    }
  }

  // Everything the server sends until it closes the connection (the body of
  // a streaming response).
  std::string read_to_end() {
    while (fill()) {
    }
    return std::exchange(buf_, std::string());
  }

  // True when the server ends the connection (EOF or reset) before sending
  // anything more and before the timeout.
  bool closed_by_peer() {
    if (!buf_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

private:
  bool fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

std::string post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// What the client thread may ask of the test's loop.
struct ClientContext {
  uint16_t port = 0;
  std::atomic<bool> stop_requested{false};
  // Asks the loop to stop the server now (the client may go on to watch the
  // connections close). The harness asks it anyway once the client returns.
  void request_stop() { stop_requested = true; }
};

struct RunResult {
  bool stop_done = false;
  int loop_close = -1;
  ServerStats stats;
  std::string metrics;
};

// The routes every test server has.
void add_routes(HttpServer& server) {
  server.route("GET", "/v1/health", [](const Request&) {
    return json_ok(200, {{"status", "ok"}});
  });
  server.route("GET", "/v1/transfers/{id}", [](const Request& req) {
    return json_ok(200, {{"id", req.param("id")}, {"query", req.query}});
  });
  server.route("DELETE", "/v1/transfers/{id}", [](const Request& req) {
    return json_ok(200, {{"cancelled", req.param("id")}});
  });
  server.route("POST", "/v1/sends", [](const Request& req) {
    auto body = parse_json_object(req.body);
    if (!body) return body.error();
    JsonFields f(*body);
    std::string peer = f.required_string("peer");
    auto streams = f.optional_int("streams", 1, 64);
    if (!f.ok()) return f.error();
    return json_ok(201, {{"peer", peer}, {"streams", streams.value_or(8)}});
  });
  server.route("POST", "/echo", [](const Request& req) {
    return text_response(200, "application/octet-stream", req.body);
  });
  server.route("GET", "/boom",
               [](const Request&) -> Response { throw std::runtime_error("the handler failed"); });
  server.route("GET", "/big/{n}", [](const Request& req) {
    return text_response(200, "text/plain",
                         std::string(std::stoul(std::string(req.param("n"))), 'x'));
  });
}

// Runs a server with `config` on a fresh loop, `client` on a thread against
// it, then stops the server and checks that the loop closes cleanly.
RunResult run(ServerConfig config, const std::function<void(ClientContext&)>& client,
              const std::function<void(HttpServer&, RunResult&)>& extra_routes = {}) {
  RunResult result;
  uv_loop_t loop;
  BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0);
  {
    HttpServer server(&loop, std::move(config));
    add_routes(server);
    if (extra_routes) extra_routes(server, result);
    auto st = server.start();
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message()));
    BOOST_REQUIRE_NE(server.port(), 0);

    ClientContext ctx;
    ctx.port = server.port();
    std::atomic<bool> client_done{false};

    // Polls for the client's requests; the one way from its thread into the loop.
    uvx::Timer poll;
    BOOST_REQUIRE_EQUAL(poll.init(&loop,
                                  [&] {
                                    if (!ctx.stop_requested && !client_done) return;
                                    poll.close();
                                    server.stop([&] { result.stop_done = true; });
                                  }),
                        0);
    poll.start(5, 5);
    uvx::Timer watchdog;
    BOOST_REQUIRE_EQUAL(watchdog.init(&loop,
                                      [&] {
                                        BOOST_ERROR("the loop did not finish in time");
                                        uv_stop(&loop);
                                      }),
                        0);
    watchdog.start(kWatchdogMs);
    watchdog.unref();

    std::thread thread([&] {
      client(ctx);
      client_done = true;
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    thread.join();
    watchdog.close();
    result.stats = server.stats();
    MetricsWriter w;
    server.write_metrics(w);
    result.metrics = w.take();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  result.loop_close = uv_loop_close(&loop);
  BOOST_TEST(result.stop_done);
  BOOST_TEST(result.loop_close == 0);
  return result;
}

ServerConfig config() {
  ServerConfig c;
  c.bind = "127.0.0.1";
  c.port = 0;
  c.allowed_hosts = {"test", "t"}; // the names these requests use
  return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(get_route_with_path_param_and_query) {
  std::optional<Reply> r;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/v1/transfers/abc%20d?verbose=1"))) r = c.read();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200);
  BOOST_TEST(r->body == R"({"id":"abc d","query":"verbose=1"})");
  BOOST_TEST(r->header("Content-Type").value_or("") == "application/json");
  BOOST_TEST(r->header("Content-Length").value_or("") == std::to_string(r->body.size()));
  BOOST_TEST(!r->header("Connection"));
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_two_requests_on_one_connection) {
  std::optional<Reply> r1, r2;
  RunResult res = run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/v1/health"))) r1 = c.read();
    if (c.send(get("/v1/transfers/2"))) r2 = c.read();
  });
  BOOST_REQUIRE(r1);
  BOOST_REQUIRE(r2);
  BOOST_TEST(r1->body == R"({"status":"ok"})");
  BOOST_TEST(r2->body == R"({"id":"2","query":""})");
  BOOST_TEST(res.stats.connections_accepted == 1u);
  BOOST_TEST(res.stats.responses_by_status[200] == 2u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
  std::vector<Reply> replies;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    std::string all = get("/v1/transfers/1") + post("/v1/sends", R"({"peer":"h:1"})") +
                      get("/v1/transfers/3") + get("/nope");
    if (!c.send(all)) return;
    for (int i = 0; i < 4; ++i)
      if (auto r = c.read()) replies.push_back(*r);
  });
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  BOOST_TEST(replies[0].body == R"({"id":"1","query":""})");
  BOOST_TEST(replies[1].status == 201);
  BOOST_TEST(replies[2].body == R"({"id":"3","query":""})");
  BOOST_TEST(replies[3].status == 404);
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404) {
  std::optional<Reply> r;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/nope"))) r = c.read();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 404);
  BOOST_TEST(r->body == R"({"error":{"code":"not_found","message":"no such path: /nope"}})");
}

BOOST_AUTO_TEST_CASE(wrong_method_is_405_with_allow) {
  std::optional<Reply> r;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(post("/v1/transfers/7", "{}"))) r = c.read();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 405);
  BOOST_TEST(r->header("Allow").value_or("") == "GET, HEAD, DELETE");
  auto j = nlohmann::json::parse(r->body);
  BOOST_TEST(j["error"]["code"] == "method_not_allowed");
}

BOOST_AUTO_TEST_CASE(head_has_the_length_of_get_but_no_body) {
  std::optional<Reply> head, next;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send("HEAD /v1/health HTTP/1.1\r\nHost: t\r\n\r\n")) head = c.read(true);
    if (c.send(get("/v1/transfers/9"))) next = c.read();
  });
  BOOST_REQUIRE(head);
  BOOST_TEST(head->status == 200);
  BOOST_TEST(head->header("Content-Length").value_or("") == "15");
  BOOST_REQUIRE(next); // no stray body bytes came before it
  BOOST_TEST(next->body == R"({"id":"9","query":""})");
}

BOOST_AUTO_TEST_CASE(bearer_token_is_required_when_set) {
  ServerConfig cfg = config();
  cfg.token = "s3cret-token";
  std::optional<Reply> none, wrong, shorter, unknown, right, lower_scheme;
  run(cfg, [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/v1/health"))) none = c.read();
    if (c.send(get("/v1/health", "Authorization: Bearer s3cret-tokeN\r\n"))) wrong = c.read();
    if (c.send(get("/v1/health", "Authorization: Bearer s3cret\r\n"))) shorter = c.read();
    if (c.send(get("/nope"))) unknown = c.read();
    if (c.send(get("/v1/health", "Authorization: Bearer s3cret-token\r\n"))) right = c.read();
    if (c.send(get("/v1/health", "authorization: bearer s3cret-token\r\n")))
      lower_scheme = c.read();
  });
  for (auto* r : {&none, &wrong, &shorter, &unknown}) {
    BOOST_REQUIRE(*r);
    BOOST_TEST((*r)->status == 401);
    BOOST_TEST((*r)->header("WWW-Authenticate").value_or("") == "Bearer");
    BOOST_TEST(nlohmann::json::parse((*r)->body)["error"]["code"] == "unauthorized");
  }
  BOOST_REQUIRE(right);
  BOOST_TEST(right->status == 200);
  BOOST_REQUIRE(lower_scheme);
  BOOST_TEST(lower_scheme->status == 200);
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_is_413_and_closes) {
  ServerConfig cfg = config();
  cfg.limits.max_body_bytes = 1024;
  std::optional<Reply> fits, big;
  bool closed = false;
  run(cfg, [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(post("/echo", std::string(1024, 'a')))) fits = c.read();
    if (c.send(post("/echo", std::string(5000, 'b')))) big = c.read();
    closed = c.closed_by_peer();
  });
  BOOST_REQUIRE(fits);
  BOOST_TEST(fits->status == 200);
  BOOST_TEST(fits->body.size() == 1024u);
  BOOST_REQUIRE(big);
  BOOST_TEST(big->status == 413);
  BOOST_TEST(big->header("Connection").value_or("") == "close");
  BOOST_TEST(nlohmann::json::parse(big->body)["error"]["code"] == "payload_too_large");
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(chunked_body_over_the_limit_is_413) {
  ServerConfig cfg = config();
  cfg.limits.max_body_bytes = 100;
  std::optional<Reply> ok, big;
  run(cfg, [&](ClientContext& ctx) {
    {
      Client c(ctx.port);
      if (c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
        ok = c.read();
    }
    Client c(ctx.port);
    std::string chunk(80, 'z');
    if (c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" +
               chunk + "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n"))
      big = c.read();
  });
  BOOST_REQUIRE(ok);
  BOOST_TEST(ok->body == "hello world");
  BOOST_REQUIRE(big);
  BOOST_TEST(big->status == 413);
}

BOOST_AUTO_TEST_CASE(oversized_headers_are_431_and_close) {
  ServerConfig cfg = config();
  cfg.limits.max_header_bytes = 1024;
  std::optional<Reply> r;
  bool closed = false;
  run(cfg, [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/v1/health", "X-Big: " + std::string(2000, 'h') + "\r\n"))) r = c.read();
    closed = c.closed_by_peer();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 431);
  BOOST_TEST(r->header("Connection").value_or("") == "close");
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_400_and_close) {
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      "GET /x HTTP/1.1\r\nNo colon here\r\n\r\n",
      "GET /x HTTP/9.9\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  std::vector<std::optional<Reply>> replies;
  std::vector<bool> closed;
  run(config(), [&](ClientContext& ctx) {
    for (const char* request : bad) {
      Client c(ctx.port);
      replies.push_back(c.send(request) ? c.read() : std::nullopt);
      closed.push_back(c.closed_by_peer());
    }
  });
  BOOST_REQUIRE_EQUAL(replies.size(), std::size(bad));
  for (size_t i = 0; i < replies.size(); ++i) {
    BOOST_TEST_CONTEXT("request " << i) {
      BOOST_REQUIRE(replies[i]);
      BOOST_TEST(replies[i]->status == 400);
      BOOST_TEST(nlohmann::json::parse(replies[i]->body)["error"]["code"] == "bad_request");
      BOOST_TEST(closed[i]);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_json_is_400) {
  std::optional<Reply> r, empty;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(post("/v1/sends", "{\"peer\": "))) r = c.read();
    if (c.send(post("/v1/sends", ""))) empty = c.read();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 400);
  auto j = nlohmann::json::parse(r->body);
  BOOST_TEST(j["error"]["code"] == "bad_request");
  BOOST_TEST(j["error"]["message"].get<std::string>().find("not valid JSON") != std::string::npos);
  BOOST_REQUIRE(empty);
  BOOST_TEST(empty->status == 400);
}

BOOST_AUTO_TEST_CASE(missing_or_mistyped_field_is_422_naming_it) {
  std::optional<Reply> missing, mistyped, out_of_range, not_object;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(post("/v1/sends", "{}"))) missing = c.read();
    if (c.send(post("/v1/sends", R"({"peer": 5})"))) mistyped = c.read();
    if (c.send(post("/v1/sends", R"({"peer": "h:1", "streams": 0})"))) out_of_range = c.read();
    if (c.send(post("/v1/sends", "[1]"))) not_object = c.read();
  });
  BOOST_REQUIRE(missing);
  BOOST_TEST(missing->status == 422);
  const std::string expected = "{\"error\":{\"code\":\"unprocessable\",\"message\":"
                               "\"field \\\"peer\\\": is required (a string)\"}}";
  BOOST_TEST(missing->body == expected);
  BOOST_REQUIRE(mistyped);
  BOOST_TEST(mistyped->status == 422);
  BOOST_TEST(nlohmann::json::parse(mistyped->body)["error"]["message"] ==
             "field \"peer\": expected a string, got an integer");
  BOOST_REQUIRE(out_of_range);
  BOOST_TEST(nlohmann::json::parse(out_of_range->body)["error"]["message"] ==
             "field \"streams\": expected an integer from 1 to 64, got 0");
  BOOST_REQUIRE(not_object);
  BOOST_TEST(not_object->status == 422);
}

BOOST_AUTO_TEST_CASE(handler_exception_is_500_and_the_connection_lives_on) {
  std::optional<Reply> r, after;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/boom"))) r = c.read();
    if (c.send(get("/v1/health"))) after = c.read();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 500);
  BOOST_TEST(r->body == R"({"error":{"code":"internal","message":"internal error"}})");
  BOOST_REQUIRE(after);
  BOOST_TEST(after->status == 200);
}

BOOST_AUTO_TEST_CASE(idle_connections_time_out) {
  ServerConfig cfg = config();
  cfg.limits.idle_timeout_ms = 100;
  bool silent_closed = false, after_response_closed = false;
  std::optional<Reply> r;
  double waited_ms = 0;
  RunResult res = run(cfg, [&](ClientContext& ctx) {
    auto t0 = std::chrono::steady_clock::now();
    Client silent(ctx.port);
    silent_closed = silent.closed_by_peer();
    waited_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Client c(ctx.port);
    if (c.send(get("/v1/health"))) r = c.read();
    after_response_closed = c.closed_by_peer();
  });
  BOOST_TEST(silent_closed);
  BOOST_TEST(waited_ms >= 90.0);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200);
  BOOST_TEST(after_response_closed);
  BOOST_TEST(res.stats.open_connections == 0u);
}

BOOST_AUTO_TEST_CASE(a_request_that_trickles_in_is_408) {
  ServerConfig cfg = config();
  cfg.limits.request_timeout_ms = 150;
  std::optional<Reply> r;
  bool closed = false;
  run(cfg, [&](ClientContext& ctx) {
    Client c(ctx.port);
    // Bytes keep coming, but the request never completes in time.
    if (!c.send("GET /v1/health HTTP/1.1\r\n")) return;
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!c.send("X-Slow: 1\r\n")) break;
    }
    r = c.read();
    closed = c.closed_by_peer();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 408);
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_closed) {
  ServerConfig cfg = config();
  cfg.limits.max_connections = 2;
  std::optional<Reply> r1, r2, r1_again;
  bool third_closed = false;
  RunResult res = run(cfg, [&](ClientContext& ctx) {
    Client c1(ctx.port), c2(ctx.port);
    if (c1.send(get("/v1/health"))) r1 = c1.read();
    if (c2.send(get("/v1/health"))) r2 = c2.read();
    Client c3(ctx.port);
    third_closed = c3.closed_by_peer();
    if (c1.send(get("/v1/health"))) r1_again = c1.read();
  });
  BOOST_REQUIRE(r1);
  BOOST_REQUIRE(r2);
  BOOST_TEST(third_closed);
  BOOST_REQUIRE(r1_again);
  BOOST_TEST(r1_again->status == 200);
  BOOST_TEST(res.stats.connections_refused == 1u);
  BOOST_TEST(res.stats.connections_accepted == 2u);
}

BOOST_AUTO_TEST_CASE(connection_close_and_http10_are_honoured) {
  std::optional<Reply> close11, plain10, ka10, ka10_second;
  bool closed11 = false, closed10 = false;
  run(config(), [&](ClientContext& ctx) {
    {
      Client c(ctx.port);
      if (c.send(get("/v1/health", "Connection: close\r\n"))) close11 = c.read();
      closed11 = c.closed_by_peer();
    }
    {
      Client c(ctx.port);
      if (c.send("GET /v1/health HTTP/1.0\r\n\r\n")) plain10 = c.read();
      closed10 = c.closed_by_peer();
    }
    Client c(ctx.port);
    if (c.send("GET /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")) ka10 = c.read();
    if (c.send("GET /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")) ka10_second = c.read();
  });
  BOOST_REQUIRE(close11);
  BOOST_TEST(close11->header("Connection").value_or("") == "close");
  BOOST_TEST(closed11);
  BOOST_REQUIRE(plain10);
  BOOST_TEST(plain10->header("Connection").value_or("") == "close");
  BOOST_TEST(closed10);
  BOOST_REQUIRE(ka10);
  BOOST_TEST(ka10->header("Connection").value_or("") == "keep-alive");
  BOOST_REQUIRE(ka10_second);
  BOOST_TEST(ka10_second->status == 200);
}

BOOST_AUTO_TEST_CASE(requests_before_a_half_close_are_still_answered) {
  std::vector<Reply> replies;
  bool closed = false;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (!c.send(get("/v1/transfers/1") + get("/v1/transfers/2"))) return;
    c.shutdown_write();
    for (int i = 0; i < 2; ++i)
      if (auto r = c.read()) replies.push_back(*r);
    closed = c.closed_by_peer();
  });
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  BOOST_TEST(replies[1].body == R"({"id":"2","query":""})");
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(a_client_that_does_not_read_pauses_parsing) {
  ServerConfig cfg = config();
  cfg.limits.max_pending_write_bytes = 64 * 1024;
  constexpr int kRequests = 40;
  constexpr size_t kSize = 200'000;
  std::vector<size_t> sizes;
  run(cfg, [&](ClientContext& ctx) {
    Client c(ctx.port);
    std::string all;
    for (int i = 0; i < kRequests; ++i)
      all += get("/big/" + std::to_string(kSize + i));
    if (!c.send(all)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int i = 0; i < kRequests; ++i)
      if (auto r = c.read()) sizes.push_back(r->body.size());
  });
  BOOST_REQUIRE_EQUAL(sizes.size(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i)
    BOOST_TEST(sizes[i] == kSize + i);
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered) {
  std::optional<Reply> r;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (!c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n"))
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (c.send("ping")) r = c.read(); // read() skips the interim 100
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "ping");
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_keep_alive_connections) {
  std::optional<Reply> r;
  bool closed = false;
  run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    if (c.send(get("/v1/health"))) r = c.read();
    ctx.request_stop();
    closed = c.closed_by_peer();
  });
  BOOST_REQUIRE(r);
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(stop_from_a_handler_finishes_its_response) {
  std::optional<Reply> r;
  bool closed = false;
  HttpServer* server_ptr = nullptr;
  RunResult res = run(
      config(),
      [&](ClientContext& ctx) {
        Client c(ctx.port);
        if (c.send(get("/stop"))) r = c.read();
        closed = c.closed_by_peer();
      },
      [&](HttpServer& server, RunResult& result) {
        server_ptr = &server;
        server.route("GET", "/stop", [&server_ptr, &result](const Request&) {
          server_ptr->stop([&result] { result.stop_done = true; });
          return json_ok(202, {{"stopping", true}});
        });
      });
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 202);
  BOOST_TEST(r->header("Connection").value_or("") == "close");
  BOOST_TEST(closed);
}

BOOST_AUTO_TEST_CASE(metrics_count_responses_by_status) {
  RunResult res = run(config(), [&](ClientContext& ctx) {
    Client c(ctx.port);
    for (const char* path : {"/v1/health", "/v1/health", "/nope"})
      if (c.send(get(path))) (void)c.read();
  });
  BOOST_TEST(res.stats.responses_by_status[200] == 2u);
  BOOST_TEST(res.stats.responses_by_status[404] == 1u);
  BOOST_TEST(res.metrics.find("qpipe_api_requests_total{code=\"200\"} 2\n") != std::string::npos);
  BOOST_TEST(res.metrics.find("qpipe_api_requests_total{code=\"404\"} 1\n") != std::string::npos);
  BOOST_TEST(res.metrics.find("# TYPE qpipe_api_connections_open gauge\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ipv6_loopback_and_bad_addresses) {
  uv_loop_t loop;
  BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0);
  {
    ServerConfig bad = config();
    bad.bind = "localhost";
    HttpServer s1(&loop, bad);
    auto st = s1.start();
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(static_cast<int>(st.error().code) == static_cast<int>(Errc::usage));

    ServerConfig open = config();
    open.bind = "0.0.0.0";
    HttpServer s0(&loop, open);
    auto st0 = s0.start();
    BOOST_REQUIRE(!st0.ok());
    BOOST_TEST(static_cast<int>(st0.error().code) == static_cast<int>(Errc::usage));
    BOOST_TEST(st0.error().message().find("token") != std::string::npos);

    ServerConfig v6 = config();
    v6.bind = "[::1]";
    HttpServer s2(&loop, v6);
    if (auto st2 = s2.start(); st2.ok()) { // a host without IPv6 is not a failure
      BOOST_TEST(s2.port() != 0);
      // A second server on the same port cannot bind.
      ServerConfig same = v6;
      same.port = s2.port();
      HttpServer s3(&loop, same);
      auto st3 = s3.start();
      BOOST_REQUIRE(!st3.ok());
      BOOST_TEST(static_cast<int>(st3.error().code) == static_cast<int>(Errc::connect));
    }
    bool done = false;
    s2.stop([&] { done = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_TEST(done);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  BOOST_TEST(uv_loop_close(&loop) == 0);
}

// The browser rules (request_policy.h) at the door of the server: a
// rebound Host, a foreign Origin, a cross-site fetch and a body that is not
// declared JSON are refused before any handler runs.
BOOST_AUTO_TEST_CASE(cross_site_requests_are_refused) {
  ServerConfig cfg = config();
  cfg.allowed_hosts.clear();
  std::map<std::string, int> status;
  run(cfg, [&](ClientContext& ctx) {
    std::string own = "localhost:" + std::to_string(ctx.port);
    auto ask = [&](const std::string& name, const std::string& request) {
      Client c(ctx.port);
      if (c.send(request))
        if (auto r = c.read()) status[name] = r->status;
    };
    auto get_as = [](std::string_view host, std::string_view extra = "") {
      return "GET /v1/health HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extra) +
             "\r\n";
    };
    auto post_as = [](std::string_view host, std::string_view type, std::string_view extra = "") {
      std::string body = R"({"peer":"x"})";
      return "POST /v1/sends HTTP/1.1\r\nHost: " + std::string(host) +
             "\r\nContent-Type: " + std::string(type) + "\r\n" + std::string(extra) +
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    ask("own host", get_as(own));
    ask("127.0.0.1", get_as("127.0.0.1:" + std::to_string(ctx.port)));
    ask("[::1]", get_as("[::1]:" + std::to_string(ctx.port)));
    ask("rebound name", get_as("evil.example:" + std::to_string(ctx.port)));
    ask("other port", get_as("localhost:1"));
    ask("no host", "GET /v1/health HTTP/1.1\r\n\r\n");
    ask("json", post_as(own, "application/json; charset=utf-8"));
    ask("text/plain", post_as(own, "text/plain"));
    ask("form", post_as(own, "application/x-www-form-urlencoded"));
    ask("own origin", post_as(own, "application/json", "Origin: http://" + own + "\r\n"));
    ask("foreign origin", post_as(own, "application/json", "Origin: http://evil.example\r\n"));
    ask("null origin", post_as(own, "application/json", "Origin: null\r\n"));
    ask("cross-site fetch",
        get_as(own, "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n"));
    ask("cross-site navigation",
        get_as(own, "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\n"));
  });
  BOOST_TEST(status["own host"] == 200);
  BOOST_TEST(status["127.0.0.1"] == 200);
  BOOST_TEST(status["[::1]"] == 200);
  BOOST_TEST(status["rebound name"] == 403);
  BOOST_TEST(status["other port"] == 403);
  BOOST_TEST(status["no host"] == 400);
  BOOST_TEST(status["json"] == 201);
  BOOST_TEST(status["text/plain"] == 415);
  BOOST_TEST(status["form"] == 415);
  BOOST_TEST(status["own origin"] == 201);
  BOOST_TEST(status["foreign origin"] == 403);
  BOOST_TEST(status["null origin"] == 403);
  BOOST_TEST(status["cross-site fetch"] == 403);
  BOOST_TEST(status["cross-site navigation"] == 200);
}

// ?token= sets the cookie that the dashboard then rides on.
BOOST_AUTO_TEST_CASE(token_in_the_address_becomes_a_cookie) {
  ServerConfig cfg = config();
  cfg.token = "s3cret+/";
  std::optional<Reply> wrong, login, with_cookie, other_port_cookie;
  uint16_t port = 0;
  run(cfg, [&](ClientContext& ctx) {
    port = ctx.port;
    Client c(ctx.port);
    if (c.send(get("/v1/health?token=nope"))) wrong = c.read();
    if (c.send(get("/v1/health?x=1&token=s3cret%2B%2F"))) login = c.read();
    std::string name = "qpipe_token_" + std::to_string(ctx.port);
    if (c.send(get("/v1/health", "Cookie: a=b; " + name + "=s3cret%2B%2F\r\n")))
      with_cookie = c.read();
    if (c.send(get("/v1/health", "Cookie: qpipe_token_1=s3cret%2B%2F\r\n")))
      other_port_cookie = c.read();
  });
  BOOST_REQUIRE(wrong && login && with_cookie && other_port_cookie);
  BOOST_TEST(wrong->status == 401);
  BOOST_TEST(login->status == 303);
  BOOST_TEST(login->header("Location").value_or("") == "/v1/health");
  std::string cookie = login->header("Set-Cookie").value_or("");
  BOOST_TEST(cookie.find("qpipe_token_" + std::to_string(port) + "=s3cret%2B%2F;") == 0u);
  BOOST_TEST(cookie.find("HttpOnly") != std::string::npos);
  BOOST_TEST(cookie.find("SameSite=Strict") != std::string::npos);
  BOOST_TEST(with_cookie->status == 200);
  BOOST_TEST(other_port_cookie->status == 401);
}

// A streaming response: the head without a length, the events, the end.
BOOST_AUTO_TEST_CASE(streaming_response_writes_then_ends) {
  std::optional<Reply> head;
  std::string body;
  bool wrote_after_end = true;
  run(
      config(),
      [&](ClientContext& ctx) {
        Client c(ctx.port);
        if (c.send(get("/stream") + get("/v1/health"))) head = c.read(true);
        body = c.read_to_end();
      },
      [&](HttpServer& server, RunResult&) {
        server.route("GET", "/stream", [&](const Request&) {
          Response r;
          r.headers.set("Content-Type", "text/event-stream");
          r.stream = [&](std::shared_ptr<BodyStream> s) {
            s->write("event: a\ndata: 1\n\n");
            s->write("event: b\ndata: 2\n\n");
            s->end();
            wrote_after_end = s->write("more");
          };
          return r;
        });
      });
  BOOST_REQUIRE(head);
  BOOST_TEST(head->status == 200);
  BOOST_TEST(!head->header("Content-Length"));
  BOOST_TEST(head->header("Connection").value_or("") == "close");
  BOOST_TEST(head->header("Content-Type").value_or("") == "text/event-stream");
  // The pipelined request behind the stream is not answered.
  BOOST_TEST(body == "event: a\ndata: 1\n\nevent: b\ndata: 2\n\n");
  BOOST_TEST(!wrote_after_end);
}

// Stopping the server ends an open stream; the loop closes cleanly.
BOOST_AUTO_TEST_CASE(stop_ends_an_open_stream) {
  std::string body;
  std::shared_ptr<BodyStream> kept;
  run(
      config(),
      [&](ClientContext& ctx) {
        Client c(ctx.port);
        if (!c.send(get("/stream")) || !c.read(true)) return;
        ctx.request_stop();
        body = c.read_to_end();
      },
      [&](HttpServer& server, RunResult&) {
        server.route("GET", "/stream", [&](const Request&) {
          Response r;
          r.stream = [&](std::shared_ptr<BodyStream> s) {
            s->write("data: hello\n\n");
            kept = s;
          };
          return r;
        });
      });
  BOOST_TEST(body == "data: hello\n\n");
  BOOST_REQUIRE(kept);
  BOOST_TEST(!kept->open());
  BOOST_TEST(!kept->write("late"));
}

BOOST_AUTO_TEST_CASE(loopback_addresses) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"})
    BOOST_TEST(is_loopback_address(a), a);
  for (const char* a : {"0.0.0.0", "::", "10.0.0.1", "::2", "localhost", "", "[::1", "128.0.0.1"})
    BOOST_TEST(!is_loopback_address(a), a);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
