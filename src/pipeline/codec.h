// Chunk compression with zstd: pure functions over buffers, run on the
// thread pool. Each worker thread keeps its own compression and
// decompression context (worker_cctx/worker_dctx), reused for every chunk.
//
// Decompression is bounded: the output buffer is exactly the chunk's
// declared length, so a chunk that would decompress to more (a bomb), to
// less (a lying header), with trailing bytes, or with a window larger than
// the chunk-size limit is an error, never memory growth or corrupt output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <zstd.h>

#include "core/error.h"

namespace qpipe::codec {

// Contexts owned by the calling thread, created on first use.
ZSTD_CCtx* worker_cctx();
ZSTD_DCtx* worker_dctx();

// Compresses src into dst (at least ZSTD_compressBound(src.size()) bytes).
// Returns the compressed size, or 0 when the data does not shrink by at
// least 3% (then it travels raw).
size_t compress(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src, std::span<uint8_t> dst);

// Like compress, with `prefix` (the bytes just before src, raw) as the
// frame's prefix: repeats of it cost a few bytes (a tar of similar files:
// +12% ratio at level 3 with 2 MiB before a 2 MiB chunk). The window covers
// prefix and src, at most 2^24 bytes. `long_matching`: zstd's long-distance
// matcher too, which finds the repeats far back in a long prefix that the
// level's own tables miss (8 MiB before 2 MiB of a source tree: 1.99 instead
// of 1.85, at a third of the speed). Decompress with a prefix that ends with
// the same bytes (it may be longer: offsets count back from src).
size_t compress_prefixed(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src,
                         std::span<uint8_t> dst, std::span<const uint8_t> prefix,
                         bool long_matching = false);

// Like compress, but first compresses only `sample` bytes of src (when src
// is longer), in four slices spread from its start to its end: if they do
// not shrink together, returns 0 without working through the rest. For
// probing input that did not compress lately, at a thirty-second of the cost
// for 64 KiB of a 2 MiB chunk; spread, so that a chunk that begins with
// incompressible bytes (a tar member that is already compressed) is still
// tried when the rest shrinks.
// With `prefix`, the whole chunk is compressed against it (the sample alone).
size_t compress_sampled(ZSTD_CCtx* cctx, int level, std::span<const uint8_t> src,
                        std::span<uint8_t> dst, size_t sample, std::span<const uint8_t> prefix = {},
                        bool long_matching = false);

// Whether src looks like it will not compress, judged in microseconds on
// the loop thread: the byte entropy of four 4 KiB slices spread over it is
// at least 7.9 bits (random bytes and zstd or gzip output come out at
// 7.98-7.99; text, code and executables at 3.7-6). Byte counts say nothing
// of repeats, so a false "yes" is possible (a disk image of the same random
// block twice): the sender then treats that input as it treats input that
// did not compress lately (no prefix), which the samples of such input fail
// too.
bool looks_incompressible(std::span<const uint8_t> src);

// Decompresses the pieces of one zstd frame into out, which must come out
// exactly full. `what` names the chunk in error messages. `prefix`: what the
// frame was compressed against (compress_prefixed), or more bytes ending with
// it, or empty.
Status decompress(ZSTD_DCtx* dctx, std::span<const iovec> in, std::span<uint8_t> out,
                  const std::string& what, std::span<const uint8_t> prefix = {});

// The levels this zstd accepts (negative ones are faster; 0 is its default).
int min_level();
int max_level();
bool level_valid(int level);

} // namespace qpipe::codec
