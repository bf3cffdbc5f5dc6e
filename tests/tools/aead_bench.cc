// qpipe-aead-bench: the CPU cost of QUIC's AES-128-GCM in this build, for
// scripts/bench's "socat + AES-GCM" floor. It seals and opens packets of
// PAYLOAD bytes with the calls qpipe makes for every packet (seal_packet and
// open_packet of src/transport/packet_protection.h over the pinned wolfSSL,
// a 12-byte nonce and a short header as associated data), until MIB MiB of
// payload went through each, and prints the CPU seconds per GiB of payload:
//
//   qpipe-aead-bench [PAYLOAD [MIB]]      (default 1452 bytes, 512 MiB)
//   -> "encrypt 0.121 decrypt 0.118 s/GiB, 1452-byte packets"
//
// Header protection (one AES block per packet) is not counted. Exit 0, 1 if
// a call fails or a packet does not open, 2 on bad arguments.
#include <wolfssl/options.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <wolfssl/openssl/evp.h>

#include "transport/packet_protection.h"

namespace {

double cpu_seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int fail(const char* what) {
  std::fprintf(stderr, "qpipe-aead-bench: %s: failed\n", what);
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  long payload = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1452;
  long mib = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 512;
  if (argc > 3 || payload < 1 || payload > 65536 || mib < 1 || mib > 65536) {
    std::fprintf(stderr, "usage: qpipe-aead-bench [PAYLOAD [MIB]]\n");
    return 2;
  }
  ngtcp2_crypto_aead aead{};
  aead.native_handle = const_cast<WOLFSSL_EVP_CIPHER*>(wolfSSL_EVP_aes_128_gcm());
  aead.max_overhead = 16;
  const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  ngtcp2_crypto_aead_ctx enc{}, dec{};
  if (ngtcp2_crypto_aead_ctx_encrypt_init(&enc, &aead, key, 12) != 0) return fail("encrypt init");
  if (ngtcp2_crypto_aead_ctx_decrypt_init(&dec, &aead, key, 12) != 0) return fail("decrypt init");
  const size_t n = static_cast<size_t>(payload);
  // Packets go in batches, each timed as a whole, so that reading the clock
  // costs next to nothing.
  constexpr size_t kBatch = 64;
  std::vector<uint8_t> plain(n, 0x5a), sealed(kBatch * (n + 16)), opened(n);
  uint8_t aad[20] = {0x40};
  uint8_t nonce[12] = {};
  // A new packet number each time, in the nonce and the header.
  auto number = [&](uint64_t pn) {
    for (int b = 0; b < 8; ++b)
      nonce[11 - b] = aad[19 - b] = static_cast<uint8_t>(pn >> (8 * b));
  };
  const uint64_t batches = (static_cast<uint64_t>(mib) << 20) / (n * kBatch) + 1;
  double enc_s = 0, dec_s = 0;
  int rc = 0;
  for (uint64_t i = 0; i < batches && rc == 0; ++i) {
    double t0 = cpu_seconds();
    for (size_t k = 0; k < kBatch && rc == 0; ++k) {
      number(i * kBatch + k);
      if (qpipe::transport::seal_packet(&sealed[k * (n + 16)], &aead, &enc, plain.data(), n, nonce,
                                        12, aad, sizeof aad) != 0)
        rc = fail("encrypt");
    }
    double t1 = cpu_seconds();
    for (size_t k = 0; k < kBatch && rc == 0; ++k) {
      number(i * kBatch + k);
      if (qpipe::transport::open_packet(opened.data(), &aead, &dec, &sealed[k * (n + 16)], n + 16,
                                        nonce, 12, aad, sizeof aad) != 0)
        rc = fail("decrypt");
    }
    double t2 = cpu_seconds();
    enc_s += t1 - t0;
    dec_s += t2 - t1;
  }
  ngtcp2_crypto_aead_ctx_free(&enc);
  ngtcp2_crypto_aead_ctx_free(&dec);
  if (rc != 0) return rc;
  if (opened != plain) return fail("round trip");
  const double gib = static_cast<double>(batches * kBatch) * static_cast<double>(n) / (1u << 30);
  std::printf("encrypt %.3f decrypt %.3f s/GiB, %zu-byte packets\n", enc_s / gib, dec_s / gib, n);
  return 0;
}
