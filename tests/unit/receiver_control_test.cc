// Tests of the listener's control-message dispatch (src/app/receiver.h,
// receiver_control.cc): each message type has one handler; a message out
// of place, out of range or refused ends the connection with an Abort that
// carries the application error code the sender is told. The Receiver runs
// here without a connection, against a fake listener (ReceiverHost).
#include <boost/test/unit_test.hpp>

#include "app/receiver.h"
#include "pipeline/digest.h"
#include "pipeline/wire.h"

using namespace qpipe;
using transport::AppError;

namespace {

class NullSink final : public app::ByteSink {
public:
  void write(std::span<const iovec>, std::function<void(int)> done) override { done(0); }
  void cancel() override {}
  Status commit() override { return {}; }
  void abort() override {}
  std::string name() const override { return "null"; }
};

struct FakeHost final : app::ReceiverHost {
  bool busy = false;
  int begun = 0, sinks = 0;
  std::vector<Status> finished;
  Status begin_transfer(app::Receiver&) override {
    if (busy) return make_error(Errc::transfer, "listener", "busy with another transfer");
    ++begun;
    return {};
  }
  Result<std::unique_ptr<app::ByteSink>> make_sink(const app::FileMeta*) override {
    ++sinks;
    return std::unique_ptr<app::ByteSink>(new NullSink);
  }
  Result<std::shared_ptr<uvx::PartialFile>> claim_partial(const app::FileMeta&) override {
    return std::shared_ptr<uvx::PartialFile>();
  }
  app::MemoryBudget budget{app::kListenerMemory};
  app::MemoryBudget& memory() override { return budget; }
  void receiver_finished(app::Receiver&, const Status& st) override { finished.push_back(st); }
  void receiver_idle() override {}
  void file_event(const app::FileEvent&) override {}
};

struct Fixture {
  uv_loop_t loop;
  Logger log{Verbosity::quiet};
  app::ListenOptions opts;
  FakeHost host;
  std::unique_ptr<app::Receiver> r;
  Fixture() { BOOST_REQUIRE(uv_loop_init(&loop) == 0); }
  ~Fixture() {
    r.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_CHECK(uv_loop_close(&loop) == 0);
  }
  app::Receiver& receiver() {
    if (!r) {
      r = std::make_unique<app::Receiver>(host, &loop, opts, log);
      r->set_peer("127.0.0.1:1");
      r->on_handshake_completed();
    }
    return *r;
  }
  transport::Outcome send(const wire::Message& m) {
    std::string bytes = wire::encode(m);
    return receiver().on_stream_data(
        0, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, false);
  }
  // The abort's code and message, or "ok".
  static std::string verdict(const transport::Outcome& o) {
    if (o) return "ok";
    return std::to_string(static_cast<int>(o.abort().code)) + " " + o.abort().error.message();
  }
};

std::string code(AppError e) {
  return std::to_string(static_cast<int>(e)) + " ";
}

wire::Hello hello(uint32_t files = 0) {
  wire::Hello h;
  h.files = files;
  return h;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(receiver_control, Fixture)

BOOST_AUTO_TEST_CASE(hello_starts_a_stream_transfer) {
  BOOST_TEST(verdict(send(hello())) == "ok");
  BOOST_TEST(host.begun == 1);
  BOOST_TEST(host.sinks == 1); // stdout or -o FILE, opened before any chunk
  BOOST_TEST(verdict(send(hello())) == code(AppError::protocol) + "protocol: second HELLO");
}

BOOST_AUTO_TEST_CASE(hello_out_of_range_or_from_another_version) {
  wire::Hello h = hello();
  h.version = 2;
  BOOST_TEST(verdict(send(h)) == code(AppError::protocol) +
                                     "protocol: sender speaks protocol version 2, this listener 1");
  r.reset();
  for (auto change :
       {+[](wire::Hello& x) { x.chunk_size = 1024; },
        +[](wire::Hello& x) { x.chunk_size = (16u << 20) + 1; },
        +[](wire::Hello& x) { x.streams = 0; }, +[](wire::Hello& x) { x.streams = 257; }}) {
    wire::Hello bad = hello();
    change(bad);
    BOOST_TEST(verdict(send(bad)) ==
               code(AppError::protocol) + "protocol: HELLO with out-of-range parameters");
    r.reset();
  }
  BOOST_TEST(host.begun == 0);
}

BOOST_AUTO_TEST_CASE(a_secret_listener_refuses_hello_without_auth) {
  opts.secret = "s3cret";
  auto o = send(hello());
  BOOST_TEST(verdict(o) ==
             code(AppError::refused) +
                 "127.0.0.1:1: refused a sender that did not prove the shared secret");
}

BOOST_AUTO_TEST_CASE(a_busy_listener_answers_busy) {
  host.busy = true;
  BOOST_TEST(verdict(send(hello())) ==
             code(AppError::busy) + "listener: busy with another transfer");
}

BOOST_AUTO_TEST_CASE(what_the_output_cannot_take_is_refused_before_a_byte) {
  BOOST_TEST(verdict(send(hello(2))) ==
             code(AppError::output_failed) +
                 "127.0.0.1:1: refused 2 files: several files need a directory on the listener "
                 "(qpipe -l -o DIR)");
  r.reset();
  opts.output = "dir";
  opts.output_is_directory = true;
  BOOST_TEST(verdict(send(hello(0))) ==
             code(AppError::output_failed) +
                 "127.0.0.1:1: refused a stream: -o names a directory, which takes named files "
                 "(send a stream to stdout or -o FILE)");
}

BOOST_AUTO_TEST_CASE(messages_out_of_place) {
  // Each on a fresh connection: an Abort ends the one it came on.
  wire::File f;
  f.name = "a";
  const std::vector<std::pair<wire::Message, std::string>> before_hello = {
      {f, "protocol: unexpected FILE"},
      {wire::End{}, "protocol: unexpected END"},
      {wire::Done{}, "protocol: unexpected control message"},
      {wire::Resume{}, "protocol: unexpected RESUME"},
      {wire::FileEnd{}, "protocol: unexpected FILE_END"},
  };
  for (const auto& [m, why] : before_hello) {
    BOOST_TEST(verdict(send(m)) == code(AppError::protocol) + why);
    r.reset();
  }
  BOOST_TEST(verdict(send(hello())) == "ok");
  BOOST_TEST(verdict(send(wire::Auth{})) == code(AppError::protocol) + "protocol: unexpected AUTH");
  r.reset();
  BOOST_TEST(verdict(send(hello())) == "ok");
  wire::End end;
  end.chunks = 1; // still to come: the transfer goes on
  BOOST_TEST(verdict(send(end)) == "ok");
  BOOST_TEST(verdict(send(end)) == code(AppError::protocol) + "protocol: unexpected END");
}

BOOST_AUTO_TEST_CASE(files_in_order_with_valid_names) {
  opts.output = "dir";
  opts.output_is_directory = true;
  BOOST_TEST(verdict(send(hello(2))) == "ok");
  wire::File f;
  f.index = 1; // not the next one
  f.name = "a";
  BOOST_TEST(verdict(send(f)) == code(AppError::protocol) + "protocol: unexpected FILE");
  r.reset();
  BOOST_TEST(verdict(send(hello(2))) == "ok");
  f.index = 0;
  f.name = "../etc/passwd";
  BOOST_TEST(verdict(send(f)).rfind(code(AppError::protocol), 0) == 0);
  r.reset();
  BOOST_TEST(verdict(send(hello(2))) == "ok");
  f.name = "a";
  BOOST_TEST(verdict(send(f)) == "ok");
  wire::FileEnd fe;
  fe.index = 0;
  BOOST_TEST(verdict(send(fe)) == "ok");
  BOOST_TEST(verdict(send(fe)) == code(AppError::protocol) + "protocol: unexpected FILE_END");
}

BOOST_AUTO_TEST_CASE(a_second_file_of_the_same_name_is_refused) {
  opts.output = "dir";
  opts.output_is_directory = true;
  BOOST_TEST(verdict(send(hello(3))) == "ok");
  wire::File f;
  f.name = "x.bin";
  BOOST_TEST(verdict(send(f)) == "ok");
  f.index = 1;
  f.name = "y.bin";
  BOOST_TEST(verdict(send(f)) == "ok");
  f.index = 2;
  f.name = "x.bin";
  BOOST_TEST(verdict(send(f)) ==
             code(AppError::protocol) +
                 "protocol: two files named x.bin in one transfer (the second would replace the "
                 "first)");
}

BOOST_AUTO_TEST_CASE(committed_files_leave_the_table) {
  // Empty files: each is committed as soon as its FILE_END is here; the
  // receiver keeps no state for them afterwards and expects the next index.
  opts.output = "dir";
  opts.output_is_directory = true;
  const uint32_t n = 50;
  BOOST_TEST(verdict(send(hello(n))) == "ok");
  for (uint32_t i = 0; i < n; ++i) {
    wire::File f;
    f.index = i;
    f.name = "f" + std::to_string(i);
    BOOST_TEST(verdict(send(f)) == "ok");
    wire::FileEnd fe;
    fe.index = i;
    fe.digest = Digester().digest();
    BOOST_TEST(verdict(send(fe)) == "ok");
  }
  wire::End end;
  end.digest = Digester().digest();
  BOOST_TEST(verdict(send(end)) == "ok");
  BOOST_TEST(host.sinks == static_cast<int>(n));
  BOOST_TEST(receiver().stats().files_done == n);
  wire::FileEnd late;
  late.index = 3; // committed and forgotten
  BOOST_TEST(verdict(send(late)) == code(AppError::protocol) + "protocol: unexpected FILE_END");
}

// A chunk header on chunk stream 2 (the sender's first unidirectional one).
transport::Outcome send_chunk_header(Fixture& f, wire::Codec codec, uint64_t seq,
                                     uint32_t raw_len = 1000) {
  wire::ChunkHeader h;
  h.codec = codec;
  h.seq = seq;
  h.raw_len = raw_len;
  h.wire_len = codec == wire::Codec::raw ? raw_len : 100;
  std::array<uint8_t, wire::ChunkHeader::kSize> b{};
  wire::encode(h, b);
  return f.receiver().on_stream_data(2, b, false);
}

BOOST_AUTO_TEST_CASE(a_chunk_larger_than_announced_is_refused_by_its_header) {
  // Before a byte of it is buffered: with history, 16 MiB copied into the
  // 8 MiB ring once ran past its end.
  wire::Hello h = hello();
  h.flags = wire::kHelloHistory;
  BOOST_TEST(verdict(send(h)) == "ok");
  BOOST_TEST(verdict(send_chunk_header(*this, wire::Codec::raw, 0, h.chunk_size + 1)) ==
             code(AppError::protocol) + "protocol: chunk larger than the announced chunk size");
}

BOOST_AUTO_TEST_CASE(a_prefixed_chunk_needs_hello_to_announce_it) {
  BOOST_TEST(verdict(send(hello())) == "ok");
  BOOST_TEST(verdict(send_chunk_header(*this, wire::Codec::zstd_prefixed, 1)) ==
             code(AppError::protocol) +
                 "protocol: a chunk compressed against the bytes before it, which HELLO did "
                 "not announce");
}

BOOST_AUTO_TEST_CASE(a_prefixed_chunk_after_hello_announced_it) {
  wire::Hello h = hello();
  h.flags = wire::kHelloHistory;
  BOOST_TEST(verdict(send(h)) == "ok");
  BOOST_TEST(verdict(send_chunk_header(*this, wire::Codec::zstd_prefixed, 1)) == "ok");
}

BOOST_AUTO_TEST_CASE(history_with_chunks_larger_than_its_limit_is_refused) {
  // The window of 8 MiB of history and a chunk must stay within the 16 MiB
  // the listener's decoder allows.
  wire::Hello h = hello();
  h.flags = wire::kHelloHistory;
  h.chunk_size = wire::kHistoryChunkMost + 1;
  BOOST_TEST(verdict(send(h)) ==
             code(AppError::protocol) +
                 "protocol: HELLO: chunks compressed against the bytes before them are 4194305 "
                 "bytes, more than 4194304");
  r.reset();
  h.chunk_size = wire::kHistoryChunkMost;
  BOOST_TEST(verdict(send(h)) == "ok");
}

BOOST_AUTO_TEST_CASE(an_abort_ends_the_receiver_when_the_connection_closes) {
  BOOST_TEST(verdict(send(hello())) == "ok");
  auto o = send(hello());
  BOOST_REQUIRE(!o);
  // The connection closes with the abort and reports it back.
  transport::CloseInfo info;
  info.kind = transport::CloseInfo::Kind::local;
  info.code = static_cast<uint64_t>(o.abort().code);
  info.reason = o.abort().error.message();
  info.error = o.abort().error;
  receiver().on_closed(info);
  BOOST_TEST(receiver().finished());
  BOOST_REQUIRE(host.finished.size() == 1u);
  BOOST_TEST(host.finished[0].error().message() == "protocol: second HELLO");
}

BOOST_AUTO_TEST_SUITE_END()
