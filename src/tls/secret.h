// Shared secrets and the files that hold private material.
//
// The shared secret of `--secret-file` / `QPIPE_SECRET` is never sent: each
// side computes HMAC-SHA256(key = secret, data = TLS exporter output with the
// label "EXPORTER-qpipe-secret-proof"), which is bound to this TLS session
// and so cannot be replayed on another one, and the listener compares the
// sender's proof with its own in constant time.
//
// The secret file is a private file (core/fs.h): refused when its group or
// others have any permission on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

struct WOLFSSL;

namespace qpipe::tls {

// The label of the TLS exporter behind the secret proof.
inline constexpr std::string_view kSecretProofLabel = "EXPORTER-qpipe-secret-proof";

// Reads the secret of --secret-file. Refused as local configuration that
// cannot be used (Errc::usage, exit 2) when it cannot be read, when group or
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

} // namespace qpipe::tls
