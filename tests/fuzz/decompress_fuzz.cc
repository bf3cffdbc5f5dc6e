// Fuzzes qpipe::codec::decompress (src/pipeline/codec.h), which decodes the
// zstd chunks a peer sends into a buffer of the length the chunk header
// declares. The input is a 4-byte big-endian declared length (taken modulo
// 16 MiB + 1), one byte for the number of pieces (1 to 3), two 2-byte cut
// points, then the compressed bytes; each piece is copied into its own
// allocation of exactly its size and the output buffer is exactly the
// declared length, so that AddressSanitizer catches any read or write past
// them. The top bit of the pieces byte makes the frame's own bytes its
// prefix (as for a chunk compressed against the one before). Asserts, besides no crash, no leak and
// no hang (libFuzzer's -timeout), that a success means one whole zstd frame that decodes to exactly
// the declared length and to the same bytes when zstd decodes it in one piece with room to spare
// (and one-shot, when the frame header states that length). libzstd's streaming decoder checks the
// frame content size field only when it has room for that size, so a frame whose header claims more
// than the declared length but holds exactly that length is accepted; that is harmless (the bytes
// are what the blocks hold, and their XXH3 is checked after) and such frames are only checked for
// memory safety.
#include <algorithm>
#include <memory>
#include <sys/uio.h>
#include <vector>
#include <zstd.h>

#include "fuzz_input.h"
#include "pipeline/codec.h"
#include "pipeline/wire.h"

using namespace qpipe;
using qpipe::fuzz::Input;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  size_t declared = static_cast<size_t>(in.take_uint(4) % (wire::kMaxChunkRaw + 1));
  uint8_t shape = in.take_u8();
  size_t count = 1 + (shape & 0x7f) % 3;
  bool prefixed = shape & 0x80; // the frame's own bytes as its prefix: any bytes will do
  size_t cut1 = static_cast<size_t>(in.take_uint(2));
  size_t cut2 = static_cast<size_t>(in.take_uint(2));
  std::span<const uint8_t> frame = in.rest();

  // Cut the frame into `count` pieces, each in its own exact-size buffer.
  std::vector<size_t> cuts{0, frame.size()};
  if (count >= 2) cuts.push_back(cut1 % (frame.size() + 1));
  if (count >= 3) cuts.push_back(cut2 % (frame.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::unique_ptr<uint8_t[]>> owned;
  std::vector<iovec> pieces;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    size_t n = cuts[i + 1] - cuts[i];
    owned.emplace_back(new uint8_t[n]);
    std::copy_n(frame.data() + cuts[i], n, owned.back().get());
    pieces.push_back(iovec{owned.back().get(), n});
  }

  std::unique_ptr<uint8_t[]> out(new uint8_t[declared]);
  std::vector<uint8_t> prefix;
  if (prefixed) prefix.assign(frame.begin(), frame.end());
  Status s = codec::decompress(codec::worker_dctx(), pieces,
                               std::span<uint8_t>(out.get(), declared), "chunk 0", prefix);
  if (!s) {
    FUZZ_CHECK(!s.error().message().empty());
    return 0;
  }

  // Success: the input is exactly one frame.
  FUZZ_CHECK_MSG(ZSTD_findFrameCompressedSize(frame.data(), frame.size()) == frame.size(),
                 "accepted something other than exactly one frame");
  // A frame whose header states another content size than it holds is
  // accepted or refused by libzstd depending on the room it is given (with
  // room for the stated size it decodes in one shot and checks the field);
  // either way no more than `declared` bytes are written, so there is
  // nothing more to compare.
  unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != declared) return 0;

  // zstd's streaming decoder, given the frame in one piece and room for
  // more, makes exactly these bytes of it; and so does its one-shot decoder
  // when the header states the size.
  static ZSTD_DCtx* ref_dctx = ZSTD_createDCtx();
  ZSTD_DCtx_reset(ref_dctx, ZSTD_reset_session_only);
  ZSTD_DCtx_refPrefix(ref_dctx, prefix.data(), prefix.size());
  std::unique_ptr<uint8_t[]> ref(new uint8_t[declared + 1]);
  ZSTD_outBuffer ob{ref.get(), declared + 1, 0};
  ZSTD_inBuffer ib{frame.data(), frame.size(), 0};
  size_t r;
  for (;;) {
    size_t in_before = ib.pos, out_before = ob.pos;
    r = ZSTD_decompressStream(ref_dctx, &ob, &ib);
    if (r == 0 || ZSTD_isError(r) || ob.pos == ob.size) break;
    if (ib.pos == in_before && ob.pos == out_before) break; // truncated
  }
  FUZZ_CHECK_MSG(r == 0 && ob.pos == declared,
                 "accepted a frame that zstd decodes to another length");
  FUZZ_CHECK_MSG(std::equal(out.get(), out.get() + declared, ref.get()),
                 "decoded bytes differ from zstd's");
  if (content == declared) {
    ZSTD_DCtx_refPrefix(ref_dctx, prefix.data(), prefix.size());
    size_t n = ZSTD_decompressDCtx(ref_dctx, ref.get(), declared + 1, frame.data(), frame.size());
    FUZZ_CHECK_MSG(n == declared && std::equal(out.get(), out.get() + declared, ref.get()),
                   "zstd's one-shot decoder disagrees");
  }
  return 0;
}
