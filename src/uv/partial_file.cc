// The part --resume keeps, held by one transfer at a time (see partial_file.h).
#include "uv/partial_file.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uv/fd_io.h"

namespace qpipe::uvx {

std::string partial_name(const std::string& name) {
  return "." + name + ".qpipe-partial";
}

Result<std::shared_ptr<PartialFile>> PartialFile::claim(const std::string& dir,
                                                        const std::string& name) {
  std::string shown = dir == "." ? name : (dir.back() == '/' ? dir + name : dir + "/" + name);
  UniqueFd dir_fd(::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir_fd) return errno_error(Errc::local_io, dir, errno);
  std::string part = partial_name(name);
  // The part may be renamed into place or removed by its holder between our
  // open and our lock: then the lock is on a file that is no longer the
  // part, and we start again with what the name holds now.
  for (int attempt = 0; attempt < 16; ++attempt) {
    UniqueFd fd(
        ::openat(dir_fd.get(), part.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!fd) return errno_error(Errc::local_io, shown, errno);
    struct stat held, named;
    if (::fstat(fd.get(), &held) != 0) return errno_error(Errc::local_io, shown, errno);
    if (!S_ISREG(held.st_mode))
      return make_error(Errc::local_io, shown, "its --resume part " + part + " is not a file");
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK)
        return make_error(Errc::transfer, shown,
                          "another transfer is writing this file (--resume); try again when "
                          "it is done");
      return errno_error(Errc::local_io, shown, errno);
    }
    if (::fstatat(dir_fd.get(), part.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_dev == held.st_dev && named.st_ino == held.st_ino)
      return std::shared_ptr<PartialFile>(
          new PartialFile(std::move(dir_fd), std::move(fd), std::move(part), std::move(shown)));
  }
  return make_error(Errc::transfer, shown, "its --resume part keeps changing; try again");
}

PartialFile::~PartialFile() {
  if (renamed_ || !fd_) return;
  struct stat held, named;
  // Still ours (we hold the lock) and never written: not worth keeping.
  if (::fstat(fd_.get(), &held) == 0 && held.st_size == 0 &&
      ::fstatat(dir_fd_.get(), part_.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      named.st_dev == held.st_dev && named.st_ino == held.st_ino)
    ::unlinkat(dir_fd_.get(), part_.c_str(), 0);
}

uint64_t PartialFile::size() const {
  struct stat st;
  return ::fstat(fd_.get(), &st) == 0 && st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

Result<std::array<uint8_t, 16>> PartialFile::digest_prefix(uint64_t n) const {
  return digest_fd_prefix(fd_.get(), n, shown_);
}

} // namespace qpipe::uvx
