// The token bucket behind `--limit RATE`: how many bytes the sender may hand
// to QUIC now. Pure: the caller passes the clock, so tests control time.
//
// The bucket holds at most a burst of max(64 KiB, 20 ms at the rate); it
// starts full. Bytes are taken after they were sent, so the level may go
// below zero; sending resumes once it has refilled above zero.
#pragma once

#include <cstdint>

namespace qpipe::app {

class RateLimiter {
public:
  explicit RateLimiter(uint64_t bytes_per_second);
  // Whether sending is allowed at now_ns; when not, *wait_ms is how long
  // until it will be (at least 1 ms).
  bool allows(uint64_t now_ns, uint64_t* wait_ms);
  void consumed(uint64_t bytes) { tokens_ -= static_cast<double>(bytes); }
  double burst() const { return burst_; }

private:
  double rate_, burst_;
  double tokens_ = 0;
  uint64_t last_refill_ns_ = 0;
  bool started_ = false;
};

} // namespace qpipe::app
