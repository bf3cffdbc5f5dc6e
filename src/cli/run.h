// The CLI's front end to the engine: runs a send or a listen on a fresh
// loop with the user's stdin/stdout, draws progress, prints the summary, and
// turns the result into an exit code.
#pragma once

#include "cli/parse.h"

namespace qpipe::cli {

int run_transfer(const Config& config, const Logger& log);
int run_api(const Config& config, const Logger& log);
std::string version_text();

} // namespace qpipe::cli
