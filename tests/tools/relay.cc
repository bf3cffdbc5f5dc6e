// qpipe-relay: a lossy-link UDP relay for the end-to-end tests.
//
// It sits between a QUIC client and server on loopback. It listens on a UDP
// port (--listen [HOST:]PORT, default 127.0.0.1:0); the source of the first
// datagram that arrives there is "the client", and datagrams from any other
// source are ignored. Everything from the client goes to the server (--to
// HOST:PORT, IPv6 in brackets) from one upstream socket, and everything that
// arrives on that socket goes back to the client. Both directions are impaired
// the same way: --loss P drops (and --drop-first N the first N datagrams:
// a lost first flight), --dup P sends twice, --corrupt P flips 1-3
// random bits, --delay-ms D adds a base one-way delay, --jitter-ms J adds a
// uniform 0..J ms per datagram (which reorders when J exceeds the gap between
// datagrams), --reorder P holds a datagram back an extra 2*J+1 ms, and --rate
// BYTES_PER_SEC passes the traffic through a token bucket (burst of 10 ms worth,
// at least 1500 bytes) with a tail-drop queue of --queue-bytes (default 1 MiB).
// The order is: loss, corruption, duplication, rate queue, delay line. Every
// decision for the Nth datagram of a direction comes from its own splitmix64
// stream keyed by (--seed, direction, N), so the same seed makes the same
// decisions for the same datagram sequence, whatever the timing, the sizes or
// the other direction's traffic.
//
// It can also act as a NAT that changes its mind: on SIGUSR1, and every
// --rebind-every-ms N if given, the upstream socket is replaced by one on a
// new ephemeral port (a NAT rebinding: the server sees the client's packets
// arrive from a new port, and what it sends to the old port is lost). With
// --mapping-timeout-ms N, the upstream socket is closed after N ms without
// a datagram from the client (a NAT that forgets a quiet mapping); the
// client's next datagram opens a new one on a new port. Each such change is
// one line on stderr, "relay: upstream now on port N (why)". On start the bound listen port is
// printed on one line of stdout (and written atomically to --port-file PATH if given). On
// SIGINT/SIGTERM or after --lifetime-s N (default 600, 0 = no limit) one line
// of counters per direction goes to stderr, "relay: forwarded=N dropped=N
// duplicated=N corrupted=N reordered=N queue_dropped=N send_failed=N
// received=N foreign=N rebinds=N dir=to-server|to-client" (rebinds: upstream
// ports after the first), and the relay exits 0. Bad
// arguments exit 2 with "relay: <what>: <why>"; runtime failures exit 1.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <vector>

