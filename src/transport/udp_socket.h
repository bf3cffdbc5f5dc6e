// A non-blocking UDP socket on the libuv loop, with the kernel's batching:
// UDP GSO on send (one sendmsg carries many equal-sized datagrams) and UDP
// GRO on receive (one recvmsg returns many). libuv's uv_udp_t has neither,
// so the socket is ours and uv_poll_t watches it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <span>
#include <sys/socket.h>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "uv/handle.h"

namespace qpipe::transport {

// An IPv4 or IPv6 socket address.
struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
  int family() const { return ss.ss_family; }
  // IPv4 on the wire: an AF_INET address or an IPv4-mapped IPv6 one.
  bool is_ipv4() const;
  uint16_t port() const;
  void set_port(uint16_t port);
  std::string to_string() const; // "1.2.3.4:443", "[::1]:443"
  bool operator==(const Address& o) const;
};

struct Datagram {
  std::span<const uint8_t> data;
  const Address& local;
  const Address& remote;
  // When recvmsg returned it (uv_hrtime clock). One reading serves every
  // datagram of a GRO batch: they reached the socket together, and a clock
  // read per datagram cost about 3% of a listener's CPU at MTU 1500.
  uint64_t received_ns = 0; // 0: not known; Connection reads the clock itself
};

struct UdpCounters {
  uint64_t datagrams_received = 0;
  uint64_t recv_calls = 0;
  uint64_t gro_batches = 0; // recvmsg calls that returned more than one datagram
  uint64_t send_calls = 0;
  uint64_t datagrams_sent = 0;
};

class UdpSocket {
public:
  // The largest UDP payload one GSO sendmsg may carry here (see PERF-NOTES:
  // 65507 is the hard limit; a little below keeps GRO batches whole).
  static constexpr size_t kMaxBatchBytes = 65493;
  static constexpr size_t kMaxGsoSegments = 64;

  using RecvFn = std::function<void(const Datagram&)>;
  using ErrorFn = std::function<void(int err)>; // ICMP errors: ECONNREFUSED and others

  // Opens a socket bound to `local` (port 0 for an ephemeral port). A wildcard
  // IPv6 address listens dual-stack unless v6_only.
  static Result<std::unique_ptr<UdpSocket>> open(uv_loop_t* loop, const Address& local,
                                                 bool v6_only, const Logger& log);
  ~UdpSocket();

  // on_batch_end runs after each burst of received datagrams: the moment to
  // flush connections once instead of after every datagram.
  // Connects to remote (a client's only peer): fixes the local address, and
  // lets the kernel report ICMP errors such as port unreachable.
  Status connect(const Address& remote);
  void start(RecvFn on_recv, ErrorFn on_error, std::function<void()> on_batch_end);
  const Address& local() const { return local_; }

  // Sends len bytes as datagrams of gso_size bytes (the last may be shorter).
  // Returns 0, or UV_EAGAIN when the socket buffer is full: then call
  // wait_writable() and retry from on_writable. Other errors are negative errno.
  int send(const Address& remote, const uint8_t* data, size_t len, size_t gso_size);
  void wait_writable(std::function<void()> on_writable);
  // What send() takes, for several at once.
  struct Outgoing {
    const Address* remote;
    const uint8_t* data;
    size_t len, gso_size;
  };
  // Sends `out` in order with as few system calls as it can (sendmmsg).
  // Returns 0 when all went. Otherwise *sent of them went and out[*sent]
  // did not: UV_EAGAIN (retry it from on_writable) or a negative errno
  // (it is lost; the caller goes on with the next).
  int send_many(std::span<const Outgoing> out, size_t* sent);

  bool gso_enabled() const { return gso_; }
  bool gro_seen() const { return counters_.gro_batches > 0; }
  const UdpCounters& counters() const { return counters_; }

private:
  UdpSocket() = default;
  void on_poll(int status, int events);
  void update_poll();
  void read_some();
  int drain_errors(); // the errno of queued ICMP errors, or 0

  uv_loop_t* loop_ = nullptr;
  int fd_ = -1;
  Address local_;
  bool gso_ = true;
  bool want_write_ = false;
  const Logger* log_ = nullptr;
  uvx::Handle<uv_poll_t> poll_;
  RecvFn on_recv_;
  ErrorFn on_error_;
  std::function<void()> on_batch_end_;
  std::function<void()> on_writable_;
  // recvmmsg: kRecvBatch datagrams (or GRO batches) of up to kRecvBuffer
  // bytes. Not zeroed, so that only the buffers the kernel has filled count
  // in the process's memory.
  static constexpr size_t kRecvBatch = 8;
  static constexpr size_t kRecvBuffer = 64 * 1024;
  std::unique_ptr<uint8_t[]> rbuf_ =
      std::make_unique_for_overwrite<uint8_t[]>(kRecvBatch * kRecvBuffer);
  int pending_error_ = 0; // an ICMP error met while reading, reported after the batch
  UdpCounters counters_;
};

} // namespace qpipe::transport
