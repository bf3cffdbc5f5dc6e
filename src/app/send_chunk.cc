#include "app/send_chunk.h"

#include <algorithm>
#include <cstring>
#include <zstd.h>

namespace qpipe::app {

namespace {
uint64_t most_held(uint64_t beside) {
  constexpr uint64_t kMost = 64ull << 20;
  return beside < kMost / 2 ? kMost - beside : kMost / 2;
}

uint64_t max_held_for(uint32_t chunk_size, int streams, bool compress, uint64_t beside) {
  uint64_t per = chunk_size, most = most_held(beside);
  uint64_t held = std::clamp<uint64_t>(per * (static_cast<uint64_t>(streams) + 1), 2 * per,
                                       std::max<uint64_t>(2 * per, most));
  // A compressed frame beside each raw chunk, within the most (two chunks
  // and their frames at least).
  uint64_t two = 2 * (per + ZSTD_compressBound(chunk_size));
  return compress ? std::min(2 * held, std::max<uint64_t>(two, most)) : held;
}
} // namespace

int streams_announced(uint32_t chunk_size, int streams) {
  uint64_t need = (kInFlightMost + chunk_size - 1) / chunk_size;
  return std::max<int>(streams, static_cast<int>(std::min<uint64_t>(need, kStreamsMost)));
}

int chunks_in_flight(uint64_t cwnd, uint32_t chunk_size, int streams, int announced) {
  uint64_t need = (cwnd + cwnd / 2 + chunk_size - 1) / chunk_size + 1;
  return static_cast<int>(
      std::clamp<uint64_t>(need, static_cast<uint64_t>(streams), static_cast<uint64_t>(announced)));
}

ChunkMemory::ChunkMemory(uint32_t chunk_size, int streams, bool compress, uint64_t beside)
    // Free buffers are kept for as many chunks as may ever be in flight.
    : pool_(chunk_size,
            max_held_for(chunk_size, streams_announced(chunk_size, streams), compress, beside) /
                chunk_size),
      most_(most_held(beside)), max_held_(max_held_for(chunk_size, streams, compress, beside)),
      first_max_held_(max_held_) {
  if (compress)
    packed_pool_.emplace(
        ZSTD_compressBound(chunk_size),
        max_held_for(chunk_size, streams_announced(chunk_size, streams), true, beside) /
            chunk_size);
  per_chunk_ = chunk_size + (packed_pool_ ? packed_pool_->buffer_size() : 0);
}

void ChunkMemory::set_in_flight(int chunks) {
  uint64_t want = per_chunk_ * (static_cast<uint64_t>(chunks) + 1);
  max_held_ = std::max(first_max_held_, std::min<uint64_t>(want, most_));
}

void ChunkMemory::take_raw(SendChunk& c) {
  c.capacity = pool_.buffer_size();
  c.data = pool_.get();
  held_ += c.capacity;
}

void ChunkMemory::shrink_raw(SendChunk& c, size_t n) {
  Block small = heap_block(n);
  std::memcpy(small.get(), c.data.get(), n);
  pool_.put(std::move(c.data));
  c.data = std::move(small);
  held_ -= c.capacity - n;
  c.capacity = n;
}

void ChunkMemory::take_packed(SendChunk& c) {
  c.packed = packed_pool_->get();
  c.packed_capacity = packed_pool_->buffer_size();
  held_ += c.packed_capacity;
}

void ChunkMemory::release_raw(SendChunk& c) {
  if (!c.data) return;
  if (c.capacity == pool_.buffer_size()) pool_.put(std::move(c.data));
  c.data.reset();
  held_ -= c.capacity;
  c.capacity = 0;
}

void ChunkMemory::release_packed(SendChunk& c) {
  if (!c.packed) return;
  packed_pool_->put(std::move(c.packed));
  held_ -= c.packed_capacity;
  c.packed_capacity = 0;
}

} // namespace qpipe::app
