// Fuzzes qpipe::wire::ControlDecoder (src/pipeline/wire.h), which parses
// everything the peer sends on the control stream. The input is one byte n,
// then n & 7 piece sizes (one byte each, 0 = an empty feed), then the stream;
// the stream is fed in pieces of those sizes, cycling, and messages are taken
// out after every feed, as the transport delivers them. Asserts that the
// piecewise decode gives the same messages and the same verdict as one feed
// of the whole stream; that the encodings of the decoded messages,
// concatenated, are exactly the bytes they were decoded from (the format is
// canonical); that every decoded message, re-encoded and decoded again, is
// one message equal to it; and that what is left undecoded after a
// successful feed is an incomplete message.
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "pipeline/wire.h"

using namespace qpipe;
using namespace qpipe::wire;
using qpipe::fuzz::Input;

namespace {

bool same(const Message& x, const Message& y) {
  if (x.index() != y.index()) return false;
  if (auto* a = std::get_if<Hello>(&x)) {
    auto& b = std::get<Hello>(y);
    return a->version == b.version && a->streams == b.streams && a->chunk_size == b.chunk_size &&
           a->size_hint == b.size_hint && a->files == b.files && a->flags == b.flags;
  }
  if (auto* a = std::get_if<End>(&x)) {
    auto& b = std::get<End>(y);
    return a->chunks == b.chunks && a->bytes == b.bytes && a->digest == b.digest &&
           a->datagrams_sent == b.datagrams_sent;
  }
  if (auto* a = std::get_if<Done>(&x)) {
    auto& b = std::get<Done>(y);
    return a->bytes == b.bytes && a->datagrams_received == b.datagrams_received;
  }
  if (auto* a = std::get_if<Auth>(&x)) return a->proof == std::get<Auth>(y).proof;
  if (auto* a = std::get_if<File>(&x)) {
    auto& b = std::get<File>(y);
    return a->index == b.index && a->first_seq == b.first_seq && a->size == b.size &&
           a->mode == b.mode && a->mtime_sec == b.mtime_sec && a->mtime_nsec == b.mtime_nsec &&
           a->name == b.name;
  }
  if (auto* a = std::get_if<FileEnd>(&x)) {
    auto& b = std::get<FileEnd>(y);
    return a->index == b.index && a->chunks == b.chunks && a->bytes == b.bytes &&
           a->digest == b.digest;
  }
  if (auto* a = std::get_if<Resume>(&x)) {
    auto& b = std::get<Resume>(y);
    return a->index == b.index && a->offset == b.offset && a->digest == b.digest;
  }
  return false;
}

struct Outcome {
  std::vector<Message> messages;
  bool ok = true;
};

void drain(ControlDecoder& d, std::vector<Message>& out) {
  while (auto m = d.next())
    out.push_back(std::move(*m));
}

// Feeds the stream in pieces of the given sizes (cycling), stopping at the
// first error as the listener does.
Outcome decode_in_pieces(std::span<const uint8_t> stream, const std::vector<size_t>& sizes) {
  Outcome o;
  ControlDecoder d;
  size_t at = 0, i = 0;
  while (at < stream.size()) {
    size_t n = std::min(sizes[i++ % sizes.size()], stream.size() - at);
    Status s = d.feed(stream.subspan(at, n));
    at += n;
    drain(d, o.messages);
    if (!s) {
      FUZZ_CHECK(!s.error().message().empty());
      o.ok = false;
      break;
    }
  }
  return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  size_t count = in.take_u8() & 7;
  std::vector<size_t> sizes;
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    sizes.push_back(in.take_u8());
    total += sizes.back();
  }
  std::span<const uint8_t> stream = in.rest();
  if (total == 0) sizes.assign(1, stream.size() + 1); // one feed of everything

  Outcome pieces = decode_in_pieces(stream, sizes);

  ControlDecoder whole;
  Status s = whole.feed(stream);
  std::vector<Message> messages;
  drain(whole, messages);
  FUZZ_CHECK_MSG(s.ok() == pieces.ok, "the verdict depends on how the stream is cut");
  FUZZ_CHECK_MSG(messages.size() == pieces.messages.size(),
                 "the messages depend on how the stream is cut");
  for (size_t i = 0; i < messages.size(); ++i)
    FUZZ_CHECK_MSG(same(messages[i], pieces.messages[i]),
                   "the messages depend on how the stream is cut");

  // The encodings of the messages are the bytes they came from.
  std::string consumed;
  for (const Message& m : messages) {
    std::string e = encode(m);
    FUZZ_CHECK(e.size() >= 3 && e.size() <= 3 + kMaxControlPayload);
    consumed += e;

    ControlDecoder again;
    Status s2 = again.feed(std::span(reinterpret_cast<const uint8_t*>(e.data()), e.size()));
    FUZZ_CHECK_MSG(s2.ok(), "a decoded message does not decode after re-encoding");
    auto m2 = again.next();
    FUZZ_CHECK(m2.has_value());
    FUZZ_CHECK_MSG(same(m, *m2), "a message changed through encode and decode");
    FUZZ_CHECK(!again.next().has_value());
    FUZZ_CHECK(again.empty());
  }
  FUZZ_CHECK(consumed.size() <= stream.size());
  FUZZ_CHECK_MSG(fuzz::as_chars(stream.first(consumed.size())) == consumed,
                 "a decoded message does not re-encode to its bytes");

  if (s.ok()) {
    // What is left is the start of a message that has not fully arrived.
    auto left = stream.subspan(consumed.size());
    FUZZ_CHECK(whole.empty() == left.empty());
    if (left.size() >= 3) {
      size_t len = static_cast<size_t>(left[1]) << 8 | left[2];
      FUZZ_CHECK(len <= kMaxControlPayload && left.size() < 3 + len);
    }
  }
  return 0;
}
