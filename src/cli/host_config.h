// What the config file (cli/config_file.h) says of a send's destination,
// applied to a Config before the command-line options, so that they win:
// defaults, then the config file, then the command line. Each keyword is
// applied as the option it stands for, with the same checks and messages
// (led by "FILE:LINE: Keyword"). And `--print-config`: the settings that
// apply, one per line, as `ssh -G` prints them.
#pragma once

#include <optional>
#include <string>

#include "cli/config_file.h"
#include "cli/parse.h"

namespace qpipe::cli {

// Reads the config file of a send to `host` (the HOST of HOST[:PORT] as the
// user typed it) and applies what it says of host to c: the one named by
// `config_option` (--config FILE; "none" reads none), else
// $XDG_CONFIG_HOME/qpipe/config when it exists. Every setting of the file
// is checked, also those of other hosts, so a mistake shows at once. Sets
// c.host_name, c.config_file, c.send.host (the Address, else host) and
// c.send.port (the Port, else the default). Errors are Errc::usage.
Status apply_host_config(Config& c, const std::optional<std::string>& config_option,
                         const std::string& host);

// Applies one setting of `file` to c. The value of SecretFile and CA may
// start with ~/ (the home directory); a relative one is taken relative to
// the config file's directory. SecretFile is skipped when QPIPE_SECRET is
// set: the environment wins over the file.
Status apply_setting(Config& c, const ConfigFile& file, const ConfigSetting& setting);

// The effective settings of a send, one "keyword value" line each, keywords
// in lower case as `ssh -G` writes them: every keyword of the config file
// (unset ones left out), then the known_hosts key and the config file.
std::string print_config_text(const Config& c);

} // namespace qpipe::cli