namespace {

constexpr const char* kUsage =
    "Usage: qpipe-relay --to HOST:PORT [options]\n"
    "A lossy-link UDP relay: forwards between the first client that sends to the\n"
    "listen port and the target, impairing both directions.\n"
    "\n"
    "  --listen [HOST:]PORT   listen address (default 127.0.0.1:0, ephemeral)\n"
    "  --to HOST:PORT         target (server) address; IPv6 as [ADDR]:PORT\n"
    "  --loss P               drop probability (0..1)\n"
    "  --drop-first N         also drop the first N datagrams of each direction\n"
    "  --dup P                duplicate probability (0..1)\n"
    "  --corrupt P            probability of flipping 1-3 random bits (0..1)\n"
    "  --delay-ms D           base one-way delay in ms\n"
    "  --jitter-ms J          uniform extra delay of 0..J ms per datagram\n"
    "  --reorder P            probability of an extra 2*J+1 ms hold-back (0..1)\n"
    "  --rate BYTES_PER_SEC   token-bucket rate limit (0 = unlimited, default)\n"
    "  --queue-bytes N        rate-limit queue size, tail drop (default 1048576)\n"
    "  --seed N               PRNG seed (default 1)\n"
    "  --port-file PATH       also write the listen port to PATH (atomically)\n"
    "  --lifetime-s N         exit after N seconds (default 600, 0 = never)\n"
    "  --rebind-every-ms N    move the upstream socket to a new port every N ms\n"
    "                         (also on SIGUSR1)\n"
    "  --mapping-timeout-ms N forget the upstream mapping after N ms without a\n"
    "                         datagram from the client (0 = never, default)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Prints the listen port on stdout; prints counters on stderr at exit.\n";

constexpr size_t kMaxQueuedDatagrams = 100000; // per queue
constexpr size_t kMaxDelayLineBytes = 64u << 20;
constexpr size_t kMaxPendingSends = 10000; // per socket, when the kernel pushes back
constexpr size_t kRecvChunk = 64 * 1024;   // libuv's per-datagram recvmmsg slot
constexpr size_t kRecvSlots = 20;          // libuv's recvmmsg batch limit
constexpr int kSocketBuffer = 8 << 20;

struct Options {
  std::string listen_spec = "127.0.0.1:0";
  std::string to_spec;
  sockaddr_storage listen_addr{};
  sockaddr_storage to_addr{};
  double loss = 0, dup = 0, corrupt = 0, reorder = 0;
  uint64_t drop_first = 0;
  double delay_ms = 0, jitter_ms = 0;
  uint64_t rate = 0;
  uint64_t queue_bytes = 1 << 20;
  uint64_t seed = 1;
  std::string port_file;
  uint64_t lifetime_s = 600;
  uint64_t rebind_every_ms = 0;
  uint64_t mapping_timeout_ms = 0;
};

[[noreturn]] void arg_error(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "relay: %s: %s\n", what.c_str(), why.c_str());
  std::exit(2);
}

[[noreturn]] void fatal(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "relay: %s: %s\n", what.c_str(), why.c_str());
  std::exit(1);
}

double parse_double(const std::string& opt, const std::string& s, double lo, double hi) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v) || v < lo ||
      v > hi) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "expected a number from %g to %g, got '", lo, hi);
    arg_error(opt, buf + s + "'");
  }
  return v;
}

uint64_t parse_u64(const std::string& opt, const std::string& s, uint64_t lo, uint64_t hi) {
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || s[0] == '+' || end != s.c_str() + s.size() || errno != 0 ||
      v < lo || v > hi) {
    arg_error(opt, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                       ", got '" + s + "'");
  }
  return v;
}

