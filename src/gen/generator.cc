// The generator's four kinds. Every constant and every bit taken from a draw
// below is part of the contract written down in man/gen-algorithm.txt: change
// one and the bytes change, which breaks checks against older versions.
#include "gen/generator.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

namespace qpipe::gen {
namespace {

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;

// The text stream is cut into independent blocks, the mixed stream into
// regions that alternate between random and text.
constexpr unsigned kTextBlockShift = 16;
constexpr uint64_t kTextBlockSize = uint64_t{1} << kTextBlockShift;
constexpr unsigned kMixedRegionShift = 20;
constexpr uint64_t kMixedRegionSize = uint64_t{1} << kMixedRegionShift;

// The vocabulary: 2^10 - 1 words of 1 to 11 lowercase letters, drawn from a
// wyrand sequence that starts at "qpipe" in ASCII.
constexpr uint64_t kVocabularyStart = 0x7170697065ull;
constexpr unsigned kRankBuckets = 10;
constexpr size_t kVocabularySize = (size_t{1} << kRankBuckets) - 1;
constexpr size_t kMaxWordLength = 11;
// Words are stored padded to this many bytes so that one fixed-size memcpy
// writes any of them.
constexpr size_t kWordSlot = 16;
static_assert(kMaxWordLength + 1 <= kWordSlot, "a word and its separator fit in a slot");

// The 64-bit "mum" mix of wyhash: the two halves of the 128-bit product
// folded together.
inline uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// One wyrand output for the counter value x.
inline uint64_t wyrand_out(uint64_t x) {
  return mum(x, x ^ kP1);
}

inline uint64_t to_little_endian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) return __builtin_bswap64(v);
  return v;
}

struct Vocabulary {
  alignas(64) std::array<std::array<uint8_t, kWordSlot>, kVocabularySize> words{};
  std::array<uint8_t, kVocabularySize> lengths{};
};

Vocabulary make_vocabulary() {
  Vocabulary v;
  uint64_t x = kVocabularyStart;
  for (size_t j = 0; j < kVocabularySize; ++j) {
    x += kP0;
    uint64_t r = wyrand_out(x);
    size_t len = 1 + (r & 15) % 6 + ((r >> 4) & 15) % 6;
    for (size_t i = 0; i < len; ++i)
      v.words[j][i] = static_cast<uint8_t>('a' + ((r >> (8 + 5 * i)) & 31) % 26);
    v.lengths[j] = static_cast<uint8_t>(len);
  }
  return v;
}

const Vocabulary& vocabulary() {
  // Built on first use; C++ makes the initialisation thread-safe.
  static const Vocabulary v = make_vocabulary();
  return v;
}

// Writes bytes [offset, offset + n) of the random stream of seed to out.
void fill_random(uint64_t seed, uint64_t offset, uint8_t* out, size_t n) {
  uint64_t i = offset >> 3;
  size_t skip = offset & 7;
  // x is the counter of word i: seed + (i + 1) * P0.
  uint64_t x = seed + (i + 1) * kP0;
  if (skip != 0 && n > 0) {
    uint64_t w = to_little_endian(wyrand_out(x));
    size_t take = std::min(n, 8 - skip);
    std::memcpy(out, reinterpret_cast<const uint8_t*>(&w) + skip, take);
    out += take;
    n -= take;
    x += kP0;
  }
  size_t words = n / 8;
  for (size_t k = 0; k < words; ++k) {
    uint64_t w = to_little_endian(wyrand_out(x));
    std::memcpy(out + 8 * k, &w, 8);
    x += kP0;
  }
  out += 8 * words;
  n -= 8 * words;
  if (n > 0) {
    uint64_t w = to_little_endian(wyrand_out(x));
    std::memcpy(out, &w, n);
  }
}

// The masks (1 << e) - 1 for the rank bucket e = (byte * 10) >> 8 of each byte
// value. As the mask grows with e, the mask of the smaller of two buckets is
// the smaller of their masks.
constexpr std::array<uint16_t, 256> make_bucket_masks() {
  std::array<uint16_t, 256> masks{};
  for (unsigned byte = 0; byte < 256; ++byte)
    masks[byte] = static_cast<uint16_t>((1u << ((byte * kRankBuckets) >> 8)) - 1);
  return masks;
}
constexpr std::array<uint16_t, 256> kBucketMasks = make_bucket_masks();

// One word of a text block, with the separator that follows it.
struct TextWord {
  const uint8_t* data; // Padded to kWordSlot bytes.
  size_t length;
  uint8_t separator;
};

