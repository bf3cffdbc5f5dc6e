// The option table: one row per option, the single source of truth for
// parsing, `--help`, the man page and the shell completions.
//
// A test regenerates man/qpipe.1 and completions/* from this table and fails
// when the committed files have drifted (tests/e2e/docs_test.sh).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace qpipe::cli {

// The modes an option belongs to. An option given in a mode it does not
// belong to is a usage error, never silently ignored.
enum Mode : unsigned {
  kSend = 1u << 0,
  kListen = 1u << 1,
  kGen = 1u << 2,
  kApi = 1u << 3,
  kTransfer = kSend | kListen,
  kAll = kSend | kListen | kGen | kApi,
};

enum class Arg { none, required, optional };

enum class OptId {
  listen,
  zstd,
  streams,
  chunk_size,
  output,
  keep_listening,
  max_connections,
  max_streams,
  cert,
  key,
  pin,
  ca,
  insecure,
  secret_file,
  cc,
  limit,
  progress,
  no_progress,
  quiet,
  verbose,
  stats,
  stats_file,
  size,
  forget,
  resume,
  sync,
  no_clobber,
  keep_modes,
  ipv4,
  ipv6,
  bind,
  idle_timeout,
  seed,
  kind,
  check,
  force,
  port,
  token_file,
  root,
  allow_host,
  max_sends,
  max_listeners,
  max_records,
  record_ttl,
  print_fingerprint,
  config,
  print_config,
  help,
  version,
};

struct OptionSpec {
  OptId id;
  char short_name; // 0 when there is none
  const char* long_name;
  Arg arg;
  const char* arg_name; // "N", "SIZE"; nullptr when arg == none
  unsigned modes;
  const char* help;     // one line for --help
  const char* complete; // completion: "file", "dir", "host", or words separated by spaces; nullptr
  const char* man;      // longer text for the man page; nullptr to reuse help
};

std::span<const OptionSpec> option_table();

// One line of the synopsis: `qpipe -l` `[OPTIONS] [[HOST]:PORT]`, and what
// it does. --help and the man page's SYNOPSIS are both made from these.
struct SynopsisLine {
  const char* command; // "qpipe", "qpipe -l", "qpipe gen --check"
  const char* args;    // ALL-CAPS words are placeholders
  const char* what;
};
std::span<const SynopsisLine> synopsis_table();
const OptionSpec& option(OptId id);

const char* mode_name(Mode m);

} // namespace qpipe::cli
