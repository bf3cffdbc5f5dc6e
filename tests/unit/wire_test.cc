// Tests of the qpipe/1 wire format (src/pipeline/wire.h): the chunk header of
// the data streams and the incremental decoder of the control stream.
//
// The hand-written byte strings below are the wire contract with every other
// version of qpipe: if a change breaks them, the change is wrong.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/wire.h"

namespace qpipe::wire {
namespace {

using Bytes = std::array<uint8_t, ChunkHeader::kSize>;

Digest sample_digest() {
  Digest d;
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = static_cast<uint8_t>(0xf0 + i);
  return d;
}

Bytes encoded(const ChunkHeader& h) {
  Bytes b;
  b.fill(0xee); // encode must write every byte
  encode(h, b);
  return b;
}

// A valid raw header, as bytes, for the rejection tests to corrupt.
Bytes valid_raw() {
  ChunkHeader h;
  h.codec = Codec::raw;
  h.seq = 7;
  h.raw_len = 1000;
  h.wire_len = 1000;
  h.hash = sample_digest();
  return encoded(h);
}

void put_u32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_u64(Bytes& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// Checks that the bytes are refused as a protocol error (exit status 1).
void refused(const Bytes& b, uint32_t max_raw = kMaxChunkRaw) {
  auto r = decode_chunk_header(b, max_raw);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == 1);
  BOOST_TEST(r.error().message().rfind("protocol: ", 0) == 0);
}

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string from_bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes)
    s += static_cast<char>(b);
  return s;
}

// Messages compared field by field; the structs have no operator==.
bool same(const Message& a, const Message& b) {
  if (a.index() != b.index()) return false;
  if (auto* x = std::get_if<Hello>(&a)) {
    auto& y = std::get<Hello>(b);
    return x->version == y.version && x->streams == y.streams && x->chunk_size == y.chunk_size &&
           x->size_hint == y.size_hint && x->files == y.files && x->flags == y.flags;
  }
  if (auto* x = std::get_if<End>(&a)) {
    auto& y = std::get<End>(b);
    return x->chunks == y.chunks && x->bytes == y.bytes && x->digest == y.digest &&
           x->datagrams_sent == y.datagrams_sent;
  }
  auto& x = std::get<Done>(a);
  auto& y = std::get<Done>(b);
  return x.bytes == y.bytes && x.datagrams_received == y.datagrams_received;
}

std::vector<Message> sample_messages() {
  Hello h;
  h.version = 1;
  h.streams = 256;
  h.chunk_size = 16 * 1024 * 1024;
  h.size_hint = 0x0102030405060708ull;
  End e;
  e.chunks = 0xfedcba9876543210ull;
  e.bytes = UINT64_MAX;
  e.digest = sample_digest();
  e.datagrams_sent = 12345;
  Done d;
  d.bytes = 1ull << 40;
  d.datagrams_received = 0;
  Hello prefixed;
  prefixed.flags = kHelloHistory;
  return {h, e, d, Hello{}, End{}, Done{}, prefixed};
}

// Everything the decoder has ready.
std::vector<Message> drain(ControlDecoder& dec) {
  std::vector<Message> out;
  while (auto m = dec.next())
    out.push_back(*m);
  return out;
}

// Checks that feeding the bytes (in one piece) is refused as a protocol error.
void control_refused(const std::string& bytes) {
  ControlDecoder dec;
  Status s = dec.feed(as_bytes(bytes));
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().exit_code() == 1);
  BOOST_TEST(!dec.next().has_value());
}

} // namespace

BOOST_AUTO_TEST_SUITE(wire)

BOOST_AUTO_TEST_CASE(chunk_header_layout) {
  ChunkHeader h;
  h.codec = Codec::zstd;
  h.seq = 0x0123456789abcdefull & ((uint64_t{1} << 62) - 1);
  h.raw_len = 0x00100000;
  h.wire_len = 0x00012345;
  h.hash = sample_digest();
  const Bytes expected = {
      0x01,                                           // version
      0x01,                                           // codec zstd
      0x00, 0x00,                                     // reserved
      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // seq
      0x00, 0x10, 0x00, 0x00,                         // raw_len
      0x00, 0x01, 0x23, 0x45,                         // wire_len
      0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, // hash
      0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
  };
  BOOST_TEST(encoded(h) == expected);
}

