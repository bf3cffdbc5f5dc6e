// One HTTP/1.1 connection: parsing, answering, closing (see http_connection.h).
#include "api/http_connection.h"

#include <cassert>
#include <utility>

namespace qpipe::api {

// The llhttp callbacks: trampolines from the parser to its connection.
struct ParserCallbacks {
  static HttpConnection* self(llhttp_t* p) { return static_cast<HttpConnection*>(p->data); }
  static int on_message_begin(llhttp_t* p) { return self(p)->message_begin(); }
  static int on_url(llhttp_t* p, const char* at, size_t n) { return self(p)->url(at, n); }
  static int on_method(llhttp_t* p, const char*, size_t n) { return self(p)->header_bytes(n); }
  static int on_version(llhttp_t* p, const char*, size_t n) { return self(p)->header_bytes(n); }
  static int on_header_field(llhttp_t* p, const char* at, size_t n) {
    return self(p)->header_field(at, n);
  }
  static int on_header_value(llhttp_t* p, const char* at, size_t n) {
    return self(p)->header_value(at, n);
  }
  static int on_headers_complete(llhttp_t* p) { return self(p)->headers_complete(); }
  static int on_body(llhttp_t* p, const char* at, size_t n) { return self(p)->body(at, n); }
  static int on_message_complete(llhttp_t* p) { return self(p)->message_complete(); }
};

namespace {

// A response on its way to the kernel.
struct WriteRequest {
  uv_write_t req;
  std::string bytes;
};

void trim_trailing_space(std::string& s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
}

} // namespace

// The writer of a streaming response's body. It points at its connection
// until the connection closes (or the body ends), and is harmless after.
class HttpConnection::Stream final : public BodyStream {
public:
  explicit Stream(HttpConnection* c) : conn_(c) {}
  bool write(std::string_view bytes) override { return conn_ && conn_->write_stream(bytes); }
  void end() override {
    if (HttpConnection* c = std::exchange(conn_, nullptr)) c->begin_close();
  }
  bool open() const override { return conn_ && conn_->phase_ == Phase::streaming; }
  void detach() { conn_ = nullptr; }

private:
  HttpConnection* conn_;
};

const llhttp_settings_t* HttpConnection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &ParserCallbacks::on_message_begin;
    s.on_url = &ParserCallbacks::on_url;
    s.on_method = &ParserCallbacks::on_method;
    s.on_version = &ParserCallbacks::on_version;
    s.on_header_field = &ParserCallbacks::on_header_field;
    s.on_header_value = &ParserCallbacks::on_header_value;
    s.on_headers_complete = &ParserCallbacks::on_headers_complete;
    s.on_body = &ParserCallbacks::on_body;
    s.on_message_complete = &ParserCallbacks::on_message_complete;
    return s;
  }();
  return &settings;
}

HttpConnection::HttpConnection(ConnectionHost& host) : host_(host) {}

HttpConnection::~HttpConnection() {
  if (stream_) stream_->detach(); // a writer kept elsewhere must not reach a freed connection
}

int HttpConnection::start(uv_loop_t* loop, uv_stream_t* listener) {
  HandleGroup& group = host_.handle_group();
  int rv = tcp_.init(
      group, [loop](uv_tcp_t* t) { return uv_tcp_init(loop, t); }, this);
  if (rv == 0) rv = uv_accept(listener, tcp_.stream());
  if (rv == 0)
    rv = timer_.init(
        group, [loop](uv_timer_t* t) { return uv_timer_init(loop, t); }, this);
  if (rv == 0)
    rv = uv_read_start(tcp_.stream(), &HttpConnection::on_alloc, &HttpConnection::on_read);
  if (rv != 0) {
    close();
    return rv;
  }
  uv_tcp_nodelay(tcp_.get(), 1);
  reading_ = true;
  llhttp_init(&parser_, HTTP_REQUEST, parser_settings());
  parser_.data = this;
  arm_timer(host_.limits().idle_timeout_ms);
  return 0;
}

