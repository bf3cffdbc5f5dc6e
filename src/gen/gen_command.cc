// `qpipe gen` and `qpipe gen --check`: blocking I/O on fds 0 and 1 in steps of
// kBufferSize, with the generation and the comparison left to the Generator
// and the Checker.
#include "gen/gen_command.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <poll.h>
#include <semaphore>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace qpipe::gen {
namespace {

// The unit of generation, of write(2) and read(2), and the pipe size asked for.
constexpr size_t kBufferSize = size_t{1} << 20;
// Through vmsplice, a buffer is reused only after this many pipes' worth of
// bytes followed it (see write_generated), and the ring is at most this long.
constexpr size_t kHeldPipes = 4;
constexpr size_t kMaxRing = 64;

unsigned long long ull(uint64_t v) {
  return static_cast<unsigned long long>(v);
}

// Makes a pipe on fd larger, so that each write or read moves a whole buffer.
// Not every system allows it (see /proc/sys/fs/pipe-max-size): a failure only
// costs speed, so it is ignored.
void grow_pipe(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
#ifdef F_SETPIPE_SZ
  (void)::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kBufferSize));
#endif
}

// Waits until fd is ready, for a descriptor that someone else left in
// non-blocking mode.
void wait_for(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

// Writes all n bytes; returns 0 or an errno value.
int write_all(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_for(fd, POLLOUT);
        continue;
      }
      return errno;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

// Reads up to n bytes; returns the count (0 at the end of the input) or
// -errno.
ssize_t read_some(int fd, uint8_t* data, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, data, n);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd, POLLIN);
      continue;
    }
    return -errno;
  }
}

int fail(const Logger& log, const Error& e) {
  log.error(e);
  return e.exit_code();
}

