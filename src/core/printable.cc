#include "core/printable.h"

#include <cstdint>
#include <cstdio>

namespace qpipe {

namespace {

void escape_byte(std::string& out, unsigned char b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  out += buf;
}

void escape_char(std::string& out, uint32_t c) {
  char buf[12]; // a backslash, "u" and up to 8 hex digits of a 32-bit value
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
  out += buf;
}

// C1 controls and the characters that reorder text (Unicode's bidirectional
// formatting characters, UAX #9).
bool hidden(uint32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) and its code
// point; 0 when there is none.
size_t decode(std::string_view text, size_t i, uint32_t& c) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  size_t len;
  uint32_t min;
  if (b >= 0xc2 && b <= 0xdf) {
    len = 2, c = b & 0x1f, min = 0x80;
  } else if (b >= 0xe0 && b <= 0xef) {
    len = 3, c = b & 0x0f, min = 0x800;
  } else if (b >= 0xf0 && b <= 0xf4) {
    len = 4, c = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return len;
}

} // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7f)
        escape_byte(out, b);
      else
        out += static_cast<char>(b);
      ++i;
      continue;
    }
    uint32_t c = 0;
    size_t len = decode(text, i, c);
    if (len == 0) {
      escape_byte(out, b);
      ++i;
    } else {
      if (hidden(c))
        escape_char(out, c);
      else
        out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

} // namespace qpipe
