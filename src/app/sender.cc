// The sending side of a transfer: resolves the listener, connects, checks
// its identity, proves the shared secret, and then sends what SendPipeline
// makes ready: each chunk on its own unidirectional QUIC stream (the lowest
// sequence number first, at most --streams at once, paced by --limit), and
// the control messages on the bidirectional control stream, ending with END.
// It succeeds only when the listener's DONE confirms every byte.
#include <unordered_map>

#include "app/addresses.h"
#include "app/close_reason.h"
#include "app/completion.h"
#include "app/control_out.h"
#include "app/rate_limiter.h"
#include "app/send_pipeline.h"
#include "app/transfer.h"
#include "tls/listener_trust.h"
#include "tls/secret.h"
#include "tls/tls_context.h"

namespace qpipe::app {
namespace {

using transport::Abort;
using transport::AppError;
using transport::CloseInfo;

class Sender final : public Transfer, public transport::ConnectionHandler {
public:
  Sender(uv_loop_t* loop, const SendOptions& opts, std::vector<SendItem> items, bool named,
         const Logger& log, TransferEvents events)
      : loop_(loop), opts_(with_chunk_size(opts)), log_(log), events_(std::move(events)),
        pipeline_(loop, opts_, std::move(items), named, log,
                  SendPipeline::Events{[this](const wire::Message& m) { queue_control(m); },
                                       [this] { on_progressed(); },
                                       [this](const Abort& a) { fail(a); }}) {
    if (opts_.limit_bytes_per_second) limiter_.emplace(opts_.limit_bytes_per_second);
  }
  ~Sender() override { alive_.reset(); }

  static SendOptions with_chunk_size(SendOptions o) {
    o.chunk_size = o.chunk_size_or_default();
    return o;
  }

  Status start();
  void cancel(const Error& why) override { fail(Abort{why, AppError::interrupted}); }
  TransferStats stats() const override;

  // ConnectionHandler
  void on_handshake_completed() override;
  transport::Outcome on_stream_data(int64_t stream_id, std::span<const uint8_t> data,
                                    bool fin) override;
  void on_stream_close(int64_t stream_id, bool has_error, uint64_t code) override;
  void on_extend_max_streams() override { assign_streams(); }
  void on_stream_unblocked(int64_t stream_id) override { set_blocked(stream_id, false); }
  void on_stream_blocked(int64_t stream_id) override { set_blocked(stream_id, true); }
  bool next_send(transport::SendSlot& slot) override;
  void on_sent(int64_t stream_id, size_t n, bool fin) override;
  void on_closed(const CloseInfo& info) override;

private:
  enum class Phase {
    resolving,   // looking up the listener's address
    handshaking, // QUIC and TLS handshake, then the listener's identity
    sending,     // chunks and control messages
    ending,      // END sent; waiting for the listener's DONE
    finished,    // the result is known (Completion delivers it)
  };
  void on_resolved(Result<transport::Address> addr);
  Status connect();
  Result<std::unique_ptr<transport::UdpSocket>> open_socket();
  void migrate();
  void queue_control(const wire::Message& m);
  void on_progressed();
  void assign_streams();
  void maybe_send_end();
  void set_blocked(int64_t stream_id, bool blocked);
  bool rate_allows();
  void flush() {
    if (conn_ && phase_ != Phase::finished) conn_->flush();
  }
  void succeed();
  void fail(const Abort& a);
  void finish(Status st);
  void deliver(const Status& st);
  // Test builds only (send_test_hooks.h): close once the handshake is
  // confirmed, so that the reason travels in a 1-RTT packet.
  void test_hook_close() {
    const auto& hooks = opts_.test_hooks;
    if (!hooks || !hooks->close_after_handshake) return;
    if (phase_ != Phase::sending && phase_ != Phase::ending) return;
    fail(Abort{make_error(Errc::transfer, "test", hooks->close_after_handshake->second),
               static_cast<AppError>(hooks->close_after_handshake->first)});
  }

  uv_loop_t* loop_;
  SendOptions opts_;
  const Logger& log_;
  TransferEvents events_;
  uvx::AliveToken alive_ = uvx::make_alive_token();
  Phase phase_ = Phase::resolving;
  SendPipeline pipeline_;
  Completion completion_;

