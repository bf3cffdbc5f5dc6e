// Work on libuv's thread pool with a C++ callable, safe against the owner
// going away: the completion runs only while the owner's token is alive.
//
// WorkQueue is what an engine object holds: it counts the jobs it queued
// that have not come back yet (an owner must not free the buffers a job uses
// while it runs), and hands a job's result back on the loop thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
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

class WorkQueue {
public:
  explicit WorkQueue(uv_loop_t* loop) : loop_(loop) {}
  ~WorkQueue() { alive_.reset(); }
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Runs `work` on the thread pool and `done` on the loop thread afterwards
  // (never once this queue is gone). Returns a uv error code; on an error
  // neither runs.
  int run(std::function<void()> work, std::function<void()> done) {
    ++pending_;
    int rv = queue_work(loop_, alive_, std::move(work), [this, done = std::move(done)] {
      --pending_;
      if (!stopped_) return done();
      if (pending_ == 0 && drained_) drained_();
    });
    if (rv != 0) --pending_;
    return rv;
  }
  // The same for work that computes a value: `done` receives it.
  template <typename T> int run(std::function<T()> work, std::function<void(T)> done) {
    auto out = std::make_shared<std::optional<T>>();
    return run([out, work = std::move(work)] { out->emplace(work()); },
               [out, done = std::move(done)] { done(std::move(**out)); });
  }
  // The owner has finished: completions from now on do not run their `done`
  // (the owner no longer wants the results); `drained` runs once the last
  // job has come back, so that the owner can free what they used.
  void stop(std::function<void()> drained) {
    stopped_ = true;
    drained_ = std::move(drained);
  }
  // Jobs queued that have not completed yet.
  int pending() const { return pending_; }
  bool idle() const { return pending_ == 0; }
  uv_loop_t* loop() const { return loop_; }
  const AliveToken& alive() const { return alive_; }

private:
  uv_loop_t* loop_;
  AliveToken alive_ = make_alive_token();
  int pending_ = 0;
  bool stopped_ = false;
  std::function<void()> drained_;
};

} // namespace qpipe::uvx
