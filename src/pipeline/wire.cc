#include "pipeline/wire.h"

#include <cstring>
#include <vector>
#include <zstd.h>

#include "core/log.h"

namespace qpipe::wire {
namespace {

void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint16_t get_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = v << 8 | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = v << 8 | p[i];
  return v;
}

Error protocol(std::string why) {
  return make_error(Errc::transfer, "protocol", std::move(why));
}

} // namespace

uint32_t max_wire_len(uint32_t raw_len) {
  return static_cast<uint32_t>(ZSTD_COMPRESSBOUND(static_cast<size_t>(raw_len)));
}

void encode(const ChunkHeader& h, std::span<uint8_t, ChunkHeader::kSize> out) {
  uint8_t* p = out.data();
  p[0] = kVersion;
  p[1] = static_cast<uint8_t>(h.codec);
  put_u16(p + 2, h.outside_history ? kChunkOutsideHistory : 0);
  put_u64(p + 4, h.seq);
  put_u32(p + 12, h.raw_len);
  put_u32(p + 16, h.wire_len);
  std::memcpy(p + 20, h.hash.data(), 16);
  put_u32(p + 36, h.file);
}

Result<ChunkHeader> decode_chunk_header(std::span<const uint8_t, ChunkHeader::kSize> in,
                                        uint32_t max_raw) {
  const uint8_t* p = in.data();
  if (p[0] != kVersion)
    return protocol(strprintf("chunk header version %u, expected %u", p[0], kVersion));
  if (p[1] > static_cast<uint8_t>(Codec::zstd_prefixed))
    return protocol(strprintf("unknown codec %u", p[1]));
  uint16_t flags = get_u16(p + 2);
  if (flags & ~kChunkOutsideHistory) return protocol("reserved chunk header bits set");
  ChunkHeader h;
  h.outside_history = flags & kChunkOutsideHistory;
  h.codec = static_cast<Codec>(p[1]);
  h.seq = get_u64(p + 4);
  h.raw_len = get_u32(p + 12);
  h.wire_len = get_u32(p + 16);
  std::memcpy(h.hash.data(), p + 20, 16);
  h.file = get_u32(p + 36);
  if (h.seq >= (uint64_t{1} << 62)) return protocol("chunk sequence number out of range");
  if (h.raw_len == 0 || h.raw_len > max_raw)
    return protocol(strprintf("chunk length %u outside 1..%u", h.raw_len, max_raw));
  if (h.codec == Codec::raw && h.wire_len != h.raw_len)
    return protocol("raw chunk with wire length different from its length");
  if (compressed(h.codec) && (h.wire_len == 0 || h.wire_len > max_wire_len(h.raw_len)))
    return protocol("compressed chunk length out of bounds");
  if (h.codec == Codec::zstd_prefixed && h.seq == 0)
    return protocol("chunk 0 compressed against bytes before it");
  return h;
}

