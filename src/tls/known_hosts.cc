// The sender's known_hosts file: parsing, lookup and atomic update. See
// known_hosts.h for the format.
#include "tls/known_hosts.h"

#include <cerrno>
#include <string>

#include <sys/stat.h>

#include "core/fs.h"
#include "tls/fingerprint.h"

namespace qpipe::tls {
namespace {

constexpr size_t kMaxFile = 16 << 20;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// `host:port` (a name or an IPv4 address) or `[v6addr]:port` (with an
// optional %zone).
bool valid_hostport(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || !valid_port(s.substr(colon + 1))) return false;
  std::string_view host = s.substr(0, colon);
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2))
      if (!is_alnum(c) && c != ':' && c != '.' && c != '%' && c != '-' && c != '_') return false;
    return true;
  }
  for (char c : host)
    if (!is_alnum(c) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

// The host part of a key: "h" of "h:1", "[::1]" of "[::1]:1".
std::string_view host_of(std::string_view hostport) {
  size_t colon = hostport.rfind(':');
  return colon == std::string_view::npos ? hostport : hostport.substr(0, colon);
}

} // namespace

std::string known_hosts_key(std::string_view host, uint16_t port) {
  std::string key = lower(host);
  if (key.find(':') != std::string::npos) key = "[" + key + "]";
  return key + ":" + std::to_string(port);
}

std::optional<std::pair<std::string, std::string>> parse_known_hosts_line(std::string_view line) {
  if (line.size() > kKnownHostsMaxLine) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Split into whitespace-separated fields; an entry has exactly two.
  std::string_view fields[2];
  size_t count = 0;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && is_space(line[at]))
      ++at;
    if (at == line.size()) break;
    if (count == 0 && line[at] == '#') return std::nullopt; // a comment
    size_t start = at;
    while (at < line.size() && !is_space(line[at]))
      ++at;
    if (count == 2) return std::nullopt; // a third field
    fields[count++] = line.substr(start, at - start);
  }
  if (count != 2 || !valid_hostport(fields[0]) || !is_fingerprint(fields[1])) return std::nullopt;
  return std::make_pair(lower(fields[0]), std::string(fields[1]));
}

Result<std::vector<KnownHosts::Line>> KnownHosts::read_lines(const std::string& path) {
  std::vector<Line> lines;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return lines;
    return errno_error(Errc::usage, path, errno); // configuration that cannot be read
  }
  auto data = read_file(path, kMaxFile);
  if (!data) return data.error();
  std::string_view rest = *data;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view text = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    lines.push_back(Line{std::string(text), parse_known_hosts_line(text)});
  }
  return lines;
}

Result<KnownHosts> KnownHosts::load(const std::string& path) {
  auto lines = read_lines(path);
  if (!lines) return lines.error();
  KnownHosts kh;
  kh.path_ = path;
  kh.lines_ = std::move(*lines);
  return kh;
}

const KnownHosts::Line* KnownHosts::find(const std::string& hostport) const {
  std::string key = lower(hostport);
  for (const Line& l : lines_)
    if (l.entry && l.entry->first == key) return &l;
  return nullptr;
}

std::optional<std::string> KnownHosts::lookup(const std::string& hostport) const {
  const Line* l = find(hostport);
  if (l == nullptr) return std::nullopt;
  return l->entry->second;
}

int KnownHosts::line_of(const std::string& hostport) const {
  const Line* l = find(hostport);
  return l == nullptr ? 0 : static_cast<int>(l - lines_.data()) + 1;
}

bool KnownHosts::trusted_on_other_port(const std::string& hostport,
                                       const std::string& fingerprint) const {
  std::string key = lower(hostport);
  for (const Line& l : lines_)
    if (l.entry && l.entry->first != key && host_of(l.entry->first) == host_of(key) &&
        l.entry->second == fingerprint)
      return true;
  return false;
}

Result<size_t> KnownHosts::remove(std::string_view host, uint16_t port) {
  // The key of host:port, or of host on some port, with known_hosts_key's spelling.
  const std::string key = known_hosts_key(host, port == 0 ? 1 : port);
  auto matches = [&](const Line& l) {
    if (!l.entry) return false;
    return port == 0 ? host_of(l.entry->first) == host_of(key) : l.entry->first == key;
  };
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0 && errno == ENOENT) return size_t{0}; // nothing to forget
  auto lock = DirLock::acquire(split_path(path_).dir);
  if (!lock) return lock.error();
  auto current = read_lines(path_);
  if (!current) return current.error();
  size_t before = current->size();
  std::erase_if(*current, matches);
  size_t removed = before - current->size();
  if (removed > 0) {
    std::string text;
    for (const Line& l : *current) {
      text += l.text;
      text += '\n';
    }
    if (auto s = write_file_atomic(path_, text, 0600); !s) return s.error();
  }
  lines_ = std::move(*current);
  return removed;
}

size_t KnownHosts::size() const {
  size_t n = 0;
  for (const Line& l : lines_)
    n += l.entry ? 1 : 0;
  return n;
}

Status KnownHosts::add(const std::string& hostport, const std::string& fingerprint) {
  if (!valid_hostport(hostport))
    return make_error(Errc::usage, hostport, "not a host:port or [address]:port");
  if (!is_fingerprint(fingerprint))
    return make_error(Errc::usage, fingerprint, "not a SHA256: fingerprint");
  Line entry;
  entry.text = lower(hostport) + " " + fingerprint;
  entry.entry = parse_known_hosts_line(entry.text);

  auto lock = DirLock::acquire(split_path(path_).dir);
  if (!lock) return lock.error();

  // Start from what is on disk now: another sender may have added a line.
  auto current = read_lines(path_);
  if (!current) return current.error();
  std::vector<Line> lines;
  lines.reserve(current->size() + 1);
  bool placed = false;
  for (Line& l : *current) {
    if (l.entry && l.entry->first == entry.entry->first) {
      if (!placed) lines.push_back(entry); // replace in place; later duplicates go
      placed = true;
      continue;
    }
    lines.push_back(std::move(l));
  }
  if (!placed) lines.push_back(entry);

  std::string text;
  for (const Line& l : lines) {
    text += l.text;
    text += '\n';
  }
  if (auto s = write_file_atomic(path_, text, 0600); !s) return s;
  lines_ = std::move(lines);
  return {};
}

} // namespace qpipe::tls
