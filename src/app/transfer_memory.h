// What one transfer holds of the listener's MemoryBudget, and what follows
// from it: how much flow-control credit and how many chunk streams to grant
// the sender, whether a chunk may be decompressed ahead of the writer, and
// whether the blocks of arriving chunks still fit. Pure; loop thread only.
//
// For chunk size C and P streams (the sender's HELLO), a transfer holds:
//   slack   P × 64 KiB   one partly filled block per chunk stream in flight
//   C                    the decompression buffer of the chunk the writer
//                        waits for (needed only with zstd, always reserved)
//   8 MiB                with chunks compressed against the bytes before
//                        them (HELLO's kHelloHistory): the last
//                        wire::kHistory bytes of the current file
//   credit               the connection credit outstanding, which bounds what
//                        QUIC buffers and what arrived chunks hold: at least
//                        one chunk on the wire and the control allowance
//                        (64 KiB), at most the transfer's window: at first
//                        8 MiB, or twice the chunks the sender may have in
//                        flight (P + 1) if more, growing with the path's
//                        need (CreditWindow) up to 48 MiB (twice the BDP of
//                        1 Gbit/s × 200 ms)
//   ahead                with zstd, chunks decompressed ahead of the writer,
//                        at most 16 MiB − C
// Its minimum is the first three at their least; it grows toward its fair
// share of the budget, up to all four at their most, and shrinks back
// (only as far as the credit outstanding: granted credit cannot be taken
// back, so it shrinks as the writer consumes). Blocks it gave back stay
// with it for its next ones in what its reservation leaves room for, and
// give way to anything above (block(), recycle()).
//
// A sender that spreads data over more streams than it announced, or sends
// beyond its credit, would need more than this: take_block() says no, and
// the receiver ends the transfer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "app/memory_budget.h"
#include "pipeline/wire.h"

namespace qpipe::app {

// The credit window of one transfer, at first and at most, and how far zstd
// chunks are decompressed ahead of the writer.
inline constexpr uint64_t kInitialConnWindow = 8ull << 20;
inline constexpr uint64_t kMaxConnWindow = 48ull << 20;
inline constexpr uint64_t kDecompressedAhead = 16ull << 20;
// Connection credit for the control stream: all a sender gets before it has
// proven itself (no chunk stream, no budget), and what stays granted for
// control messages afterwards.
inline constexpr uint64_t kControlAllowance = 64 * 1024;

// The connection credit window of one transfer, following what the path
// needs, as receive-side auto-tuning does in TCP: once per round trip it
// measures the credit consumed in that round trip (what the sender could
// move through the path and the writer took), and the window grows to twice
// that when it is smaller. A transfer held back by its window consumes a
// whole window per round trip, so the window doubles each round trip until
// the path or the writer is the limit; then it stays at twice the
// bandwidth-delay product (room for the sender's probing and for loss
// recovery). A sender that came close to using all its credit in a round
// trip (note_nearly_used) is held back by it even when little was consumed
// (chunks waiting behind a lost one): the window doubles then too. It never
// shrinks: the budget's fair share bounds what it holds. Pure.
class CreditWindow {
public:
  CreditWindow(uint64_t initial, uint64_t max) : size_(initial < max ? initial : max), max_(max) {}
  uint64_t size() const { return size_; }
  // `consumed`: credit consumed so far, `rtt_ns`: the smoothed round trip
  // (0 while unmeasured). True when the window grew.
  bool on_consumed(uint64_t now_ns, uint64_t consumed, uint64_t rtt_ns);
  // The sender has used, or is about to use, most of the window.
  void note_nearly_used() { nearly_used_ = true; }

private:
  uint64_t size_, max_;
  uint64_t epoch_ns_ = 0, epoch_consumed_ = 0;
  bool nearly_used_ = false;
};

class TransferMemory {
public:
  TransferMemory(MemoryBudget& budget, uint32_t chunk_size, uint32_t streams, bool history = false);
  ~TransferMemory();
  TransferMemory(const TransferMemory&) = delete;
  TransferMemory& operator=(const TransferMemory&) = delete;

  uint64_t minimum() const { return fixed() + chunk_wire_ + kControlAllowance; }
  uint64_t target() const;
  uint64_t reserved() const { return reserved_; }

