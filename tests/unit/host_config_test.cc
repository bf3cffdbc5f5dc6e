// Tests of the config file applied to a send (src/cli/host_config.h), through
// parse_command_line as the user meets it: an alias resolves to its address
// and port, settings stand for their options with the same checks, the
// command line wins, errors name the file and line, and --print-config.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "cli/host_config.h"
#include "cli/parse.h"
#include "temp_dir.h"

namespace qpipe::cli {
namespace {

// A config file in a fresh directory, and `qpipe -F FILE ARGS...`.
struct Fixture {
  test::TempDir dir;
  std::string path = dir / "config";

  void write(const std::string& text, mode_t mode = 0600) { test::write_file(path, text, mode); }

  Result<Config> run(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"qpipe", "-F", path.c_str()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
  }
  Config parsed(std::initializer_list<const char*> args) {
    auto r = run(args);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
    return *r;
  }
  std::string refused(std::initializer_list<const char*> args) {
    auto r = run(args);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().exit_code() == static_cast<int>(Errc::usage));
    return r.error().message();
  }
};

using qpipe::test::ScopedEnv;

const char* kPin = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

} // namespace

BOOST_FIXTURE_TEST_SUITE(host_config, Fixture)

BOOST_AUTO_TEST_CASE(alias_resolves_to_address_port_and_settings) {
  write("Host backup\n"
        "  Address 10.0.0.5\n"
        "  Port 5000\n"
        "  Streams 4\n"
        "  Zstd 19\n"
        "  ChunkSize 4M\n"
        "  Limit 10M\n"
        "  CC bbr\n"
        "  IdleTimeout 120\n"
        "  AddressFamily inet\n"
        "  Bind 10.0.0.1\n"
        "  Resume yes\n"
        "  Pin " +
        std::string(kPin) + "\n");
  Config c = parsed({"backup"});
  BOOST_TEST(c.host_name == "backup");
  BOOST_TEST(c.config_file == path);
  BOOST_TEST(c.send.host == "10.0.0.5");
  BOOST_TEST(c.send.port == 5000);
  BOOST_TEST(c.send.streams == 4);
  BOOST_TEST((c.send.zstd == codec::LevelRange{19, 19}));
  BOOST_TEST(c.send.chunk_size == 4u << 20);
  BOOST_TEST(c.send.limit_bytes_per_second == 10u << 20);
  BOOST_TEST((c.send.cc == transport::CongestionControl::bbr));
  BOOST_TEST(c.send.idle_timeout_ms == 120000u);
  BOOST_TEST(c.send.family == AF_INET);
  BOOST_TEST(c.send.bind == "10.0.0.1");
  BOOST_TEST(c.send.resume);
  BOOST_TEST((c.send.verify == app::Verify::pin));
  BOOST_TEST(c.send.pin == kPin);
  // Trust is keyed by what is connected to, so aliases of one listener share it.
  BOOST_TEST(c.send.peer_key == "10.0.0.5:5000");

  // Another host is untouched; the alias matches without regard to case.
  Config other = parsed({"elsewhere"});
  BOOST_TEST(other.send.host == "elsewhere");
  BOOST_TEST(other.send.port == 4433);
  BOOST_TEST(other.send.streams == 8);
  BOOST_TEST(other.send.peer_key == "elsewhere:4433");
  BOOST_TEST(parsed({"BACKUP"}).send.host == "10.0.0.5");
}

BOOST_AUTO_TEST_CASE(command_line_wins) {
  write("Host backup\n"
        "  Address 10.0.0.5\n"
        "  Port 5000\n"
        "  Streams 4\n"
        "  Zstd 19\n"
        "  AddressFamily inet6\n"
        "  CA ca.pem\n"
        "  SecretFile key\n");
  Config c =
      parsed({"-P", "2", "-z1", "-4", "--pin", kPin, "--secret-file", "/k", "backup:6000", "file"});
  BOOST_TEST(c.send.host == "10.0.0.5"); // the Address stays: only the port was given
  BOOST_TEST(c.send.port == 6000);
  BOOST_TEST(c.send.peer_key == "10.0.0.5:6000");
  BOOST_TEST(c.send.streams == 2);
  BOOST_TEST((c.send.zstd == codec::LevelRange{1, 1}));
  BOOST_TEST(c.send.family == AF_INET);
  BOOST_TEST((c.send.verify == app::Verify::pin));
  BOOST_TEST(c.secret_file == "/k");
  BOOST_TEST(c.files == std::vector<std::string>{"file"});
  BOOST_TEST((parsed({"--insecure", "backup"}).send.verify == app::Verify::insecure));
}

BOOST_AUTO_TEST_CASE(config_none_and_the_default_file) {
  write("Host backup\n  Port 5000\n");
  // -F none reads nothing.
  std::vector<const char*> argv{"qpipe", "-F", "none", "backup", nullptr};
  auto r = parse_command_line(4, argv.data());
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->send.port == 4433);
  BOOST_TEST(r->config_file.empty());

  // Without -F: $XDG_CONFIG_HOME/qpipe/config when it exists, else nothing.
  ScopedEnv xdg("XDG_CONFIG_HOME", dir.path.c_str());
  std::vector<const char*> plain{"qpipe", "backup", nullptr};
  auto none = parse_command_line(2, plain.data());
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(none->config_file.empty());
  BOOST_REQUIRE_EQUAL(::mkdir((dir / "qpipe").c_str(), 0700), 0);
  test::write_file(dir / "qpipe/config", "Host backup\n  Port 5001\n", 0600);
  auto found = parse_command_line(2, plain.data());
  BOOST_REQUIRE(found.ok());
  BOOST_TEST(found->send.port == 5001);
  BOOST_TEST(found->config_file == dir / "qpipe/config");
  // A listener reads no config file: -F is not one of its options.
  std::vector<const char*> listen{"qpipe", "-l", "-F", "x", nullptr};
  BOOST_TEST(!parse_command_line(4, listen.data()).ok());
}

