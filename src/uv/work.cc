#include "uv/work.h"

namespace qpipe::uvx {
namespace {
struct Job {
  uv_work_t req;
  std::weak_ptr<bool> alive;
  std::function<void()> work;
  std::function<void()> done;
};
} // namespace

int queue_work(uv_loop_t* loop, const AliveToken& alive, std::function<void()> work,
               std::function<void()> done) {
  auto* job = new Job{{}, alive, std::move(work), std::move(done)};
  job->req.data = job;
  int rv = uv_queue_work(
      loop, &job->req, [](uv_work_t* r) { static_cast<Job*>(r->data)->work(); },
      [](uv_work_t* r, int) {
        std::unique_ptr<Job> j(static_cast<Job*>(r->data));
        if (j->alive.lock()) j->done();
      });
  if (rv != 0) delete job;
  return rv;
}

} // namespace qpipe::uvx
