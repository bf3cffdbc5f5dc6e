// Address validation for a listener (RFC 9000 §8.1): Retry packets and the
// tokens they carry.
//
// An Initial packet's source address can be forged, so a listener that
// kept state for every Initial could be filled by a flood it cannot even
// answer. A Retry costs it nothing: it sends a token that only a sender at
// that address receives; the sender repeats its Initial with the token, and
// only then is state kept. The tokens are sealed with a key made at random
// when the listener starts (ngtcp2_crypto's retry tokens: the address, the
// connection IDs and the time, under AEAD), and expire after kRetryTokenTtl.
#pragma once

#include <array>
#include <cstdint>
#include <ngtcp2/ngtcp2.h>

#include "transport/udp_socket.h"

namespace qpipe::transport {

inline constexpr uint64_t kRetryTokenTtlMs = 10'000;

class RetryTokens {
public:
  RetryTokens(); // a fresh random key

  // Writes a Retry answering the Initial `hd` from `remote` into buf;
  // returns its length, or 0 when it cannot be made.
  size_t write_retry(uint8_t* buf, size_t len, const ngtcp2_pkt_hd& hd, const Address& remote,
                     uint64_t now_ns) const;

  enum class Check {
    none,    // no token of ours: the address is not validated
    valid,   // *odcid: the connection ID the sender first chose
    invalid, // forged, for another address, or expired
  };
  Check check(const ngtcp2_pkt_hd& hd, const Address& remote, uint64_t now_ns,
              ngtcp2_cid* odcid) const;

private:
  std::array<uint8_t, 32> key_{};
};

} // namespace qpipe::transport
