// Tests of the sender's known_hosts file (src/tls/known_hosts.h): the line
// parser, lookup and line numbers, atomic updates that keep comments and
// unknown lines, and robustness against garbage.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "tls/known_hosts.h"

namespace qpipe::tls {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const std::string kFpA = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
const std::string kFpB = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs";

// A per-test directory (tests/unit/temp_dir.h).
struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-known-hosts") {}
};

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  BOOST_REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The message of a failed result, for test output.
template <typename T> std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : r.error().message();
}

KnownHosts load_ok(const std::string& path) {
  auto kh = KnownHosts::load(path);
  BOOST_REQUIRE_MESSAGE(kh.ok(), why(kh));
  return std::move(kh.value());
}

unsigned mode_of(const std::string& path) {
  struct stat st;
  BOOST_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

} // namespace

using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(known_hosts)

BOOST_AUTO_TEST_CASE(parses_entries) {
  auto e = parse_known_hosts_line("example.com:4433 " + kFpA);
  BOOST_REQUIRE(e);
  BOOST_TEST(e->first == "example.com:4433");
  BOOST_TEST(e->second == kFpA);

  // Whitespace around and between, a trailing CR, upper-case host names.
  e = parse_known_hosts_line("  \tHost.Example.COM:1\t \t" + kFpB + "  \r");
  BOOST_REQUIRE(e);
  BOOST_TEST(e->first == "host.example.com:1");
  BOOST_TEST(e->second == kFpB);

  BOOST_TEST(parse_known_hosts_line("10.0.0.1:65535 " + kFpA)->first == "10.0.0.1:65535");
  BOOST_TEST(parse_known_hosts_line("[::1]:4433 " + kFpA)->first == "[::1]:4433");
  BOOST_TEST(parse_known_hosts_line("[FE80::1%eth0]:4433 " + kFpA)->first == "[fe80::1%eth0]:4433");
  BOOST_TEST(parse_known_hosts_line("my_host-1:80 " + kFpA)->first == "my_host-1:80");
}

BOOST_AUTO_TEST_CASE(skips_comments_blank_and_malformed_lines) {
  const std::string bad[] = {
      "",
      "   \t ",
      "\r",
      "# a comment",
      "   # indented comment " + kFpA,
      "#host:1 " + kFpA,
      "host:1",                                        // no fingerprint
      kFpA,                                            // no host
      "host:1 " + kFpA + " extra",                     // a third field
      "host:1 " + kFpA + " # note",                    // comments only on their own line
      "host " + kFpA,                                  // no port
      "host: " + kFpA,                                 // empty port
      ":4433 " + kFpA,                                 // empty host
      "host:0 " + kFpA,                                // port 0
      "host:65536 " + kFpA,                            // port too large
      "host:123456 " + kFpA,                           // port too long
      "host:-1 " + kFpA,                               // negative port
      "host:44a3 " + kFpA,                             // not a number
      "::1:4433 " + kFpA,                              // v6 without brackets
      "[]:4433 " + kFpA,                               // empty brackets
      "[::1:4433 " + kFpA,                             // unclosed bracket
      "[::1]4433 " + kFpA,                             // no colon before the port
      "ho/st:1 " + kFpA,                               // a character not in host names
      "host:1 " + kFpA.substr(0, kFpA.size() - 1),     // fingerprint too short
      "host:1 " + kFpA + "A",                          // fingerprint too long
      "host:1 " + kFpA + "=",                          // padding is not written
      "host:1 sha256:" + kFpA.substr(7),               // prefix is case-sensitive
      "host:1 SHA1:" + kFpA.substr(7),                 // another hash
      "host:1 SHA256:" + std::string(42, 'A') + "!",   // not base64
      "host:1 SHA256:" + std::string(42, 'A') + "\0"s, // a NUL
      "host:1\v" + kFpA,                               // only space and tab separate
      std::string("host:1 ") + kFpA + "\r\r",          // one CR is ignored, not two
  };
  for (const std::string& line : bad)
    BOOST_TEST(!parse_known_hosts_line(line), "accepted: " << line);
}

