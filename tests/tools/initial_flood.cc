// qpipe-initial-flood: sends COUNT valid QUIC Initial packets to a listener,
// each the first packet of a handshake with its own connection IDs, as a
// sender at a forged address would: it never reads an answer, so no
// handshake completes and no Retry is followed. For the end-to-end tests of
// address validation (tests/e2e/peers_test.sh).
//
//   qpipe-initial-flood HOST PORT COUNT
//
// Prints the number of Initials sent. Exit 0, or 2 on bad arguments.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <uv.h>

#include "app/addresses.h"
#include "core/protocol.h"
#include "tls/tls_context.h"
#include "transport/connection.h"

using namespace qpipe;

namespace {

struct Silent final : transport::ConnectionHandler {
  transport::Outcome on_stream_data(int64_t, std::span<const uint8_t>, bool) override { return {}; }
  bool next_send(transport::SendSlot&) override { return false; }
  void on_sent(int64_t, size_t, bool) override {}
  void on_stream_blocked(int64_t) override {}
  void on_closed(const transport::CloseInfo&) override {}
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: qpipe-initial-flood HOST PORT COUNT\n");
    return 2;
  }
  int port = std::atoi(argv[2]), count = std::atoi(argv[3]);
  auto remote = app::local_address(argv[1], AF_UNSPEC, static_cast<uint16_t>(port));
  if (!remote || port <= 0 || port > 65535 || count < 0) {
    std::fprintf(stderr, "qpipe-initial-flood: bad arguments\n");
    return 2;
  }
  Logger log(Verbosity::quiet);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int sent = 0;
  {
    auto local = app::local_address("", remote->family(), 0);
    auto sock = transport::UdpSocket::open(&loop, *local, true, log);
    auto tls = tls::make_client_context();
    if (!sock || !tls) {
      std::fprintf(stderr, "qpipe-initial-flood: cannot set up\n");
      return 1;
    }
    Silent handler;
    transport::ConnectionSettings cs;
    for (int i = 0; i < count; ++i) {
      auto conn = transport::Connection::client(&loop, sock->get(), *remote, cs, tls->get(),
                                                "flood", kAlpn, false, &handler, log);
      if (!conn) continue;
      (*conn)->flush(); // the Initial goes out; the connection is then forgotten
      ++sent;
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT); // the forgotten connections' timers close
  uv_loop_close(&loop);
  std::printf("%d\n", sent);
  return 0;
}
