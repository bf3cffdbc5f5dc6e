// Tests of the listener's identity on disk and of certificate fingerprints
// (src/tls/identity_store.h): first use creates a private directory and key,
// later runs reload the same identity, too-open or corrupt files are refused
// with a message that names them, and --cert/--key accept PEM and DER.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "tls/identity_store.h"
#include "tls/tls_context.h"

namespace qpipe::tls {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A per-test directory (tests/unit/temp_dir.h).
struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-identity") {}
};

using qpipe::test::ScopedEnv;

using qpipe::test::write_file;

void write_file(const std::string& path, const Bytes& data, mode_t mode) {
  write_file(path, std::string(data.begin(), data.end()), mode);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

using qpipe::test::mode_of;
using qpipe::test::names_in;

std::string pem(const Bytes& der, int type) {
  std::string out(der.size() * 2 + 128, '\0');
  int n =
      wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                  reinterpret_cast<uint8_t*>(out.data()), static_cast<word32>(out.size()), type);
  BOOST_REQUIRE(n > 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

Identity generated() {
  auto id = generate_identity();
  BOOST_REQUIRE(id.ok());
  return std::move(id.value());
}

// The message of a failed result, for test output.
template <typename T> std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : r.error().message();
}

template <typename T> void require_error(const Result<T>& r, Errc code, const std::string& names) {
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(code));
  BOOST_TEST(r.error().message().find(names) != std::string::npos,
             "'" << r.error().message() << "' does not name " << names);
}

// Certificates and keys made by OpenSSL 3 (`openssl req -x509 -newkey ... -nodes`),
// with their fingerprints computed by OpenSSL too:
//   openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER |
//   openssl dgst -sha256 -binary | base64
// They pin the fingerprint to the bytes of the SubjectPublicKeyInfo,
// independently of wolfSSL. Test keys only: they protect nothing.
struct Fixture {
  const char* name;
  const char* cert_pem;
  const char* key_pem;
  const char* fingerprint;
};
const Fixture kEcFixture = {"ECDSA P-256",
                            R"(-----BEGIN CERTIFICATE-----
MIIBhzCCAS2gAwIBAgIUXqoAWFTHSfbLrgM7T58AG+t4EKowCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNcXBpcGUgdGVzdCBlYzAgFw0yNjExMjUxMzI0MzNaGA8yMTI2
MTEwMTEzMjQzM1owGDEWMBQGA1UEAwwNcXBpcGUgdGVzdCBlYzBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABMEb84cCDjslTSltP29V2NWNmj+WFx5th6GxpMV4+PAb
H6etYgZxtwv+Wwl7SnvIL2q3Lt/Q6Ku2uKlKvHbnyW6jUzBRMB0GA1UdDgQWBBSA
sBUzgU3TLijdEJCncuvX1O3LfzAfBgNVHSMEGDAWgBSAsBUzgU3TLijdEJCncuvX
1O3LfzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDuAuGnqSsK
Po7+k8do6cj7J9VWCm4vWN0sf4/8yot3lAIgYkiekU5EAxKjKrtVShy4cDdGXUSJ
BpPrcr0XU/QDwIg=
-----END CERTIFICATE-----
)",
                            R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/5Vs6WkrkFMJL9vw
Jc7jeCD2kiLz7xa9CWTeyQ+sEE2hRANCAATBG/OHAg47JU0pbT9vVdjVjZo/lhce
bYehsaTFePjwGx+nrWIGcbcL/lsJe0p7yC9qty7f0OirtripSrx258lu
-----END PRIVATE KEY-----
)",
                            "SHA256:SCGO3baU3Ra4Z668BH8XqmyjfmlcUpHaDBzCbbLoqVw"};
