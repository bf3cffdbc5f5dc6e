// The config file of the CLI, $XDG_CONFIG_HOME/qpipe/config, in
// ssh_config's spirit: host aliases and per-host defaults for sends.
//
//   # comment
//   Host backup                  one or more patterns: * and ? as in ssh,
//     Address 10.0.0.5           !pattern excludes; names are compared
//     Port 5000                  without regard to case
//     Pin SHA256:...
//   Host *.lan
//     Zstd 3
//
// A line is a keyword and its value, separated by blanks or one `=`; a value
// may be put in double quotes. Keywords are case-insensitive. Settings before
// the first Host line apply to every host. For each setting, the first value
// met among the blocks that match wins (ssh's rule: specific blocks first,
// `Host *` last); Pin, CA and Insecure are one setting, how the listener is
// verified. An unknown keyword, a missing value or a Host line without
// patterns is an error naming the file and line.
//
// This module only reads and parses the file: what each keyword means is
// the option it stands for, applied by cli/host_config.h.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace qpipe::cli {

enum class ConfigKey {
  address,
  port,
  address_family,
  bind,
  pin,
  ca,
  insecure,
  secret_file,
  streams,
  zstd,
  chunk_size,
  limit,
  cc,
  idle_timeout,
  resume,
};

struct ConfigKeyword {
  ConfigKey key;
  ConfigKey slot;     // the setting it sets: its own key, or ConfigKey::pin for CA and Insecure
  const char* name;   // canonical spelling, as --print-config and the man page write it
  const char* value;  // what it takes, for the man page: "N", "yes|no"
  const char* option; // the command-line option it stands for; nullptr when none
  const char* help;   // one sentence for the man page
};

// Every keyword, in the order of the man page and of --print-config.
std::span<const ConfigKeyword> config_keywords();

struct ConfigSetting {
  const ConfigKeyword* keyword;
  std::string value; // quotes removed
  int line;          // 1-based, for messages
};

// ssh's pattern rule: `*` matches any run of characters (also none), `?` one
// character; case-insensitive, and the whole name must match.
bool host_pattern_match(std::string_view pattern, std::string_view host);

class ConfigFile {
public:
  // Parses the text of a config file. `path` names it in messages, which
  // read "PATH:LINE: ..."; every error is Errc::usage.
  static Result<ConfigFile> parse(std::string_view text, const std::string& path);

  // Reads and parses the file at path. Like ssh, it refuses a file that its
  // group or others can write, or that belongs to another user than the
  // caller or root: whoever can change it decides where data goes. Every
  // error, a missing file included, is Errc::usage (a local configuration
  // error).
  static Result<ConfigFile> load(const std::string& path);

  // The settings that apply to host (the name as the user typed it), each
  // slot at most once, in the order of the file.
  std::vector<ConfigSetting> settings_for(std::string_view host) const;

  // Every setting of the file, whichever hosts it is for, in file order.
  std::vector<ConfigSetting> all_settings() const;

  const std::string& path() const { return path_; }
  // "PATH:LINE", how messages name a line.
  std::string where(int line) const;

private:
  struct Block {
    std::vector<std::string> patterns; // empty: before the first Host line
    std::vector<ConfigSetting> settings;
  };
  bool matches(const Block& block, std::string_view host) const;

  std::string path_;
  std::vector<Block> blocks_;
};

} // namespace qpipe::cli