BOOST_AUTO_TEST_CASE(bounds_line_length) {
  // The longest line that can be an entry is 4096 bytes, padding included.
  std::string entry = "h:1 " + kFpA;
  std::string padded = std::string(kKnownHostsMaxLine - entry.size(), ' ') + entry;
  BOOST_TEST(padded.size() == kKnownHostsMaxLine);
  BOOST_TEST(parse_known_hosts_line(padded).has_value());
  BOOST_TEST(!parse_known_hosts_line(" " + padded));
  std::string long_host(kKnownHostsMaxLine, 'a');
  BOOST_TEST(!parse_known_hosts_line(long_host + ":1 " + kFpA));
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_empty) {
  TempDir dir;
  KnownHosts kh = load_ok(dir / "qpipe/known_hosts");
  BOOST_TEST(kh.size() == 0u);
  BOOST_TEST(!kh.lookup("host:1"));
  BOOST_TEST(kh.line_of("host:1") == 0);
  BOOST_TEST(!fs::exists(dir / "qpipe")); // loading creates nothing
}

BOOST_AUTO_TEST_CASE(an_unreadable_path_is_a_configuration_error) {
  TempDir dir;
  auto kh = KnownHosts::load(dir.path); // a directory
  BOOST_REQUIRE(!kh.ok());
  BOOST_TEST(static_cast<int>(kh.error().code) == static_cast<int>(Errc::usage));
  write_file(dir / "file", "");
  auto under_file = KnownHosts::load(dir / "file/known_hosts");
  BOOST_REQUIRE(!under_file.ok());
}

BOOST_AUTO_TEST_CASE(add_then_load_round_trips) {
  TempDir dir;
  const std::string path = dir / "config/qpipe/known_hosts";
  KnownHosts kh = load_ok(path);
  BOOST_REQUIRE(kh.add("alpha:4433", kFpA).ok());
  BOOST_REQUIRE(kh.add("[::1]:4433", kFpB).ok());
  BOOST_TEST(*kh.lookup("alpha:4433") == kFpA);
  BOOST_TEST(kh.line_of("[::1]:4433") == 2);

  KnownHosts again = load_ok(path);
  BOOST_TEST(again.size() == 2u);
  BOOST_TEST(*again.lookup("alpha:4433") == kFpA);
  BOOST_TEST(*again.lookup("[::1]:4433") == kFpB);
  BOOST_TEST(again.line_of("alpha:4433") == 1);
  BOOST_TEST(again.line_of("[::1]:4433") == 2);
  BOOST_TEST(!again.lookup("alpha:4434"));
  BOOST_TEST(again.line_of("beta:4433") == 0);
  BOOST_TEST(read_file(path) == "alpha:4433 " + kFpA + "\n[::1]:4433 " + kFpB + "\n");
}

BOOST_AUTO_TEST_CASE(host_names_compare_without_case) {
  TempDir dir;
  KnownHosts kh = load_ok(dir / "known_hosts");
  BOOST_REQUIRE(kh.add("Alpha.Example:4433", kFpA).ok());
  BOOST_TEST(read_file(dir / "known_hosts") == "alpha.example:4433 " + kFpA + "\n");
  BOOST_TEST(*kh.lookup("ALPHA.example:4433") == kFpA);
  BOOST_TEST(kh.line_of("alpha.EXAMPLE:4433") == 1);
}

BOOST_AUTO_TEST_CASE(the_key_is_the_host_lowercased_with_its_port) {
  BOOST_TEST(known_hosts_key("Alpha.Example", 4433) == "alpha.example:4433");
  BOOST_TEST(known_hosts_key("192.0.2.1", 1) == "192.0.2.1:1");
  BOOST_TEST(known_hosts_key("FE80::1%eth0", 65535) == "[fe80::1%eth0]:65535");
  // Every key it builds is one that the file accepts.
  auto entry = parse_known_hosts_line(known_hosts_key("::1", 4433) + " " + kFpA);
  BOOST_REQUIRE(entry.has_value());
  BOOST_TEST(entry->first == "[::1]:4433");
}

BOOST_AUTO_TEST_CASE(replace_keeps_everything_else_in_place) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  const std::string before = "# my hosts\n"
                             "\n"
                             "alpha:4433 " +
                             kFpA +
                             "\n"
                             "this line is garbage\n"
                             "beta:4433 " +
                             kFpA +
                             "\n"
                             "gamma:4433 " +
                             kFpA + "\n";
  write_file(path, before);
  KnownHosts kh = load_ok(path);
  BOOST_TEST(kh.size() == 3u);
  BOOST_TEST(kh.line_of("alpha:4433") == 3);
  BOOST_TEST(kh.line_of("beta:4433") == 5);
  BOOST_TEST(kh.line_of("gamma:4433") == 6);

  BOOST_REQUIRE(kh.add("beta:4433", kFpB).ok());
  BOOST_TEST(*kh.lookup("beta:4433") == kFpB);
  BOOST_TEST(kh.line_of("beta:4433") == 5);
  BOOST_TEST(*kh.lookup("alpha:4433") == kFpA);
  const std::string after = "# my hosts\n"
                            "\n"
                            "alpha:4433 " +
                            kFpA +
                            "\n"
                            "this line is garbage\n"
                            "beta:4433 " +
                            kFpB +
                            "\n"
                            "gamma:4433 " +
                            kFpA + "\n";
  BOOST_TEST(read_file(path) == after);
}

