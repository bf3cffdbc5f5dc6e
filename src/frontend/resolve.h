// What a front end settles before it starts the engine, because the user
// only names it or leaves it out: the default places of the identity and of
// known_hosts (XDG base directories), and a secret given by file or by
// environment variable.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"

namespace qpipe::frontend {

// $XDG_DATA_HOME/qpipe: where a listener keeps its generated identity.
std::string default_identity_dir();
// $XDG_CONFIG_HOME/qpipe/known_hosts: the listeners a sender has trusted.
std::string default_known_hosts_file();
// $XDG_CONFIG_HOME/qpipe/config: the CLI's host aliases (cli/config_file.h).
std::string default_config_file();

// The secret in `file` when one is named (it must be private; see
// tls::read_secret_file), else the value of the environment variable
// `env_var` when it is set and not empty, else none. For --secret-file /
// QPIPE_SECRET and for --token-file / QPIPE_API_TOKEN.
Result<std::optional<std::string>> read_secret(const std::string& file, const char* env_var);

} // namespace qpipe::frontend
