// File-system helpers: see fs.h.
#include "core/fs.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

namespace qpipe {
namespace {

// Reads all of fd, refusing more than max_bytes. Returns the errno of a
// failed read, or -1 when the file is too large, or 0.
int read_all(int fd, size_t max_bytes, std::string& out) {
  out.clear();
  char buf[4096];
  int result = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = errno;
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      result = -1;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::explicit_bzero(buf, sizeof buf); // it may have held a key or a secret
  return result;
}

// Opens path for reading and checks that it is not a directory. With
// `private_file`, also that group and others have no permission on it.
// What it reads is configuration, so every failure is Errc::usage (see
// read_file in fs.h).
Result<std::string> read_whole_file(const std::string& path, size_t max_bytes, bool private_file) {
  UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!f) return errno_error(Errc::usage, path, errno);
  struct stat st;
  if (::fstat(f.get(), &st) != 0) return errno_error(Errc::usage, path, errno);
  if (S_ISDIR(st.st_mode)) return errno_error(Errc::usage, path, EISDIR);
  if (private_file && (st.st_mode & 077) != 0)
    return make_error(Errc::usage, path,
                      strprintf("permissions %04o are too open: it must not be accessible by "
                                "group or others; fix with: %s",
                                static_cast<unsigned>(st.st_mode & 07777),
                                chmod_hint(path).c_str()));
  std::string data;
  // Reserving up front keeps a private file's bytes in one allocation, which
  // wipe() can clear, instead of leaving copies behind in freed memory.
  if (private_file) data.reserve(max_bytes);
  int err = read_all(f.get(), max_bytes, data);
  if (err > 0) {
    wipe(data);
    return errno_error(Errc::usage, path, err);
  }
  if (err < 0) {
    wipe(data);
    return make_error(Errc::usage, path, strprintf("larger than %zu bytes", max_bytes));
  }
  return data;
}

} // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
  }
  fd_ = fd;
}

int UniqueFd::close() {
  return ::close(release());
}

PathParts split_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Result<std::string> follow_symlinks(const std::string& path) {
  std::string at = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(at.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return at;
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(at.c_str(), target.data(), target.size());
    if (n < 0) return errno_error(Errc::local_io, at, errno);
    target.resize(static_cast<size_t>(n));
    if (target.empty()) return errno_error(Errc::local_io, at, ENOENT);
    if (target[0] == '/') {
      at = target;
      continue;
    }
    auto [dir, base] = split_path(at);
    at = (at.find('/') == std::string::npos ? "" : (dir == "/" ? "/" : dir + "/")) + target;
  }
  return errno_error(Errc::local_io, path, ELOOP);
}

mode_t current_umask() {
  if (UniqueFd f{::open("/proc/self/status", O_RDONLY | O_CLOEXEC)}) {
    std::string status;
    if (read_all(f.get(), 1 << 16, status) == 0) {
      size_t at = status.find("\nUmask:");
      if (at != std::string::npos)
        return static_cast<mode_t>(std::strtoul(status.c_str() + at + 8, nullptr, 8) & 0777);
    }
  }
  mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  return read_whole_file(path, max_bytes, false);
}

Result<std::string> read_private_file(const std::string& path, size_t max_bytes) {
  return read_whole_file(path, max_bytes, true);
}

void wipe(std::string& s) {
  if (!s.empty()) ::explicit_bzero(s.data(), s.size());
  s.clear();
}

std::string chmod_hint(const std::string& path) {
  bool plain = !path.empty() && std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("/._-+:,@%=", c) != nullptr;
  });
  if (plain) return "chmod 600 " + path;
  std::string quoted = "'";
  for (char c : path) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return "chmod 600 " + quoted + "'";
}

Status make_private_dirs(const std::string& dir) {
  if (dir.empty()) return make_error(Errc::local_io, "directory", "empty path");
  // Create each missing component, from the root down.
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    if (dir[at - 1] == '/') continue; // "//" or a trailing slash
    std::string prefix = dir.substr(0, at);
    if (::mkdir(prefix.c_str(), 0700) == 0) continue;
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return errno_error(Errc::local_io, prefix, ENOTDIR);
    }
    return errno_error(Errc::local_io, prefix, err);
  }
  return {};
}

Result<DirLock> DirLock::acquire(const std::string& dir) {
  if (auto s = make_private_dirs(dir); !s) return s.error();
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error(Errc::local_io, dir, errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return errno_error(Errc::local_io, dir, errno);
  }
  return DirLock(std::move(fd));
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  auto [dir, base] = split_path(path);
  std::string tmp = dir + "/." + base + ".XXXXXX";
  UniqueFd f(::mkstemp(tmp.data()));
  if (!f) return errno_error(Errc::local_io, path, errno);
  auto fail = [&](int err) {
    ::unlink(tmp.c_str());
    return errno_error(Errc::local_io, path, err);
  };
  if (::fchmod(f.get(), mode) != 0) return fail(errno);
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(f.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(f.get()) != 0) return fail(errno);
  if (f.close() != 0) return fail(errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno);
  // Make the rename itself durable. A failure here leaves a complete file in
  // place, so it is not reported.
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
  return {};
}

} // namespace qpipe
