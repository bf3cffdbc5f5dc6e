#include "pipeline/codec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

// ZSTD_getCParams: the match tables a level would use (exported by libzstd).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "core/log.h"

namespace qpipe::codec {
namespace {
// 2^24 = 16 MiB, the largest chunk: no legitimate frame needs a larger window.
constexpr int kMaxWindowLog = 24;
// The match tables of a frame with long-distance matching (a chunk and up to
// 8 MiB of history): at most 2^20 entries (the hash table; the row-based
// match finder of levels 5 to 12 keeps no chain table). Levels 9 to 12 size
// them for whole files (2^23 at 12: 50 MiB per context, one context per
// thread of the pool); a 2 MiB chunk of a tar of a source tree at 12 with 8 MiB
// before it: 2.029x in 2.0 s with zstd's tables, 2.019x in 1.0 s with
// these (7.5 MiB).
constexpr unsigned kLongMatchTableLog = 20;

Error corrupt(const std::string& what, const std::string& why) {
  return make_error(Errc::transfer, what, why);
}
} // namespace

ZSTD_CCtx* worker_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(),
                                                                      ZSTD_freeCCtx);
  return ctx.get();
}

ZSTD_DCtx* worker_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(
      [] {
        ZSTD_DCtx* d = ZSTD_createDCtx();
        if (d) ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, kMaxWindowLog);
        return d;
      }(),
      ZSTD_freeDCtx);
  return ctx.get();
}

int min_level() {
  return ZSTD_minCLevel();
}

int max_level() {
  return ZSTD_maxCLevel();
}

bool level_valid(int level) {
  return level >= min_level() && level <= max_level();
}

size_t compress(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src, std::span<uint8_t> dst) {
  if (!cctx || src.empty()) return 0;
  size_t n = ZSTD_compressCCtx(cctx, dst.data(), dst.size(), src.data(), src.size(), level);
  if (ZSTD_isError(n) || n >= src.size() - src.size() / 32) return 0;
  return n;
}

size_t compress_prefixed(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src,
                         std::span<uint8_t> dst, std::span<const uint8_t> prefix,
                         bool long_matching) {
  if (prefix.empty() && !long_matching) return compress(cctx, level, src, dst);
  if (!cctx || src.empty()) return 0;
  int window_log = 10; // zstd's smallest
  while (window_log < kMaxWindowLog && (size_t{1} << window_log) < prefix.size() + src.size())
    ++window_log;
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  size_t n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(n)) n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
  if (!ZSTD_isError(n) && long_matching) {
    // (The first chunk of a file has no history: the tables are capped all
    // the same, as the thread's context keeps the largest it was given.)
    if (!prefix.empty()) n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_compressionParameters p = ZSTD_getCParams(level, src.size(), prefix.size());
    if (!ZSTD_isError(n) && p.hashLog > kLongMatchTableLog)
      n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, kLongMatchTableLog);
    if (!ZSTD_isError(n) && p.chainLog > kLongMatchTableLog)
      n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, kLongMatchTableLog);
  }
  if (!ZSTD_isError(n) && !prefix.empty())
    n = ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size());
  if (!ZSTD_isError(n)) n = ZSTD_compress2(cctx, dst.data(), dst.size(), src.data(), src.size());
  // The next frame starts from defaults (the prefix is for one frame only).
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError(n) || n >= src.size() - src.size() / 32) return 0;
  return n;
}

namespace {
// Samples are kSlices slices spread from the start of a chunk to its end
// (a chunk that begins with a compressed tar member is still seen whole).
constexpr size_t kSlices = 4;
// Where slice i of `piece` bytes begins in `size` bytes.
size_t slice_offset(size_t size, size_t piece, size_t i) {
  return (size - piece) * i / (kSlices - 1);
}

// Whether four slices of `sample` bytes together, spread over src, shrink.
bool sample_shrinks(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src,
                    std::span<uint8_t> dst, size_t sample) {
  size_t piece = std::max<size_t>(sample / kSlices, 1), in = 0, out = 0;
  for (size_t i = 0; i < kSlices; ++i) {
    size_t off = slice_offset(src.size(), piece, i);
    size_t n = ZSTD_compressCCtx(cctx, dst.data(), dst.size(), src.data() + off, piece, level);
    if (ZSTD_isError(n)) return true; // let the whole chunk decide
    in += piece;
    out += n;
  }
  return out < in - in / 32;
}
} // namespace