BOOST_AUTO_TEST_CASE(values_are_checked_with_file_and_line) {
  // Checked as the options they stand for, whichever host they are for.
  write("Host backup\n  Port 5000\nHost other\n  Streams 0\n");
  BOOST_TEST(refused({"backup"}) == path + ":4: Streams: 0 is out of range (1 to 256)");
  write("Host a\n  Zstd maybe\n");
  BOOST_TEST(refused({"x"}) == path + ":2: Zstd: 'maybe' is not a whole number");
  write("Host a\n  Port 70000\n");
  BOOST_TEST(refused({"x"}).rfind(path + ":2: Port: ", 0) == 0u);
  write("Host a\n  Address host:5000\n");
  BOOST_TEST(refused({"x"}) == path + ":2: Address: 'host:5000': the port goes in Port, not in "
                                      "Address");
  write("Host a\n  Insecure maybe\n");
  BOOST_TEST(refused({"x"}) == path + ":2: Insecure: 'maybe' is neither yes nor no");
  write("Host a\n  AddressFamily ipx\n");
  BOOST_TEST(refused({"x"}) == path + ":2: AddressFamily: 'ipx' is not one of any, inet, inet6");
  write("Host a\n  Pin abc\n");
  BOOST_TEST(refused({"x"}).rfind(path + ":2: Pin: 'abc' is not a fingerprint", 0) == 0u);
  write("Host a\n  CC fast\n");
  BOOST_TEST(refused({"x"}) == path + ":2: CC: 'fast' is not one of cubic, bbr, reno");
  // A file others can write, and a missing -F file.
  write("Host a\n", 0666);
  BOOST_TEST(refused({"x"}).find("fix with: chmod 600 " + path) != std::string::npos);
  std::remove(path.c_str());
  BOOST_TEST(refused({"x"}) == path + ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(special_values_and_paths) {
  write("Host v6\n  Address [fd00::1]\n"
        "Host bare6\n  Address fd00::2\n"
        "Host off\n  Zstd no\n  Limit none\n  Insecure no\n  Resume no\n"
        "Host paths\n  SecretFile keys/backup\n  CA ~/ca.pem\n"
        "Host *\n  Zstd yes\n  Limit 1M\n  Insecure yes\n  Resume yes\n");
  Config v6 = parsed({"v6"});
  BOOST_TEST(v6.send.host == "fd00::1");
  BOOST_TEST(v6.send.peer_key == "[fd00::1]:4433");
  BOOST_TEST(parsed({"bare6"}).send.host == "fd00::2");
  Config off = parsed({"off"});
  BOOST_TEST(!off.send.zstd.has_value());
  BOOST_TEST(off.send.limit_bytes_per_second == 0u);
  BOOST_TEST((off.send.verify == app::Verify::known_hosts));
  BOOST_TEST(!off.send.resume);
  Config any = parsed({"any"});
  BOOST_TEST((any.send.zstd == codec::kAutoLevels)); // yes: the level follows the link
  BOOST_TEST(any.send.limit_bytes_per_second == 1u << 20);
  BOOST_TEST((any.send.verify == app::Verify::insecure));
  BOOST_TEST(any.send.resume);

  ScopedEnv home("HOME", "/home/u");
  {
    ScopedEnv no_secret("QPIPE_SECRET", nullptr);
    Config p = parsed({"paths"});
    BOOST_TEST(p.secret_file == dir / "keys/backup"); // beside the config file
    BOOST_TEST(p.send.ca_file == "/home/u/ca.pem");
  }
  // QPIPE_SECRET wins over SecretFile; --secret-file wins over both.
  ScopedEnv secret("QPIPE_SECRET", "s");
  BOOST_TEST(parsed({"paths"}).secret_file.empty());
  BOOST_TEST(parsed({"--secret-file", "/k", "paths"}).secret_file == "/k");
}

BOOST_AUTO_TEST_CASE(print_config) {
  write("Host backup\n  Address 10.0.0.5\n  Port 5000\n  Zstd 19\n");
  Config c = parsed({"--print-config", "-P", "3", "backup"});
  BOOST_TEST(c.print_config);
  BOOST_TEST(print_config_text(c) == "host backup\n"
                                     "address 10.0.0.5\n"
                                     "port 5000\n"
                                     "addressfamily any\n"
                                     "insecure no\n"
                                     "streams 3\n"
                                     "zstd 19\n"
                                     "chunksize 2097152\n"
                                     "limit none\n"
                                     "cc bbr\n"
                                     "idletimeout 30\n"
                                     "resume no\n"
                                     "knownhostskey 10.0.0.5:5000\n"
                                     "configfile " +
                                         path + "\n");
  Config p = parsed({"--print-config", "--pin", kPin, "[::1]:7"});
  std::string text = print_config_text(p);
  BOOST_TEST(text.find("address [::1]\nport 7\n") != std::string::npos);
  BOOST_TEST(text.find(std::string("pin ") + kPin + "\n") != std::string::npos);
  BOOST_TEST(text.find("knownhostskey [::1]:7\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::cli
