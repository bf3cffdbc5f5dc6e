// The libuv loop of a front end's run, and its teardown.
//
// A loop may only be closed when every handle on it has been closed and
// its close callback has run. The owners of handles (the transfer, the
// service, signal handlers) close theirs when they are destroyed, so an
// EventLoop is declared before them and outlives them: its destructor runs
// the loop until the closed handles are gone, closes any handle still open
// (a leak, reported with -vv) and ends with a successful uv_loop_close.
#pragma once

#include <uv.h>

#include "core/log.h"

namespace qpipe::frontend {

class EventLoop {
public:
  // `log` must outlive the loop.
  explicit EventLoop(const Logger& log);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* get() { return &loop_; }
  // Runs until nothing is left to do (UV_RUN_DEFAULT).
  void run();

private:
  uv_loop_t loop_;
  const Logger& log_;
};

} // namespace qpipe::frontend