// Parses "[v6]:PORT", "HOST:PORT" or, when default_host is given, "PORT".
sockaddr_storage parse_address(const std::string& opt, const std::string& spec,
                               const char* default_host, bool allow_port_zero) {
  std::string host, port;
  if (!spec.empty() && spec[0] == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':')
      arg_error(opt, "expected [IPV6]:PORT, got '" + spec + "'");
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      arg_error(opt, "IPv6 addresses need brackets, as in [::1]:PORT, got '" + spec + "'");
  } else if (default_host != nullptr) {
    host = default_host;
    port = spec;
  } else {
    arg_error(opt, "expected HOST:PORT, got '" + spec + "'");
  }
  if (host.empty()) arg_error(opt, "missing host in '" + spec + "'");
  uint64_t port_num = parse_u64(opt + " port", port, allow_port_zero ? 0 : 1, 65535);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rv = getaddrinfo(host.c_str(), std::to_string(port_num).c_str(), &hints, &res);
  if (rv != 0 || res == nullptr)
    arg_error(opt, "cannot resolve '" + host + "': " + gai_strerror(rv));
  sockaddr_storage out{};
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return out;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(std::fflush(stdout) == 0 ? 0 : 1);
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) arg_error(arg, "missing value");
      return argv[++i];
    };
    if (arg == "--listen")
      o.listen_spec = value();
    else if (arg == "--to")
      o.to_spec = value();
    else if (arg == "--loss")
      o.loss = parse_double(arg, value(), 0, 1);
    else if (arg == "--drop-first")
      o.drop_first = parse_u64(arg, value(), 0, 1u << 30);
    else if (arg == "--dup")
      o.dup = parse_double(arg, value(), 0, 1);
    else if (arg == "--corrupt")
      o.corrupt = parse_double(arg, value(), 0, 1);
    else if (arg == "--reorder")
      o.reorder = parse_double(arg, value(), 0, 1);
    else if (arg == "--delay-ms")
      o.delay_ms = parse_double(arg, value(), 0, 3600e3);
    else if (arg == "--jitter-ms")
      o.jitter_ms = parse_double(arg, value(), 0, 3600e3);
    else if (arg == "--rate")
      o.rate = parse_u64(arg, value(), 0, uint64_t{1} << 50);
    else if (arg == "--queue-bytes")
      o.queue_bytes = parse_u64(arg, value(), 1, uint64_t{1} << 40);
    else if (arg == "--seed")
      o.seed = parse_u64(arg, value(), 0, UINT64_MAX);
    else if (arg == "--port-file") {
      o.port_file = value();
      if (o.port_file.empty()) arg_error(arg, "empty path");
    } else if (arg == "--lifetime-s")
      o.lifetime_s = parse_u64(arg, value(), 0, 1u << 30);
    else if (arg == "--rebind-every-ms")
      o.rebind_every_ms = parse_u64(arg, value(), 0, 1u << 30);
    else if (arg == "--mapping-timeout-ms")
      o.mapping_timeout_ms = parse_u64(arg, value(), 0, 1u << 30);
    else if (arg.rfind("-", 0) == 0)
      arg_error(arg, "unknown option (try --help)");
    else
      arg_error(arg, "unexpected argument (try --help)");
  }
  if (o.to_spec.empty()) arg_error("--to", "required (try --help)");
  o.listen_addr = parse_address("--listen", o.listen_spec, "127.0.0.1", true);
  o.to_addr = parse_address("--to", o.to_spec, nullptr, false);
  return o;
}

// splitmix64 (Steele, Lea, Flood): the finalizer mixes keys; the generator
// gives each datagram its own stream.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t next() { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }

private:
  uint64_t state_;
};

enum Dir { kToServer = 0, kToClient = 1 };

struct Counters {
  uint64_t received = 0, forwarded = 0, dropped = 0, duplicated = 0, corrupted = 0;
  uint64_t reordered = 0, queue_dropped = 0, send_failed = 0, foreign = 0;
};

uint16_t port_of(const sockaddr_storage& a) {
  return ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port
                                       : reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
}

using Bytes = std::vector<uint8_t>;

struct Delayed {
  uint64_t due_us;
  uint64_t seq;
  Dir dir;
  Bytes data;
};

// For std::push_heap: the earliest due time (then the lowest seq) on top.
struct LaterFirst {
  bool operator()(const Delayed& a, const Delayed& b) const {
    return a.due_us != b.due_us ? a.due_us > b.due_us : a.seq > b.seq;
  }
};

struct RateQueue {
  struct Entry {
    Bytes data;
    uint64_t extra_us; // delay to add once it leaves the queue
  };
  std::deque<Entry> entries;
  uint64_t bytes = 0;
  double tokens = 0;
  uint64_t refilled_us = 0;
  uv_timer_t timer{};
};

struct SendReq {
  uv_udp_send_t req;
  Bytes data;
  Dir dir;
};

uint64_t now_us() {
  return uv_hrtime() / 1000;
}

