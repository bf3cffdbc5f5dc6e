// Packet protection for ngtcp2: AES-GCM sealing and opening of every QUIC
// packet, and its header protection mask, as one call each into wolfSSL's
// AES-GCM (AES-NI/AVX2 in this build) with the key ngtcp2's crypto glue set
// up.
//
// The glue (ngtcp2_crypto_encrypt over wolfSSL_quic_aead_encrypt) drives
// wolfSSL's EVP interface: a cipher init with the nonce, an update for the
// header, one for the payload, a final and a control call for the tag, and
// three more calls to mask one header. At MTU 1500 that set-up is paid
// 730,000 times per GiB on each side. These functions take the AES key out
// of the EVP context the glue made (WOLFSSL_EVP_CIPHER_CTX is a public
// struct) and call wc_AesGcmEncrypt, wc_AesGcmDecrypt and
// wc_AesEncryptDirect. Same bytes on the wire: the unit test compares them
// with the glue's.
//
// Only AES-GCM is served (tls_context.cc offers nothing else); a context
// of another cipher fails every call rather than reach the glue's
// ChaCha20-Poly1305, which the pinned wolfSSL opens without checking the
// tag (CVE-2026-5479), and that fails the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ngtcp2/ngtcp2.h>

namespace qpipe::transport {

// ngtcp2_encrypt: 0, or NGTCP2_ERR_CALLBACK_FAILURE. dest may be plaintext.
int seal_packet(uint8_t* dest, const ngtcp2_crypto_aead* aead,
                const ngtcp2_crypto_aead_ctx* aead_ctx, const uint8_t* plaintext,
                size_t plaintextlen, const uint8_t* nonce, size_t noncelen, const uint8_t* aad,
                size_t aadlen);

// ngtcp2_decrypt: 0, NGTCP2_ERR_DECRYPT when the packet does not open, or
// NGTCP2_ERR_CALLBACK_FAILURE for a context that is not AES-GCM.
// dest is not ciphertext (ngtcp2 opens into a buffer of its own).
int open_packet(uint8_t* dest, const ngtcp2_crypto_aead* aead,
                const ngtcp2_crypto_aead_ctx* aead_ctx, const uint8_t* ciphertext,
                size_t ciphertextlen, const uint8_t* nonce, size_t noncelen, const uint8_t* aad,
                size_t aadlen);

// ngtcp2_hp_mask: writes NGTCP2_HP_SAMPLELEN bytes to dest (ngtcp2 provides
// that much room and uses the first NGTCP2_HP_MASKLEN); 0, or
// NGTCP2_ERR_CALLBACK_FAILURE.
int header_protection_mask(uint8_t* dest, const ngtcp2_crypto_cipher* hp,
                           const ngtcp2_crypto_cipher_ctx* hp_ctx, const uint8_t* sample);

} // namespace qpipe::transport