BOOST_AUTO_TEST_CASE(the_first_of_duplicates_wins_and_add_removes_the_rest) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  write_file(path, "alpha:1 " + kFpA + "\nbeta:1 " + kFpA + "\nALPHA:1 " + kFpB + "\n");
  KnownHosts kh = load_ok(path);
  BOOST_TEST(*kh.lookup("alpha:1") == kFpA);
  BOOST_TEST(kh.line_of("alpha:1") == 1);
  BOOST_REQUIRE(kh.add("alpha:1", kFpB).ok());
  BOOST_TEST(read_file(path) == "alpha:1 " + kFpB + "\nbeta:1 " + kFpA + "\n");
  BOOST_TEST(kh.line_of("beta:1") == 2);
}

BOOST_AUTO_TEST_CASE(a_last_line_without_newline_is_read_and_completed) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  write_file(path, "# c\r\nalpha:1 " + kFpA + "\r\nbeta:1 " + kFpB);
  KnownHosts kh = load_ok(path);
  BOOST_TEST(*kh.lookup("alpha:1") == kFpA);
  BOOST_TEST(*kh.lookup("beta:1") == kFpB);
  BOOST_TEST(kh.line_of("beta:1") == 3);
  BOOST_REQUIRE(kh.add("gamma:1", kFpA).ok());
  BOOST_TEST(read_file(path) ==
             "# c\r\nalpha:1 " + kFpA + "\r\nbeta:1 " + kFpB + "\ngamma:1 " + kFpA + "\n");
  BOOST_TEST(kh.line_of("gamma:1") == 4);
}

BOOST_AUTO_TEST_CASE(add_keeps_entries_written_since_load) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  KnownHosts first = load_ok(path);
  KnownHosts second = load_ok(path);
  BOOST_REQUIRE(first.add("alpha:1", kFpA).ok());
  BOOST_REQUIRE(second.add("beta:1", kFpB).ok()); // did not see alpha
  KnownHosts kh = load_ok(path);
  BOOST_TEST(*kh.lookup("alpha:1") == kFpA);
  BOOST_TEST(*kh.lookup("beta:1") == kFpB);
  BOOST_TEST(*second.lookup("alpha:1") == kFpA);
}

