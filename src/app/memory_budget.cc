#include "app/memory_budget.h"

#include <algorithm>

namespace qpipe::app {

uint64_t MemoryBudget::fair_share() const {
  uint64_t waited_for = 0; // what the line needs first
  for (const Waiter& w : waiting_)
    waited_for += w.minimum;
  uint64_t left = total_ > waited_for ? total_ - waited_for : 0;
  return left / std::max<size_t>(1, members_);
}

bool MemoryBudget::join(uint64_t minimum, std::function<void()> granted, Ticket* ticket) {
  *ticket = next_ticket_++;
  if (waiting_.empty() && total_ - used_ >= minimum) {
    used_ += minimum;
    ++members_;
    trim_free_blocks(); // kept blocks give way to a reservation
    return true;
  }
  waiting_.push_back({*ticket, minimum, std::move(granted)});
  return false;
}

void MemoryBudget::leave(Ticket ticket, uint64_t held) {
  auto it = std::find_if(waiting_.begin(), waiting_.end(),
                         [ticket](const Waiter& w) { return w.ticket == ticket; });
  if (it != waiting_.end()) {
    bool first = it == waiting_.begin();
    waiting_.erase(it);
    if (first) serve(); // the next in line may fit
    return;
  }
  used_ -= std::min(used_, held);
  if (members_ > 0) --members_;
  serve();
  if (members_ == 0) { // an idle listener holds no blocks
    free_blocks_.clear();
    arena_->release_idle();
  }
}

uint64_t MemoryBudget::grow(uint64_t n) {
  if (!waiting_.empty()) return 0;
  uint64_t take = std::min(n, total_ - used_);
  used_ += take;
  trim_free_blocks();
  return take;
}

void MemoryBudget::shrink(uint64_t n) {
  used_ -= std::min(used_, n);
  serve();
}

// Grants waiting members in arrival order while the first one fits. A
// grant's callback may call back into the budget; the loop here serves
// what that frees.
void MemoryBudget::serve() {
  if (serving_) return;
  serving_ = true;
  while (!waiting_.empty() && total_ - used_ >= waiting_.front().minimum) {
    Waiter w = std::move(waiting_.front());
    waiting_.pop_front();
    used_ += w.minimum;
    ++members_;
    trim_free_blocks();
    w.granted();
  }
  serving_ = false;
}

Block MemoryBudget::get_block() {
  if (free_blocks_.empty()) return arena_->get();
  auto b = std::move(free_blocks_.back());
  free_blocks_.pop_back();
  return b;
}

void MemoryBudget::put_block(Block block) {
  if (block && members_ > 0 && unreserved() >= kBlockSize) free_blocks_.push_back(std::move(block));
}

void MemoryBudget::trim_free_blocks() {
  while (!free_blocks_.empty() && used() > total_)
    free_blocks_.pop_back();
}

} // namespace qpipe::app
