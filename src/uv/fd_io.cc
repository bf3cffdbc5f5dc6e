#include "uv/fd_io.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>
#include <xxhash.h>

#include "core/fs.h"

namespace qpipe::uvx {

void enlarge_pipe(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  int size = fcntl(fd, F_GETPIPE_SZ);
  if (size >= 0 && size < (1 << 20)) fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

namespace {

// Waits until fd is ready for `events`; false when cancelled first.
bool wait_ready(int fd, short events, int timeout_ms, const std::atomic<bool>& cancelled,
                bool* timed_out = nullptr) {
  for (;;) {
    if (cancelled.load()) return false;
    pollfd p{fd, events, 0};
    int slice = timeout_ms < 0 ? 100 : std::min(timeout_ms, 100);
    int rv = ::poll(&p, 1, slice);
    if (rv > 0) return true;
    if (rv < 0 && errno != EINTR) return true; // let the read/write report it
    if (timeout_ms >= 0) {
      timeout_ms -= slice;
      if (timeout_ms <= 0) {
        if (timed_out) *timed_out = true;
        return true;
      }
    }
  }
}

} // namespace

FdSource::FdSource(uv_loop_t* loop, int fd, std::string name)
    : loop_(loop), fd_(fd), name_(std::move(name)),
      cancelled_(std::make_shared<std::atomic<bool>>(false)) {
  struct stat st;
  pollable_ = true;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    pollable_ = false;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (pos >= 0 && st.st_size >= pos) size_ = static_cast<uint64_t>(st.st_size - pos);
  }
  enlarge_pipe(fd);
}

Result<std::unique_ptr<FdSource>> FdSource::open_file(uv_loop_t* loop, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(Errc::local_io, path, errno);
  auto src = std::make_unique<FdSource>(loop, fd.get(), path);
  src->owned_fd_ = std::make_shared<UniqueFd>(std::move(fd));
  return src;
}

Status FdSource::skip(uint64_t n) {
  if (pollable_ || ::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0)
    return make_error(Errc::local_io, name_, "cannot skip ahead in this input");
  if (size_) *size_ = *size_ > n ? *size_ - n : 0;
  return {};
}

Result<std::array<uint8_t, 16>> digest_prefix(const std::string& path, uint64_t n) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno_error(Errc::local_io, path, errno);
  return digest_fd_prefix(fd.get(), n, path);
}

Result<std::array<uint8_t, 16>> digest_fd_prefix(int fd, uint64_t n, const std::string& name) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  std::vector<uint8_t> buf(1 << 20);
  uint64_t done = 0;
  int err = 0;
  while (done < n) {
    ssize_t r =
        ::pread(fd, buf.data(), std::min<uint64_t>(n - done, buf.size()), static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      err = r < 0 ? errno : EIO; // shorter than n
      break;
    }
    XXH3_128bits_update(st, buf.data(), static_cast<size_t>(r));
    done += static_cast<uint64_t>(r);
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
  XXH3_freeState(st);
  if (err) return errno_error(Errc::local_io, name, err);
  std::array<uint8_t, 16> d;
  std::memcpy(d.data(), c.digest, 16);
  return d;
}

void FdSource::read(std::span<uint8_t> buf, std::function<void(ReadResult)> done) {
  auto result = std::make_shared<ReadResult>();
  auto keep_fd = owned_fd_;
  int fd = fd_;
  bool initially_pollable = pollable_;
  auto cancelled = cancelled_;
  int rv = queue_work(
      loop_, alive_,
      [=] {
        (void)keep_fd; // the descriptor stays open while this runs
        bool pollable = initially_pollable;
        size_t got = 0;
        while (got < buf.size()) {
          if (pollable) {
            // Block until the first byte; after that, coalesce what follows
            // within 1 ms so that a fast producer fills whole chunks while a
            // typing user still sees their line sent at once.
            bool timed_out = false;
            if (!wait_ready(fd, POLLIN, got == 0 ? -1 : 1, *cancelled, &timed_out)) {
              result->error = UV_ECANCELED;
              break;
            }
            if (timed_out) break;
          }
          ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
          if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
              pollable = true;
              continue;
            }
            result->error = -errno;
            break;
          }
          if (n == 0) {
            result->eof = true;
            break;
          }
          got += static_cast<size_t>(n);
        }
        result->bytes = got;
      },
      [result, done = std::move(done)] { done(*result); });
  if (rv != 0) done(ReadResult{0, false, rv});
}

