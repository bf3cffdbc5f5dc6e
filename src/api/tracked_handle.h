// RAII owners for libuv handles whose closing can be awaited.
//
// Like uvx::Handle, a TrackedHandle heap-allocates its handle, and its
// destructor (or reset) clears `data` and calls uv_close with a callback that
// frees it, so callbacks never reach a dead owner. In addition every handle
// belongs to a HandleGroup that counts the handles not yet freed and, when
// asked, calls a function once that count reaches zero: this is how the HTTP
// server's stop() knows that the loop holds nothing of it any more.
//
// The group's state is reference counted by the group and by each live
// handle, so a group may be destroyed while its handles are still closing.
#pragma once

#include <cassert>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>
#include <uv.h>

namespace qpipe::api {

class HandleGroup {
public:
  HandleGroup() : state_(new State) {}
  ~HandleGroup() {
    state_->when_closed = nullptr;
    release(state_);
  }
  HandleGroup(const HandleGroup&) = delete;
  HandleGroup& operator=(const HandleGroup&) = delete;

  // Handles of this group that are open or closing.
  size_t live() const { return state_->live; }

  // Calls `fn` once no handle of the group is left: at once when none is,
  // else from the close callback of the last one. Replaces an earlier `fn`.
  // Destroying the group drops `fn` uncalled.
  void when_all_closed(std::function<void()> fn) {
    if (state_->live == 0) {
      state_->when_closed = nullptr;
      fn();
      return;
    }
    state_->when_closed = std::move(fn);
  }

private:
  template <typename T> friend class TrackedHandle;
  struct State {
    size_t refs = 1; // the group itself, plus one per live handle
    size_t live = 0;
    std::function<void()> when_closed;
  };
  static void release(State* s) {
    if (--s->refs == 0) delete s;
  }
  State* state_;
};

template <typename T> class TrackedHandle {
public:
  TrackedHandle() = default;
  ~TrackedHandle() { reset(); }
  TrackedHandle(const TrackedHandle&) = delete;
  TrackedHandle& operator=(const TrackedHandle&) = delete;

  // Allocates the handle in `group`; `init_fn` is the uv_*_init call. Returns
  // its status; on failure nothing is allocated.
  template <typename Init> int init(HandleGroup& group, Init&& init_fn, void* data) {
    reset();
    auto* box = new Box{};
    int rv = init_fn(&box->handle);
    if (rv != 0) {
      delete box;
      return rv;
    }
    box->handle.data = data;
    box->group = group.state_;
    ++box->group->refs;
    ++box->group->live;
    box_ = box;
    return 0;
  }

  T* get() const { return box_ ? &box_->handle : nullptr; }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(get()); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(get()); }
  explicit operator bool() const { return box_ != nullptr; }

  // Detaches the owner and closes the handle; it is freed, and the group
  // told, in the close callback.
  void reset() {
    if (!box_) return;
    auto* h = reinterpret_cast<uv_handle_t*>(&box_->handle);
    h->data = nullptr;
    box_ = nullptr;
    assert(!uv_is_closing(h)); // only reset() closes a tracked handle
    uv_close(h, &TrackedHandle::on_closed);
  }

private:
  // Standard layout, so that the handle's address is the box's address.
  struct Box {
    T handle;
    HandleGroup::State* group;
  };
  static_assert(std::is_standard_layout_v<Box>);

  static void on_closed(uv_handle_t* h) {
    auto* box = reinterpret_cast<Box*>(h);
    HandleGroup::State* s = box->group;
    delete box;
    assert(s->live > 0);
    if (--s->live == 0 && s->when_closed) {
      // The handle's reference keeps the state alive while `fn` runs, even
      // if `fn` destroys the group.
      auto fn = std::move(s->when_closed);
      s->when_closed = nullptr;
      fn();
    }
    HandleGroup::release(s);
  }

  Box* box_ = nullptr;
};

} // namespace qpipe::api