void HttpConnection::stop() {
  if (in_answer_) return; // answer_request sees it
  if (phase_ == Phase::streaming) return begin_close();
  if (phase_ != Phase::reading) return; // closing already
  if (writes_in_flight_ == 0)
    close();
  else
    begin_close();
}

void HttpConnection::close() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  if (stream_) {
    stream_->detach();
    stream_.reset();
  }
  tcp_.reset();
  timer_.reset();
  host_.retire(this);
}

// ---- libuv trampolines: find the connection, call it, then let the host
// free whatever retired. A null `data` means the owner has gone.

void HttpConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<HttpConnection*>(h->data);
  *buf = self ? self->host_.read_buffer() : uv_buf_init(nullptr, 0);
}

void HttpConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<HttpConnection*>(s->data);
  if (!self) return;
  ConnectionHost& host = self->host_;
  self->handle_read(nread, buf);
  host.reap();
}

void HttpConnection::on_write(uv_write_t* req, int status) {
  auto* self = static_cast<HttpConnection*>(req->handle->data);
  delete static_cast<WriteRequest*>(req->data);
  if (!self) return;
  ConnectionHost& host = self->host_;
  self->handle_write(status);
  host.reap();
}

void HttpConnection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<HttpConnection*>(req->handle->data);
  delete req;
  if (!self) return;
  ConnectionHost& host = self->host_;
  self->handle_shutdown(status);
  host.reap();
}

void HttpConnection::on_timer(uv_timer_t* t) {
  auto* self = static_cast<HttpConnection*>(t->data);
  if (!self) return;
  ConnectionHost& host = self->host_;
  self->handle_timer();
  host.reap();
}

// ---- events

void HttpConnection::handle_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return; // EAGAIN
  if (nread < 0) {
    reading_ = false;
    if (nread != UV_EOF) return close(); // reset by the peer, or worse
    eof_ = true;
    if (phase_ == Phase::streaming) return close(); // the client has gone
    if (phase_ == Phase::closing) {
      if (shutdown_done_) close();
      return;
    }
    // The client has finished sending. A request cut short cannot be
    // answered usefully; responses still queued are delivered first.
    if (in_message_ || writes_in_flight_ == 0) return close();
    return begin_close();
  }
  if (phase_ != Phase::reading) return; // discarded while streaming or lingering
  feed(buf->base, static_cast<size_t>(nread));
}

void HttpConnection::handle_write(int status) {
  assert(writes_in_flight_ > 0);
  --writes_in_flight_;
  if (status < 0) return close(); // the peer has gone
  if (backlogged_ && !backlogged()) resume_after_backlog();
}

void HttpConnection::handle_shutdown(int status) {
  if (status < 0 || eof_) return close();
  shutdown_done_ = true;
  arm_timer(host_.limits().linger_ms);
}

void HttpConnection::handle_timer() {
  if (phase_ == Phase::streaming) {
    // An SSE comment line: ignored by clients, keeps the stream alive.
    if (write_stream(":\n\n")) arm_timer(host_.limits().stream_keepalive_ms);
    return;
  }
  if (phase_ == Phase::reading && in_message_)
    return fail_request(408, "request_timeout", "the request did not arrive in time");
  close(); // idle, or closing and the peer took too long
}

// ---- parsing

int HttpConnection::message_begin() {
  request_ = Request{};
  field_.clear();
  value_.clear();
  in_value_ = false;
  in_message_ = true;
  header_bytes_ = 0;
  arm_timer(host_.limits().request_timeout_ms);
  return 0;
}

int HttpConnection::header_bytes(size_t n) {
  header_bytes_ += n;
  if (header_bytes_ <= host_.limits().max_header_bytes) return 0;
  fail_status_ = 431;
  fail_code_ = "headers_too_large";
  fail_message_ = "the request line and headers exceed " +
                  std::to_string(host_.limits().max_header_bytes) + " bytes";
  return HPE_USER;
}

