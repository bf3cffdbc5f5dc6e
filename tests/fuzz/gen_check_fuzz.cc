// Fuzzes qpipe::gen::Checker (src/gen/gen_command.h), the comparison behind
// `qpipe gen --check`, and through it the random access of the Generator.
// The input picks the stream and the data: a flags byte (the kind in bits
// 0-1; the size range in the others, see stream_size), an 8-byte seed, a
// 3-byte size, a signed byte added to the size to get the data length, a
// byte n and (n & 7) + 1 3-byte piece sizes (cycled; 0 = an empty feed; after
// kMaxFeeds feeds the rest goes in one), then 4-byte edits (a 3-byte offset
// and a byte XORed into the data there). The data is the generated stream
// (one fill from offset 0) with those edits.
// Asserts that the Checker, fed the data in those pieces, succeeds exactly
// when the data is the stream; that it reports the first differing byte
// with the right offset and values; that once failed it keeps failing; and
// that it counts every byte when it does not fail.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "gen/gen_command.h"

using namespace qpipe;
using namespace qpipe::gen;
using qpipe::fuzz::Input;

namespace {
// Each feed of a text stream regenerates its 64 KiB block up to the offset
// (see the report of the first fuzzing run: feeding 1 MiB of text 3 bytes at
// a time takes seconds), so the feeds are capped to keep runs fast.
constexpr size_t kMaxFeeds = 64;

// Mostly small streams, for speed; with bit 6, up to 70000 bytes (past the
// first 64 KiB text block); with bits 2-5 all set, 1 MiB +- 50000 (where the
// mixed kind switches from random to text: slow, so rare).
uint64_t size_for(uint8_t flags, uint64_t v) {
  if ((flags & 0x3c) == 0x3c) return (uint64_t{1} << 20) - 50000 + v % 100001;
  if (flags & 0x40) return v % 70001;
  return v % 4097;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t flags = in.take_u8();
  Kind kind = static_cast<Kind>(flags & 3);
  uint64_t seed = in.take_uint(8);
  uint64_t stream_size = size_for(flags, in.take_uint(3));
  auto delta = static_cast<int8_t>(in.take_u8());
  size_t length =
      static_cast<size_t>(std::max<int64_t>(0, static_cast<int64_t>(stream_size) + delta));
  size_t count = (in.take_u8() & 7) + 1;
  std::vector<size_t> pieces;
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    pieces.push_back(static_cast<size_t>(in.take_uint(3)));
    total += pieces.back();
  }
  if (total == 0) pieces.assign(1, length + 1); // one feed of everything

  // The data: the stream, then the edits.
  Generator gen(kind, seed);
  std::vector<uint8_t> expected(std::max<size_t>(stream_size, length));
  gen.fill(0, expected);
  std::vector<uint8_t> input(expected.begin(), expected.begin() + static_cast<ptrdiff_t>(length));
  while (in.left() > 0 && !input.empty()) {
    size_t at = static_cast<size_t>(in.take_uint(3)) % input.size();
    input[at] ^= in.take_u8();
  }

  // What the Checker must say.
  size_t common = std::min<size_t>(length, stream_size);
  auto diff = std::mismatch(input.begin(), input.begin() + static_cast<ptrdiff_t>(common),
                            expected.begin());
  bool differs = diff.first != input.begin() + static_cast<ptrdiff_t>(common);
  bool should_pass = !differs && length == stream_size;

  Checker checker(gen, stream_size);
  FUZZ_CHECK(checker.size() == stream_size);
  bool failed = false;
  std::string first_error;
  size_t at = 0, i = 0;
  while (at < length) {
    size_t n = i < kMaxFeeds ? std::min(pieces[i % pieces.size()], length - at) : length - at;
    ++i;
    Status s = checker.feed(std::span<const uint8_t>(input.data() + at, n));
    at += n;
    if (failed) {
      FUZZ_CHECK_MSG(!s.ok() && s.error().message() == first_error,
                     "a failed Checker changed its verdict");
    } else if (!s) {
      failed = true;
      first_error = s.error().message();
    }
  }
  Status end = checker.finish();
  FUZZ_CHECK_MSG(end.ok() == should_pass, "the verdict is not whether the data is the stream");
  FUZZ_CHECK(failed == (differs || length > stream_size));
  if (failed) FUZZ_CHECK(!end.ok() && end.error().message() == first_error);
  if (!failed) FUZZ_CHECK(checker.received() == length);
  if (failed) FUZZ_CHECK(checker.received() <= length);

  if (differs) {
    size_t offset = static_cast<size_t>(diff.first - input.begin());
    FUZZ_CHECK(checker.mismatch().has_value());
    FUZZ_CHECK_MSG(checker.mismatch()->offset == offset, "the mismatch is not the first one");
    FUZZ_CHECK(checker.mismatch()->expected == expected[offset]);
    FUZZ_CHECK(checker.mismatch()->got == input[offset]);
  } else {
    FUZZ_CHECK(!checker.mismatch().has_value());
  }
  return 0;
}
