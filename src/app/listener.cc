// The listening side: a UDP socket that accepts QUIC connections, routes
// datagrams to them by connection ID, and runs one Receiver per connection.
// Without -k it ends with the first transfer; with -k it keeps listening,
// and with -k -o DIR transfers run side by side.
//
// Admission, so that peers that prove nothing cost little and hold nothing
// for long:
// - Transfers (senders whose HELLO, and AUTH with a secret, were accepted)
//   count against --max-connections; beyond it, new senders are refused.
// - Connections that have not proven themselves yet have a budget of their
//   own, kHandshakeBudget. Beyond kRetryAbove of them, an Initial without a
//   Retry token gets a Retry instead of state (retry_tokens.h), so senders
//   with forged addresses cost nothing; beyond the budget, even a validated
//   Initial is dropped (its sender repeats it a moment later). Each has
//   kProofDeadlineMs after its handshake (receiver.h).
// - Chunk data of all transfers shares one MemoryBudget (memory_budget.h).
#include <algorithm>
#include <cstring>
#include <ngtcp2/ngtcp2_crypto.h>
#include <set>
#include <unordered_map>

#include "app/addresses.h"
#include "app/close_reason.h"
#include "app/completion.h"
#include "app/receiver.h"
#include "app/transfer.h"
#include "core/fs.h"
#include "tls/identity_store.h"
#include "tls/tls_context.h"
#include "transport/retry_tokens.h"
#include "uv/fd_io.h"

namespace qpipe::app {
namespace {

using transport::AppError;

std::string cid_key(const uint8_t* data, size_t len) {
  return std::string(reinterpret_cast<const char*>(data), len);
}

// Connections not yet proven, at most; above kRetryAbove, address
// validation first.
constexpr size_t kHandshakeBudget = 64;
constexpr size_t kRetryAbove = 16;

class Listener final : public Transfer, public ReceiverHost {
public:
  Listener(uv_loop_t* loop, const ListenOptions& opts, SinkFactory make_sink, const Logger& log,
           TransferEvents events)
      : loop_(loop), opts_(opts), make_sink_(std::move(make_sink)), log_(log),
        events_(std::move(events)) {}

  Status start();
  void cancel(const Error& why) override {
    if (completion_.done()) return;
    for (auto& r : receivers_)
      r->abort(why, AppError::interrupted);
    complete(why);
  }
  TransferStats stats() const override {
    TransferStats s = active_.empty() ? last_stats_ : receiver_stats(**active_.begin());
    s.fingerprint = identity_.fingerprint;
    if (socket_) s.local = socket_->local().to_string();
    return s;
  }

  // ReceiverHost
  Status begin_transfer(Receiver& r) override;
  MemoryBudget& memory() override { return memory_; }
  Result<std::unique_ptr<ByteSink>> make_sink(const FileMeta* file) override;
  Result<std::shared_ptr<uvx::PartialFile>> claim_partial(const FileMeta& meta) override;
  void receiver_finished(Receiver& r, const Status& st) override;
  void receiver_idle() override {
    cleanup_timer_.start(0); // a finished receiver may be freed now
    completion_.poke();
  }
  void file_event(const FileEvent& e) override {
    if (events_.on_file) events_.on_file(e);
  }

private:
  Result<std::unique_ptr<transport::UdpSocket>> open_socket();
  void on_datagram(const transport::Datagram& d);
  void refuse(const transport::Datagram& d, const ngtcp2_pkt_hd& hd, uint64_t code,
              const char* reason);
  void send_retry(const transport::Datagram& d, const ngtcp2_pkt_hd& hd);
  void accept(const transport::Datagram& d, const ngtcp2_pkt_hd& hd, const ngtcp2_version_cid& vc,
              const ngtcp2_cid* retry_odcid);
  size_t proven() const;
  size_t unproven() const;
  void tick();
  void flush_all() {
    for (auto& r : receivers_)
      if (r->conn() && !r->conn()->closed()) r->conn()->flush();
  }
  void cleanup();
  // A receiver's stats, with what only the shared socket knows.
  TransferStats receiver_stats(const Receiver& r) const {
    TransferStats s = r.stats();
    if (socket_) {
      s.gso = socket_->gso_enabled();
      s.gro = socket_->gro_seen();
    }
    return s;
  }
  void progress() {
    if (events_.on_progress && !active_.empty())
      events_.on_progress(receiver_stats(**active_.begin()));
  }
  void complete(Status st) {
    if (completion_.done()) return;
    if (!active_.empty()) last_stats_ = receiver_stats(**active_.begin());
    completion_.complete(std::move(st));
  }
  bool idle() const {
    for (auto& r : receivers_)
      if (!r->idle()) return false; // pending writes or hashing hold buffers: wait
    return true;
  }
  void deliver(const Status& st);