const Fixture kEdFixture = {"Ed25519",
                            R"(-----BEGIN CERTIFICATE-----
MIIBRjCB+aADAgECAhQ5P2An5wzPDPtObWDkedkauVnVzjAFBgMrZXAwGDEWMBQG
A1UEAwwNcXBpcGUgdGVzdCBlZDAgFw0yNjExMjUxMzI0MzNaGA8yMTI2MTEwMTEz
MjQzM1owGDEWMBQGA1UEAwwNcXBpcGUgdGVzdCBlZDAqMAUGAytlcAMhAIoN9veO
SNDeMSdqIOcuViA6JrUk0qRdROFgkQaGDpk8o1MwUTAdBgNVHQ4EFgQUg4+FtqJT
bvGE9v8bD6L9Z15vlnMwHwYDVR0jBBgwFoAUg4+FtqJTbvGE9v8bD6L9Z15vlnMw
DwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQBKVb/1Lec7Qq0xJCpnp30IkAjuKkip
eQH1alpHt2HOwgpRNa2dmnPGuyIc+6C/Eb48CaSjAaAquyvXMY0LOTEA
-----END CERTIFICATE-----
)",
                            R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHgO3Crx83tnie9gZiH0Bzs5cBaY0t2mxGuHRQ/qKMno
-----END PRIVATE KEY-----
)",
                            "SHA256:63z2xj1ddzdpBlxAZPUiLBi14GofL8vrbyN6Ma5B6WU"};
const Fixture kRsaFixture = {"RSA 2048",
                             R"(-----BEGIN CERTIFICATE-----
MIIDFTCCAf2gAwIBAgIUIRYP+jjIiswJOBgs5eCNMocRKtowDQYJKoZIhvcNAQEL
BQAwGTEXMBUGA1UEAwwOcXBpcGUgdGVzdCByc2EwIBcNMjYxMTI1MTMyNDMzWhgP
MjEyNjExMDExMzI0MzNaMBkxFzAVBgNVBAMMDnFwaXBlIHRlc3QgcnNhMIIBIjAN
BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2KUNhIHPDY0XcsXQL35jjTdju8e6
N95COFUBUdqLYpvmX24kaitsc2SuFmQZjw2rQ5LGZ+uOYhLTBaNqa/jiHCSEYhM/
3Ye2gesf23N/DvjWkakzCqpUi/IVLurp70jK9xmweO/sk7kdZDaDLOONNt1GpI8r
pMC5hTDmRCqTmc99tfd3WAuHxuWYsdbl0cpulf/dOtEFepC48WkThJ0JIi9PjhUV
4Kwbxw4xfp74Pioa/UnywZpCQviOJAXlXZNSrKCyYOGzOKWsW4LugAAmCVjV3uFc
7bM9wIRDlNMtcejOhrxbNZNJKfYFkWIBiT33Bei6LilOx+puFirDXL0g6wIDAQAB
o1MwUTAdBgNVHQ4EFgQU+chaWq1zbrkTVTdorEHcvJw5V+wwHwYDVR0jBBgwFoAU
+chaWq1zbrkTVTdorEHcvJw5V+wwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0B
AQsFAAOCAQEAXZnQ+JGz2pVukeP0EdLXFtsnmxO9ckh9w1Cme6v9rSMKi9/KK5/L
YrYk0mW8qWKg5xMr5Z7CjLI+JGPbqMIeefaYnuoFUOgjbjDoS1FSwH0gPvO8Eh8h
FRAEx5TfWdm/rdOW6vEw36jNnNEm3rv0buD9cI9n60JeEeQOvgJDGFHbvPtuNF2+
no98rVZHlD+IoTeyI0XXzkUob4Lb6N7EW+1FG6XUWyj+v48cgFmBf1BngMdoLiD5
XLFid6x5MaC0AYb0Osyl6ehqaaM/B9t+X+eKSW/u1ZNUC8ItmxuCiszFXxYgCFnf
4dbNL4zeceyVYVzBFbiSfiNxjG7SusYJoA==
-----END CERTIFICATE-----
)",
                             R"(-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDYpQ2Egc8NjRdy
