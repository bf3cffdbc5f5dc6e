// A transfer's statistics as JSON (see stats_json.h).
#include "frontend/stats_json.h"

#include <cmath>
#include <cstdint>

namespace qpipe::frontend {
namespace {

// x rounded to `places` decimal places.
double rounded(double x, int places) {
  double scale = std::pow(10.0, places);
  return std::round(x * scale) / scale;
}

// x rounded to a whole number that a uint64_t holds.
uint64_t whole(double x) {
  if (!(x > 0)) return 0;
  if (x >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(std::round(x));
}

double ratio(uint64_t a, uint64_t b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0;
}

} // namespace

nlohmann::ordered_json to_json(const app::TransferStats& s) {
  double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  nlohmann::ordered_json j{{"bytes", s.bytes},
                           {"wire_bytes", s.wire_bytes},
                           {"seconds", rounded(s.seconds, 6)},
                           {"rate", whole(rate)},
                           {"ratio", rounded(ratio(s.bytes, s.wire_bytes), 4)}};
  if (s.rtt_ms) j["rtt_ms"] = rounded(*s.rtt_ms, 3);
  if (s.lost_packets) j["lost_packets"] = *s.lost_packets;
  j["chunks"] = s.chunks;
  j["payload_wire_bytes"] = s.payload_wire_bytes;
  if (s.window) j["window"] = *s.window;
  if (s.cwnd) j["cwnd"] = *s.cwnd;
  if (!s.zstd_levels.empty()) {
    // Chunks sent compressed, by level: {"3": 10, "5": 40}.
    nlohmann::ordered_json levels = nlohmann::ordered_json::object();
    for (const auto& [level, chunks] : s.zstd_levels)
      levels[std::to_string(level)] = chunks;
    j["zstd_levels"] = levels;
  }
  j["udp_payload"] = s.udp_payload;
  j["path_changes"] = s.path_changes;
  j["gso"] = s.gso;
  j["gro"] = s.gro;
  j["peer"] = s.peer;
  return j;
}

} // namespace qpipe::frontend
