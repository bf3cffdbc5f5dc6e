// Tests of the generated token of `qpipe api` (src/api/token_file.h).
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sys/stat.h>

#include "api/token_file.h"
#include "temp_dir.h"

namespace qpipe::api {

BOOST_AUTO_TEST_SUITE(api_token_file)

BOOST_AUTO_TEST_CASE(created_private_then_reused) {
  test::TempDir dir;
  std::string file = dir.path + "/run/qpipe/api-token";
  bool created = false;
  auto first = load_or_create_token(file, &created);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(created);
  BOOST_TEST(first->size() == 64u);
  BOOST_TEST(first->find_first_not_of("0123456789abcdef") == std::string::npos);
  struct stat st;
  BOOST_REQUIRE(stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600);
  BOOST_REQUIRE(stat((dir.path + "/run/qpipe").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 077) == 0);
  auto again = load_or_create_token(file, &created);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(!created);
  BOOST_TEST(*again == *first);
  BOOST_TEST(*new_token() != *new_token());
}

BOOST_AUTO_TEST_CASE(a_token_file_others_can_read_is_refused) {
  test::TempDir dir;
  std::string file = dir.path + "/api-token";
  std::ofstream(file) << "abc\n";
  ::chmod(file.c_str(), 0644);
  auto t = load_or_create_token(file);
  BOOST_REQUIRE(!t.ok());
  BOOST_TEST(t.error().message().find("chmod 600") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_runtime_directory_is_the_default) {
  {
    test::ScopedEnv env("XDG_RUNTIME_DIR", "/run/user/1234");
    BOOST_TEST(default_token_file() == "/run/user/1234/qpipe/api-token");
  }
  test::ScopedEnv env("XDG_RUNTIME_DIR", "relative"); // ignored, as the spec says
  BOOST_TEST(default_token_file().ends_with("/qpipe/api-token"));
  BOOST_TEST(default_token_file().find("relative") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
