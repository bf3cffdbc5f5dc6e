// The paths of a Connection: which address pair it uses now, how often that
// changed, and, on a client, noticing that a path has stopped working and
// moving to another local address (connection migration, RFC 9000 §9).
//
// The server side needs no decision of ours: when a sender's packets arrive
// from a new address (a NAT that rebound, a sender that migrated), ngtcp2
// validates the new path and makes it current, and flush() sends every
// packet to the path ngtcp2 wrote it for. The listener routes datagrams by
// connection ID, so the new address reaches the same connection.
#include <cerrno>
#include <cstring>

#include "core/printable.h"
#include "transport/connection.h"

namespace qpipe::transport {

Address to_address(const ngtcp2_addr& a) {
  Address out;
  out.len = std::min<socklen_t>(a.addrlen, sizeof out.ss);
  std::memcpy(&out.ss, a.addr, out.len);
  return out;
}

bool Connection::is_client() const {
  return !ngtcp2_conn_is_server(conn_);
}

void Connection::note_path() {
  // Called for every datagram: compared in place, copied only on a change.
  const ngtcp2_path* p = ngtcp2_conn_get_path(conn_);
  if (same_address(p->local, cur_local_) && same_address(p->remote, cur_remote_)) return;
  Address local = to_address(p->local), remote = to_address(p->remote);
  ++path_changes_;
  log_.verbose(printable("path changed: now " + local.to_string() + " <-> " + remote.to_string() +
                         " (was " + cur_local_.to_string() + " <-> " + cur_remote_.to_string() +
                         ")"));
  cur_local_ = local;
  cur_remote_ = remote;
}

int Connection::path_validation(const ngtcp2_path* path, bool ok) {
  if (!ok)
    log_.verbose(printable("path " + to_address(path->local).to_string() + " <-> " +
                           to_address(path->remote).to_string() + " did not validate"));
  return 0;
}

void Connection::path_trouble(const std::string& why) {
  // Before the handshake there is nothing to migrate (ngtcp2 refuses), and
  // an unreachable listener is reported as such.
  if (closed_ || !is_client() || !on_path_trouble || !ngtcp2_conn_get_handshake_completed(conn_))
    return;
  uint64_t now = now_ns();
  if (now < next_trouble_ns_) return;
  // Asked again only after a while, and each time later while the peer
  // stays silent: a listener that is gone costs a few sockets, not a storm.
  uint64_t floor = kPathStallMinMs * 1'000'000;
  trouble_backoff_ns_ =
      trouble_backoff_ns_ == 0 ? floor : std::min(trouble_backoff_ns_ * 2, 16 * floor);
  next_trouble_ns_ = now + trouble_backoff_ns_;
  on_path_trouble(why);
}

void Connection::check_path(uint64_t now) {
  if (closed_ || unanswered_since_ns_ == 0) return;
  uint64_t stall = std::max<uint64_t>(3 * ngtcp2_conn_get_pto(conn_), kPathStallMinMs * 1'000'000);
  if (now - unanswered_since_ns_ < stall) return;
  path_trouble(strprintf("no reply for %llu ms", static_cast<unsigned long long>(
                                                     (now - unanswered_since_ns_) / 1'000'000)));
}

Status Connection::migrate(UdpSocket* socket) {
  if (closed_) return make_error(Errc::transfer, "migrate", "the connection is closed");
  Address local = socket->local(), remote = cur_remote_;
  ngtcp2_path path{};
  path.local.addr = local.sa();
  path.local.addrlen = local.len;
  path.remote.addr = remote.sa();
  path.remote.addrlen = remote.len;
  int rv = ngtcp2_conn_initiate_immediate_migration(conn_, &path, timestamp());
  if (rv != 0) return make_error(Errc::transfer, "migrate", ngtcp2_strerror(rv));
  // Datagrams written for the old path and not sent yet are dropped: loss
  // recovery sends their frames again, on the new path.
  pending_first_ = pending_count_ = 0;
  socket_ = socket;
  local_ = local;
  unanswered_since_ns_ = 0;
  note_path();
  flush();
  return {};
}

} // namespace qpipe::transport
