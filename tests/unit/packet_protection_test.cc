// packet_protection seals, opens and masks exactly as ngtcp2's wolfSSL glue
// does (same bytes), in place as ngtcp2 seals, refuses what does not open,
// and serves no cipher but AES.
#include <boost/test/unit_test.hpp>

#include <wolfssl/options.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <wolfssl/openssl/evp.h>
#include <wolfssl/quic.h>
#include <wolfssl/ssl.h>

#include "transport/packet_protection.h"

namespace qpipe::transport {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

// An AEAD's encrypt and decrypt contexts, made by ngtcp2's glue as for a
// connection's keys, freed on scope exit.
struct AeadKeys {
  ngtcp2_crypto_aead aead{};
  ngtcp2_crypto_aead_ctx enc{}, dec{};
  AeadKeys(const WOLFSSL_EVP_CIPHER* cipher, size_t keylen) {
    aead.native_handle = const_cast<WOLFSSL_EVP_CIPHER*>(cipher);
    aead.max_overhead = 16;
    Bytes key = pattern(keylen, 3);
    BOOST_REQUIRE(ngtcp2_crypto_aead_ctx_encrypt_init(&enc, &aead, key.data(), 12) == 0);
    BOOST_REQUIRE(ngtcp2_crypto_aead_ctx_decrypt_init(&dec, &aead, key.data(), 12) == 0);
  }
  ~AeadKeys() {
    ngtcp2_crypto_aead_ctx_free(&enc);
    ngtcp2_crypto_aead_ctx_free(&dec);
  }
  AeadKeys(const AeadKeys&) = delete;
  AeadKeys& operator=(const AeadKeys&) = delete;
};

void check_same_as_glue(const WOLFSSL_EVP_CIPHER* cipher, size_t keylen) {
  AeadKeys k(cipher, keylen);
  const Bytes nonce = pattern(12, 40), aad = pattern(21, 90);
  for (size_t len :
       {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{1200}, size_t{1452}, size_t{65000}}) {
    BOOST_TEST_CONTEXT("payload " << len) {
      const Bytes plain = pattern(len, static_cast<uint8_t>(len));
      Bytes glue(len + 16), ours = plain;
      ours.resize(len + 16);
      BOOST_REQUIRE(ngtcp2_crypto_encrypt(glue.data(), &k.aead, &k.enc, plain.data(), len,
                                          nonce.data(), nonce.size(), aad.data(), aad.size()) == 0);
      // In place, as ngtcp2 seals a packet.
      BOOST_REQUIRE(seal_packet(ours.data(), &k.aead, &k.enc, ours.data(), len, nonce.data(),
                                nonce.size(), aad.data(), aad.size()) == 0);
      BOOST_TEST(ours == glue);

      Bytes opened(len + 1, 0xee);
      BOOST_REQUIRE(open_packet(opened.data(), &k.aead, &k.dec, glue.data(), glue.size(),
                                nonce.data(), nonce.size(), aad.data(), aad.size()) == 0);
      opened.resize(len);
      BOOST_TEST(opened == plain);

      // A flipped bit anywhere (payload, tag, header, nonce) does not open.
      Bytes bad = glue;
      bad[bad.size() / 2] ^= 1;
      BOOST_TEST(open_packet(opened.data(), &k.aead, &k.dec, bad.data(), bad.size(), nonce.data(),
                             nonce.size(), aad.data(), aad.size()) == NGTCP2_ERR_DECRYPT);
      Bytes bad_aad = aad;
      bad_aad[0] ^= 0x80;
      BOOST_TEST(open_packet(opened.data(), &k.aead, &k.dec, glue.data(), glue.size(), nonce.data(),
                             nonce.size(), bad_aad.data(), bad_aad.size()) == NGTCP2_ERR_DECRYPT);
      Bytes bad_nonce = nonce;
      bad_nonce[11] ^= 1;
      BOOST_TEST(open_packet(opened.data(), &k.aead, &k.dec, glue.data(), glue.size(),
                             bad_nonce.data(), bad_nonce.size(), aad.data(),
                             aad.size()) == NGTCP2_ERR_DECRYPT);
    }
  }
  // Shorter than a tag: refused, not read past.
  uint8_t out[16];
  const Bytes shorter = pattern(15, 1);
  BOOST_TEST(open_packet(out, &k.aead, &k.dec, shorter.data(), shorter.size(), nonce.data(),
                         nonce.size(), aad.data(), aad.size()) == NGTCP2_ERR_DECRYPT);
}

void check_mask_same_as_glue(const WOLFSSL_EVP_CIPHER* cipher, size_t keylen) {
  ngtcp2_crypto_cipher hp{const_cast<WOLFSSL_EVP_CIPHER*>(cipher)};
  // The context the glue makes for header protection: the cipher keyed for
  // encryption, no IV yet.
  Bytes key = pattern(keylen, 200);
  ngtcp2_crypto_cipher_ctx ctx{wolfSSL_quic_crypt_new(cipher, key.data(), nullptr, 1)};
  BOOST_REQUIRE(ctx.native_handle != nullptr);
  for (uint8_t seed : {0, 1, 77, 255}) {
    // At several alignments: in a packet the sample rarely starts on 16 bytes.
    for (size_t offset : {0, 1, 5, 13}) {
      const Bytes sample = pattern(NGTCP2_HP_SAMPLELEN, seed);
      Bytes packet(offset + sample.size());
      std::copy(sample.begin(), sample.end(), packet.begin() + static_cast<long>(offset));
      uint8_t glue[NGTCP2_HP_SAMPLELEN] = {}, ours[NGTCP2_HP_SAMPLELEN] = {};
      BOOST_REQUIRE(ngtcp2_crypto_hp_mask(glue, &hp, &ctx, sample.data()) == 0);
      BOOST_REQUIRE(header_protection_mask(ours, &hp, &ctx, packet.data() + offset) == 0);
      BOOST_TEST(Bytes(ours, ours + NGTCP2_HP_MASKLEN) == Bytes(glue, glue + NGTCP2_HP_MASKLEN));
    }
  }
  wolfSSL_EVP_CIPHER_CTX_free(static_cast<WOLFSSL_EVP_CIPHER_CTX*>(ctx.native_handle));
}

} // namespace

