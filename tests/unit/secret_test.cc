// Tests of the shared secret (src/tls/secret.h): reading --secret-file (a
// private file), HMAC-SHA256 against RFC 4231, constant-time comparison and
// the TLS exporter.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "tls/secret.h"

namespace qpipe::tls {
namespace {

// A per-test directory (tests/unit/temp_dir.h).
struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-secret") {}
};

std::vector<uint8_t> bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> unhex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<uint8_t> hmac(const std::vector<uint8_t>& key, const std::vector<uint8_t>& data) {
  auto out = hmac_sha256(key, data);
  return std::vector<uint8_t>(out.begin(), out.end());
}

using qpipe::test::write_file;

} // namespace

BOOST_AUTO_TEST_SUITE(secret)

BOOST_AUTO_TEST_CASE(reads_the_secret_and_strips_one_trailing_newline) {
  TempDir dir;
  const std::string f = dir / "s";
  write_file(f, "hunter2\n", 0600);
  auto s = read_secret_file(f);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(*s == "hunter2");

  write_file(f, "hunter2", 0600);
  BOOST_TEST(*read_secret_file(f) == "hunter2");
  write_file(f, "hunter2\n\n", 0600); // only one newline goes
  BOOST_TEST(*read_secret_file(f) == "hunter2\n");
  write_file(f, "hunter2\r\n", 0600); // a file edited on Windows
  BOOST_TEST(*read_secret_file(f) == "hunter2");
  write_file(f, " spaced out \n", 0600); // other whitespace is part of the secret
  BOOST_TEST(*read_secret_file(f) == " spaced out ");
  write_file(f, std::string("a\0b", 3), 0400); // binary secrets are fine; 0400 too
  BOOST_TEST(*read_secret_file(f) == std::string("a\0b", 3));
}

BOOST_AUTO_TEST_CASE(a_file_others_can_access_is_refused_with_the_fix) {
  TempDir dir;
  const std::string f = dir / "s";
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0610, 0601}) {
    write_file(f, "hunter2\n", mode);
    auto s = read_secret_file(f);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
    BOOST_TEST(s.error().what == f);
    BOOST_TEST(s.error().message().find("chmod 600 " + f) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_empty_secret_is_refused) {
  TempDir dir;
  const std::string f = dir / "s";
  for (const char* content : {"", "\n", "\r\n"}) {
    write_file(f, content, 0600);
    auto s = read_secret_file(f);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
    BOOST_TEST(s.error().why.find("empty") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(secrets_are_at_most_4096_bytes) {
  TempDir dir;
  const std::string f = dir / "s";
  write_file(f, std::string(4096, 'x'), 0600);
  BOOST_TEST(read_secret_file(f)->size() == 4096u);
  write_file(f, std::string(4096, 'x') + "\n", 0600);
  BOOST_TEST(read_secret_file(f)->size() == 4096u);
  write_file(f, std::string(4096, 'x') + "\r\n", 0600);
  BOOST_TEST(read_secret_file(f)->size() == 4096u);
  for (size_t n : {4097, 4098, 4099, 100000}) {
    write_file(f, std::string(n, 'x'), 0600);
    auto s = read_secret_file(f);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
  }
}

BOOST_AUTO_TEST_CASE(a_missing_file_or_a_directory_is_a_configuration_error) {
  TempDir dir;
  auto s = read_secret_file(dir / "nope");
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
  BOOST_TEST(s.error().what == dir / "nope");
  BOOST_REQUIRE_EQUAL(::chmod(dir.path.c_str(), 0700), 0);
  auto d = read_secret_file(dir.path);
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(static_cast<int>(d.error().code) == static_cast<int>(Errc::usage));
}

// RFC 4231, section 4.
BOOST_AUTO_TEST_CASE(hmac_sha256_matches_rfc_4231) {
  // Test case 1.
  BOOST_TEST(hmac(std::vector<uint8_t>(20, 0x0b), bytes("Hi There")) ==
                 unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
             boost::test_tools::per_element());
  // Test case 2: a key shorter than the output.
  BOOST_TEST(hmac(bytes("Jefe"), bytes("what do ya want for nothing?")) ==
                 unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
             boost::test_tools::per_element());
  // Test case 6: a key longer than the block size is hashed first.
  BOOST_TEST(hmac(std::vector<uint8_t>(131, 0xaa),
                  bytes("Test Using Larger Than Block-Size Key - Hash Key First")) ==
                 unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
             boost::test_tools::per_element());
  // An empty key and empty data (a well-known value).
  BOOST_TEST(hmac({}, {}) ==
                 unhex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_length_and_content) {
  std::vector<uint8_t> a = bytes("0123456789abcdef0123456789abcdef");
  std::vector<uint8_t> b = a;
  BOOST_TEST(constant_time_equal(a, b));
  BOOST_TEST(constant_time_equal({}, {}));
  for (size_t i = 0; i < a.size(); ++i) {
    // A fresh copy each round: assigning to the outer b here makes GCC 12
    // report a false -Wstringop-overflow at -O3.
    std::vector<uint8_t> b = a;
    b[i] ^= 0x01; // one bit anywhere
    BOOST_TEST(!constant_time_equal(a, b));
    b[i] ^= 0x81;
    BOOST_TEST(!constant_time_equal(a, b));
  }
  b = a;
  b.pop_back(); // a prefix
  BOOST_TEST(!constant_time_equal(a, b));
  BOOST_TEST(!constant_time_equal(b, a));
  std::vector<uint8_t> zeros(4, 0), longer(5, 0); // the missing byte would be 0 too
  BOOST_TEST(!constant_time_equal(zeros, longer));
  BOOST_TEST(!constant_time_equal({}, zeros));
}

BOOST_AUTO_TEST_CASE(the_exporter_needs_a_session) {
  auto e = tls_exporter(nullptr, kSecretProofLabel);
  BOOST_REQUIRE(!e.ok());
  BOOST_TEST(static_cast<int>(e.error().code) == static_cast<int>(Errc::connect));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
