// One QUIC connection: owns the ngtcp2_conn and its wolfSSL session, feeds it
// datagrams, writes its packets in GSO batches, runs its timer, and reports
// what happens to a ConnectionHandler (the application: sender or receiver).
//
// ngtcp2's C callbacks are trampolines into member functions. The handler is
// asked for stream data when there is room to send (pull, not push), so the
// application decides the order: the lowest chunk first.
//
// Lifetime: a handler must not destroy the Connection from inside one of its
// callbacks; it defers that to a later loop iteration.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/uio.h>

#include "core/error.h"
#include "core/log.h"
#include "tls/tls_context.h"
#include "transport/connection_settings.h"
#include "transport/udp_socket.h"
#include "uv/handle.h"

namespace qpipe::transport {

// The monotonic clock of ngtcp2 timestamps (uv_hrtime, ns).
uint64_t now_ns();

// The least time a client waits without a datagram back, while it has
// packets in flight, before it takes its path as gone (see check_path).
inline constexpr uint64_t kPathStallMinMs = 1000;

// The length of the connection IDs each end issues: 8 random bytes (RFC
// 9000's least for a client's first one; what msquic and quinn use). Every
// packet carries one, so on a 1500-byte path each byte of it costs 0.07%
// of the goodput: 8 instead of 18 gives 0.7%.
inline constexpr size_t kCidLen = 8;

// The RTT assumed before the first sample (ns): see init_common.
inline constexpr uint64_t kInitialRtt = 100'000'000;

// Application error codes carried in CONNECTION_CLOSE (PROTOCOL in man/qpipe.1).
enum class AppError : uint64_t {
  no_error = 0,
  internal = 1,
  protocol = 2,
  digest_mismatch = 3,
  output_failed = 4, // the listener could not write (closed stdout, disk full)
  interrupted = 5,   // SIGINT or SIGTERM on the peer
  refused = 6,       // identity or secret refused
  input_failed = 7,  // the sender could not read its input
  busy = 8,          // the listener serves another transfer
};
const char* app_error_text(uint64_t code);

// Why this side ends a connection: the error it reports itself, and the
// application error code the peer is told (with the error's message as the
// reason). The one error channel of a ConnectionHandler.
struct Abort {
  Error error;
  AppError code = AppError::protocol;
};

// A protocol violation by the peer: Errc::transfer, "protocol: <why>".
inline Abort protocol_abort(std::string why) {
  return Abort{make_error(Errc::transfer, "protocol", std::move(why)), AppError::protocol};
}

// Nothing, or the Abort that ends the connection.
class [[nodiscard]] Outcome {
public:
  Outcome() = default;
  Outcome(Abort a) : abort_(std::move(a)) {}
  bool ok() const { return !abort_; }
  explicit operator bool() const { return ok(); }
  const Abort& abort() const { return *abort_; }

private:
  std::optional<Abort> abort_;
};

struct CloseInfo {
  enum class Kind {
    local,          // we closed it (the error is ours and already known)
    peer_app,       // the peer closed with an application error code
    peer_transport, // the peer closed with a transport error code
    idle_timeout,   // no packet from the peer within the idle timeout
    handshake,      // the handshake failed (TLS alert, wrong ALPN, ...)
    unreachable,    // ICMP: port unreachable or similar
    internal,       // ngtcp2 reported a fatal error
  };
  Kind kind = Kind::local;
  uint64_t code = 0;
  std::string reason;
  std::optional<Error> error; // with Kind::local: the error this side ended it with
};

struct SendSlot {
  int64_t stream_id = -1;
  iovec vec[2]{};
  size_t cnt = 0;
  bool fin = false;
};

class ConnectionHandler {
public:
  virtual ~ConnectionHandler() = default;
  virtual void on_handshake_completed() {}
  // In-order stream data. An Abort closes the connection with it (and then
  // reports on_closed with Kind::local and the Abort's error).
  virtual Outcome on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) = 0;
  virtual void on_stream_close(int64_t /*stream_id*/, bool /*has_app_error*/, uint64_t /*code*/) {}
  virtual void on_extend_max_streams() {}
  virtual void on_stream_unblocked(int64_t /*stream_id*/) {}
  // The next stream data to send; false when there is none.
  virtual bool next_send(SendSlot& slot) = 0;
  // n bytes of stream_id were packed into a packet (the FIN with them when fin).
  virtual void on_sent(int64_t stream_id, size_t n, bool fin) = 0;
  // The stream cannot take more data now (flow control); skip it until unblocked.
  virtual void on_stream_blocked(int64_t stream_id) = 0;
  virtual void on_closed(const CloseInfo& info) = 0;
};

