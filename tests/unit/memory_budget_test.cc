// Tests of the listener's one memory budget (src/app/memory_budget.h) and
// of a transfer's part of it (src/app/transfer_memory.h): minimums are
// reserved or wait in line, shares are fair, what is given back serves the
// line, and a transfer's credit, decompression and blocks stay within its
// reservation.
#include <boost/test/unit_test.hpp>

#include "app/memory_budget.h"
#include "app/transfer_memory.h"
#include "pipeline/wire.h"

using namespace qpipe::app;
using qpipe::Block;
using qpipe::heap_block;

namespace {
constexpr uint64_t MiB = 1 << 20;
constexpr uint32_t kChunk = 1 << 20;
uint64_t chunk_wire(uint32_t size) {
  return qpipe::wire::ChunkHeader::kSize + qpipe::wire::max_wire_len(size);
}
} // namespace

BOOST_AUTO_TEST_SUITE(memory_budget)

BOOST_AUTO_TEST_CASE(minimums_are_reserved_or_wait_in_line) {
  MemoryBudget b(10 * MiB);
  MemoryBudget::Ticket t1, t2, t3;
  int granted2 = 0, granted3 = 0;
  BOOST_TEST(b.join(
      6 * MiB, [] {}, &t1));
  BOOST_TEST(!b.join(
      6 * MiB, [&] { ++granted2; }, &t2));
  BOOST_TEST(!b.join(
      1 * MiB, [&] { ++granted3; }, &t3)); // behind t2, though it would fit
  BOOST_TEST(b.members() == 1u);
  BOOST_TEST(b.waiting() == 2u);
  BOOST_TEST(b.grow(1 * MiB) == 0u); // nobody grows while others wait
  b.leave(t1, 6 * MiB);
  BOOST_TEST(granted2 == 1);
  BOOST_TEST(granted3 == 1);
  BOOST_TEST(b.used() == 7 * MiB);
  BOOST_TEST(b.members() == 2u);
  b.leave(t2, 6 * MiB);
  b.leave(t3, 1 * MiB);
  BOOST_TEST(b.used() == 0u);
}

BOOST_AUTO_TEST_CASE(a_waiting_member_can_leave_the_line) {
  MemoryBudget b(4 * MiB);
  MemoryBudget::Ticket t1, t2, t3;
  int granted = 0;
  BOOST_TEST(b.join(
      3 * MiB, [] {}, &t1));
  BOOST_TEST(!b.join(
      3 * MiB, [&] { ++granted; }, &t2));
  BOOST_TEST(!b.join(
      1 * MiB, [&] { ++granted; }, &t3));
  b.leave(t2, 0); // gave up waiting: the one behind fits now
  BOOST_TEST(granted == 1);
  BOOST_TEST(b.used() == 4 * MiB);
}

BOOST_AUTO_TEST_CASE(fair_share_leaves_room_for_the_line) {
  MemoryBudget b(64 * MiB);
  BOOST_TEST(b.fair_share() == 64 * MiB);
  MemoryBudget::Ticket t1, t2;
  BOOST_TEST(b.join(
      40 * MiB, [] {}, &t1));
  BOOST_TEST(!b.join(
      30 * MiB, [] {}, &t2));
  BOOST_TEST(b.fair_share() == 34 * MiB); // the one member, less what the line needs
  b.shrink(10 * MiB);                     // t1 gives back: t2 is served
  BOOST_TEST(b.members() == 2u);
  BOOST_TEST(b.used() == 60 * MiB);
  BOOST_TEST(b.fair_share() == 32 * MiB);
}

BOOST_AUTO_TEST_CASE(kept_blocks_never_push_the_total_over_the_budget) {
  MemoryBudget b(4 * kBlockSize);
  MemoryBudget::Ticket t;
  BOOST_TEST(b.join(
      2 * kBlockSize, [] {}, &t));
  for (int i = 0; i < 4; ++i)
    b.put_block(heap_block(kBlockSize));
  BOOST_TEST(b.used() == 4 * kBlockSize); // two reserved, two kept
  BOOST_TEST(b.grow(kBlockSize) == kBlockSize);
  BOOST_TEST(b.used() == 4 * kBlockSize); // a kept block gave way
  BOOST_TEST(b.get_block() != nullptr);
}

