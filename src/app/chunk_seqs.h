// Which chunk sequence numbers a receiver has seen, to refuse a chunk sent
// twice, in memory that does not grow with the stream: chunks below the
// writer's position are refused by that position alone, so only the ones
// at or above it (at most one per chunk stream the listener granted) are
// remembered. Pure.
#pragma once

#include <cstdint>
#include <set>

namespace qpipe::app {

class ChunkSeqs {
public:
  // A chunk header with this sequence number arrived: false when the chunk
  // was seen before (or already written).
  bool claim(uint64_t seq) { return seq >= next_ && seen_.insert(seq).second; }
  // Every chunk below `next` has been written.
  void written_below(uint64_t next) {
    next_ = next;
    seen_.erase(seen_.begin(), seen_.lower_bound(next));
  }
  size_t remembered() const { return seen_.size(); }

private:
  uint64_t next_ = 0;
  std::set<uint64_t> seen_; // claimed, at or above next_
};

} // namespace qpipe::app
