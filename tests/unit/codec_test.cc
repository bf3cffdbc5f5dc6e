// Tests for src/pipeline/codec.h: compression round trips, and decompression
// that refuses bombs, lying lengths, trailing bytes, corrupt data and frames
// that ask for a window larger than a chunk can need; the cheap guess at
// whether a chunk is random.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>
#include <zstd.h>

#include "gen/generator.h"
#include "pipeline/codec.h"

using namespace qpipe;

namespace {
std::vector<uint8_t> generated(gen::Kind kind, size_t n) {
  std::vector<uint8_t> v(n);
  gen::Generator(kind, 1).fill(0, v);
  return v;
}
std::vector<uint8_t> zstd_frame(const std::vector<uint8_t>& src, int level = 3) {
  std::vector<uint8_t> out(ZSTD_compressBound(src.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), src.data(), src.size(), level);
  BOOST_REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}
Status decode(const std::vector<uint8_t>& frame, size_t declared, size_t split = 0) {
  std::vector<uint8_t> out(declared);
  std::vector<iovec> in;
  if (split && split < frame.size()) {
    in.push_back({const_cast<uint8_t*>(frame.data()), split});
    in.push_back({const_cast<uint8_t*>(frame.data()) + split, frame.size() - split});
  } else {
    in.push_back({const_cast<uint8_t*>(frame.data()), frame.size()});
  }
  return qpipe::codec::decompress(qpipe::codec::worker_dctx(), in, out, "chunk 0");
}
} // namespace

BOOST_AUTO_TEST_SUITE(codec_test)

BOOST_AUTO_TEST_CASE(text_round_trips_and_shrinks) {
  auto src = generated(gen::Kind::text, 1 << 20);
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  size_t n = qpipe::codec::compress(qpipe::codec::worker_cctx(), 3, src, dst);
  BOOST_TEST(n > 0u);
  BOOST_TEST(n < src.size() / 2);
  dst.resize(n);
  std::vector<uint8_t> out(src.size());
  iovec piece{dst.data(), dst.size()};
  BOOST_TEST(qpipe::codec::decompress(qpipe::codec::worker_dctx(), {&piece, 1}, out, "c").ok());
  BOOST_TEST(out == src);
  BOOST_TEST(decode(dst, src.size(), 7).ok()); // split input
}

BOOST_AUTO_TEST_CASE(prefixed_frames_need_their_prefix) {
  // A chunk that repeats the one before: alone it is random, against its
  // prefix it is a few bytes, and it decodes only with that prefix.
  auto prefix = generated(gen::Kind::random, 256 * 1024);
  auto src = prefix;
  src[1000] ^= 1;
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  auto* cctx = qpipe::codec::worker_cctx();
  BOOST_TEST(qpipe::codec::compress(cctx, 3, src, dst) == 0u);
  size_t n = qpipe::codec::compress_prefixed(cctx, 3, src, dst, prefix);
  BOOST_TEST(n > 0u);
  BOOST_TEST(n < src.size() / 100);
  dst.resize(n);
  iovec piece{dst.data(), dst.size()};
  std::vector<uint8_t> out(src.size());
  auto* dctx = qpipe::codec::worker_dctx();
  BOOST_TEST(qpipe::codec::decompress(dctx, {&piece, 1}, out, "c", prefix).ok());
  BOOST_TEST(out == src);
  // Without it, or with another, it is refused or comes out different
  // (which the chunk's hash then catches).
  std::fill(out.begin(), out.end(), 0);
  BOOST_TEST(!qpipe::codec::decompress(dctx, {&piece, 1}, out, "c").ok());
  auto other = generated(gen::Kind::text, prefix.size());
  auto st = qpipe::codec::decompress(dctx, {&piece, 1}, out, "c", other);
  BOOST_TEST((!st.ok() || out != src));
  // The contexts are left as they were: plain frames still work after.
  std::vector<uint8_t> again(ZSTD_compressBound(other.size()));
  BOOST_TEST(qpipe::codec::compress(cctx, 3, other, again) > 0u);
  BOOST_TEST(decode(zstd_frame(other), other.size()).ok());
}

