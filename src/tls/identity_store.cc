// The listener's identity on disk (load, or generate and keep) and the
// fingerprint of a certificate: see identity_store.h.
#include "tls/identity_store.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "tls/fingerprint.h"

namespace qpipe::tls {
namespace {

constexpr size_t kMaxCertFile = 1 << 20;
constexpr size_t kMaxKeyFile = 64 << 10;
constexpr size_t kMaxChainCerts = 10; // the listener's own and up to 9 intermediates
constexpr const char* kKeyName = "identity.key";
constexpr const char* kCertName = "identity.crt";

// --- A minimal DER reader, just enough to find the SubjectPublicKeyInfo -----

// One tag-length-value: the tag byte and the bounds of the whole TLV and of
// its contents within the input.
struct Tlv {
  uint8_t tag = 0;
  size_t begin = 0;   // first byte of the tag
  size_t content = 0; // first byte of the contents
  size_t end = 0;     // one past the last byte of the contents
};

// Reads the TLV that starts at `at` and must end by `limit`. Only the
// definite-length DER forms that certificates use are accepted.
bool read_tlv(std::span<const uint8_t> der, size_t at, size_t limit, Tlv& out) {
  if (limit > der.size() || at >= limit || limit - at < 2) return false;
  out.begin = at;
  out.tag = der[at++];
  if ((out.tag & 0x1f) == 0x1f) return false; // high tag numbers: not in a certificate
  size_t len = der[at++];
  if (len & 0x80) {
    size_t bytes = len & 0x7f;
    if (bytes == 0 || bytes > 4 || limit - at < bytes) return false; // indefinite or huge
    len = 0;
    for (size_t i = 0; i < bytes; ++i)
      len = (len << 8) | der[at++];
  }
  if (limit - at < len) return false;
  out.content = at;
  out.end = at + len;
  return true;
}

// The bytes of the SubjectPublicKeyInfo of a DER certificate (RFC 5280 §4.1):
//   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//   TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber,
//     signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
std::optional<std::span<const uint8_t>> find_spki(std::span<const uint8_t> der) {
  Tlv cert, tbs, field;
  if (!read_tlv(der, 0, der.size(), cert) || cert.tag != 0x30 || cert.end != der.size())
    return std::nullopt;
  if (!read_tlv(der, cert.content, cert.end, tbs) || tbs.tag != 0x30) return std::nullopt;
  size_t at = tbs.content;
  if (!read_tlv(der, at, tbs.end, field)) return std::nullopt;
  if (field.tag == 0xa0) { // version
    at = field.end;
    if (!read_tlv(der, at, tbs.end, field)) return std::nullopt;
  }
  if (field.tag != 0x02) return std::nullopt; // serialNumber
  at = field.end;
  // signature, issuer, validity, subject: four SEQUENCEs.
  for (int i = 0; i < 4; ++i) {
    if (!read_tlv(der, at, tbs.end, field) || field.tag != 0x30) return std::nullopt;
    at = field.end;
  }
  Tlv spki, alg, bits;
  if (!read_tlv(der, at, tbs.end, spki) || spki.tag != 0x30) return std::nullopt;
  if (!read_tlv(der, spki.content, spki.end, alg) || alg.tag != 0x30) return std::nullopt;
  if (!read_tlv(der, alg.end, spki.end, bits) || bits.tag != 0x03 || bits.end != spki.end)
    return std::nullopt;
  return der.subspan(spki.begin, spki.end - spki.begin);
}

// The contents of the OID id-ecPublicKey (RFC 5480).
constexpr uint8_t kEcPublicKeyOid[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};

// Whether a SubjectPublicKeyInfo holds an elliptic-curve (ECDSA) key.
bool spki_is_ec(std::span<const uint8_t> spki) {
  Tlv seq, alg, oid;
  if (!read_tlv(spki, 0, spki.size(), seq) || !read_tlv(spki, seq.content, seq.end, alg) ||
      !read_tlv(spki, alg.content, alg.end, oid) || oid.tag != 0x06)
    return false;
  auto contents = spki.subspan(oid.content, oid.end - oid.content);
  return std::equal(contents.begin(), contents.end(), std::begin(kEcPublicKeyOid),
                    std::end(kEcPublicKeyOid));
}

// Whether an ECC private key (SEC1 or PKCS#8 DER) belongs to the public key
// of spki. wolfSSL_CTX_check_private_key cannot be trusted with this: in our
// wolfSSL build (--enable-all, which turns on WOLF_CRYPTO_CB) it only checks
// that the certificate's point is in range and accepts any P-256 key (found
// by the test a_mismatched_pair_is_refused). So the public point is derived
// from the private scalar here and compared with the certificate's.
bool ecc_key_matches(std::vector<uint8_t> key_der, std::span<const uint8_t> spki) {
  struct State {
    WC_RNG rng;
    ecc_key priv, pub;
    ecc_point* derived = nullptr;
    bool rng_ok = false, priv_ok = false, pub_ok = false;
    ~State() {
      if (derived) wc_ecc_del_point(derived);
      if (pub_ok) wc_ecc_free(&pub);
      if (priv_ok) wc_ecc_free(&priv);
      if (rng_ok) wc_FreeRng(&rng);
    }
  } st;
  st.rng_ok = wc_InitRng(&st.rng) == 0;
  st.priv_ok = wc_ecc_init(&st.priv) == 0;
  st.pub_ok = wc_ecc_init(&st.pub) == 0;
  st.derived = wc_ecc_new_point();
  if (!st.rng_ok || !st.priv_ok || !st.pub_ok || st.derived == nullptr) return false;

  const word32 size = static_cast<word32>(key_der.size());
  word32 idx = 0;
  if (wc_GetPkcs8TraditionalOffset(key_der.data(), &idx, size) < 0) idx = 0; // not PKCS#8
  bool ok = wc_EccPrivateKeyDecode(key_der.data(), &idx, &st.priv, size) == 0;
  ::explicit_bzero(key_der.data(), key_der.size());
  word32 pub_idx = 0;
  ok = ok &&
       wc_EccPublicKeyDecode(spki.data(), &pub_idx, &st.pub, static_cast<word32>(spki.size())) == 0;
  ok = ok && wc_ecc_get_curve_id(st.priv.idx) == wc_ecc_get_curve_id(st.pub.idx);
  ok = ok && wc_ecc_make_pub_ex(&st.priv, st.derived, &st.rng) == 0;
  uint8_t a[1 + 2 * MAX_ECC_BYTES], b[1 + 2 * MAX_ECC_BYTES];
  word32 alen = sizeof a, blen = sizeof b;
  ok = ok && wc_ecc_export_point_der(st.priv.idx, st.derived, a, &alen) == 0;
  ok = ok && wc_ecc_export_x963(&st.pub, b, &blen) == 0;
  return ok && alen == blen && std::equal(a, a + alen, b);
}

// --- Files -----------------------------------------------------------------

// The text of a wolfSSL or wolfCrypt error code.
std::string wolf_error(int code) {
  char buf[WOLFSSL_MAX_ERROR_SZ];
  wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buf, sizeof buf);
  return strprintf("%s (%d)", buf, code);
}

bool looks_like_pem(std::string_view data) {
  return data.find("-----BEGIN ") != std::string_view::npos;
}

// One PEM certificate block as DER.
Result<std::vector<uint8_t>> pem_cert_to_der(std::string_view pem, const std::string& path) {
  std::vector<uint8_t> der(pem.size());
  int n =
      wc_CertPemToDer(reinterpret_cast<const uint8_t*>(pem.data()), static_cast<int>(pem.size()),
                      der.data(), static_cast<int>(der.size()), CERT_TYPE);
  if (n <= 0)
    return make_error(Errc::usage, path,
                      "not a readable PEM certificate, or corrupt: " + wolf_error(n));
  der.resize(static_cast<size_t>(n));
  return der;
}

// The certificates of a file, in order: every CERTIFICATE block of a PEM
// file (the listener's own first, then its intermediates), or one DER
// certificate.
Result<std::vector<std::vector<uint8_t>>> read_cert_chain(const std::string& path) {
  auto data = read_file(path, kMaxCertFile);
  if (!data) return data.error();
  std::vector<std::vector<uint8_t>> chain;
  if (!looks_like_pem(*data)) {
    chain.emplace_back(data->begin(), data->end());
  } else {
    constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
    constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
    std::string_view text = *data;
    for (size_t at = text.find(kBegin); at != std::string_view::npos; at = text.find(kBegin, at)) {
      size_t end = text.find(kEnd, at);
      if (end == std::string_view::npos)
        return make_error(Errc::usage, path,
                          strprintf("certificate %zu has no END line", chain.size() + 1));
      end += kEnd.size();
      auto der = pem_cert_to_der(text.substr(at, end - at), path);
      if (!der) return der.error();
      chain.push_back(std::move(*der));
      if (chain.size() > kMaxChainCerts)
        return make_error(Errc::usage, path,
                          strprintf("more than %zu certificates in one chain", kMaxChainCerts));
      at = end;
    }
    if (chain.empty()) { // another PEM type: wolfSSL says which is wrong
      auto der = pem_cert_to_der(text, path);
      if (!der) return der.error();
      chain.push_back(std::move(*der));
    }
  }
  for (size_t i = 0; i < chain.size(); ++i)
    if (!find_spki(chain[i]))
      return make_error(Errc::usage, path,
                        chain.size() == 1
                            ? std::string("not a certificate (PEM or DER), or corrupt")
                            : strprintf("certificate %zu is corrupt", i + 1));
  return chain;
}

// Whether wolfSSL can parse the certificate as a peer will (a sender checks
// what the listener presents with the same library). Its limits are not
// obvious from its messages: one is said in words.
Status check_parses(const std::vector<uint8_t>& der, const std::string& path) {
  DecodedCert cert;
  wc_InitDecodedCert(&cert, der.data(), static_cast<word32>(der.size()), nullptr);
  int rc = wc_ParseCert(&cert, CERT_TYPE, NO_VERIFY, nullptr);
  wc_FreeDecodedCert(&cert);
  if (rc == 0) return {};
  std::string why = "wolfSSL cannot use this certificate: " + wolf_error(rc);
  if (rc == ASN_ALT_NAME_E)
    why += strprintf("; it takes at most %d subject alternative names", WOLFSSL_MAX_ALT_NAMES);
  return make_error(Errc::usage, path, why);
}

// Whether the private key belongs to the certificate, judged by wolfSSL as
// the listener will use the pair (and, for ECDSA keys, by ecc_key_matches).
Result<bool> key_matches(const std::vector<uint8_t>& cert_der, const std::string& cert_file,
                         const std::vector<uint8_t>& key_der, const std::string& key_file) {
  wolfSSL_ERR_clear_error();
  Ctx ctx(wolfSSL_CTX_new(wolfTLSv1_3_server_method()));
  if (!ctx) return make_error(Errc::local_io, "TLS", "wolfSSL_CTX_new failed");
  int rc = wolfSSL_CTX_use_certificate_buffer(
      ctx.get(), cert_der.data(), static_cast<long>(cert_der.size()), WOLFSSL_FILETYPE_ASN1);
  if (rc != WOLFSSL_SUCCESS)
    return make_error(Errc::usage, cert_file,
                      "wolfSSL cannot use this certificate: " + wolf_error(rc));
  rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx.get(), key_der.data(),
                                         static_cast<long>(key_der.size()), WOLFSSL_FILETYPE_ASN1);
  if (rc != WOLFSSL_SUCCESS)
    return make_error(Errc::usage, key_file,
                      "not a usable private key (ECDSA, Ed25519 or RSA; PEM or DER), or "
                      "corrupt: " +
                          wolf_error(rc));
  bool ok = wolfSSL_CTX_check_private_key(ctx.get()) == WOLFSSL_SUCCESS;
  auto spki = find_spki(cert_der); // found: read_cert_chain checked
  if (ok && spki_is_ec(*spki) && !ecc_key_matches(key_der, *spki)) ok = false;
  wolfSSL_ERR_clear_error();
  return ok;
}

