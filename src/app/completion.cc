#include "app/completion.h"

namespace qpipe::app {

Status Completion::init(uv_loop_t* loop, std::function<bool()> idle,
                        std::function<void(const Status&)> deliver) {
  idle_ = std::move(idle);
  deliver_ = std::move(deliver);
  if (int rv = timer_.init(loop,
                           [this] {
                             state_ = State::waiting;
                             try_deliver();
                           });
      rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  return {};
}

void Completion::complete(Status result) {
  if (state_ != State::running) return;
  state_ = State::completed;
  result_ = std::move(result);
  timer_.start(0);
}

void Completion::poke() {
  if (state_ == State::waiting) try_deliver();
}

void Completion::try_deliver() {
  if (!idle_()) return;
  state_ = State::delivered;
  timer_.close();
  // The owner may be destroyed from inside, and this with it: call from copies.
  Status result = result_;
  auto deliver = std::move(deliver_);
  deliver(result);
}

} // namespace qpipe::app
