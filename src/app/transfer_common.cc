#include "app/transfer_common.h"

#include <arpa/inet.h>
#include <cstring>
#include <netdb.h>

#include "core/log.h"

namespace qpipe::app {

namespace {
struct Lookup {
  uv_getaddrinfo_t req;
  std::weak_ptr<bool> alive;
  std::function<void(Result<transport::Address>)> done;
  std::string host;
  uint16_t port;
};
} // namespace

Status resolve(uv_loop_t* loop, const std::string& host, uint16_t port, int family,
               const uvx::AliveToken& alive, std::function<void(Result<transport::Address>)> done) {
  auto* l = new Lookup{{}, alive, std::move(done), host, port};
  l->req.data = l;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  std::string port_text = std::to_string(port);
  int rv = uv_getaddrinfo(
      loop, &l->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        std::unique_ptr<Lookup> l(static_cast<Lookup*>(req->data));
        if (!l->alive.lock()) {
          uv_freeaddrinfo(res);
          return;
        }
        if (status != 0 || !res) {
          uv_freeaddrinfo(res);
          l->done(make_error(Errc::connect, l->host, uv_strerror(status)));
          return;
        }
        transport::Address a;
        std::memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
        a.len = res->ai_addrlen;
        uv_freeaddrinfo(res);
        l->done(a);
      },
      host.c_str(), port_text.c_str(), &hints);
  if (rv != 0) {
    delete l;
    return uv_error(Errc::connect, host, rv);
  }
  return {};
}

Result<transport::Address> local_address(const std::string& bind, int family, uint16_t port) {
  transport::Address a;
  if (!bind.empty()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    std::string b = bind;
    if (b.size() > 2 && b.front() == '[' && b.back() == ']') b = b.substr(1, b.size() - 2);
    if (inet_pton(AF_INET, b.c_str(), &in->sin_addr) == 1 && family != AF_INET6) {
      in->sin_family = AF_INET;
      a.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, b.c_str(), &in6->sin6_addr) == 1 && family != AF_INET) {
      in6->sin6_family = AF_INET6;
      a.len = sizeof(sockaddr_in6);
    } else {
      return make_error(Errc::usage, "--bind",
                        "'" + bind + "' is not a numeric address of the right family");
    }
  } else if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a.ss)->sin_family = AF_INET;
    a.len = sizeof(sockaddr_in);
  } else {
    reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_family = AF_INET6;
    a.len = sizeof(sockaddr_in6);
  }
  a.set_port(port);
  return a;
}

Error describe_close(const transport::CloseInfo& info, bool handshake_done, const std::string& peer,
                     const char* peer_role, uint64_t idle_timeout_ms) {
  using K = transport::CloseInfo::Kind;
  std::string reason = info.reason.empty() ? "" : " (" + info.reason + ")";
  switch (info.kind) {
  case K::peer_app: {
    auto code = static_cast<transport::AppError>(info.code);
    Errc errc = code == transport::AppError::refused ? Errc::refused : Errc::transfer;
    if (code == transport::AppError::no_error)
      return make_error(Errc::transfer, peer,
                        std::string("the ") + peer_role +
                            " closed the connection before the transfer was complete");
    return make_error(errc, peer,
                      std::string("the ") + peer_role + " aborted the transfer: " +
                          transport::app_error_text(info.code) + reason);
  }
  case K::peer_transport:
    if (info.code == NGTCP2_CONNECTION_REFUSED)
      return make_error(Errc::connect, peer,
                        std::string("the ") + peer_role + " refused the connection" + reason);
    return make_error(
        handshake_done ? Errc::transfer : Errc::connect, peer,
        std::string("the ") + peer_role + " closed the connection" +
            strprintf(" (QUIC error 0x%llx)", static_cast<unsigned long long>(info.code)) + reason);
  case K::idle_timeout:
    if (!handshake_done)
      return make_error(Errc::connect, peer,
                        strprintf("no answer within %llu s (is a listener running there?)",
                                  static_cast<unsigned long long>(
                                      std::min<uint64_t>(idle_timeout_ms, 10'000) / 1000)));
    return make_error(Errc::transfer, peer,
                      strprintf("no packet from the %s for %llu s; giving up", peer_role,
                                static_cast<unsigned long long>(idle_timeout_ms / 1000)));
  case K::handshake:
    return make_error(Errc::connect, peer, info.reason);
  case K::unreachable:
    if (!handshake_done)
      return make_error(Errc::connect, peer, "nothing is listening there (" + info.reason + ")");
    return make_error(Errc::transfer, peer,
                      std::string("the ") + peer_role + " went away (" + info.reason + ")");
  case K::internal:
  case K::local:
    break;
  }
  return make_error(Errc::transfer, peer, info.reason.empty() ? "connection failed" : info.reason);
}

} // namespace qpipe::app