Result<std::vector<uint8_t>> read_key_der(const std::string& path) {
  auto data = read_private_file(path, kMaxKeyFile);
  if (!data) return data.error();
  std::vector<uint8_t> der;
  if (looks_like_pem(*data)) {
    if (data->find("ENCRYPTED") != std::string::npos) {
      wipe(*data);
      return make_error(Errc::usage, path,
                        "encrypted keys are not supported; decrypt it first, for example with "
                        "`openssl pkey -in ENCRYPTED -out DECRYPTED`");
    }
    der.resize(data->size());
    int n = wc_KeyPemToDer(reinterpret_cast<const uint8_t*>(data->data()),
                           static_cast<int>(data->size()), der.data(), static_cast<int>(der.size()),
                           nullptr);
    wipe(*data);
    if (n <= 0) {
      ::explicit_bzero(der.data(), der.size());
      return make_error(Errc::usage, path,
                        "not a readable PEM private key, or corrupt: " + wolf_error(n));
    }
    der.resize(static_cast<size_t>(n));
  } else {
    der.assign(data->begin(), data->end());
    wipe(*data);
  }
  return der;
}

Result<std::string> der_to_pem(const std::vector<uint8_t>& der, int type, const std::string& path) {
  std::string pem(der.size() * 2 + 128, '\0');
  int n =
      wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                  reinterpret_cast<uint8_t*>(pem.data()), static_cast<word32>(pem.size()), type);
  if (n <= 0) {
    wipe(pem);
    return make_error(Errc::local_io, path, "cannot encode as PEM: " + wolf_error(n));
  }
  pem.resize(static_cast<size_t>(n));
  return pem;
}

