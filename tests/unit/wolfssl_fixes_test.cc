// Tests that the wolfSSL qpipe links carries Debian's security fixes
// (scripts/deps applies the patch series of the pinned Debian revision): the
// first two cases observe, through wolfSSL's public API, a behaviour that one
// patch changes; built from the bare upstream tarball (QPIPE_DEPS_UNPATCHED=1
// scripts/deps), wolfSSL 5.7.2 fails both. The last checks a build flag that
// keeps an advisory Debian's series does not fix out of the library. See
// README, Dependencies.
#include <boost/test/unit_test.hpp>

#include <wolfssl/options.h>

#include <wolfssl/openssl/evp.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace qpipe::tls {
namespace {

using Der = std::vector<uint8_t>;

// A P-256 key pair and the generator that made it, freed on scope exit.
struct EccKey {
  WC_RNG rng;
  ecc_key key;
  EccKey() {
    BOOST_REQUIRE(wc_InitRng(&rng) == 0);
    BOOST_REQUIRE(wc_ecc_init(&key) == 0);
    BOOST_REQUIRE(wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) == 0);
  }
  ~EccKey() {
    wc_ecc_free(&key);
    wc_FreeRng(&rng);
  }
  EccKey(const EccKey&) = delete;
  EccKey& operator=(const EccKey&) = delete;
};

// A certificate for subject's key named common_name, issued by issuer_cert
// (self-signed when empty) and signed with issuer's key. sig_type is the
// signatureAlgorithm the certificate announces; wolfSSL's signer takes the
// hash from it and signs with whatever key it is given, so an ECDSA key with
// CTC_SHA256wRSA yields an ECDSA signature labelled sha256WithRSAEncryption.
Der make_cert(const char* common_name, bool is_ca, EccKey& subject, EccKey& issuer,
              const Der& issuer_cert, int sig_type) {
  Cert cert;
  BOOST_REQUIRE(wc_InitCert(&cert) == 0);
  std::strncpy(cert.subject.commonName, common_name, CTC_NAME_SIZE - 1);
  cert.isCA = is_ca ? 1 : 0;
  cert.sigType = sig_type;
  if (!issuer_cert.empty())
    BOOST_REQUIRE(
        wc_SetIssuerBuffer(&cert, issuer_cert.data(), static_cast<int>(issuer_cert.size())) == 0);
  Der der(4096);
  int body = wc_MakeCert(&cert, der.data(), static_cast<word32>(der.size()), nullptr, &subject.key,
                         &subject.rng);
  BOOST_REQUIRE(body > 0);
  int size = wc_SignCert(body, sig_type, der.data(), static_cast<word32>(der.size()), nullptr,
                         &issuer.key, &issuer.rng);
  BOOST_REQUIRE(size > 0);
  der.resize(static_cast<size_t>(size));
  return der;
}

// What wolfSSL says of leaf when ca is the only trusted certificate:
// WOLFSSL_SUCCESS or an error code.
int verify_against(const Der& ca, const Der& leaf) {
  WOLFSSL_CERT_MANAGER* cm = wolfSSL_CertManagerNew();
  BOOST_REQUIRE(cm != nullptr);
  int loaded = wolfSSL_CertManagerLoadCABuffer(cm, ca.data(), static_cast<long>(ca.size()),
                                               WOLFSSL_FILETYPE_ASN1);
  int result = wolfSSL_CertManagerVerifyBuffer(cm, leaf.data(), static_cast<long>(leaf.size()),
                                               WOLFSSL_FILETYPE_ASN1);
  wolfSSL_CertManagerFree(cm);
  BOOST_REQUIRE(loaded == WOLFSSL_SUCCESS);
  return result;
}

// The signature algorithm a DER certificate announces, as an OpenSSL NID.
int signature_nid(const Der& der) {
  WOLFSSL_X509* x509 = wolfSSL_X509_load_certificate_buffer(
      der.data(), static_cast<int>(der.size()), WOLFSSL_FILETYPE_ASN1);
  BOOST_REQUIRE(x509 != nullptr);
  int nid = wolfSSL_X509_get_signature_nid(x509);
  wolfSSL_X509_free(x509);
  return nid;
}

