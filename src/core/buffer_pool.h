// A free list of equal-sized buffers, so that the data path reuses memory
// instead of asking malloc for fresh pages (and taking their page faults)
// for every chunk. Buffers are not zeroed. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace qpipe {

class BufferPool {
public:
  BufferPool(size_t buffer_size, size_t max_free) : size_(buffer_size), max_free_(max_free) {}
  size_t buffer_size() const { return size_; }
  std::unique_ptr<uint8_t[]> get() {
    if (free_.empty()) return std::unique_ptr<uint8_t[]>(new uint8_t[size_]);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Takes back a buffer of buffer_size() bytes (or drops it when enough are kept).
  void put(std::unique_ptr<uint8_t[]> b) {
    if (b && free_.size() < max_free_) free_.push_back(std::move(b));
  }

private:
  size_t size_;
  size_t max_free_;
  std::vector<std::unique_ptr<uint8_t[]>> free_;
};

} // namespace qpipe
