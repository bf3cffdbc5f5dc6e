// What a QUIC connection is configured with: its congestion controller, its
// idle timeout and the flow-control limits it grants the peer. Plain types
// without ngtcp2, so that the options of the layers above (`--cc`,
// `--idle-timeout`) can use them.
#pragma once

#include <cstdint>

namespace qpipe::transport {

// ngtcp2's congestion controllers.
enum class CongestionControl { cubic, bbr, reno };

inline constexpr uint64_t kDefaultIdleTimeoutMs = 30'000;

// Keep-alive: while neither side has anything to send (a producer that
// pauses, a consumer that stops reading), each side sends a PING after this
// long without sending, so that an idle timeout means a silent peer, never a
// slow one. A third of the idle timeout in force (two PINGs may be lost
// before it expires), and at most 15 s, well inside the 30 s after which
// common NAT mappings of UDP flows expire.
inline constexpr uint64_t kMaxKeepAliveMs = 15'000;
constexpr uint64_t keep_alive_ms(uint64_t idle_timeout_ms) {
  uint64_t third = idle_timeout_ms / 3;
  return third == 0 ? 1 : third < kMaxKeepAliveMs ? third : kMaxKeepAliveMs;
}

// The idle timeout in force on a connection: the smaller of the two
// endpoints' (RFC 9000 §10.1), where 0 means that an endpoint has none.
constexpr uint64_t effective_idle_timeout_ms(uint64_t local_ms, uint64_t remote_ms) {
  if (local_ms == 0) return remote_ms;
  if (remote_ms == 0) return local_ms;
  return local_ms < remote_ms ? local_ms : remote_ms;
}
// The window of a bidirectional stream: qpipe's only one is the control
// stream, whose messages are small.
inline constexpr uint64_t kControlStreamWindow = 64 * 1024;

struct ConnectionSettings {
  CongestionControl cc = CongestionControl::bbr;
  uint64_t idle_timeout_ms = kDefaultIdleTimeoutMs;
  // Transport parameters we grant the peer.
  uint64_t max_data = 0;
  uint64_t max_stream_data_uni = 0;
  uint64_t max_stream_data_bidi = kControlStreamWindow;
  uint64_t max_streams_uni = 0;
  uint64_t max_streams_bidi = 0;
};

} // namespace qpipe::transport