BOOST_AUTO_TEST_CASE(chunk_header_round_trip) {
  struct Case {
    Codec codec;
    uint64_t seq;
    uint32_t raw_len;
    uint32_t wire_len;
  };
  const Case cases[] = {
      {Codec::raw, 0, 1, 1},
      {Codec::raw, 1, kMaxChunkRaw, kMaxChunkRaw},
      {Codec::raw, (uint64_t{1} << 62) - 1, 65536, 65536},
      {Codec::zstd, 42, 1, 1},
      {Codec::zstd, 43, 1024 * 1024, 17},
      {Codec::zstd, 44, 1024 * 1024, max_wire_len(1024 * 1024)},
      {Codec::zstd, 45, kMaxChunkRaw, max_wire_len(kMaxChunkRaw)},
  };
  for (const auto& c : cases) {
    ChunkHeader h;
    h.codec = c.codec;
    h.seq = c.seq;
    h.raw_len = c.raw_len;
    h.wire_len = c.wire_len;
    h.hash = sample_digest();
    h.hash[0] = static_cast<uint8_t>(c.seq);
    auto r = decode_chunk_header(encoded(h), kMaxChunkRaw);
    BOOST_TEST_INFO("seq " << c.seq << " raw_len " << c.raw_len << " wire_len " << c.wire_len);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(static_cast<int>(r->codec) == static_cast<int>(c.codec));
    BOOST_TEST(r->seq == c.seq);
    BOOST_TEST(r->raw_len == c.raw_len);
    BOOST_TEST(r->wire_len == c.wire_len);
    BOOST_TEST(r->hash == h.hash);
  }
}

