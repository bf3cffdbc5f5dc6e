// A free list of equal-sized buffers, so that the data path reuses memory
// instead of asking malloc for fresh pages (and taking their page faults)
// for every chunk. New buffers come from transparent huge pages where their
// size allows (core/block_arena.h). Buffers are not zeroed. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/block_arena.h"

namespace qpipe {

class BufferPool {
public:
  BufferPool(size_t buffer_size, size_t max_free)
      : size_(buffer_size), max_free_(max_free), arena_(BlockArena::create(buffer_size)) {}
  size_t buffer_size() const { return size_; }
  Block get() {
    if (free_.empty()) return arena_->get();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Takes back a buffer of buffer_size() bytes (or drops it when enough are kept).
  void put(Block b) {
    if (b && free_.size() < max_free_) free_.push_back(std::move(b));
  }

private:
  size_t size_;
  size_t max_free_;
  std::shared_ptr<BlockArena> arena_;
  std::vector<Block> free_;
};

} // namespace qpipe
