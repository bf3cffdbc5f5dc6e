// Tests of describe_close (src/app/close_reason.h): how a connection that
// ended before success becomes the message and the exit code a user sees,
// for each way a connection can close, before and after the handshake.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include <ngtcp2/ngtcp2.h>

#include "app/close_reason.h"
#include "core/error.h"
#include "transport/connection.h"

namespace qpipe::app {
namespace {

using Kind = transport::CloseInfo::Kind;
using transport::AppError;

constexpr const char* kPeer = "127.0.0.1:4433";
constexpr uint64_t kIdleMs = 30'000;

transport::CloseInfo closed(Kind kind, uint64_t code = 0, std::string reason = "") {
  transport::CloseInfo info;
  info.kind = kind;
  info.code = code;
  info.reason = std::move(reason);
  return info;
}

uint64_t app_code(AppError e) {
  return static_cast<uint64_t>(e);
}

// Checks the error that describe_close makes: its code, `what` (always the
// peer) and `why`, for one handshake state.
void check(const transport::CloseInfo& info, bool handshake_done, const char* peer_role, Errc code,
           const std::string& why, uint64_t idle_timeout_ms = kIdleMs) {
  BOOST_TEST_INFO("kind " << static_cast<int>(info.kind) << ", code " << info.code << ", handshake "
                          << (handshake_done ? "done" : "not done"));
  Error e = describe_close(info, handshake_done, kPeer, peer_role, idle_timeout_ms);
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(code));
  BOOST_TEST(e.what == kPeer);
  BOOST_TEST(e.why == why);
}

// The same outcome whether or not the handshake was done.
void check_both(const transport::CloseInfo& info, const char* peer_role, Errc code,
                const std::string& why) {
  check(info, false, peer_role, code, why);
  check(info, true, peer_role, code, why);
}

} // namespace

BOOST_AUTO_TEST_SUITE(close_reason)

BOOST_AUTO_TEST_CASE(the_peer_closing_without_error_is_an_incomplete_transfer) {
  check_both(closed(Kind::peer_app, app_code(AppError::no_error)), "listener", Errc::transfer,
             "the listener closed the connection before the transfer was complete");
  check_both(closed(Kind::peer_app, app_code(AppError::no_error), "bye"), "sender", Errc::transfer,
             "the sender closed the connection before the transfer was complete");
}

BOOST_AUTO_TEST_CASE(a_refused_application_error_exits_as_refused) {
  check_both(closed(Kind::peer_app, app_code(AppError::refused), "unknown sender"), "listener",
             Errc::refused, "the listener aborted the transfer: refused (unknown sender)");
  check_both(closed(Kind::peer_app, app_code(AppError::refused)), "listener", Errc::refused,
             "the listener aborted the transfer: refused");
}

BOOST_AUTO_TEST_CASE(other_application_errors_are_transfer_failures_with_their_text) {
  check_both(closed(Kind::peer_app, app_code(AppError::digest_mismatch)), "listener",
             Errc::transfer,
             "the listener aborted the transfer: integrity check failed (digest mismatch)");
  check_both(closed(Kind::peer_app, app_code(AppError::output_failed), "disk full"), "listener",
             Errc::transfer,
             "the listener aborted the transfer: the listener could not write the data "
             "(disk full)");
  check_both(closed(Kind::peer_app, app_code(AppError::interrupted)), "sender", Errc::transfer,
             "the sender aborted the transfer: interrupted");
  check_both(closed(Kind::peer_app, app_code(AppError::busy)), "listener", Errc::transfer,
             "the listener aborted the transfer: busy with another transfer");
  check_both(closed(Kind::peer_app, 0x99), "listener", Errc::transfer,
             "the listener aborted the transfer: unknown error");
}

BOOST_AUTO_TEST_CASE(connection_refused_is_a_connect_error) {
  check_both(closed(Kind::peer_transport, NGTCP2_CONNECTION_REFUSED), "listener", Errc::connect,
             "the listener refused the connection");
  check_both(closed(Kind::peer_transport, NGTCP2_CONNECTION_REFUSED, "busy"), "listener",
             Errc::connect, "the listener refused the connection (busy)");
}

BOOST_AUTO_TEST_CASE(other_transport_errors_depend_on_the_handshake) {
  auto info = closed(Kind::peer_transport, NGTCP2_PROTOCOL_VIOLATION, "bad frame");
  check(info, false, "listener", Errc::connect,
        "the listener closed the connection (QUIC error 0xa) (bad frame)");
  check(info, true, "listener", Errc::transfer,
        "the listener closed the connection (QUIC error 0xa) (bad frame)");
  check(closed(Kind::peer_transport, NGTCP2_INTERNAL_ERROR), true, "sender", Errc::transfer,
        "the sender closed the connection (QUIC error 0x1)");
}

BOOST_AUTO_TEST_CASE(idle_timeout_before_the_handshake_asks_whether_a_listener_runs) {
  auto info = closed(Kind::idle_timeout);
  // The wait before the handshake is at most 10 s, whatever the idle timeout.
  check(info, false, "listener", Errc::connect,
        "no answer within 10 s (is a listener running there?)", 30'000);
  check(info, false, "listener", Errc::connect,
        "no answer within 5 s (is a listener running there?)", 5'000);
}

BOOST_AUTO_TEST_CASE(idle_timeout_after_the_handshake_names_the_silent_peer) {
  auto info = closed(Kind::idle_timeout);
  check(info, true, "listener", Errc::transfer, "no packet from the listener for 30 s; giving up",
        30'000);
  check(info, true, "sender", Errc::transfer, "no packet from the sender for 5 s; giving up",
        5'000);
}

BOOST_AUTO_TEST_CASE(a_failed_handshake_is_a_connect_error_with_its_reason) {
  check_both(closed(Kind::handshake, 0, "TLS alert: bad certificate"), "listener", Errc::connect,
             "TLS alert: bad certificate");
}

BOOST_AUTO_TEST_CASE(unreachable_depends_on_the_handshake) {
  auto info = closed(Kind::unreachable, 0, "port unreachable");
  check(info, false, "listener", Errc::connect, "nothing is listening there (port unreachable)");
  check(info, true, "listener", Errc::transfer, "the listener went away (port unreachable)");
  check(info, true, "sender", Errc::transfer, "the sender went away (port unreachable)");
}

BOOST_AUTO_TEST_CASE(local_and_internal_closes_are_transfer_failures) {
  for (Kind kind : {Kind::local, Kind::internal}) {
    check_both(closed(kind, 0, "stream limit reached"), "listener", Errc::transfer,
               "stream limit reached");
    check_both(closed(kind), "listener", Errc::transfer, "connection failed");
  }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::app
