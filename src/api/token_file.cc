// The generated token of `qpipe api` (see token_file.h).
#include "api/token_file.h"

#include <cerrno>
#include <cstdlib>
#include <sys/random.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "tls/identity_store.h"
#include "tls/secret.h"

namespace qpipe::api {

std::string default_token_file() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  // A relative value is ignored, as the XDG Base Directory spec says.
  if (runtime && runtime[0] == '/') return std::string(runtime) + "/qpipe/api-token";
  return tls::xdg_data_home() + "/qpipe/api-token";
}

Result<std::string> new_token() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(Errc::local_io, "getrandom", errno);
    }
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  return token;
}

Result<std::string> load_or_create_token(const std::string& file, bool* created) {
  if (created) *created = false;
  auto [dir, base] = split_path(file);
  // Two services starting at once agree on one token.
  auto lock = DirLock::acquire(dir);
  if (!lock) return lock.error();
  struct stat st;
  if (lstat(file.c_str(), &st) == 0) return tls::read_secret_file(file);
  if (errno != ENOENT) return errno_error(Errc::local_io, file, errno);
  auto token = new_token();
  if (!token) return token.error();
  if (auto w = write_file_atomic(file, *token + "\n", 0600); !w) return w.error();
  if (created) *created = true;
  return token;
}

} // namespace qpipe::api
