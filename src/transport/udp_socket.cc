#include "transport/udp_socket.h"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/udp.h>
#include <span>
#include <unistd.h>
#include <utility>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace qpipe::transport {

uint16_t Address::port() const {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

void Address::set_port(uint16_t port) {
  if (ss.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  else
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
}

std::string Address::to_string() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
    inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], host, sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(port());
}

bool Address::is_ipv4() const {
  if (ss.ss_family == AF_INET) return true;
  const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr);
}

bool Address::operator==(const Address& o) const {
  return len == o.len && std::memcmp(&ss, &o.ss, len) == 0;
}

namespace {

// A recvmsg header for one buffer, the sender's address and control data.
msghdr recv_header(sockaddr_storage& from, iovec& iov, std::span<uint8_t> ctrl) {
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl.data();
  msg.msg_controllen = ctrl.size();
  return msg;
}

// Adds UDP_SEGMENT (GSO: datagrams of `size` bytes) to msg, in ctrl.
void set_gso(msghdr& msg, uint8_t (&ctrl)[CMSG_SPACE(sizeof(uint16_t))], size_t size) {
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t seg = static_cast<uint16_t>(size);
  std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
}

void raise_buffer(int fd, int opt, int force_opt, int bytes) {
  // As root, the FORCE variant ignores rmem_max/wmem_max; otherwise the
  // kernel caps the request at the sysctl limit.
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

} // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(uv_loop_t* loop, const Address& local,
                                                   bool v6_only, const Logger& log) {
  int fd = ::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error(Errc::connect, "socket", errno);
  std::unique_ptr<UdpSocket> s(new UdpSocket);
  s->fd_ = fd;
  s->loop_ = loop;
  s->log_ = &log;
  int on = 1;
  if (local.family() == AF_INET6) {
    int v6 = v6_only ? 1 : 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof v6);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  }
  if (local.family() == AF_INET || !v6_only) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  // Ask for ICMP errors (port unreachable) so that "nobody listening" is
  // known at once instead of after the idle timeout.
  setsockopt(fd, local.family() == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
             local.family() == AF_INET ? IP_RECVERR : IPV6_RECVERR, &on, sizeof on);
  if (local.family() == AF_INET6 && !v6_only)
    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  // Path MTU discovery on: DF set, so that ngtcp2's PMTUD probes mean something.
  int pmtu = IP_PMTUDISC_PROBE;
  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  if (local.family() == AF_INET6) {
    int pmtu6 = IPV6_PMTUDISC_PROBE;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof pmtu6);
  }
  raise_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, 16 << 20);
  raise_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, 16 << 20);
  if (setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) != 0)
    log.verbose("UDP GRO is not available: " + std::string(std::strerror(errno)));

  if (::bind(fd, local.sa(), local.len) != 0) {
    int err = errno;
    return errno_error(Errc::connect, "bind " + local.to_string(), err);
  }
  s->local_.len = sizeof s->local_.ss;
  getsockname(fd, s->local_.sa(), &s->local_.len);
  int rv = s->poll_.init([loop, fd](uv_poll_t* p) { return uv_poll_init(loop, p, fd); }, s.get());
  if (rv != 0) return uv_error(Errc::connect, "uv_poll_init", rv);
  return s;
}

