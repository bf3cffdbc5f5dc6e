// The engine's API: start a send or a listen on a libuv loop, follow its
// progress, get one final result. The CLI and `qpipe api` are both thin
// front ends over these two functions.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <uv.h>
#include <vector>

#include "app/options.h"
#include "core/error.h"
#include "core/log.h"
#include "uv/byte_io.h"

namespace qpipe::app {

// The byte interfaces the engine reads from and writes to (uv/byte_io.h),
// named here as the engine's own: they are part of its API.
using uvx::ByteSink;
using uvx::ByteSource;
using uvx::FileMeta;
using uvx::ReadResult;

struct TransferStats {
  uint64_t bytes = 0;      // payload bytes carried (written, on the listener)
  uint64_t wire_bytes = 0; // UDP payload bytes sent and received
  uint64_t chunks = 0;
  uint64_t payload_wire_bytes = 0;     // chunk payloads as they travelled (compressed or not)
  std::map<int, uint64_t> zstd_levels; // chunks sent compressed, by zstd level (sender)
  double seconds = 0;                  // from the first packet to the end
  // A field without a measurement is absent: the RTT until a sample was
  // taken, the loss until the peer said how many datagrams it received.
  std::optional<double> rtt_ms;         // smoothed RTT
  std::optional<uint64_t> lost_packets; // datagrams sent that the peer never received (estimate)
  std::optional<uint64_t> size;         // total, when the sender knows it
  // The largest connection flow-control credit: on the listener, what it
  // granted (its window); on the sender, the most it saw (credit left plus
  // bytes in flight). cwnd: the largest congestion window of this side.
  std::optional<uint64_t> window, cwnd;
  std::string peer;          // "host:port"
  std::string local;         // the address a listener listens on
  std::string fingerprint;   // the listener's identity (either side)
  size_t udp_payload = 0;    // largest UDP payload the path carried
  uint64_t path_changes = 0; // times the connection moved to another address pair
  bool gso = false, gro = false;
  uint32_t files_total = 0, files_done = 0; // when sending files
  std::string file;                         // the one being sent or written
  uint64_t file_bytes = 0;                  // of `file`, on the listener: written so far
  // Set when the sender refused the listener's identity: both fingerprints
  // and the fix, as the CLI prints them.
  std::optional<tls::IdentityRefusal> identity_refused;
};

// A named file on the listener: it began (its output opened), was received
// whole (digest checked, renamed into place) or failed with its transfer.
struct FileEvent {
  enum class State { receiving, done, failed };
  State state = State::receiving;
  std::string name;
  std::optional<uint64_t> size; // when the sender announced it
  uint64_t bytes = 0;           // written, counting a resumed part
  std::string peer;             // the sender's address
};

// The beginning of the line a listener reports through on_info once it
// listens: "listening on ADDRESS:PORT, fingerprint SHA256:...".
inline constexpr std::string_view kListeningPrefix = "listening on ";

struct TransferEvents {
  std::function<void(const TransferStats&)> on_progress; // about 4 times a second
  // "listening on ..." (the listener's first line, which begins with
  // kListeningPrefix) and the like.
  std::function<void(const std::string&)> on_info;
  // Exactly once, when the whole send or listen is over. The transfer may be
  // destroyed from inside this callback.
  std::function<void(const Status&, const TransferStats&)> on_done;
  // A listener with keep_listening: after each transfer.
  std::function<void(const Status&, const TransferStats&)> on_transfer_done;
  // A listener receiving named files: as each one begins and ends.
  std::function<void(const FileEvent&)> on_file;
};

class Transfer {
public:
  virtual ~Transfer() = default;
  // Stops the transfer: the peer is told (application error "interrupted")
  // and on_done reports `why`.
  virtual void cancel(const Error& why) = 0;
  virtual TransferStats stats() const = 0;
};

// One anonymous stream (stdin, say): the listener writes it to stdout or -o PATH.
Result<std::unique_ptr<Transfer>> start_send(uv_loop_t* loop, const SendOptions& opts,
                                             std::unique_ptr<ByteSource> source, const Logger& log,
                                             TransferEvents events);

// Named files, sent one after the other with their names, modes and times.
struct SendItem {
  FileMeta meta;
  std::function<Result<std::unique_ptr<ByteSource>>()> open; // called when its turn comes
  // --resume: the XXH3-128 of the first n bytes; blocking, run on the thread
  // pool. Empty for inputs that cannot resume (stdin).
  std::function<Result<std::array<uint8_t, 16>>(uint64_t n)> prefix_digest;
};
Result<std::unique_ptr<Transfer>> start_send_files(uv_loop_t* loop, const SendOptions& opts,
                                                   std::vector<SendItem> items, const Logger& log,
                                                   TransferEvents events);

// The sink is made when a sender's transfer (or file) begins, so that
// nothing is created (no file, no temporary) for connections that never
// start one. `file` is null for an anonymous stream; a file's name has been
// validated by then.
using SinkFactory = std::function<Result<std::unique_ptr<ByteSink>>(const FileMeta* file)>;

Result<std::unique_ptr<Transfer>> start_listen(uv_loop_t* loop, const ListenOptions& opts,
                                               SinkFactory make_sink, const Logger& log,
                                               TransferEvents events);

} // namespace qpipe::app
