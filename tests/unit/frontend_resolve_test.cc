// Tests of what a front end settles before it starts the engine
// (src/frontend/resolve.h): the default paths under XDG and a secret from a
// file or from the environment.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <sys/stat.h>

#include "frontend/resolve.h"
#include "temp_dir.h"

namespace qpipe::frontend {
namespace {

struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-resolve") {}
};

using qpipe::test::ScopedEnv;

constexpr const char* kVar = "QPIPE_UNIT_RESOLVE_SECRET";

} // namespace

BOOST_AUTO_TEST_SUITE(frontend_resolve)

BOOST_AUTO_TEST_CASE(default_paths_under_xdg) {
  ScopedEnv data("XDG_DATA_HOME", "/xdg/data");
  ScopedEnv config("XDG_CONFIG_HOME", "/xdg/config");
  BOOST_TEST(default_identity_dir() == "/xdg/data/qpipe");
  BOOST_TEST(default_known_hosts_file() == "/xdg/config/qpipe/known_hosts");
}

BOOST_AUTO_TEST_CASE(secret_from_the_environment_or_none) {
  {
    ScopedEnv env(kVar, "from env");
    auto s = read_secret("", kVar);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->value_or("") == "from env");
  }
  {
    ScopedEnv env(kVar, "");
    auto s = read_secret("", kVar);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(!s->has_value());
  }
  ScopedEnv env(kVar, nullptr);
  auto s = read_secret("", kVar);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(!s->has_value());
}

BOOST_AUTO_TEST_CASE(a_named_file_wins_over_the_environment) {
  TempDir dir;
  std::ofstream(dir / "secret") << "from file\n";
  BOOST_REQUIRE(::chmod((dir / "secret").c_str(), 0600) == 0);
  ScopedEnv env(kVar, "from env");
  auto s = read_secret(dir / "secret", kVar);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(s->value_or("") == "from file");

  BOOST_REQUIRE(::chmod((dir / "secret").c_str(), 0644) == 0);
  auto open = read_secret(dir / "secret", kVar);
  BOOST_REQUIRE(!open.ok()); // a secret others can read is refused, not replaced by env
  BOOST_TEST(!read_secret(dir / "missing", kVar).ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
