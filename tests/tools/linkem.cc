// qpipe-linkem: a link emulator between two network namespaces, for TCP and
// UDP alike (this kernel has no netem).
//
// It creates one TUN device in each of two existing namespaces (setns), and
// forwards IP packets between them, applying per direction, seeded:
//   - random loss (on arrival, before the queue, as netem does);
//   - a bottleneck rate: each packet leaves the queue after its
//     serialisation time (size * 8 / rate) behind the one before it;
//   - a drop-tail queue in bytes (default: one bandwidth-delay product);
//   - a one-way propagation delay, and optional uniform jitter (which can
//     reorder packets, as a real path with several routes does).
// The caller (tests/tools/wan-link) gives the devices their addresses once
// this prints "ready" on stdout; SIGTERM or SIGINT ends it, and it prints
// per-direction counters on stderr.
//
// One thread and ppoll with nanosecond timeouts: it keeps up with 1 Gbit/s
// of 1500-byte packets here (two syscalls a packet).
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <queue>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "qpipe-linkem: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}
[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "qpipe-linkem: %s\n"
               "usage: qpipe-linkem --ns-a NS --ns-b NS [--dev NAME] --rate RATE "
               "[--delay MS] [--loss PCT] [--queue BYTES] [--jitter MS] [--seed N]\n"
               "  RATE: bits per second with k/m/g (100m = 100 Mbit/s); --delay is one-way;\n"
               "  --loss-ab/--loss-ba, --rate-ab/--rate-ba set one direction (a->b, b->a).\n",
               why.c_str());
  std::exit(2);
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// xorshift64*: seeded, the same losses for the same seed and packet order.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
};

double parse_number(const char* text, const char* what) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno != 0 || end == text || v < 0 || !std::isfinite(v))
    usage(std::string(what) + ": not a number: " + text);
  std::string suffix(end);
  if (suffix.empty()) return v;
  char c = static_cast<char>(std::tolower(static_cast<unsigned char>(suffix[0])));
  double mult = c == 'k' ? 1e3 : c == 'm' ? 1e6 : c == 'g' ? 1e9 : 0;
  if (mult == 0 || (suffix.size() > 1 && suffix.substr(1) != "bit" && suffix.substr(1) != "b"))
    usage(std::string(what) + ": unknown suffix in " + text);
  return v * mult;
}

struct Direction {
  explicit Direction(const char* n) : name(n) {}
  const char* name;
  double rate_bps = 0;      // 0: unlimited
  double loss = 0;          // probability
  uint64_t delay_ns = 0;    // one way
  uint64_t jitter_ns = 0;   // uniform in [0, jitter]
  uint64_t queue_limit = 0; // bytes waiting for the bottleneck
  int in_fd = -1, out_fd = -1;

  struct Packet {
    uint64_t deliver_at;
    uint64_t order; // keeps FIFO order among equal times
    std::vector<uint8_t> bytes;
    bool operator>(const Packet& o) const {
      return deliver_at != o.deliver_at ? deliver_at > o.deliver_at : order > o.order;
    }
  };
  std::priority_queue<Packet, std::vector<Packet>, std::greater<>> line; // in flight
  std::deque<std::pair<uint64_t, size_t>> queued; // (leaves the queue at, size)
  uint64_t queued_bytes = 0, link_free_at = 0, order = 0;
  uint64_t received = 0, lost = 0, tail_dropped = 0, delivered = 0;

  void arrive(std::vector<uint8_t>&& p, uint64_t now, Rng& rng) {
    ++received;
    while (!queued.empty() && queued.front().first <= now) {
      queued_bytes -= queued.front().second;
      queued.pop_front();
    }
    if (loss > 0 && rng.unit() < loss) {
      ++lost;
      return;
    }
    uint64_t leave = now;
    if (rate_bps > 0) {
      if (queue_limit && queued_bytes + p.size() > queue_limit) {
        ++tail_dropped;
        return;
      }
      uint64_t start = std::max(now, link_free_at);
      leave = start + static_cast<uint64_t>(static_cast<double>(p.size()) * 8e9 / rate_bps);
      link_free_at = leave;
      queued.emplace_back(leave, p.size());
      queued_bytes += p.size();
    }
    uint64_t at = leave + delay_ns;
    if (jitter_ns) at += rng.next() % (jitter_ns + 1);
    line.push(Packet{at, order++, std::move(p)});
  }

  // Writes what is due; returns the time of the next packet (0: none).
  uint64_t deliver(uint64_t now) {
    while (!line.empty() && line.top().deliver_at <= now) {
      const auto& p = line.top();
      ssize_t n = ::write(out_fd, p.bytes.data(), p.bytes.size());
      if (n < 0 && errno != EAGAIN && errno != EINVAL && errno != EIO) die("write");
      ++delivered;
      line.pop();
    }
    return line.empty() ? 0 : line.top().deliver_at;
  }
};

