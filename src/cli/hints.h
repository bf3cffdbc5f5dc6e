// Mistakes answered with the fix. A command line that would do something
// else than its writer meant, because of a habit from another tool (nc's
// `HOST PORT`), a typo (`qpipe gne 1G`, `--stream`) or an optional value
// written apart (`-z 19`), gets a usage error that says what to type.
//
// Each check needs positive evidence that a mistake was made (a FILE that
// does not exist, a word that only makes sense as the option's value), so
// that a command line that means what it says is never refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "core/error.h"

namespace qpipe::cli {

// " (did you mean --streams?)" for the unknown long option `name` (without
// its dashes), preferring the options of `mode`; "" when none is near.
std::string unknown_option_hint(std::string_view name, Mode mode);

// An option whose value is optional (-z, --stats) followed by a separate
// word that reads as its value (`-z 19`, `--stats json`) and is not an
// existing file: the error that says to attach it (`--zstd=19`). `spelled`
// is the option as typed.
std::optional<Error> detached_value(const OptionSpec& spec, const std::string& spelled,
                                    const std::string& next);

// Positionals of a send or a listen that show another tool's habit or a
// typo: nc's `HOST PORT` (`did you mean HOST:PORT?`) and a mistyped mode
// (`qpipe gne 1G`: did you mean `qpipe gen 1G`?).
std::optional<Error> mistaken_positionals(Mode mode, const std::vector<std::string>& positionals);

} // namespace qpipe::cli
