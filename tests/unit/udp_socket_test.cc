// Tests of the UDP socket (src/transport/udp_socket.h) on a real loop over
// loopback: send_many() sends GSO batches and single datagrams in order with
// fewer system calls than messages (sendmmsg), and the receiving side takes
// several per system call (recvmmsg) and hands every datagram over whole and
// in order, splitting GRO batches. Each test ends with uv_loop_close() == 0.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <cstdint>
#include <memory>
#include <vector>

#include <uv.h>

#include "core/log.h"
#include "transport/udp_socket.h"

namespace qpipe::transport {
namespace {

Address loopback() {
  Address a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len = sizeof(sockaddr_in);
  return a;
}

// Datagram i: `size` bytes, each the low byte of i + its offset.
std::vector<uint8_t> datagram(size_t i, size_t size) {
  std::vector<uint8_t> d(size);
  for (size_t k = 0; k < size; ++k)
    d[k] = static_cast<uint8_t>(i + k);
  return d;
}

struct Fixture {
  uv_loop_t loop;
  Logger log{Verbosity::quiet};
  Fixture() { uv_loop_init(&loop); }
  ~Fixture() {
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_CHECK_EQUAL(uv_loop_close(&loop), 0);
  }
};

BOOST_AUTO_TEST_SUITE(udp_socket)

BOOST_FIXTURE_TEST_CASE(send_many_arrives_whole_and_in_order_in_fewer_calls, Fixture) {
  auto rx = UdpSocket::open(&loop, loopback(), false, log);
  auto tx = UdpSocket::open(&loop, loopback(), false, log);
  BOOST_REQUIRE(rx && tx);
  const Address to = (*rx)->local();

  // 40 messages: GSO batches of 1200-byte datagrams (the last one shorter)
  // and datagrams alone, of other sizes.
  std::vector<std::vector<uint8_t>> expected; // each datagram as it must arrive
  std::vector<std::vector<uint8_t>> bufs;     // each message's bytes
  std::vector<size_t> gso;
  for (size_t m = 0; m < 40; ++m) {
    std::vector<uint8_t> buf;
    size_t seg = m % 3 == 0 ? 1200 : 100 + m;
    size_t count = m % 3 == 0 ? 1 + m % 5 : 1;
    for (size_t k = 0; k < count; ++k) {
      size_t size = m % 3 == 0 && k + 1 == count && count > 1 ? 700 : seg;
      auto d = datagram(expected.size(), size);
      buf.insert(buf.end(), d.begin(), d.end());
      expected.push_back(std::move(d));
    }
    bufs.push_back(std::move(buf));
    gso.push_back(seg);
  }
  std::vector<UdpSocket::Outgoing> out;
  for (size_t m = 0; m < bufs.size(); ++m)
    out.push_back(UdpSocket::Outgoing{&to, bufs[m].data(), bufs[m].size(), gso[m]});

  std::vector<std::vector<uint8_t>> got;
  (*rx)->start(
      [&](const Datagram& d) {
        got.emplace_back(d.data.begin(), d.data.end());
        BOOST_CHECK(d.remote == (*tx)->local());
        if (got.size() == expected.size()) uv_stop(&loop);
      },
      [](int) { BOOST_FAIL("no ICMP error expected"); }, nullptr);

  size_t sent = 0;
  BOOST_REQUIRE_EQUAL((*tx)->send_many(out, &sent), 0);
  BOOST_CHECK_EQUAL(sent, out.size());
  const UdpCounters tx_counters = (*tx)->counters();
  BOOST_CHECK_EQUAL(tx_counters.datagrams_sent, expected.size());
  BOOST_CHECK_LT(tx_counters.send_calls, out.size());
  uv_run(&loop, UV_RUN_DEFAULT);
  rx->reset();
  tx->reset();

  BOOST_REQUIRE_EQUAL(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    BOOST_CHECK_MESSAGE(got[i] == expected[i], "datagram " << i);
}

BOOST_FIXTURE_TEST_CASE(one_wakeup_reads_several_datagrams_per_call, Fixture) {
  auto rx = UdpSocket::open(&loop, loopback(), false, log);
  auto tx = UdpSocket::open(&loop, loopback(), false, log);
  BOOST_REQUIRE(rx && tx);
  const Address to = (*rx)->local();
  // Queued before the loop runs: the first wakeup finds all of them.
  constexpr size_t kCount = 32;
  for (size_t i = 0; i < kCount; ++i) {
    auto d = datagram(i, 1000);
    BOOST_REQUIRE_EQUAL((*tx)->send(to, d.data(), d.size(), d.size()), 0);
  }
  size_t n = 0;
  uint64_t calls = 0;
  (*rx)->start(
      [&](const Datagram& d) {
        BOOST_CHECK_MESSAGE(std::vector<uint8_t>(d.data.begin(), d.data.end()) == datagram(n, 1000),
                            "datagram " << n);
        if (++n == kCount) {
          calls = (*rx)->counters().recv_calls;
          uv_stop(&loop);
        }
      },
      [](int) {}, nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  rx->reset();
  tx->reset();
  BOOST_CHECK_EQUAL(n, kCount);
  BOOST_CHECK_LE(calls, kCount / 4);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace qpipe::transport
