#include "tls/tls_context.h"

#include <wolfssl/options.h>

#include <ngtcp2/ngtcp2_crypto_wolfssl.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

#include "core/fs.h"
#include "core/log.h"
#include "tls/fingerprint.h"

namespace qpipe::tls {
namespace {

// AES-GCM only. wolfSSL 5.7.2 (the pinned version) opens ChaCha20-Poly1305
// through its EVP layer without checking the tag (CVE-2026-5479, fixed in
// wolfSSL 5.9.1), and that is the path ngtcp2's glue takes for every packet:
// on a connection that negotiated TLS13-CHACHA20-POLY1305-SHA256, a packet
// altered on the way would be accepted. qpipe talks to qpipe, so offering
// and accepting only AES-GCM costs no peer anything.
constexpr const char* kCiphers = "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384";
constexpr const char* kGroups = "X25519:P-256";

// A CA file larger than this is no CA file.
constexpr size_t kMaxCaFile = 16 << 20;

Error tls_error(const std::string& what) {
  return make_error(Errc::connect, "TLS", what + ": " + last_error());
}

// The client's list is in wire form: each name is a length byte, then the name.
int select_alpn(WOLFSSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  const std::string_view ours = kAlpn;
  for (const unsigned char *p = in, *end = in + inlen; p < end && p + 1 + *p <= end; p += 1 + *p) {
    if (*p == ours.size() && std::memcmp(p + 1, ours.data(), *p) == 0) {
      *out = p + 1;
      *outlen = *p;
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL; // a peer that does not speak our protocol
}

Status common_setup(WOLFSSL_CTX* ctx) {
  if (wolfSSL_CTX_set_cipher_list(ctx, kCiphers) != WOLFSSL_SUCCESS)
    return tls_error("setting cipher suites");
  if (wolfSSL_CTX_set1_groups_list(ctx, kGroups) != WOLFSSL_SUCCESS)
    return tls_error("setting key exchange groups");
  return {};
}

} // namespace

void CtxDeleter::operator()(WOLFSSL_CTX* c) const {
  wolfSSL_CTX_free(c);
}
void SslDeleter::operator()(WOLFSSL* s) const {
  wolfSSL_free(s);
}

std::string last_error() {
  unsigned long e = wolfSSL_ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[WOLFSSL_MAX_ERROR_SZ];
  wolfSSL_ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<Identity> generate_identity() {
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return make_error(Errc::local_io, "identity", "cannot seed the RNG");
  ecc_key key;
  wc_ecc_init(&key);
  struct Cleanup {
    WC_RNG* rng;
    ecc_key* key;
    ~Cleanup() {
      wc_ecc_free(key);
      wc_FreeRng(rng);
    }
  } cleanup{&rng, &key};
  if (wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) != 0)
    return make_error(Errc::local_io, "identity", "cannot generate a P-256 key");

  Cert cert;
  wc_InitCert(&cert);
  std::strncpy(cert.subject.commonName, "qpipe", CTC_NAME_SIZE - 1);
  std::strncpy(cert.subject.org, "qpipe listener", CTC_NAME_SIZE - 1);
  cert.sigType = CTC_SHA256wECDSA;
  cert.daysValid = 3650;
  cert.isCA = 0;
  Identity id;
  id.cert_der.resize(4096);
  int n = wc_MakeCert(&cert, id.cert_der.data(), static_cast<word32>(id.cert_der.size()), nullptr,
                      &key, &rng);
  if (n < 0) return make_error(Errc::local_io, "identity", strprintf("wc_MakeCert failed (%d)", n));
  n = wc_SignCert(cert.bodySz, cert.sigType, id.cert_der.data(),
                  static_cast<word32>(id.cert_der.size()), nullptr, &key, &rng);
  if (n < 0) return make_error(Errc::local_io, "identity", strprintf("wc_SignCert failed (%d)", n));
  id.cert_der.resize(static_cast<size_t>(n));

  id.key_der.resize(512);
  n = wc_EccKeyToDer(&key, id.key_der.data(), static_cast<word32>(id.key_der.size()));
  if (n < 0) return make_error(Errc::local_io, "identity", "cannot encode the key");
  id.key_der.resize(static_cast<size_t>(n));

  uint8_t spki[256];
  n = wc_EccPublicKeyToDer(&key, spki, sizeof spki, 1);
  if (n < 0) return make_error(Errc::local_io, "identity", "cannot encode the public key");
  auto fp = fingerprint_of_spki({spki, static_cast<size_t>(n)});
  if (!fp) return make_error(Errc::local_io, "identity", "cannot compute the fingerprint");
  id.fingerprint = std::move(*fp);
  return id;
}

namespace {
// The identity's certificate and intermediates as one PEM text.
Result<std::string> chain_pem(const Identity& id) {
  std::string out;
  auto add = [&out](const std::vector<uint8_t>& der) {
    std::string pem(der.size() * 2 + 128, '\0');
    int n = wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                        reinterpret_cast<uint8_t*>(pem.data()), static_cast<word32>(pem.size()),
                        CERT_TYPE);
    if (n <= 0) return false;
    out.append(pem.data(), static_cast<size_t>(n));
    return true;
  };
  if (!add(id.cert_der)) return tls_error("encoding the certificate as PEM");
  for (const auto& der : id.chain_der)
    if (!add(der)) return tls_error("encoding the certificate chain as PEM");
  return out;
}
} // namespace

Result<Ctx> make_server_context(const Identity& id) {
  Ctx ctx(wolfSSL_CTX_new(wolfTLSv1_3_server_method()));
  if (!ctx) return tls_error("wolfSSL_CTX_new");
  if (ngtcp2_crypto_wolfssl_configure_server_context(ctx.get()) != 0)
    return tls_error("configuring QUIC");
  if (auto s = common_setup(ctx.get()); !s) return s.error();
  if (id.chain_der.empty()) {
    if (wolfSSL_CTX_use_certificate_buffer(ctx.get(), id.cert_der.data(),
                                           static_cast<long>(id.cert_der.size()),
                                           WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
      return tls_error("loading the certificate");
  } else {
    // wolfSSL takes a chain as PEM: the certificate, then its intermediates.
    auto pem = chain_pem(id);
    if (!pem) return pem.error();
    if (wolfSSL_CTX_use_certificate_chain_buffer(
            ctx.get(), reinterpret_cast<const unsigned char*>(pem->data()),
            static_cast<long>(pem->size())) != WOLFSSL_SUCCESS)
      return tls_error("loading the certificate chain");
  }
  if (wolfSSL_CTX_use_PrivateKey_buffer(ctx.get(), id.key_der.data(),
                                        static_cast<long>(id.key_der.size()),
                                        WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
    return tls_error("loading the private key");
  wolfSSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx;
}

Result<Ctx> make_client_context(const std::string& ca_file) {
  Ctx ctx(wolfSSL_CTX_new(wolfTLSv1_3_client_method()));
  if (!ctx) return tls_error("wolfSSL_CTX_new");
  if (ngtcp2_crypto_wolfssl_configure_client_context(ctx.get()) != 0)
    return tls_error("configuring QUIC");
  if (auto s = common_setup(ctx.get()); !s) return s.error();
  if (ca_file.empty()) {
    // Self-signed listener identities are checked by their fingerprint
    // after the handshake (pin or known_hosts), not by a chain.
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);
  } else {
    // Read here, so that a file that cannot be read says why (wolfSSL's
    // own loader leaves no error behind: "unknown error").
    auto pem = read_file(ca_file, kMaxCaFile);
    if (!pem) return pem.error();
    const bool is_pem = pem->find("-----BEGIN ") != std::string::npos;
    wolfSSL_ERR_clear_error();
    int rc = wolfSSL_CTX_load_verify_buffer(
        ctx.get(), reinterpret_cast<const unsigned char*>(pem->data()),
        static_cast<long>(pem->size()), is_pem ? WOLFSSL_FILETYPE_PEM : WOLFSSL_FILETYPE_ASN1);
    if (rc != WOLFSSL_SUCCESS) {
      char buf[WOLFSSL_MAX_ERROR_SZ];
      wolfSSL_ERR_error_string_n(static_cast<unsigned long>(rc), buf, sizeof buf);
      return make_error(Errc::usage, ca_file,
                        strprintf("cannot load CA certificates: %s (%d)", buf, rc));
    }
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

Result<Ssl> make_client_session(WOLFSSL_CTX* ctx, const std::string& sni, std::string_view alpn,
                                bool check_name) {
  Ssl ssl(wolfSSL_new(ctx));
  if (!ssl) return tls_error("wolfSSL_new");
  wolfSSL_set_connect_state(ssl.get());
  std::string wire_alpn(1, static_cast<char>(alpn.size()));
  wire_alpn += alpn;
  wolfSSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(wire_alpn.data()),
                          static_cast<unsigned int>(wire_alpn.size()));
  in6_addr a6;
  in_addr a4;
  if (!sni.empty() && inet_pton(AF_INET, sni.c_str(), &a4) != 1 &&
      inet_pton(AF_INET6, sni.c_str(), &a6) != 1)
    wolfSSL_UseSNI(ssl.get(), WOLFSSL_SNI_HOST_NAME, sni.data(), static_cast<word16>(sni.size()));
  if (check_name && wolfSSL_check_domain_name(ssl.get(), sni.c_str()) != WOLFSSL_SUCCESS)
    return tls_error("setting the name to verify");
  wolfSSL_set_quic_transport_version(ssl.get(), 0x39);
  return ssl;
}

Result<Ssl> make_server_session(WOLFSSL_CTX* ctx) {
  Ssl ssl(wolfSSL_new(ctx));
  if (!ssl) return tls_error("wolfSSL_new");
  wolfSSL_set_accept_state(ssl.get());
  wolfSSL_set_quic_transport_version(ssl.get(), 0x39);
  return ssl;
}

} // namespace qpipe::tls