// HMAC-SHA256 of message under key through the EVP interface: sign, or
// verify tag (only its first tag_size bytes are passed).
struct Hmac {
  WOLFSSL_EVP_PKEY* pkey;
  explicit Hmac(const std::string& key)
      : pkey(wolfSSL_EVP_PKEY_new_mac_key(EVP_PKEY_HMAC, nullptr,
                                          reinterpret_cast<const unsigned char*>(key.data()),
                                          static_cast<int>(key.size()))) {
    BOOST_REQUIRE(pkey != nullptr);
  }
  ~Hmac() { wolfSSL_EVP_PKEY_free(pkey); }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  Der sign(const std::string& message) {
    WOLFSSL_EVP_MD_CTX* ctx = wolfSSL_EVP_MD_CTX_new();
    Der tag(64);
    size_t size = tag.size();
    bool ok = wolfSSL_EVP_DigestSignInit(ctx, nullptr, wolfSSL_EVP_sha256(), nullptr, pkey) == 1 &&
              wolfSSL_EVP_DigestSignUpdate(ctx, message.data(), message.size()) == 1 &&
              wolfSSL_EVP_DigestSignFinal(ctx, tag.data(), &size) == 1;
    wolfSSL_EVP_MD_CTX_free(ctx);
    BOOST_REQUIRE(ok);
    tag.resize(size);
    return tag;
  }

  bool verify(const std::string& message, const Der& tag, size_t tag_size) {
    WOLFSSL_EVP_MD_CTX* ctx = wolfSSL_EVP_MD_CTX_new();
    bool ok =
        wolfSSL_EVP_DigestVerifyInit(ctx, nullptr, wolfSSL_EVP_sha256(), nullptr, pkey) == 1 &&
        wolfSSL_EVP_DigestVerifyUpdate(ctx, message.data(), message.size()) == 1 &&
        wolfSSL_EVP_DigestVerifyFinal(ctx, tag.data(), tag_size) == 1;
    wolfSSL_EVP_MD_CTX_free(ctx);
    return ok;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(wolfssl_fixes)

// CVE-2026-5194 (Debian's CVE-2026-5194.patch): wolfSSL took the hash from
// the certificate's signatureAlgorithm and the verifier from the issuer's key
// without checking that they agree, so a certificate claiming
// sha256WithRSAEncryption but carrying an ECDSA signature by an ECDSA issuer
// verified. The fix refuses it with ASN_SIG_OID_E.
BOOST_AUTO_TEST_CASE(a_signature_algorithm_that_does_not_fit_the_issuer_key_is_refused) {
  EccKey ca_key, leaf_key;
  Der ca = make_cert("qpipe test CA", true, ca_key, ca_key, {}, CTC_SHA256wECDSA);

  // The same chain with a matching algorithm verifies: the refusal below is
  // about the algorithm, not about how the test builds certificates.
  Der honest = make_cert("honest leaf", false, leaf_key, ca_key, ca, CTC_SHA256wECDSA);
  BOOST_TEST(verify_against(ca, honest) == WOLFSSL_SUCCESS);

  Der mislabelled = make_cert("mislabelled leaf", false, leaf_key, ca_key, ca, CTC_SHA256wRSA);
  BOOST_TEST(signature_nid(mislabelled) == NID_sha256WithRSAEncryption);
  int result = verify_against(ca, mislabelled);
  BOOST_TEST(result != WOLFSSL_SUCCESS, "the mislabelled certificate was accepted: the wolfSSL "
                                        "linked lacks Debian's CVE-2026-5194.patch");
  BOOST_TEST(result == ASN_SIG_OID_E);
}

// CVE-2026-6331 (Debian's CVE-2026-6331.patch): EVP_DigestVerifyFinal
// accepted an HMAC tag shorter than the MAC, down to zero bytes (a memcmp of
// length 0 matches). The fix demands the full length.
BOOST_AUTO_TEST_CASE(a_truncated_hmac_tag_is_refused) {
  Hmac hmac("a key of thirty-two bytes, or so");
  const std::string message = "the message";
  Der tag = hmac.sign(message);
  BOOST_REQUIRE(tag.size() == 32u);
  BOOST_TEST(hmac.verify(message, tag, tag.size()));
  BOOST_TEST(!hmac.verify(message, tag, 1), "a 1-byte prefix of the tag was accepted: the "
                                            "wolfSSL linked lacks Debian's CVE-2026-6331.patch");
  BOOST_TEST(!hmac.verify(message, tag, 0), "an empty tag was accepted: the wolfSSL linked "
                                            "lacks Debian's CVE-2026-6331.patch");
  Der forged = tag;
  forged[31] ^= 1;
  BOOST_TEST(!hmac.verify(message, forged, forged.size()));
}

// CVE-2026-55960 (fixed in wolfSSL 5.9.2, not in the pinned 5.7.2 nor in
// Debian's series): a server could send a raw public key (RFC 7250) where
// the client expected a certificate, and it was accepted without chain
// validation. qpipe never uses raw public keys, so scripts/deps builds
// wolfSSL without them (--disable-rpk).
BOOST_AUTO_TEST_CASE(raw_public_keys_are_not_built_in) {
#ifdef HAVE_RPK
  constexpr bool rpk = true;
#else
  constexpr bool rpk = false;
#endif
  BOOST_TEST(!rpk, "the wolfSSL linked takes raw public keys: scripts/deps builds it with "
                   "--disable-rpk");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
