// A chunk on the sending side, and the memory behind all of them.
//
// A chunk is read into a raw buffer, hashed (and, with -z, compressed into a
// frame) on the thread pool, then sent on its own stream: header, then the
// payload (the frame when it was smaller, else the raw bytes). Its buffers go
// back to the pools when the listener has acknowledged the whole stream.
//
// ChunkMemory bounds what is held at once: max_held() bytes of raw buffers
// and frames together, about one chunk per stream in flight and one more
// (twice that with -z), at least two chunks and at most 64 MiB (less what
// the sender holds beside them: -z's history).
//
// Chunks in flight: at least --streams (P), and on a long fat path as many
// as the congestion window needs (chunks_in_flight), up to what the sender
// announces in HELLO (streams_announced): 40 MiB of chunks (1.7 times the
// 25 MB of 1 Gbit/s × 200 ms, inside the listener's largest credit window
// of 48 MiB, and the sender's 64 MiB with QUIC's own state), and at most 40
// streams.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/buffer_pool.h"
#include "pipeline/wire.h"

namespace qpipe::app {

struct SendChunk {
  uint64_t seq = 0;
  uint32_t file = 0; // the item it belongs to
  Block data;        // the raw bytes, until no longer needed (raw_unused)
  size_t capacity = 0;
  uint32_t len = 0;
  Block packed; // the zstd frame, when compression was tried
  size_t packed_capacity = 0;
  int level = 0; // the zstd level it was compressed at
  // With -z, a chunk is compressed against the bytes of its item before it,
  // which SendPipeline keeps in a ring (wire::Codec::zstd_prefixed).
  uint64_t at = 0;              // where its bytes begin in that ring
  uint32_t prefix_len = 0;      // how many bytes before it its frame was compressed against
  bool outside_history = false; // not copied into the ring: never part of a prefix
  // Its own raw bytes are no longer needed (sent compressed, or acknowledged).
  bool raw_done = false;
  bool probed =
      false; // tried on a sample first (the first chunks; input that did not compress lately)
  uint64_t work_ns = 0; // how long its worker took to hash and compress it
  wire::Codec codec = wire::Codec::raw;
  uint32_t wire_len = 0;
  bool hashed = false;
  wire::Digest hash{};
  std::array<uint8_t, wire::ChunkHeader::kSize> header{};

  // Sending, on the loop thread.
  int64_t stream_id = -1;
  size_t sent = 0; // header and payload bytes handed to QUIC
  bool fin_sent = false;
  bool blocked = false;
  bool acked = false; // the listener acknowledged the whole stream

  const uint8_t* payload() const { return wire::compressed(codec) ? packed.get() : data.get(); }
};

inline constexpr uint64_t kInFlightMost = 40ull << 20;
inline constexpr int kStreamsMost = 40;

// The streams a sender announces: P, or more for the chunks a long fat path
// needs in flight.
int streams_announced(uint32_t chunk_size, int streams);
// The chunks to keep in flight with congestion window `cwnd`: one and a half
// windows' worth (streams waiting for a repeated packet hold their chunk),
// and one more being filled, between P and what was announced.
int chunks_in_flight(uint64_t cwnd, uint32_t chunk_size, int streams, int announced);

class ChunkMemory {
public:
  // `beside`: bytes the sender holds besides chunks, taken from the 64 MiB.
  ChunkMemory(uint32_t chunk_size, int streams, bool compress, uint64_t beside = 0);
  // More chunks in flight (never fewer than at first): room for them and
  // one more, within 64 MiB (less `beside`).
  void set_in_flight(int chunks);
  // Whether one more chunk (and its frame) fits.
  bool has_room() const { return held_ + per_chunk_ <= max_held_; }
  bool compresses() const { return packed_pool_.has_value(); }
  uint64_t max_held() const { return max_held_; }

  void take_raw(SendChunk& c);
  // A short read: keep only the first n bytes, in a buffer of their size.
  void shrink_raw(SendChunk& c, size_t n);
  void take_packed(SendChunk& c);
  void release_raw(SendChunk& c);
  void release_packed(SendChunk& c);

private:
  BufferPool pool_;                       // raw chunk buffers
  std::optional<BufferPool> packed_pool_; // zstd frames, with -z
  uint64_t most_ = 0;                     // 64 MiB less what is held beside
  uint64_t max_held_ = 0, first_max_held_ = 0, held_ = 0, per_chunk_ = 0;
};

} // namespace qpipe::app