struct ConnectionStats {
  uint64_t wire_bytes_sent = 0;
  uint64_t wire_bytes_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;
  bool rtt_sampled = false; // false until the first RTT sample: the RTTs are defaults
  double smoothed_rtt_ms = 0;
  double min_rtt_ms = 0;
  uint64_t cwnd = 0;
  size_t max_udp_payload = 0;
  uint64_t path_changes = 0; // times the connection moved to another address pair
  uint64_t max_cwnd = 0;     // the largest congestion window so far
  uint64_t max_credit = 0;   // the most peer credit seen: left to use plus in flight
};

class Connection {
public:
  static Result<std::unique_ptr<Connection>>
  client(uv_loop_t* loop, UdpSocket* socket, const Address& remote, const ConnectionSettings& s,
         WOLFSSL_CTX* tls, const std::string& sni, std::string_view alpn, bool check_name,
         ConnectionHandler* handler, const Logger& log);
  // A server connection for an accepted Initial packet (ngtcp2_accept
  // succeeded). `retry_odcid`: the Initial carried a valid Retry token
  // (retry_tokens.h) and this is the connection ID the sender first chose;
  // null otherwise.
  static Result<std::unique_ptr<Connection>>
  server(uv_loop_t* loop, UdpSocket* socket, const Address& local, const Address& remote,
         const ngtcp2_pkt_hd& hd, const ngtcp2_cid* retry_odcid, const ConnectionSettings& s,
         WOLFSSL_CTX* tls, ConnectionHandler* handler, const Logger& log);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_handler(ConnectionHandler* h) { handler_ = h; }
  // Feeds one datagram; call flush() after a batch.
  void on_datagram(const Datagram& d);
  // Writes whatever the connection has to send, in GSO batches.
  void flush();
  // Closes with the Abort's application error code and message, and reports
  // on_closed(Kind::local, with the Abort's error).
  void close(const Abort& why);
  // Sends CONNECTION_CLOSE with no error without reporting (after DONE).
  void close_quietly();
  // An error from the socket (ICMP). Before the handshake, unreachable ends
  // the connection; after it, a client takes it as a path that went away.
  void on_socket_error(int err);

  // Paths (connection_path.cc). A client whose path has stopped working
  // (a send the kernel refuses with "network unreachable" or the like, an
  // ICMP unreachable, or packets in flight without a single datagram back
  // for max(3 PTO, kPathStallMinMs)) is told through on_path_trouble, at
  // most once per backoff period, which doubles while nothing arrives. It
  // may then migrate() to a socket with a new local address.
  std::function<void(const std::string& why)> on_path_trouble;
  // Checks for a stalled path (a client's handler calls it periodically).
  void check_path(uint64_t now);
  // Moves the connection to `socket` (a client's new local address); the
  // caller keeps the socket alive while the connection uses it.
  Status migrate(UdpSocket* socket);
  // The current path's addresses, as the peer and we see them now.
  const Address& local() const { return cur_local_; }

  Result<int64_t> open_bidi_stream();
  Result<int64_t> open_uni_stream();
  void extend_max_offset(uint64_t n) { ngtcp2_conn_extend_max_offset(conn_, n); }
  void extend_max_streams_uni(size_t n) { ngtcp2_conn_extend_max_streams_uni(conn_, n); }
  void extend_max_stream_offset(int64_t stream_id, uint64_t n) {
    ngtcp2_conn_extend_max_stream_offset(conn_, stream_id, n);
  }
  uint64_t streams_uni_left() const { return ngtcp2_conn_get_streams_uni_left(conn_); }
  bool closed() const { return closed_; }
  const Address& remote() const { return cur_remote_; }
  ConnectionStats stats() const;
  // When the last datagram from the peer was read: its recvmsg batch's time as
  // given to ngtcp2 (now_ns clock; 0: none yet).
  uint64_t last_received_ns() const { return last_received_ns_; }
  // Source connection IDs, for the listener's routing table.
  std::vector<ngtcp2_cid> scids() const;
  std::function<void(const ngtcp2_cid&, bool add)> on_cid_change;

  // ngtcp2 callback targets.
  int recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data, size_t len);
  int stream_close(uint32_t flags, int64_t stream_id, uint64_t app_error_code);
  int handshake_completed();
  int get_new_connection_id(ngtcp2_cid* cid, uint8_t* token, size_t cidlen);
  int remove_connection_id(const ngtcp2_cid* cid);
  int extend_max_streams();
  int extend_max_stream_data(int64_t stream_id);
  int path_validation(const ngtcp2_path* path, bool ok);
  ngtcp2_conn* raw() const { return conn_; }
  WOLFSSL* ssl() const { return ssl_.get(); }

