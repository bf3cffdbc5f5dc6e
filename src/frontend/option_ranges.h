// The ranges of the options that the command line and `qpipe api` take,
// one function per option, so that `qpipe --streams 0` and
// `POST /v1/sends {"streams": 0}` refuse it in the same words.
//
// Each takes the value as both front ends have it (a number, which the CLI
// parses from text and the api reads from JSON, or the text of a SIZE) and
// `what`, the name the message leads with:
// the option as the user spelled it ("-P", "--streams") or the api's field
// name. It returns the value in the engine's type, or a usage error whose
// `why` is the shared wording ("0 is out of range (1 to 256)"); the api
// words the field around it (`field "streams": ...`).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "pipeline/level_control.h"

namespace qpipe::frontend {

// Chunk streams of a sender (--streams) or accepted by a listener
// (--max-streams): 1 to app::kMaxStreams.
Result<int> check_streams(int64_t n, std::string_view what);
// Bytes of a chunk, a SIZE as both front ends take it ("1M"):
// app::kMinChunkSize (64K) to app::kMaxChunkSize (16M).
Result<uint32_t> parse_chunk_size(std::string_view text, std::string_view what);
// A zstd level that this zstd accepts.
Result<int> check_zstd_level(int64_t level, std::string_view what);
// --zstd's value: a level, "auto" (codec::kAutoLevels) or "auto:MIN:MAX",
// each level one that check_zstd_level accepts and MIN no more than MAX.
Result<codec::LevelRange> parse_zstd(std::string_view text, std::string_view what);
// Seconds of silence before a connection is given up: 1 s to 24 h. The
// result is in milliseconds, as the engine takes it.
Result<uint64_t> check_idle_timeout(int64_t seconds, std::string_view what);
// Handshakes and transfers a listener serves at once: 1 to 10000.
Result<int> check_max_connections(int64_t n, std::string_view what);

} // namespace qpipe::frontend