FdSink::FdSink(uv_loop_t* loop, int fd, std::string name)
    : loop_(loop), fd_(fd), name_(std::move(name)),
      cancelled_(std::make_shared<std::atomic<bool>>(false)) {
  enlarge_pipe(fd);
}

void FdSink::write(std::span<const iovec> parts, std::function<void(int)> done) {
  auto vec = std::make_shared<std::vector<iovec>>(parts.begin(), parts.end());
  auto result = std::make_shared<int>(0);
  int fd = fd_;
  auto cancelled = cancelled_;
  int rv = queue_work(
      loop_, alive_,
      [=] {
        size_t i = 0;
        auto& v = *vec;
        while (i < v.size()) {
          int cnt = static_cast<int>(std::min<size_t>(v.size() - i, IOV_MAX));
          ssize_t n = ::writev(fd, v.data() + i, cnt);
          if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { // a non-blocking descriptor: wait until writable
              if (!wait_ready(fd, POLLOUT, -1, *cancelled)) {
                *result = UV_ECANCELED;
                return;
              }
              continue;
            }
            *result = -errno;
            return;
          }
          auto left = static_cast<size_t>(n);
          while (i < v.size() && left >= v[i].iov_len) {
            left -= v[i].iov_len;
            ++i;
          }
          if (left > 0) {
            v[i].iov_base = static_cast<uint8_t*>(v[i].iov_base) + left;
            v[i].iov_len -= left;
          }
          if (cancelled->load()) {
            *result = UV_ECANCELED;
            return;
          }
        }
      },
      [result, done = std::move(done)] { done(*result); });
  if (rv != 0) done(rv);
}

namespace {

// Opens what -o names for writing, blocking (on the thread pool): a device
// or FIFO with open(2), non-blocking so that FdSink's writes can be
// cancelled; a FIFO without a reader is retried every 50 ms until one comes
// or `cancelled`; a socket is connected to. Returns the descriptor or -errno.
int open_target(const std::string& path, const std::atomic<bool>& cancelled) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -errno;
  if (S_ISSOCK(st.st_mode)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return -errno;
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS)
      return -errno;
    return s.release();
  }
  for (;;) {
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    if (errno != ENXIO || !S_ISFIFO(st.st_mode)) return -errno;
    if (cancelled.load()) return UV_ECANCELED;
    ::poll(nullptr, 0, 50); // no reader yet
  }
}

} // namespace

DeviceSink::DeviceSink(uv_loop_t* loop, std::string path, bool sync)
    : FdSink(loop, -1, std::move(path)), opened_(std::make_shared<UniqueFd>()), sync_(sync) {}

DeviceSink::~DeviceSink() {
  cancel(); // a wait for a FIFO's reader ends; the descriptor closes with opened_
}

void DeviceSink::write(std::span<const iovec> parts, std::function<void(int)> done) {
  if (fd_ >= 0) return FdSink::write(parts, std::move(done));
  auto copy = std::make_shared<std::vector<iovec>>(parts.begin(), parts.end());
  auto result = std::make_shared<int>(0);
  auto opened = opened_;
  auto cancelled = cancelled_;
  std::string path = name_;
  int rv = queue_work(
      loop_, alive_,
      [=] {
        int fd = open_target(path, *cancelled);
        if (fd < 0)
          *result = fd;
        else
          opened->reset(fd);
      },
      [this, copy, result, done = std::move(done)]() mutable {
        if (*result != 0) return done(*result);
        fd_ = opened_->get();
        enlarge_pipe(fd_);
        FdSink::write(*copy, std::move(done));
      });
  if (rv != 0) done(rv);
}

Status DeviceSink::commit() {
  // An empty stream still opens and closes the target, so that a FIFO's
  // reader sees its end; a FIFO without a reader has nothing to miss.
  if (fd_ < 0) {
    std::atomic<bool> now{true};
    int fd = open_target(name_, now);
    if (fd >= 0)
      opened_->reset(fd);
    else if (fd != UV_ECANCELED)
      return errno_error(Errc::local_io, name_, -fd);
  }
  // Devices that cannot sync (a FIFO, a terminal, a socket) say EINVAL.
  if (sync_ && opened_->get() >= 0 && ::fsync(opened_->get()) != 0 && errno != EINVAL &&
      errno != EROFS)
    return errno_error(Errc::local_io, name_, errno);
  fd_ = -1;
  if (opened_->get() >= 0 && opened_->close() != 0 && errno != EINTR)
    return errno_error(Errc::local_io, name_, errno);
  return {};
}

