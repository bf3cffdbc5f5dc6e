// Fuzzes qpipe::validate_file_name (src/pipeline/file_name.h), the guard
// between a name the sender claims and a path the listener creates under
// -o DIR. The whole input is the name. Asserts that anything it accepts is
// one safe path component: not empty, at most 255 bytes, no '/', no NUL, not
// "." or "..", no leading '.', no control character; that it accepts exactly
// the names that rule allows (a reference implementation of file_name.h's
// rule); and that the message of a refusal carries no control character
// (it echoes the name to a terminal). Also asserts that printable()
// (src/core/printable.h), which shows names in messages, lets no control
// byte through and is idempotent.
#include <string>
#include <string_view>

#include "core/printable.h"
#include "fuzz_input.h"
#include "pipeline/file_name.h"

using namespace qpipe;

namespace {

bool control(unsigned char u) {
  return u < 0x20 || u == 0x7f;
}

// file_name.h's rule, written independently.
bool allowed(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name == "." || name == ".." || name.front() == '.') return false;
  for (char c : name)
    if (c == '/' || c == '\0' || control(static_cast<unsigned char>(c))) return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  Status s = validate_file_name(name);
  if (s.ok()) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.size() <= 255);
    FUZZ_CHECK(name.find('/') == std::string_view::npos);
    FUZZ_CHECK(name.find('\0') == std::string_view::npos);
    FUZZ_CHECK(name != "." && name != "..");
    FUZZ_CHECK(name.front() != '.');
    for (char c : name)
      FUZZ_CHECK(!control(static_cast<unsigned char>(c)));
  } else {
    for (char c : s.error().message())
      FUZZ_CHECK_MSG(!control(static_cast<unsigned char>(c)), "a refusal echoes a control byte");
  }
  FUZZ_CHECK_MSG(s.ok() == allowed(name), "accepts or refuses against the documented rule");
  // What messages and the progress line show of a name (core/printable.h).
  std::string shown = printable(name);
  for (char c : shown)
    FUZZ_CHECK_MSG(!control(static_cast<unsigned char>(c)),
                   "printable() lets a control byte through");
  FUZZ_CHECK_MSG(printable(shown) == shown, "printable() is idempotent");
  return 0;
}
