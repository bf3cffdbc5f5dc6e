#include "tls/listener_trust.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>

#include "tls/identity_store.h"
#include "tls/known_hosts.h"

namespace qpipe::tls {

Result<std::string> listener_fingerprint(WOLFSSL* ssl, const std::string& peer_name) {
  WOLFSSL_X509* x = wolfSSL_get_peer_certificate(ssl);
  if (!x) return make_error(Errc::refused, peer_name, "the listener presented no certificate");
  int len = 0;
  const unsigned char* der = wolfSSL_X509_get_der(x, &len);
  auto fp =
      der && len > 0
          ? fingerprint_of_cert({der, static_cast<size_t>(len)})
          : Result<std::string>(make_error(Errc::refused, peer_name, "unreadable certificate"));
  wolfSSL_X509_free(x);
  return fp;
}

Status check_listener(const std::string& fingerprint, const ListenerTrust& trust,
                      const std::string& peer_name, const Logger& log, IdentityRefusal* refusal) {
  switch (trust.verify) {
  case Verify::insecure:
    log.warn("--insecure: not verifying the listener at " + peer_name + " (it presented " +
             fingerprint + ")");
    return {};
  case Verify::ca:
    return {}; // verified during the handshake
  case Verify::pin:
    if (fingerprint == trust.pin) return {};
    if (refusal)
      *refusal = IdentityRefusal{
          fingerprint, trust.pin, "",
          "",          0,         "If the change is expected, run with --pin " + fingerprint};
    return make_error(Errc::refused, peer_name,
                      "the listener presented " + fingerprint + ", not the pinned " + trust.pin +
                          "; nothing was sent");
  case Verify::known_hosts:
    break;
  }
  const std::string& file = trust.known_hosts_file;
  const std::string& key = trust.peer_key;
  auto kh = KnownHosts::load(file);
  if (!kh) return kh.error();
  auto known = kh->lookup(key);
  if (!known) {
    // The same identity on another port of the host (-l 0 picks a new port
    // each time) is no first contact: accepted and recorded without a word.
    bool known_elsewhere = kh->trusted_on_other_port(key, fingerprint);
    if (auto st = kh->add(key, fingerprint); !st) return st.error();
    if (known_elsewhere)
      log.verbose(key + " presented " + fingerprint +
                  ", already trusted on another port of the host; recorded it in " + file);
    else
      log.info("first contact with " + key + ": recorded its fingerprint " + fingerprint + " in " +
               file);
    return {};
  }
  if (*known == fingerprint) return {};
  int line = kh->line_of(key);
  log.error("WARNING: the identity of the listener at " + key + " has changed!");
  log.error(strprintf("%s line %d has %s; the listener presented %s.", file.c_str(), line,
                      known->c_str(), fingerprint.c_str()));
  std::string fix = strprintf("If the change is expected, run qpipe --forget %s (or remove line "
                              "%d of %s), or run with --pin %s",
                              key.c_str(), line, file.c_str(), fingerprint.c_str());
  log.error(fix);
  if (refusal) *refusal = IdentityRefusal{fingerprint, *known, key, file, line, fix};
  return make_error(Errc::refused, key, "identity refused; nothing was sent");
}

} // namespace qpipe::tls