// Whether path exists; an error other than "no such file" is reported.
Result<bool> exists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return errno_error(Errc::usage, path, errno); // cannot be read: local configuration
}

std::string env_dir(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] == '/' ? std::string(v) : std::string();
}

std::string home_dir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return home;
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr)
    return found->pw_dir;
  return "";
}

std::string xdg_dir(const char* var, const char* fallback) {
  std::string dir = env_dir(var);
  if (!dir.empty()) return dir;
  std::string home = home_dir();
  return home.empty() ? "" : home + fallback;
}

} // namespace

std::string xdg_data_home() {
  return xdg_dir("XDG_DATA_HOME", "/.local/share");
}

std::string xdg_config_home() {
  return xdg_dir("XDG_CONFIG_HOME", "/.config");
}

Result<std::string> fingerprint_of_cert(std::span<const uint8_t> cert_der) {
  auto spki = find_spki(cert_der);
  if (!spki) return make_error(Errc::usage, "certificate", "not a DER X.509 certificate");
  auto fp = fingerprint_of_spki(*spki);
  if (!fp) return make_error(Errc::usage, "certificate", "cannot compute the fingerprint");
  return std::move(*fp);
}

Result<Identity> load_identity(const std::string& cert_file, const std::string& key_file) {
  auto chain = read_cert_chain(cert_file);
  if (!chain) return chain.error();
  auto key = read_key_der(key_file);
  if (!key) return key.error();
  Identity id;
  id.cert_der = std::move(chain->front());
  id.chain_der.assign(std::make_move_iterator(chain->begin() + 1),
                      std::make_move_iterator(chain->end()));
  id.key_der = std::move(*key);
  if (auto st = check_parses(id.cert_der, cert_file); !st) return st.error();

  auto matches = key_matches(id.cert_der, cert_file, id.key_der, key_file);
  if (!matches) return matches.error();
  if (!*matches) {
    // A chain in the other order (root first) is a common mistake: say so.
    for (size_t i = 0; i < id.chain_der.size(); ++i) {
      auto other = key_matches(id.chain_der[i], cert_file, id.key_der, key_file);
      if (other && *other)
        return make_error(Errc::usage, cert_file,
                          strprintf("the certificate of the key %s is number %zu here; put it "
                                    "first, then its intermediates",
                                    key_file.c_str(), i + 2));
    }
    return make_error(Errc::usage, key_file,
                      "this key does not match the certificate " + cert_file);
  }

  auto fp = fingerprint_of_cert(id.cert_der);
  if (!fp) return make_error(Errc::usage, cert_file, fp.error().why);
  id.fingerprint = std::move(*fp);
  return id;
}

