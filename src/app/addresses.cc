#include "app/addresses.h"

#include <arpa/inet.h>
#include <cstring>
#include <netdb.h>

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

} // namespace qpipe::app
