// Test-only changes to what a sender puts on the wire, so that end-to-end
// tests can play a lying sender or one of another protocol. Only the test
// build makes hooks (qpipe-test-hooks, tests/tools/test_hooks.cc); in the
// shipped qpipe SendOptions::test_hooks is null and each function below
// leaves what it is given as it is.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/protocol.h"
#include "pipeline/wire.h"

namespace qpipe::app {

struct SendTestHooks {
  std::optional<std::string> alpn;                   // offered instead of kAlpn
  std::function<void(wire::ChunkHeader&)> on_header; // before a chunk header is encoded
  std::function<void(wire::File&)> on_file;          // before a File message is queued
  bool no_hello = false; // send nothing on the control stream (no AUTH, HELLO or END)
  std::optional<uint64_t> withheld_chunk; // this chunk's stream is opened but never sent
  // As no_hello, and close with this application error code and reason (at
  // the next progress tick, once the handshake is confirmed).
  std::optional<std::pair<uint64_t, std::string>> close_after_handshake;
};

using SendTestHooksPtr = std::shared_ptr<const SendTestHooks>;

// The ALPN the sender offers: kAlpn unless a hook replaces it.
inline std::string_view offered_alpn(const SendTestHooksPtr& hooks) {
  return hooks && hooks->alpn ? std::string_view(*hooks->alpn) : std::string_view(kAlpn);
}

inline void apply_test_hook(const SendTestHooksPtr& hooks, wire::ChunkHeader& header) {
  if (hooks && hooks->on_header) hooks->on_header(header);
}

inline void apply_test_hook(const SendTestHooksPtr& hooks, wire::File& file) {
  if (hooks && hooks->on_file) hooks->on_file(file);
}

inline bool sends_hello(const SendTestHooksPtr& hooks) {
  return !hooks || (!hooks->no_hello && !hooks->close_after_handshake);
}

inline bool withheld(const SendTestHooksPtr& hooks, uint64_t seq) {
  return hooks && hooks->withheld_chunk == seq;
}

} // namespace qpipe::app
