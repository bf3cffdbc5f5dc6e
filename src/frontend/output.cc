// Where a listener writes (see output.h).
#include "frontend/output.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace qpipe::frontend {

bool is_directory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

app::SinkFactory output_sinks(uv_loop_t* loop, app::ListenOptions& opts) {
  opts.output_is_directory = opts.output && is_directory(*opts.output);
  uvx::FileSinkOptions base;
  base.sync = opts.sync;
  base.no_clobber = opts.no_clobber;
  return [loop, output = opts.output, is_dir = opts.output_is_directory,
          base](const app::FileMeta* file) {
    return frontend::open_output(loop, output, is_dir, file, base);
  };
}

Result<std::unique_ptr<app::ByteSink>>
open_output(uv_loop_t* loop, const std::optional<std::string>& output, bool output_is_directory,
            const app::FileMeta* file, const uvx::FileSinkOptions& base) {
  if (!output)
    return std::unique_ptr<app::ByteSink>(
        std::make_unique<uvx::FdSink>(loop, STDOUT_FILENO, "stdout"));
  uvx::FileSinkOptions o = base;
  if (file) {
    o.resumable = file->resumable;
    o.start_offset = file->start_offset;
    o.mode = file->mode;
    o.mtime = timespec{static_cast<time_t>(file->mtime_sec), static_cast<long>(file->mtime_nsec)};
  }
  auto s = output_is_directory && file ? uvx::FileSink::create_in(loop, *output, file->name, o)
                                       : uvx::FileSink::create(loop, *output, o);
  if (!s) return s.error();
  return std::unique_ptr<app::ByteSink>(std::move(*s));
}

} // namespace qpipe::frontend