BOOST_AUTO_TEST_CASE(long_matching_finds_a_repeat_far_back_in_a_long_prefix) {
  // 6 MiB of random bytes, then a chunk that repeats their first 1 MiB: 5
  // MiB back, out of reach of level 4's own tables but not of the
  // long-distance matcher. The listener decodes it against a longer prefix
  // that ends with the same bytes (all of the history it keeps).
  auto history = generated(gen::Kind::random, 6 << 20);
  std::vector<uint8_t> src(history.begin(), history.begin() + (1 << 20));
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  auto* cctx = qpipe::codec::worker_cctx();
  size_t n = qpipe::codec::compress_prefixed(cctx, 4, src, dst, history, true);
  BOOST_TEST(n > 0u);
  BOOST_TEST(n < src.size() / 100);
  dst.resize(n);
  std::vector<uint8_t> longer(2 << 20, 7);
  longer.insert(longer.end(), history.begin(), history.end());
  iovec piece{dst.data(), dst.size()};
  std::vector<uint8_t> out(src.size());
  BOOST_TEST(
      qpipe::codec::decompress(qpipe::codec::worker_dctx(), {&piece, 1}, out, "c", longer).ok());
  BOOST_TEST(out == src);
}

BOOST_AUTO_TEST_CASE(a_prefix_that_ends_where_the_chunk_begins_compresses_better) {
  // The sender compresses a chunk from its copy in the history ring, right
  // after its prefix: zstd sees one window, not a dictionary apart from the
  // input, and its level-3 frames are smaller (gen text: about 1%). The
  // listener decodes them against a prefix of its own.
  auto text = generated(gen::Kind::text, 4 << 20);
  std::span<const uint8_t> all(text);
  auto prefix = all.first(2 << 20), chunk = all.subspan(2 << 20);
  std::vector<uint8_t> apart(chunk.begin(), chunk.end());
  auto* cctx = qpipe::codec::worker_cctx();
  std::vector<uint8_t> joined_frame(ZSTD_compressBound(chunk.size())), apart_frame = joined_frame;
  size_t joined = qpipe::codec::compress_prefixed(cctx, 3, chunk, joined_frame, prefix);
  size_t separate = qpipe::codec::compress_prefixed(cctx, 3, apart, apart_frame, prefix);
  BOOST_TEST(joined > 0u);
  BOOST_TEST(joined < separate);
  std::vector<uint8_t> own_prefix(prefix.begin(), prefix.end()), out(chunk.size());
  iovec piece{joined_frame.data(), joined};
  BOOST_TEST(
      qpipe::codec::decompress(qpipe::codec::worker_dctx(), {&piece, 1}, out, "c", own_prefix)
          .ok());
  BOOST_TEST(out == apart);
}

BOOST_AUTO_TEST_CASE(long_matching_keeps_the_match_tables_small_at_high_levels) {
  // Level 12 would size its tables for a whole file (about 50 MiB per
  // context, one per thread of the pool); with a chunk and its history they
  // stay at 2^20 entries.
  auto text = generated(gen::Kind::text, 6 << 20);
  std::span<const uint8_t> all(text);
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> own(ZSTD_createCCtx(), ZSTD_freeCCtx);
  auto* cctx = own.get();
  std::vector<uint8_t> dst(ZSTD_compressBound(2 << 20));
  size_t n = qpipe::codec::compress_prefixed(cctx, 12, all.subspan(4 << 20), dst,
                                             all.first(4 << 20), true);
  BOOST_TEST(n > 0u);
  BOOST_TEST(ZSTD_sizeof_CCtx(cctx) < size_t{16} << 20);
  // ... and so do they for the first chunk of a file, which has no history.
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> first(ZSTD_createCCtx(), ZSTD_freeCCtx);
  n = qpipe::codec::compress_prefixed(first.get(), 12, all.first(2 << 20), dst, {}, true);
  BOOST_TEST(n > 0u);
  BOOST_TEST(ZSTD_sizeof_CCtx(first.get()) < size_t{16} << 20);
}

