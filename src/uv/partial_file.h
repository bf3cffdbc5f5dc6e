// The part of a file that --resume keeps: ".NAME.qpipe-partial" beside the
// file, held by one transfer at a time.
//
// A transfer claims the part before it offers it to the sender (or, when the
// sender does not ask, before it writes the first byte) and holds it until
// the part is renamed into place or the transfer ends: an exclusive flock(2)
// on the part, taken without waiting. A second transfer of the same name, in
// this listener or in another process, is refused instead of writing into
// the same file, and what was offered is what is still on disk when the
// rest is appended. Advisory: a program that ignores flock is not stopped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/fs.h"

namespace qpipe::uvx {

// The name of the part of `name`, inside the file's directory.
std::string partial_name(const std::string& name);

class PartialFile {
public:
  // Opens (making it when missing) and locks the part of `name` inside
  // `dir`. Errc::local_io when it cannot be opened or is not a regular file;
  // Errc::transfer, naming the file, when another transfer holds it.
  static Result<std::shared_ptr<PartialFile>> claim(const std::string& dir,
                                                    const std::string& name);
  // An empty part (nothing was written) is removed; then the lock goes.
  ~PartialFile();
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  int fd() const { return fd_.get(); }
  int dir_fd() const { return dir_fd_.get(); }
  const std::string& part_name() const { return part_; } // inside the directory
  const std::string& shown() const { return shown_; }    // the file's path, for messages
  // The part's length now.
  uint64_t size() const;
  // The XXH3-128 of its first n bytes: blocking, for the thread pool. Safe
  // while no write runs (the part is written only after the offer).
  Result<std::array<uint8_t, 16>> digest_prefix(uint64_t n) const;
  // The part was renamed to the file's name: it is no longer a part.
  void renamed() { renamed_ = true; }

private:
  PartialFile(UniqueFd dir_fd, UniqueFd fd, std::string part, std::string shown)
      : dir_fd_(std::move(dir_fd)), fd_(std::move(fd)), part_(std::move(part)),
        shown_(std::move(shown)) {}
  UniqueFd dir_fd_, fd_; // closing fd_ releases the lock
  std::string part_, shown_;
  bool renamed_ = false;
};

} // namespace qpipe::uvx
