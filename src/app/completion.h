// How a send or a listen ends, written once for both.
//
// The owner calls complete() with its result (the first call wins). Its
// `deliver` function then runs exactly once, from a timer of its own, that
// is outside every connection and socket callback (so that it may tear the
// connection down, and the owner's owner may destroy the owner from inside
// on_done), and only once `idle` says that no read, write or thread-pool job
// still uses the owner's buffers. An operation that completes after
// complete() calls poke(), so that a waiting delivery happens then.
#pragma once

#include <functional>

#include "core/error.h"
#include "uv/handle.h"

namespace qpipe::app {

class Completion {
public:
  Status init(uv_loop_t* loop, std::function<bool()> idle,
              std::function<void(const Status&)> deliver);
  bool done() const { return state_ != State::running; }
  void complete(Status result);
  void poke();
  const Status& result() const { return result_; }

private:
  enum class State {
    running,   // complete() not called yet
    completed, // the timer is due
    waiting,   // the timer ran; waiting for the owner to become idle
    delivered, // deliver ran
  };
  void try_deliver();

  State state_ = State::running;
  Status result_;
  std::function<bool()> idle_;
  std::function<void(const Status&)> deliver_;
  uvx::Timer timer_;
};

} // namespace qpipe::app
