#include "app/transfer_memory.h"

#include <algorithm>
#include <utility>

#include "app/options.h"
#include "pipeline/wire.h"

namespace qpipe::app {

TransferMemory::TransferMemory(MemoryBudget& budget, uint32_t chunk_size, uint32_t streams,
                               bool history)
    : budget_(budget), chunk_size_(chunk_size),
      chunk_wire_(wire::ChunkHeader::kSize + wire::max_wire_len(chunk_size)),
      slack_(static_cast<uint64_t>(streams) * kBlockSize), streams_(streams), zstd_(history),
      history_(history), window_(initial_window(chunk_wire_, streams), kMaxConnWindow) {}

TransferMemory::~TransferMemory() {
  raw_free_.clear();
  if (joined_) budget_.leave(ticket_, reserved_);
  for (auto& b : block_cache_) // what the budget has room for stays in its pool
    budget_.put_block(std::move(b));
}

// The chunks a sender may have in flight at first, and as many again
// arrived and waiting for the writer behind a lost one. A sender announces
// more streams than it starts with (send_chunk.h): it begins with its
// --streams, 8 by default, and the window follows as it needs more.
uint64_t TransferMemory::initial_window(uint64_t chunk_wire, uint32_t streams) {
  uint64_t first = std::min<uint64_t>(streams, kDefaultStreams);
  return std::max(kInitialConnWindow, 2 * (first + 1) * chunk_wire);
}

bool CreditWindow::on_consumed(uint64_t now_ns, uint64_t consumed, uint64_t rtt_ns) {
  if (rtt_ns == 0) return false;
  if (epoch_ns_ == 0 || consumed < epoch_consumed_) {
    epoch_ns_ = now_ns;
    epoch_consumed_ = consumed;
    return false;
  }
  uint64_t elapsed = now_ns - epoch_ns_;
  if (elapsed < rtt_ns) return false;
  // What one round trip carried (a long epoch, after a pause, counts at its
  // rate per round trip).
  double per_rtt = static_cast<double>(consumed - epoch_consumed_) * static_cast<double>(rtt_ns) /
                   static_cast<double>(elapsed);
  epoch_ns_ = now_ns;
  epoch_consumed_ = consumed;
  double need = 2 * per_rtt;
  if (std::exchange(nearly_used_, false)) need = std::max(need, 2 * static_cast<double>(size_));
  if (need <= static_cast<double>(size_) || size_ >= max_) return false;
  uint64_t grown = need >= static_cast<double>(max_) ? max_ : static_cast<uint64_t>(need);
  grown = std::min(max_, (grown + kBlockSize - 1) / kBlockSize * kBlockSize);
  if (grown <= size_) return false;
  size_ = grown;
  return true;
}

uint64_t TransferMemory::target() const {
  uint64_t window = std::max(window_.size(), chunk_wire_ + kControlAllowance);
  uint64_t ahead = zstd_ && kDecompressedAhead > chunk_size_ ? kDecompressedAhead - chunk_size_ : 0;
  return fixed() + window + ahead;
}

bool TransferMemory::join(std::function<void()> granted) {
  joined_ = true;
  uint64_t min = minimum();
  bool now = budget_.join(
      min,
      [this, min, granted = std::move(granted)] {
        reserved_ = goal_ = min;
        granted();
      },
      &ticket_);
  if (now) reserved_ = goal_ = min;
  return now;
}

uint32_t TransferMemory::stream_credit(uint32_t max_streams) const {
  uint64_t window_chunks = (window_.size() + chunk_wire_ - 1) / chunk_wire_;
  return static_cast<uint32_t>(std::min<uint64_t>(max_streams, streams_ + window_chunks + 1));
}

uint64_t TransferMemory::ahead_room(uint64_t reserve) const {
  if (!zstd_ || reserve <= minimum()) return 0;
  uint64_t most = kDecompressedAhead > chunk_size_ ? kDecompressedAhead - chunk_size_ : 0;
  uint64_t room = std::min(most, (reserve - minimum()) / 2);
  return room / chunk_size_ * chunk_size_;
}

uint64_t TransferMemory::in_use(uint64_t outstanding) const {
  // Blocks are bounded by the credit and the slack; decompression buffers
  // are what is alive, and one more for the awaited chunk.
  return slack_ + history_bytes() + outstanding + (raw_alive_ + 1) * chunk_size_;
}

void TransferMemory::rebalance(uint64_t outstanding) {
  if (!granted()) return;
  goal_ = std::clamp(budget_.fair_share(), minimum(), target());
  if (reserved_ < goal_) {
    reserved_ += budget_.grow(goal_ - reserved_);
    return;
  }
  // Kept decompression buffers beyond one go first.
  while (raw_free_.size() > 1) {
    raw_free_.pop_back();
    --raw_alive_;
  }
  uint64_t keep = std::max(goal_, in_use(outstanding));
  if (reserved_ > keep) {
    std::vector<Block> trimmed;
    trim_cache(keep, 0, &trimmed);
    uint64_t give = reserved_ - keep;
    reserved_ = keep;
    budget_.shrink(give);   // may grant a waiting transfer from inside
    for (auto& b : trimmed) // the pool keeps what fits beside the reservations
      budget_.put_block(std::move(b));
  }
}

uint64_t TransferMemory::credit_to_add(uint64_t outstanding) const {
  if (!granted()) return 0;
  uint64_t cap = credit_cap(std::min(reserved_, goal_));
  // Decompression buffers already alive (chunks that compressed well may
  // have been decompressed beyond ahead_room) leave that much less: credit
  // is a promise that the blocks of what it lets in will fit.
  uint64_t held =
      slack_ + history_bytes() + (raw_alive_ + (raw_free_.empty() ? 1 : 0)) * chunk_size_;
  cap = std::min(cap, reserved_ > held ? reserved_ - held : 0);
  return cap > outstanding ? cap - outstanding : 0;
}

bool TransferMemory::take_block(uint64_t n, bool awaited_has_raw) {
  uint64_t awaited = awaited_has_raw || !raw_free_.empty() ? 0 : chunk_size_;
  if (blocks_ + n + raw_alive_ * chunk_size_ + awaited + history_bytes() > reserved_) return false;
  blocks_ += n;
  // A partial block is allocated, never taken from the kept ones: they make room for it.
  if (n != kBlockSize) trim_cache(reserved_, awaited);
  return true;
}

void TransferMemory::give_block(uint64_t n) {
  blocks_ -= std::min(blocks_, n);
}

Block TransferMemory::block(uint64_t n) {
  if (n != kBlockSize) return heap_block(n);
  if (block_cache_.empty()) return budget_.get_block();
  auto b = std::move(block_cache_.back());
  block_cache_.pop_back();
  return b;
}

void TransferMemory::recycle(Block b, uint64_t n) {
  give_block(n);
  if (n != kBlockSize || !b) return;
  if (allocated() + history_bytes() + kBlockSize <= reserved_)
    block_cache_.push_back(std::move(b));
  else
    budget_.put_block(std::move(b));
}

void TransferMemory::trim_cache(uint64_t reserve, uint64_t more, std::vector<Block>* to) {
  while (!block_cache_.empty() && allocated() + history_bytes() + more > reserve) {
    if (to) to->push_back(std::move(block_cache_.back()));
    block_cache_.pop_back();
  }
}

bool TransferMemory::may_decompress_ahead(uint64_t outstanding, bool awaited_has_raw) const {
  uint64_t alive_after = raw_alive_ + (raw_free_.empty() ? 1 : 0);
  size_t free_after = raw_free_.empty() ? 0 : raw_free_.size() - 1;
  uint64_t awaited = awaited_has_raw || free_after > 0 ? 0 : 1;
  return slack_ + history_bytes() + outstanding + (alive_after + awaited) * chunk_size_ <=
         reserved_;
}

std::unique_ptr<uint8_t[]> TransferMemory::take_raw() {
  if (!raw_free_.empty()) {
    auto b = std::move(raw_free_.back());
    raw_free_.pop_back();
    return b;
  }
  trim_cache(reserved_, chunk_size_); // kept blocks make room for it
  ++raw_alive_;
  return std::unique_ptr<uint8_t[]>(new uint8_t[chunk_size_]);
}

void TransferMemory::give_raw(std::unique_ptr<uint8_t[]> buffer) {
  if (!buffer) return;
  raw_free_.push_back(std::move(buffer));
}

} // namespace qpipe::app
