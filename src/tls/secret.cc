// Shared secrets (read, HMAC, constant-time comparison, TLS exporter) and the
// rules for private files: see secret.h.
#include "tls/secret.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "tls/tls_context.h"

namespace qpipe::tls {
namespace {

constexpr size_t kMaxSecret = 4096;

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads all of fd, refusing more than max_bytes. Returns the errno of a
// failed read, or -1 when the file is too large, or 0.
int read_all(int fd, size_t max_bytes, std::string& out) {
  out.clear();
  char buf[4096];
  int result = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = errno;
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      result = -1;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::explicit_bzero(buf, sizeof buf); // it may have held a key or a secret
  return result;
}

// Opens path for reading and checks that it is not a directory. With
// `private_file`, also that group and others have no permission on it.
Result<std::string> read_file(const std::string& path, size_t max_bytes, bool private_file) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (f.fd < 0) return errno_error(Errc::local_io, path, errno);
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return errno_error(Errc::local_io, path, errno);
  if (S_ISDIR(st.st_mode)) return errno_error(Errc::local_io, path, EISDIR);
  if (private_file && (st.st_mode & 077) != 0)
    return make_error(Errc::refused, path,
                      strprintf("permissions %04o are too open: it must not be accessible by "
                                "group or others; fix with: %s",
                                static_cast<unsigned>(st.st_mode & 07777),
                                chmod_hint(path).c_str()));
  std::string data;
  // Reserving up front keeps a private file's bytes in one allocation, which
  // wipe() can clear, instead of leaving copies behind in freed memory.
  if (private_file) data.reserve(max_bytes);
  int err = read_all(f.fd, max_bytes, data);
  if (err > 0) {
    wipe(data);
    return errno_error(Errc::local_io, path, err);
  }
  if (err < 0) {
    wipe(data);
    return make_error(private_file ? Errc::refused : Errc::local_io, path,
                      strprintf("larger than %zu bytes", max_bytes));
  }
  return data;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

void wipe(std::string& s) {
  if (!s.empty()) ::explicit_bzero(s.data(), s.size());
  s.clear();
}

std::string chmod_hint(const std::string& path) {
  bool plain = !path.empty() && std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("/._-+:,@%=", c) != nullptr;
  });
  if (plain) return "chmod 600 " + path;
  std::string quoted = "'";
  for (char c : path) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return "chmod 600 " + quoted + "'";
}

Result<std::string> read_private_file(const std::string& path, size_t max_bytes) {
  return read_file(path, max_bytes, true);
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  return read_file(path, max_bytes, false);
}

Result<DirLock> DirLock::acquire(const std::string& dir) {
  if (auto s = make_private_dirs(dir); !s) return s.error();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_error(Errc::local_io, dir, errno);
  DirLock lock(dfd);
  while (::flock(dfd, LOCK_EX) != 0) {
    if (errno != EINTR) return errno_error(Errc::local_io, dir, errno);
  }
  return lock;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_); // closing releases the lock
}

Status make_private_dirs(const std::string& dir) {
  if (dir.empty()) return make_error(Errc::local_io, "directory", "empty path");
  // Create each missing component, from the root down.
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    if (dir[at - 1] == '/') continue; // "//" or a trailing slash
    std::string prefix = dir.substr(0, at);
    if (::mkdir(prefix.c_str(), 0700) == 0) continue;
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return errno_error(Errc::local_io, prefix, ENOTDIR);
    }
    return errno_error(Errc::local_io, prefix, err);
  }
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string dir = dir_of(path);
  std::string tmp = dir + "/." + base_of(path) + ".XXXXXX";
  Fd f(::mkstemp(tmp.data()));
  if (f.fd < 0) return errno_error(Errc::local_io, path, errno);
  auto fail = [&](int err) {
    ::unlink(tmp.c_str());
    return errno_error(Errc::local_io, path, err);
  };
  if (::fchmod(f.fd, mode) != 0) return fail(errno);
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(f.fd) != 0) return fail(errno);
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) return fail(errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno);
  // Make the rename itself durable. A failure here leaves a complete file in
  // place, so it is not reported.
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd >= 0) ::fsync(d.fd);
  return {};
}

Result<std::string> read_secret_file(const std::string& path) {
  // Room for the secret and a "\r\n" after it.
  auto data = read_private_file(path, kMaxSecret + 2);
  if (!data) return data.error();
  std::string secret = std::move(data.value());
  if (!secret.empty() && secret.back() == '\n') {
    secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  }
  if (secret.empty()) return make_error(Errc::refused, path, "the secret is empty");
  if (secret.size() > kMaxSecret) {
    wipe(secret);
    return make_error(Errc::refused, path,
                      strprintf("the secret is longer than %zu bytes", kMaxSecret));
  }
  return secret;
}

std::array<uint8_t, 32> hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  static_assert(WC_SHA256_DIGEST_SIZE == 32);
  std::array<uint8_t, 32> out{};
  // wolfCrypt wants a non-null pointer even for an empty key.
  static const uint8_t kEmpty = 0;
  const uint8_t* key_ptr = key.empty() ? &kEmpty : key.data();
  if (key.size() > std::numeric_limits<word32>::max()) std::abort();

  Hmac hmac;
  bool ok = wc_HmacInit(&hmac, nullptr, INVALID_DEVID) == 0;
  ok = ok && wc_HmacSetKey(&hmac, WC_SHA256, key_ptr, static_cast<word32>(key.size())) == 0;
  for (size_t at = 0; ok && at < data.size();) {
    size_t n = std::min<size_t>(data.size() - at, std::numeric_limits<word32>::max());
    ok = wc_HmacUpdate(&hmac, data.data() + at, static_cast<word32>(n)) == 0;
    at += n;
  }
  ok = ok && wc_HmacFinal(&hmac, out.data()) == 0;
  wc_HmacFree(&hmac);
  if (!ok) {
    // Only reachable through a broken wolfCrypt build. A fixed value here
    // would let two broken peers agree on a proof without the secret.
    std::fputs("qpipe: internal error: HMAC-SHA256 failed\n", stderr);
    std::abort();
  }
  return out;
}

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // Walk the longer input in full so that the time depends on the lengths
  // only; a length mismatch is folded in at the end.
  size_t n = std::max(a.size(), b.size());
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = i < a.size() ? a[i] : 0;
    uint8_t y = i < b.size() ? b[i] : 0;
    diff = static_cast<uint8_t>(diff | (x ^ y));
  }
  return static_cast<int>(diff == 0) & static_cast<int>(a.size() == b.size()); // no short circuit
}

Result<std::array<uint8_t, 32>> tls_exporter(WOLFSSL* ssl, std::string_view label) {
  std::array<uint8_t, 32> out{};
  if (ssl == nullptr) return make_error(Errc::connect, "TLS", "exporter: no session");
  if (wolfSSL_export_keying_material(ssl, out.data(), out.size(), label.data(), label.size(),
                                     nullptr, 0, 0) != WOLFSSL_SUCCESS)
    return make_error(Errc::connect, "TLS", "exporting keying material: " + last_error());
  return out;
}

Result<std::array<uint8_t, 32>> secret_proof(WOLFSSL* ssl, std::string_view secret) {
  auto exported = tls_exporter(ssl, kSecretProofLabel);
  if (!exported) return exported.error();
  auto proof = hmac_sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
      *exported);
  ::explicit_bzero(exported->data(), exported->size());
  return proof;
}

} // namespace qpipe::tls