int HttpConnection::url(const char* at, size_t n) {
  if (int rv = header_bytes(n)) return rv;
  request_.target.append(at, n);
  return 0;
}

void HttpConnection::commit_header() {
  if (field_.empty() && value_.empty()) return;
  trim_trailing_space(value_);
  request_.headers.add(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
}

int HttpConnection::header_field(const char* at, size_t n) {
  if (in_value_) {
    commit_header();
    in_value_ = false;
  }
  // Each line also costs its ": " and CRLF.
  if (int rv = header_bytes(n + (field_.empty() ? 4 : 0))) return rv;
  field_.append(at, n);
  return 0;
}

int HttpConnection::header_value(const char* at, size_t n) {
  in_value_ = true;
  if (int rv = header_bytes(n)) return rv;
  value_.append(at, n);
  return 0;
}

int HttpConnection::headers_complete() {
  commit_header();
  in_value_ = false;
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  request_.http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  const std::string& target = request_.target;
  size_t end = target.find_first_of("?#");
  request_.path = target.substr(0, end);
  if (end != std::string::npos && target[end] == '?') {
    size_t hash = target.find('#', end);
    request_.query = target.substr(end + 1, hash == std::string::npos ? hash : hash - end - 1);
  }
  const ServerLimits& limits = host_.limits();
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > limits.max_body_bytes) {
    fail_status_ = 413;
    fail_code_ = "payload_too_large";
    fail_message_ = "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes";
    return -1;
  }
  // A client waiting for permission to send its body (curl does, for large
  // ones) gets it: the body fits.
  if (auto expect = request_.headers.get("Expect");
      expect && iequals(*expect, "100-continue") && parser_.http_minor >= 1)
    if (!write("HTTP/1.1 100 Continue\r\n\r\n")) return -1;
  return 0;
}

int HttpConnection::body(const char* at, size_t n) {
  const size_t max = host_.limits().max_body_bytes;
  if (request_.body.size() + n > max) { // chunked bodies are only known as they come
    fail_status_ = 413;
    fail_code_ = "payload_too_large";
    fail_message_ = "the request body exceeds " + std::to_string(max) + " bytes";
    return HPE_USER;
  }
  request_.body.append(at, n);
  return 0;
}

int HttpConnection::message_complete() {
  in_message_ = false;
  keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
  return HPE_PAUSED; // answered by feed(), outside the parser
}

void HttpConnection::feed(const char* data, size_t len) {
  while (len > 0 && phase_ == Phase::reading) {
    llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (phase_ != Phase::reading) return; // a write failed inside a callback
    if (err == HPE_OK) return;            // all used; the request goes on in the next read
    if (err != HPE_PAUSED) {
      if (fail_status_ != 0) return fail_request(fail_status_, fail_code_, fail_message_);
      return fail_request(400, "bad_request",
                          std::string("malformed request: ") + llhttp_get_error_reason(&parser_));
    }
    const char* next = llhttp_get_error_pos(&parser_);
    len -= static_cast<size_t>(next - data);
    data = next;
    llhttp_resume(&parser_);
    answer_request();
    if (phase_ == Phase::reading && backlogged()) {
      // The client is not reading its responses: keep the rest for later.
      unparsed_.assign(data, len);
      backlogged_ = true;
      if (reading_) uv_read_stop(tcp_.stream());
      reading_ = false;
      return;
    }
  }
}

