// What a caller asks the engine to do: the options of a send and of a listen.
//
// Filled by the CLI (src/cli/parse.cc) or by `qpipe api` from a request body;
// the engine never looks at argv or JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/socket.h>

#include "app/send_test_hooks.h"
#include "pipeline/level_control.h"
#include "pipeline/wire.h"
#include "tls/listener_trust.h"
#include "transport/connection_settings.h"

namespace qpipe::app {

inline constexpr uint16_t kDefaultPort = 4433;
inline constexpr uint32_t kMinChunkSize = 64 * 1024;
inline constexpr uint32_t kMaxChunkSize = wire::kMaxChunkRaw;
// Every chunk costs each side a few trips between the loop and the thread
// pool (read, hash, write), each a wake-up of a sleeping thread: with 1 MiB
// chunks that was 4% of both ends' CPU on loopback (1 GiB, 8 alternating
// runs: 1.20 CPU-seconds per GiB with 1 MiB, 1.15 with 2 MiB, 1.12 with
// 4 MiB; 0.92, 0.88 and 0.88 s), while the sender holds 27 MiB instead of
// 20 (45 with 4 MiB). With -z the larger unit also finds what repeats
// further back (tar c /usr/share/doc /usr/include at 50 Mbit/s: ratio 1.70
// with 1 MiB chunks, 1.76 with 2 MiB, 1.84 with 4 MiB; zstd --adapt 1.93),
// but 4 MiB cost incompressible data 13-17% more time, 2 MiB 4%.
inline constexpr uint32_t kDefaultChunkSize = 2 * 1024 * 1024;
inline constexpr int kMaxStreams = 256;
inline constexpr int kDefaultStreams = 8;

struct CommonOptions {
  transport::CongestionControl cc = transport::CongestionControl::bbr;
  int family = AF_UNSPEC; // AF_INET with -4, AF_INET6 with -6
  std::string bind;       // local address, empty for any
  uint64_t idle_timeout_ms = transport::kDefaultIdleTimeoutMs;
};

// How the sender decides that it talks to the right listener.
using tls::Verify;

struct SendOptions : CommonOptions {
  std::string host;
  uint16_t port = kDefaultPort;
  int streams = kDefaultStreams;
  uint32_t chunk_size = 0;             // 0: the default, chunk_size_or_default()
  uint64_t limit_bytes_per_second = 0; // 0: no limit
  // -z: the levels compression may use (one fixed level, or a range that
  // the level follows); none without -z.
  std::optional<codec::LevelRange> zstd;
  Verify verify = Verify::known_hosts;
  std::string pin;              // "SHA256:..." with Verify::pin
  std::string ca_file;          // with Verify::ca
  std::string known_hosts_file; // with Verify::known_hosts
  std::string peer_key;         // the known_hosts key (tls::known_hosts_key)
  std::optional<std::string> secret;
  bool resume = false;
  SendTestHooksPtr test_hooks; // null except in the test build (send_test_hooks.h)

  // --chunk-size, or its default (with -z or without).
  uint32_t chunk_size_or_default() const { return chunk_size ? chunk_size : kDefaultChunkSize; }
};

struct ListenOptions : CommonOptions {
  std::string host; // empty: all addresses, dual-stack
  uint16_t port = kDefaultPort;
  std::optional<std::string> output; // -o PATH; stdout when empty
  bool output_is_directory = false;  // -o DIR: files land inside it
  bool output_is_device = false;     // -o names a device, FIFO or socket: written directly
  bool sync = false, no_clobber = false, resume = false;
  bool keep_modes = false;       // files get the sender's permission bits (see frontend/output.h)
  int max_connections = 128;     // handshakes and transfers at once; more are refused
  int max_streams = kMaxStreams; // chunk streams a sender may have open at once
  bool keep_listening = false;
  std::string cert_file, key_file; // --cert/--key; empty: the stored identity
  std::string identity_dir;        // where the stored identity lives (the front
                                   // ends default it: frontend::default_identity_dir)
  std::optional<std::string> secret;
};

} // namespace qpipe::app
