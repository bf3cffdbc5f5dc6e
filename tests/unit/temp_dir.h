// A fresh directory under $TMPDIR for one test, removed with everything in
// it when the test ends. Shared by the unit tests that touch files.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <stdlib.h>
#include <string>
#include <system_error>

namespace qpipe::test {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix = "qpipe-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

} // namespace qpipe::test
