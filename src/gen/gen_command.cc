// `qpipe gen` and `qpipe gen --check`: blocking I/O on fds 0 and 1 in steps of
// kBufferSize, with the generation and the comparison left to the Generator
// and the Checker.
#include "gen/gen_command.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

// Moves all n bytes at data to fd with `once` (write(2) or vmsplice(2) into
// a pipe, which may take part of them); returns 0 or an errno value.
template <typename Once> int put_all(int fd, const uint8_t* data, size_t n, Once once) {
  while (n > 0) {
    ssize_t w = once(fd, data, n);
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

int write_all(int fd, const uint8_t* data, size_t n) {
  return put_all(fd, data, n,
                 [](int f, const uint8_t* d, size_t len) { return ::write(f, d, len); });
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

// A counting semaphore. Not std::counting_semaphore: GCC 12's can lose a
// wakeup, and gen then waits forever with its other thread gone (seen here:
// gen | qpipe stalled in 2 of 8 runs over the veth pair, and once in the bench).
class Semaphore {
public:
  explicit Semaphore(size_t count) : count_(count) {}
  void acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return count_ > 0; });
    --count_;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      ++count_;
    }
    cv_.notify_one();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t count_;
};

int fail(const Logger& log, const Error& e) {
  log.error(e);
  return e.exit_code();
}

// Moves the first `size` bytes of the stream in blocks of `block` bytes, two
// at a time: a second thread fills block i into slot i % 2 with
// fill(slot, offset, n), returning false to stop, while this one puts the
// block before it out with put(slot), which returns 0 or an errno value. A
// slot is either free (the filler may take it) or full (the putter may take
// it), so that generation and output overlap: text is generated at a few
// GB/s, about the speed of a pipe. Returns 0 or put's errno value.
template <typename Fill, typename Put>
int double_buffered(uint64_t size, size_t block, Fill fill, Put put) {
  auto length = [&](uint64_t offset) {
    return static_cast<size_t>(std::min<uint64_t>(size - offset, block));
  };
  Semaphore free_slots(2);
  Semaphore full_slots(0);
  std::atomic<bool> stop{false}; // Written by the putter, read by the filler.
  std::thread filler([&] {
    size_t i = 0;
    for (uint64_t offset = 0; offset < size; offset += length(offset), ++i) {
      free_slots.acquire();
      if (stop.load()) return;
      bool go_on = fill(i % 2, offset, length(offset));
      full_slots.release(); // the slot is the putter's from here on
      if (!go_on) return;
    }
  });
  int err = 0;
  size_t i = 0;
  for (uint64_t offset = 0; offset < size && err == 0; offset += length(offset), ++i) {
    full_slots.acquire();
    err = put(i % 2);
    if (err != 0) stop.store(true);
    // Handing the slot back also wakes the filler if it waits, so that it
    // sees the stop.
    free_slots.release();
  }
  filler.join();
  return err;
}

// Writes the first `size` bytes of the stream to stdout with write(2);
// returns 0 or the errno value of the failed write.
int write_generated(const Generator& gen, uint64_t size) {
  std::array<std::vector<uint8_t>, 2> bufs;
  std::array<size_t, 2> lengths{};
  for (auto& b : bufs)
    b.resize(static_cast<size_t>(std::min<uint64_t>(size, kBufferSize)));
  return double_buffered(
      size, kBufferSize,
      [&](size_t slot, uint64_t offset, size_t n) {
        gen.fill(offset, std::span<uint8_t>(bufs[slot].data(), n));
        lengths[slot] = n;
        return true;
      },
      [&](size_t slot) { return write_all(STDOUT_FILENO, bufs[slot].data(), lengths[slot]); });
}

// A block handed to a pipe whole: one transparent huge page.
constexpr size_t kSpliceBlock = size_t{2} << 20;

// Whether stdout is a pipe and the kernel gives transparent huge pages to a
// mapping that asks for them: what splice_generated needs to pay. Without
// huge pages, faulting in fresh 4 KiB pages costs more than write(2)'s copy.
bool can_splice_to_stdout() {
  struct stat st;
  if (::fstat(STDOUT_FILENO, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(thp, modes);
  return modes.find("[always]") != std::string::npos ||
         modes.find("[madvise]") != std::string::npos;
}

// A fresh anonymous mapping of kSpliceBlock bytes, aligned to its size so
// that it can be one huge page; nullptr when there is no memory.
uint8_t* map_splice_block() {
  void* m =
      ::mmap(nullptr, 2 * kSpliceBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto base = reinterpret_cast<uintptr_t>(m);
  uintptr_t aligned = (base + kSpliceBlock - 1) & ~(uintptr_t{kSpliceBlock} - 1);
  if (aligned > base) ::munmap(m, aligned - base);
  if (aligned + kSpliceBlock < base + 2 * kSpliceBlock)
    ::munmap(reinterpret_cast<void*>(aligned + kSpliceBlock),
             base + 2 * kSpliceBlock - aligned - kSpliceBlock);
  auto* p = reinterpret_cast<uint8_t*>(aligned);
  ::madvise(p, kSpliceBlock, MADV_HUGEPAGE);
  return p;
}

// Hands all n bytes at data to the pipe on fd by reference (vmsplice(2));
// returns 0 or an errno value.
int vmsplice_all(int fd, const uint8_t* data, size_t n) {
  return put_all(fd, data, n, [](int f, const uint8_t* d, size_t len) {
    iovec iov{const_cast<uint8_t*>(d), len};
    return ::vmsplice(f, &iov, 1, 0);
  });
}

// As write_generated, for a pipe, without copying the data into it: each
// block is generated into a fresh mapping, given to the pipe with
// vmsplice(2) and unmapped at once. The pipe then holds the only references
// to those pages, and nothing gen does afterwards can change bytes that a
// reader still holds, or that it spliced on into a socket that keeps them
// until they are acknowledged (why the pages are never reused). A second
// thread maps and fills the next block while this one splices.
int splice_generated(const Generator& gen, uint64_t size) {
  struct Block {
    uint8_t* data = nullptr; // nullptr: there was no memory for it
    size_t length = 0;
  };
  std::array<Block, 2> slots;
  int err = double_buffered(
      size, kSpliceBlock,
      [&](size_t slot, uint64_t offset, size_t n) {
        uint8_t* data = map_splice_block();
        if (data) gen.fill(offset, std::span<uint8_t>(data, n));
        slots[slot] = Block{data, n};
        return data != nullptr; // without memory, the putter reports it
      },
      [&](size_t slot) {
        Block& b = slots[slot];
        if (!b.data) return ENOMEM;
        int e = vmsplice_all(STDOUT_FILENO, b.data, b.length);
        ::munmap(b.data, kSpliceBlock);
        b.data = nullptr;
        return e;
      });
  for (auto& b : slots) // filled, and not spliced after an error
    if (b.data) ::munmap(b.data, kSpliceBlock);
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
  int err = opts.kind == Kind::zero  ? write_zeros(opts.size)
            : can_splice_to_stdout() ? splice_generated(gen, opts.size)
                                     : write_generated(gen, opts.size);
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
