// The token of `qpipe api` when the user gives none (SPEC §6).
//
// Like a notebook server, the service does not run without a token: when
// neither --token-file nor QPIPE_API_TOKEN names one, it takes the one in
// $XDG_RUNTIME_DIR/qpipe/api-token, creating it (32 random bytes as hex,
// mode 0600, in a 0700 directory) when it is not there. The runtime
// directory is the user's own and is emptied at logout; the same token
// serves every `qpipe api` of the session, so scripts can read it from the
// file. Without XDG_RUNTIME_DIR the file is $XDG_DATA_HOME/qpipe/api-token.
#pragma once

#include <string>

#include "core/error.h"

namespace qpipe::api {

// Where the generated token lives.
std::string default_token_file();

// A fresh token: 32 bytes from the kernel's random source, as 64 hex digits.
Result<std::string> new_token();

// The token in `file` when it exists (it must be private, as a secret file);
// otherwise a new one, written there first. `created` says which.
Result<std::string> load_or_create_token(const std::string& file, bool* created = nullptr);

} // namespace qpipe::api
