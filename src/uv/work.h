// Work on libuv's thread pool with a C++ callable, safe against the owner
// going away: the completion runs only while the owner's token is alive.
#pragma once

#include <functional>
#include <memory>
#include <uv.h>

namespace qpipe::uvx {

// A token an owner holds; work queued with it completes silently once the
// owner has dropped it.
using AliveToken = std::shared_ptr<bool>;
inline AliveToken make_alive_token() {
  return std::make_shared<bool>(true);
}

// Runs `work` on the thread pool, then `done` on the loop thread if `alive`
// is still held by its owner. Returns a uv error code (0 on success).
int queue_work(uv_loop_t* loop, const AliveToken& alive, std::function<void()> work,
               std::function<void()> done);

} // namespace qpipe::uvx
