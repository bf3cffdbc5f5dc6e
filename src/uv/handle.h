// RAII owners for libuv handles.
//
// A uv handle may only be freed in its close callback, which runs on a later
// loop iteration. Handle<T> heap-allocates the handle, and its destructor
// calls uv_close with a callback that frees it, so an owner can go away at
// any time; callbacks never reach a dead owner because uv_close stops the
// handle first.
#pragma once

#include <functional>
#include <utility>
#include <uv.h>

namespace qpipe::uvx {

template <typename T> class Handle {
public:
  Handle() = default;
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Allocates the handle; `init` is the uv_*_init call. Returns its status.
  template <typename Init> int init(Init&& init_fn, void* data) {
    reset();
    auto* h = new T{};
    int rv = init_fn(h);
    if (rv != 0) {
      delete h;
      return rv;
    }
    h->data = data;
    h_ = h;
    return 0;
  }
  T* get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void reset() {
    if (!h_) return;
    auto* h = reinterpret_cast<uv_handle_t*>(h_);
    h->data = nullptr;
    if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
    h_ = nullptr;
  }

private:
  T* h_ = nullptr;
};

// A one-shot or repeating timer calling a std::function.
class Timer {
public:
  Timer() = default;
  int init(uv_loop_t* loop, std::function<void()> fn) {
    fn_ = std::move(fn);
    return h_.init([loop](uv_timer_t* t) { return uv_timer_init(loop, t); }, this);
  }
  void start(uint64_t timeout_ms, uint64_t repeat_ms = 0) {
    uv_timer_start(h_.get(), &Timer::on_timer, timeout_ms, repeat_ms);
  }
  void stop() {
    if (h_) uv_timer_stop(h_.get());
  }
  void unref() { uv_unref(reinterpret_cast<uv_handle_t*>(h_.get())); }
  void close() { h_.reset(); }

private:
  static void on_timer(uv_timer_t* t) {
    if (auto* self = static_cast<Timer*>(t->data)) self->fn_();
  }
  Handle<uv_timer_t> h_;
  std::function<void()> fn_;
};

} // namespace qpipe::uvx
