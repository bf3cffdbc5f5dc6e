// The deterministic data generator behind `qpipe gen`.
//
// A Generator is a pure function from (kind, seed, offset) to bytes: the same
// parameters give the same stream on every machine and in every version of
// qpipe, so that one side of a transfer can generate data and the other side
// can check it without either storing it. Any range of the stream can be
// produced directly, without producing what comes before it. The algorithm is
// a contract, described byte for byte in man/gen-algorithm.txt; the digests in
// tests/unit/gen_test.cc pin it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.h"

namespace qpipe::gen {

enum class Kind { random, zero, text, mixed };

// Parses a kind name as typed after --kind; the error names the valid kinds.
Result<Kind> parse_kind(std::string_view s);
const char* kind_name(Kind k);
// Whether the kind may contain bytes that upset a terminal: all but text.
bool kind_is_binary(Kind k);

class Generator {
public:
  Generator(Kind kind, uint64_t seed) : kind_(kind), seed_(seed) {}

  Kind kind() const { return kind_; }
  uint64_t seed() const { return seed_; }

  // Writes the bytes at [offset, offset + out.size()) of the stream into out.
  // Random access and const, so safe to call from several threads at once:
  // any offset, any length.
  void fill(uint64_t offset, std::span<uint8_t> out) const;

private:
  Kind kind_;
  uint64_t seed_;
};

} // namespace qpipe::gen
