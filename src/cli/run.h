// The CLI's front ends to the engine. run_transfer runs a send or a listen
// on a fresh loop with the user's stdin/stdout, shows progress and the
// summary (cli/report.h), and turns the result into an exit code; run_api
// runs `qpipe api` until SIGINT or SIGTERM.
#pragma once

#include "cli/parse.h"

namespace qpipe::cli {

int run_transfer(const Config& config, const Logger& log);
int run_api(const Config& config, const Logger& log);

} // namespace qpipe::cli
