// Tests of fingerprints (src/tls/fingerprint.h): the one syntax check that
// --pin and known_hosts share, and the computation from a public key.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tls/fingerprint.h"
#include "tls/tls_context.h"

namespace qpipe::tls {
namespace {

std::vector<uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(fingerprint)

BOOST_AUTO_TEST_CASE(the_syntax_is_sha256_and_43_base64_characters) {
  BOOST_TEST(is_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  BOOST_TEST(!is_fingerprint(""));
  BOOST_TEST(!is_fingerprint("SHA256:"));
  BOOST_TEST(!is_fingerprint("SHA256:abc"));
  BOOST_TEST(!is_fingerprint("sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  BOOST_TEST(!is_fingerprint("MD5:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  // Padding, a character outside base64, one character too many or too few.
  BOOST_TEST(!is_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  BOOST_TEST(!is_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF-"));
  BOOST_TEST(!is_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUx"));
  BOOST_TEST(!is_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF"));
}

BOOST_AUTO_TEST_CASE(computed_from_the_sha256_of_the_key) {
  // SHA-256("abc") in unpadded base64.
  auto fp = fingerprint_of_spki(bytes_of("abc"));
  BOOST_REQUIRE(fp.has_value());
  BOOST_TEST(*fp == "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
  BOOST_TEST(is_fingerprint(*fp));
}

BOOST_AUTO_TEST_CASE(a_generated_identity_has_a_valid_fingerprint) {
  auto id = generate_identity();
  BOOST_REQUIRE(id.ok());
  BOOST_TEST(is_fingerprint(id->fingerprint));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
