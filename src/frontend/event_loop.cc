// The libuv loop of a front end's run (see event_loop.h).
#include "frontend/event_loop.h"

namespace qpipe::frontend {

EventLoop::EventLoop(const Logger& log) : log_(log) {
  uv_loop_init(&loop_);
}

void EventLoop::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
}

EventLoop::~EventLoop() {
  run(); // lets the closed handles go
  if (uv_loop_close(&loop_) == 0) return;
  log_.debug("loop closed with live handles");
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  run();
  (void)uv_loop_close(&loop_);
}

} // namespace qpipe::frontend