// Pages of their own, from mmap(2), for buffers that vmsplice(2) hands to a
// pipe. Not from malloc: the pipe may still refer to a buffer's pages after
// it is freed, and free() writes its bookkeeping into a heap block, or gives
// it to the next allocation, while munmap() leaves the pages to the pipe,
// unchanged, until the reader has them.
class PageBuffer {
public:
  explicit PageBuffer(size_t n) : size_(std::max<size_t>(n, 1)) {
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<uint8_t*>(p);
  }
  PageBuffer(PageBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  PageBuffer& operator=(PageBuffer&&) = delete;
  ~PageBuffer() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  uint8_t* get() const { return data_; }

private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// How stdout takes the bytes. When it is a pipe, vmsplice(2) maps the pages
// of a buffer into it instead of copying them: the reader then copies them
// out, once, as it would have anyway. The kernel keeps references to those
// pages until the reader has consumed them, so a buffer must not be written
// again while it may still be in the pipe; see write_generated.
class Output {
public:
  Output() {
#ifdef __linux__
    struct stat st;
    if (::fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode)) {
      int n = ::fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
      if (n > 0) {
        splice_ = true;
        pipe_size_ = static_cast<size_t>(n);
      }
    }
#endif
  }

  // Whether the bytes given to put may stay referenced after it returns.
  bool splices() const {
    return splice_;
  }
  // From now on, copies: for a pipe too large for the ring.
  void stop_splicing() {
    splice_ = false;
  }
  // Whether the pipe is still no larger than when this was made. A reader
  // may enlarge it at any time; the ring's margin covers up to kHeldPipes
  // times the size, and the first buffer after the change is copied.
  bool pipe_unchanged() const {
#ifdef __linux__
    int n = ::fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
    return n > 0 && static_cast<size_t>(n) <= pipe_size_;
#else
    return false;
#endif
  }
  // The pipe's capacity, when it splices.
  size_t pipe_size() const {
    return pipe_size_;
  }

  // Writes all n bytes; returns 0 or an errno value. Falls back to write(2)
  // for good when vmsplice is refused.
  int put(const uint8_t* data, size_t n) {
#ifdef __linux__
    while (splice_ && n > 0) {
      struct iovec iov = {const_cast<uint8_t*>(data), n};
      ssize_t w = ::vmsplice(STDOUT_FILENO, &iov, 1, 0);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          wait_for(STDOUT_FILENO, POLLOUT);
          continue;
        }
        if (errno == EINVAL || errno == ENOSYS || errno == EBADF) {
          splice_ = false;
          break;
        }
        return errno;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
#endif
    return write_all(STDOUT_FILENO, data, n);
  }

private:
  bool splice_ = false;
  size_t pipe_size_ = 0;
};

// Writes the first `size` bytes of the stream to stdout; returns 0 or the
// errno value of the failed write. A second thread fills buffers while this
// one writes them, so that generation and output overlap.
//
// The buffers form a ring. Through write(2), two suffice. Through vmsplice,
// a buffer is only handed back to the filler once enough bytes went into
// the pipe after it to fill the pipe kHeldPipes times over: by then its
// pages have left the pipe (a pipe holds at most its capacity), and the
// margin covers a reader that moves them on into a pipe of its own with
// splice(2) before copying them, as pv does. A reader that splices them
// into a TCP socket (zero-copy) could keep them longer, until acknowledged;
// qpipe, cat, socat and ssh read(2), and so copy.
int write_generated(const Generator& gen, uint64_t size) {
  Output out;
  size_t held = 0; // Buffers kept back after they were written.
  if (out.splices()) held = kHeldPipes * ((out.pipe_size() + kBufferSize - 1) / kBufferSize);
  if (held + 2 > kMaxRing) {
    out.stop_splicing(); // A pipe of more than 15 MiB: copying is fine.
    held = 0;
  }
  const size_t ring = held + 2;
  std::vector<PageBuffer> bufs;
  const size_t buf_len = static_cast<size_t>(std::min<uint64_t>(size, kBufferSize));
  for (size_t k = 0; k < ring; ++k)
    bufs.emplace_back(buf_len);
  auto length = [&](uint64_t offset) {
    return static_cast<size_t>(std::min<uint64_t>(size - offset, kBufferSize));
  };
  // A buffer is either free (the filler may take it) or full (the writer may
  // take it); the filler takes them in turn, and so does the writer.
  std::counting_semaphore<kMaxRing> free_bufs(static_cast<std::ptrdiff_t>(ring));
  std::counting_semaphore<kMaxRing> full_bufs(0);
  std::atomic<bool> stop{false}; // Written by the writer, read by the filler.
  std::thread filler([&] {
    size_t i = 0;
    for (uint64_t offset = 0; offset < size; offset += length(offset), ++i) {
      free_bufs.acquire();
      if (stop.load()) return;
      gen.fill(offset, std::span<uint8_t>(bufs[i % ring].get(), length(offset)));
      full_bufs.release();
    }
  });
  int err = 0;
  size_t i = 0;
  for (uint64_t offset = 0; offset < size && err == 0; offset += length(offset), ++i) {
    full_bufs.acquire();
    if (out.splices() && !out.pipe_unchanged()) out.stop_splicing();
    err = out.put(bufs[i % ring].get(), length(offset));
    if (err != 0) {
      stop.store(true);
      // Wake the filler if it waits, so that it sees the stop.
      free_bufs.release();
    } else if (i >= held) {
      // The buffer written `held` buffers ago (this one when nothing is
      // held). Once held, buffers stay held: the ring keeps its pace when
      // vmsplice gives way to write(2).
      free_bufs.release();
    }
  }
  filler.join();
  return err;
}

// The zero stream is the same in every buffer: it is not generated at all,
// and one buffer, never written again, can be spliced over and over.
int write_zeros(uint64_t size) {
  Output out;
  const size_t n_max = static_cast<size_t>(std::min<uint64_t>(size, kBufferSize));
  PageBuffer zeros(n_max); // Fresh anonymous pages are zero.
  for (uint64_t offset = 0; offset < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - offset, n_max));
    if (int err = out.put(zeros.get(), n)) return err;
    offset += n;
  }
  return 0;
}

