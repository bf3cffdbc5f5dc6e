#include "app/close_reason.h"

#include <algorithm>

#include "core/log.h"

namespace qpipe::app {

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
