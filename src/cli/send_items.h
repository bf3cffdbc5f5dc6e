// The FILE... arguments of a send, as the engine's SendItems: each named
// file with its name, mode, time and size, opened when its turn comes; "-"
// is stdin. Every file is checked before anything is sent: a missing one is
// a local I/O error, a directory a usage error (send a tree through tar), and
// so are two that would arrive under the same name (a/x.bin and b/x.bin).
#pragma once

#include <string>
#include <uv.h>
#include <vector>

#include "app/transfer.h"

namespace qpipe::cli {

Result<std::vector<app::SendItem>> send_items(uv_loop_t* loop,
                                              const std::vector<std::string>& paths);

} // namespace qpipe::cli