int run_write(const GenOptions& opts, const Generator& gen, const Logger& log) {
  if (kind_is_binary(opts.kind) && !opts.force && ::isatty(STDOUT_FILENO))
    return fail(log, make_error(Errc::usage, "gen",
                                "refusing to write binary data to a terminal (use -f to force, "
                                "or redirect stdout)"));
  grow_pipe(STDOUT_FILENO);
  int err = opts.kind == Kind::zero ? write_zeros(opts.size) : write_generated(gen, opts.size);
  // The reader went away, as in `qpipe gen 1G | head -c 10`: it has all it
  // wanted, so this is not a failure.
  if (err == EPIPE) {
    log.debug("gen: the reader closed stdout");
    return 0;
  }
  if (err != 0) return fail(log, errno_error(Errc::local_io, "stdout", err));
  log.verbose(strprintf("gen: wrote %llu bytes (%s, seed %llu)", ull(opts.size),
                        kind_name(opts.kind), ull(opts.seed)));
  return 0;
}

int run_check(const GenOptions& opts, const Generator& gen, const Logger& log) {
  grow_pipe(STDIN_FILENO);
  Checker checker(gen, opts.size);
  std::vector<uint8_t> buf(kBufferSize);
  for (;;) {
    // Ask for one byte past the expected end, never more: that is enough to
    // tell that the input is too long without reading all of it.
    uint64_t left = opts.size - std::min(checker.received(), opts.size);
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, kBufferSize - 1)) + 1;
    ssize_t r = read_some(STDIN_FILENO, buf.data(), want);
    if (r < 0) return fail(log, errno_error(Errc::local_io, "stdin", static_cast<int>(-r)));
    if (r == 0) break;
    Status s = checker.feed(std::span<const uint8_t>(buf.data(), static_cast<size_t>(r)));
    if (!s) return fail(log, s.error());
  }
  Status s = checker.finish();
  if (!s) return fail(log, s.error());
  log.verbose(strprintf("check: %llu bytes match (%s, seed %llu)", ull(opts.size),
                        kind_name(opts.kind), ull(opts.seed)));
  return 0;
}

} // namespace

Status Checker::feed(std::span<const uint8_t> data) {
  if (failure_) return *failure_;
  uint64_t left = size_ - received_;
  size_t compare = static_cast<size_t>(std::min<uint64_t>(data.size(), left));
  size_t done = 0;
  while (done < compare) {
    size_t n = std::min(compare - done, kBufferSize);
    if (expected_.size() < n) expected_.resize(n);
    gen_.fill(received_, std::span<uint8_t>(expected_.data(), n));
    const uint8_t* got = data.data() + done;
    if (std::memcmp(got, expected_.data(), n) != 0) {
      size_t i = 0;
      while (got[i] == expected_[i])
        ++i;
      mismatch_ = Mismatch{received_ + i, expected_[i], got[i]};
      received_ += data.size() - done;
      failure_ =
          make_error(Errc::transfer, "check",
                     strprintf("data differs at byte offset %llu (expected 0x%02X, got 0x%02X)",
                               ull(mismatch_->offset), mismatch_->expected, mismatch_->got));
      return *failure_;
    }
    received_ += n;
    done += n;
  }
  if (data.size() > compare) {
    received_ += data.size() - compare;
    failure_ =
        make_error(Errc::transfer, "check",
                   strprintf("input is longer than expected: more than %llu bytes", ull(size_)));
    return *failure_;
  }
  return {};
}

Status Checker::finish() const {
  if (failure_) return *failure_;
  if (received_ < size_)
    return make_error(Errc::transfer, "check",
                      strprintf("input is shorter than expected: %llu of %llu bytes",
                                ull(received_), ull(size_)));
  return {};
}

int run_gen(const GenOptions& opts, const Logger& log) {
  // A closed stdout must show up as EPIPE from write(2), not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  Generator gen(opts.kind, opts.seed);
  return opts.check ? run_check(opts, gen, log) : run_write(opts, gen, log);
}

} // namespace qpipe::gen