void HttpConnection::answer_request() {
  Request request = std::move(request_);
  request_ = Request{};
  in_answer_ = true;
  Response response = host_.respond(request);
  in_answer_ = false;
  bool head_only = request.method == "HEAD";
  if (response.stream) {
    if (host_.stopping())
      response = json_error(503, "unavailable", "the service is shutting down");
    else if (!head_only)
      return start_stream(response);
  }
  // An upgrade (or CONNECT) is not supported: answer, then close rather than
  // treat what follows as HTTP. The head of a stream is not followed by more.
  bool keep_alive =
      keep_alive_ && !host_.stopping() && !llhttp_get_upgrade(&parser_) && !response.stream;
  send(response, keep_alive, head_only);
  if (phase_ == Phase::reading && keep_alive) arm_timer(host_.limits().idle_timeout_ms);
}

void HttpConnection::fail_request(int status, const char* code, std::string message) {
  in_message_ = false;
  send(json_error(status, code, std::move(message)), false, false);
}

void HttpConnection::send(const Response& response, bool keep_alive, bool head_only) {
  bool http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  std::string_view connection = !keep_alive ? "close" : http10 ? "keep-alive" : "";
  host_.count_response(response.status);
  if (!write(serialize(response, connection, head_only))) return;
  if (!keep_alive) begin_close();
}

void HttpConnection::start_stream(const Response& response) {
  host_.count_response(response.status);
  if (!write(serialize(response, "close", false))) return;
  phase_ = Phase::streaming;
  backlogged_ = false;
  unparsed_.clear();
  // Reading goes on (and discards) so that the client's end is noticed.
  if (!reading_ && !eof_) {
    if (uv_read_start(tcp_.stream(), &HttpConnection::on_alloc, &HttpConnection::on_read) != 0)
      return close();
    reading_ = true;
  }
  arm_timer(host_.limits().stream_keepalive_ms);
  stream_ = std::make_shared<Stream>(this);
  response.stream(stream_);
}

bool HttpConnection::write_stream(std::string_view bytes) {
  if (phase_ != Phase::streaming) return false;
  if (backlogged()) { // the client does not read: drop it rather than queue without end
    close();
    return false;
  }
  return write(std::string(bytes));
}

bool HttpConnection::write(std::string bytes) {
  if (phase_ == Phase::closed) return false;
  auto* w = new WriteRequest{};
  w->bytes = std::move(bytes);
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  if (uv_write(&w->req, tcp_.stream(), &buf, 1, &HttpConnection::on_write) != 0) {
    delete w;
    close();
    return false;
  }
  ++writes_in_flight_;
  return true;
}

bool HttpConnection::backlogged() const {
  return uv_stream_get_write_queue_size(tcp_.stream()) > host_.limits().max_pending_write_bytes;
}

void HttpConnection::resume_after_backlog() {
  backlogged_ = false;
  std::string rest = std::move(unparsed_);
  unparsed_.clear();
  feed(rest.data(), rest.size());
  if (phase_ != Phase::reading || backlogged_ || reading_) return;
  if (uv_read_start(tcp_.stream(), &HttpConnection::on_alloc, &HttpConnection::on_read) != 0)
    return close();
  reading_ = true;
}

void HttpConnection::begin_close() {
  if (phase_ != Phase::reading && phase_ != Phase::streaming) return;
  phase_ = Phase::closing;
  backlogged_ = false;
  unparsed_.clear();
  // Bounded like an idle connection: the last response must drain in time.
  arm_timer(host_.limits().idle_timeout_ms);
  // The shutdown waits for the queued writes, then sends FIN.
  auto* req = new uv_shutdown_t{};
  if (uv_shutdown(req, tcp_.stream(), &HttpConnection::on_shutdown) != 0) {
    delete req;
    return close();
  }
  // Keep reading to see the peer's end and to discard what it still sends.
  if (!reading_ && !eof_) {
    if (uv_read_start(tcp_.stream(), &HttpConnection::on_alloc, &HttpConnection::on_read) != 0)
      return close();
    reading_ = true;
  }
}

void HttpConnection::arm_timer(uint64_t ms) {
  if (timer_) uv_timer_start(timer_.get(), &HttpConnection::on_timer, ms, 0);
}

} // namespace qpipe::api
