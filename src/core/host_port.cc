// Network addresses as users type them (see host_port.h).
#include "core/host_port.h"

#include <algorithm>

#include "core/units.h"

namespace qpipe {
namespace {

Error usage(std::string what, std::string why) {
  return make_error(Errc::usage, std::move(what), std::move(why));
}

} // namespace

Result<uint16_t> parse_port(const std::string& text, const std::string& what, int lo) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return usage(what, "'" + text + "' is not a port number");
  auto n = parse_int(text, what, lo, 65535);
  if (!n) return n.error();
  return static_cast<uint16_t>(*n);
}

Result<HostPort> parse_host_port(const std::string& text, bool listening, uint16_t default_port) {
  const std::string what = listening ? "listen address" : "destination";
  HostPort hp{"", default_port};
  if (text.empty()) return usage(what, "is empty");
  std::string port_text;
  if (text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return usage(what, "'" + text + "': missing ']'");
    hp.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return usage(what, "'" + text + "': expected ':' after ']'");
      port_text = text.substr(close + 2);
      if (port_text.empty()) return usage(what, "'" + text + "': empty port");
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    hp.host = text; // a bare IPv6 address
  } else if (auto colon = text.find(':'); colon != std::string::npos) {
    hp.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return usage(what, "'" + text + "': empty port");
  } else if (listening && text.find_first_not_of("0123456789") == std::string::npos) {
    port_text = text; // `qpipe -l 5000`, as nc -l reads it
  } else {
    hp.host = text;
  }
  if (!port_text.empty()) {
    auto p = parse_port(port_text, what + " port", listening ? 0 : 1);
    if (!p) return p.error();
    hp.port = *p;
  }
  if (hp.host.empty() && !listening) return usage(what, "'" + text + "' has no host");
  return hp;
}

} // namespace qpipe
