#include "pipeline/file_name.h"

#include <string>

#include "pipeline/wire.h"

namespace qpipe {

Status validate_file_name(std::string_view name) {
  auto refuse = [&](const char* why) {
    std::string shown;
    for (char c : name.substr(0, 64)) {
      unsigned char u = static_cast<unsigned char>(c);
      shown += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    return make_error(Errc::transfer, "file name '" + shown + "'", std::string("refused: ") + why);
  };
  if (name.empty()) return refuse("empty");
  if (name.size() > wire::kMaxFileName) return refuse("longer than 255 bytes");
  if (name == "." || name == "..") return refuse("not a file name");
  if (name[0] == '.') return refuse("a leading dot would hide it");
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/') return refuse("contains '/'");
    if (c == '\0') return refuse("contains NUL");
    if (u < 0x20 || u == 0x7f) return refuse("contains a control character");
  }
  return {};
}

} // namespace qpipe
