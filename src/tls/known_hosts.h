// The sender's record of listeners it has met: $XDG_CONFIG_HOME/qpipe/known_hosts.
//
// Trust on first use, as in ssh: the first time a sender meets a host:port
// it records the listener's fingerprint; later it refuses a listener whose
// fingerprint differs. A host:port met for the first time whose fingerprint
// is already trusted for the same host on another port (a listener on a
// port picked with -l 0, say) is no first contact: the sender accepts it
// quietly and records it. `qpipe --forget HOST[:PORT]` removes entries.
// The file holds one entry a line:
//
//   HOSTPORT SHA256:FINGERPRINT
//
// HOSTPORT is `host:port` or `[v6addr]:port` as the user typed it, host in
// lower case (known_hosts_key); FINGERPRINT is the 43 base64 characters of
// fingerprint.h.
// Blank lines and lines starting with `#` are comments. Lines that do not
// parse (or are longer than 4096 bytes) are skipped, never fatal, and are
// kept verbatim when the file is rewritten. When a host:port appears twice,
// the first line wins.
//
// The file is written with mode 0600: it is not secret, but it tells anyone
// who can read it where this user sends data, and ssh's HashKnownHosts
// exists for the same reason. Its directory is created with mode 0700.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace qpipe::tls {

// Longest line that can hold an entry.
inline constexpr size_t kKnownHostsMaxLine = 4096;

// The key of a listener in the file: the host as the user typed it (a name
// or an address), lowercased as ssh does, in brackets when it is an IPv6
// address, then ":port". Every front end builds it with this function.
std::string known_hosts_key(std::string_view host, uint16_t port);

// Parses one line of known_hosts (without its "\n"; a trailing "\r" is
// ignored). Returns {hostport lowercased, fingerprint} for an entry, nothing
// for a comment, a blank line or a malformed line. Pure: no I/O.
std::optional<std::pair<std::string, std::string>> parse_known_hosts_line(std::string_view line);

class KnownHosts {
public:
  // Reads the file at path; a missing file is an empty list. Errc::usage
  // (configuration that cannot be used) when it exists but cannot be read or
  // is larger than 16 MiB.
  static Result<KnownHosts> load(const std::string& path);

  // The recorded fingerprint of hostport (compared without regard to case).
  std::optional<std::string> lookup(const std::string& hostport) const;
  // The 1-based line of hostport's entry, for "remove line N of FILE"; 0 when
  // there is none.
  int line_of(const std::string& hostport) const;
  // Whether `fingerprint` is recorded for the host of `hostport` on another port.
  bool trusted_on_other_port(const std::string& hostport, const std::string& fingerprint) const;

  // Removes every entry of `host` (as known_hosts_key spells it, without
  // the port), or only the one of host:port when port is not 0, under the
  // same lock and atomic replacement as add(). Returns how many went; a file
  // without any is left alone (not even created).
  Result<size_t> remove(std::string_view host, uint16_t port);

  // Records hostport -> fingerprint: replaces the first entry of hostport in
  // place (dropping any later duplicates) or appends one. The file is read
  // again under an flock() of its directory, so that concurrent senders do
  // not lose each other's entries, then replaced atomically (temporary file,
  // fsync, rename). Errc::usage when hostport or fingerprint is malformed,
  // Errc::local_io when the file cannot be written.
  Status add(const std::string& hostport, const std::string& fingerprint);

  const std::string& path() const { return path_; }
  // The number of entries (comments and malformed lines not counted).
  size_t size() const;

private:
  struct Line {
    std::string text; // verbatim, without the "\n"
    std::optional<std::pair<std::string, std::string>> entry;
  };

  // Reads path into lines; a missing file gives no lines.
  static Result<std::vector<Line>> read_lines(const std::string& path);
  const Line* find(const std::string& hostport) const;

  std::string path_;
  std::vector<Line> lines_;
};

} // namespace qpipe::tls