Result<Identity> load_or_create_identity(const std::string& dir) {
  // Two listeners starting for the first time must not each write half of
  // an identity.
  auto lock = DirLock::acquire(dir);
  if (!lock) return lock.error();

  const std::string key_path = dir + "/" + kKeyName;
  const std::string cert_path = dir + "/" + kCertName;
  auto key_exists = exists(key_path);
  if (!key_exists) return key_exists.error();
  auto cert_exists = exists(cert_path);
  if (!cert_exists) return cert_exists.error();
  if (*key_exists) {
    if (!*cert_exists)
      return make_error(Errc::usage, cert_path,
                        "missing, but its key " + key_path +
                            " exists; restore the certificate, or remove the key to generate a "
                            "new identity (its fingerprint will change)");
    return load_identity(cert_path, key_path);
  }

  // No key: generate. A certificate without a key is left over from an
  // interrupted first run and is replaced.
  auto id = generate_identity();
  if (!id) return id.error();
  auto cert_pem = der_to_pem(id->cert_der, CERT_TYPE, cert_path);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = der_to_pem(id->key_der, ECC_PRIVATEKEY_TYPE, key_path);
  if (!key_pem) return key_pem.error();
  Status s = write_file_atomic(cert_path, *cert_pem, 0644);
  if (s) s = write_file_atomic(key_path, *key_pem, 0600);
  wipe(*key_pem);
  if (!s) return s.error();
  return id;
}

} // namespace qpipe::tls
