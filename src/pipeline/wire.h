// The qpipe/1 wire format: chunk headers on data streams and the messages of
// the control stream. Pure encode/decode with every length bounded; no I/O.
// The format is documented in the PROTOCOL section of man/qpipe.1.
//
// Connection: ALPN kAlpn (core/protocol.h). The sender opens bidirectional stream 0 as the
// control stream and one unidirectional stream per chunk. A data stream is a
// ChunkHeader followed by exactly wire_len payload bytes and FIN.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"

namespace qpipe::wire {

inline constexpr uint8_t kVersion = 1;
inline constexpr uint32_t kMaxChunkRaw = 16 * 1024 * 1024; // --chunk-size upper bound
inline constexpr size_t kMaxControlPayload = 4096;

// zstd_prefixed: a zstd frame compressed with the bytes of its file just
// before it as its prefix (ZSTD_CCtx_refPrefix): at most kHistory bytes,
// only from chunks of the same file sent in this transfer; only in a
// transfer whose HELLO has kHelloHistory, and never for the first chunk of
// a file. The listener decodes it against the last kHistory bytes of the
// file it has (offsets count back from the chunk, so a longer prefix that
// ends with the same bytes decodes it).
enum class Codec : uint8_t { raw = 0, zstd = 1, zstd_prefixed = 2 };
inline bool compressed(Codec c) {
  return c != Codec::raw;
}

using Digest = std::array<uint8_t, 16>; // XXH3-128, canonical (big-endian) form

struct ChunkHeader {
  static constexpr size_t kSize = 40;
  Codec codec = Codec::raw;
  uint64_t seq = 0;
  uint32_t raw_len = 0;  // bytes after decoding, 1 .. chunk size announced in Hello
  uint32_t wire_len = 0; // payload bytes on the stream
  Digest hash{};         // XXH3-128 of the raw bytes
  uint32_t file = 0;     // with named files: the index of the file it belongs to
  // With kHelloHistory: no chunk is compressed against its bytes (input
  // that does not compress lately), so the listener need not keep them;
  // the prefix of a chunk after it begins after it.
  bool outside_history = false;
};
inline constexpr uint16_t kChunkOutsideHistory =
    2; // in the flags after the codec (bit 0 is retired)

void encode(const ChunkHeader& h, std::span<uint8_t, ChunkHeader::kSize> out);
// Checks the version, the codec and the bounds: raw_len in 1..max_raw,
// wire_len == raw_len for raw data, wire_len <= max_wire(raw_len) for zstd.
Result<ChunkHeader> decode_chunk_header(std::span<const uint8_t, ChunkHeader::kSize> in,
                                        uint32_t max_raw);
// The largest payload a chunk of raw_len bytes may take on the wire.
uint32_t max_wire_len(uint32_t raw_len);

// Control stream messages: type (1 byte), payload length (2 bytes, big-endian), payload.
enum class MsgType : uint8_t {
  hello = 1,
  end = 2,
  done = 3,
  auth = 4,
  file = 5,
  file_end = 6,
  resume = 7,
};
inline constexpr size_t kMaxFileName = 255;

// HELLO flags. kHelloHistory: chunks may be zstd_prefixed, so the listener
// keeps the last kHistory bytes of the current file. Only with chunks of at
// most kHistoryChunkMost (the window of prefix and chunk stays within
// zstd's 2^24 that the listener allows). (Bit 0 was an earlier form of this,
// the chunk before as prefix; it is refused.)
inline constexpr uint8_t kHelloHistory = 2;
inline constexpr uint32_t kHistory = 8u << 20;
inline constexpr uint32_t kHistoryChunkMost = 4u << 20;
struct Hello {
  uint8_t version = kVersion;
  uint16_t streams = 8;
  uint32_t chunk_size = 1024 * 1024;
  uint64_t size_hint = UINT64_MAX; // total bytes when known (a regular file), else UINT64_MAX
  uint32_t files = 0;              // 0: one anonymous stream; otherwise FILE messages name them
  uint8_t flags = 0;               // kHelloHistory; sent only when nonzero (a 20th byte)
};
// A file begins: its chunks are first_seq, first_seq + 1, ... (none when empty).
struct File {
  uint32_t index = 0;
  uint64_t first_seq = 0;
  uint64_t size = UINT64_MAX; // when known
  uint32_t mode = 0644;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  std::string name; // 1..255 bytes; the listener validates it
};
// A file ends: its chunk count, bytes and digest (as for the whole stream).
struct FileEnd {
  uint32_t index = 0;
  uint64_t chunks = 0;
  uint64_t bytes = 0;
  Digest digest{};
};
struct End {
  uint64_t chunks = 0;
  uint64_t bytes = 0;
  Digest digest{};             // stream digest, see Digester
  uint64_t datagrams_sent = 0; // for the loss estimate in --stats
};
struct Done {
  uint64_t bytes = 0;              // bytes written and verified
  uint64_t datagrams_received = 0; // for the loss estimate in --stats
};
// Proof of the shared secret, sent before HELLO: HMAC-SHA256 keyed with the
// secret over a TLS exporter value of this connection.
struct Auth {
  std::array<uint8_t, 32> proof{};
};
// --resume, for one file, in three steps: the sender asks (offset all ones),
// the listener answers with the length of the part it kept and its XXH3-128,
// and the sender says where it starts (that length, or 0 when its own prefix
// differs). The listener writes nothing of that file before the third step.
struct Resume {
  uint32_t index = 0;
  uint64_t offset = UINT64_MAX;
  Digest digest{};
};
using Message = std::variant<Hello, End, Done, Auth, File, FileEnd, Resume>;

std::string encode(const Message& m);

// Incremental decoder for the control stream: feed bytes as they arrive,
// take whole messages out. Malformed or oversized input is an error.
class ControlDecoder {
public:
  Status feed(std::span<const uint8_t> data);
  std::optional<Message> next();
  bool empty() const { return buf_.empty() && ready_.empty(); }

private:
  std::string buf_;
  std::vector<Message> ready_;
  size_t taken_ = 0;
};

} // namespace qpipe::wire
