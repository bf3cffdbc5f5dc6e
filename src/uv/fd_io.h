// Sources and sinks on file descriptors: stdin, stdout and files.
//
// Reads and writes run on libuv's thread pool as plain blocking read(2) and
// writev(2) calls, one at a time, so pipes, terminals and regular files all
// work the same way and the descriptors' O_NONBLOCK flag (shared with the
// other processes of a shell pipeline) is never changed. Waits on pipes and
// terminals go through poll(2) with a short timeout, so cancel() takes effect
// within 100 ms.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <uv.h>

#include "app/io.h"
#include "uv/work.h"

namespace qpipe::uvx {

class FdSource final : public app::ByteSource {
public:
  // Does not take ownership of fd.
  FdSource(uv_loop_t* loop, int fd, std::string name);
  void read(std::span<uint8_t> buf, std::function<void(app::ReadResult)> done) override;
  void cancel() override { cancelled_->store(true); }
  std::optional<uint64_t> size() const override { return size_; }
  std::string name() const override { return name_; }

private:
  uv_loop_t* loop_;
  int fd_;
  bool pollable_;
  std::optional<uint64_t> size_;
  std::string name_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  AliveToken alive_ = make_alive_token();
};

class FdSink : public app::ByteSink {
public:
  FdSink(uv_loop_t* loop, int fd, std::string name);
  void write(std::span<const iovec> parts, std::function<void(int)> done) override;
  void cancel() override { cancelled_->store(true); }
  Status commit() override { return {}; }
  void abort() override {}
  std::string name() const override { return name_; }

protected:
  uv_loop_t* loop_;
  int fd_;
  std::string name_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  AliveToken alive_ = make_alive_token();
};

// Writes to a temporary file beside `path` and renames it to `path` on
// commit; abort (or destruction without commit) removes the temporary.
class FileSink final : public FdSink {
public:
  static Result<std::unique_ptr<FileSink>> create(uv_loop_t* loop, const std::string& path);
  ~FileSink() override;
  Status commit() override;
  void abort() override;

private:
  FileSink(uv_loop_t* loop, int fd, std::string path, std::string tmp);
  std::string tmp_;
  bool done_ = false;
};

// Makes reads and writes of large blocks efficient on pipes (F_SETPIPE_SZ).
void enlarge_pipe(int fd);

} // namespace qpipe::uvx
