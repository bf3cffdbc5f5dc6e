#include "core/mirror_ring.h"

#include <algorithm>
#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace qpipe {

namespace {
Error ring_error(int err) {
  return errno_error(Errc::local_io, "history buffer", err);
}
} // namespace

Result<MirrorRing> MirrorRing::create(size_t min_size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t size = (std::max<size_t>(min_size, 1) + page - 1) / page * page;
  int fd = memfd_create("qpipe-history", MFD_CLOEXEC);
  if (fd < 0) return ring_error(errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    return ring_error(err);
  }
  // Reserve twice the size, then map the file over both halves.
  void* area = mmap(nullptr, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) {
    int err = errno;
    close(fd);
    return ring_error(err);
  }
  auto* base = static_cast<uint8_t*>(area);
  for (int half = 0; half < 2; ++half) {
    void* p = mmap(base + half * size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      munmap(area, 2 * size);
      close(fd);
      return ring_error(err);
    }
  }
  close(fd); // the mappings keep the pages
  MirrorRing r;
  r.base_ = base;
  r.size_ = size;
  return r;
}

MirrorRing& MirrorRing::operator=(MirrorRing&& o) noexcept {
  if (this != &o) {
    if (base_) munmap(base_, 2 * size_);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
    head_ = std::exchange(o.head_, 0);
  }
  return *this;
}

MirrorRing::~MirrorRing() {
  if (base_) munmap(base_, 2 * size_);
}

} // namespace qpipe
