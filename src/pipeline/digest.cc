#include "pipeline/digest.h"

#include <cstring>
#include <new>
#ifdef QPIPE_XXH_DISPATCH
// XXH3_128bits and XXH3_128bits_update become their run-time dispatched
// (AVX2/AVX-512) versions: the same hashes, several times faster.
#include <xxh_x86dispatch.h>
#endif

namespace qpipe {
namespace {
wire::Digest canonical(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  wire::Digest d;
  std::memcpy(d.data(), c.digest, 16);
  return d;
}
} // namespace

wire::Digest hash_bytes(std::span<const uint8_t> data) {
  return canonical(XXH3_128bits(data.data(), data.size()));
}

wire::Digest hash_iovecs(std::span<const iovec> parts) {
  if (parts.size() == 1)
    return hash_bytes({static_cast<const uint8_t*>(parts[0].iov_base), parts[0].iov_len});
  PieceHash h;
  for (const auto& p : parts)
    h.update({static_cast<const uint8_t*>(p.iov_base), p.iov_len});
  return h.digest();
}

PieceHash::PieceHash() : state_(XXH3_createState()) {
  if (!state_) throw std::bad_alloc();
  XXH3_128bits_reset(state_);
}

PieceHash::~PieceHash() {
  XXH3_freeState(state_);
}

void PieceHash::update(std::span<const uint8_t> piece) {
  XXH3_128bits_update(state_, piece.data(), piece.size());
}

wire::Digest PieceHash::digest() const {
  return canonical(XXH3_128bits_digest(state_));
}

void Digester::add_chunk(const wire::Digest& chunk_hash, uint64_t raw_len) {
  uint8_t rec[24];
  std::memcpy(rec, chunk_hash.data(), 16);
  for (int i = 0; i < 8; ++i)
    rec[16 + i] = static_cast<uint8_t>(raw_len >> (56 - 8 * i));
  records_.update(rec);
}

} // namespace qpipe
