// The listener's identity on disk, and the fingerprint of a certificate.
//
// By default the listener keeps one identity under $XDG_DATA_HOME/qpipe/:
// identity.key (PEM, mode 0600) and identity.crt (PEM, mode 0644), generated
// on first use. `--cert FILE --key FILE` loads another one (PEM or DER).
// A key file that group or others can access is refused, as ssh does.
//
// A fingerprint (fingerprint.h) is computed from the certificate's
// SubjectPublicKeyInfo, exactly as it appears in the DER: it names the key,
// so it survives a renewed certificate.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/error.h"
#include "tls/tls_context.h"

namespace qpipe::tls {

// $XDG_DATA_HOME, or $HOME/.local/share. A relative $XDG_DATA_HOME is
// ignored (XDG Base Directory spec). When $HOME is unset, the home directory
// of the password database is used; "" when there is none either.
std::string xdg_data_home();
// $XDG_CONFIG_HOME, or $HOME/.config; the same rules.
std::string xdg_config_home();

// The identity kept in dir (normally xdg_data_home() + "/qpipe"). dir and
// its missing parents are created with mode 0700. When dir/identity.key and
// dir/identity.crt exist they are loaded as by load_identity(); when the key
// does not exist a new identity is generated and written (the certificate
// first, then the key, each atomically), so a crash leaves either the old
// state or a complete identity. A key without its certificate is refused
// rather than silently replaced (Errc::usage, as every unusable identity
// file; Errc::local_io when it cannot be written). Concurrent callers are serialised with
// flock() on dir.
Result<Identity> load_or_create_identity(const std::string& dir);

// The identity of --cert and --key, each PEM or DER. The key may be ECDSA
// (P-256 and other curves wolfSSL supports), Ed25519 or RSA, in SEC1,
// PKCS#1 or unencrypted PKCS#8; encrypted keys are refused. A PEM
// certificate file may hold a chain: the listener's own certificate first,
// then up to 9 intermediates, which the listener sends with it (so that a
// sender with --ca ROOT can verify it). Errc::usage (local configuration,
// exit 2) when a file cannot be read, the key file is too open, a file is
// not a certificate or key, wolfSSL cannot use the certificate (for one,
// more than 128 subject alternative names), or the key does not match the
// first certificate.
Result<Identity> load_identity(const std::string& cert_file, const std::string& key_file);

// "SHA256:<base64>" of the SubjectPublicKeyInfo of a DER certificate.
// Errc::refused when cert_der is not a DER certificate.
Result<std::string> fingerprint_of_cert(std::span<const uint8_t> cert_der);

} // namespace qpipe::tls