// The words of text block b of a seed, one draw each.
class TextWords {
public:
  TextWords(uint64_t seed, uint64_t b) : vocabulary_(vocabulary()), x_(mum(seed ^ kP1, b ^ kP0)) {}

  TextWord next() {
    x_ += kP0;
    uint64_t r = wyrand_out(x_);
    // The rank bucket e is the smaller of two draws from 0..9, and the word is
    // uniform among the 2^e words of that bucket, so that the frequency of a
    // word falls roughly as a power of its rank (Zipf-like).
    uint64_t mask = std::min(kBucketMasks[r & 0xff], kBucketMasks[(r >> 8) & 0xff]);
    size_t idx = static_cast<size_t>(mask + ((r >> 16) & mask));
    return TextWord{vocabulary_.words[idx].data(), vocabulary_.lengths[idx],
                    static_cast<uint8_t>((r >> 60) == 0 ? '\n' : ' ')};
  }

private:
  const Vocabulary& vocabulary_;
  uint64_t x_;
};

// Writes bytes [begin, end) of text block b of seed to out, which has room
// for end - begin bytes. The block is a sequence of words, each followed by
// one separator, cut at kTextBlockSize.
void fill_text_block(uint64_t seed, uint64_t b, size_t begin, size_t end, uint8_t* out) {
  TextWords words(seed, b);
  // Writes the bytes of a word and its separator that fall in the range.
  auto write_clipped = [&](size_t pos, const TextWord& w) {
    for (size_t i = 0; i <= w.length; ++i) {
      size_t p = pos + i;
      if (p >= begin && p < end) out[p - begin] = i < w.length ? w.data[i] : w.separator;
    }
  };
  size_t pos = 0; // The block offset of the next word.
  // The words before the range are drawn but not written, except the one
  // that straddles its start.
  while (pos < begin) {
    TextWord w = words.next();
    if (pos + w.length + 1 > begin) write_clipped(pos, w);
    pos += w.length + 1;
  }
  // The bulk: one fixed-size copy per word. The padding it writes after the
  // word is overwritten by the next words.
  while (pos + kWordSlot <= end) {
    TextWord w = words.next();
    std::memcpy(out + (pos - begin), w.data, kWordSlot);
    out[pos - begin + w.length] = w.separator;
    pos += w.length + 1;
  }
  // The last words, up to the end of the range.
  while (pos < end) {
    TextWord w = words.next();
    write_clipped(pos, w);
    pos += w.length + 1;
  }
}

void fill_text(uint64_t seed, uint64_t offset, uint8_t* out, size_t n) {
  while (n > 0) {
    uint64_t b = offset >> kTextBlockShift;
    size_t in = static_cast<size_t>(offset & (kTextBlockSize - 1));
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, kTextBlockSize - in));
    fill_text_block(seed, b, in, in + take, out);
    out += take;
    n -= take;
    offset += take;
  }
}

void fill_mixed(uint64_t seed, uint64_t offset, uint8_t* out, size_t n) {
  while (n > 0) {
    uint64_t r = offset >> kMixedRegionShift;
    size_t in = static_cast<size_t>(offset & (kMixedRegionSize - 1));
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, kMixedRegionSize - in));
    if (r % 2 == 0)
      fill_random(seed, offset, out, take);
    else
      fill_text(seed, offset, out, take);
    out += take;
    n -= take;
    offset += take;
  }
}

} // namespace

Result<Kind> parse_kind(std::string_view s) {
  for (Kind k : {Kind::random, Kind::zero, Kind::text, Kind::mixed})
    if (s == kind_name(k)) return k;
  return make_error(Errc::usage, "--kind",
                    "'" + std::string(s) + "' is not a kind (random, zero, text or mixed)");
}

const char* kind_name(Kind k) {
  switch (k) {
  case Kind::random:
    return "random";
  case Kind::zero:
    return "zero";
  case Kind::text:
    return "text";
  case Kind::mixed:
    return "mixed";
  }
  return "?";
}

bool kind_is_binary(Kind k) {
  return k != Kind::text;
}

void Generator::fill(uint64_t offset, std::span<uint8_t> out) const {
  if (out.empty()) return; // An empty span may have no storage at all.
  switch (kind_) {
  case Kind::random:
    fill_random(seed_, offset, out.data(), out.size());
    break;
  case Kind::zero:
    std::memset(out.data(), 0, out.size());
    break;
  case Kind::text:
    fill_text(seed_, offset, out.data(), out.size());
    break;
  case Kind::mixed:
    fill_mixed(seed_, offset, out.data(), out.size());
    break;
  }
}

} // namespace qpipe::gen
