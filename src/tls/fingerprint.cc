// Fingerprints: their syntax and how one is computed; see fingerprint.h.
#include "tls/fingerprint.h"

#include <wolfssl/options.h>

#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/hash.h>

namespace qpipe::tls {
namespace {

constexpr size_t kFingerprintChars = 43; // base64 of 32 bytes, no padding

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

} // namespace

bool is_fingerprint(std::string_view text) {
  if (text.size() != kFingerprintPrefix.size() + kFingerprintChars ||
      text.substr(0, kFingerprintPrefix.size()) != kFingerprintPrefix)
    return false;
  for (char c : text.substr(kFingerprintPrefix.size()))
    if (!is_base64_char(c)) return false;
  return true;
}

std::optional<std::string> fingerprint_of_spki(std::span<const uint8_t> spki_der) {
  uint8_t digest[WC_SHA256_DIGEST_SIZE];
  if (wc_Sha256Hash(spki_der.data(), static_cast<word32>(spki_der.size()), digest) != 0)
    return std::nullopt;
  uint8_t b64[64];
  word32 b64len = sizeof b64;
  if (Base64_Encode_NoNl(digest, sizeof digest, b64, &b64len) != 0) return std::nullopt;
  std::string fp(reinterpret_cast<char*>(b64), b64len);
  while (!fp.empty() && fp.back() == '=')
    fp.pop_back();
  return std::string(kFingerprintPrefix) + fp;
}

} // namespace qpipe::tls