UdpSocket::~UdpSocket() {
  poll_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Status UdpSocket::connect(const Address& remote) {
  if (::connect(fd_, remote.sa(), remote.len) != 0)
    return errno_error(Errc::connect, remote.to_string(), errno);
  local_.len = sizeof local_.ss;
  getsockname(fd_, local_.sa(), &local_.len);
  return {};
}

void UdpSocket::start(RecvFn on_recv, ErrorFn on_error, std::function<void()> on_batch_end) {
  on_recv_ = std::move(on_recv);
  on_error_ = std::move(on_error);
  on_batch_end_ = std::move(on_batch_end);
  update_poll();
}

void UdpSocket::update_poll() {
  int events = UV_READABLE | (want_write_ ? UV_WRITABLE : 0);
  uv_poll_start(poll_.get(), events, [](uv_poll_t* p, int status, int ev) {
    if (auto* self = static_cast<UdpSocket*>(p->data)) self->on_poll(status, ev);
  });
}

void UdpSocket::wait_writable(std::function<void()> on_writable) {
  on_writable_ = std::move(on_writable);
  if (!want_write_) {
    want_write_ = true;
    update_poll();
  }
}

void UdpSocket::on_poll(int status, int events) {
  if (status < 0) {
    // libuv stops the handle on POLLERR: an ICMP error is queued. Take it
    // off the error queue, report it, and watch the socket again.
    int err = drain_errors();
    update_poll();
    // Datagrams that arrived before the error come first: a peer's
    // CONNECTION_CLOSE must win over the port-unreachable that follows it.
    read_some();
    if (on_batch_end_) on_batch_end_();
    if (err != 0 && on_error_) on_error_(err);
    return;
  }
  if (events & UV_WRITABLE) {
    want_write_ = false;
    update_poll();
    if (auto fn = std::move(on_writable_)) fn();
  }
  if (events & UV_READABLE) {
    read_some();
    if (on_batch_end_) on_batch_end_();
    if (int err = std::exchange(pending_error_, 0); err != 0 && on_error_) on_error_(err);
  }
}

int UdpSocket::drain_errors() {
  int result = 0;
  for (int i = 0; i < 64; ++i) {
    alignas(cmsghdr) uint8_t ctrl[512];
    uint8_t dummy[1];
    iovec eiov{dummy, sizeof dummy};
    sockaddr_storage from;
    msghdr emsg = recv_header(from, eiov, ctrl);
    if (::recvmsg(fd_, &emsg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    for (cmsghdr* c = CMSG_FIRSTHDR(&emsg); c; c = CMSG_NXTHDR(&emsg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        if (ee.ee_errno != 0 && ee.ee_errno != EMSGSIZE) result = static_cast<int>(ee.ee_errno);
      }
    }
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len); // clears it
  if (result == 0 && so_error != 0 && so_error != EMSGSIZE) result = so_error;
  return result;
}

void UdpSocket::read_some() {
  // Several datagrams (each up to 64 KiB, or a GRO batch of that size) per
  // recvmmsg: a system call costs about a microsecond on the machines we
  // measured, and a loopback transfer receives 16 000 datagrams per GiB.
  constexpr size_t kCtrl = CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(in6_pktinfo)) +
                           CMSG_SPACE(sizeof(sock_extended_err) + sizeof(sockaddr_in6));
  struct Slot {
    sockaddr_storage from;
    iovec iov;
    alignas(cmsghdr) uint8_t ctrl[kCtrl];
  };
  std::array<Slot, kRecvBatch> slots;
  std::array<mmsghdr, kRecvBatch> msgs;
  Address remote, local;
  // Bounded per wakeup, so that one busy socket cannot starve the loop.
  for (int round = 0; round < 64 / static_cast<int>(kRecvBatch); ++round) {
    for (size_t k = 0; k < kRecvBatch; ++k) {
      slots[k].iov = iovec{rbuf_.get() + k * kRecvBuffer, kRecvBuffer};
      msgs[k].msg_hdr = recv_header(slots[k].from, slots[k].iov, slots[k].ctrl);
      msgs[k].msg_len = 0;
    }
    int got = ::recvmmsg(fd_, msgs.data(), kRecvBatch, 0, nullptr);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      // An ICMP error (ECONNREFUSED on a connected socket): note it and
      // read on, so that datagrams queued before it are handled first.
      pending_error_ = errno;
      if (int queued = drain_errors(); queued != 0) pending_error_ = queued;
      continue;
    }
    ++counters_.recv_calls;
    const uint64_t received_ns = uv_hrtime();
    for (int k = 0; k < got; ++k) {
      msghdr& msg = msgs[static_cast<size_t>(k)].msg_hdr;
      local = local_;
      size_t gso = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int v;
          std::memcpy(&v, CMSG_DATA(c), sizeof v);
          gso = static_cast<size_t>(v);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          auto* a6 = reinterpret_cast<sockaddr_in6*>(&local.ss);
          a6->sin6_addr = pi.ipi6_addr;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          if (local_.family() == AF_INET) {
            reinterpret_cast<sockaddr_in*>(&local.ss)->sin_addr = pi.ipi_addr;
          } else {
            auto* a6 = reinterpret_cast<sockaddr_in6*>(&local.ss);
            std::memset(&a6->sin6_addr, 0, sizeof a6->sin6_addr);
            a6->sin6_addr.s6_addr[10] = a6->sin6_addr.s6_addr[11] = 0xff;
            std::memcpy(&a6->sin6_addr.s6_addr[12], &pi.ipi_addr, 4);
          }
        }
      }
      std::memcpy(&remote.ss, msg.msg_name, msg.msg_namelen);
      remote.len = msg.msg_namelen;
      const uint8_t* data = static_cast<const uint8_t*>(msg.msg_iov->iov_base);
      size_t total = msgs[static_cast<size_t>(k)].msg_len;
      if (gso == 0 || gso > total) gso = total;
      if (total > gso) ++counters_.gro_batches;
      for (size_t off = 0; off < total; off += gso) {
        ++counters_.datagrams_received;
        size_t len = std::min(gso, total - off);
        if (on_recv_) on_recv_(Datagram{{data + off, len}, local, remote, received_ns});
        if (!poll_) return; // the receiver closed us
      }
    }
    // Fewer than asked for: the queue is empty (and a read would say EAGAIN).
    if (static_cast<size_t>(got) < kRecvBatch) return;
  }
}

