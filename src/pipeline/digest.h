// End-to-end integrity: the hash of each chunk and the digest of the stream.
//
// A chunk's hash is XXH3-128 of its raw (decoded) bytes, computed once on the
// thread pool on either side. The stream digest is XXH3-128 over the sequence
// of (chunk hash || raw length as 8 big-endian bytes) in sequence order, so
// it covers every byte, the order and the count, and each side computes it
// from hashes it has already made.
#pragma once

#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <utility>
#include <xxhash.h>

#include "pipeline/wire.h"

namespace qpipe {

wire::Digest hash_bytes(std::span<const uint8_t> data);
wire::Digest hash_iovecs(std::span<const iovec> parts);

// XXH3-128 of bytes given piece by piece: the digest hash_bytes gives for
// all of them at once.
class PieceHash {
public:
  PieceHash();
  ~PieceHash();
  PieceHash(const PieceHash&) = delete;
  PieceHash& operator=(const PieceHash&) = delete;
  PieceHash(PieceHash&& o) noexcept : state_(o.state_) { o.state_ = nullptr; }
  PieceHash& operator=(PieceHash&& o) noexcept {
    std::swap(state_, o.state_);
    return *this;
  }
  void update(std::span<const uint8_t> piece);
  wire::Digest digest() const;

private:
  XXH3_state_t* state_;
};

class Digester {
public:
  void add_chunk(const wire::Digest& chunk_hash, uint64_t raw_len);
  wire::Digest digest() const { return records_.digest(); }

private:
  PieceHash records_;
};

} // namespace qpipe
