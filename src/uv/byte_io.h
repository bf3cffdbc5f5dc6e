// Where a send reads from and where a listener writes to: asynchronous byte
// interfaces on a libuv loop. The engine (src/app) sees only these; fd_io.h
// has the implementations for file descriptors and files, and `qpipe api`
// adds its own.
//
// All callbacks run on the loop thread. At most one read (or one write) is
// outstanding at a time. cancel() makes an outstanding operation finish soon
// with UV_ECANCELED.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/error.h"

namespace qpipe::uvx {

class PartialFile; // uv/partial_file.h

struct ReadResult {
  size_t bytes = 0;
  bool eof = false;
  int error = 0; // negative errno / uv code, 0 when fine
};

// What a listener learns of a file that a sender sends by name.
struct FileMeta {
  std::string name; // a plain name, validated by the listener before use
  uint32_t mode = 0644;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  std::optional<uint64_t> size;
  // With --resume (listener side): keep the partial file under a fixed name
  // when the transfer fails, and write from start_offset on; `partial` is
  // the part the listener claimed when it made its offer.
  bool resumable = false;
  uint64_t start_offset = 0;
  std::shared_ptr<PartialFile> partial;
};

class ByteSource {
public:
  virtual ~ByteSource() = default;
  // Fills up to buf.size() bytes; may return fewer when the input is a pipe
  // or terminal with nothing more to read right now.
  virtual void read(std::span<uint8_t> buf, std::function<void(ReadResult)> done) = 0;
  virtual void cancel() = 0;
  virtual std::optional<uint64_t> size() const = 0; // when known (a regular file)
  virtual std::string name() const = 0;             // "stdin", a path
  // Skips the first n bytes (a regular file, for --resume); before any read.
  virtual Status skip(uint64_t n) {
    (void)n;
    return make_error(Errc::local_io, name(), "cannot skip ahead in this input");
  }
};

class ByteSink {
public:
  virtual ~ByteSink() = default;
  // Writes all of parts, in order. done(0) or done(negative errno).
  virtual void write(std::span<const iovec> parts, std::function<void(int)> done) = 0;
  virtual void cancel() = 0;
  // Everything was written and verified: make it visible (rename into place).
  virtual Status commit() = 0;
  // The transfer failed: leave nothing behind under the final name.
  virtual void abort() = 0;
  virtual std::string name() const = 0; // "stdout", a path
};

} // namespace qpipe::uvx
