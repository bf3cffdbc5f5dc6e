// A listener's fingerprint: the name of its key that users compare, pin
// (--pin) and record (known_hosts). "SHA256:" followed by the base64, without
// '=' padding, of the SHA-256 of the certificate's SubjectPublicKeyInfo, as
// OpenSSH writes key fingerprints: 43 characters after the prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qpipe::tls {

inline constexpr std::string_view kFingerprintPrefix = "SHA256:";

// Whether text has the syntax of a fingerprint (it may still name no key).
bool is_fingerprint(std::string_view text);

// The fingerprint of a SubjectPublicKeyInfo, its DER bytes exactly as they
// stand in the certificate; nothing when wolfCrypt
// fails to hash or encode it.
std::optional<std::string> fingerprint_of_spki(std::span<const uint8_t> spki_der);

} // namespace qpipe::tls
