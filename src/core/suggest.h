// "Did you mean ...?": the nearest of a few known words to a word the user
// mistyped. Pure string functions, no I/O; the CLI uses them for options,
// modes and values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qpipe {

// The number of single-character insertions, deletions, substitutions and
// swaps of two neighbours that turn a into b (optimal string alignment
// distance): "gne" is 1 from "gen", "stream" 1 from "streams".
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, when it is near enough to be what the
// user meant: at most 1 edit for words of up to 4 characters, 2 for longer
// ones; failing that, the only candidate that `word` begins (of at least 3
// characters). Nothing when no candidate is near, or two are equally near.
std::optional<std::string> closest(std::string_view word, std::span<const std::string> candidates);

} // namespace qpipe
