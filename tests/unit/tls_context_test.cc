// The TLS contexts qpipe makes: which cipher suites a session offers (as a
// client) and accepts (as a server).
#include <boost/test/unit_test.hpp>

#include <wolfssl/options.h>

#include <string>
#include <vector>
#include <wolfssl/ssl.h>

#include "tls/tls_context.h"

namespace qpipe::tls {
namespace {

std::vector<std::string> suites(WOLFSSL* ssl) {
  std::vector<std::string> names;
  WOLF_STACK_OF(WOLFSSL_CIPHER)* list = wolfSSL_get_ciphers_compat(ssl);
  for (int i = 0; i < wolfSSL_sk_SSL_CIPHER_num(list); ++i)
    names.emplace_back(wolfSSL_CIPHER_get_name(wolfSSL_sk_SSL_CIPHER_value(list, i)));
  return names;
}

const std::vector<std::string> kAesGcmOnly = {"TLS13-AES128-GCM-SHA256", "TLS13-AES256-GCM-SHA384"};

} // namespace

BOOST_AUTO_TEST_SUITE(tls_context)

// ChaCha20-Poly1305 is left out: the pinned wolfSSL opens it without
// checking the tag (CVE-2026-5479; see packet_protection_test too).
BOOST_AUTO_TEST_CASE(a_client_session_offers_aes_gcm_only) {
  auto ctx = make_client_context();
  BOOST_REQUIRE(ctx);
  auto ssl = make_client_session(ctx->get(), "localhost");
  BOOST_REQUIRE(ssl);
  BOOST_TEST(suites(ssl->get()) == kAesGcmOnly, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_server_session_accepts_aes_gcm_only) {
  auto id = generate_identity();
  BOOST_REQUIRE(id);
  auto ctx = make_server_context(*id);
  BOOST_REQUIRE(ctx);
  auto ssl = make_server_session(ctx->get());
  BOOST_REQUIRE(ssl);
  BOOST_TEST(suites(ssl->get()) == kAesGcmOnly, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