  uv_loop_t* loop_;
  ListenOptions opts_;
  SinkFactory make_sink_;
  const Logger& log_;
  TransferEvents events_;
  Completion completion_;
  tls::Identity identity_;
  tls::Ctx tls_;
  std::unique_ptr<transport::UdpSocket> socket_;
  transport::RetryTokens retry_;
  // Declared before the receivers: they give their part back as they go.
  MemoryBudget memory_{kListenerMemory};
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::unordered_map<std::string, Receiver*> by_cid_;
  std::set<Receiver*> active_; // receivers with a transfer under way
  TransferStats last_stats_;
  bool refusal_logged_ = false, retry_logged_ = false, full_logged_ = false;
  uvx::Timer cleanup_timer_, progress_timer_, tick_timer_;
};

Status Listener::start() {
  if (opts_.cert_file.empty() && opts_.identity_dir.empty())
    return make_error(Errc::usage, "listen", "no identity: give a certificate or a directory");
  auto id = !opts_.cert_file.empty() ? tls::load_identity(opts_.cert_file, opts_.key_file)
                                     : tls::load_or_create_identity(opts_.identity_dir);
  if (!id) return id.error();
  identity_ = std::move(*id);
  auto ctx = tls::make_server_context(identity_);
  if (!ctx) return ctx.error();
  tls_ = std::move(*ctx);
  if (auto st = completion_.init(
          loop_, [this] { return idle(); }, [this](const Status& st) { deliver(st); });
      !st)
    return st;
  if (int rv = cleanup_timer_.init(loop_, [this] { cleanup(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = progress_timer_.init(loop_, [this] { progress(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = tick_timer_.init(loop_, [this] { tick(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  auto sock = open_socket();
  if (!sock) return sock.error();
  socket_ = std::move(*sock);
  socket_->start([this](const transport::Datagram& d) { on_datagram(d); },
                 [](int) { /* ICMP errors about a sender are handled by its idle timeout */ },
                 [this] { flush_all(); });
  progress_timer_.start(250, 250);
  tick_timer_.start(250, 250);
  if (events_.on_info)
    events_.on_info(std::string(kListeningPrefix) + socket_->local().to_string() +
                    ", fingerprint " + identity_.fingerprint);
  return {};
}

// All addresses, dual-stack (falling back to IPv4 without IPv6), or the
// numeric address given.
Result<std::unique_ptr<transport::UdpSocket>> Listener::open_socket() {
  if (!opts_.host.empty()) {
    auto local = local_address(opts_.host, opts_.family, opts_.port);
    if (!local)
      return make_error(Errc::usage, opts_.host,
                        "listen on a numeric address (or leave it out to listen on all)");
    return transport::UdpSocket::open(loop_, *local, true, log_);
  }
  auto local = local_address(opts_.bind, opts_.family == AF_INET ? AF_INET : AF_INET6, opts_.port);
  if (!local) return local.error();
  auto sock = transport::UdpSocket::open(loop_, *local, opts_.family == AF_INET6, log_);
  if (!sock && opts_.family == AF_UNSPEC && opts_.bind.empty()) {
    // No IPv6 on this host: fall back to IPv4.
    local = local_address("", AF_INET, opts_.port);
    sock = transport::UdpSocket::open(loop_, *local, true, log_);
  }
  return sock;
}

Status Listener::begin_transfer(Receiver& r) {
  if (completion_.done()) return make_error(Errc::transfer, "listener", "shutting down");
  // With -k and a directory, transfers run side by side; otherwise one at a time.
  bool concurrent = opts_.keep_listening && opts_.output_is_directory;
  if (!active_.empty() && !active_.count(&r) && !concurrent)
    return make_error(Errc::transfer, "listener", "busy with another transfer");
  // Slots may have filled while this sender was proving itself.
  if (proven() >= static_cast<size_t>(opts_.max_connections))
    return make_error(Errc::transfer, "listener",
                      "busy: --max-connections " + std::to_string(opts_.max_connections) +
                          " transfers under way");
  active_.insert(&r);
  return {};
}

size_t Listener::proven() const {
  return static_cast<size_t>(std::count_if(receivers_.begin(), receivers_.end(),
                                           [](const auto& r) { return r->proven(); }));
}

size_t Listener::unproven() const {
  return static_cast<size_t>(std::count_if(receivers_.begin(), receivers_.end(), [](const auto& r) {
    return !r->proven() && !r->finished() && r->conn() && !r->conn()->closed();
  }));
}

void Listener::tick() {
  uint64_t now = transport::now_ns();
  for (size_t i = 0; i < receivers_.size(); ++i)
    receivers_[i]->on_tick(now);
  flush_all();
}

Result<std::unique_ptr<ByteSink>> Listener::make_sink(const FileMeta* file) {
  if (!file || !opts_.resume) return make_sink_(file);
  FileMeta m = *file;
  m.resumable = true;
  return make_sink_(&m);
}

Result<std::shared_ptr<uvx::PartialFile>> Listener::claim_partial(const FileMeta& meta) {
  if (!opts_.resume || !opts_.output || opts_.output_is_device)
    return std::shared_ptr<uvx::PartialFile>();
  if (opts_.output_is_directory) return uvx::PartialFile::claim(*opts_.output, meta.name);
  auto [dir, base] = split_path(*opts_.output);
  return uvx::PartialFile::claim(dir, base);
}

void Listener::receiver_finished(Receiver& r, const Status& st) {
  if (active_.count(&r)) {
    last_stats_ = receiver_stats(r);
    active_.erase(&r);
    if (opts_.keep_listening) {
      // The front end reports each transfer (its error or its summary), as
      // it reports the only one of a listener without -k.
      if (events_.on_transfer_done) events_.on_transfer_done(st, last_stats_);
    } else {
      complete(st);
    }
  } else if (!st.ok()) {
    // A sender that never started a transfer (refused, wrong protocol, gone
    // during the handshake): the listener goes on listening.
    if (st.error().code == Errc::refused)
      log_.info(st.error().message());
    else
      log_.verbose("connection from " + r.peer() + " ended: " + st.error().message());
  }
  cleanup_timer_.start(0);
}

void Listener::on_datagram(const transport::Datagram& d) {
  if (completion_.done()) return;
  ngtcp2_version_cid vc;
  int rv = ngtcp2_pkt_decode_version_cid(&vc, d.data.data(), d.data.size(), transport::kCidLen);
  if (rv != 0) return; // not QUIC, or a version we do not speak: ignore it
  auto it = by_cid_.find(cid_key(vc.dcid, vc.dcidlen));
  if (it != by_cid_.end()) {
    if (auto* c = it->second->conn()) c->on_datagram(d);
    return;
  }
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, d.data.data(), d.data.size()) != 0) return;
  if (proven() >= static_cast<size_t>(opts_.max_connections)) {
    if (!refusal_logged_)
      log_.info("refusing senders beyond --max-connections " +
                std::to_string(opts_.max_connections));
    refusal_logged_ = true;
    return refuse(d, hd, NGTCP2_CONNECTION_REFUSED, "too many connections");
  }
  ngtcp2_cid odcid;
  auto token = retry_.check(hd, d.remote, transport::now_ns(), &odcid);
  if (token == transport::RetryTokens::Check::invalid)
    return refuse(d, hd, NGTCP2_INVALID_TOKEN, "invalid or expired address validation token");
  bool validated = token == transport::RetryTokens::Check::valid;
  size_t pending = unproven();
  if (!validated && pending >= kRetryAbove) return send_retry(d, hd);
  if (pending >= kHandshakeBudget) {
    // The sender repeats its Initial; by then a handshake may have ended.
    if (!full_logged_)
      log_.verbose(strprintf("%zu senders are proving themselves; new ones wait", pending));
    full_logged_ = true;
    return;
  }
  accept(d, hd, vc, validated ? &odcid : nullptr);
}

// Refused at once, without state; the sender hears why.
void Listener::refuse(const transport::Datagram& d, const ngtcp2_pkt_hd& hd, uint64_t code,
                      const char* reason) {
  uint8_t buf[1500];
  auto n = ngtcp2_crypto_write_connection_close(buf, sizeof buf, hd.version, &hd.scid, &hd.dcid,
                                                code, reinterpret_cast<const uint8_t*>(reason),
                                                std::strlen(reason));
  if (n > 0) socket_->send(d.remote, buf, static_cast<size_t>(n), static_cast<size_t>(n));
}

// Many connections are proving themselves: before state is kept for one
// more, its sender shows that it receives at its address.
void Listener::send_retry(const transport::Datagram& d, const ngtcp2_pkt_hd& hd) {
  uint8_t buf[256];
  size_t n = retry_.write_retry(buf, sizeof buf, hd, d.remote, transport::now_ns());
  if (n > 0) socket_->send(d.remote, buf, n, n);
  if (!retry_logged_)
    log_.verbose(strprintf("over %zu senders proving themselves: asking new ones to validate "
                           "their address (Retry)",
                           kRetryAbove));
  retry_logged_ = true;
}

void Listener::accept(const transport::Datagram& d, const ngtcp2_pkt_hd& hd,
                      const ngtcp2_version_cid& vc, const ngtcp2_cid* retry_odcid) {
  transport::ConnectionSettings cs;
  cs.cc = opts_.cc;
  cs.idle_timeout_ms = opts_.idle_timeout_ms;
  // Control messages only, and no chunk stream, until the sender has proven
  // itself (Receiver::on_memory_granted).
  cs.max_data = kControlAllowance;
  cs.max_stream_data_uni = wire::ChunkHeader::kSize + wire::max_wire_len(wire::kMaxChunkRaw);
  cs.max_streams_uni = 0;
  cs.max_streams_bidi = 1;
  auto r = std::make_unique<Receiver>(*this, loop_, opts_, log_);
  auto conn = transport::Connection::server(loop_, socket_.get(), d.local, d.remote, hd,
                                            retry_odcid, cs, tls_.get(), r.get(), log_);
  if (!conn) {
    log_.verbose("cannot accept a connection: " + conn.error().message());
    return;
  }
  Receiver* rp = r.get();
  r->set_peer(d.remote.to_string());
  r->attach(std::move(*conn));
  transport::Connection* c = r->conn();
  c->on_cid_change = [this, rp](const ngtcp2_cid& cid, bool add) {
    if (add)
      by_cid_[cid_key(cid.data, cid.datalen)] = rp;
    else
      by_cid_.erase(cid_key(cid.data, cid.datalen));
  };
  by_cid_[cid_key(vc.dcid, vc.dcidlen)] = rp; // the client's chosen DCID
  for (const auto& cid : c->scids())
    by_cid_[cid_key(cid.data, cid.datalen)] = rp;
  receivers_.push_back(std::move(r));
  c->on_datagram(d);
}

void Listener::cleanup() {
  for (auto it = receivers_.begin(); it != receivers_.end();) {
    Receiver* r = it->get();
    bool dead = r->finished() || !r->conn() || r->conn()->closed();
    if (dead && r->idle() && !active_.count(r)) {
      std::erase_if(by_cid_, [r](const auto& entry) { return entry.second == r; });
      it = receivers_.erase(it);
    } else {
      ++it;
    }
  }
}

void Listener::deliver(const Status& st) {
  progress_timer_.close();
  tick_timer_.close();
  cleanup_timer_.close();
  receivers_.clear();
  by_cid_.clear();
  socket_.reset();
  TransferStats final_stats = last_stats_;
  final_stats.fingerprint = identity_.fingerprint;
  if (events_.on_done) events_.on_done(st, final_stats);
}

} // namespace

Result<std::unique_ptr<Transfer>> start_listen(uv_loop_t* loop, const ListenOptions& opts,
                                               SinkFactory make_sink, const Logger& log,
                                               TransferEvents events) {
  auto l = std::make_unique<Listener>(loop, opts, std::move(make_sink), log, std::move(events));
  if (auto st = l->start(); !st) return st.error();
  return std::unique_ptr<Transfer>(std::move(l));
}

} // namespace qpipe::app
