// File-system helpers shared by every layer: an owner for file descriptors,
// splitting a path into directory and name, following a path's symlinks,
// the process's umask, reading whole small files, replacing a file
// atomically, private directories and their lock.
//
// Private files (a key, a secret) follow one rule, like ssh's: a private file
// is refused when its group or others have any permission on it, and the
// message says how to fix it (chmod_hint). Which files are private is for the
// caller to say (the identity store, the secret file); the rule lives here.
// Files are replaced atomically: a temporary file in the same directory,
// fsync, rename, fsync of the directory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <sys/types.h>

#include "core/error.h"

namespace qpipe {

// Owns a file descriptor and closes it when it goes away. Move-only; -1
// means "none". Closing on destruction or reset() keeps errno as it was, so
// that an error path can still report the errno of the call that failed.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the descriptor.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor held (ignoring errors) and takes fd instead.
  void reset(int fd = -1);
  // Closes now and reports what close(2) said: 0, or -1 with errno set.
  // For writes whose last error may only show at close. Afterwards empty.
  int close();

private:
  int fd_ = -1;
};

// A path split at its last '/'.
struct PathParts {
  std::string dir;  // "." when there is no '/', "/" for a file in the root
  std::string base; // what follows the last '/': empty when path ends in '/'
};

// "a/b/c" -> {"a/b", "c"}, "c" -> {".", "c"}, "/c" -> {"/", "c"},
// "a/" -> {"a", ""}. Nothing else is normalised: "a//c" -> {"a/", "c"}.
PathParts split_path(const std::string& path);

// Follows path's last component while it is a symlink (a relative target is
// taken relative to the link's directory) and returns the path reached,
// which may not exist (a dangling link names a file still to be made). A
// path that is not a symlink comes back as it is. ELOOP after 40 links.
Result<std::string> follow_symlinks(const std::string& path);

// The process's file-mode creation mask, read without changing it (from
// /proc/self/status; where that is missing, umask(2) is set and restored).
mode_t current_umask();

// Reads a whole small file that configures qpipe (a certificate, a CA file,
// known_hosts). Local configuration that cannot be used is a usage error,
// the rule of the man page's EXIT STATUS: Errc::usage (exit 2) when it
// cannot be opened or read (with the system's reason), is a directory, or
// holds more than max_bytes.
Result<std::string> read_file(const std::string& path, size_t max_bytes);

// Reads a file that must be private (a key, a secret), as read_file, and
// also Errc::usage when group or others have any permission on it (the
// message gives the chmod_hint). The bytes are kept in one allocation that
// the caller clears with wipe() when done; on failure nothing is left behind.
Result<std::string> read_private_file(const std::string& path, size_t max_bytes);

// Overwrites s with zeros (not optimised away), then clears it: for strings
// that held a private file's bytes.
void wipe(std::string& s);

// The shell command that fixes a too-open private file: "chmod 600 'FILE'"
// (quoted only when needed).
std::string chmod_hint(const std::string& path);

// Creates dir and its missing parents, each with mode 0700 (less if the
// umask says so). Existing directories are left as they are.
Status make_private_dirs(const std::string& dir);

// An exclusive flock() on a private directory (made if missing), held until
// the object goes away: for read-modify-write of the files in it.
class DirLock {
public:
  static Result<DirLock> acquire(const std::string& dir);

private:
  explicit DirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_; // closing it releases the lock
};

// Replaces path with data atomically: a temporary file beside it
// (".NAME.XXXXXX"), given exactly `mode`, written, fsynced, renamed over
// path, then the directory fsynced. On failure the temporary file is
// removed and path is untouched.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

} // namespace qpipe