std::string encode(const Message& m) {
  uint8_t body[64 + kMaxFileName];
  size_t n = 0;
  MsgType type{};
  if (auto* h = std::get_if<Hello>(&m)) {
    type = MsgType::hello;
    body[0] = h->version;
    put_u16(body + 1, h->streams);
    put_u32(body + 3, h->chunk_size);
    put_u64(body + 7, h->size_hint);
    put_u32(body + 15, h->files);
    n = 19;
    if (h->flags != 0) body[n++] = h->flags;
  } else if (auto* e = std::get_if<End>(&m)) {
    type = MsgType::end;
    put_u64(body, e->chunks);
    put_u64(body + 8, e->bytes);
    std::memcpy(body + 16, e->digest.data(), 16);
    put_u64(body + 32, e->datagrams_sent);
    n = 40;
  } else if (auto* f = std::get_if<File>(&m)) {
    type = MsgType::file;
    size_t name_len = std::min(f->name.size(), kMaxFileName);
    put_u32(body, f->index);
    put_u64(body + 4, f->first_seq);
    put_u64(body + 12, f->size);
    put_u32(body + 20, f->mode);
    put_u64(body + 24, static_cast<uint64_t>(f->mtime_sec));
    put_u32(body + 32, f->mtime_nsec);
    put_u16(body + 36, static_cast<uint16_t>(name_len));
    std::memcpy(body + 38, f->name.data(), name_len);
    n = 38 + name_len;
  } else if (auto* fe = std::get_if<FileEnd>(&m)) {
    type = MsgType::file_end;
    put_u32(body, fe->index);
    put_u64(body + 4, fe->chunks);
    put_u64(body + 12, fe->bytes);
    std::memcpy(body + 20, fe->digest.data(), 16);
    n = 36;
  } else if (auto* r = std::get_if<Resume>(&m)) {
    type = MsgType::resume;
    put_u32(body, r->index);
    put_u64(body + 4, r->offset);
    std::memcpy(body + 12, r->digest.data(), 16);
    n = 28;
  } else if (auto* a = std::get_if<Auth>(&m)) {
    type = MsgType::auth;
    std::memcpy(body, a->proof.data(), 32);
    n = 32;
  } else if (auto* d = std::get_if<Done>(&m)) {
    type = MsgType::done;
    put_u64(body, d->bytes);
    put_u64(body + 8, d->datagrams_received);
    n = 16;
  }
  std::string out(3 + n, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = static_cast<uint8_t>(type);
  put_u16(p + 1, static_cast<uint16_t>(n));
  std::memcpy(p + 3, body, n);
  return out;
}

Status ControlDecoder::feed(std::span<const uint8_t> data) {
  buf_.append(reinterpret_cast<const char*>(data.data()), data.size());
  for (;;) {
    if (buf_.size() < 3) return {};
    auto* p = reinterpret_cast<const uint8_t*>(buf_.data());
    uint16_t len = get_u16(p + 1);
    if (len > kMaxControlPayload) return protocol("control message too long");
    if (buf_.size() < 3u + len) return {};
    const uint8_t* b = p + 3;
    switch (static_cast<MsgType>(p[0])) {
    case MsgType::hello: {
      if (len != 19 && len != 20) return protocol("malformed HELLO");
      Hello h;
      h.version = b[0];
      h.streams = get_u16(b + 1);
      h.chunk_size = get_u32(b + 3);
      h.size_hint = get_u64(b + 7);
      h.files = get_u32(b + 15);
      if (len == 20) {
        h.flags = b[19];
        if (h.flags & ~kHelloHistory)
          return protocol(strprintf("unknown HELLO flags 0x%02x", h.flags));
        // One encoding per message: no flags, no flags byte.
        if (h.flags == 0) return protocol("malformed HELLO (a flags byte of zero)");
      }
      ready_.push_back(h);
      break;
    }
    case MsgType::end: {
      if (len != 40) return protocol("malformed END");
      End e;
      e.chunks = get_u64(b);
      e.bytes = get_u64(b + 8);
      std::memcpy(e.digest.data(), b + 16, 16);
      e.datagrams_sent = get_u64(b + 32);
      ready_.push_back(e);
      break;
    }
    case MsgType::done: {
      if (len != 16) return protocol("malformed DONE");
      ready_.push_back(Done{get_u64(b), get_u64(b + 8)});
      break;
    }
    case MsgType::file: {
      if (len < 39) return protocol("malformed FILE");
      File f;
      f.index = get_u32(b);
      f.first_seq = get_u64(b + 4);
      f.size = get_u64(b + 12);
      f.mode = get_u32(b + 20);
      f.mtime_sec = static_cast<int64_t>(get_u64(b + 24));
      f.mtime_nsec = get_u32(b + 32);
      uint16_t name_len = get_u16(b + 36);
      if (name_len == 0 || name_len > kMaxFileName || 38u + name_len != len)
        return protocol("malformed FILE (name length)");
      if (f.mtime_nsec >= 1'000'000'000) return protocol("malformed FILE (mtime)");
      f.name.assign(reinterpret_cast<const char*>(b + 38), name_len);
      ready_.push_back(f);
      break;
    }
    case MsgType::file_end: {
      if (len != 36) return protocol("malformed FILE_END");
      FileEnd fe;
      fe.index = get_u32(b);
      fe.chunks = get_u64(b + 4);
      fe.bytes = get_u64(b + 12);
      std::memcpy(fe.digest.data(), b + 20, 16);
      ready_.push_back(fe);
      break;
    }
    case MsgType::resume: {
      if (len != 28) return protocol("malformed RESUME");
      Resume r;
      r.index = get_u32(b);
      r.offset = get_u64(b + 4);
      std::memcpy(r.digest.data(), b + 12, 16);
      ready_.push_back(r);
      break;
    }
    case MsgType::auth: {
      if (len != 32) return protocol("malformed AUTH");
      Auth a;
      std::memcpy(a.proof.data(), b, 32);
      ready_.push_back(a);
      break;
    }
    default:
      return protocol(strprintf("unknown control message type %u", p[0]));
    }
    buf_.erase(0, 3u + len);
  }
}

std::optional<Message> ControlDecoder::next() {
  if (taken_ >= ready_.size()) {
    ready_.clear();
    taken_ = 0;
    return std::nullopt;
  }
  return ready_[taken_++];
}

} // namespace qpipe::wire
