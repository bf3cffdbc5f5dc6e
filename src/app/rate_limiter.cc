#include "app/rate_limiter.h"

#include <algorithm>

namespace qpipe::app {

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(static_cast<double>(bytes_per_second)), burst_(std::max(64.0 * 1024, rate_ / 50)) {}

bool RateLimiter::allows(uint64_t now_ns, uint64_t* wait_ms) {
  if (!started_) {
    tokens_ = burst_;
    started_ = true;
  } else if (now_ns > last_refill_ns_) {
    tokens_ =
        std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ns - last_refill_ns_) / 1e9);
  }
  last_refill_ns_ = std::max(last_refill_ns_, now_ns);
  if (tokens_ > 0) return true;
  *wait_ms = static_cast<uint64_t>(-tokens_ / rate_ * 1000) + 1;
  return false;
}

} // namespace qpipe::app