  tls::Ctx tls_;
  transport::Address remote_;
  std::string peer_name_, peer_fingerprint_;
  std::unique_ptr<transport::UdpSocket> socket_;
  std::unique_ptr<transport::Connection> conn_;
  std::string path_trouble_; // why the path seems gone (migrate_timer_ acts on it)
  bool bind_logged_ = false;
  mutable transport::ConnectionStats last_conn_stats_;
  std::optional<uint64_t> peer_datagrams_received_;

  ControlOut control_out_;
  wire::ControlDecoder control_in_;
  std::unordered_map<int64_t, SendChunk*> by_stream_;
  int in_flight_ = 0;
  // Chunks kept in flight: at least --streams, at most what HELLO announced.
  int announced_streams_ = streams_announced(opts_.chunk_size, opts_.streams);
  int in_flight_limit_ = opts_.streams;
  uint64_t payload_sent_ = 0;
  std::optional<RateLimiter> limiter_;
  uint64_t start_ns_ = 0, end_ns_ = 0;
  TransferStats final_stats_;
  std::optional<tls::IdentityRefusal> identity_refused_;
  uvx::Timer progress_timer_, rate_timer_, migrate_timer_;
};

Status Sender::start() {
  auto ctx = tls::make_client_context(opts_.verify == Verify::ca ? opts_.ca_file : "");
  if (!ctx) return ctx.error();
  tls_ = std::move(*ctx);
  if (auto st = completion_.init(
          loop_, [this] { return pipeline_.idle(); }, [this](const Status& st) { deliver(st); });
      !st)
    return st;
  if (int rv = progress_timer_.init(loop_,
                                    [this] {
                                      test_hook_close();
                                      if (conn_) conn_->check_path(transport::now_ns());
                                      if (events_.on_progress) events_.on_progress(stats());
                                    });
      rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = rate_timer_.init(loop_, [this] { flush(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = migrate_timer_.init(loop_, [this] { migrate(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  start_ns_ = transport::now_ns();
  progress_timer_.start(250, 250);
  pipeline_.read_next();
  return resolve(loop_, opts_.host, opts_.port, opts_.family, alive_,
                 [this](Result<transport::Address> addr) { on_resolved(std::move(addr)); });
}

TransferStats Sender::stats() const {
  TransferStats s;
  bool ok = phase_ == Phase::finished && completion_.result().ok();
  s.bytes = ok ? pipeline_.bytes_read() : payload_sent_;
  s.payload_wire_bytes = pipeline_.payload_wire_bytes();
  s.zstd_levels = pipeline_.zstd_levels();
  s.chunks = pipeline_.chunks_read();
  s.size = pipeline_.total_size();
  pipeline_.fill_file_stats(s);
  s.seconds = static_cast<double>((end_ns_ ? end_ns_ : transport::now_ns()) - start_ns_) / 1e9;
  s.peer = peer_name_;
  s.fingerprint = peer_fingerprint_;
  s.identity_refused = identity_refused_;
  if (conn_) last_conn_stats_ = conn_->stats();
  const auto& cs = last_conn_stats_;
  s.wire_bytes = cs.wire_bytes_sent + cs.wire_bytes_received;
  if (cs.rtt_sampled) s.rtt_ms = cs.smoothed_rtt_ms;
  s.udp_payload = cs.max_udp_payload;
  s.path_changes = cs.path_changes;
  if (cs.max_credit) s.window = cs.max_credit;
  if (cs.max_cwnd) s.cwnd = cs.max_cwnd;
  if (peer_datagrams_received_)
    s.lost_packets = cs.datagrams_sent > *peer_datagrams_received_
                         ? cs.datagrams_sent - *peer_datagrams_received_
                         : 0;
  if (socket_) {
    s.gso = socket_->gso_enabled();
    s.gro = socket_->gro_seen();
  }
  return s;
}

void Sender::on_resolved(Result<transport::Address> addr) {
  if (phase_ == Phase::finished) return;
  if (!addr) return finish(addr.error());
  remote_ = *addr;
  peer_name_ = opts_.host.find(':') != std::string::npos
                   ? "[" + opts_.host + "]:" + std::to_string(opts_.port)
                   : opts_.host + ":" + std::to_string(opts_.port);
  if (auto st = connect(); !st) return finish(st.error());
  phase_ = Phase::handshaking;
  log_.verbose("connecting to " + remote_.to_string());
  flush();
}

// A socket connected to the listener, on --bind or on the address the
// kernel's routes choose now.
Result<std::unique_ptr<transport::UdpSocket>> Sender::open_socket() {
  auto local = local_address(opts_.bind, remote_.family(), 0);
  if (!local) return local.error();
  auto sock = transport::UdpSocket::open(loop_, *local, true, log_);
  if (!sock) return sock.error();
  if (auto st = (*sock)->connect(remote_); !st) return st.error();
  (*sock)->start(
      [this](const transport::Datagram& d) {
        if (conn_) conn_->on_datagram(d);
      },
      [this](int err) {
        if (conn_) conn_->on_socket_error(err);
      },
      [this] { flush(); });
  return sock;
}

Status Sender::connect() {
  auto sock = open_socket();
  if (!sock) return sock.error();
  socket_ = std::move(*sock);
  transport::ConnectionSettings cs;
  cs.cc = opts_.cc;
  cs.idle_timeout_ms = opts_.idle_timeout_ms;
  cs.max_data = 1 << 20; // the listener sends only control messages
  auto conn = transport::Connection::client(loop_, socket_.get(), remote_, cs, tls_.get(),
                                            opts_.host, offered_alpn(opts_.test_hooks),
                                            opts_.verify == Verify::ca, this, log_);
  if (!conn) return conn.error();
  conn_ = std::move(*conn);
  conn_->on_path_trouble = [this](const std::string& why) {
    // Acted on from the loop, outside the connection's own calls.
    path_trouble_ = why;
    migrate_timer_.start(0);
  };
  return {};
}

// The path seems gone (an interface went down, a route changed, a NAT
// forgot us): a new socket lets the kernel pick the local address that
// routes to the listener now, and the connection moves there. Nothing
// changes when the kernel would pick the same address again; with --bind
// the local address is the user's, and stays.
void Sender::migrate() {
  if (!conn_ || conn_->closed() || phase_ == Phase::finished) return;
  std::string why = std::exchange(path_trouble_, {});
  if (!opts_.bind.empty()) {
    if (!bind_logged_)
      log_.verbose("path trouble (" + why + "), but --bind keeps the local address");
    bind_logged_ = true;
    return;
  }
  auto sock = open_socket();
  if (!sock) {
    log_.verbose("path trouble (" + why +
                 "); no other way to the listener yet: " + sock.error().message());
    return;
  }
  transport::Address was = conn_->local(), now = (*sock)->local();
  was.set_port(0);
  now.set_port(0);
  if (was == now) {
    log_.verbose("path trouble (" + why + "); the route still leaves from " +
                 conn_->local().to_string() + ", staying");
    return;
  }
  log_.verbose("path trouble (" + why + "); moving to " + (*sock)->local().to_string());
  if (auto st = conn_->migrate(sock->get()); !st) {
    log_.verbose("cannot migrate: " + st.error().message());
    return;
  }
  socket_ = std::move(*sock); // the old socket closes here
}

void Sender::on_handshake_completed() {
  // The listener's identity is settled before a single byte is sent.
  auto fp = tls::listener_fingerprint(conn_->ssl(), peer_name_);
  if (!fp) return fail(Abort{fp.error(), AppError::refused});
  peer_fingerprint_ = *fp;
  tls::ListenerTrust trust{opts_.verify, opts_.pin, opts_.ca_file, opts_.known_hosts_file,
                           opts_.peer_key};
  tls::IdentityRefusal refusal;
  if (auto st = tls::check_listener(peer_fingerprint_, trust, peer_name_, log_, &refusal); !st) {
    if (!refusal.presented.empty()) identity_refused_ = std::move(refusal);
    return fail(Abort{st.error(), AppError::refused});
  }
  log_.verbose("connected to " + peer_name_ + " (QUIC, TLS 1.3, ALPN " + std::string(kAlpn) +
               "), fingerprint " + peer_fingerprint_);
  auto id = conn_->open_bidi_stream();
  if (!id) return fail(Abort{id.error(), AppError::internal});
  // AUTH and HELLO go first, before what the pipeline queued meanwhile.
  wire::Hello hello;
  hello.streams = static_cast<uint16_t>(announced_streams_);
  hello.chunk_size = opts_.chunk_size;
  hello.size_hint = pipeline_.total_size().value_or(UINT64_MAX);
  hello.files = pipeline_.named_files();
  if (pipeline_.uses_history()) hello.flags = wire::kHelloHistory;
  if (sends_hello(opts_.test_hooks)) control_out_.prepend(wire::encode(hello));
  if (opts_.secret && sends_hello(opts_.test_hooks)) {
    auto proof = tls::secret_proof(conn_->ssl(), *opts_.secret);
    if (!proof) return fail(Abort{proof.error(), AppError::internal});
    control_out_.prepend(wire::encode(wire::Auth{*proof}));
  }
  // Without HELLO (a test hook) nothing goes on the control stream at all.
  if (sends_hello(opts_.test_hooks)) control_out_.open(*id);
  phase_ = Phase::sending;
  pipeline_.connected();
  on_progressed();
}

transport::Outcome Sender::on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool) {
  if (stream_id != control_out_.stream_id())
    return transport::protocol_abort("data on an unexpected stream");
  if (auto st = control_in_.feed(data); !st) return Abort{st.error(), AppError::protocol};
  // The listener's messages are taken at once: their credit goes back (one
  // RESUME offer per file would otherwise fill the window).
  conn_->extend_max_stream_offset(stream_id, data.size());
  conn_->extend_max_offset(data.size());
  while (auto m = control_in_.next()) {
    if (auto* r = std::get_if<wire::Resume>(&*m)) {
      if (auto o = pipeline_.on_resume_offer(*r); !o) return o;
      continue;
    }
    auto* done = std::get_if<wire::Done>(&*m);
    if (!done) return transport::protocol_abort("unexpected control message");
    if (phase_ != Phase::ending || done->bytes != pipeline_.bytes_read())
      return transport::protocol_abort("DONE does not match what was sent");
    peer_datagrams_received_ = done->datagrams_received;
    succeed();
  }
  return {};
}

void Sender::on_stream_close(int64_t stream_id, bool has_error, uint64_t code) {
  auto it = by_stream_.find(stream_id);
  if (it == by_stream_.end()) return;
  SendChunk* c = it->second;
  by_stream_.erase(it);
  if (has_error && code != 0)
    return fail(Abort{
        make_error(Errc::transfer, "transfer",
                   std::string("listener reset a stream: ") + transport::app_error_text(code)),
        AppError::protocol});
  // Acknowledged in full: the buffers can go.
  --in_flight_;
  pipeline_.acknowledged(*c);
  assign_streams();
}

void Sender::set_blocked(int64_t stream_id, bool blocked) {
  if (stream_id == control_out_.stream_id()) control_out_.set_blocked(blocked);
  if (auto it = by_stream_.find(stream_id); it != by_stream_.end()) it->second->blocked = blocked;
}

bool Sender::next_send(transport::SendSlot& slot) {
  if (control_out_.next(slot)) return true;
  if (limiter_ && !rate_allows()) return false;
  for (auto& cp : pipeline_.chunks()) {
    SendChunk& c = *cp;
    if (c.stream_id < 0) break; // streams are assigned in order
    if (c.fin_sent || c.blocked || withheld(opts_.test_hooks, c.seq)) continue;
    slot.stream_id = c.stream_id;
    slot.cnt = 0;
    constexpr size_t H = wire::ChunkHeader::kSize;
    if (c.sent < H) slot.vec[slot.cnt++] = {c.header.data() + c.sent, H - c.sent};
    size_t poff = c.sent > H ? c.sent - H : 0;
    slot.vec[slot.cnt++] = {const_cast<uint8_t*>(c.payload()) + poff, c.wire_len - poff};
    slot.fin = true;
    return true;
  }
  return false;
}

void Sender::on_sent(int64_t stream_id, size_t n, bool fin) {
  if (stream_id == control_out_.stream_id()) return control_out_.sent(n, fin);
  auto it = by_stream_.find(stream_id);
  if (it == by_stream_.end()) return;
  SendChunk& c = *it->second;
  constexpr size_t H = wire::ChunkHeader::kSize;
  size_t before = c.sent > H ? c.sent - H : 0;
  c.sent += n;
  size_t after = c.sent > H ? c.sent - H : 0;
  payload_sent_ += after - before;
  if (limiter_) limiter_->consumed(n);
  if (fin) c.fin_sent = true;
}

bool Sender::rate_allows() {
  uint64_t wait_ms = 0;
  if (limiter_->allows(transport::now_ns(), &wait_ms)) return true;
  rate_timer_.start(wait_ms);
  return false;
}

void Sender::on_closed(const CloseInfo& info) {
  if (phase_ == Phase::finished) return;
  if (info.kind == CloseInfo::Kind::handshake && opts_.verify == Verify::ca)
    return finish(make_error(Errc::refused, peer_name_,
                             "the listener's certificate did not verify against " + opts_.ca_file +
                                 " (" + info.reason + ")"));
  if (info.kind == CloseInfo::Kind::local)
    return finish(info.error.value_or(make_error(Errc::transfer, "transfer", info.reason)));
  finish(describe_close(info, phase_ >= Phase::sending, peer_name_, "listener",
                        opts_.idle_timeout_ms));
}

// Control messages are queued at once; they go out once the control stream
// is open (after HELLO).
void Sender::queue_control(const wire::Message& m) {
  control_out_.append(wire::encode(m));
  flush();
}

void Sender::on_progressed() {
  assign_streams();
  maybe_send_end();
  flush();
}

void Sender::assign_streams() {
  if (phase_ != Phase::sending && phase_ != Phase::ending) return;
  // As many chunks in flight as the congestion window needs (send_chunk.h).
  int limit =
      chunks_in_flight(conn_->stats().cwnd, opts_.chunk_size, opts_.streams, announced_streams_);
  if (limit != in_flight_limit_) {
    in_flight_limit_ = limit;
    pipeline_.set_in_flight(limit);
  }
  for (auto& cp : pipeline_.chunks()) {
    if (in_flight_ >= in_flight_limit_) break;
    SendChunk& c = *cp;
    if (c.stream_id >= 0) continue;
    if (!c.hashed || conn_->streams_uni_left() == 0) break;
    auto id = conn_->open_uni_stream();
    if (!id) break;
    c.stream_id = *id;
    by_stream_[*id] = &c;
    ++in_flight_;
  }
  flush();
}

void Sender::maybe_send_end() {
  if (phase_ != Phase::sending || !pipeline_.input_complete()) return;
  wire::End end = pipeline_.end_message();
  end.datagrams_sent = conn_ ? conn_->stats().datagrams_sent : 0;
  control_out_.append(wire::encode(end));
  control_out_.finish(); // END is the last message: the FIN goes with it
  phase_ = Phase::ending;
  log_.verbose(strprintf("input done: %llu bytes in %llu chunks; waiting for the listener",
                         static_cast<unsigned long long>(end.bytes),
                         static_cast<unsigned long long>(end.chunks)));
  flush();
}

void Sender::succeed() {
  if (conn_) {
    last_conn_stats_ = conn_->stats();
    conn_->close_quietly();
  }
  finish({});
}

void Sender::fail(const Abort& a) {
  if (phase_ == Phase::finished) return;
  // An open connection reports on_closed(local), which finishes with a.error.
  if (conn_ && !conn_->closed()) conn_->close(a);
  finish(a.error);
}

void Sender::finish(Status st) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  end_ns_ = transport::now_ns();
  completion_.complete(std::move(st));
  final_stats_ = stats();
  pipeline_.stop([this] { completion_.poke(); });
}

void Sender::deliver(const Status& st) {
  progress_timer_.close();
  rate_timer_.close();
  migrate_timer_.close();
  conn_.reset();
  socket_.reset();
  if (events_.on_done) events_.on_done(st, final_stats_);
}

// `named`: the items are files sent with their names (FILE messages);
// otherwise there is one anonymous item (a stream).
Result<std::unique_ptr<Transfer>> start_sender(uv_loop_t* loop, const SendOptions& opts,
                                               std::vector<SendItem> items, bool named,
                                               const Logger& log, TransferEvents events) {
  auto s = std::make_unique<Sender>(loop, opts, std::move(items), named, log, std::move(events));
  if (auto st = s->start(); !st) return st.error();
  return std::unique_ptr<Transfer>(std::move(s));
}

} // namespace

Result<std::unique_ptr<Transfer>> start_send(uv_loop_t* loop, const SendOptions& opts,
                                             std::unique_ptr<ByteSource> source, const Logger& log,
                                             TransferEvents events) {
  auto shared = std::make_shared<std::unique_ptr<ByteSource>>(std::move(source));
  SendItem item;
  item.meta.size = (*shared)->size();
  item.open = [shared]() -> Result<std::unique_ptr<ByteSource>> {
    if (!*shared) return make_error(Errc::local_io, "source", "opened twice");
    return std::move(*shared);
  };
  std::vector<SendItem> items;
  items.push_back(std::move(item));
  return start_sender(loop, opts, std::move(items), false, log, std::move(events));
}

Result<std::unique_ptr<Transfer>> start_send_files(uv_loop_t* loop, const SendOptions& opts,
                                                   std::vector<SendItem> items, const Logger& log,
                                                   TransferEvents events) {
  return start_sender(loop, opts, std::move(items), true, log, std::move(events));
}

} // namespace qpipe::app
