// Shared secrets (read, HMAC, constant-time comparison, TLS exporter): see
// secret.h.
#include "tls/secret.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/fs.h"
#include "core/log.h"
#include "tls/tls_context.h"

namespace qpipe::tls {
namespace {

constexpr size_t kMaxSecret = 4096;

} // namespace

Result<std::string> read_secret_file(const std::string& path) {
  // Room for the secret and a "\r\n" after it.
  auto data = read_private_file(path, kMaxSecret + 2);
  if (!data) return data.error();
  std::string secret = std::move(data.value());
  if (!secret.empty() && secret.back() == '\n') {
    secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  }
  if (secret.empty()) return make_error(Errc::usage, path, "the secret is empty");
  if (secret.size() > kMaxSecret) {
    wipe(secret);
    return make_error(Errc::usage, path,
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