xdAvfmONN2O7x7o33kI4VQFR2otim+ZfbiRqK2xzZK4WZBmPDatDksZn645iEtMF
o2pr+OIcJIRiEz/dh7aB6x/bc38O+NaRqTMKqlSL8hUu6unvSMr3GbB47+yTuR1k
NoMs44023UakjyukwLmFMOZEKpOZz32193dYC4fG5Zix1uXRym6V/9060QV6kLjx
aROEnQkiL0+OFRXgrBvHDjF+nvg+Khr9SfLBmkJC+I4kBeVdk1KsoLJg4bM4paxb
gu6AACYJWNXe4Vztsz3AhEOU0y1x6M6GvFs1k0kp9gWRYgGJPfcF6LouKU7H6m4W
KsNcvSDrAgMBAAECggEAAw0fQ1EjQT7WpBLRGFEU5A/HWdqK2ZX9BehryV7pYTBU
22Z+KWdxf1puW8q1MdjU8BxWd8SPUeqgjm8BrYp+Q/fwXT+FsOrTCtuXaBs2fmi5
AGTLGs8d7v24j+ySFLQ/yn7SB7Oe9/KYVeD1eJtYyVC7hFgEicbccciwXH4E42/U
0faKBud0TOH9fQIscb/aOSoNgdbyiA7bPx/QlEAbocp+QHAg8kcrdckJ2aLvJC+e
4gYSjLQ4Ov37WL/es9eDZT8KqvuyI1OQnQEv6gRMHudB4+3jsAqCk6aIJWRQfNQb
peWho7BnzVp34YAsIvNmxfZJEnCchz7tkmDhEN3lvQKBgQD1NYzhoXzhiQhwfdZm
9xf9Z9/QqH3l1CAIbvIFvNg1FekVmbLO7yaaqO8Wfjn+YiruToOLR8u/A/wNW8HJ
NVhSRpQ2Cm6VPSvIjJoMYorc4n3GepdMOTtxmkqthoXWxjcLgNv7tvHp4gYWQ/8K
T+P+pdLueoO1lEU6gZA/mX+snwKBgQDiLbRVgTEUqVaYuRL2Hbkrs0Rx42o3UyWs
3P4OTsaECKcQXM0PUKyxLP81xb1ySW4Cw2wGPqODsh5iT8z3TcUCDjGQH8Ra8jZD
BT3ifjY+ZlisDMrJSf7LptsYXXobo7LjDhnR4peQ2FBBxnYVQ3IQoCLI2OiH7PiY
PKlQDXMcNQKBgQClOAXK6cJ5PJnhIgjaq9cQOXNG5qCdwQYsaITOdOXBLxg0I7Gl
WOJMB1PBdh+hVYfTtjdQG3ofJJIqdg7mgfkWxtOKbhEAoYzkvkf13FfwaPOSTnuv
MkjpTKrQrPl1M21XZOXUfvoVOuQbEInB6v6WUCkF4qroKBVVTINjNwwdxQKBgQCO
23NVtl37wOFzYSI61ZdJpNcMYCmMfDYFsye8fcEhUB3FVfgnPjt1RQiFPDpmXz7e
+/PVFedNnUlXqzO42CQhIjnn4EizcN0ZA8yMrE8ypo5HTWUgMl5+3wrvnssrff/V
LejdCpPU5uv6P5IB6DG5koul9Gsav3BdJ6OBbp1QKQKBgQCZ312IAr4/mBEjeluR
tpn+UjZJG9Vzoe7EfP/E1kkBAmFifxjZofVNeWiPbo7txZTdHWU/79cGhd1/RY0h
h9oZ2bkj0qzYW/G4wohxb8uEwSmGFcJ5XRLQWKgiLyjwmAX/J4BrGzE1N8JUDVnv
7Cm/mNKGUtTZYYf5Z8OCAIp95g==
-----END PRIVATE KEY-----
)",
                             "SHA256:p1lvnH6tgLO4i9G2A817rJG+Z4/7YzKPQp7Y3zCWwKU"};
