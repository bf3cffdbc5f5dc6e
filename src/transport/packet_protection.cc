#include "transport/packet_protection.h"

#include <wolfssl/options.h>

#include <cstring>
#include <limits>
#include <wolfssl/openssl/evp.h>
#include <wolfssl/wolfcrypt/aes.h>

namespace qpipe::transport {
namespace {

constexpr size_t kTagLen = 16;

// The AES key schedule inside an EVP context of one of the two kinds, or
// null when the context holds anything else.
Aes* aes_of(void* native_handle, unsigned char kind128, unsigned char kind256) {
  auto* ctx = static_cast<WOLFSSL_EVP_CIPHER_CTX*>(native_handle);
  if (ctx == nullptr || (ctx->cipherType != kind128 && ctx->cipherType != kind256)) return nullptr;
  return &ctx->cipher.aes;
}

Aes* gcm_key(const ngtcp2_crypto_aead_ctx* aead_ctx) {
  return aes_of(aead_ctx->native_handle, AES_128_GCM_TYPE, AES_256_GCM_TYPE);
}

bool fits(size_t n) {
  return n <= std::numeric_limits<word32>::max();
}

} // namespace

int seal_packet(uint8_t* dest, const ngtcp2_crypto_aead*, const ngtcp2_crypto_aead_ctx* aead_ctx,
                const uint8_t* plaintext, size_t plaintextlen, const uint8_t* nonce,
                size_t noncelen, const uint8_t* aad, size_t aadlen) {
  Aes* aes = gcm_key(aead_ctx);
  if (aes == nullptr || !fits(plaintextlen) || !fits(aadlen)) return NGTCP2_ERR_CALLBACK_FAILURE;
  int rv = wc_AesGcmEncrypt(aes, dest, plaintext, static_cast<word32>(plaintextlen), nonce,
                            static_cast<word32>(noncelen), dest + plaintextlen, kTagLen, aad,
                            static_cast<word32>(aadlen));
  return rv == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int open_packet(uint8_t* dest, const ngtcp2_crypto_aead*, const ngtcp2_crypto_aead_ctx* aead_ctx,
                const uint8_t* ciphertext, size_t ciphertextlen, const uint8_t* nonce,
                size_t noncelen, const uint8_t* aad, size_t aadlen) {
  Aes* aes = gcm_key(aead_ctx);
  if (aes == nullptr) return NGTCP2_ERR_CALLBACK_FAILURE;
  if (ciphertextlen < kTagLen || !fits(ciphertextlen) || !fits(aadlen)) return NGTCP2_ERR_DECRYPT;
  const size_t n = ciphertextlen - kTagLen;
  int rv = wc_AesGcmDecrypt(aes, dest, ciphertext, static_cast<word32>(n), nonce,
                            static_cast<word32>(noncelen), ciphertext + n, kTagLen, aad,
                            static_cast<word32>(aadlen));
  return rv == 0 ? 0 : NGTCP2_ERR_DECRYPT;
}

int header_protection_mask(uint8_t* dest, const ngtcp2_crypto_cipher*,
                           const ngtcp2_crypto_cipher_ctx* hp_ctx, const uint8_t* sample) {
  // The glue keys AES-CTR for this and uses the sample as its counter
  // block, so the mask is the AES encryption of the sample (RFC 9001,
  // 5.4.3).
  Aes* aes = aes_of(hp_ctx->native_handle, AES_128_CTR_TYPE, AES_256_CTR_TYPE);
  if (aes == nullptr) return NGTCP2_ERR_CALLBACK_FAILURE;
  // The sample sits 4 bytes past the packet number, rarely 16-byte aligned,
  // and wolfSSL's AES-NI block encryption allocates a bounce buffer for an
  // unaligned input.
  alignas(16) uint8_t block[NGTCP2_HP_SAMPLELEN];
  std::memcpy(block, sample, sizeof block);
  return wc_AesEncryptDirect(aes, dest, block) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

} // namespace qpipe::transport
