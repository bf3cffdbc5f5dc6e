#include <boost/test/unit_test.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "core/block_arena.h"

using qpipe::Block;
using qpipe::BlockArena;
using qpipe::heap_block;

namespace {
constexpr size_t kBlock = 64 * 1024;
constexpr size_t kPerRegion = BlockArena::kRegion / kBlock;

uintptr_t region_of(const Block& b) {
  return reinterpret_cast<uintptr_t>(b.get()) & ~(uintptr_t{BlockArena::kRegion} - 1);
}
} // namespace

BOOST_AUTO_TEST_SUITE(block_arena)

BOOST_AUTO_TEST_CASE(blocks_are_distinct_writable_and_from_aligned_regions) {
  auto arena = BlockArena::create(kBlock);
  std::vector<Block> blocks;
  std::set<uintptr_t> regions;
  for (size_t i = 0; i < kPerRegion + 1; ++i) {
    blocks.push_back(arena->get());
    std::memset(blocks.back().get(), static_cast<int>(i), kBlock);
    regions.insert(region_of(blocks.back()));
  }
  BOOST_TEST(arena->regions() == 2u);
  BOOST_TEST(regions.size() == 2u);
  for (size_t i = 0; i < blocks.size(); ++i) {
    BOOST_TEST(blocks[i][0] == static_cast<uint8_t>(i));
    BOOST_TEST(blocks[i][kBlock - 1] == static_cast<uint8_t>(i));
  }
  std::set<uint8_t*> distinct;
  for (const auto& b : blocks)
    distinct.insert(b.get());
  BOOST_TEST(distinct.size() == blocks.size());
}

BOOST_AUTO_TEST_CASE(a_freed_block_is_handed_out_again) {
  auto arena = BlockArena::create(kBlock);
  Block a = arena->get();
  uint8_t* where = a.get();
  a.reset();
  Block b = arena->get();
  BOOST_TEST(b.get() == where);
  BOOST_TEST(arena->regions() == 1u);
}

BOOST_AUTO_TEST_CASE(a_block_keeps_its_arena_alive) {
  auto arena = BlockArena::create(kBlock);
  std::weak_ptr<BlockArena> watch = arena;
  {
    Block b = arena->get();
    arena.reset();
    BOOST_TEST(!watch.expired());
    b[0] = 1; // still mapped
  }
  BOOST_TEST(watch.expired()); // the last block took it down, regions unmapped
}

BOOST_AUTO_TEST_CASE(an_idle_arena_unmaps_its_regions_as_their_blocks_come_back) {
  auto arena = BlockArena::create(kBlock);
  std::vector<Block> first, second;
  for (size_t i = 0; i < kPerRegion; ++i)
    first.push_back(arena->get());
  second.push_back(arena->get());
  BOOST_REQUIRE(arena->regions() == 2u);
  first.clear(); // a whole region back, while in use: kept
  BOOST_TEST(arena->regions() == 2u);
  arena->release_idle();
  BOOST_TEST(arena->regions() == 1u); // the free one went, the other is in use
  second.clear();
  BOOST_TEST(arena->regions() == 0u); // went with its last block
  // Used again: regions come back, and stay while blocks come and go.
  Block again = arena->get();
  again.reset();
  BOOST_TEST(arena->regions() == 1u);
}

BOOST_AUTO_TEST_CASE(blocks_that_do_not_divide_a_region_come_from_the_heap) {
  auto arena = BlockArena::create(3000);
  Block b = arena->get();
  BOOST_REQUIRE(b);
  BOOST_TEST(!b.get_deleter().arena);
  b[2999] = 1;
  BOOST_TEST(arena->regions() == 0u);
}

BOOST_AUTO_TEST_CASE(a_block_of_whole_huge_pages_is_a_region_of_its_own) {
  auto arena = BlockArena::create(2 * BlockArena::kRegion);
  Block a = arena->get(), b = arena->get();
  BOOST_TEST(a.get_deleter().arena);
  BOOST_TEST(region_of(a) == reinterpret_cast<uintptr_t>(a.get()));
  a[2 * BlockArena::kRegion - 1] = 1;
  BOOST_TEST(arena->regions() == 2u);
  a.reset();
  b.reset();
  arena->release_idle();
  BOOST_TEST(arena->regions() == 0u);
  // Sizes between huge pages, and beside them, from the heap.
  BOOST_TEST(!BlockArena::create(3 * BlockArena::kRegion / 2)->get().get_deleter().arena);
}

BOOST_AUTO_TEST_CASE(a_heap_block_frees_itself) {
  Block b = heap_block(1000);
  b[999] = 7;
  b.reset(); // delete[]: the sanitizer build checks it, as it checks the leaks
}

#if defined(__SANITIZE_ADDRESS__)
BOOST_AUTO_TEST_CASE(a_block_back_in_its_arena_is_poisoned) {
  auto arena = BlockArena::create(kBlock);
  Block b = arena->get();
  uint8_t* where = b.get();
  BOOST_TEST(!__asan_region_is_poisoned(where, kBlock));
  b.reset();
  BOOST_TEST(__asan_address_is_poisoned(where));
  BOOST_TEST(__asan_address_is_poisoned(where + kBlock - 1));
  Block again = arena->get();
  BOOST_REQUIRE(again.get() == where);
  BOOST_TEST(!__asan_region_is_poisoned(where, kBlock));
}
#endif

BOOST_AUTO_TEST_CASE(blocks_may_come_back_from_other_threads) {
  auto arena = BlockArena::create(kBlock);
  std::vector<Block> a, b;
  for (size_t i = 0; i < 3 * kPerRegion; ++i)
    (i % 2 ? a : b).push_back(arena->get());
  std::thread t([&] { a.clear(); });
  b.clear();
  t.join();
  std::set<uint8_t*> seen;
  std::vector<Block> all;
  for (size_t i = 0; i < 3 * kPerRegion; ++i) {
    all.push_back(arena->get());
    seen.insert(all.back().get());
  }
  BOOST_TEST(seen.size() == 3 * kPerRegion);
  BOOST_TEST(arena->regions() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