BOOST_AUTO_TEST_CASE(a_transfer_reserves_its_minimum_then_grows_to_its_target) {
  MemoryBudget b(kListenerMemory);
  TransferMemory m(b, kChunk, 8);
  BOOST_TEST(m.minimum() == 8 * kBlockSize + kChunk + chunk_wire(kChunk) + kControlAllowance);
  BOOST_TEST(m.join([] {}));
  BOOST_TEST(m.reserved() == m.minimum());
  // Before HELLO only the control allowance is outstanding.
  m.rebalance(kControlAllowance);
  BOOST_TEST(m.reserved() == m.target()); // alone: all it may use
  // Its window: twice the 8 + 1 chunks the sender may have in flight.
  BOOST_TEST(m.window() == 18 * chunk_wire(kChunk));
  BOOST_TEST(m.credit_to_add(kControlAllowance) == m.window() - kControlAllowance);
  BOOST_TEST(m.stream_credit(256) == 8u + 18u + 1u);
}

BOOST_AUTO_TEST_CASE(two_transfers_share_and_a_third_waits_until_they_shrink) {
  MemoryBudget b(kListenerMemory);
  TransferMemory a(b, kChunk, 8), c(b, kChunk, 8);
  // Both on a long fat path: their windows grow to the most.
  for (TransferMemory* m : {&a, &c}) {
    m->tune_window(1, 0, 1'000'000);
    m->tune_window(1'000'001, 1ull << 30, 1'000'000);
    BOOST_TEST(m->window() == kMaxConnWindow);
  }
  a.join([] {});
  a.rebalance(kControlAllowance);
  uint64_t a_credit = kControlAllowance + a.credit_to_add(kControlAllowance);
  c.join([] {});
  c.rebalance(kControlAllowance);
  BOOST_TEST(a.reserved() + c.reserved() <= kListenerMemory);
  // Sixteen more, of 16 MiB chunks: the first has to wait.
  TransferMemory big(b, 16 * MiB, 8);
  bool granted = false;
  BOOST_TEST(!big.join([&] { granted = true; }));
  // a's writer consumes: with the line not empty it gives back down to
  // its fair share, as far as its credit allows.
  a.rebalance(a_credit);
  BOOST_TEST(!granted);
  a.rebalance(kControlAllowance); // its writer caught up
  c.rebalance(kControlAllowance);
  BOOST_TEST(granted);
  BOOST_TEST(a.reserved() + c.reserved() + big.reserved() <= kListenerMemory);
}