// The same P-256 key as SEC1 without its optional public key (`openssl ec -no_public`).
const char* const kEcKeyWithoutPublic = R"(-----BEGIN EC PRIVATE KEY-----
MDECAQEEIP+VbOlpK5BTCS/b8CXO43gg9pIi8+8WvQlk3skPrBBNoAoGCCqGSM49
AwEH
-----END EC PRIVATE KEY-----
)";
const Fixture* const kFixtures[] = {&kEcFixture, &kEdFixture, &kRsaFixture};

// A generated P-256 key re-encoded as unencrypted PKCS#8, the form
// `openssl genpkey` writes.
Bytes to_pkcs8(const Bytes& sec1) {
  ecc_key key;
  BOOST_REQUIRE(wc_ecc_init(&key) == 0);
  word32 idx = 0;
  BOOST_REQUIRE(wc_EccPrivateKeyDecode(sec1.data(), &idx, &key, static_cast<word32>(sec1.size())) ==
                0);
  Bytes out(512);
  word32 len = static_cast<word32>(out.size());
  int n = wc_EccKeyToPKCS8(&key, out.data(), &len);
  wc_ecc_free(&key);
  BOOST_REQUIRE(n > 0);
  out.resize(len);
  return out;
}

// An Ed25519 key (PKCS#8 DER) and a self-signed certificate for it.
struct Ed25519Pair {
  Bytes cert_der;
  Bytes key_der;
};
Ed25519Pair make_ed25519_pair() {
  WC_RNG rng;
  BOOST_REQUIRE(wc_InitRng(&rng) == 0);
  ed25519_key key;
  BOOST_REQUIRE(wc_ed25519_init(&key) == 0);
  BOOST_REQUIRE(wc_ed25519_make_key(&rng, ED25519_KEY_SIZE, &key) == 0);
  Cert cert;
  wc_InitCert(&cert);
  std::strncpy(cert.subject.commonName, "ed25519 test", CTC_NAME_SIZE - 1);
  cert.sigType = CTC_ED25519;
  Ed25519Pair pair;
  pair.cert_der.resize(4096);
  int n = wc_MakeCert_ex(&cert, pair.cert_der.data(), static_cast<word32>(pair.cert_der.size()),
                         ED25519_TYPE, &key, &rng);
  BOOST_REQUIRE(n > 0);
  n = wc_SignCert_ex(cert.bodySz, cert.sigType, pair.cert_der.data(),
                     static_cast<word32>(pair.cert_der.size()), ED25519_TYPE, &key, &rng);
  BOOST_REQUIRE(n > 0);
  pair.cert_der.resize(static_cast<size_t>(n));
  pair.key_der.resize(256);
  n = wc_Ed25519KeyToDer(&key, pair.key_der.data(), static_cast<word32>(pair.key_der.size()));
  BOOST_REQUIRE(n > 0);
  pair.key_der.resize(static_cast<size_t>(n));
  wc_ed25519_free(&key);
  wc_FreeRng(&rng);
  return pair;
}

} // namespace

BOOST_AUTO_TEST_SUITE(identity_store)

BOOST_AUTO_TEST_CASE(xdg_directories_follow_the_environment) {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv data("XDG_DATA_HOME", "/xdg/data");
    ScopedEnv config("XDG_CONFIG_HOME", "/xdg/config");
    BOOST_TEST(xdg_data_home() == "/xdg/data");
    BOOST_TEST(xdg_config_home() == "/xdg/config");
  }
  {
    ScopedEnv data("XDG_DATA_HOME", nullptr);
    ScopedEnv config("XDG_CONFIG_HOME", "");
    BOOST_TEST(xdg_data_home() == "/home/someone/.local/share");
    BOOST_TEST(xdg_config_home() == "/home/someone/.config");
  }
  {
    // The XDG spec: a relative path is invalid and ignored.
    ScopedEnv data("XDG_DATA_HOME", "relative/data");
    ScopedEnv config("XDG_CONFIG_HOME", "relative/config");
    BOOST_TEST(xdg_data_home() == "/home/someone/.local/share");
    BOOST_TEST(xdg_config_home() == "/home/someone/.config");
  }
}

