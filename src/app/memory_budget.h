// The listener's one memory budget for chunk data, shared by all its
// connections (SPEC §3: memory is bounded for the whole listener, whatever
// its peers do).
//
// What it bounds: the flow-control credit the listener grants senders (so
// every byte a sender may send it, buffered by QUIC or in chunk blocks),
// the blocks of chunks that arrived, the buffers chunks are decompressed
// into, and the free blocks kept for reuse (here, and by each transfer
// within its own reservation). A transfer reserves its part
// through a TransferMemory (transfer_memory.h): its minimum when its HELLO
// is accepted, or it waits in arrival order until that much is free; then it
// grows toward its fair share (an equal part of what the waiting ones'
// minimums leave) and gives back what it no longer needs. A sender
// that has not proven itself (HELLO, and AUTH with a secret) gets nothing
// from here. Bookkeeping, no I/O, and the blocks' memory (an arena of
// transparent huge pages, core/block_arena.h); loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/block_arena.h"

namespace qpipe::app {

// Chunk data arrives in blocks of this size (the last one of a chunk is
// smaller when the chunk is).
inline constexpr size_t kBlockSize = 64 * 1024;
// The budget of a listener: 64 MiB.
inline constexpr uint64_t kListenerMemory = 64ull << 20;

class MemoryBudget {
public:
  using Ticket = uint64_t;

  explicit MemoryBudget(uint64_t total) : total_(total) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  uint64_t total() const { return total_; }
  // Reserved by members, and kept as free blocks.
  uint64_t used() const { return used_ + free_blocks_.size() * kBlockSize; }
  size_t members() const { return members_; }
  size_t waiting() const { return waiting_.size(); }
  // What each member may hold: an equal part of what the waiting members'
  // minimums leave (a member never goes below its own minimum).
  uint64_t fair_share() const;

  // A new member with a minimum of `minimum` bytes: true when they were
  // reserved now. Otherwise it waits in line and `granted` runs when they
  // are (from inside a later shrink() or leave()). *ticket names it either way.
  bool join(uint64_t minimum, std::function<void()> granted, Ticket* ticket);
  // The member leaves (or leaves the line), giving back the `held` bytes it reserved.
  void leave(Ticket ticket, uint64_t held);
  // A member takes up to n more bytes, only from what is free and nobody
  // waits for; returns how many it got.
  uint64_t grow(uint64_t n);
  // A member gives back n of its bytes.
  void shrink(uint64_t n);

  // Blocks of kBlockSize for chunk data, reused while they fit in what is
  // not reserved (each transfer keeps its own too: TransferMemory); none
  // are kept while no member is left.
  Block get_block();
  void put_block(Block block);

private:
  struct Waiter {
    Ticket ticket;
    uint64_t minimum;
    std::function<void()> granted;
  };
  uint64_t unreserved() const { return total_ > used() ? total_ - used() : 0; }
  void serve();
  void trim_free_blocks();

  uint64_t total_;
  uint64_t used_ = 0; // reserved by members
  size_t members_ = 0;
  Ticket next_ticket_ = 1;
  std::deque<Waiter> waiting_;
  std::vector<Block> free_blocks_;
  // Where blocks come from: transparent huge pages (core/block_arena.h).
  std::shared_ptr<BlockArena> arena_ = BlockArena::create(kBlockSize);
  bool serving_ = false;
};

} // namespace qpipe::app