BOOST_AUTO_TEST_CASE(at_its_minimum_a_transfer_still_gets_a_chunk_of_credit) {
  // Held at its minimum (the budget taken by others), after the first chunk
  // was decoded and written its decompression buffer waits in the free list
  // for the next one: the credit must still let a whole chunk in, or the
  // transfer stalls. With history (chunks compressed against the bytes
  // before them) the minimum holds its 8 MiB too.
  for (bool history : {false, true}) {
    BOOST_TEST_CONTEXT("history " << history) {
      MemoryBudget b(kListenerMemory);
      TransferMemory m(b, kChunk, 2, history);
      BOOST_TEST(m.minimum() == 2 * kBlockSize + kChunk + (history ? qpipe::wire::kHistory : 0) +
                                    chunk_wire(kChunk) + kControlAllowance);
      BOOST_TEST(m.join([] {}));
      BOOST_TEST(m.reserved() == m.minimum());
      m.give_raw(m.take_raw()); // the first chunk, written
      BOOST_TEST(m.credit_to_add(kControlAllowance) >= chunk_wire(kChunk));
      BOOST_TEST(m.take_block(chunk_wire(kChunk), false));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_history_is_held_beside_blocks_and_buffers) {
  // The 8 MiB of history are part of what the reservation covers: blocks
  // fit only beside them.
  MemoryBudget b(kListenerMemory);
  TransferMemory m(b, kChunk, 2, true);
  m.join([] {});
  uint64_t room = m.reserved() - qpipe::wire::kHistory - kChunk; // the awaited chunk's buffer
  BOOST_TEST(!m.take_block(room + 1, false));
  BOOST_TEST(m.take_block(room, false));
  m.give_block(room);
}

BOOST_AUTO_TEST_CASE(blocks_and_decompression_stay_within_the_reservation) {
  MemoryBudget b(kListenerMemory);
  TransferMemory m(b, kChunk, 2);
  m.join([] {});
  uint64_t credit = kControlAllowance + m.credit_to_add(kControlAllowance); // alone, not grown
  BOOST_TEST(credit == chunk_wire(kChunk) + kControlAllowance);
  // A well-behaved sender: its credit and two partial blocks fit.
  uint64_t taken = 0;
  while (taken + kBlockSize <= credit + 2 * kBlockSize && m.take_block(kBlockSize, false))
    taken += kBlockSize;
  BOOST_TEST(taken >= credit);
  // Beyond the reservation: refused, so the receiver ends the transfer.
  BOOST_TEST(!m.take_block(m.reserved(), false));
  for (; taken > 0; taken -= kBlockSize)
    m.give_block(kBlockSize);
  // zstd: the awaited chunk always gets its buffer; chunks ahead only with room.
  m.saw_zstd();
  auto awaited = m.take_raw();
  BOOST_TEST(!m.may_decompress_ahead(credit, true)); // the minimum has no room ahead
  m.give_raw(std::move(awaited));
  BOOST_TEST(m.allocated() == kChunk); // kept for the next awaited chunk
}

BOOST_AUTO_TEST_CASE(a_transfer_reuses_its_blocks_within_its_reservation) {
  // A transfer that holds the whole budget: a block it gives back is kept
  // for its next one (the budget's pool has no room for it), so arriving
  // data lands in memory already touched.
  MemoryBudget b(2 * MiB + 8 * kBlockSize + 2 * kChunk);
  TransferMemory m(b, kChunk, 8);
  BOOST_TEST(m.join([] {}));
  m.rebalance(kControlAllowance);
  BOOST_TEST(b.used() == b.total());
  auto take = [&](uint64_t n, bool awaited_has_raw = true) {
    return m.take_block(n, awaited_has_raw) ? m.block(n) : nullptr;
  };
  auto first = take(kBlockSize);
  uint8_t* where = first.get();
  m.recycle(std::move(first), kBlockSize);
  BOOST_TEST(m.cached() == kBlockSize);
  auto again = take(kBlockSize);
  BOOST_TEST(again.get() == where);
  BOOST_TEST(m.cached() == 0u);
  m.recycle(std::move(again), kBlockSize);

  // What it holds, kept blocks included, never exceeds its reservation.
  std::vector<Block> held;
  while (auto blk = take(kBlockSize)) {
    held.push_back(std::move(blk));
    BOOST_REQUIRE(m.allocated() <= m.reserved());
  }
  BOOST_TEST(m.cached() == 0u);
  BOOST_TEST(m.allocated() + kBlockSize > m.reserved());
  for (auto& blk : held)
    m.recycle(std::move(blk), kBlockSize);
  BOOST_TEST(m.allocated() <= m.reserved());
  BOOST_TEST(m.cached() == held.size() * kBlockSize); // all of them fit
  held.clear();
  // Kept blocks make room for a decompression buffer, a partial block ...
  m.saw_zstd();
  uint64_t before = m.cached();
  BOOST_REQUIRE(m.allocated() + kChunk > m.reserved()); // the cache is full
  auto raw = m.take_raw();
  BOOST_TEST(m.allocated() <= m.reserved());
  BOOST_TEST(m.cached() < before);
  m.give_raw(std::move(raw)); // kept as the awaited chunk's buffer
  while (auto blk = take(kBlockSize))
    held.push_back(std::move(blk));
  for (auto& blk : held)
    m.recycle(std::move(blk), kBlockSize);
  BOOST_REQUIRE(m.allocated() + kBlockSize > m.reserved()); // full again
  auto partial = take(1000, false);
  BOOST_TEST(partial != nullptr);
  BOOST_TEST(m.allocated() <= m.reserved());
  m.recycle(std::move(partial), 1000);
  // ... and for a smaller reservation, when another transfer waits.
  MemoryBudget::Ticket t;
  bool waiting_granted = false;
  BOOST_TEST(!b.join(
      kChunk, [&] { waiting_granted = true; }, &t));
  uint64_t cached = m.cached();
  m.rebalance(kControlAllowance);
  BOOST_TEST(waiting_granted);
  BOOST_TEST(m.cached() < cached);
  BOOST_TEST(m.allocated() <= m.reserved());
  BOOST_TEST(b.used() <= b.total());
  b.leave(t, kChunk);
}

BOOST_AUTO_TEST_CASE(kept_blocks_go_to_the_pool_when_a_transfer_ends_and_none_stay_idle) {
  MemoryBudget b(kListenerMemory);
  MemoryBudget::Ticket other;
  BOOST_TEST(b.join(
      kChunk, [] {}, &other));
  {
    TransferMemory m(b, kChunk, 8);
    BOOST_TEST(m.join([] {}));
    for (int i = 0; i < 4; ++i)
      BOOST_REQUIRE(m.take_block(kBlockSize, false));
    std::vector<Block> blocks;
    for (int i = 0; i < 4; ++i)
      blocks.push_back(m.block(kBlockSize));
    for (auto& blk : blocks)
      m.recycle(std::move(blk), kBlockSize);
    BOOST_TEST(m.cached() == 4 * kBlockSize);
  }
  // Another transfer is still there: the pool keeps them for it.
  BOOST_TEST(b.used() == kChunk + 4 * kBlockSize);
  BOOST_TEST(b.get_block() != nullptr);
  BOOST_TEST(b.used() == kChunk + 3 * kBlockSize);
  // The last one leaves: an idle listener holds no blocks.
  b.leave(other, kChunk);
  BOOST_TEST(b.used() == 0u);
  b.put_block(heap_block(kBlockSize));
  BOOST_TEST(b.used() == 0u);
}

BOOST_AUTO_TEST_CASE(credit_leaves_room_for_the_buffers_decompressed_ahead) {
  // Chunks that compress well hold little credit, so many may be
  // decompressed ahead; the credit granted afterwards must still let the
  // blocks it admits fit, or a well-behaved sender would be cut.
  MemoryBudget b(kListenerMemory);
  TransferMemory m(b, kChunk, 8);
  m.join([] {});
  m.saw_zstd();
  m.rebalance(kControlAllowance);
  uint64_t outstanding = kControlAllowance;
  std::vector<std::unique_ptr<uint8_t[]>> ahead;
  ahead.push_back(m.take_raw()); // the awaited chunk's
  while (m.may_decompress_ahead(outstanding, true))
    ahead.push_back(m.take_raw());
  BOOST_TEST(ahead.size() > 16u); // beyond the 15 MiB of ahead_room: data compressed well
  outstanding += m.credit_to_add(outstanding);
  // Everything the credit lets in, in full blocks and one partial per stream.
  uint64_t blocks = outstanding + 8 * kBlockSize;
  BOOST_TEST(m.take_block(blocks, true), "the credit granted lets in blocks that do not fit");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(the_first_window_holds_twice_the_chunks_in_flight) {
  BOOST_TEST(TransferMemory::initial_window(chunk_wire(64 * 1024), 8) == kInitialConnWindow);
  BOOST_TEST(TransferMemory::initial_window(chunk_wire(kChunk), 8) == 18 * chunk_wire(kChunk));
}

BOOST_AUTO_TEST_CASE(a_window_that_holds_the_sender_back_doubles_each_round_trip) {
  constexpr uint64_t ms = 1'000'000, rtt = 200 * ms;
  CreditWindow w(8ull << 20, 48ull << 20);
  BOOST_TEST(!w.on_consumed(1 * ms, 0, 0));              // no RTT yet: nothing to measure
  BOOST_TEST(!w.on_consumed(1 * ms, 0, rtt));            // the first round trip begins
  BOOST_TEST(!w.on_consumed(100 * ms, 8ull << 20, rtt)); // not a round trip yet
  // A whole window consumed in a round trip: the window was the limit.
  BOOST_TEST(w.on_consumed(201 * ms, 8ull << 20, rtt));
  BOOST_TEST(w.size() == 16ull << 20);
  BOOST_TEST(w.on_consumed(401 * ms, 24ull << 20, rtt));
  BOOST_TEST(w.size() == 32ull << 20);
  BOOST_TEST(w.on_consumed(601 * ms, 56ull << 20, rtt));
  BOOST_TEST(w.size() == 48ull << 20); // at most the cap
  BOOST_TEST(!w.on_consumed(801 * ms, 104ull << 20, rtt));
}

BOOST_AUTO_TEST_CASE(a_window_settles_at_twice_what_the_path_carries_and_never_shrinks) {
  constexpr uint64_t ms = 1'000'000, rtt = 50 * ms;
  CreditWindow w(8ull << 20, 48ull << 20);
  w.on_consumed(0 + 1, 0, rtt);
  // 100 Mbit/s across 50 ms: 625 kB a round trip, far inside 8 MiB.
  uint64_t consumed = 0;
  for (uint64_t t = 1; t <= 20; ++t) {
    consumed += 625'000;
    BOOST_TEST(!w.on_consumed(t * rtt + 1, consumed, rtt));
  }
  BOOST_TEST(w.size() == 8ull << 20);
  // 1 Gbit/s: 6.25 MB a round trip; over two round trips, counted per one.
  consumed += 12'500'000;
  BOOST_TEST(w.on_consumed(22 * rtt + 1, consumed, rtt));
  BOOST_TEST(w.size() >= 12'500'000u);
  BOOST_TEST(w.size() < 12'500'000u + kBlockSize);
  uint64_t settled = w.size();
  // A slow writer: less per round trip, the window stays.
  consumed += 1000;
  BOOST_TEST(!w.on_consumed(23 * rtt + 1, consumed, rtt));
  BOOST_TEST(w.size() == settled);
}

BOOST_AUTO_TEST_CASE(a_grown_window_raises_the_target_and_the_stream_credit) {
  MemoryBudget b(kListenerMemory);
  TransferMemory m(b, kChunk, 8);
  m.join([] {});
  uint64_t before = m.target(), initial = m.window();
  uint32_t streams = m.stream_credit(256);
  constexpr uint64_t ms = 1'000'000;
  m.tune_window(1, 0, 10 * ms);
  // Little consumed, but half the window waits behind a missing chunk.
  m.held_behind_missing(initial / 2);
  BOOST_TEST(m.tune_window(10 * ms + 1, 1 * MiB, 10 * ms));
  BOOST_TEST(m.window() >= 2 * initial); // in whole blocks
  BOOST_TEST(m.window() < 2 * initial + kBlockSize);
  BOOST_TEST(m.target() == before + m.window() - initial);
  BOOST_TEST(m.stream_credit(256) > streams);
  m.rebalance(kControlAllowance);
  BOOST_TEST(m.reserved() == m.target()); // alone, it fits in the budget
  BOOST_TEST(m.credit_to_add(kControlAllowance) == m.window() - kControlAllowance);
  // Little waiting, little consumed: it stays.
  m.held_behind_missing(m.window() / 4);
  BOOST_TEST(!m.tune_window(20 * ms + 2, 2 * MiB, 10 * ms));
}
