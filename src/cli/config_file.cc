// The config file: its keywords, its syntax and its matching (see config_file.h).
#include "cli/config_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"

namespace qpipe::cli {
namespace {

constexpr ConfigKeyword kKeywords[] = {
    {ConfigKey::address, ConfigKey::address, "Address", "HOST", nullptr,
     "The name or address to connect to, instead of the name given (ssh's HostName); in "
     "brackets or bare for IPv6."},
    {ConfigKey::port, ConfigKey::port, "Port", "PORT", nullptr,
     "The listener's port, when the command line names none (HOST:PORT wins)."},
    {ConfigKey::address_family, ConfigKey::address_family, "AddressFamily", "any|inet|inet6",
     "-4, -6", "IPv4 only (inet), IPv6 only (inet6) or either (any)."},
    {ConfigKey::bind, ConfigKey::bind, "Bind", "ADDR", "--bind", "The local address to use."},
    {ConfigKey::pin, ConfigKey::pin, "Pin", "SHA256:FP", "--pin",
     "Accept only the listener with this fingerprint."},
    {ConfigKey::ca, ConfigKey::pin, "CA", "FILE", "--ca",
     "Verify the listener's certificate chain and name against the CAs in FILE."},
    {ConfigKey::insecure, ConfigKey::pin, "Insecure", "yes|no", "--insecure",
     "Do not verify the listener (yes), or verify it by the known hosts (no)."},
    {ConfigKey::secret_file, ConfigKey::secret_file, "SecretFile", "FILE", "--secret-file",
     "The shared secret to prove; QPIPE_SECRET, when set, wins over it."},
    {ConfigKey::streams, ConfigKey::streams, "Streams", "N", "--streams",
     "Parallel QUIC streams in flight."},
    {ConfigKey::zstd, ConfigKey::zstd, "Zstd", "yes|no|auto|LEVEL", "--zstd",
     "Compress with zstd: yes is auto (the level follows the link), no turns it off."},
    {ConfigKey::chunk_size, ConfigKey::chunk_size, "ChunkSize", "SIZE", "--chunk-size",
     "Bytes per chunk."},
    {ConfigKey::limit, ConfigKey::limit, "Limit", "RATE|none", "--limit",
     "Cap the sending rate; none lifts the cap."},
    {ConfigKey::cc, ConfigKey::cc, "CC", "cubic|bbr|reno", "--cc", "Congestion control."},
    {ConfigKey::idle_timeout, ConfigKey::idle_timeout, "IdleTimeout", "SECONDS", "--idle-timeout",
     "Give up on a silent listener after SECONDS."},
    {ConfigKey::resume, ConfigKey::resume, "Resume", "yes|no", "--resume",
     "Send only the rest of files the listener kept a part of."},
};

// Largest config file read; a longer one is surely not a config file.
constexpr size_t kMaxConfigBytes = 1 << 20;

Error at(const std::string& where, std::string why) {
  return make_error(Errc::usage, where, std::move(why));
}

bool blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && (blank(s.back()) || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const ConfigKeyword* find_keyword(std::string_view name) {
  for (const auto& k : kKeywords)
    if (iequal(k.name, name)) return &k;
  return nullptr;
}

// ssh_config spellings that users bring along, and what qpipe calls them.
std::string ssh_hint(std::string_view name) {
  if (iequal(name, "HostName")) return " (qpipe calls it Address)";
  if (iequal(name, "Compression")) return " (qpipe calls it Zstd)";
  return "";
}

// A value without its double quotes; nothing when the quotes do not pair up.
std::optional<std::string> unquote(std::string_view v) {
  if (v.find('"') == std::string_view::npos) return std::string(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"' &&
      v.substr(1, v.size() - 2).find('"') == std::string_view::npos)
    return std::string(v.substr(1, v.size() - 2));
  return std::nullopt;
}

} // namespace

std::span<const ConfigKeyword> config_keywords() {
  return kKeywords;
}

bool host_pattern_match(std::string_view pattern, std::string_view host) {
  // Iterative glob matching: on a mismatch after a `*`, the star takes one
  // more character and matching resumes from there.
  size_t p = 0, h = 0, star = std::string_view::npos, star_h = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (h < host.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], host[h]))) {
      ++p;
      ++h;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_h = h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++star_h;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

Result<ConfigFile> ConfigFile::parse(std::string_view text, const std::string& path) {
  ConfigFile file;
  file.path_ = path;
  file.blocks_.push_back({}); // the settings before the first Host line
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = file.where(line_no);
    // The keyword ends at a blank or at '='; one '=' may stand between it
    // and the value, with blanks around it.
    size_t end = 0;
    while (end < line.size() && !blank(line[end]) && line[end] != '=')
      ++end;
    std::string_view name = line.substr(0, end);
    std::string_view rest = trim(line.substr(end));
    if (!rest.empty() && rest.front() == '=') rest = trim(rest.substr(1));
    if (name.empty()) return at(where, "missing keyword before '='");
    if (iequal(name, "Host")) {
      Block block;
      while (!rest.empty()) {
        size_t stop = 0;
        while (stop < rest.size() && !blank(rest[stop]))
          ++stop;
        auto pattern = unquote(rest.substr(0, stop));
        if (!pattern || pattern->empty() || *pattern == "!")
          return at(where, "malformed pattern '" + std::string(rest.substr(0, stop)) + "'");
        block.patterns.push_back(*pattern);
        rest = trim(rest.substr(stop));
      }
      if (block.patterns.empty()) return at(where, "Host needs at least one name or pattern");
      file.blocks_.push_back(std::move(block));
      continue;
    }
    const ConfigKeyword* keyword = find_keyword(name);
    if (!keyword)
      return at(where, "unknown keyword '" + std::string(name) + "'" + ssh_hint(name) +
                           "; see CONFIGURATION in qpipe(1)");
    if (rest.empty()) return at(where, std::string(keyword->name) + " needs a value");
    auto value = unquote(rest);
    if (!value) return at(where, std::string(keyword->name) + ": unbalanced double quotes");
    if (value->empty()) return at(where, std::string(keyword->name) + " needs a value");
    file.blocks_.back().settings.push_back({keyword, std::move(*value), line_no});
  }
  return file;
}

