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