int UdpSocket::send_many(std::span<const Outgoing> out, size_t* sent) {
  *sent = 0;
  constexpr size_t kMax = 8;
  while (*sent < out.size()) {
    std::span<const Outgoing> part = out.subspan(*sent, std::min(kMax, out.size() - *sent));
    // Without GSO, or one alone: send() splits and falls back as it must.
    if (!gso_ || part.size() == 1) {
      const Outgoing& o = part[0];
      if (int rv = send(*o.remote, o.data, o.len, o.gso_size); rv != 0) return rv;
      ++*sent;
      continue;
    }
    std::array<mmsghdr, kMax> msgs{};
    std::array<iovec, kMax> iov;
    struct Ctrl {
      alignas(cmsghdr) uint8_t b[CMSG_SPACE(sizeof(uint16_t))];
    };
    std::array<Ctrl, kMax> ctrl;
    for (size_t i = 0; i < part.size(); ++i) {
      const Outgoing& o = part[i];
      iov[i] = iovec{const_cast<uint8_t*>(o.data), o.len};
      msghdr& msg = msgs[i].msg_hdr;
      msg.msg_name = const_cast<sockaddr*>(o.remote->sa());
      msg.msg_namelen = o.remote->len;
      msg.msg_iov = &iov[i];
      msg.msg_iovlen = 1;
      if (o.len > o.gso_size) {
        set_gso(msg, ctrl[i].b, o.gso_size);
      }
    }
    int n = ::sendmmsg(fd_, msgs.data(), static_cast<unsigned>(part.size()), 0);
    if (n > 0) {
      ++counters_.send_calls;
      for (int i = 0; i < n; ++i)
        counters_.datagrams_sent += (part[i].len + part[i].gso_size - 1) / part[i].gso_size;
      *sent += static_cast<size_t>(n);
      continue;
    }
    int err = n < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return UV_EAGAIN;
    // The first one failed: send() reports it, or gives up GSO and retries.
    const Outgoing& o = part[0];
    if (int rv = send(*o.remote, o.data, o.len, o.gso_size); rv != 0) return rv;
    ++*sent;
  }
  return 0;
}

int UdpSocket::send(const Address& remote, const uint8_t* data, size_t len, size_t gso_size) {
  for (;;) {
    iovec iov{const_cast<uint8_t*>(data), len};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr*>(remote.sa());
    msg.msg_namelen = remote.len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) uint8_t ctrl[CMSG_SPACE(sizeof(uint16_t))];
    if (gso_ && len > gso_size) {
      set_gso(msg, ctrl, gso_size);
    } else if (len > gso_size) {
      // No GSO: one datagram at a time.
      for (size_t off = 0; off < len; off += gso_size) {
        int rv = send(remote, data + off, std::min(gso_size, len - off), gso_size);
        if (rv != 0) return rv;
      }
      return 0;
    }
    ssize_t n = ::sendmsg(fd_, &msg, 0);
    if (n >= 0) {
      ++counters_.send_calls;
      counters_.datagrams_sent += (len + gso_size - 1) / gso_size;
      return 0;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return UV_EAGAIN;
    if (gso_ && len > gso_size && (err == EIO || err == EINVAL || err == ENOPROTOOPT)) {
      log_->verbose("UDP GSO refused by the kernel (" + std::string(std::strerror(err)) +
                    "); sending datagrams one by one");
      gso_ = false;
      continue;
    }
    return -err;
  }
}

} // namespace qpipe::transport
