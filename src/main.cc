// qpipe: netcat for the QUIC era. This file only parses and dispatches.
#include <cstdio>
#include <unistd.h>

#include "cli/parse.h"
#include "cli/run.h"
#include "cli/version_text.h"
#include "gen/gen_command.h"

int main(int argc, char** argv) {
  using namespace qpipe;
  Logger log;
  auto config = cli::parse_command_line(argc, argv);
  if (!config) {
    log.error(config.error());
    std::fputs("Try 'qpipe --help' for more information.\n", stderr);
    return config.error().exit_code();
  }
  log.set_verbosity(config->verbosity);
  if (config->help) {
    std::fputs(cli::help_text(config->mode).c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 5;
  }
  if (config->version) {
    std::fputs(cli::version_text().c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 5;
  }
  switch (config->mode) {
  case cli::kGen:
    return gen::run_gen(config->gen, log);
  case cli::kSend:
  case cli::kListen:
    return cli::run_transfer(*config, log);
  case cli::kApi:
    return cli::run_api(*config, log);
  default:
    return 2;
  }
}
