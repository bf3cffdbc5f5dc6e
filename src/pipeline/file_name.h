// The names a listener accepts for files it writes into -o DIR: one plain
// path component, whatever the sender claims. No '/', no NUL, not "." or
// "..", no leading dot (a file that would hide), no control characters, at
// most 255 bytes. Pure; fuzzed.
#pragma once

#include <string_view>

#include "core/error.h"

namespace qpipe {

Status validate_file_name(std::string_view name);

} // namespace qpipe
