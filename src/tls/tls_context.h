// wolfSSL for QUIC: contexts for the listener and the sender, the per-
// connection session object, and the listener's identity.
//
// TLS 1.3 only (QUIC requires it). Cipher suites, in order of preference:
// TLS13-AES128-GCM-SHA256 (AES-NI), TLS13-AES256-GCM-SHA384; not ChaCha20
// (see tls_context.cc). Groups: X25519, P-256.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/protocol.h"

struct WOLFSSL_CTX;
struct WOLFSSL;

namespace qpipe::tls {

// A certificate and its private key, DER-encoded, and the intermediate
// certificates the listener sends after its own (those of a --cert chain).
struct Identity {
  std::vector<uint8_t> cert_der;
  std::vector<uint8_t> key_der;
  std::vector<std::vector<uint8_t>> chain_der;
  std::string fingerprint; // of the key, see fingerprint.h
};

// A fresh ECDSA P-256 key and a self-signed certificate for it.
Result<Identity> generate_identity();

struct CtxDeleter {
  void operator()(WOLFSSL_CTX* c) const;
};
struct SslDeleter {
  void operator()(WOLFSSL* s) const;
};
using Ctx = std::unique_ptr<WOLFSSL_CTX, CtxDeleter>;
using Ssl = std::unique_ptr<WOLFSSL, SslDeleter>;

// A listener's context: it accepts only peers that offer kAlpn.
Result<Ctx> make_server_context(const Identity& id);
// With ca_file, the listener's chain must verify against those CAs (and its
// name, see make_client_session); without, the certificate is checked by
// fingerprint after the handshake instead (pin or known hosts).
Result<Ctx> make_client_context(const std::string& ca_file = "");
// `sni` is the host name the user typed (not sent when it is an address);
// `alpn` is the protocol offered (only tests offer another one).
Result<Ssl> make_client_session(WOLFSSL_CTX* ctx, const std::string& sni,
                                std::string_view alpn = kAlpn, bool check_name = false);
Result<Ssl> make_server_session(WOLFSSL_CTX* ctx);

// The last wolfSSL error as text.
std::string last_error();

} // namespace qpipe::tls