size_t compress_sampled(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src,
                        std::span<uint8_t> dst, size_t sample, std::span<const uint8_t> prefix,
                        bool long_matching) {
  if (!cctx || src.empty()) return 0;
  if (sample < src.size() && !sample_shrinks(cctx, level, src, dst, sample)) return 0;
  return compress_prefixed(cctx, level, src, dst, prefix, long_matching);
}

bool looks_incompressible(std::span<const uint8_t> src) {
  constexpr size_t kSlice = 4096;
  // Below 4 KiB the estimate of random bytes falls under the threshold.
  if (src.size() < kSlice) return false;
  std::array<uint32_t, 256> counts{};
  size_t piece = std::min(kSlice, src.size() / kSlices), n = 0;
  for (size_t i = 0; i < kSlices; ++i) {
    size_t off = slice_offset(src.size(), piece, i);
    for (size_t j = 0; j < piece; ++j)
      ++counts[src[off + j]];
    n += piece;
  }
  double bits = 0;
  for (uint32_t c : counts)
    if (c) {
      double p = static_cast<double>(c) / static_cast<double>(n);
      bits -= p * std::log2(p);
    }
  return bits >= 7.9;
}

Status decompress(ZSTD_DCtx* dctx, std::span<const iovec> in, std::span<uint8_t> out,
                  const std::string& what, std::span<const uint8_t> prefix) {
  if (!dctx) return make_error(Errc::local_io, what, "cannot allocate a zstd context");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  // Always: an empty prefix also drops one that a frame which failed before
  // its header was complete left referenced.
  size_t r = ZSTD_DCtx_refPrefix(dctx, prefix.data(), prefix.size());
  if (ZSTD_isError(r))
    return corrupt(what, std::string("cannot use the bytes before as prefix (zstd: ") +
                             ZSTD_getErrorName(r) + ")");
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  size_t last = 1; // nonzero until a frame is complete
  for (const auto& piece : in) {
    ZSTD_inBuffer ib{piece.iov_base, piece.iov_len, 0};
    while (ib.pos < ib.size) {
      if (last == 0) return corrupt(what, "bytes after the end of the compressed frame");
      size_t before_in = ib.pos, before_out = ob.pos;
      last = ZSTD_decompressStream(dctx, &ob, &ib);
      if (ZSTD_isError(last))
        return corrupt(what, std::string("corrupt compressed data (zstd: ") +
                                 ZSTD_getErrorName(last) + ")");
      if (ob.pos == ob.size && last != 0 && ib.pos == before_in && ob.pos == before_out)
        return corrupt(what,
                       strprintf("decompresses to more than its declared %zu bytes", out.size()));
    }
  }
  if (last != 0) {
    // Either the frame is cut short, or it wants to write past the end.
    if (ob.pos == ob.size) {
      uint8_t probe;
      ZSTD_outBuffer extra{&probe, 1, 0};
      ZSTD_inBuffer none{nullptr, 0, 0};
      size_t r = ZSTD_decompressStream(dctx, &extra, &none);
      if (!ZSTD_isError(r) && extra.pos > 0)
        return corrupt(what,
                       strprintf("decompresses to more than its declared %zu bytes", out.size()));
    }
    return corrupt(what, "compressed frame is truncated");
  }
  if (ob.pos != ob.size)
    return corrupt(
        what, strprintf("decompresses to %zu bytes, not its declared %zu", ob.pos, out.size()));
  return {};
}

} // namespace qpipe::codec