Result<std::unique_ptr<FileSink>> FileSink::create(uv_loop_t* loop, const std::string& path,
                                                   const FileSinkOptions& opts) {
  auto [dir, base] = split_path(path);
  if (base.empty() || base == "." || base == "..")
    return make_error(Errc::usage, path, "is a directory name, not a file name");
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return make_error(Errc::usage, path, "is a directory");
  return create_in(loop, dir, base, opts);
}

Result<std::unique_ptr<FileSink>> FileSink::create_in(uv_loop_t* loop, const std::string& dir,
                                                      const std::string& name,
                                                      const FileSinkOptions& opts) {
  std::string shown = dir == "." ? name : (dir.back() == '/' ? dir + name : dir + "/" + name);
  UniqueFd dir_fd(::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir_fd) return errno_error(Errc::local_io, dir, errno);
  if (opts.no_clobber && faccessat(dir_fd.get(), name.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return make_error(Errc::local_io, shown, "exists (and --no-clobber was given)");
  std::string tmp;
  UniqueFd fd;
  FileSinkOptions o = opts;
  if (opts.resumable) {
    if (!o.partial) {
      auto claimed = PartialFile::claim(dir, name);
      if (!claimed) return claimed.error();
      o.partial = std::move(*claimed);
    }
    tmp = o.partial->part_name();
    // A descriptor of our own that shares the part's lock; the part is cut
    // to what was kept and matched, and written from there.
    fd.reset(::fcntl(o.partial->fd(), F_DUPFD_CLOEXEC, 0));
    if (!fd || ::ftruncate(fd.get(), static_cast<off_t>(opts.start_offset)) != 0 ||
        ::lseek(fd.get(), static_cast<off_t>(opts.start_offset), SEEK_SET) < 0)
      return errno_error(Errc::local_io, shown, errno);
  }
  for (int attempt = 0; attempt < 16 && !fd && !opts.resumable; ++attempt) {
    uint8_t rnd[6];
    if (getentropy(rnd, sizeof rnd) != 0) break;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
                  rnd[4], rnd[5]);
    tmp = "." + name.substr(0, 200) + ".qpipe-" + suffix;
    fd.reset(::openat(dir_fd.get(), tmp.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!fd && errno != EEXIST) break;
  }
  if (!fd) return errno_error(Errc::local_io, shown, errno);
  return std::unique_ptr<FileSink>(new FileSink(loop, std::move(fd), std::move(dir_fd),
                                                std::move(shown), name, std::move(tmp), o));
}

FileSink::FileSink(uv_loop_t* loop, UniqueFd fd, UniqueFd dir_fd, std::string shown,
                   std::string name, std::string tmp, FileSinkOptions opts)
    : FdSink(loop, fd.get(), std::move(shown)), file_fd_(std::move(fd)), dir_fd_(std::move(dir_fd)),
      partial_(std::move(opts.partial)), name_in_dir_(std::move(name)), tmp_(std::move(tmp)),
      opts_(std::move(opts)) {}

FileSink::~FileSink() {
  if (!done_) abort();
}

Status FileSink::commit() {
  auto failed = [&](int err) {
    abort();
    return errno_error(Errc::local_io, name_, err);
  };
  if (opts_.mode && fchmod(fd_, *opts_.mode & 0777) != 0) return failed(errno);
  if (opts_.mtime) {
    timespec times[2] = {{0, UTIME_OMIT}, *opts_.mtime};
    if (futimens(fd_, times) != 0) return failed(errno);
  }
  if (opts_.sync && fsync(fd_) != 0) return failed(errno);
  fd_ = -1; // FdSink's copy of file_fd_, which closes it
  if (file_fd_.close() != 0) return failed(errno);
  unsigned flags = opts_.no_clobber ? RENAME_NOREPLACE : 0;
  if (renameat2(dir_fd_.get(), tmp_.c_str(), dir_fd_.get(), name_in_dir_.c_str(), flags) != 0) {
    int err = errno;
    abort();
    if (err == EEXIST)
      return make_error(Errc::local_io, name_, "exists (and --no-clobber was given)");
    return errno_error(Errc::local_io, name_, err);
  }
  if (opts_.sync) fsync(dir_fd_.get());
  if (partial_) partial_->renamed();
  partial_.reset();
  done_ = true;
  return {};
}

void FileSink::abort() {
  if (done_) return;
  if (!opts_.resumable) ::unlinkat(dir_fd_.get(), tmp_.c_str(), 0); // --resume keeps the part
  partial_.reset(); // and lets it go (an empty one is removed)
  done_ = true;
}

} // namespace qpipe::uvx
