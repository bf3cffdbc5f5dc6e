#include "transport/retry_tokens.h"

#include <ngtcp2/ngtcp2_crypto.h>

#include "transport/connection.h"

namespace qpipe::transport {

namespace {
constexpr size_t kRetryCidLen = kCidLen; // as the listener's own connection IDs
} // namespace

RetryTokens::RetryTokens() {
  random_bytes(key_.data(), key_.size());
}

size_t RetryTokens::write_retry(uint8_t* buf, size_t len, const ngtcp2_pkt_hd& hd,
                                const Address& remote, uint64_t now_ns) const {
  ngtcp2_cid scid;
  scid.datalen = kRetryCidLen;
  random_bytes(scid.data, scid.datalen);
  std::array<uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN2> token;
  ngtcp2_ssize tokenlen =
      ngtcp2_crypto_generate_retry_token2(token.data(), key_.data(), key_.size(), hd.version,
                                          remote.sa(), remote.len, &scid, &hd.dcid, now_ns);
  if (tokenlen < 0) return 0;
  ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, len, hd.version, &hd.scid, &scid, &hd.dcid,
                                             token.data(), static_cast<size_t>(tokenlen));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

RetryTokens::Check RetryTokens::check(const ngtcp2_pkt_hd& hd, const Address& remote,
                                      uint64_t now_ns, ngtcp2_cid* odcid) const {
  if (hd.tokenlen == 0 || hd.token[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY2) return Check::none;
  int rv = ngtcp2_crypto_verify_retry_token2(odcid, hd.token, hd.tokenlen, key_.data(), key_.size(),
                                             hd.version, remote.sa(), remote.len, &hd.dcid,
                                             kRetryTokenTtlMs * NGTCP2_MILLISECONDS, now_ns);
  if (rv == 0) return Check::valid;
  // A token that does not even decode is treated as none (the sender gets
  // a Retry); one that decodes but fails is refused.
  return rv == NGTCP2_CRYPTO_ERR_VERIFY_TOKEN ? Check::invalid : Check::none;
}

} // namespace qpipe::transport
