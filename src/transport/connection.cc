#include "transport/connection.h"

#include <wolfssl/options.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>
#include <sys/random.h>
#include <wolfssl/ssl.h>

#include "core/printable.h"
#include "transport/connection_callbacks.h"

namespace qpipe::transport {

uint64_t now_ns() {
  return uv_hrtime();
}

void random_bytes(uint8_t* out, size_t n) {
  while (n > 0) {
    ssize_t r = getrandom(out, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::abort(); // no entropy at all: nothing sensible can continue
    }
    out += r;
    n -= static_cast<size_t>(r);
  }
}

const char* app_error_text(uint64_t code) {
  switch (static_cast<AppError>(code)) {
  case AppError::no_error:
    return "closed";
  case AppError::internal:
    return "internal error";
  case AppError::protocol:
    return "protocol violation";
  case AppError::digest_mismatch:
    return "integrity check failed (digest mismatch)";
  case AppError::output_failed:
    return "the listener could not write the data";
  case AppError::interrupted:
    return "interrupted";
  case AppError::refused:
    return "refused";
  case AppError::input_failed:
    return "the sender could not read its input";
  case AppError::busy:
    return "busy with another transfer";
  }
  return "unknown error";
}

namespace {

// The largest UDP payload a probe tries: an IPv4 datagram's limit (65507)
// less a margin that keeps one datagram within a GRO batch on loopback.
constexpr uint16_t kMaxUdpPayload = 65452;

ngtcp2_cc_algo cc_algo(CongestionControl cc) {
  switch (cc) {
  case CongestionControl::bbr:
    return NGTCP2_CC_ALGO_BBR;
  case CongestionControl::reno:
    return NGTCP2_CC_ALGO_RENO;
  case CongestionControl::cubic:
    break;
  }
  return NGTCP2_CC_ALGO_CUBIC;
}

ngtcp2_cid random_cid() {
  ngtcp2_cid cid;
  cid.datalen = kCidLen;
  random_bytes(cid.data, cid.datalen);
  return cid;
}

ngtcp2_path make_path(Address& local, Address& remote) {
  ngtcp2_path p{};
  p.local.addr = local.sa();
  p.local.addrlen = local.len;
  p.remote.addr = remote.sa();
  p.remote.addrlen = remote.len;
  return p;
}

} // namespace

// The timer is made on the loop later, in attach().
Connection::Connection(UdpSocket* socket, ConnectionHandler* handler, const Logger& log)
    : socket_(socket), handler_(handler), log_(log) {
  conn_ref_.get_conn = detail::get_conn;
  conn_ref_.user_data = this;
  random_bytes(reset_secret_.data(), reset_secret_.size());
}

Connection::~Connection() {
  timer_.close();
  if (conn_) ngtcp2_conn_del(conn_);
}

Status Connection::init_common(const ConnectionSettings& s, ngtcp2_settings& settings,
                               ngtcp2_transport_params& params) {
  ngtcp2_settings_default(&settings);
  settings.initial_ts = last_ts_ = now_ns();
  settings.cc_algo = cc_algo(s.cc);
  // Let PMTUD find what the path carries: Ethernet's 1500-byte MTU, jumbo
  // frames, or the 64 KiB of loopback. Fewer, larger packets cost less CPU;
  // a probe the path cannot carry is lost (or refused with EMSGSIZE, as DF is
  // set) and the connection stays at the size that worked. ngtcp2 tries the
  // probes in order and, after one failed, only smaller ones. A 1500-byte
  // Ethernet MTU carries 1452 bytes of UDP payload over IPv6 and 1472 over
  // IPv4: 1.4% more payload per link byte, worth 0.15 MB/s at 100 Mbit/s.
  // 1452 goes first on IPv4 too, so a path a little under 1500 (PPPoE's
  // 1492) still gets it in one round trip.
  static const uint16_t probes_v6[] = {1452, 8952, 16336, 32720, kMaxUdpPayload};
  static const uint16_t probes_v4[] = {1452, 1472, 8972, 16336, 32720, kMaxUdpPayload};
  if (remote_.is_ipv4()) {
    settings.pmtud_probes = probes_v4;
    settings.pmtud_probeslen = std::size(probes_v4);
  } else {
    settings.pmtud_probes = probes_v6;
    settings.pmtud_probeslen = std::size(probes_v6);
  }
  settings.max_tx_udp_payload_size = kMaxUdpPayload;
  settings.handshake_timeout = std::min<uint64_t>(s.idle_timeout_ms, 10'000) * NGTCP2_MILLISECONDS;
  // Before the first RTT sample, a lost first flight (the sender's Initial,
  // or the listener's answer) is sent again after three times the initial
  // RTT: 300 ms with 100 ms, where RFC 9002's 333 ms gives 1 s (as TCP's
  // SYN timeout). With 5% loss each way that happens to about one transfer
  // in ten, and cost 0.7 s of a 5 s transfer; a path slower than 300 ms per
  // round trip gets a spare copy of its first packets instead. ngtcp2 also
  // gives the validation of a new path (a NAT rebinding, a migration) at
  // least three times the first probe timeout: about 1 s instead of 3 s,
  // enough for a new path of up to about 900 ms per round trip.
  settings.initial_rtt = kInitialRtt;
  settings.ack_thresh = 8;
  if (log_.verbosity() >= Verbosity::debug) settings.log_printf = detail::ngtcp2_debug_log;
  ngtcp2_transport_params_default(&params);
  params.initial_max_data = s.max_data;
  params.initial_max_stream_data_uni = s.max_stream_data_uni;
  params.initial_max_stream_data_bidi_local = s.max_stream_data_bidi;
  params.initial_max_stream_data_bidi_remote = s.max_stream_data_bidi;
  params.initial_max_streams_uni = s.max_streams_uni;
  params.initial_max_streams_bidi = s.max_streams_bidi;
  params.max_idle_timeout = s.idle_timeout_ms * NGTCP2_MILLISECONDS;
  params.active_connection_id_limit = 4;
  return {};
}

Result<std::unique_ptr<Connection>>
Connection::client(uv_loop_t* loop, UdpSocket* socket, const Address& remote,
                   const ConnectionSettings& s, WOLFSSL_CTX* tls, const std::string& sni,
                   std::string_view alpn, bool check_name, ConnectionHandler* handler,
                   const Logger& log) {
  std::unique_ptr<Connection> c(new Connection(socket, handler, log));
  c->local_ = socket->local();
  c->remote_ = remote;
  c->cur_local_ = c->local_;
  c->cur_remote_ = remote;
  ngtcp2_cid dcid = random_cid(), scid = random_cid();
  ngtcp2_settings settings;
  ngtcp2_transport_params params;
  if (auto st = c->init_common(s, settings, params); !st) return st.error();
  auto path = make_path(c->local_, c->remote_);
  auto callbacks = detail::make_callbacks(false);
  int rv = ngtcp2_conn_client_new(&c->conn_, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks,
                                  &settings, &params, nullptr, c.get());
  if (rv != 0) return make_error(Errc::connect, "QUIC", ngtcp2_strerror(rv));
  if (auto st = c->attach(loop, tls::make_client_session(tls, sni, alpn, check_name)); !st)
    return st.error();
  return c;
}

Result<std::unique_ptr<Connection>>
Connection::server(uv_loop_t* loop, UdpSocket* socket, const Address& local, const Address& remote,
                   const ngtcp2_pkt_hd& hd, const ngtcp2_cid* retry_odcid,
                   const ConnectionSettings& s, WOLFSSL_CTX* tls, ConnectionHandler* handler,
                   const Logger& log) {
  std::unique_ptr<Connection> c(new Connection(socket, handler, log));
  c->local_ = local;
  c->remote_ = remote;
  c->cur_local_ = local;
  c->cur_remote_ = remote;
  ngtcp2_cid scid = random_cid();
  ngtcp2_settings settings;
  ngtcp2_transport_params params;
  if (auto st = c->init_common(s, settings, params); !st) return st.error();
  params.original_dcid = hd.dcid;
  params.original_dcid_present = 1;
  if (retry_odcid) {
    // After a Retry: the sender's first DCID, and the one our Retry gave it.
    params.original_dcid = *retry_odcid;
    params.retry_scid = hd.dcid;
    params.retry_scid_present = 1;
    settings.token = hd.token;
    settings.tokenlen = hd.tokenlen;
    settings.token_type = NGTCP2_TOKEN_TYPE_RETRY;
  }
  params.stateless_reset_token_present = 1;
  ngtcp2_crypto_generate_stateless_reset_token(
      params.stateless_reset_token, c->reset_secret_.data(), c->reset_secret_.size(), &scid);
  auto path = make_path(c->local_, c->remote_);
  auto callbacks = detail::make_callbacks(true);
  int rv = ngtcp2_conn_server_new(&c->conn_, &hd.scid, &scid, &path, hd.version, &callbacks,
                                  &settings, &params, nullptr, c.get());
  if (rv != 0) return make_error(Errc::connect, "QUIC", ngtcp2_strerror(rv));
  if (auto st = c->attach(loop, tls::make_server_session(tls)); !st) return st.error();
  return c;
}

Status Connection::attach(uv_loop_t* loop, Result<tls::Ssl> ssl) {
  if (!ssl) return ssl.error();
  ssl_ = std::move(*ssl);
  wolfSSL_set_app_data(ssl_.get(), &conn_ref_);
  ngtcp2_conn_set_tls_native_handle(conn_, ssl_.get());
  if (int r = timer_.init(loop, [this] { on_timer(); }); r != 0)
    return uv_error(Errc::connect, "timer", r);
  return {};
}

std::vector<ngtcp2_cid> Connection::scids() const {
  std::vector<ngtcp2_cid> out(ngtcp2_conn_get_scid(conn_, nullptr));
  ngtcp2_conn_get_scid(conn_, out.data());
  return out;
}

int Connection::recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data,
                                 size_t len) {
  auto st = handler_->on_stream_data(stream_id, {data, len}, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
  if (!st) {
    // Closed once ngtcp2 has returned (not from inside its callback).
    const Abort& a = st.abort();
    ngtcp2_ccerr err;
    ngtcp2_ccerr_default(&err);
    // ngtcp2 keeps a pointer to the reason: it must outlive the close.
    pending_reason_ = a.error.message().substr(0, 200);
    ngtcp2_ccerr_set_application_error(&err, static_cast<uint64_t>(a.code),
                                       reinterpret_cast<const uint8_t*>(pending_reason_.data()),
                                       pending_reason_.size());
    pending_close_ = err;
    pending_close_info_ =
        CloseInfo{CloseInfo::Kind::local, static_cast<uint64_t>(a.code), pending_reason_, a.error};
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int Connection::stream_close(uint32_t flags, int64_t stream_id, uint64_t app_error_code) {
  handler_->on_stream_close(stream_id, flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET,
                            app_error_code);
  return 0;
}

int Connection::handshake_completed() {
  // The peer's idle timeout is known now; PINGs keep a quiet connection alive.
  const ngtcp2_transport_params* local = ngtcp2_conn_get_local_transport_params(conn_);
  const ngtcp2_transport_params* remote = ngtcp2_conn_get_remote_transport_params(conn_);
  uint64_t idle =
      effective_idle_timeout_ms(local->max_idle_timeout / NGTCP2_MILLISECONDS,
                                remote ? remote->max_idle_timeout / NGTCP2_MILLISECONDS : 0);
  if (idle > 0)
    ngtcp2_conn_set_keep_alive_timeout(conn_, keep_alive_ms(idle) * NGTCP2_MILLISECONDS);
  handler_->on_handshake_completed();
  return 0;
}

int Connection::get_new_connection_id(ngtcp2_cid* cid, uint8_t* token, size_t cidlen) {
  random_bytes(cid->data, cidlen);
  cid->datalen = cidlen;
  if (ngtcp2_crypto_generate_stateless_reset_token(token, reset_secret_.data(),
                                                   reset_secret_.size(), cid) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  if (on_cid_change) on_cid_change(*cid, true);
  return 0;
}

int Connection::remove_connection_id(const ngtcp2_cid* cid) {
  if (on_cid_change) on_cid_change(*cid, false);
  return 0;
}

int Connection::extend_max_streams() {
  handler_->on_extend_max_streams();
  return 0;
}

int Connection::extend_max_stream_data(int64_t stream_id) {
  handler_->on_stream_unblocked(stream_id);
  return 0;
}

Result<int64_t> Connection::open_stream(int (*open)(ngtcp2_conn*, int64_t*, void*)) {
  int64_t id;
  int rv = open(conn_, &id, nullptr);
  if (rv != 0) return make_error(Errc::transfer, "QUIC stream", ngtcp2_strerror(rv));
  return id;
}

Result<int64_t> Connection::open_bidi_stream() {
  return open_stream(ngtcp2_conn_open_bidi_stream);
}

Result<int64_t> Connection::open_uni_stream() {
  return open_stream(ngtcp2_conn_open_uni_stream);
}

void Connection::on_datagram(const Datagram& d) {
  if (closed_) return;
  ++datagrams_received_;
  const ngtcp2_tstamp ts = timestamp(d.received_ns != 0 ? d.received_ns : now_ns());
  last_received_ns_ = ts;
  wire_received_ += d.data.size();
  local_ = d.local;
  ngtcp2_path path = make_path(local_, const_cast<Address&>(d.remote));
  ngtcp2_pkt_info pi{};
  int rv = ngtcp2_conn_read_pkt(conn_, &path, &pi, d.data.data(), d.data.size(), ts);
  if (rv != 0) return handle_error(rv);
  sample_windows();
  // The peer answers: the path works.
  unanswered_since_ns_ = 0;
  trouble_backoff_ns_ = 0;
  note_path();
}

void Connection::handle_error(int rv) {
  if (closed_) return;
  if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_CLOSING) {
    // The peer closed the connection.
    const ngtcp2_ccerr* e = ngtcp2_conn_get_ccerr(conn_);
    CloseInfo info;
    info.code = e->error_code;
    // The peer wrote the reason: it enters messages only as printable text.
    info.reason = printable({reinterpret_cast<const char*>(e->reason), e->reasonlen});
    info.kind = e->type == NGTCP2_CCERR_TYPE_APPLICATION ? CloseInfo::Kind::peer_app
                                                         : CloseInfo::Kind::peer_transport;
    if (e->type == NGTCP2_CCERR_TYPE_IDLE_CLOSE) info.kind = CloseInfo::Kind::idle_timeout;
    finish(info);
    return;
  }
  if (rv == NGTCP2_ERR_DROP_CONN) {
    finish(CloseInfo{CloseInfo::Kind::internal, 0, "connection dropped", {}});
    return;
  }
  if (rv == NGTCP2_ERR_CALLBACK_FAILURE && pending_close_) {
    send_close_packet(*pending_close_);
    finish(*pending_close_info_);
    return;
  }
  ngtcp2_ccerr err;
  ngtcp2_ccerr_default(&err);
  CloseInfo info{CloseInfo::Kind::internal, 0, ngtcp2_strerror(rv), {}};
  if (rv == NGTCP2_ERR_CRYPTO) {
    ngtcp2_ccerr_set_tls_alert(&err, ngtcp2_conn_get_tls_alert(conn_), nullptr, 0);
    info.kind = CloseInfo::Kind::handshake;
    info.reason =
        "TLS handshake failed (alert " + std::to_string(ngtcp2_conn_get_tls_alert(conn_)) + ")";
  } else {
    ngtcp2_ccerr_set_liberr(&err, rv, nullptr, 0);
  }
  send_close_packet(err);
  finish(info);
}

void Connection::send_close_packet(const ngtcp2_ccerr& err) {
  if (closed_ || ngtcp2_conn_in_closing_period(conn_) || ngtcp2_conn_in_draining_period(conn_))
    return;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  uint8_t buf[1500];
  auto n =
      ngtcp2_conn_write_connection_close(conn_, &ps.path, &pi, buf, sizeof buf, &err, timestamp());
  // Sent twice: the process often exits right after, with no closing period
  // left to answer a peer whose copy was lost.
  if (n > 0)
    for (int i = 0; i < 2; ++i)
      socket_->send(to_address(ps.path.remote), buf, static_cast<size_t>(n),
                    static_cast<size_t>(n));
}

void Connection::close(const Abort& why) {
  if (closed_) return;
  std::string reason = why.error.message();
  ngtcp2_ccerr err;
  ngtcp2_ccerr_default(&err);
  ngtcp2_ccerr_set_application_error(&err, static_cast<uint64_t>(why.code),
                                     reinterpret_cast<const uint8_t*>(reason.data()),
                                     std::min<size_t>(reason.size(), 200));
  send_close_packet(err);
  finish(CloseInfo{CloseInfo::Kind::local, static_cast<uint64_t>(why.code), reason, why.error});
}

void Connection::close_quietly() {
  if (closed_) return;
  ngtcp2_ccerr err;
  ngtcp2_ccerr_default(&err);
  ngtcp2_ccerr_set_application_error(&err, 0, nullptr, 0);
  send_close_packet(err);
  closed_ = true;
  timer_.stop();
}

void Connection::on_socket_error(int err) {
  if (closed_) return;
  if ((err == EHOSTUNREACH || err == ENETUNREACH) && is_client() &&
      ngtcp2_conn_get_handshake_completed(conn_)) {
    // A network that went away under an established connection: another
    // local address may reach the listener.
    return path_trouble(std::strerror(err));
  }
  if (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) {
    finish(CloseInfo{CloseInfo::Kind::unreachable, 0, std::strerror(err), {}});
  }
}

void Connection::finish(const CloseInfo& info) {
  if (closed_) return;
  closed_ = true;
  timer_.stop();
  handler_->on_closed(info);
}

ngtcp2_ssize Connection::write_packet(ngtcp2_path* path, ngtcp2_pkt_info* pi, uint8_t* dest,
                                      size_t len, ngtcp2_tstamp ts) {
  for (;;) {
    SendSlot slot;
    bool has = handler_->next_send(slot);
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (has && slot.fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize ndatalen = -1;
    auto nwrite = ngtcp2_conn_writev_stream(
        conn_, path, pi, dest, len, &ndatalen, flags, has ? slot.stream_id : -1,
        has ? reinterpret_cast<const ngtcp2_vec*>(slot.vec) : nullptr, has ? slot.cnt : 0, ts);
    if (nwrite < 0) {
      switch (nwrite) {
      case NGTCP2_ERR_STREAM_DATA_BLOCKED:
      case NGTCP2_ERR_STREAM_SHUT_WR:
      case NGTCP2_ERR_STREAM_NOT_FOUND:
        handler_->on_stream_blocked(slot.stream_id);
        continue;
      case NGTCP2_ERR_WRITE_MORE:
        report_sent(slot, ndatalen);
        continue;
      }
      return nwrite;
    }
    if (has && ndatalen >= 0) report_sent(slot, ndatalen);
    return nwrite;
  }
}

void Connection::report_sent(const SendSlot& slot, ngtcp2_ssize n) {
  size_t total = 0;
  for (size_t i = 0; i < slot.cnt; ++i)
    total += slot.vec[i].iov_len;
  // The FIN went only if all of the slot's data went with it.
  handler_->on_sent(slot.stream_id, static_cast<size_t>(n),
                    slot.fin && static_cast<size_t>(n) == total);
}

bool Connection::send_pending() {
  while (pending_first_ < pending_count_) {
    std::array<UdpSocket::Outgoing, std::tuple_size_v<decltype(pending_)>> out;
    size_t n = 0;
    for (size_t i = pending_first_; i < pending_count_; ++i) {
      const Pending& p = pending_[i];
      out[n++] = UdpSocket::Outgoing{&p.remote, batch_.get() + p.off, p.len, p.gso};
    }
    size_t sent = 0;
    int rv = socket_->send_many({out.data(), n}, &sent);
    // Errors other than EAGAIN lose the datagrams (QUIC's loss recovery
    // resends their frames), and count as sent.
    size_t done = sent + (rv != 0 && rv != UV_EAGAIN ? 1 : 0);
    for (size_t i = 0; i < done; ++i) {
      const Pending& p = pending_[pending_first_ + i];
      datagrams_sent_ += (p.len + p.gso - 1) / p.gso;
      wire_sent_ += p.len;
    }
    pending_first_ += done;
    if (rv == UV_EAGAIN) {
      socket_->wait_writable([this] { flush(); });
      return false;
    }
    // Some say that this path no longer exists.
    if (rv != 0) {
      log_.debug(strprintf("sendmsg: %s", std::strerror(-rv)));
      if (rv == -ENETUNREACH || rv == -EHOSTUNREACH || rv == -EADDRNOTAVAIL || rv == -ENETDOWN)
        path_trouble(std::string("sending: ") + std::strerror(-rv));
    }
  }
  pending_first_ = pending_count_ = 0;
  return true;
}

void Connection::flush() {
  if (closed_ || in_flush_) return;
  in_flush_ = true;
  struct Reset {
    bool& b;
    ~Reset() { b = false; }
  } reset{in_flush_};
  if (!send_pending()) return;
  ngtcp2_tstamp ts = timestamp();
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  // Packets of the path's size are batched for GSO; the first packet of a
  // batch may be larger (a PMTUD probe), and then goes alone.
  const size_t max_udp = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn_);
  const size_t max_probe = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  size_t max_pkts = std::min(UdpSocket::kMaxGsoSegments, UdpSocket::kMaxBatchBytes / max_udp);
  max_pkts = std::max<size_t>(1, std::min(max_pkts, ngtcp2_conn_get_send_quantum(conn_) / max_udp));
  constexpr size_t kMaxDatagram = 64 * 1024;
  bool blocked = false;
  for (;;) {
    // Room for one more batch and the datagram that may follow it.
    size_t base = pending_count_ == 0
                      ? 0
                      : pending_[pending_count_ - 1].off + pending_[pending_count_ - 1].len;
    if (pending_count_ + 2 > pending_.size() || kBatchBytes - base < 2 * kMaxDatagram) {
      if (!send_pending()) {
        blocked = true;
        break;
      }
      base = 0;
    }
    size_t len = 0, gso = 0, n = 0;
    bool split = false; // the last packet goes to another path than the batch
    Pending& first = pending_[pending_count_];
    for (;;) {
      size_t room = n == 0 ? std::min(max_probe, kMaxDatagram) : gso;
      auto nwrite = write_packet(&ps.path, &pi, batch_.get() + base + len, room, ts);
      if (nwrite < 0) {
        handle_error(static_cast<int>(nwrite));
        return;
      }
      if (closed_) return;
      if (nwrite == 0) break;
      // Each packet goes where ngtcp2 says (a path being validated, the
      // peer's new address), never to an address kept from before.
      // Compared in place: a copy per packet shows in the profile.
      if (n == 0) {
        gso = static_cast<size_t>(nwrite);
        first = Pending{base, 0, gso, to_address(ps.path.remote)};
      } else if (!same_address(ps.path.remote, first.remote)) {
        pending_[pending_count_ + 1] =
            Pending{base + len, static_cast<size_t>(nwrite), static_cast<size_t>(nwrite),
                    to_address(ps.path.remote)};
        split = true;
        break;
      }
      len += static_cast<size_t>(nwrite);
      ++n;
      // All but the last datagram of a GSO batch must have the same size.
      if (static_cast<size_t>(nwrite) < gso || gso != max_udp || n >= max_pkts) break;
    }
    if (len == 0) break;
    first.len = len;
    pending_count_ += split ? 2 : 1;
    // Pacing: each batch (one send quantum) moves the pacer's next slot on,
    // and ngtcp2 writes nothing but ACKs before that slot. Without this,
    // once the slot had come, a flush sent all the congestion window
    // allowed: BBR's window is twice the path's BDP while it paces the flow
    // to one BDP in flight, so up to a BDP went out at once into the
    // bottleneck's queue (bursts of 300 packets on a 100 Mbit/s, 200 ms
    // path, and thousands of packets lost where no loss was random). Timer
    // lateness (our timers tick in milliseconds) comes back as ngtcp2's
    // pacing compensation, which lets the next batches go without waiting.
    // The batches themselves leave together, below or when batch_ is full.
    ngtcp2_conn_update_pkt_tx_time(conn_, ts);
    if (!split && n < max_pkts && gso == max_udp) break; // the connection had no more to send
  }
  if (!blocked) send_pending(); // on EAGAIN it waits for the socket
  if (unanswered_since_ns_ == 0) {
    // Only packets that ask for an acknowledgement count as unanswered.
    ngtcp2_conn_info ci;
    ngtcp2_conn_get_conn_info(conn_, &ci);
    if (ci.bytes_in_flight > 0) unanswered_since_ns_ = ts;
  }
  note_path();
  arm_timer();
}

void Connection::arm_timer() {
  if (closed_) return;
  ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
  ngtcp2_tstamp now = now_ns();
  uint64_t ms = expiry <= now ? 0 : (expiry - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
  timer_.start(ms);
}

void Connection::on_timer() {
  if (closed_) return;
  int rv = ngtcp2_conn_handle_expiry(conn_, timestamp());
  if (rv != 0) {
    if (rv == NGTCP2_ERR_IDLE_CLOSE) {
      finish(CloseInfo{CloseInfo::Kind::idle_timeout, 0, "no packet from the peer", {}});
      return;
    }
    handle_error(rv);
    return;
  }
  flush();
}

ConnectionStats Connection::stats() const {
  ConnectionStats s;
  s.wire_bytes_sent = wire_sent_;
  s.wire_bytes_received = wire_received_;
  s.datagrams_sent = datagrams_sent_;
  s.datagrams_received = datagrams_received_;
  ngtcp2_conn_info ci;
  ngtcp2_conn_get_conn_info(conn_, &ci);
  // ngtcp2 keeps min_rtt at UINT64_MAX until it takes an RTT sample;
  // smoothed_rtt is the initial guess (kInitialRtt) until then.
  s.rtt_sampled = ci.min_rtt != UINT64_MAX;
  s.smoothed_rtt_ms = static_cast<double>(ci.smoothed_rtt) / NGTCP2_MILLISECONDS;
  s.min_rtt_ms = static_cast<double>(ci.min_rtt) / NGTCP2_MILLISECONDS;
  s.cwnd = ci.cwnd;
  s.max_udp_payload = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn_);
  s.path_changes = path_changes_;
  s.max_cwnd = std::max<uint64_t>(max_cwnd_, ci.cwnd);
  s.max_credit = max_credit_;
  return s;
}

// After each packet read (an ACK moves the congestion window, a MAX_DATA
// the credit): the largest of each, for the statistics.
void Connection::sample_windows() {
  ngtcp2_conn_info ci;
  ngtcp2_conn_get_conn_info(conn_, &ci);
  max_cwnd_ = std::max<uint64_t>(max_cwnd_, ci.cwnd);
  max_credit_ =
      std::max<uint64_t>(max_credit_, ngtcp2_conn_get_max_data_left(conn_) + ci.bytes_in_flight);
}

} // namespace qpipe::transport