private:
  // The largest congestion window and peer credit so far (ConnectionStats).
  void sample_windows();
  Connection(UdpSocket* socket, ConnectionHandler* handler, const Logger& log);
  // Settings and transport parameters of both ends; remote_ must be set.
  Status init_common(const ConnectionSettings& s, ngtcp2_settings& settings,
                     ngtcp2_transport_params& params);
  // After ngtcp2_conn_*_new: takes the TLS session and starts the timer.
  Status attach(uv_loop_t* loop, Result<tls::Ssl> ssl);
  Result<int64_t> open_stream(int (*open)(ngtcp2_conn*, int64_t*, void*));
  // Tells the handler that n bytes of slot went into a packet.
  void report_sent(const SendSlot& slot, ngtcp2_ssize n);
  ngtcp2_ssize write_packet(ngtcp2_path* path, ngtcp2_pkt_info* pi, uint8_t* dest, size_t len,
                            ngtcp2_tstamp ts);
  bool send_pending();
  void arm_timer();
  void on_timer();
  void finish(const CloseInfo& info);
  void send_close_packet(const ngtcp2_ccerr& err);
  void handle_error(int rv);
  // Notes a change of ngtcp2's current path (counted, and printed with -v).
  void note_path();
  void path_trouble(const std::string& why);
  bool is_client() const;

  UdpSocket* socket_;
  ConnectionHandler* handler_;
  const Logger& log_;
  ngtcp2_conn* conn_ = nullptr;
  tls::Ssl ssl_;
  ngtcp2_crypto_conn_ref conn_ref_{};
  Address local_, remote_;
  Address cur_local_, cur_remote_; // ngtcp2's current path, as last seen
  uvx::Timer timer_;
  // Datagrams written into batch_ and not sent yet: GSO batches (one send
  // quantum each, all of a batch to one address), and after the last at
  // most one datagram for another path. Up to kSendBatches batches go out
  // in one sendmmsg. Not zeroed: only the pages written count in the
  // process's memory, and a listener's connection mostly sends ACKs (zeroed,
  // the twelve peers without HELLO of peers_test cost the listener 6.0 MiB
  // instead of 3.9).
  static constexpr size_t kSendBatches = 4;
  static constexpr size_t kBatchBytes = kSendBatches * 64 * 1024;
  std::unique_ptr<uint8_t[]> batch_ = std::make_unique_for_overwrite<uint8_t[]>(kBatchBytes);
  struct Pending {
    size_t off = 0, len = 0, gso = 0;
    Address remote;
  };
  std::array<Pending, kSendBatches + 1> pending_{};
  size_t pending_first_ = 0, pending_count_ = 0;
  uint64_t path_changes_ = 0;
  uint64_t max_cwnd_ = 0, max_credit_ = 0; // sampled as packets arrive
  // Path trouble (clients): when the oldest send without a reply went out,
  // when trouble may be reported next, and the backoff in force.
  uint64_t unanswered_since_ns_ = 0, next_trouble_ns_ = 0, trouble_backoff_ns_ = 0;
  bool closed_ = false;
  bool in_flush_ = false;
  std::optional<ngtcp2_ccerr> pending_close_; // set by a failing stream callback
  std::optional<CloseInfo> pending_close_info_;
  std::string pending_reason_;
  uint64_t wire_sent_ = 0, wire_received_ = 0;
  uint64_t datagrams_sent_ = 0, datagrams_received_ = 0;
  uint64_t last_received_ns_ = 0;
  // The latest time given to ngtcp2, which requires them in order: a
  // datagram carries the time its batch was read (UdpSocket::read_some),
  // which can be earlier than a flush that handling the batch's first
  // datagrams did.
  uint64_t last_ts_ = 0;
  uint64_t timestamp(uint64_t at = now_ns()) { return last_ts_ = std::max(last_ts_, at); }
  std::array<uint8_t, 32> reset_secret_{};
};

// An ngtcp2 address as ours.
Address to_address(const ngtcp2_addr& a);
// Whether `a` holds the same address as `b` (Address::operator== without a copy).
inline bool same_address(const ngtcp2_addr& a, const Address& b) {
  return a.addrlen == b.len && std::memcmp(a.addr, &b.ss, b.len) == 0;
}

void random_bytes(uint8_t* out, size_t n);

} // namespace qpipe::transport
