// Route matching (see router.h).
#include "api/router.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace qpipe::api {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}. The caller checks the leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  for (;;) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    return percent_decode(value);
  }
  return std::nullopt;
}

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern[0] != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  Route route{std::move(method), {}, std::move(handler)};
  for (std::string_view part : split_path(pattern)) {
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      if (part.size() < 3 || part.back() != '}')
        throw std::invalid_argument("malformed {name} segment in route " + std::string(pattern));
      seg.text = part.substr(1, part.size() - 2);
      seg.is_param = true;
    } else {
      if (part.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("a {name} must be a whole segment in route " +
                                    std::string(pattern));
      seg.text = part;
    }
    route.segments.push_back(std::move(seg));
  }
  routes_.push_back(std::move(route));
}

bool Router::matches(const Route& route, const std::vector<std::string_view>& parts,
                     std::map<std::string, std::string, std::less<>>* params) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (seg.is_param ? parts[i].empty() : seg.text != parts[i]) return false;
  }
  if (params) {
    params->clear();
    for (size_t i = 0; i < parts.size(); ++i)
      if (route.segments[i].is_param) (*params)[route.segments[i].text] = percent_decode(parts[i]);
  }
  return true;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  if (path.empty() || path[0] != '/') return m;
  auto parts = split_path(path);
  auto find = [&](std::string_view wanted) -> bool {
    for (const Route& r : routes_)
      if (r.method == wanted && matches(r, parts, &m.params)) {
        m.handler = &r.handler;
        return true;
      }
    return false;
  };
  if (find(method) || (method == "HEAD" && find("GET"))) return m;
  m.params.clear();
  for (const Route& r : routes_) {
    if (!matches(r, parts, nullptr)) continue;
    auto add = [&](const std::string& name) {
      if (std::find(m.allowed.begin(), m.allowed.end(), name) == m.allowed.end())
        m.allowed.push_back(name);
    };
    add(r.method);
    if (r.method == "GET") add("HEAD");
  }
  return m;
}

} // namespace qpipe::api