bool same_addr(const sockaddr* a, const sockaddr_storage& b) {
  if (a->sa_family != b.ss_family) return false;
  if (a->sa_family == AF_INET) {
    auto* x = reinterpret_cast<const sockaddr_in*>(a);
    auto* y = reinterpret_cast<const sockaddr_in*>(&b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  auto* x = reinterpret_cast<const sockaddr_in6*>(a);
  auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
  return x->sin6_port == y->sin6_port &&
         std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

void enlarge_buffers(uv_udp_t* h) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(h), &fd) != 0) return;
  int size = kSocketBuffer;
  // The *FORCE variants ignore net.core.*mem_max but need CAP_NET_ADMIN.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

class Relay {
public:
  explicit Relay(const Options& opt) : opt_(opt) {
    delay_us_ = static_cast<uint64_t>(std::llround(opt.delay_ms * 1000));
    jitter_us_ = static_cast<uint64_t>(std::llround(opt.jitter_ms * 1000));
    delayed_mode_ = delay_us_ > 0 || jitter_us_ > 0 || opt.reorder > 0;
    burst_ = std::max(1500.0, static_cast<double>(opt.rate) / 100);
    for (int d = 0; d < 2; ++d)
      dir_key_[d] = mix64(opt.seed + 0x9e3779b97f4a7c15ULL * (d + 1));
    recv_buf_.resize(kRecvChunk * kRecvSlots);
  }

  // Binds and starts everything; returns the bound listen port.
  int start(uv_loop_t* loop) {
    loop_ = loop;
    open_socket(&listen_, opt_.listen_addr, "--listen " + opt_.listen_spec);
    open_upstream(nullptr);

    uv_timer_init(loop_, &delay_timer_);
    delay_timer_.data = this;
    for (auto& rq : rate_) {
      uv_timer_init(loop_, &rq.timer);
      rq.timer.data = this;
      rq.tokens = burst_;
      rq.refilled_us = now_us();
    }
    for (int i = 0; i < 2; ++i) {
      uv_signal_init(loop_, &signals_[i]);
      signals_[i].data = this;
      uv_signal_start(
          &signals_[i], [](uv_signal_t* s, int) { static_cast<Relay*>(s->data)->shutdown(); },
          i == 0 ? SIGINT : SIGTERM);
    }
    uv_signal_init(loop_, &rebind_signal_);
    rebind_signal_.data = this;
    uv_signal_start(
        &rebind_signal_,
        [](uv_signal_t* s, int) { static_cast<Relay*>(s->data)->rebind("SIGUSR1"); }, SIGUSR1);
    uv_timer_init(loop_, &rebind_timer_);
    rebind_timer_.data = this;
    if (opt_.rebind_every_ms > 0)
      uv_timer_start(
          &rebind_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->rebind("period"); },
          opt_.rebind_every_ms, opt_.rebind_every_ms);
    uv_timer_init(loop_, &mapping_timer_);
    mapping_timer_.data = this;
    uv_timer_init(loop_, &lifetime_timer_);
    lifetime_timer_.data = this;
    if (opt_.lifetime_s > 0) {
      uv_timer_start(
          &lifetime_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->shutdown(); },
          opt_.lifetime_s * 1000, 0);
    }

    return port_of(bound_address(&listen_));
  }

