// Bearer-token checks (see bearer_auth.h).
#include "api/bearer_auth.h"

#include "api/http_message.h"

namespace qpipe::api {

bool constant_time_equal(std::string_view given, std::string_view secret) {
  unsigned diff = given.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < secret.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(secret[i]);
  }
  return diff == 0;
}

bool bearer_token_matches(std::optional<std::string_view> authorization, std::string_view token) {
  if (!authorization || token.empty()) return false;
  std::string_view v = *authorization;
  constexpr std::string_view kScheme = "Bearer";
  if (v.size() <= kScheme.size() || !iequals(v.substr(0, kScheme.size()), kScheme) ||
      (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t'))
    return false;
  v.remove_prefix(kScheme.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return constant_time_equal(v, token);
}

std::optional<std::string_view> cookie_value(std::string_view cookie_header,
                                             std::string_view name) {
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semi);
    cookie_header =
        semi == std::string_view::npos ? std::string_view() : cookie_header.substr(semi + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t'))
      pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

} // namespace qpipe::api
