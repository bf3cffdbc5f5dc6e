// The config file applied to a send, and --print-config (see host_config.h).
#include "cli/host_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/host_port.h"
#include "frontend/resolve.h"

namespace qpipe::cli {
namespace {

Error usage(std::string what, std::string why) {
  return make_error(Errc::usage, std::move(what), std::move(why));
}

Result<bool> yes_no(const std::string& v, const std::string& what) {
  if (v == "yes") return true;
  if (v == "no") return false;
  return usage(what, "'" + v + "' is neither yes nor no");
}

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "";
}

// ~/x is in the home directory; a relative path is beside the config file.
std::string expand_path(const std::string& v, const ConfigFile& file) {
  if (v == "~") return home_dir();
  if (v.rfind("~/", 0) == 0) return home_dir() + v.substr(1);
  if (v[0] == '/') return v;
  return split_path(file.path()).dir + "/" + v;
}

// An Address is a host alone: a name, an IPv4 address, or an IPv6 address
// with or without brackets. A port is refused with the keyword to use.
Result<std::string> address_of(const std::string& v, const std::string& what) {
  if (v.find_first_of(" \t") != std::string::npos)
    return usage(what, "'" + v + "' is not one host name or address");
  if (v.front() == '[') {
    if (v.back() != ']' || v.size() < 3)
      return usage(what, "'" + v + "': the port goes in Port, not in Address");
    return v.substr(1, v.size() - 2);
  }
  if (std::count(v.begin(), v.end(), ':') == 1)
    return usage(what, "'" + v + "': the port goes in Port, not in Address");
  return v;
}

const char* cc_name(transport::CongestionControl cc) {
  switch (cc) {
  case transport::CongestionControl::bbr:
    return "bbr";
  case transport::CongestionControl::reno:
    return "reno";
  default:
    return "cubic";
  }
}

// The value --print-config shows for a keyword; empty leaves the line out.
std::string effective(const Config& c, ConfigKey key) {
  const app::SendOptions& s = c.send;
  switch (key) {
  case ConfigKey::address:
    return s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
  case ConfigKey::port:
    return std::to_string(s.port);
  case ConfigKey::address_family:
    return s.family == AF_INET ? "inet" : s.family == AF_INET6 ? "inet6" : "any";
  case ConfigKey::bind:
    return s.bind;
  case ConfigKey::pin:
    return s.verify == app::Verify::pin ? s.pin : "";
  case ConfigKey::ca:
    return s.verify == app::Verify::ca ? s.ca_file : "";
  case ConfigKey::insecure:
    return s.verify == app::Verify::insecure ? "yes" : "no";
  case ConfigKey::secret_file:
    return c.secret_file;
  case ConfigKey::streams:
    return std::to_string(s.streams);
  case ConfigKey::zstd:
    return s.zstd ? codec::format_levels(*s.zstd) : "no";
  case ConfigKey::chunk_size:
    return std::to_string(s.chunk_size_or_default());
  case ConfigKey::limit:
    return s.limit_bytes_per_second ? std::to_string(s.limit_bytes_per_second) : "none";
  case ConfigKey::cc:
    return cc_name(s.cc);
  case ConfigKey::idle_timeout:
    return std::to_string(s.idle_timeout_ms / 1000);
  case ConfigKey::resume:
    return s.resume ? "yes" : "no";
  }
  return "";
}

std::string lower(std::string s) {
  for (char& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

} // namespace

Status apply_setting(Config& c, const ConfigFile& file, const ConfigSetting& setting) {
  const std::string what = file.where(setting.line) + ": " + setting.keyword->name;
  const std::string& v = setting.value;
  switch (setting.keyword->key) {
  case ConfigKey::address: {
    auto host = address_of(v, what);
    if (!host) return host.error();
    c.send.host = *host;
    return {};
  }
  case ConfigKey::port: {
    auto port = parse_port(v, what);
    if (!port) return port.error();
    c.send.port = *port;
    return {};
  }
  case ConfigKey::address_family:
    if (v == "any") {
      c.send.family = c.listen.family = AF_UNSPEC;
      return {};
    }
    if (v == "inet") return apply_option(c, OptId::ipv4, std::nullopt, what);
    if (v == "inet6") return apply_option(c, OptId::ipv6, std::nullopt, what);
    return usage(what, "'" + v + "' is not one of any, inet, inet6");
  case ConfigKey::bind:
    return apply_option(c, OptId::bind, v, what);
  case ConfigKey::pin:
    return apply_option(c, OptId::pin, v, what);
  case ConfigKey::ca:
    return apply_option(c, OptId::ca, expand_path(v, file), what);
  case ConfigKey::insecure: {
    auto yes = yes_no(v, what);
    if (!yes) return yes.error();
    if (*yes) return apply_option(c, OptId::insecure, std::nullopt, what);
    c.send.verify = app::Verify::known_hosts;
    return {};
  }
  case ConfigKey::secret_file:
    if (const char* env = std::getenv("QPIPE_SECRET"); env && *env) return {};
    return apply_option(c, OptId::secret_file, expand_path(v, file), what);
  case ConfigKey::streams:
    return apply_option(c, OptId::streams, v, what);
  case ConfigKey::zstd:
    if (v == "yes") return apply_option(c, OptId::zstd, std::nullopt, what);
    if (v == "no") {
      c.send.zstd.reset();
      return {};
    }
    return apply_option(c, OptId::zstd, v, what);
  case ConfigKey::chunk_size:
    return apply_option(c, OptId::chunk_size, v, what);
  case ConfigKey::limit:
    if (v == "none") {
      c.send.limit_bytes_per_second = 0;
      return {};
    }
    return apply_option(c, OptId::limit, v, what);
  case ConfigKey::cc:
    return apply_option(c, OptId::cc, v, what);
  case ConfigKey::idle_timeout:
    return apply_option(c, OptId::idle_timeout, v, what);
  case ConfigKey::resume: {
    auto yes = yes_no(v, what);
    if (!yes) return yes.error();
    c.send.resume = c.listen.resume = *yes;
    return {};
  }
  }
  return {};
}

Status apply_host_config(Config& c, const std::optional<std::string>& config_option,
                         const std::string& host) {
  c.host_name = host;
  c.send.host = host;
  std::string path;
  if (config_option) {
    if (config_option->empty()) return usage("--config", "needs a file name (or none)");
    if (*config_option != "none") path = *config_option;
  } else {
    path = frontend::default_config_file();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) path.clear();
  }
  c.config_file = path;
  if (path.empty()) return {};
  auto file = ConfigFile::load(path);
  if (!file) return file.error();
  // Every setting is checked, whichever host it is for; only host's are kept.
  for (const auto& s : file->all_settings()) {
    Config scratch;
    if (auto st = apply_setting(scratch, *file, s); !st) return st.error();
  }
  for (const auto& s : file->settings_for(host))
    if (auto st = apply_setting(c, *file, s); !st) return st.error();
  return {};
}

std::string print_config_text(const Config& c) {
  std::string out = "host " + c.host_name + "\n";
  for (const auto& k : config_keywords()) {
    std::string value = effective(c, k.key);
    if (!value.empty()) out += lower(k.name) + " " + value + "\n";
  }
  out += "knownhostskey " + c.send.peer_key + "\n";
  out += "configfile " + (c.config_file.empty() ? std::string("none") : c.config_file) + "\n";
  return out;
}

} // namespace qpipe::cli
