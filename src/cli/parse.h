// Command-line parsing: argv -> Config, in two steps as ripgrep does it.
// First what the user typed is collected against the option table (unknown
// options, missing arguments, options of another mode are usage errors);
// then it is resolved into typed, validated settings. A send's settings
// start from what the config file says of its HOST (cli/host_config.h), so
// that the options typed win over it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/options.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/host_port.h"
#include "core/log.h"
#include "gen/gen_command.h"

namespace qpipe::cli {

enum class Progress { automatic, on, off };
enum class StatsFormat { none, text, json };

struct ApiOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8000;
  std::string token_file;
  std::string root = ".";
  std::vector<std::string> allowed_hosts; // --allow-host
  size_t max_sends = 16, max_listeners = 16;
  size_t max_records = 1000;
  uint64_t record_ttl_s = 3600;
};

struct Config {
  Mode mode = kSend;
  bool help = false;
  bool version = false;
  Verbosity verbosity = Verbosity::normal;
  Progress progress = Progress::automatic;
  StatsFormat stats = StatsFormat::none;
  std::string stats_file; // --stats-file: the summary goes there instead of stderr
  app::SendOptions send;
  app::ListenOptions listen;
  gen::GenOptions gen;
  ApiOptions api;
  std::vector<std::string> files; // FILE... of a send; "-" is stdin
  std::string secret_file;        // --secret-file (read when the transfer starts)
  bool print_fingerprint = false;
  std::optional<uint64_t> input_size; // -s: the size of piped stdin, a hint for progress
  bool output_stdout = false;         // -o -: stdout, even when it is a terminal
  // --forget HOST[:PORT]: port 0 forgets every port of the host.
  std::optional<HostPort> forget;
  // The config file (cli/host_config.h): the one a send read (empty: none),
  // the HOST as the user typed it, and --print-config.
  std::string config_file;
  std::string host_name;
  bool print_config = false;
};

Result<Config> parse_command_line(int argc, const char* const* argv);

// Applies one option to c as if the user had typed it, with the checks and
// messages of the command line; `spelled` leads the message. For the
// settings of the config file (cli/host_config.h), which stand for options.
Status apply_option(Config& c, OptId id, const std::optional<std::string>& value,
                    const std::string& spelled);

// The hook point of the test build: qpipe-test-hooks (src/main.cc with
// tests/tools/test_hooks.cc) sets a source before main() runs, and
// parse_command_line gives every send the hooks it returns. Nothing in the
// shipped qpipe sets one, so its sends carry no hooks.
using SendTestHooksSource = app::SendTestHooksPtr (*)();
void set_send_test_hooks_source(SendTestHooksSource source);

std::string usage_text();         // the synopsis lines
std::string help_text(Mode mode); // full --help; mode narrows to that mode's options

} // namespace qpipe::cli
