// One accepted HTTP/1.1 connection of the API server.
//
// It owns its TCP handle, one timer and an llhttp parser. Bytes are parsed as
// they arrive; each complete request is answered at once through the host
// (handlers are synchronous), so responses leave in request order and
// pipelining needs no queue of requests. The parser pauses after every
// request; when the responses the client has not read yet exceed
// ServerLimits::max_pending_write_bytes, the unparsed rest is kept and reading
// stops until the writes drain.
//
// The one timer bounds whatever the connection waits for: the next request
// (idle timeout), the rest of a started request (request timeout, 408), or,
// while closing, the drain of the last response and then the client's end.
// A connection that closes after a response shuts down its sending side and
// keeps reading (and discarding) for a moment, so that unread request bytes
// do not make the kernel reset the connection before the client has read
// the response.
//
// A streaming response (Response::stream, for server-sent events) turns the
// connection into a one-way pipe: the head goes out, parsing stops, and the
// handler's side writes the body through a BodyStream until it ends it, the
// client goes away, or the client falls so far behind that it is dropped.
// Meanwhile the timer sends a keep-alive comment now and then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <uv.h>

#include <llhttp.h>

#include "api/connection_host.h"
#include "api/http_message.h"
#include "api/tracked_handle.h"

namespace qpipe::api {

class HttpConnection {
public:
  explicit HttpConnection(ConnectionHost& host);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Accepts the pending connection of `listener` and starts reading. On
  // failure (a uv error code) the connection has retired itself.
  int start(uv_loop_t* loop, uv_stream_t* listener);
  // The server stops: an idle connection closes now; one with a response in
  // flight closes once that response is out.
  void stop();
  // Closes at once, without a response (a refused or failed connection).
  void close();

private:
  enum class Phase {
    reading,   // parsing requests
    streaming, // writing a streaming response's body; requests are ignored
    closing,   // the last response is queued; waiting for it and the peer's end
    closed,
  };
  class Stream;
  friend class Stream;

  // libuv and llhttp trampolines.
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static const llhttp_settings_t* parser_settings();
  friend struct ParserCallbacks;

  void handle_read(ssize_t nread, const uv_buf_t* buf);
  void handle_write(int status);
  void handle_shutdown(int status);
  void handle_timer();

  // Parser events.
  int message_begin();
  int header_bytes(size_t n);
  int url(const char* at, size_t n);
  int header_field(const char* at, size_t n);
  int header_value(const char* at, size_t n);
  int headers_complete();
  int body(const char* at, size_t n);
  int message_complete();
  void commit_header();

  // Parses `data` until it is used up, the connection closes, or the
  // responses queued make it pause.
  void feed(const char* data, size_t len);
  void answer_request();
  // Answers with an error and closes, for what the parser or a limit refused.
  void fail_request(int status, const char* code, std::string message);
  void send(const Response& response, bool keep_alive, bool head_only);
  void start_stream(const Response& response);
  bool write_stream(std::string_view bytes);
  bool write(std::string bytes);
  bool backlogged() const;
  void resume_after_backlog();
  void begin_close();
  void arm_timer(uint64_t ms);

  ConnectionHost& host_;
  TrackedHandle<uv_tcp_t> tcp_;
  TrackedHandle<uv_timer_t> timer_;
  llhttp_t parser_{};
  Phase phase_ = Phase::reading;

  // The request being parsed.
  Request request_;
  std::string field_, value_;
  bool in_value_ = false;
  bool in_message_ = false; // between the first byte of a request and its end
  size_t header_bytes_ = 0;
  bool keep_alive_ = true; // of the request just completed
  // Set by a parser callback that refuses the request.
  int fail_status_ = 0;
  const char* fail_code_ = "";
  std::string fail_message_;

  // Output and flow control.
  size_t writes_in_flight_ = 0;
  bool in_answer_ = false; // a handler is running for this connection
  bool reading_ = false;
  bool backlogged_ = false; // reading stopped until the writes drain
  std::string unparsed_;    // what arrived behind the request that paused
  bool shutdown_done_ = false;
  bool eof_ = false;
  // The writer handed out for a streaming response; detached on close.
  std::shared_ptr<Stream> stream_;
};

} // namespace qpipe::api
