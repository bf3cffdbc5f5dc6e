// SIGINT and SIGTERM while a front end runs.
//
// The first signal calls the front end's handler with the error to finish
// with: Errc::interrupted (exit status 130), naming the signal. The CLI
// cancels its transfer with it; `qpipe api` shuts the service down. A second
// signal exits at once with 130, for a run that does not stop.
#pragma once

#include <functional>
#include <uv.h>

#include "core/error.h"
#include "uv/handle.h"

namespace qpipe::frontend {

class Interrupts {
public:
  explicit Interrupts(uv_loop_t* loop) : loop_(loop) {}
  Interrupts(const Interrupts&) = delete;
  Interrupts& operator=(const Interrupts&) = delete;

  // Installs the handlers; they stay until close() or destruction.
  void start(std::function<void(const Error& why)> on_interrupt);
  // The handlers do not keep the loop running: it ends when the work does.
  void unref();
  void close();

private:
  static void on_signal(uv_signal_t* handle, int signum);

  uv_loop_t* loop_;
  std::function<void(const Error&)> on_interrupt_;
  uvx::Handle<uv_signal_t> sigint_, sigterm_;
  int received_ = 0;
};

} // namespace qpipe::frontend