Result<ConfigFile> ConfigFile::load(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return errno_error(Errc::usage, path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_error(Errc::usage, path, errno);
  if (S_ISDIR(st.st_mode)) return errno_error(Errc::usage, path, EISDIR);
  if ((st.st_mode & 022) != 0)
    return at(path, strprintf("permissions %04o let group or others change where qpipe sends; "
                              "fix with: %s",
                              static_cast<unsigned>(st.st_mode & 07777), chmod_hint(path).c_str()));
  if (st.st_uid != ::getuid() && st.st_uid != 0)
    return at(path, strprintf("belongs to uid %u, not to you or root; whoever owns it decides "
                              "where qpipe sends",
                              static_cast<unsigned>(st.st_uid)));
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(Errc::usage, path, errno);
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxConfigBytes)
      return at(path, strprintf("larger than %zu bytes", kMaxConfigBytes));
    text.append(buf, static_cast<size_t>(n));
  }
  return parse(text, path);
}

bool ConfigFile::matches(const Block& block, std::string_view host) const {
  if (block.patterns.empty()) return true;
  bool any = false;
  for (const auto& p : block.patterns) {
    if (p[0] == '!') {
      if (host_pattern_match(std::string_view(p).substr(1), host)) return false;
    } else if (host_pattern_match(p, host)) {
      any = true;
    }
  }
  return any;
}

std::vector<ConfigSetting> ConfigFile::settings_for(std::string_view host) const {
  std::vector<ConfigSetting> out;
  std::vector<ConfigKey> taken;
  for (const auto& block : blocks_) {
    if (!matches(block, host)) continue;
    for (const auto& s : block.settings) {
      if (std::find(taken.begin(), taken.end(), s.keyword->slot) != taken.end()) continue;
      taken.push_back(s.keyword->slot);
      out.push_back(s);
    }
  }
  return out;
}

std::vector<ConfigSetting> ConfigFile::all_settings() const {
  std::vector<ConfigSetting> out;
  for (const auto& block : blocks_)
    out.insert(out.end(), block.settings.begin(), block.settings.end());
  return out;
}

std::string ConfigFile::where(int line) const {
  return path_ + ":" + std::to_string(line);
}

} // namespace qpipe::cli
