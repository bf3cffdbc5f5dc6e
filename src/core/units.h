// Sizes, rates and durations as users type them and as qpipe prints them.
//
// SIZE: a whole number with an optional suffix. K M G T and KiB MiB GiB TiB
// are powers of 1024, KB MB GB TB powers of 1000, B or nothing is bytes
// (`10G` is 10 GiB, as `head -c` reads it). Suffixes are case-insensitive
// except that a lone `b` is not accepted as bits. RATE is a SIZE per second,
// with an optional `/s`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace qpipe {

// `what` names the input in the error message, e.g. "--chunk-size".
Result<uint64_t> parse_size(std::string_view text, std::string_view what);
Result<uint64_t> parse_rate(std::string_view text, std::string_view what);
// A plain decimal integer in [lo, hi].
Result<int64_t> parse_int(std::string_view text, std::string_view what, int64_t lo, int64_t hi);
// n itself when it is in [lo, hi]; otherwise the usage error of a number out
// of range ("--streams: 0 is out of range (1 to 256)"), worded once for
// parse_int and for the option checks of both front ends.
Result<int64_t> check_range(int64_t n, std::string_view what, int64_t lo, int64_t hi);

// "1.50 GiB", "15.0 MiB", "150 KiB", "512 B": binary units with three
// significant digits and at most three digits before the point (999 B, then
// "0.98 KiB"); the one rule for every size qpipe prints.
std::string format_bytes(uint64_t bytes);
// "93.1 MiB/s".
std::string format_rate(double bytes_per_second);
// "1:02:03" or "12.3s".
std::string format_duration(double seconds);
// "1 packet", "2 packets", "0 files": n and the word in the number n asks
// for; `plural` when adding "s" is wrong.
std::string count_of(uint64_t n, std::string_view singular, std::string_view plural = {});

} // namespace qpipe
