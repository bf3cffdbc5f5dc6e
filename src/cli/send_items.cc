// The FILE... arguments of a send (see send_items.h).
#include "cli/send_items.h"

#include <cerrno>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unordered_map>

#include "core/fs.h"
#include "uv/fd_io.h"

namespace qpipe::cli {
namespace {

app::SendItem stdin_item(uv_loop_t* loop) {
  app::SendItem item;
  item.meta.name = "stdin";
  item.meta.mode = 0644;
  item.meta.mtime_sec = static_cast<int64_t>(time(nullptr));
  item.open = [loop]() -> Result<std::unique_ptr<app::ByteSource>> {
    return std::unique_ptr<app::ByteSource>(
        std::make_unique<uvx::FdSource>(loop, STDIN_FILENO, "stdin"));
  };
  return item;
}

Result<app::SendItem> file_item(uv_loop_t* loop, const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno_error(Errc::local_io, path, errno);
  if (S_ISDIR(st.st_mode))
    return make_error(Errc::usage, path,
                      "is a directory; send a tree as a stream: tar c " + path + " | qpipe HOST");
  app::SendItem item;
  item.meta.name = split_path(path).base;
  item.meta.mode = st.st_mode & 07777;
  item.meta.mtime_sec = st.st_mtim.tv_sec;
  item.meta.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    item.meta.size = static_cast<uint64_t>(st.st_size);
    item.prefix_digest = [path](uint64_t n) { return uvx::digest_prefix(path, n); };
  }
  item.open = [loop, path]() -> Result<std::unique_ptr<app::ByteSource>> {
    auto src = uvx::FdSource::open_file(loop, path);
    if (!src) return src.error();
    return std::unique_ptr<app::ByteSource>(std::move(*src));
  };
  return item;
}

} // namespace

Result<std::vector<app::SendItem>> send_items(uv_loop_t* loop,
                                              const std::vector<std::string>& paths) {
  // Two files that would arrive under one name: the second would replace
  // the first on the listener.
  std::unordered_map<std::string, const std::string*> first_with;
  for (const auto& path : paths) {
    std::string name = path == "-" ? "stdin" : split_path(path).base;
    if (name.empty()) continue; // a directory, refused below
    auto [it, fresh] = first_with.emplace(name, &path);
    if (!fresh)
      return make_error(Errc::usage, *it->second + " and " + path,
                        "both would arrive as " + name +
                            "; send one of them in another run, or under another name");
  }
  std::vector<app::SendItem> items;
  for (const auto& path : paths) {
    if (path == "-") {
      items.push_back(stdin_item(loop));
      continue;
    }
    auto item = file_item(loop, path);
    if (!item) return item.error();
    items.push_back(std::move(*item));
  }
  return items;
}

} // namespace qpipe::cli
