// Where a listener that a front end starts writes what arrives: stdout when
// no output is named, the file named (-o FILE, or "output" in the api), or
// each file under its own name inside a directory (-o DIR).
//
// -o writes into what the user named, as a shell's redirection does, and is
// checked before the listener starts (check_output), so that an output that
// cannot be written is refused before "listening on", not after a sender
// came:
// - an existing directory (or a symlink to one) takes named files;
// - a regular file or a new name is written beside it and renamed into
//   place when complete (atomic: on failure nothing appears there);
// - a character or block device, a FIFO or a socket is written directly
//   (not atomic: what arrived before a failure is there);
// - a symlink the user names is followed: its target gets the data (the
//   temporary sits beside the target), and the link stays a link.
// Names a sender chooses inside -o DIR are not followed (uv::FileSink).
//
// Files a sender sends by name get its permission bits through
// received_mode: without --keep-modes the listener's umask applies and no
// file is made group- or world-writable; setuid, setgid and sticky are
// always dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <uv.h>

#include "app/options.h"
#include "app/transfer.h"
#include "uv/fd_io.h"

namespace qpipe::frontend {

enum class OutputKind {
  standard_output, // no -o
  file,            // a regular file or a new name: a temporary, then the rename
  directory,       // named files land inside it
  device,          // a device, FIFO or socket: written directly
};

struct OutputTarget {
  OutputKind kind = OutputKind::standard_output;
  std::string path; // where the data goes: -o's path, or the target of its symlink
};

// Whether path names an existing directory, following symlinks.
bool is_directory(const std::string& path);

// What -o names and whether it can be written now: a missing directory (or
// DIR/ that does not exist), a path under a regular file, a directory or
// device this user cannot write, and with no_clobber an existing regular
// file are refused (Errc::local_io) with the reason.
Result<OutputTarget> check_output(const std::optional<std::string>& output, bool no_clobber);

// The permission bits of a file received with the sender's `sender_mode`.
uint32_t received_mode(uint32_t sender_mode, mode_t umask, bool keep_modes);

// Checks opts.output (check_output), sets opts.output_is_directory and
// opts.output_is_device, points opts.output at a followed symlink's target
// (a caller that confines paths checks that one), and returns the factory of
// the listener's sinks (see open_output), which honours opts.sync,
// opts.no_clobber and opts.keep_modes. Called before the listener starts: an
// error means it must not. Symlinks are followed here only: each sink is
// made at the path decided now.
Result<app::SinkFactory> output_sinks(uv_loop_t* loop, app::ListenOptions& opts);

// One sink: stdout when there is no output; the file's own name inside the
// output directory; else the output file or device. A file's mode (as
// received_mode says), mtime and --resume settings go on top of `base`.
// `file` is null for an anonymous stream.
Result<std::unique_ptr<app::ByteSink>> open_output(uv_loop_t* loop, const OutputTarget& target,
                                                   const app::FileMeta* file,
                                                   const uvx::FileSinkOptions& base);

} // namespace qpipe::frontend