BOOST_AUTO_TEST_SUITE(packet_protection)

BOOST_AUTO_TEST_CASE(aes_128_gcm_seals_and_opens_as_the_glue_does) {
  check_same_as_glue(wolfSSL_EVP_aes_128_gcm(), 16);
}

BOOST_AUTO_TEST_CASE(aes_256_gcm_seals_and_opens_as_the_glue_does) {
  check_same_as_glue(wolfSSL_EVP_aes_256_gcm(), 32);
}

BOOST_AUTO_TEST_CASE(aes_header_protection_masks_as_the_glue_does) {
  check_mask_same_as_glue(wolfSSL_EVP_aes_128_ctr(), 16);
  check_mask_same_as_glue(wolfSSL_EVP_aes_256_ctr(), 32);
}

// The pinned wolfSSL opens ChaCha20-Poly1305 through the glue without
// checking the tag (CVE-2026-5479): such contexts are refused, not passed on.
BOOST_AUTO_TEST_CASE(chacha20_poly1305_is_refused) {
  AeadKeys k(wolfSSL_EVP_chacha20_poly1305(), 32);
  const Bytes nonce = pattern(12, 40), aad = pattern(21, 90), plain = pattern(100, 5);
  Bytes sealed(plain.size() + 16);
  BOOST_TEST(seal_packet(sealed.data(), &k.aead, &k.enc, plain.data(), plain.size(), nonce.data(),
                         nonce.size(), aad.data(), aad.size()) == NGTCP2_ERR_CALLBACK_FAILURE);
  BOOST_REQUIRE(ngtcp2_crypto_encrypt(sealed.data(), &k.aead, &k.enc, plain.data(), plain.size(),
                                      nonce.data(), nonce.size(), aad.data(), aad.size()) == 0);
  Bytes opened(plain.size());
  BOOST_TEST(open_packet(opened.data(), &k.aead, &k.dec, sealed.data(), sealed.size(), nonce.data(),
                         nonce.size(), aad.data(), aad.size()) == NGTCP2_ERR_CALLBACK_FAILURE);

  ngtcp2_crypto_cipher hp{const_cast<WOLFSSL_EVP_CIPHER*>(wolfSSL_EVP_chacha20())};
  Bytes key = pattern(32, 200);
  ngtcp2_crypto_cipher_ctx ctx{
      wolfSSL_quic_crypt_new(wolfSSL_EVP_chacha20(), key.data(), nullptr, 1)};
  BOOST_REQUIRE(ctx.native_handle != nullptr);
  uint8_t mask[NGTCP2_HP_SAMPLELEN];
  const Bytes sample = pattern(NGTCP2_HP_SAMPLELEN, 9);
  BOOST_TEST(header_protection_mask(mask, &hp, &ctx, sample.data()) == NGTCP2_ERR_CALLBACK_FAILURE);
  wolfSSL_EVP_CIPHER_CTX_free(static_cast<WOLFSSL_EVP_CIPHER_CTX*>(ctx.native_handle));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::transport
