// Sources and sinks on file descriptors: stdin, stdout, files, and the
// devices, FIFOs and sockets that -o may name.
//
// Reads and writes run on libuv's thread pool as plain blocking read(2) and
// writev(2) calls, one at a time, so pipes, terminals and regular files all
// work the same way and the descriptors' O_NONBLOCK flag (shared with the
// other processes of a shell pipeline) is never changed. Waits on pipes and
// terminals go through poll(2) with a short timeout, so cancel() takes effect
// within 100 ms.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <time.h>
#include <uv.h>

#include "core/fs.h"
#include "uv/byte_io.h"
#include "uv/partial_file.h"
#include "uv/work.h"

namespace qpipe::uvx {

class FdSource final : public ByteSource {
public:
  // Does not take ownership of fd (stdin).
  FdSource(uv_loop_t* loop, int fd, std::string name);
  // Opens a file to read; the descriptor is closed when the source and any
  // read still running on the thread pool are done with it.
  static Result<std::unique_ptr<FdSource>> open_file(uv_loop_t* loop, const std::string& path);
  void read(std::span<uint8_t> buf, std::function<void(ReadResult)> done) override;
  void cancel() override { cancelled_->store(true); }
  std::optional<uint64_t> size() const override { return size_; }
  Status skip(uint64_t n) override;
  std::string name() const override { return name_; }

private:
  uv_loop_t* loop_;
  int fd_;
  std::shared_ptr<void> owned_fd_; // closes fd_ when the last user lets go
  bool pollable_;
  std::optional<uint64_t> size_;
  std::string name_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  AliveToken alive_ = make_alive_token();
};

class FdSink : public ByteSink {
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

// Writes straight into what -o names when it is a device, a FIFO or a
// socket, as a shell's redirection does: no temporary and no rename, so the
// write is not atomic, and commit and abort leave the target as it is. The
// target is opened with the first write (or at the commit of an empty
// stream), on the thread pool: a FIFO without a reader is waited for, a
// socket is connected to (a stream socket); cancel() ends the wait.
class DeviceSink final : public FdSink {
public:
  DeviceSink(uv_loop_t* loop, std::string path, bool sync);
  ~DeviceSink() override;
  void write(std::span<const iovec> parts, std::function<void(int)> done) override;
  Status commit() override;

private:
  std::shared_ptr<UniqueFd> opened_; // filled on the thread pool, then fd_
  bool sync_;
};

struct FileSinkOptions {
  std::optional<uint32_t> mode;  // applied before the rename (permission bits only)
  std::optional<timespec> mtime; // likewise
  bool sync = false;             // fsync the file before, and the directory after, the rename
  bool no_clobber = false;       // refuse to replace an existing file
  // --resume: the temporary is the part ".NAME.qpipe-partial", kept when the
  // transfer fails; writing starts at start_offset (what was kept and
  // matched). `partial` is the part already claimed for the offer; without
  // it the sink claims the part itself (and is refused when another
  // transfer holds it).
  bool resumable = false;
  uint64_t start_offset = 0;
  std::shared_ptr<PartialFile> partial;
};

// Writes to a temporary file in a directory and renames it to its name on
// commit; abort (or destruction without commit) removes the temporary. All
// operations are relative to the directory's descriptor (openat, renameat2
// with O_NOFOLLOW on the temporary), so a symlink under the final name is
// replaced, never followed. A resumable sink holds its part (PartialFile)
// until it is done.
class FileSink final : public FdSink {
public:
  // `path`: a file path, as given with -o PATH.
  static Result<std::unique_ptr<FileSink>> create(uv_loop_t* loop, const std::string& path,
                                                  const FileSinkOptions& opts = {});
  // `name` inside `dir` (the name has been validated by the caller).
  static Result<std::unique_ptr<FileSink>> create_in(uv_loop_t* loop, const std::string& dir,
                                                     const std::string& name,
                                                     const FileSinkOptions& opts);
  ~FileSink() override;
  Status commit() override;
  void abort() override;

private:
  FileSink(uv_loop_t* loop, UniqueFd fd, UniqueFd dir_fd, std::string shown, std::string name,
           std::string tmp, FileSinkOptions opts);
  UniqueFd file_fd_; // the temporary file, written through FdSink::fd_
  UniqueFd dir_fd_;
  std::shared_ptr<PartialFile> partial_; // --resume: the part, locked
  std::string name_in_dir_, tmp_;
  FileSinkOptions opts_;
  bool done_ = false;
};

// The XXH3-128 (canonical) of the first n bytes of a file: blocking, for the
// thread pool (--resume compares the part a listener kept with the source).
Result<std::array<uint8_t, 16>> digest_prefix(const std::string& path, uint64_t n);
// The same of an open file (read with pread, so its offset stays); `name`
// is for messages.
Result<std::array<uint8_t, 16>> digest_fd_prefix(int fd, uint64_t n, const std::string& name);

// Makes reads and writes of large blocks efficient on a pipe: grows it to
// 1 MiB (F_SETPIPE_SZ), and never shrinks one that its other end made larger.
void enlarge_pipe(int fd);

} // namespace qpipe::uvx
