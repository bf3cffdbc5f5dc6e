// A ring buffer mapped twice in a row, so that any size() bytes of it are
// contiguous in memory: the last bytes appended can be handed to a library
// that wants one span (zstd's prefix) however the ring has wrapped.
//
// It holds a stream's most recent bytes, addressed by their offset in the
// stream (0 for the first byte ever appended): bytes [head() - size(),
// head()) are there. The pages come from an anonymous memfd mapped at two
// adjacent addresses; nothing is copied to keep the mirror. Not thread-safe:
// the owner decides who writes which part when (see SendPipeline and
// Receiver).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"

namespace qpipe {

class MirrorRing {
public:
  // A ring of at least `min_size` bytes (rounded up to whole pages).
  static Result<MirrorRing> create(size_t min_size);
  MirrorRing() = default;
  ~MirrorRing();
  MirrorRing(MirrorRing&& o) noexcept { *this = std::move(o); }
  MirrorRing& operator=(MirrorRing&& o) noexcept;
  MirrorRing(const MirrorRing&) = delete;
  MirrorRing& operator=(const MirrorRing&) = delete;

  size_t size() const { return size_; }
  // The stream offset one past the last byte appended.
  uint64_t head() const { return head_; }
  // Where stream byte `offset` lives; up to size() bytes from there are
  // contiguous. The caller keeps within [head() - size(), head() + size()).
  uint8_t* at(uint64_t offset) const { return base_ + offset % size_; }
  // Stream bytes [from, to), which must be in the ring.
  std::span<const uint8_t> view(uint64_t from, uint64_t to) const {
    return {at(from), static_cast<size_t>(to - from)};
  }
  // Bytes written at at(head()) are now part of the stream.
  void advance(size_t n) { head_ += n; }

private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t head_ = 0;
};

} // namespace qpipe
