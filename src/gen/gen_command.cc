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
#include <poll.h>
#include <semaphore>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace qpipe::gen {
namespace {

// The unit of generation, of write(2) and read(2), and the pipe size asked for.
constexpr size_t kBufferSize = size_t{1} << 20;

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

// Writes the first `size` bytes of the stream to stdout; returns 0 or the
// errno value of the failed write. A second thread fills one buffer while
// this one writes the other, so that generation and write(2) overlap: text is
// generated at a few GB/s, about the speed of a pipe.
int write_generated(const Generator& gen, uint64_t size) {
  std::array<std::vector<uint8_t>, 2> bufs;
  for (auto& b : bufs)
    b.resize(static_cast<size_t>(std::min<uint64_t>(size, kBufferSize)));
  auto length = [&](uint64_t offset) {
    return static_cast<size_t>(std::min<uint64_t>(size - offset, kBufferSize));
  };
  // A buffer is either free (the filler may take it) or full (the writer may
  // take it); the filler takes them in turn, and so does the writer.
  std::counting_semaphore<2> free_bufs(2);
  std::counting_semaphore<2> full_bufs(0);
  std::atomic<bool> stop{false}; // Written by the writer, read by the filler.
  std::thread filler([&] {
    size_t i = 0;
    for (uint64_t offset = 0; offset < size; offset += length(offset), ++i) {
      free_bufs.acquire();
      if (stop.load()) return;
      gen.fill(offset, std::span<uint8_t>(bufs[i % 2].data(), length(offset)));
      full_bufs.release();
    }
  });
  int err = 0;
  size_t i = 0;
  for (uint64_t offset = 0; offset < size && err == 0; offset += length(offset), ++i) {
    full_bufs.acquire();
    err = write_all(STDOUT_FILENO, bufs[i % 2].data(), length(offset));
    if (err != 0) stop.store(true);
    // Handing the buffer back also wakes the filler if it waits, so that it
    // sees the stop.
    free_bufs.release();
  }
  filler.join();
  return err;
}

// The zero stream is the same in every buffer: it is not generated at all.
int write_zeros(uint64_t size) {
  std::vector<uint8_t> zeros(static_cast<size_t>(std::min<uint64_t>(size, kBufferSize)));
  for (uint64_t offset = 0; offset < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - offset, zeros.size()));
    if (int err = write_all(STDOUT_FILENO, zeros.data(), n)) return err;
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
