// A ByteSource of `qpipe gen` data, for sends that `qpipe api` starts with
// {"gen": {...}}: the bytes are made on the thread pool, chunk by chunk.
#pragma once

#include <memory>
#include <uv.h>

#include "gen/generator.h"
#include "uv/byte_io.h"
#include "uv/work.h"

namespace qpipe::api {

class GenSource final : public uvx::ByteSource {
public:
  GenSource(uv_loop_t* loop, gen::Kind kind, uint64_t seed, uint64_t size)
      : loop_(loop), gen_(std::make_shared<gen::Generator>(kind, seed)), size_(size) {}
  void read(std::span<uint8_t> buf, std::function<void(uvx::ReadResult)> done) override {
    uint64_t n = std::min<uint64_t>(buf.size(), size_ - pos_);
    uint64_t at = pos_;
    pos_ += n;
    bool eof = pos_ == size_;
    auto g = gen_;
    int rv = uvx::queue_work(
        loop_, alive_, [g, at, buf, n] { g->fill(at, buf.subspan(0, n)); },
        [done, n, eof] {
          done(uvx::ReadResult{n, eof, 0});
        });
    if (rv != 0) done(uvx::ReadResult{0, false, rv});
  }
  void cancel() override {}
  std::optional<uint64_t> size() const override { return size_; }
  std::string name() const override { return "gen"; }

private:
  uv_loop_t* loop_;
  std::shared_ptr<gen::Generator> gen_;
  uint64_t size_, pos_ = 0;
  uvx::AliveToken alive_ = uvx::make_alive_token();
};

} // namespace qpipe::api
