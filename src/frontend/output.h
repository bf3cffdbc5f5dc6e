// Where a listener that a front end starts writes what arrives: stdout when
// no output is named, the file named (-o FILE, or "output" in the api), or
// each file under its own name inside a directory (-o DIR).
//
// Whether the output is a directory is decided once, when the listener
// starts: an existing directory (or a symlink to one) is one; anything else
// names a file, created when the first transfer begins.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <uv.h>

#include "app/options.h"
#include "app/transfer.h"
#include "uv/fd_io.h"

namespace qpipe::frontend {

// Whether path names an existing directory, following symlinks.
bool is_directory(const std::string& path);

// Sets opts.output_is_directory from opts.output and returns the factory of
// the listener's sinks (see open_output), which honours opts.sync and
// opts.no_clobber.
app::SinkFactory output_sinks(uv_loop_t* loop, app::ListenOptions& opts);

// One sink: stdout when there is no output; the file's own name inside the
// output directory; else the output file. A file's mode, mtime and --resume
// settings go on top of `base`. `file` is null for an anonymous stream.
Result<std::unique_ptr<app::ByteSink>>
open_output(uv_loop_t* loop, const std::optional<std::string>& output, bool output_is_directory,
            const app::FileMeta* file, const uvx::FileSinkOptions& base);

} // namespace qpipe::frontend