BOOST_AUTO_TEST_CASE(add_refuses_malformed_input) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  KnownHosts kh = load_ok(path);
  for (const char* hp : {"", "host", "host:0", "a b:1", "host:1\n", "::1:1", "h:1 x"}) {
    Status s = kh.add(hp, kFpA);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
  }
  for (const std::string& fp : {std::string(""), std::string("SHA256:"), kFpA + "\n", kFpA + " x",
                                "SHA256:" + std::string(43, '-')}) {
    Status s = kh.add("host:1", fp);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::usage));
  }
  BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(writes_atomically_with_private_modes) {
  TempDir dir;
  const std::string qdir = dir / "config/qpipe";
  const std::string path = qdir + "/known_hosts";
  mode_t old_umask = ::umask(022);
  KnownHosts kh = load_ok(path);
  Status s = kh.add("alpha:1", kFpA);
  if (s) s = kh.add("beta:1", kFpB);
  if (s) s = kh.add("alpha:1", kFpB);
  ::umask(old_umask);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(mode_of(dir / "config") == 0700u);
  BOOST_TEST(mode_of(qdir) == 0700u);
  BOOST_TEST(mode_of(path) == 0600u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(qdir))
    names.push_back(e.path().filename().string());
  BOOST_TEST(names == std::vector<std::string>{"known_hosts"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
  // Seeded, so a failure reproduces: random bytes, random printable lines,
  // mutations of a valid entry, very long lines.
  std::mt19937_64 rng(20240611);
  const std::string valid = "host.example:4433 " + kFpA;
  const std::string alphabet = "abcAZ09:[]%#. \t\r\n/+=-_SHA256\0\xff"s;
  TempDir dir;
  const std::string path = dir / "known_hosts";
  for (int round = 0; round < 200; ++round) {
    std::string data;
    size_t lines = rng() % 20;
    for (size_t l = 0; l < lines; ++l) {
      std::string line;
      switch (rng() % 4) {
      case 0: // raw bytes
        for (size_t i = rng() % 100; i > 0; --i)
          line += static_cast<char>(rng());
        break;
      case 1: // the format's own characters
        for (size_t i = rng() % 100; i > 0; --i)
          line += alphabet[rng() % alphabet.size()];
        break;
      case 2: // a valid entry with a few bytes changed
        line = valid;
        for (size_t i = rng() % 4; i > 0; --i)
          line[rng() % line.size()] = alphabet[rng() % alphabet.size()];
        break;
      default: // a long line
        line = std::string(rng() % (3 * kKnownHostsMaxLine), 'a') + valid;
        break;
      }
      (void)parse_known_hosts_line(line);
      data += line;
      data += '\n';
    }
    write_file(path, data);
    KnownHosts kh = load_ok(path);
    // Raw bytes may hold newlines, so count the lines as the file has them.
    size_t file_lines = static_cast<size_t>(std::count(data.begin(), data.end(), '\n'));
    BOOST_TEST(kh.size() <= file_lines);
    (void)kh.lookup("host.example:4433");
    BOOST_TEST(kh.line_of("host.example:4433") <= static_cast<int>(file_lines));
    // Rewriting keeps every line.
    if (round % 20 == 0) {
      BOOST_REQUIRE(kh.add("new.example:1", kFpA).ok());
      BOOST_TEST(*load_ok(path).lookup("new.example:1") == kFpA);
    }
  }
}

// Issue 15, point 9: a listener on another port of a known host with the
// same fingerprint is no first contact; a different one is.
BOOST_AUTO_TEST_CASE(the_same_fingerprint_on_another_port) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  write_file(path, "alpha:1 " + kFpA + "\n[::1]:7 " + kFpB + "\nalphabet:2 " + kFpB + "\n");
  KnownHosts kh = load_ok(path);
  BOOST_TEST(kh.trusted_on_other_port("alpha:5000", kFpA));
  BOOST_TEST(kh.trusted_on_other_port("ALPHA:5000", kFpA));
  BOOST_TEST(!kh.trusted_on_other_port("alpha:5000", kFpB)); // alphabet is another host
  BOOST_TEST(!kh.trusted_on_other_port("alpha:1", kFpA));    // the same port is a lookup
  BOOST_TEST(kh.trusted_on_other_port("[::1]:8", kFpB));
  BOOST_TEST(!kh.trusted_on_other_port("beta:1", kFpA));
}

BOOST_AUTO_TEST_CASE(remove_forgets_a_port_or_every_port_of_a_host) {
  TempDir dir;
  const std::string path = dir / "known_hosts";
  write_file(path, "# mine\nalpha:1 " + kFpA + "\nalpha:2 " + kFpA + "\nalphabet:1 " + kFpB +
                       "\n[::1]:7 " + kFpB + "\ngarbage line\n");
  KnownHosts kh = load_ok(path);
  auto one = kh.remove("Alpha", 2);
  BOOST_REQUIRE_MESSAGE(one.ok(), why(one));
  BOOST_TEST(*one == 1u);
  BOOST_TEST(kh.lookup("alpha:1").has_value());
  BOOST_TEST(!kh.lookup("alpha:2").has_value());
  BOOST_TEST(*kh.remove("alpha", 0) == 1u);
  BOOST_TEST(load_ok(path).lookup("alphabet:1").value_or("") == kFpB); // not a prefix match
  BOOST_TEST(*kh.remove("::1", 0) == 1u);
  BOOST_TEST(*kh.remove("nobody", 0) == 0u);
  // Comments and lines it does not understand stay.
  BOOST_TEST(read_file(path) == "# mine\nalphabet:1 " + kFpB + "\ngarbage line\n");
  BOOST_TEST(mode_of(path) == 0600u);
  // No file: nothing to forget, and nothing is created.
  KnownHosts none = load_ok(dir / "absent/known_hosts");
  BOOST_TEST(*none.remove("alpha", 0) == 0u);
  BOOST_TEST(!fs::exists(dir / "absent"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::tls
