// Fuzzes the sender's known_hosts file (src/tls/known_hosts.h):
// parse_known_hosts_line on every line of the input, then KnownHosts::load on
// the input written to a file (in a temp dir made once per process and
// removed at exit). Asserts that an entry is a lower-case host:port with a
// port in 1..65535 and no blanks, and a "SHA256:" fingerprint of 43 base64
// characters; that the line "HOSTPORT FINGERPRINT" built from an entry parses
// to the same entry, and that a trailing "\r" changes nothing; and that the
// loaded file agrees with the lines: as many entries, and lookup (in any
// case) and line_of give the first line of each host:port.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include "fuzz_input.h"
#include "tls/known_hosts.h"

using namespace qpipe;

namespace {

using Entry = std::pair<std::string, std::string>;

struct TempDir {
  std::string dir;
  std::string file;
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/qpipe-fuzz-kh.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("known_hosts_fuzz: mkdtemp");
      std::abort();
    }
    dir = pattern;
    file = dir + "/known_hosts";
  }
  ~TempDir() {
    ::unlink(file.c_str());
    ::rmdir(dir.c_str());
  }
};

const TempDir& temp_dir() {
  static TempDir t; // destroyed at exit, which removes it
  return t;
}

bool upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool blank(char c) {
  return c == ' ' || c == '\t';
}

void check_entry(std::string_view line, const Entry& e) {
  FUZZ_CHECK(line.size() <= tls::kKnownHostsMaxLine);
  const auto& [host, fp] = e;
  for (char c : host)
    FUZZ_CHECK_MSG(!upper(c) && !blank(c) && c != '\r' && c != '\n', "hostport not canonical");
  size_t colon = host.rfind(':');
  FUZZ_CHECK(colon != std::string::npos && colon > 0);
  std::string port = host.substr(colon + 1);
  FUZZ_CHECK(!port.empty() && port.size() <= 5 &&
             port.find_first_not_of("0123456789") == std::string::npos);
  long p = std::strtol(port.c_str(), nullptr, 10);
  FUZZ_CHECK(p >= 1 && p <= 65535);
  FUZZ_CHECK(fp.size() == 7 + 43 && fp.starts_with("SHA256:"));
  for (char c : fp.substr(7))
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/');

  auto again = tls::parse_known_hosts_line(host + " " + fp);
  FUZZ_CHECK_MSG(again && *again == e, "the canonical line of an entry parses differently");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // The lines as KnownHosts reads them: split at '\n', no empty last line.
  std::vector<std::optional<Entry>> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    auto e = tls::parse_known_hosts_line(line);
    if (e) check_entry(line, *e);
    if (line.size() < tls::kKnownHostsMaxLine && !line.ends_with('\r')) {
      auto with_cr = tls::parse_known_hosts_line(std::string(line) + "\r");
      FUZZ_CHECK_MSG(with_cr == e, "a trailing \\r changes the entry");
    }
    lines.push_back(std::move(e));
  }

  const TempDir& t = temp_dir();
  FILE* f = std::fopen(t.file.c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(std::fwrite(data, 1, size, f) == size);
  FUZZ_CHECK(std::fclose(f) == 0);

  auto kh = tls::KnownHosts::load(t.file);
  FUZZ_CHECK_MSG(kh.ok(), "a small readable file does not load");
  FUZZ_CHECK(kh->path() == t.file);
  std::map<std::string, std::pair<std::string, int>> first; // host -> fingerprint, line
  size_t entries = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i]) continue;
    ++entries;
    first.emplace(lines[i]->first, std::make_pair(lines[i]->second, static_cast<int>(i) + 1));
  }
  FUZZ_CHECK(kh->size() == entries);
  for (const auto& [host, where] : first) {
    FUZZ_CHECK_MSG(kh->lookup(host) == where.first, "lookup does not find the first entry");
    FUZZ_CHECK(kh->line_of(host) == where.second);
    std::string shouted = host;
    for (char& c : shouted)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    FUZZ_CHECK_MSG(kh->lookup(shouted) == where.first, "lookup depends on case");
  }
  return 0;
}
