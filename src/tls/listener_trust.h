// How a sender decides that it talks to the right listener, after the TLS
// handshake and before a single byte of data is sent: trust on first use
// through known_hosts (ssh-style), a pinned fingerprint, a CA (checked by
// wolfSSL during the handshake), or not at all (--insecure, warned about).
#pragma once

#include <string>

#include "core/error.h"
#include "core/log.h"

struct WOLFSSL;

namespace qpipe::tls {

enum class Verify {
  known_hosts, // trust on first use, ssh-style, through known_hosts_file
  pin,         // only the listener whose public-key fingerprint is pin
  ca,          // the certificate chain and host name, against ca_file
  insecure,    // not at all (warned about)
};

struct ListenerTrust {
  Verify verify = Verify::known_hosts;
  std::string pin;              // "SHA256:..." with Verify::pin
  std::string ca_file;          // with Verify::ca
  std::string known_hosts_file; // with Verify::known_hosts
  std::string peer_key;         // the known_hosts key of the listener
};

// Why a listener's identity was refused, as data: for a front end that
// reports it in a record (qpipe api) rather than as lines on stderr.
struct IdentityRefusal {
  std::string presented;   // the fingerprint the listener presented
  std::string expected;    // the pinned one, or the one known_hosts recorded
  std::string key;         // the known_hosts key, host:port (known_hosts only)
  std::string known_hosts; // the file that recorded it (known_hosts only)
  int line = 0;            // its line there (known_hosts only)
  std::string fix;         // what to do if the change is expected, as the CLI says it
};

// The fingerprint of the certificate the listener presented in this session.
Result<std::string> listener_fingerprint(WOLFSSL* ssl, const std::string& peer_name);

// Whether `fingerprint` is the listener the user trusts. Records it on first
// contact (known_hosts), and quietly when the host presented the same
// fingerprint on another port; on a change, explains on `log` what was
// recorded and how to accept the new identity, and refuses (Errc::refused).
// When it refuses a fingerprint (a change, or not the pinned one) and
// `refusal` is not null, the same facts land there.
Status check_listener(const std::string& fingerprint, const ListenerTrust& trust,
                      const std::string& peer_name, const Logger& log,
                      IdentityRefusal* refusal = nullptr);

} // namespace qpipe::tls