BOOST_AUTO_TEST_CASE(a_failed_prefixed_frame_leaves_no_prefix_behind) {
  // A prefixed frame cut inside its header leaves the prefix referenced in
  // the worker's context; the next frame must not use it (it may be freed).
  auto prefix = generated(gen::Kind::text, 64 * 1024);
  auto src = generated(gen::Kind::text, 64 * 1024);
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  size_t n = qpipe::codec::compress_prefixed(qpipe::codec::worker_cctx(), 3, src, dst, prefix);
  BOOST_REQUIRE(n > 4u);
  iovec cut{dst.data(), 3};
  std::vector<uint8_t> out(src.size());
  BOOST_TEST(
      !qpipe::codec::decompress(qpipe::codec::worker_dctx(), {&cut, 1}, out, "c", prefix).ok());
  auto plain = zstd_frame(src);
  BOOST_TEST(decode(plain, src.size()).ok());
}

BOOST_AUTO_TEST_CASE(random_data_is_not_worth_compressing) {
  auto src = generated(gen::Kind::random, 1 << 20);
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  BOOST_TEST(qpipe::codec::compress(qpipe::codec::worker_cctx(), 3, src, dst) == 0u);
}

BOOST_AUTO_TEST_CASE(random_bytes_look_incompressible_and_text_does_not) {
  using qpipe::codec::looks_incompressible;
  auto random = generated(gen::Kind::random, 2 << 20);
  BOOST_TEST(looks_incompressible(random));
  BOOST_TEST(looks_incompressible(std::span(random).first(4096)));
  // Too short to judge: 1 KiB of random bytes has fewer than 8 bits' worth.
  BOOST_TEST(!looks_incompressible(std::span(random).first(1024)));
  BOOST_TEST(!looks_incompressible(generated(gen::Kind::text, 2 << 20)));
  // A frame of zstd's own is random-looking.
  BOOST_TEST(looks_incompressible(zstd_frame(generated(gen::Kind::text, 2 << 20))));
  // Random bytes with text at the end: the last slice sees the text.
  auto half = random;
  auto text = generated(gen::Kind::text, 1 << 20);
  std::copy(text.begin(), text.end(), half.begin() + (1 << 20));
  BOOST_TEST(!looks_incompressible(half));
  // Zeros in every slice.
  std::vector<uint8_t> sparse = random;
  for (size_t i = 0; i < sparse.size(); i += 8)
    sparse[i] = 0;
  BOOST_TEST(!looks_incompressible(sparse));
}

BOOST_AUTO_TEST_CASE(sampled_compression_decides_on_the_sample) {
  // Random data with 256 KiB of text between the four sampled slices (at 0,
  // 1/3, 2/3 and the end): compressed whole it shrinks, but the sample says
  // no, and the rest is not worked through.
  auto data = generated(gen::Kind::random, 1024 * 1024);
  auto text = generated(gen::Kind::text, 960 * 1024);
  std::copy_n(text.begin(), 256 * 1024, data.begin() + 64 * 1024);
  std::vector<uint8_t> dst(ZSTD_compressBound(data.size()));
  auto* cctx = qpipe::codec::worker_cctx();
  BOOST_TEST(qpipe::codec::compress(cctx, 3, data, dst) > 0u);
  BOOST_TEST(qpipe::codec::compress_sampled(cctx, 3, data, dst, 64 * 1024) == 0u);
  // Random first and text after: the slices that land on text carry the
  // sample, the whole chunk is compressed, and it round-trips.
  data = generated(gen::Kind::random, 512 * 1024);
  data.insert(data.end(), text.begin(), text.begin() + 512 * 1024);
  size_t n = qpipe::codec::compress_sampled(cctx, 3, data, dst, 64 * 1024);
  BOOST_TEST_REQUIRE(n > 0u);
  BOOST_TEST(n < data.size() * 3 / 4);
  dst.resize(n);
  std::vector<uint8_t> out(data.size());
  std::vector<iovec> in{{dst.data(), dst.size()}};
  BOOST_TEST(qpipe::codec::decompress(qpipe::codec::worker_dctx(), in, out, "chunk 0").ok());
  BOOST_TEST((out == data));
  // A sample as long as the input is plain compress.
  BOOST_TEST(qpipe::codec::compress_sampled(cctx, 3, text, dst, text.size()) ==
             qpipe::codec::compress(cctx, 3, text, dst));
}

