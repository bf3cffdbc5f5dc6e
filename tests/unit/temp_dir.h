// Helpers shared by the unit tests: a fresh directory under $TMPDIR for one
// test, removed with everything in it when the test ends; small file
// helpers; an environment variable set for one test.
#pragma once

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <vector>

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

// Creates or truncates a file with `data`, then gives it exactly `mode`.
inline void write_file(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
    BOOST_REQUIRE(out.good());
  }
  BOOST_REQUIRE_EQUAL(::chmod(path.c_str(), mode), 0);
}

// The contents of a file.
inline std::string contents_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE(in.good());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The permission bits of a file.
inline unsigned mode_of(const std::string& path) {
  struct stat st;
  BOOST_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// The names in a directory, sorted.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Sets (or, with null, unsets) an environment variable for one test; the
// old value comes back when it ends.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string name_;
  std::optional<std::string> old_;
};

} // namespace qpipe::test
