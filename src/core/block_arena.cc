#include "core/block_arena.h"

#include <algorithm>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

namespace qpipe {

namespace {
uintptr_t region_of(const uint8_t* p) {
  return reinterpret_cast<uintptr_t>(p) & ~(uintptr_t{BlockArena::kRegion} - 1);
}

// (Unpoisoned first: whatever is mapped there later is not ours.)
void unmap_region(uintptr_t base, size_t size) {
  ASAN_UNPOISON_MEMORY_REGION(reinterpret_cast<void*>(base), size);
  ::munmap(reinterpret_cast<void*>(base), size);
}

size_t region_for(size_t block) {
  if (block == 0) return 0;
  if (block <= BlockArena::kRegion)
    return BlockArena::kRegion % block == 0 ? BlockArena::kRegion : 0;
  return block % BlockArena::kRegion == 0 ? block : 0;
}
} // namespace

BlockArena::BlockArena(size_t block_size)
    : block_(block_size), region_(region_for(block_size)),
      per_region_(region_ ? region_ / block_size : 0) {}

void BlockFree::operator()(uint8_t* p) const noexcept {
  if (arena)
    arena->put(p);
  else
    delete[] p;
}

std::shared_ptr<BlockArena> BlockArena::create(size_t block_size) {
  return std::shared_ptr<BlockArena>(new BlockArena(block_size));
}

BlockArena::~BlockArena() {
  // Every block keeps its arena alive: all are back.
  for (const auto& [base, n] : free_in_region_)
    unmap_region(base, region_);
}

bool BlockArena::add_region() {
  if (region_ == 0) return false; // heap blocks then
  // A huge page more, to cut an aligned region out of it.
  const size_t len = region_ + kRegion;
  void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return false;
  auto start = reinterpret_cast<uintptr_t>(m);
  uintptr_t base = (start + kRegion - 1) & ~(uintptr_t{kRegion} - 1);
  if (base > start) ::munmap(m, base - start);
  if (uintptr_t end = start + len; end > base + region_)
    ::munmap(reinterpret_cast<void*>(base + region_), end - (base + region_));
  (void)::madvise(reinterpret_cast<void*>(base), region_, MADV_HUGEPAGE); // a hint
  ASAN_POISON_MEMORY_REGION(reinterpret_cast<void*>(base), region_);
  free_in_region_[base] = per_region_;
  // Handed out from the region's start: the first use touches one huge page.
  for (size_t i = per_region_; i-- > 0;)
    free_.push_back(reinterpret_cast<uint8_t*>(base + i * block_));
  return true;
}

Block BlockArena::get() {
  uint8_t* p = nullptr;
  {
    std::lock_guard g(m_);
    idle_ = false;
    if (free_.empty() && !add_region()) return heap_block(block_);
    p = free_.back();
    free_.pop_back();
    --free_in_region_[region_of(p)];
  }
  ASAN_UNPOISON_MEMORY_REGION(p, block_);
  return Block(p, BlockFree{shared_from_this()});
}

void BlockArena::put(uint8_t* p) noexcept {
  // Its owner (a pool, a budget) keeps the blocks it wants: this one's
  // memory goes back to the kernel, and it is faulted in again when reused.
  (void)::madvise(p, block_, MADV_DONTNEED);
  ASAN_POISON_MEMORY_REGION(p, block_);
  std::lock_guard g(m_);
  free_.push_back(p);
  if (++free_in_region_[region_of(p)] == per_region_ && idle_) unmap_free_regions();
}

void BlockArena::release_idle() {
  std::lock_guard g(m_);
  idle_ = true;
  unmap_free_regions();
}

void BlockArena::unmap_free_regions() {
  std::erase_if(free_, [&](uint8_t* p) { return free_in_region_[region_of(p)] == per_region_; });
  std::erase_if(free_in_region_, [&](const auto& r) {
    if (r.second != per_region_) return false;
    unmap_region(r.first, region_);
    return true;
  });
}

size_t BlockArena::regions() const {
  std::lock_guard g(m_);
  return free_in_region_.size();
}

} // namespace qpipe