BOOST_AUTO_TEST_CASE(max_wire_len_bounds) {
  // Room for zstd's worst case, and more than the raw length.
  for (uint32_t n : {1u, 100u, 65536u, 1024u * 1024u, kMaxChunkRaw}) {
    BOOST_TEST(max_wire_len(n) > n);
    BOOST_TEST(max_wire_len(n) < n + n / 64 + 1024);
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_version) {
  for (uint8_t v : {0, 2, 255}) {
    Bytes b = valid_raw();
    b[0] = v;
    BOOST_TEST_INFO("version " << int(v));
    refused(b);
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_codec) {
  for (uint8_t c : {3, 0x80, 255}) {
    Bytes b = valid_raw();
    b[1] = c;
    BOOST_TEST_INFO("codec " << int(c));
    refused(b);
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_reserved_bits) {
  for (size_t at : {size_t{2}, size_t{3}}) {
    for (int bit = 0; bit < 8; ++bit) {
      if (at == 3 && bit == 1) continue; // kChunkOutsideHistory
      Bytes b = valid_raw();
      b[at] = static_cast<uint8_t>(1 << bit);
      BOOST_TEST_INFO("byte " << at << " bit " << bit);
      refused(b);
    }
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_raw_len) {
  Bytes zero = valid_raw();
  put_u32(zero, 12, 0);
  put_u32(zero, 16, 0);
  refused(zero);

  Bytes over = valid_raw();
  put_u32(over, 12, kMaxChunkRaw + 1);
  put_u32(over, 16, kMaxChunkRaw + 1);
  refused(over);

  // The bound is the caller's (the chunk size of the HELLO), not the protocol's.
  Bytes at_bound = valid_raw();
  put_u32(at_bound, 12, 65536);
  put_u32(at_bound, 16, 65536);
  BOOST_TEST(decode_chunk_header(at_bound, 65536).ok());
  Bytes past_bound = valid_raw();
  put_u32(past_bound, 12, 65537);
  put_u32(past_bound, 16, 65537);
  refused(past_bound, 65536);

  Bytes huge = valid_raw();
  put_u32(huge, 12, UINT32_MAX);
  put_u32(huge, 16, UINT32_MAX);
  refused(huge);
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_raw_wire_len_mismatch) {
  for (uint32_t wire : {0u, 999u, 1001u, UINT32_MAX}) {
    Bytes b = valid_raw(); // raw_len 1000
    put_u32(b, 16, wire);
    BOOST_TEST_INFO("wire_len " << wire);
    refused(b);
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_zstd_wire_len) {
  const uint32_t raw = 1024 * 1024;
  for (uint32_t wire : {0u, max_wire_len(raw) + 1, UINT32_MAX}) {
    Bytes b = valid_raw();
    b[1] = static_cast<uint8_t>(Codec::zstd);
    put_u32(b, 12, raw);
    put_u32(b, 16, wire);
    BOOST_TEST_INFO("wire_len " << wire);
    refused(b);
  }
  // The bound depends on raw_len: what is fine for 1 MiB is too much for 1 byte.
  Bytes b = valid_raw();
  b[1] = static_cast<uint8_t>(Codec::zstd);
  put_u32(b, 12, 1);
  put_u32(b, 16, max_wire_len(1) + 1);
  refused(b);
}

BOOST_AUTO_TEST_CASE(prefixed_chunk_header) {
  // A frame compressed against the bytes before it: bounded like zstd, and
  // never chunk 0, which has none.
  Bytes b = valid_raw();
  b[1] = static_cast<uint8_t>(Codec::zstd_prefixed);
  put_u64(b, 4, 1);
  put_u32(b, 16, 17);
  auto h = decode_chunk_header(b, kMaxChunkRaw);
  BOOST_REQUIRE(h.ok());
  BOOST_TEST((h->codec == Codec::zstd_prefixed));
  BOOST_TEST(compressed(h->codec));
  put_u32(b, 16, max_wire_len(1000) + 1);
  refused(b);
  put_u32(b, 16, 17);
  put_u64(b, 4, 0);
  refused(b);
}

BOOST_AUTO_TEST_CASE(outside_history_flag) {
  // Any chunk may say that no chunk after it is compressed against it.
  for (Codec codec : {Codec::raw, Codec::zstd}) {
    Bytes b = valid_raw();
    b[1] = static_cast<uint8_t>(codec);
    if (codec != Codec::raw) put_u32(b, 16, 17);
    b[3] = kChunkOutsideHistory;
    auto h = decode_chunk_header(b, kMaxChunkRaw);
    BOOST_REQUIRE(h.ok());
    BOOST_TEST(h->outside_history);
    Bytes again{};
    encode(*h, again);
    BOOST_TEST((again == b));
  }
}

BOOST_AUTO_TEST_CASE(the_retired_keep_flag_is_refused) {
  // Bit 0 of the flags once asked the listener to keep a raw chunk as the
  // prefix of the next; it keeps the bytes of the file before a chunk now,
  // and a header with the old flag is refused like any reserved bit.
  Bytes b = valid_raw();
  b[3] = 1;
  refused(b);
}

BOOST_AUTO_TEST_CASE(hello_flags) {
  // Without flags HELLO keeps its 19 bytes (what listeners before them
  // accept); a flag adds a 20th byte.
  BOOST_TEST(encode(Message{Hello{}}).size() == 3u + 19u);
  Hello h;
  h.flags = kHelloHistory;
  std::string m = encode(Message{h});
  BOOST_REQUIRE(m.size() == 3u + 20u);
  BOOST_TEST(m.substr(0, 3) == from_bytes({1, 0, 20}));
  BOOST_TEST(static_cast<uint8_t>(m.back()) == kHelloHistory);
  // Flags this version does not know are refused, not ignored; a flags
  // byte of zero too (HELLO has one encoding), and the retired bit 0 (the
  // chunk before as prefix).
  for (int flags : {0, 1, 3, 4, 0x80, 0xff}) {
    std::string unknown = m;
    unknown.back() = static_cast<char>(flags);
    BOOST_TEST_INFO("flags " << flags);
    control_refused(unknown);
  }
}

BOOST_AUTO_TEST_CASE(chunk_header_rejects_seq) {
  for (uint64_t seq : {uint64_t{1} << 62, uint64_t{1} << 63, UINT64_MAX}) {
    Bytes b = valid_raw();
    put_u64(b, 4, seq);
    BOOST_TEST_INFO("seq " << seq);
    refused(b);
  }
}

BOOST_AUTO_TEST_CASE(control_layout) {
  Hello h;
  h.version = 1;
  h.streams = 0x0102;
  h.chunk_size = 0x00100000;
  h.size_hint = UINT64_MAX;
  h.files = 3;
  BOOST_TEST(encode(Message{h}) ==
             from_bytes({1,    0,    19,   1,    1,    2,    0,    0x10, 0, 0, 0xff,
                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,    0, 0, 3}));
  Done d;
  d.bytes = 0x0102030405060708ull;
  d.datagrams_received = 9;
  BOOST_TEST(encode(Message{d}) ==
             from_bytes({3, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 9}));
  End e;
  e.chunks = 2;
  e.bytes = 3;
  e.digest = sample_digest();
  e.datagrams_sent = 4;
  std::string end = encode(Message{e});
  BOOST_REQUIRE(end.size() == 43u);
  BOOST_TEST(end.substr(0, 3) == from_bytes({2, 0, 40}));
  BOOST_TEST(end.substr(3, 16) == from_bytes({0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3}));
  BOOST_TEST(end.substr(19, 16) == std::string(e.digest.begin(), e.digest.end()));
  BOOST_TEST(end.substr(35) == from_bytes({0, 0, 0, 0, 0, 0, 0, 4}));
}

BOOST_AUTO_TEST_CASE(control_round_trip) {
  for (const Message& m : sample_messages()) {
    ControlDecoder dec;
    BOOST_TEST(dec.empty());
    BOOST_REQUIRE(dec.feed(as_bytes(encode(m))).ok());
    auto got = dec.next();
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(same(*got, m));
    BOOST_TEST(!dec.next().has_value());
    BOOST_TEST(dec.empty());
  }
}

BOOST_AUTO_TEST_CASE(control_one_byte_at_a_time) {
  const auto messages = sample_messages();
  std::string all;
  for (const auto& m : messages)
    all += encode(m);
  ControlDecoder dec;
  std::vector<Message> got;
  for (size_t i = 0; i < all.size(); ++i) {
    BOOST_REQUIRE(dec.feed(as_bytes(all.substr(i, 1))).ok());
    for (auto& m : drain(dec))
      got.push_back(m);
    // A message comes out exactly when its last byte has arrived.
    size_t complete = 0, end = 0;
    bool boundary = false;
    for (const auto& m : messages) {
      end += encode(m).size();
      if (end <= i + 1) ++complete;
      if (end == i + 1) boundary = true;
    }
    BOOST_TEST_INFO("after byte " << i);
    BOOST_REQUIRE(got.size() == complete);
    // Nothing is left over exactly at a message boundary.
    BOOST_TEST(dec.empty() == boundary);
  }
  BOOST_REQUIRE(got.size() == messages.size());
  for (size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(same(got[i], messages[i]));
  BOOST_TEST(dec.empty());
}

BOOST_AUTO_TEST_CASE(control_every_split) {
  // Two pieces, split at every position of three messages.
  const auto messages = sample_messages();
  std::string all = encode(messages[0]) + encode(messages[1]) + encode(messages[2]);
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    ControlDecoder dec;
    BOOST_REQUIRE(dec.feed(as_bytes(all.substr(0, cut))).ok());
    auto got = drain(dec);
    BOOST_REQUIRE(dec.feed(as_bytes(all.substr(cut))).ok());
    for (auto& m : drain(dec))
      got.push_back(m);
    BOOST_TEST_INFO("cut at " << cut);
    BOOST_REQUIRE(got.size() == 3u);
    for (size_t i = 0; i < 3; ++i)
      BOOST_TEST(same(got[i], messages[i]));
  }
}

BOOST_AUTO_TEST_CASE(control_several_in_one_feed) {
  const auto messages = sample_messages();
  std::string all;
  for (const auto& m : messages)
    all += encode(m);
  ControlDecoder dec;
  BOOST_REQUIRE(dec.feed(as_bytes(all)).ok());
  auto got = drain(dec);
  BOOST_REQUIRE(got.size() == messages.size());
  for (size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(same(got[i], messages[i]));

  // Taking messages out between feeds keeps the order.
  ControlDecoder dec2;
  BOOST_REQUIRE(dec2.feed(as_bytes(encode(messages[0]) + encode(messages[1]))).ok());
  auto first = dec2.next();
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(same(*first, messages[0]));
  BOOST_REQUIRE(dec2.feed(as_bytes(encode(messages[2]))).ok());
  auto rest = drain(dec2);
  BOOST_REQUIRE(rest.size() == 2u);
  BOOST_TEST(same(rest[0], messages[1]));
  BOOST_TEST(same(rest[1], messages[2]));
}

BOOST_AUTO_TEST_CASE(control_rejects_unknown_type) {
  for (int type : {0, 4, 0x7f, 0xff}) {
    BOOST_TEST_INFO("type " << type);
    control_refused(from_bytes({type, 0, 0}));
    control_refused(from_bytes({type, 0, 2, 0xaa, 0xbb}));
  }
  // After good messages, too.
  ControlDecoder dec;
  BOOST_TEST(!dec.feed(as_bytes(encode(Message{Done{}}) + from_bytes({9, 0, 0}))).ok());
}

BOOST_AUTO_TEST_CASE(control_rejects_wrong_length) {
  struct Case {
    int type;
    int right;
  };
  for (Case c : {Case{1, 19}, Case{2, 40}, Case{3, 16}}) {
    // (HELLO is 19 bytes, or 20 with flags.)
    for (int len : {0, 1, c.right - 1, c.right + 2, 255}) {
      std::string msg = from_bytes({c.type, 0, len}) + std::string(static_cast<size_t>(len), '\0');
      BOOST_TEST_INFO("type " << c.type << " length " << len);
      control_refused(msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(control_rejects_oversized_from_the_header) {
  // The three header bytes are enough: the decoder does not wait for (and
  // buffer) a payload it will refuse.
  for (int type : {1, 2, 3, 9}) {
    for (uint32_t len : {uint32_t(kMaxControlPayload + 1), uint32_t{0xffff}}) {
      BOOST_TEST_INFO("type " << type << " length " << len);
      control_refused(from_bytes({type, int(len >> 8), int(len & 0xff)}));
    }
  }
  // Also when the header arrives one byte at a time.
  ControlDecoder dec;
  BOOST_TEST(dec.feed(as_bytes(from_bytes({1}))).ok());
  BOOST_TEST(dec.feed(as_bytes(from_bytes({0xff}))).ok());
  BOOST_TEST(!dec.feed(as_bytes(from_bytes({0xff}))).ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::wire

// Named files: FILE and FILE_END round trips, the chunk header's file index,
// and names out of bounds.
BOOST_AUTO_TEST_SUITE(wire_files)

BOOST_AUTO_TEST_CASE(file_messages_round_trip) {
  qpipe::wire::File f;
  f.index = 2;
  f.first_seq = 77;
  f.size = 12345;
  f.mode = 0750;
  f.mtime_sec = -5;
  f.mtime_nsec = 999'999'999;
  f.name = "name with spaces";
  qpipe::wire::FileEnd fe;
  fe.index = 2;
  fe.chunks = 3;
  fe.bytes = 12345;
  fe.digest[0] = 0xab;
  qpipe::wire::ControlDecoder d;
  std::string bytes = qpipe::wire::encode(f) + qpipe::wire::encode(fe);
  BOOST_REQUIRE(d.feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}).ok());
  auto m1 = d.next();
  auto m2 = d.next();
  BOOST_REQUIRE(m1 && m2);
  auto& g = std::get<qpipe::wire::File>(*m1);
  BOOST_TEST(g.index == 2u);
  BOOST_TEST(g.first_seq == 77u);
  BOOST_TEST(g.size == 12345u);
  BOOST_TEST(g.mode == 0750u);
  BOOST_TEST(g.mtime_sec == -5);
  BOOST_TEST(g.mtime_nsec == 999'999'999u);
  BOOST_TEST(g.name == "name with spaces");
  auto& ge = std::get<qpipe::wire::FileEnd>(*m2);
  BOOST_TEST(ge.chunks == 3u);
  BOOST_TEST(ge.digest[0] == 0xab);
}

BOOST_AUTO_TEST_CASE(file_message_bounds) {
  auto feed = [](std::string bytes) {
    qpipe::wire::ControlDecoder d;
    return d.feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  };
  qpipe::wire::File f;
  f.name = "x";
  std::string ok = qpipe::wire::encode(f);
  BOOST_TEST(feed(ok).ok());
  std::string empty_name = ok;
  empty_name[2] = static_cast<char>(38); // payload without the name
  empty_name.resize(3 + 38);
  empty_name[3 + 36] = empty_name[3 + 37] = 0;
  BOOST_TEST(!feed(empty_name).ok());
  std::string lying = ok;
  lying[3 + 37] = 2; // says 2 name bytes, carries 1
  BOOST_TEST(!feed(lying).ok());
  std::string bad_nsec = ok;
  for (int i = 0; i < 4; ++i)
    bad_nsec[3 + 32 + i] = static_cast<char>(0xff);
  BOOST_TEST(!feed(bad_nsec).ok());
}

BOOST_AUTO_TEST_CASE(chunk_header_carries_the_file_index) {
  qpipe::wire::ChunkHeader h;
  h.seq = 5;
  h.raw_len = 10;
  h.wire_len = 10;
  h.file = 0x01020304;
  std::array<uint8_t, qpipe::wire::ChunkHeader::kSize> b{};
  qpipe::wire::encode(h, b);
  BOOST_TEST(b[36] == 1);
  BOOST_TEST(b[39] == 4);
  auto d = qpipe::wire::decode_chunk_header(b, 100);
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->file == 0x01020304u);
}

BOOST_AUTO_TEST_SUITE_END()
