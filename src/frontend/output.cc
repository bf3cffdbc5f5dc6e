// Where a listener writes (see output.h).
#include "frontend/output.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"

namespace qpipe::frontend {
namespace {

// The directory that a new file of -o `given` is made in must exist and be
// writable by this user.
Status check_directory_for(const std::string& given, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return make_error(Errc::local_io, given, "directory " + dir + " does not exist");
    return errno_error(Errc::local_io, given, errno);
  }
  if (!S_ISDIR(st.st_mode)) return errno_error(Errc::local_io, given, ENOTDIR);
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    return make_error(Errc::local_io, given,
                      "cannot create files in " + dir + ": " + std::strerror(errno));
  return {};
}

} // namespace

bool is_directory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<OutputTarget> check_output(const std::optional<std::string>& output, bool no_clobber) {
  if (!output) return OutputTarget{};
  const std::string& given = *output;
  if (given.empty()) return make_error(Errc::usage, "-o", "the path is empty");
  struct stat st;
  if (::stat(given.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (auto s = check_directory_for(given, given); !s) return s.error();
      return OutputTarget{OutputKind::directory, given};
    }
    if (!S_ISREG(st.st_mode)) {
      // Opened by the name given, so that links such as /dev/stdout work.
      if (::faccessat(AT_FDCWD, given.c_str(), W_OK, AT_EACCESS) != 0)
        return errno_error(Errc::local_io, given, errno);
      return OutputTarget{OutputKind::device, given};
    }
    // A regular file, perhaps behind symlinks: replaced where it is.
    std::string path = given;
    struct stat lst;
    if (::lstat(given.c_str(), &lst) != 0 || S_ISLNK(lst.st_mode)) {
      std::unique_ptr<char, decltype(&std::free)> real(::realpath(given.c_str(), nullptr),
                                                       &std::free);
      if (!real) return errno_error(Errc::local_io, given, errno);
      path = real.get();
    }
    if (no_clobber) return make_error(Errc::local_io, given, "exists (and --no-clobber was given)");
    if (auto s = check_directory_for(given, split_path(path).dir); !s) return s.error();
    return OutputTarget{OutputKind::file, path};
  }
  if (errno != ENOENT) return errno_error(Errc::local_io, given, errno);
  // A new name, or a symlink to one: the file is made where the link points.
  auto followed = follow_symlinks(given);
  if (!followed) return followed.error();
  auto [dir, base] = split_path(*followed);
  if (base.empty()) return make_error(Errc::local_io, given, "no such directory");
  if (auto s = check_directory_for(given, dir); !s) return s.error();
  return OutputTarget{OutputKind::file, *followed};
}

uint32_t received_mode(uint32_t sender_mode, mode_t umask, bool keep_modes) {
  uint32_t mode = sender_mode & 0777; // never setuid, setgid or sticky
  if (keep_modes) return mode;
  return mode & ~static_cast<uint32_t>(umask) & ~uint32_t{022};
}

Result<app::SinkFactory> output_sinks(uv_loop_t* loop, app::ListenOptions& opts) {
  auto target = check_output(opts.output, opts.no_clobber);
  if (!target) return target.error();
  opts.output_is_directory = target->kind == OutputKind::directory;
  opts.output_is_device = target->kind == OutputKind::device;
  if (opts.output) opts.output = target->path;
  uvx::FileSinkOptions base;
  base.sync = opts.sync;
  base.no_clobber = opts.no_clobber;
  mode_t umask = current_umask();
  bool keep_modes = opts.keep_modes;
  return app::SinkFactory([loop, target = *target, base, umask, keep_modes](
                              const app::FileMeta* file) -> Result<std::unique_ptr<app::ByteSink>> {
    // Symlinks were followed once, when the listener started (where qpipe
    // api checked the result against its root); a file that has become a
    // device, FIFO or socket since is written into, not replaced.
    OutputTarget now = target;
    struct stat st;
    if (now.kind == OutputKind::file && ::lstat(now.path.c_str(), &st) == 0 &&
        !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
      now.kind = OutputKind::device;
    if (!file) return open_output(loop, now, nullptr, base);
    app::FileMeta meta = *file;
    meta.mode = received_mode(file->mode, umask, keep_modes);
    return open_output(loop, now, &meta, base);
  });
}

Result<std::unique_ptr<app::ByteSink>> open_output(uv_loop_t* loop, const OutputTarget& target,
                                                   const app::FileMeta* file,
                                                   const uvx::FileSinkOptions& base) {
  switch (target.kind) {
  case OutputKind::standard_output:
    return std::unique_ptr<app::ByteSink>(
        std::make_unique<uvx::FdSink>(loop, STDOUT_FILENO, "stdout"));
  case OutputKind::device:
    return std::unique_ptr<app::ByteSink>(
        std::make_unique<uvx::DeviceSink>(loop, target.path, base.sync));
  case OutputKind::file:
  case OutputKind::directory:
    break;
  }
  uvx::FileSinkOptions o = base;
  if (file) {
    o.resumable = file->resumable;
    o.start_offset = file->start_offset;
    o.partial = file->partial;
    o.mode = file->mode;
    o.mtime = timespec{static_cast<time_t>(file->mtime_sec), static_cast<long>(file->mtime_nsec)};
  }
  auto s = target.kind == OutputKind::directory && file
               ? uvx::FileSink::create_in(loop, target.path, file->name, o)
               : uvx::FileSink::create(loop, target.path, o);
  if (!s) return s.error();
  return std::unique_ptr<app::ByteSink>(std::move(*s));
}

} // namespace qpipe::frontend