private:
  static sockaddr_storage bound_address(uv_udp_t* h) {
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_udp_getsockname(h, reinterpret_cast<sockaddr*>(&bound), &len);
    return bound;
  }

  // The upstream socket: a new one on an ephemeral port; `why` says why it
  // replaces the old one (nullptr for the first).
  void open_upstream(const char* why) {
    upstream_ = new uv_udp_t{};
    sockaddr_storage wildcard{};
    wildcard.ss_family = opt_.to_addr.ss_family; // all-zero address and port: any
    open_socket(upstream_, wildcard, "upstream socket");
    if (why != nullptr) {
      ++rebinds_;
      std::fprintf(stderr, "relay: upstream now on port %u (%s)\n",
                   port_of(bound_address(upstream_)), why);
      std::fflush(stderr);
    }
  }

  // Closes the upstream socket: what the server sends to its port is lost.
  void close_upstream() {
    if (upstream_ == nullptr) return;
    uv_udp_recv_stop(upstream_);
    uv_close(reinterpret_cast<uv_handle_t*>(upstream_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_udp_t*>(h); });
    upstream_ = nullptr;
  }

  // A NAT rebinding: the client's traffic leaves from a new port at once.
  void rebind(const char* why) {
    if (stopping_ || !client_) return;
    close_upstream();
    open_upstream(why);
  }

  // A datagram from the client refreshes its mapping.
  void refresh_mapping() {
    if (opt_.mapping_timeout_ms == 0) return;
    uv_timer_start(
        &mapping_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->close_upstream(); },
        opt_.mapping_timeout_ms, 0);
  }

  void open_socket(uv_udp_t* h, const sockaddr_storage& addr, const std::string& what) {
    int rv = uv_udp_init_ex(loop_, h, addr.ss_family | UV_UDP_RECVMMSG);
    if (rv != 0) fatal(what, uv_strerror(rv));
    h->data = this;
    enlarge_buffers(h);
    rv = uv_udp_bind(h, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rv != 0) fatal(what, std::string("bind: ") + uv_strerror(rv));
    rv = uv_udp_recv_start(h, on_alloc, on_recv);
    if (rv != 0) fatal(what, std::string("receive: ") + uv_strerror(rv));
  }

  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    // The datagrams are copied out in on_recv, so one buffer serves every read.
    auto* self = static_cast<Relay*>(h->data);
    *buf = uv_buf_init(reinterpret_cast<char*>(self->recv_buf_.data()),
                       static_cast<unsigned>(self->recv_buf_.size()));
  }

  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                      unsigned) {
    auto* self = static_cast<Relay*>(h->data);
    if (nread < 0 || addr == nullptr || self->stopping_) return; // errors, end of a batch
    const auto* data = reinterpret_cast<const uint8_t*>(buf->base);
    size_t n = static_cast<size_t>(nread);
    if (h == &self->listen_) {
      if (!self->client_) {
        sockaddr_storage client{};
        std::memcpy(&client, addr,
                    addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
        self->client_ = client;
      } else if (!same_addr(addr, *self->client_)) {
        self->counters_[kToServer].foreign++;
        return;
      }
      if (self->upstream_ == nullptr) self->open_upstream("mapping expired; a new one");
      self->refresh_mapping();
      self->on_datagram(kToServer, data, n);
    } else {
      if (!self->client_) {
        self->counters_[kToClient].foreign++;
        return;
      }
      self->on_datagram(kToClient, data, n);
    }
  }

  // Makes every random decision for one datagram, in a fixed order of draws.
  void on_datagram(Dir dir, const uint8_t* p, size_t n) {
    Counters& c = counters_[dir];
    uint64_t index = c.received++;
    Rng rng(mix64(dir_key_[dir] ^ mix64(index)));
    double u_loss = rng.uniform(), u_corrupt = rng.uniform(), u_dup = rng.uniform();
    double u_jitter[2], u_reorder[2];
    for (int i = 0; i < 2; ++i) {
      u_jitter[i] = rng.uniform();
      u_reorder[i] = rng.uniform();
    }
    if (u_loss < opt_.loss || index < opt_.drop_first) {
      c.dropped++;
      return;
    }
    Bytes data(p, p + n);
    if (u_corrupt < opt_.corrupt && n > 0) {
      corrupt(data, rng);
      c.corrupted++;
    }
    int copies = 1;
    if (u_dup < opt_.dup) {
      copies = 2;
      c.duplicated++;
    }
    for (int i = 0; i < copies; ++i) {
      uint64_t extra_us = 0;
      if (delayed_mode_) {
        extra_us = delay_us_ + static_cast<uint64_t>(u_jitter[i] * static_cast<double>(jitter_us_));
        if (u_reorder[i] < opt_.reorder) {
          extra_us += 2 * jitter_us_ + 1000;
          c.reordered++;
        }
      }
      if (i + 1 < copies)
        admit(dir, data, extra_us); // a copy
      else
        admit(dir, std::move(data), extra_us);
    }
  }

  // Flips 1-3 distinct bits.
  static void corrupt(Bytes& data, Rng& rng) {
    uint64_t bits = data.size() * 8;
    uint64_t flips = std::min<uint64_t>(1 + rng.below(3), bits);
    std::array<uint64_t, 3> done{};
    for (uint64_t k = 0; k < flips;) {
      uint64_t bit = rng.below(bits);
      if (std::find(done.begin(), done.begin() + k, bit) != done.begin() + k) continue;
      done[k++] = bit;
      data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
  }

  void admit(Dir dir, Bytes data, uint64_t extra_us) {
    if (opt_.rate == 0) {
      depart(dir, std::move(data), extra_us);
      return;
    }
    RateQueue& rq = rate_[dir];
    if (rq.bytes + data.size() > opt_.queue_bytes || rq.entries.size() >= kMaxQueuedDatagrams) {
      counters_[dir].queue_dropped++;
      return;
    }
    rq.bytes += data.size();
    rq.entries.push_back({std::move(data), extra_us});
    pump_rate(dir);
  }

  // Lets queued datagrams through while the bucket is not in debt.
  void pump_rate(Dir dir) {
    RateQueue& rq = rate_[dir];
    uint64_t now = now_us();
    double rate = static_cast<double>(opt_.rate);
    rq.tokens =
        std::min(burst_, rq.tokens + static_cast<double>(now - rq.refilled_us) * rate / 1e6);
    rq.refilled_us = now;
    while (!rq.entries.empty() && rq.tokens >= 0) {
      RateQueue::Entry e = std::move(rq.entries.front());
      rq.entries.pop_front();
      rq.bytes -= e.data.size();
      rq.tokens -= static_cast<double>(e.data.size());
      depart(dir, std::move(e.data), e.extra_us);
    }
    if (rq.entries.empty()) {
      uv_timer_stop(&rq.timer);
      return;
    }
    auto wait_ms = static_cast<uint64_t>(std::ceil(-rq.tokens / rate * 1000));
    uv_update_time(loop_);
    uv_timer_start(
        &rq.timer,
        [](uv_timer_t* t) {
          auto* self = static_cast<Relay*>(t->data);
          self->pump_rate(t == &self->rate_[kToServer].timer ? kToServer : kToClient);
        },
        std::max<uint64_t>(wait_ms, 1), 0);
  }

  // Enters the delay line, or goes straight out when there is none.
  void depart(Dir dir, Bytes data, uint64_t extra_us) {
    if (!delayed_mode_) {
      send(dir, std::move(data));
      return;
    }
    if (delay_line_.size() >= kMaxQueuedDatagrams ||
        delay_line_bytes_ + data.size() > kMaxDelayLineBytes) {
      counters_[dir].queue_dropped++;
      return;
    }
    uint64_t seq = next_seq_++;
    delay_line_bytes_ += data.size();
    delay_line_.push_back({now_us() + extra_us, seq, dir, std::move(data)});
    std::push_heap(delay_line_.begin(), delay_line_.end(), LaterFirst{});
    if (delay_line_.front().seq == seq) arm_delay_timer();
  }

  void arm_delay_timer() {
    if (delay_line_.empty()) {
      uv_timer_stop(&delay_timer_);
      return;
    }
    uint64_t due = delay_line_.front().due_us, now = now_us();
    uint64_t wait_ms = due > now ? (due - now + 999) / 1000 : 0;
    uv_update_time(loop_);
    uv_timer_start(
        &delay_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->release_due(); }, wait_ms,
        0);
  }

  void release_due() {
    uint64_t now = now_us();
    while (!delay_line_.empty() && delay_line_.front().due_us <= now) {
      std::pop_heap(delay_line_.begin(), delay_line_.end(), LaterFirst{});
      Delayed d = std::move(delay_line_.back());
      delay_line_.pop_back();
      delay_line_bytes_ -= d.data.size();
      send(d.dir, std::move(d.data));
    }
    arm_delay_timer();
  }

  void send(Dir dir, Bytes data) {
    uv_udp_t* h = dir == kToServer ? upstream_ : &listen_;
    if (h == nullptr) { // the mapping expired while the datagram was delayed
      counters_[dir].send_failed++;
      return;
    }
    const auto* to =
        reinterpret_cast<const sockaddr*>(dir == kToServer ? &opt_.to_addr : &*client_);
    uv_buf_t buf =
        uv_buf_init(reinterpret_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    int rv = uv_udp_try_send(h, &buf, 1, to);
    if (rv >= 0) {
      counters_[dir].forwarded++;
      return;
    }
    if (rv != UV_EAGAIN && rv != UV_ENOBUFS) {
      counters_[dir].send_failed++;
      return;
    }
    // The kernel buffer is full (or earlier sends are still queued): let libuv
    // queue it, which keeps the order.
    if (uv_udp_get_send_queue_count(h) >= kMaxPendingSends) {
      counters_[dir].queue_dropped++;
      return;
    }
    auto* req = new SendReq{{}, std::move(data), dir};
    buf = uv_buf_init(reinterpret_cast<char*>(req->data.data()),
                      static_cast<unsigned>(req->data.size()));
    rv = uv_udp_send(&req->req, h, &buf, 1, to, [](uv_udp_send_t* r, int status) {
      auto* sr = reinterpret_cast<SendReq*>(r);
      auto* self = static_cast<Relay*>(r->handle->data);
      if (status == 0)
        self->counters_[sr->dir].forwarded++;
      else if (status != UV_ECANCELED)
        self->counters_[sr->dir].send_failed++;
      delete sr;
    });
    if (rv != 0) {
      counters_[dir].send_failed++;
      delete req;
    }
  }

  void shutdown() {
    if (stopping_) return;
    stopping_ = true;
    for (int d = 0; d < 2; ++d) {
      const Counters& c = counters_[d];
      std::fprintf(
          stderr,
          "relay: forwarded=%llu dropped=%llu duplicated=%llu corrupted=%llu "
          "reordered=%llu queue_dropped=%llu send_failed=%llu received=%llu foreign=%llu "
          "rebinds=%llu dir=%s\n",
          static_cast<unsigned long long>(c.forwarded), static_cast<unsigned long long>(c.dropped),
          static_cast<unsigned long long>(c.duplicated),
          static_cast<unsigned long long>(c.corrupted),
          static_cast<unsigned long long>(c.reordered),
          static_cast<unsigned long long>(c.queue_dropped),
          static_cast<unsigned long long>(c.send_failed),
          static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.foreign),
          static_cast<unsigned long long>(rebinds_), d == kToServer ? "to-server" : "to-client");
    }
    std::fflush(stderr);
    close_upstream(); // frees it; uv_walk closes the rest
    uv_walk(
        loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
  }

  const Options& opt_;
  uv_loop_t* loop_ = nullptr;
  uint64_t delay_us_ = 0, jitter_us_ = 0;
  bool delayed_mode_ = false;
  double burst_ = 0;
  uint64_t dir_key_[2] = {};
  Bytes recv_buf_;
  uv_udp_t listen_{};
  uv_udp_t* upstream_ = nullptr; // owned; freed in its close callback
  uint64_t rebinds_ = 0;
  std::optional<sockaddr_storage> client_;
  Counters counters_[2];
  RateQueue rate_[2];
  std::vector<Delayed> delay_line_; // a min-heap under LaterFirst
  uint64_t delay_line_bytes_ = 0;
  uint64_t next_seq_ = 0;
  uv_timer_t delay_timer_{}, lifetime_timer_{}, rebind_timer_{}, mapping_timer_{};
  uv_signal_t signals_[2]{}, rebind_signal_{};
  bool stopping_ = false;
};

void write_port_file(const std::string& path, int port) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) fatal("--port-file " + tmp, std::strerror(errno));
  bool ok = std::fprintf(f, "%d\n", port) > 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fatal("--port-file " + path, std::strerror(err));
  }
}

} // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  Relay relay(opt);
  int port = relay.start(loop);
  if (!opt.port_file.empty()) write_port_file(opt.port_file, port);
  std::printf("%d\n", port);
  std::fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}
