// Equal-sized blocks carved from 2 MiB regions that the kernel may back with
// transparent huge pages (madvise(MADV_HUGEPAGE); this kernel's default mode
// is "madvise"): one page fault and one TLB entry per 2 MiB instead of 512.
//
// The listener's chunk blocks come from here: from the heap, its 64 KiB
// blocks cost it 8,000-13,000 page faults per GiB received, and the copy of
// decrypted data into them ran on 4 KiB pages (across the veth pair a GiB
// took 1.43 s instead of 1.58, median of four alternating pairs, with
// glibc's hugetlb tunable standing in for this).
//
// A Block frees itself: back to its arena (which it keeps alive), or with
// delete[] when it came from the heap (heap_block(); also what get() gives
// when mmap fails). The arena is not a cache: what owners keep for reuse
// they keep as Blocks (BufferPool, the listener's MemoryBudget and
// TransferMemory), so a block that comes back gives its pages back to the
// kernel at once (MADV_DONTNEED), and memory stays within what its owners
// count. Regions are unmapped when the arena goes, and after release_idle()
// once all their blocks are back. Thread-safe.
//
// Under AddressSanitizer a free block is poisoned, so that a use after it
// went back is reported as the heap's would be (a block overrunning into
// its neighbour in the region is not: the unit tests of chunk data use
// heap blocks as well).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace qpipe {

class BlockArena;

struct BlockFree {
  std::shared_ptr<BlockArena> arena; // null: from the heap
  void operator()(uint8_t* p) const noexcept;
};
using Block = std::unique_ptr<uint8_t[], BlockFree>;

inline Block heap_block(size_t n) {
  return Block(new uint8_t[n]);
}

class BlockArena : public std::enable_shared_from_this<BlockArena> {
public:
  // A huge page: regions are aligned to it, and are one (for blocks that
  // divide it) or as large as one block (for multiples of it).
  static constexpr size_t kRegion = size_t{2} << 20;

  // Blocks of other sizes come from the heap.
  static std::shared_ptr<BlockArena> create(size_t block_size);
  ~BlockArena();
  BlockArena(const BlockArena&) = delete;
  BlockArena& operator=(const BlockArena&) = delete;

  Block get();
  // Unmaps the regions whose blocks are all back, and from now on until the
  // next get(), each region as its last block comes back.
  void release_idle();
  size_t regions() const;

private:
  explicit BlockArena(size_t block_size);
  friend struct BlockFree;
  void put(uint8_t* p) noexcept;
  // With the lock held:
  bool add_region();
  void unmap_free_regions();

  const size_t block_;
  const size_t region_; // 0: blocks from the heap
  const size_t per_region_;
  mutable std::mutex m_;
  std::vector<uint8_t*> free_;
  std::unordered_map<uintptr_t, size_t> free_in_region_; // by region base
  bool idle_ = false;
};

} // namespace qpipe
