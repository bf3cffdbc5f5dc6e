// Helpers shared by the libFuzzer targets in tests/fuzz: a reader that takes
// integers and byte runs from the front of the fuzzer's input (so that seed
// inputs can be written by hand: the parameters come first, then the data),
// and FUZZ_CHECK, an assertion that stays on in release builds (assert() is
// compiled out by NDEBUG in RelWithDebInfo) and that libFuzzer sees as a
// crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace qpipe::fuzz {

// Prints where and why, then aborts: libFuzzer reports the abort as a crash
// and writes the input to its artifact file.
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line,
                                      const char* why) {
  std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s%s%s\n", file, line, expr, why ? " -- " : "",
               why ? why : "");
  std::abort();
}

#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) ::qpipe::fuzz::check_failed(#cond, __FILE__, __LINE__, nullptr);                  \
  } while (0)
#define FUZZ_CHECK_MSG(cond, why)                                                                  \
  do {                                                                                             \
    if (!(cond)) ::qpipe::fuzz::check_failed(#cond, __FILE__, __LINE__, (why));                    \
  } while (0)

// Reads the input from the front. Past the end every integer reads as zero
// and every byte run is short, so a target never has to check the length.
class Input {
public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t left() const { return size_ - at_; }

  // A big-endian integer of `bytes` bytes (at most 8); missing bytes are 0.
  uint64_t take_uint(size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
      v = v << 8 | (at_ < size_ ? data_[at_++] : 0);
    return v;
  }
  uint8_t take_u8() { return static_cast<uint8_t>(take_uint(1)); }

  // Up to n bytes; fewer at the end of the input.
  std::span<const uint8_t> take_bytes(size_t n) {
    if (n > left()) n = left();
    std::span<const uint8_t> out(data_ + at_, n);
    at_ += n;
    return out;
  }
  std::span<const uint8_t> rest() { return take_bytes(left()); }

private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

inline std::string_view as_chars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

} // namespace qpipe::fuzz
