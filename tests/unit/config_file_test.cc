// Tests of the config file's syntax and matching (src/cli/config_file.h):
// keywords and values, comments, quotes and `=`, Host patterns and ssh's
// first-value-wins rule, errors with the file and line, and the rule that
// refuses a file others can write.
#include <boost/test/unit_test.hpp>

#include <string>
#include <unistd.h>
#include <vector>

#include "cli/config_file.h"
#include "temp_dir.h"

namespace qpipe::cli {
namespace {

ConfigFile parsed(const std::string& text) {
  auto r = ConfigFile::parse(text, "cfg");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
  return *r;
}

// The message of a text that does not parse.
std::string refused(const std::string& text) {
  auto r = ConfigFile::parse(text, "cfg");
  BOOST_TEST_INFO(text);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == static_cast<int>(Errc::usage));
  return r.error().message();
}

// "Keyword=value" for each setting that applies to host, in order.
std::vector<std::string> settings(const ConfigFile& f, const std::string& host) {
  std::vector<std::string> out;
  for (const auto& s : f.settings_for(host))
    out.push_back(std::string(s.keyword->name) + "=" + s.value);
  return out;
}

using Strings = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(keywords_values_and_comments) {
  ConfigFile f = parsed("# my hosts\n"
                        "\n"
                        "Host backup\n"
                        "  Address 10.0.0.5\n"
                        "\tport 5000\n"             // keywords are case-insensitive
                        "  ZSTD=19\n"               // '=' instead of blanks
                        "  Streams = 4\r\n"         // blanks around '=', a CR at the end
                        "  SecretFile \"my key\"\n" // quotes keep the blank
                        "  # indented comment\n");
  BOOST_TEST(settings(f, "backup") == (Strings{"Address=10.0.0.5", "Port=5000", "Zstd=19",
                                               "Streams=4", "SecretFile=my key"}),
             boost::test_tools::per_element());
  BOOST_TEST(settings(f, "other").empty());
  // The canonical spelling, and the line each came from.
  auto s = f.settings_for("backup");
  BOOST_TEST(std::string(s[1].keyword->name) == "Port");
  BOOST_TEST(s[1].line == 5);
  BOOST_TEST(f.where(5) == "cfg:5");
}

BOOST_AUTO_TEST_CASE(first_value_wins_in_file_order) {
  ConfigFile f = parsed("Limit 10M\n" // before any Host: every host
                        "Host backup\n"
                        "  Port 5000\n"
                        "  Streams 2\n"
                        "Host backup b2\n"
                        "  Port 6000\n"
                        "  Zstd yes\n"
                        "Host *\n"
                        "  Streams 16\n"
                        "  Limit none\n");
  BOOST_TEST(settings(f, "backup") == (Strings{"Limit=10M", "Port=5000", "Streams=2", "Zstd=yes"}),
             boost::test_tools::per_element());
  BOOST_TEST(settings(f, "b2") == (Strings{"Limit=10M", "Port=6000", "Zstd=yes", "Streams=16"}),
             boost::test_tools::per_element());
  BOOST_TEST(settings(f, "elsewhere") == (Strings{"Limit=10M", "Streams=16"}),
             boost::test_tools::per_element());
  BOOST_TEST(f.all_settings().size() == 7u);
}

BOOST_AUTO_TEST_CASE(pin_ca_and_insecure_are_one_setting) {
  ConfigFile f = parsed("Host backup\n"
                        "  Insecure no\n"
                        "Host lab\n"
                        "  Pin SHA256:x\n"
                        "Host *\n"
                        "  CA corp.pem\n");
  BOOST_TEST(settings(f, "backup") == Strings{"Insecure=no"}, boost::test_tools::per_element());
  BOOST_TEST(settings(f, "lab") == Strings{"Pin=SHA256:x"}, boost::test_tools::per_element());
  BOOST_TEST(settings(f, "x") == Strings{"CA=corp.pem"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(patterns) {
  BOOST_TEST(host_pattern_match("backup", "backup"));
  BOOST_TEST(host_pattern_match("backup", "BackUp")); // as ssh: without regard to case
  BOOST_TEST(!host_pattern_match("backup", "backup2"));
  BOOST_TEST(!host_pattern_match("backup", "backu"));
  BOOST_TEST(host_pattern_match("*", ""));
  BOOST_TEST(host_pattern_match("*", "anything.at.all"));
  BOOST_TEST(host_pattern_match("*.lan", "nas.lan"));
  BOOST_TEST(!host_pattern_match("*.lan", "nas.lan.example"));
  BOOST_TEST(host_pattern_match("10.0.0.?", "10.0.0.7"));
  BOOST_TEST(!host_pattern_match("10.0.0.?", "10.0.0.17"));
  BOOST_TEST(host_pattern_match("a*b*c", "aXXbYbZc"));
  BOOST_TEST(!host_pattern_match("a*b*c", "aXXbYbZ"));
  BOOST_TEST(host_pattern_match("**x", "yyx"));

  ConfigFile f = parsed("Host *.lan !printer.lan\n"
                        "  Zstd 3\n"
                        "Host !nowhere\n" // only a negation: matches nothing, as in ssh
                        "  Streams 2\n");
  BOOST_TEST(settings(f, "nas.lan") == Strings{"Zstd=3"}, boost::test_tools::per_element());
  BOOST_TEST(settings(f, "printer.lan").empty());
  BOOST_TEST(settings(f, "other").empty());
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_line) {
  BOOST_TEST(refused("Host a\n  Colour blue\n") ==
             "cfg:2: unknown keyword 'Colour'; see CONFIGURATION in qpipe(1)");
  // ssh's spellings get a hint.
  BOOST_TEST(refused("\n\nHostName x\n") ==
             "cfg:3: unknown keyword 'HostName' (qpipe calls it Address); see CONFIGURATION in "
             "qpipe(1)");
  BOOST_TEST(refused("Host a\n  Port\n") == "cfg:2: Port needs a value");
  BOOST_TEST(refused("Host a\n  Port =\n") == "cfg:2: Port needs a value");
  BOOST_TEST(refused("Host a\n  Port \"\"\n") == "cfg:2: Port needs a value");
  BOOST_TEST(refused("Host\n") == "cfg:1: Host needs at least one name or pattern");
  BOOST_TEST(refused("Host a !\n") == "cfg:1: malformed pattern '!'");
  BOOST_TEST(refused("Host a\n SecretFile \"a\"b\"\n") ==
             "cfg:2: SecretFile: unbalanced double quotes");
  BOOST_TEST(refused("Host a\n SecretFile \"ab\n") ==
             "cfg:2: SecretFile: unbalanced double quotes");
  BOOST_TEST(refused("= 3\n") == "cfg:1: missing keyword before '='");
}

BOOST_AUTO_TEST_CASE(every_keyword_parses_and_is_documented) {
  for (const auto& k : config_keywords()) {
    BOOST_TEST_INFO(k.name);
    ConfigFile f = parsed(std::string("Host h\n  ") + k.name + " v\n");
    auto s = f.settings_for("h");
    BOOST_REQUIRE(s.size() == 1u);
    BOOST_TEST(s[0].keyword == &k);
    BOOST_TEST(std::string(k.help).size() > 10u);
    BOOST_TEST(std::string(k.value).size() > 0u);
  }
}

BOOST_AUTO_TEST_CASE(load_refuses_files_others_can_write) {
  test::TempDir dir;
  const std::string path = dir / "config";
  test::write_file(path, "Host backup\n  Port 5000\n", 0644); // readable by all: fine
  auto ok = ConfigFile::load(path);
  BOOST_REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message()));
  BOOST_TEST(ok->path() == path);
  BOOST_TEST(ok->settings_for("backup").size() == 1u);

  for (mode_t mode : {0664, 0646, 0666}) {
    test::write_file(path, "Host backup\n", mode);
    auto r = ConfigFile::load(path);
    BOOST_TEST_INFO("mode " << std::oct << mode);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().exit_code() == static_cast<int>(Errc::usage));
    BOOST_TEST(r.error().message().find("fix with: chmod 600 " + path) != std::string::npos);
  }

  // Owned by someone else than the caller or root: refused as ssh does.
  if (::getuid() == 0) {
    test::write_file(path, "Host backup\n", 0600);
    BOOST_REQUIRE_EQUAL(::chown(path.c_str(), 65534, 65534), 0);
    auto r = ConfigFile::load(path);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message().find("belongs to uid 65534") != std::string::npos);
    BOOST_REQUIRE_EQUAL(::chown(path.c_str(), 0, 0), 0);
  }

  auto missing = ConfigFile::load(dir / "nothing");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().exit_code() == static_cast<int>(Errc::usage));
  BOOST_TEST(missing.error().message() == dir / "nothing" + ": No such file or directory");
  auto directory = ConfigFile::load(dir.path);
  BOOST_REQUIRE(!directory.ok());
  BOOST_TEST(directory.error().exit_code() == static_cast<int>(Errc::usage));

  // A syntax error names the path given.
  test::write_file(path, "Host a\nWhat 1\n", 0600);
  auto bad = ConfigFile::load(path);
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message().rfind(path + ":2: unknown keyword 'What'", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::cli
