// The outgoing side of the control stream: messages appended over time,
// handed to QUIC from stable memory, and the stream's end.
//
// ngtcp2 keeps pointers to stream data until it is acknowledged (for
// retransmission), so a message's bytes never move once queued: each message
// is its own string in a deque, which does not relocate its elements when it
// grows at either end. Messages may be queued before the stream is open;
// they go out once it is.
#pragma once

#include <cassert>
#include <cstdint>
#include <deque>
#include <string>
#include <sys/uio.h>

#include "transport/connection.h"

namespace qpipe::app {

class ControlOut {
public:
  void open(int64_t stream_id) { stream_id_ = stream_id; }
  bool is_open() const { return stream_id_ >= 0; }
  int64_t stream_id() const { return stream_id_; }

  void append(std::string bytes) {
    if (!bytes.empty()) msgs_.push_back(std::move(bytes));
  }
  // Queues a message ahead of all others; only before anything was sent.
  void prepend(std::string bytes) {
    assert(index_ == 0 && offset_ == 0);
    if (!bytes.empty()) msgs_.push_front(std::move(bytes));
  }
  // The stream ends with what is queued now: the FIN goes with the last byte
  // of the last message. Nothing may be appended after this.
  void finish() { finishing_ = true; }
  bool finishing() const { return finishing_; }
  bool fin_sent() const { return fin_sent_; }

  // Flow control: the peer's window for this stream is full, or open again.
  void set_blocked(bool blocked) { blocked_ = blocked; }

  // Fills `slot` with the next unsent bytes (up to the end of one message),
  // with the FIN when they end the stream; false when there is nothing to send.
  bool next(transport::SendSlot& slot) const {
    if (!is_open() || blocked_) return false;
    bool more = index_ < msgs_.size();
    if (!more && !(finishing_ && !fin_sent_)) return false;
    slot.stream_id = stream_id_;
    slot.cnt = 0;
    if (more) {
      const std::string& m = msgs_[index_];
      slot.vec[slot.cnt++] = {const_cast<char*>(m.data()) + offset_, m.size() - offset_};
    }
    slot.fin = finishing_ && index_ + 1 >= msgs_.size();
    return true;
  }
  void sent(size_t n, bool fin) {
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
    if (fin) fin_sent_ = true;
  }

private:
  int64_t stream_id_ = -1;
  std::deque<std::string> msgs_;
  size_t index_ = 0, offset_ = 0;
  bool blocked_ = false, finishing_ = false, fin_sent_ = false;
};

} // namespace qpipe::app