BOOST_AUTO_TEST_CASE(negative_levels_work) {
  auto src = generated(gen::Kind::text, 1 << 18);
  std::vector<uint8_t> dst(ZSTD_compressBound(src.size()));
  BOOST_TEST(qpipe::codec::compress(qpipe::codec::worker_cctx(), -5, src, dst) > 0u);
  BOOST_TEST(qpipe::codec::level_valid(-5));
  BOOST_TEST(qpipe::codec::level_valid(19));
  BOOST_TEST(!qpipe::codec::level_valid(1000));
}

BOOST_AUTO_TEST_CASE(bomb_is_refused) {
  std::vector<uint8_t> zeros(16 << 20, 0);
  auto frame = zstd_frame(zeros);
  BOOST_TEST(frame.size() < 4096u);
  auto st = decode(frame, 1000); // declares 1000 bytes, holds 16 MiB
  BOOST_REQUIRE(!st.ok());
  BOOST_TEST(st.error().message().find("more than its declared") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lying_length_is_refused) {
  auto src = generated(gen::Kind::text, 100000);
  auto frame = zstd_frame(src);
  BOOST_TEST(!decode(frame, 100001).ok()); // declares more than there is
  BOOST_TEST(!decode(frame, 99999).ok());  // declares less
  BOOST_TEST(decode(frame, 100000).ok());
}

BOOST_AUTO_TEST_CASE(trailing_bytes_are_refused) {
  auto src = generated(gen::Kind::text, 50000);
  auto frame = zstd_frame(src);
  frame.push_back(0);
  BOOST_TEST(!decode(frame, 50000).ok());
  auto two = zstd_frame(src);
  auto again = zstd_frame(src);
  two.insert(two.end(), again.begin(), again.end()); // a second frame
  BOOST_TEST(!decode(two, 50000).ok());
}

BOOST_AUTO_TEST_CASE(corrupt_and_truncated_frames_are_refused) {
  auto src = generated(gen::Kind::text, 200000);
  auto frame = zstd_frame(src);
  auto cut = frame;
  cut.resize(cut.size() / 2);
  BOOST_TEST(!decode(cut, 200000).ok());
  auto bad = frame;
  for (size_t i = 20; i < bad.size(); i += 97)
    bad[i] ^= 0x5a;
  BOOST_TEST(!decode(bad, 200000).ok());
  std::vector<uint8_t> garbage(1000, 0xab);
  BOOST_TEST(!decode(garbage, 1000).ok());
  BOOST_TEST(!decode({}, 10).ok());
}

BOOST_AUTO_TEST_CASE(huge_window_is_refused) {
  // A frame compressed with a 128 MiB window and no content size in its
  // header would make a decoder allocate that window.
  std::vector<uint8_t> src(1 << 20, 'a');
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 27);
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
  std::vector<uint8_t> out(ZSTD_compressBound(src.size()));
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  // Fed in two calls, so that the size is unknown when the header is made.
  ZSTD_inBuffer ib{src.data(), src.size() / 2, 0};
  ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
  ib = {src.data() + src.size() / 2, src.size() - src.size() / 2, 0};
  size_t r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
  ZSTD_freeCCtx(c);
  BOOST_REQUIRE(r == 0u);
  out.resize(ob.pos);
  BOOST_TEST(!decode(out, src.size()).ok());
}

BOOST_AUTO_TEST_SUITE_END()
