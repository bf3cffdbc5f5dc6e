// SIGINT and SIGTERM while a front end runs (see interrupts.h).
#include "frontend/interrupts.h"

#include <csignal>
#include <cstdlib>
#include <utility>

namespace qpipe::frontend {

void Interrupts::start(std::function<void(const Error& why)> on_interrupt) {
  on_interrupt_ = std::move(on_interrupt);
  for (auto [handle, signum] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}}) {
    if (handle->init([this](uv_signal_t* s) { return uv_signal_init(loop_, s); }, this) == 0)
      uv_signal_start(handle->get(), &Interrupts::on_signal, signum);
  }
}

void Interrupts::unref() {
  for (auto* handle : {&sigint_, &sigterm_})
    if (*handle) uv_unref(reinterpret_cast<uv_handle_t*>(handle->get()));
}

void Interrupts::close() {
  sigint_.reset();
  sigterm_.reset();
}

void Interrupts::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Interrupts*>(handle->data);
  if (!self) return;
  if (++self->received_ > 1) std::_Exit(static_cast<int>(Errc::interrupted));
  self->on_interrupt_(
      make_error(Errc::interrupted, "interrupted", signum == SIGINT ? "SIGINT" : "SIGTERM"));
}

} // namespace qpipe::frontend
