// IP literals (see ip_literal.h).
#include "api/ip_literal.h"

#include <cstring>
#include <uv.h>

namespace qpipe::api {

std::string strip_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  return std::string(address);
}

std::optional<IpBytes> parse_ip_literal(std::string_view literal) {
  std::string host = strip_brackets(literal);
  IpBytes b{};
  unsigned char v4[4];
  if (host.find(':') == std::string::npos) {
    if (uv_inet_pton(AF_INET, host.c_str(), v4) != 0) return std::nullopt;
    b[10] = b[11] = 0xff;
    std::memcpy(b.data() + 12, v4, 4);
    return b;
  }
  if (uv_inet_pton(AF_INET6, host.c_str(), b.data()) != 0) return std::nullopt;
  return b;
}

bool is_loopback_address(std::string_view address) {
  auto b = parse_ip_literal(address);
  if (!b) return false;
  static const IpBytes kLoopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return *b == kLoopback || (std::memcmp(b->data(), kMapped, 12) == 0 && (*b)[12] == 127);
}

bool is_wildcard_address(std::string_view address) {
  auto b = parse_ip_literal(address);
  if (!b) return false;
  static const IpBytes kAny6{};
  static const IpBytes kAny4 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
  return *b == kAny6 || *b == kAny4;
}

} // namespace qpipe::api