int open_tun_in(const std::string& ns, const std::string& dev) {
  std::string path = "/var/run/netns/" + ns;
  int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die(path);
  if (::setns(nsfd, CLONE_NEWNET) != 0) die("setns " + ns);
  ::close(nsfd);
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("/dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev.c_str());
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF " + dev + " in " + ns);
  return fd;
}

} // namespace

int main(int argc, char** argv) {
  std::string ns_a, ns_b, dev = "lk0";
  Direction ab("a->b"), ba("b->a");
  double delay_ms = 0, jitter_ms = 0;
  uint64_t queue = 0, seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string o = argv[i];
    if (i + 1 >= argc) usage(o + " needs a value");
    const char* v = argv[++i];
    if (o == "--ns-a")
      ns_a = v;
    else if (o == "--ns-b")
      ns_b = v;
    else if (o == "--dev")
      dev = v;
    else if (o == "--rate")
      ab.rate_bps = ba.rate_bps = parse_number(v, "--rate");
    else if (o == "--rate-ab")
      ab.rate_bps = parse_number(v, "--rate-ab");
    else if (o == "--rate-ba")
      ba.rate_bps = parse_number(v, "--rate-ba");
    else if (o == "--delay")
      delay_ms = parse_number(v, "--delay");
    else if (o == "--jitter")
      jitter_ms = parse_number(v, "--jitter");
    else if (o == "--loss")
      ab.loss = ba.loss = parse_number(v, "--loss") / 100;
    else if (o == "--loss-ab")
      ab.loss = parse_number(v, "--loss-ab") / 100;
    else if (o == "--loss-ba")
      ba.loss = parse_number(v, "--loss-ba") / 100;
    else if (o == "--queue")
      queue = static_cast<uint64_t>(parse_number(v, "--queue"));
    else if (o == "--seed")
      seed = static_cast<uint64_t>(parse_number(v, "--seed"));
    else
      usage("unknown option " + o);
  }
  if (ns_a.empty() || ns_b.empty()) usage("--ns-a and --ns-b are required");
  if (ab.loss > 1 || ba.loss > 1) usage("--loss is a percentage, 0 to 100");
  for (Direction* d : {&ab, &ba}) {
    d->delay_ns = static_cast<uint64_t>(delay_ms * 1e6);
    d->jitter_ns = static_cast<uint64_t>(jitter_ms * 1e6);
    // Default queue: one bandwidth-delay product of the round trip, at
    // least 64 packets' worth.
    double bdp = d->rate_bps / 8 * (2 * delay_ms / 1000);
    d->queue_limit = queue ? queue : static_cast<uint64_t>(std::max(bdp, 64.0 * 1500));
  }
  int fd_a = open_tun_in(ns_a, dev);
  int fd_b = open_tun_in(ns_b, dev);
  ab.in_fd = ba.out_fd = fd_a;
  ab.out_fd = ba.in_fd = fd_b;

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigset_t blocked, orig;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigprocmask(SIG_BLOCK, &blocked, &orig); // delivered only inside ppoll

  std::printf("ready\n");
  std::fflush(stdout);

  Rng rng(seed);
  std::vector<uint8_t> buf(65536);
  while (!g_stop) {
    uint64_t now = now_ns();
    uint64_t next = 0;
    for (Direction* d : {&ab, &ba}) {
      uint64_t t = d->deliver(now);
      if (t && (!next || t < next)) next = t;
    }
    pollfd fds[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
    timespec ts{1, 0};
    timespec* tp = &ts;
    if (next) {
      uint64_t wait = next > now ? next - now : 0;
      ts = {static_cast<time_t>(wait / 1'000'000'000ull),
            static_cast<long>(wait % 1'000'000'000ull)};
    }
    int rv = ::ppoll(fds, 2, tp, &orig);
    if (rv < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    now = now_ns();
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      Direction& d = i == 0 ? ab : ba;
      // Drain what is there (bounded, so the other side gets its turn).
      for (int k = 0; k < 256; ++k) {
        ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
        if (n <= 0) break;
        d.arrive(std::vector<uint8_t>(buf.begin(), buf.begin() + n), now, rng);
      }
    }
  }
  for (Direction* d : {&ab, &ba})
    std::fprintf(stderr,
                 "qpipe-linkem: %s: %" PRIu64 " packets in, %" PRIu64 " lost, %" PRIu64
                 " dropped at the queue, %" PRIu64 " delivered\n",
                 d->name, d->received, d->lost, d->tail_dropped, d->delivered);
  return 0;
}
