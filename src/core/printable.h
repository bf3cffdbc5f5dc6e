// Text that a peer controls (a CONNECTION_CLOSE reason, a file name), made
// safe to print on a terminal.
//
// A peer must not be able to move the cursor, clear the screen, set the
// window title or make a line read backwards on the user's terminal. So
// control characters (C0, DEL and C1, raw or UTF-8 encoded), the Unicode
// characters that reorder text (bidirectional overrides, embeddings and
// isolates) and bytes that are not valid UTF-8 are shown as escapes: `\x1b`
// for a byte, `\u202e` for a character. Everything else, backslashes
// included, is kept as it is, so the function is idempotent: text that went
// through it once comes back unchanged. Pure; fuzzed through the file-name
// target.
#pragma once

#include <string>
#include <string_view>

namespace qpipe {

std::string printable(std::string_view text);

} // namespace qpipe
