// The outgoing side of the control stream: messages appended over time,
// handed to QUIC from stable memory. ngtcp2 keeps pointers to stream data
// until it is acknowledged (for retransmission), so a message's bytes never
// move once queued: each message is its own string in a deque, which does
// not relocate its elements when it grows.
#pragma once

#include <deque>
#include <string>
#include <sys/uio.h>

namespace qpipe::app {

class ControlOut {
public:
  void append(std::string bytes) {
    if (!bytes.empty()) msgs_.push_back(std::move(bytes));
  }
  // The next unsent bytes (up to the end of one message); false when none.
  bool next(iovec& v) const {
    if (index_ >= msgs_.size()) return false;
    const std::string& m = msgs_[index_];
    v = {const_cast<char*>(m.data()) + offset_, m.size() - offset_};
    return true;
  }
  void sent(size_t n) {
    while (n > 0 && index_ < msgs_.size()) {
      size_t left = msgs_[index_].size() - offset_;
      size_t k = n < left ? n : left;
      offset_ += k;
      n -= k;
      if (offset_ == msgs_[index_].size()) {
        ++index_;
        offset_ = 0;
      }
    }
  }
  bool all_sent() const { return index_ >= msgs_.size(); }
  // Whether what next() returns is the end of the last message queued.
  bool pending_is_last() const { return index_ + 1 >= msgs_.size(); }

private:
  std::deque<std::string> msgs_;
  size_t index_ = 0, offset_ = 0;
};

} // namespace qpipe::app