BOOST_AUTO_TEST_CASE(first_use_creates_a_private_directory_and_key) {
  TempDir tmp;
  const std::string dir = tmp / "data/qpipe";
  mode_t old_umask = ::umask(022);
  auto id = load_or_create_identity(dir);
  ::umask(old_umask);
  BOOST_REQUIRE_MESSAGE(id.ok(), why(id));
  BOOST_TEST(mode_of(tmp / "data") == 0700u);
  BOOST_TEST(mode_of(dir) == 0700u);
  BOOST_TEST(mode_of(dir + "/identity.key") == 0600u);
  BOOST_TEST(mode_of(dir + "/identity.crt") == 0644u);
  // Nothing else: no temporary files left behind.
  BOOST_TEST(names_in(dir) == (std::vector<std::string>{"identity.crt", "identity.key"}),
             boost::test_tools::per_element());
  BOOST_TEST(read_file(dir + "/identity.crt").rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0u);
  BOOST_TEST(read_file(dir + "/identity.key").find("-----BEGIN EC PRIVATE KEY-----\n") == 0u);
}

BOOST_AUTO_TEST_CASE(a_later_run_reloads_the_same_identity) {
  TempDir tmp;
  const std::string dir = tmp / "qpipe";
  auto first = load_or_create_identity(dir);
  BOOST_REQUIRE(first.ok());
  auto second = load_or_create_identity(dir);
  BOOST_REQUIRE_MESSAGE(second.ok(), why(second));
  BOOST_TEST(second->fingerprint == first->fingerprint);
  BOOST_TEST(second->cert_der == first->cert_der, boost::test_tools::per_element());
  BOOST_TEST(second->key_der == first->key_der, boost::test_tools::per_element());
  // The loaded identity is one the listener can use.
  auto ctx = make_server_context(*second);
  BOOST_TEST(ctx.ok());

  // Another directory: another identity.
  auto other = load_or_create_identity(tmp / "other");
  BOOST_REQUIRE(other.ok());
  BOOST_TEST(other->fingerprint != first->fingerprint);
}