  // Joins the budget with the minimum: true when it was reserved now;
  // otherwise `granted` runs when it is.
  bool join(std::function<void()> granted);
  bool granted() const { return reserved_ > 0; }

  // Chunk streams to grant once the minimum is reserved: the window's worth
  // of chunks and the ones in flight (more as the window grows).
  uint32_t stream_credit(uint32_t max_streams) const;

  // The credit window (CreditWindow): true when it grew.
  uint64_t window() const { return window_.size(); }
  bool tune_window(uint64_t now_ns, uint64_t consumed, uint64_t rtt_ns) {
    return window_.on_consumed(now_ns, consumed, rtt_ns);
  }
  // `held`: chunk bytes that arrived and wait for the writer, which waits
  // for a chunk still missing (lost, being repeated). When they fill half
  // the window, the sender is about to be held back by its credit.
  void held_behind_missing(uint64_t held) {
    if (held >= window_.size() / 2) window_.note_nearly_used();
  }

  // Moves the reservation toward the fair share. `outstanding`: connection
  // credit granted and not consumed (control allowance included).
  void rebalance(uint64_t outstanding);
  // The connection credit to add now.
  uint64_t credit_to_add(uint64_t outstanding) const;

  // Blocks of arriving chunk data (n bytes each): false when they do not fit.
  // `awaited_has_raw`: the chunk the writer waits for has its
  // decompression buffer already (else room for one is kept).
  bool take_block(uint64_t n, bool awaited_has_raw);
  void give_block(uint64_t n);
  // The memory of n bytes that take_block() admitted, and its return
  // (recycle() gives the n bytes back itself; give_block() alone is for
  // bytes never obtained here). Full blocks (kBlockSize) given back are kept for this
  // transfer's next ones while its reservation covers them beside all it
  // holds, and go to the budget's pool otherwise: a transfer that holds most
  // of the budget would free every block to malloc, which returns the top
  // of its heap to the kernel, and fault in fresh pages for the next (a
  // page fault per 4 KiB of arriving data: a -z transfer of random data
  // took 30-50% longer on loopback).
  Block block(uint64_t n);
  void recycle(Block b, uint64_t n);

  // Decompression buffers of chunk-size bytes.
  void saw_zstd() { zstd_ = true; }
  bool may_decompress_ahead(uint64_t outstanding, bool awaited_has_raw) const;
  std::unique_ptr<uint8_t[]> take_raw();
  void give_raw(std::unique_ptr<uint8_t[]> buffer);

  // What the transfer's buffers hold now (blocks and decompression buffers;
  // the history is beside them), and of that the blocks kept for reuse.
  uint64_t allocated() const { return blocks_ + cached() + raw_alive_ * chunk_size_; }
  uint64_t cached() const { return block_cache_.size() * kBlockSize; }

  static uint64_t initial_window(uint64_t chunk_wire, uint32_t streams);

private:
  uint64_t history_bytes() const { return history_ ? wire::kHistory : 0; }
  uint64_t fixed() const { return slack_ + chunk_size_ + history_bytes(); }
  uint64_t ahead_room(uint64_t reserve) const;
  uint64_t credit_cap(uint64_t reserve) const { return reserve - fixed() - ahead_room(reserve); }
  // What must stay reserved while `outstanding` credit is granted.
  uint64_t in_use(uint64_t outstanding) const;
  // Takes kept blocks out until everything allocated fits `reserve` with
  // `more` beside it: freed, or into `to` when given.
  void trim_cache(uint64_t reserve, uint64_t more = 0, std::vector<Block>* to = nullptr);

  MemoryBudget& budget_;
  MemoryBudget::Ticket ticket_ = 0;
  bool joined_ = false;
  uint64_t chunk_size_, chunk_wire_, slack_;
  uint32_t streams_;
  uint64_t reserved_ = 0, goal_ = 0;
  uint64_t blocks_ = 0;
  uint64_t raw_alive_ = 0; // decompression buffers, in use or kept in raw_free_
  std::vector<std::unique_ptr<uint8_t[]>> raw_free_;
  std::vector<Block> block_cache_;
  bool zstd_ = false;
  bool history_ = false;
  CreditWindow window_;
};

} // namespace qpipe::app
