// qpipe-test-hooks: qpipe (src/main.cc, the same engine) with test hooks, for
// the end-to-end tests that need a sender that lies or speaks another
// protocol. Built only with the tests and never installed; the shipped qpipe
// has no code that makes hooks and no trace of these variables.
//
// The hooks come from the environment of each send:
//   QPIPE_TEST_ALPN=NAME        offer the ALPN NAME (1 to 63 bytes) instead of qpipe's
//   QPIPE_TEST_TAMPER=length    chunk 1 declares one byte fewer than it carries
//                               (a lying header, or a bomb when compressed)
//   QPIPE_TEST_TAMPER=hash      chunk 1's hash has a bit flipped
//   QPIPE_TEST_TAMPER=name=N    every file claims the name N
//   QPIPE_TEST_NO_HELLO=1       after the handshake, send nothing on the control
//                               stream (no AUTH, no HELLO, no END); chunks
//                               go out if the listener grants streams
//   QPIPE_TEST_WITHHOLD_CHUNK=N chunk N's stream is opened but never sent
//   QPIPE_TEST_CLOSE=CODE:TEXT  as NO_HELLO, and close with application
//                               error CODE and reason TEXT a moment later
//
// They are installed before main() runs, through the CLI's hook point
// (cli::set_send_test_hooks_source, a plain function pointer), so main.cc
// stays the one entry point of both binaries.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "app/send_test_hooks.h"
#include "cli/parse.h"

namespace {

using namespace qpipe;

app::SendTestHooksPtr hooks_from_environment() {
  auto hooks = std::make_shared<app::SendTestHooks>();
  if (const char* alpn = std::getenv("QPIPE_TEST_ALPN"); alpn && *alpn && std::strlen(alpn) < 64)
    hooks->alpn = alpn;
  const char* t = std::getenv("QPIPE_TEST_TAMPER");
  const std::string tamper = t ? t : "";
  if (tamper == "length") {
    hooks->on_header = [](wire::ChunkHeader& h) {
      if (h.seq == 1) --h.raw_len;
    };
  } else if (tamper == "hash") {
    hooks->on_header = [](wire::ChunkHeader& h) {
      if (h.seq == 1) h.hash[0] ^= 1;
    };
  } else if (tamper.rfind("name=", 0) == 0) {
    hooks->on_file = [name = tamper.substr(5)](wire::File& f) { f.name = name; };
  }
  if (const char* v = std::getenv("QPIPE_TEST_NO_HELLO"); v && *v) hooks->no_hello = true;
  if (const char* v = std::getenv("QPIPE_TEST_WITHHOLD_CHUNK"); v && *v)
    hooks->withheld_chunk = std::strtoull(v, nullptr, 10);
  if (const char* v = std::getenv("QPIPE_TEST_CLOSE"); v && std::strchr(v, ':'))
    hooks->close_after_handshake = {std::strtoull(v, nullptr, 10), std::strchr(v, ':') + 1};
  return hooks;
}

[[maybe_unused]] const bool installed =
    (cli::set_send_test_hooks_source(hooks_from_environment), true);

} // namespace