BOOST_AUTO_TEST_CASE(fingerprint_of_cert_matches_the_generated_fingerprint) {
  for (int i = 0; i < 5; ++i) {
    Identity id = generated();
    auto fp = fingerprint_of_cert(id.cert_der);
    BOOST_REQUIRE(fp.ok());
    BOOST_TEST(*fp == id.fingerprint);
    BOOST_TEST(fp->size() == 7u + 43u);
    BOOST_TEST(fp->rfind("SHA256:", 0) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(fingerprints_agree_with_openssl) {
  TempDir tmp;
  for (const Fixture* f : kFixtures) {
    BOOST_TEST_CONTEXT(f->name) {
      write_file(tmp / "c.pem", std::string(f->cert_pem), 0644);
      write_file(tmp / "k.pem", std::string(f->key_pem), 0600);
      auto id = load_identity(tmp / "c.pem", tmp / "k.pem");
      BOOST_REQUIRE_MESSAGE(id.ok(), why(id));
      BOOST_TEST(id->fingerprint == f->fingerprint);
      BOOST_TEST(*fingerprint_of_cert(id->cert_der) == f->fingerprint);
      BOOST_TEST(make_server_context(*id).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(fingerprint_of_cert_rejects_what_is_not_a_certificate) {
  Identity id = generated();
  BOOST_TEST(!fingerprint_of_cert({}).ok());
  BOOST_TEST(!fingerprint_of_cert(id.key_der).ok());
  // Every truncation, and trailing bytes.
  for (size_t n = 0; n < id.cert_der.size(); ++n)
    BOOST_TEST(!fingerprint_of_cert(std::span<const uint8_t>(id.cert_der.data(), n)).ok());
  Bytes longer = id.cert_der;
  longer.push_back(0);
  BOOST_TEST(!fingerprint_of_cert(longer).ok());
  // Lengths that point past the end, indefinite lengths.
  const Bytes bad[] = {{0x30, 0x84, 0xff, 0xff, 0xff, 0xff},
                       {0x30, 0x80, 0x00, 0x00},
                       {0x30, 0x03, 0x30, 0x01},
                       {0x30, 0x02, 0x30, 0x00}};
  for (const Bytes& b : bad)
    BOOST_TEST(!fingerprint_of_cert(b).ok());
}

BOOST_AUTO_TEST_CASE(a_key_others_can_read_is_refused) {
  TempDir tmp;
  const std::string dir = tmp / "qpipe";
  BOOST_REQUIRE(load_or_create_identity(dir).ok());
  const std::string key = dir + "/identity.key";
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    BOOST_REQUIRE_EQUAL(::chmod(key.c_str(), mode), 0);
    auto id = load_or_create_identity(dir);
    require_error(id, Errc::usage, key);
    BOOST_TEST(id.error().message().find("chmod 600 " + key) != std::string::npos);
  }
  BOOST_REQUIRE_EQUAL(::chmod(key.c_str(), 0400), 0); // read-only for the owner is fine
  BOOST_TEST(load_or_create_identity(dir).ok());
}

BOOST_AUTO_TEST_CASE(corrupt_files_are_refused_by_name) {
  TempDir tmp;
  const std::string dir = tmp / "qpipe";
  auto id = load_or_create_identity(dir);
  BOOST_REQUIRE(id.ok());
  const std::string key = dir + "/identity.key";
  const std::string crt = dir + "/identity.crt";
  const std::string good_key = read_file(key);
  const std::string good_crt = read_file(crt);

  const std::string broken_key[] = {
      "",
      "garbage\n",
      "-----BEGIN EC PRIVATE KEY-----\nnot base64 at all\n-----END EC PRIVATE KEY-----\n",
      good_key.substr(0, good_key.size() / 2),
  };
  for (const std::string& k : broken_key) {
    write_file(key, k, 0600);
    require_error(load_or_create_identity(dir), Errc::usage, key);
  }
  write_file(key, good_key, 0600);

  const std::string broken_crt[] = {
      "",
      "garbage\n",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      good_crt.substr(0, good_crt.size() / 2),
  };
  for (const std::string& c : broken_crt) {
    write_file(crt, c, 0644);
    require_error(load_or_create_identity(dir), Errc::usage, crt);
  }
  write_file(crt, good_crt, 0644);
  BOOST_TEST(load_or_create_identity(dir)->fingerprint == id->fingerprint);
}

BOOST_AUTO_TEST_CASE(a_key_without_its_certificate_is_not_replaced) {
  TempDir tmp;
  const std::string dir = tmp / "qpipe";
  BOOST_REQUIRE(load_or_create_identity(dir).ok());
  const std::string key_pem = read_file(dir + "/identity.key");
  fs::remove(dir + "/identity.crt");
  require_error(load_or_create_identity(dir), Errc::usage, dir + "/identity.crt");
  BOOST_TEST(read_file(dir + "/identity.key") == key_pem);
}

BOOST_AUTO_TEST_CASE(a_certificate_without_its_key_is_regenerated) {
  // What an interrupted first run leaves: the certificate is written first.
  TempDir tmp;
  const std::string dir = tmp / "qpipe";
  auto first = load_or_create_identity(dir);
  BOOST_REQUIRE(first.ok());
  fs::remove(dir + "/identity.key");
  auto second = load_or_create_identity(dir);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(second->fingerprint != first->fingerprint);
  BOOST_TEST(load_or_create_identity(dir)->fingerprint == second->fingerprint);
}

BOOST_AUTO_TEST_CASE(a_directory_that_cannot_be_created_is_a_local_error) {
  TempDir tmp;
  write_file(tmp / "file", "", 0600);
  require_error(load_or_create_identity(tmp / "file/qpipe"), Errc::local_io, tmp / "file");
}

BOOST_AUTO_TEST_CASE(cert_and_key_load_as_pem_and_der) {
  TempDir tmp;
  Identity id = generated();
  write_file(tmp / "c.pem", pem(id.cert_der, CERT_TYPE), 0644);
  write_file(tmp / "k.pem", pem(id.key_der, ECC_PRIVATEKEY_TYPE), 0600);
  write_file(tmp / "c.der", id.cert_der, 0644);
  write_file(tmp / "k.der", id.key_der, 0600);
  write_file(tmp / "k8.pem", pem(to_pkcs8(id.key_der), PKCS8_PRIVATEKEY_TYPE), 0600);
  write_file(tmp / "k8.der", to_pkcs8(id.key_der), 0600);
  for (const char* c : {"c.pem", "c.der"}) {
    for (const char* k : {"k.pem", "k.der", "k8.pem", "k8.der"}) {
      auto loaded = load_identity(tmp / c, tmp / k);
      BOOST_REQUIRE_MESSAGE(loaded.ok(), c << " " << k << ": " << why(loaded));
      BOOST_TEST(loaded->fingerprint == id.fingerprint);
      BOOST_TEST(loaded->cert_der == id.cert_der, boost::test_tools::per_element());
      BOOST_TEST(make_server_context(*loaded).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_ed25519_identity_loads) {
  TempDir tmp;
  Ed25519Pair ed = make_ed25519_pair();
  write_file(tmp / "c.pem", pem(ed.cert_der, CERT_TYPE), 0644);
  write_file(tmp / "k.pem", pem(ed.key_der, PKCS8_PRIVATEKEY_TYPE), 0600);
  auto loaded = load_identity(tmp / "c.pem", tmp / "k.pem");
  BOOST_REQUIRE_MESSAGE(loaded.ok(), why(loaded));
  BOOST_TEST(loaded->fingerprint == *fingerprint_of_cert(ed.cert_der));
  BOOST_TEST(make_server_context(*loaded).ok());
}

BOOST_AUTO_TEST_CASE(a_mismatched_pair_is_refused) {
  TempDir tmp;
  // Two keys of the same type: the case a type check alone would miss.
  Identity a = generated();
  Identity b = generated();
  write_file(tmp / "a.crt", pem(a.cert_der, CERT_TYPE), 0644);
  write_file(tmp / "b.key", pem(b.key_der, ECC_PRIVATEKEY_TYPE), 0600);
  auto mixed = load_identity(tmp / "a.crt", tmp / "b.key");
  require_error(mixed, Errc::usage, tmp / "b.key");
  BOOST_TEST(mixed.error().message().find("does not match the certificate " + tmp / "a.crt") !=
             std::string::npos);
  write_file(tmp / "b8.key", to_pkcs8(b.key_der), 0600);
  require_error(load_identity(tmp / "a.crt", tmp / "b8.key"), Errc::usage, tmp / "b8.key");

  // Every certificate with every other key, of any type.
  std::vector<std::pair<std::string, std::string>> certs, keys;
  for (const Fixture* f : kFixtures) {
    certs.emplace_back(f->name, f->cert_pem);
    keys.emplace_back(f->name, f->key_pem);
  }
  Ed25519Pair ed = make_ed25519_pair();
  certs.emplace_back("generated P-256", pem(a.cert_der, CERT_TYPE));
  keys.emplace_back("generated P-256", pem(a.key_der, ECC_PRIVATEKEY_TYPE));
  certs.emplace_back("generated Ed25519", pem(ed.cert_der, CERT_TYPE));
  keys.emplace_back("generated Ed25519", pem(ed.key_der, PKCS8_PRIVATEKEY_TYPE));
  for (size_t c = 0; c < certs.size(); ++c) {
    for (size_t k = 0; k < keys.size(); ++k) {
      BOOST_TEST_CONTEXT(certs[c].first << " certificate, " << keys[k].first << " key") {
        write_file(tmp / "c.pem", certs[c].second, 0644);
        write_file(tmp / "k.pem", keys[k].second, 0600);
        auto id = load_identity(tmp / "c.pem", tmp / "k.pem");
        if (c == k) {
          BOOST_TEST(id.ok(), why(id));
        } else {
          require_error(id, Errc::usage, tmp / "k.pem");
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pem_chain_keeps_its_intermediates_and_the_leaf_comes_first) {
  TempDir tmp;
  Identity a = generated(), b = generated(), c = generated();
  write_file(tmp / "chain.pem",
             pem(a.cert_der, CERT_TYPE) + pem(b.cert_der, CERT_TYPE) + pem(c.cert_der, CERT_TYPE),
             0644);
  write_file(tmp / "a.key", pem(a.key_der, ECC_PRIVATEKEY_TYPE), 0600);
  write_file(tmp / "b.key", pem(b.key_der, ECC_PRIVATEKEY_TYPE), 0600);
  auto id = load_identity(tmp / "chain.pem", tmp / "a.key");
  BOOST_REQUIRE_MESSAGE(id.ok(), why(id));
  BOOST_TEST(id->fingerprint == a.fingerprint);
  BOOST_TEST(id->cert_der == a.cert_der, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(id->chain_der.size(), 2u);
  BOOST_TEST(id->chain_der[0] == b.cert_der, boost::test_tools::per_element());
  BOOST_TEST(id->chain_der[1] == c.cert_der, boost::test_tools::per_element());
  BOOST_TEST(make_server_context(*id).ok());
  // The key of the second certificate: the order is wrong, and the message says so.
  auto wrong_order = load_identity(tmp / "chain.pem", tmp / "b.key");
  require_error(wrong_order, Errc::usage, "number 2 here; put it first");
  // A block without its END line.
  std::string cut = pem(a.cert_der, CERT_TYPE) + pem(b.cert_der, CERT_TYPE);
  write_file(tmp / "cut.pem", cut.substr(0, cut.rfind("-----END")), 0644);
  require_error(load_identity(tmp / "cut.pem", tmp / "a.key"), Errc::usage, "no END line");
}

BOOST_AUTO_TEST_CASE(an_ec_key_without_its_public_part_loads) {
  TempDir tmp;
  write_file(tmp / "c.pem", std::string(kEcFixture.cert_pem), 0644);
  write_file(tmp / "k.pem", std::string(kEcKeyWithoutPublic), 0600);
  auto id = load_identity(tmp / "c.pem", tmp / "k.pem");
  BOOST_REQUIRE_MESSAGE(id.ok(), why(id));
  BOOST_TEST(id->fingerprint == kEcFixture.fingerprint);
  BOOST_TEST(make_server_context(*id).ok());
}

BOOST_AUTO_TEST_CASE(load_identity_checks_files_and_permissions) {
  TempDir tmp;
  Identity id = generated();
  write_file(tmp / "c.pem", pem(id.cert_der, CERT_TYPE), 0644);
  write_file(tmp / "k.pem", pem(id.key_der, ECC_PRIVATEKEY_TYPE), 0640);
  auto open_key = load_identity(tmp / "c.pem", tmp / "k.pem");
  require_error(open_key, Errc::usage, "chmod 600 " + tmp / "k.pem");
  BOOST_REQUIRE_EQUAL(::chmod((tmp / "k.pem").c_str(), 0600), 0);
  BOOST_TEST(load_identity(tmp / "c.pem", tmp / "k.pem").ok());

  require_error(load_identity(tmp / "missing.pem", tmp / "k.pem"), Errc::usage,
                tmp / "missing.pem");
  require_error(load_identity(tmp / "c.pem", tmp / "missing.key"), Errc::usage,
                tmp / "missing.key");
  // The files swapped.
  require_error(load_identity(tmp / "k.pem", tmp / "c.pem"), Errc::usage, tmp / "k.pem");
  // An encrypted key.
  write_file(tmp / "enc.pem",
             "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
             0600);
  auto enc = load_identity(tmp / "c.pem", tmp / "enc.pem");
  require_error(enc, Errc::usage, tmp / "enc.pem");
  BOOST_TEST(enc.error().message().find("encrypted") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
