// Tests for src/pipeline/file_name.h: what a listener accepts as a file name
// in -o DIR, whatever the sender claims.
#include <boost/test/unit_test.hpp>

#include <string>

#include "pipeline/file_name.h"

using qpipe::validate_file_name;

BOOST_AUTO_TEST_SUITE(file_name)

BOOST_AUTO_TEST_CASE(plain_names_pass) {
  for (const char* n : {"a", "backup.tar", "name with spaces", "ünïcödé.txt", "a..b", "x.", "-"})
    BOOST_TEST(validate_file_name(n).ok(), n);
  BOOST_TEST(validate_file_name(std::string(255, 'x')).ok());
}

BOOST_AUTO_TEST_CASE(hostile_names_are_refused) {
  for (const char* n : {"", ".", "..", "../x", "a/b", "/etc/passwd", ".hidden", "..x", "a\nb",
                        "tab\there", "del\x7f"})
    BOOST_TEST(!validate_file_name(n).ok(), n);
  BOOST_TEST(!validate_file_name(std::string("a\0b", 3)).ok());
  BOOST_TEST(!validate_file_name(std::string(256, 'x')).ok());
  auto r = validate_file_name("../etc");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == 1);
  BOOST_TEST(r.error().message().find("refused") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
