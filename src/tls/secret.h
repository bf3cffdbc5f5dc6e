// Shared secrets and the files that hold private material.
//
// The shared secret of `--secret-file` / `QPIPE_SECRET` is never sent: each
// side computes HMAC-SHA256(key = secret, data = TLS exporter output with the
// label "EXPORTER-qpipe-secret-proof"), which is bound to this TLS session
// and so cannot be replayed on another one, and the listener compares the
// sender's proof with its own in constant time.
//
// This module also owns the rules for private files, shared with the
// identity store and known_hosts: a private file (a key, a secret) is
// refused when its group or others have any permission on it, like ssh
// does, and files are replaced atomically (temporary file in the same
// directory, fsync, rename, fsync of the directory).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "core/error.h"

struct WOLFSSL;

namespace qpipe::tls {

// The label of the TLS exporter behind the secret proof.
inline constexpr std::string_view kSecretProofLabel = "EXPORTER-qpipe-secret-proof";

// Reads the secret of --secret-file. Refused (Errc::refused) when group or
// others have any permission on the file (the message says `chmod 600 FILE`),
// when it is empty, or when it is longer than 4096 bytes. One trailing
// newline ("\n" or "\r\n") is stripped; everything else is kept verbatim.
Result<std::string> read_secret_file(const std::string& path);

// HMAC-SHA256 (RFC 2104) by wolfCrypt. It cannot fail with these arguments;
// if wolfCrypt ever reports a failure the process aborts rather than return
// a value that two sides could agree on by accident.
std::array<uint8_t, 32> hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// True when a and b have the same length and the same bytes. The time taken
// depends on the lengths only, never on where the contents differ.
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

// 32 bytes of the TLS 1.3 exporter (RFC 8446 §7.5) of an established
// session, with `label` and no context. Errc::connect when wolfSSL refuses
// (handshake not complete).
Result<std::array<uint8_t, 32>> tls_exporter(WOLFSSL* ssl, std::string_view label);

// The proof of the secret for this session: HMAC-SHA256(key = secret,
// data = tls_exporter(ssl, kSecretProofLabel)). Both sides compute it.
Result<std::array<uint8_t, 32>> secret_proof(WOLFSSL* ssl, std::string_view secret);

// --- Private files ---------------------------------------------------------

// Reads a file that must be private (a key, a secret): Errc::local_io when it
// cannot be opened or read or is a directory, Errc::refused when group or
// others have any permission on it or when it holds more than max_bytes.
Result<std::string> read_private_file(const std::string& path, size_t max_bytes);

// Reads an ordinary file of at most max_bytes (Errc::local_io otherwise).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes);

// Creates dir and its missing parents, each with mode 0700 (less if the
// umask says so). Existing directories are left as they are.
Status make_private_dirs(const std::string& dir);

// An exclusive flock() on a private directory (made if missing), held until
// the object goes away: for read-modify-write of the files in it.
class DirLock {
public:
  static Result<DirLock> acquire(const std::string& dir);
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock();
  int fd() const { return fd_; }

private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

// Replaces path with data atomically: a temporary file beside it
// (".NAME.XXXXXX"), given exactly `mode`, written, fsynced, renamed over
// path, then the directory fsynced. On failure the temporary file is
// removed and path is untouched.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

// The shell command that fixes a too-open private file: "chmod 600 'FILE'"
// (quoted only when needed).
std::string chmod_hint(const std::string& path);

// Overwrites s with zeros (not optimised away), then clears it.
void wipe(std::string& s);

} // namespace qpipe::tls
