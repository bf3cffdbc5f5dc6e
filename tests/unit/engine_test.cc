// Tests for the engine API (src/app/transfer.h) in-process: a listener and
// a sender on one loop, generated data into a memory sink; every test ends
// with uv_loop_close() == 0, so no handle or request is leaked.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include "api/gen_source.h"
#include "app/transfer.h"
#include "gen/generator.h"
#include "temp_dir.h"

using namespace qpipe;

namespace {

class MemorySink final : public uvx::ByteSink {
public:
  explicit MemorySink(std::vector<uint8_t>& out) : out_(out) {}
  void write(std::span<const iovec> parts, std::function<void(int)> done) override {
    for (const auto& p : parts)
      out_.insert(out_.end(), static_cast<uint8_t*>(p.iov_base),
                  static_cast<uint8_t*>(p.iov_base) + p.iov_len);
    done(0);
  }
  void cancel() override {}
  Status commit() override {
    committed = true;
    return {};
  }
  void abort() override {}
  std::string name() const override { return "memory"; }
  bool committed = false;

private:
  std::vector<uint8_t>& out_;
};

using TempDir = qpipe::test::TempDir;

struct Outcome {
  std::optional<Status> send, listen;
  std::vector<uint8_t> received;
};

Outcome run_transfer(uint64_t size, gen::Kind kind, app::SendOptions so) {
  TempDir dir;
  Outcome out;
  uv_loop_t loop;
  BOOST_REQUIRE(uv_loop_init(&loop) == 0);
  Logger log(Verbosity::quiet);
  {
    app::ListenOptions lo;
    lo.host = "127.0.0.1";
    lo.port = 0;
    lo.identity_dir = dir.path;
    app::TransferEvents lev;
    lev.on_done = [&](const Status& st, const app::TransferStats&) { out.listen = st; };
    auto listener = app::start_listen(
        &loop, lo,
        [&](const uvx::FileMeta*) -> Result<std::unique_ptr<uvx::ByteSink>> {
          return std::unique_ptr<uvx::ByteSink>(std::make_unique<MemorySink>(out.received));
        },
        log, lev);
    BOOST_REQUIRE(listener.ok());
    std::string local = (*listener)->stats().local;
    so.host = "127.0.0.1";
    so.port = static_cast<uint16_t>(std::stoi(local.substr(local.rfind(':') + 1)));
    so.verify = app::Verify::pin;
    so.pin = (*listener)->stats().fingerprint;
    app::TransferEvents sev;
    sev.on_done = [&](const Status& st, const app::TransferStats&) { out.send = st; };
    auto sender = app::start_send(&loop, so, std::make_unique<api::GenSource>(&loop, kind, 5, size),
                                  log, sev);
    BOOST_REQUIRE(sender.ok());
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  BOOST_TEST(uv_loop_close(&loop) == 0); // nothing leaked
  return out;
}

const std::string kWrongPin = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

std::vector<uint8_t> expected(uint64_t size, gen::Kind kind) {
  std::vector<uint8_t> v(size);
  gen::Generator(kind, 5).fill(0, v);
  return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(send_and_listen_on_one_loop) {
  auto out = run_transfer(3 << 20, gen::Kind::random, {});
  BOOST_REQUIRE(out.send && out.listen);
  BOOST_TEST(out.send->ok());
  BOOST_TEST(out.listen->ok());
  BOOST_TEST((out.received == expected(3 << 20, gen::Kind::random)));
}

BOOST_AUTO_TEST_CASE(empty_stream) {
  auto out = run_transfer(0, gen::Kind::random, {});
  BOOST_REQUIRE(out.send && out.listen);
  BOOST_TEST(out.send->ok());
  BOOST_TEST(out.listen->ok());
  BOOST_TEST(out.received.empty());
}

BOOST_AUTO_TEST_CASE(compressed_small_chunks_many_streams) {
  app::SendOptions so;
  so.zstd = qpipe::codec::LevelRange{3, 3};
  so.chunk_size = 64 * 1024;
  so.streams = 32;
  auto out = run_transfer(5 << 20, gen::Kind::text, so);
  BOOST_REQUIRE(out.send && out.listen);
  BOOST_TEST(out.send->ok());
  BOOST_TEST((out.received == expected(5 << 20, gen::Kind::text)));
}

BOOST_AUTO_TEST_CASE(wrong_pin_is_refused_with_nothing_written) {
  TempDir dir;
  uv_loop_t loop;
  BOOST_REQUIRE(uv_loop_init(&loop) == 0);
  Logger log(Verbosity::quiet);
  std::vector<uint8_t> received;
  std::optional<Status> send;
  app::TransferStats send_stats;
  std::string listener_fp;
  {
    app::ListenOptions lo;
    lo.host = "127.0.0.1";
    lo.port = 0;
    lo.identity_dir = dir.path;
    auto listener = app::start_listen(
        &loop, lo,
        [&](const uvx::FileMeta*) -> Result<std::unique_ptr<uvx::ByteSink>> {
          return std::unique_ptr<uvx::ByteSink>(std::make_unique<MemorySink>(received));
        },
        log, {});
    BOOST_REQUIRE(listener.ok());
    std::string local = (*listener)->stats().local;
    listener_fp = (*listener)->stats().fingerprint;
    app::SendOptions so;
    so.host = "127.0.0.1";
    so.port = static_cast<uint16_t>(std::stoi(local.substr(local.rfind(':') + 1)));
    so.verify = app::Verify::pin;
    so.pin = kWrongPin;
    app::TransferEvents sev;
    sev.on_done = [&](const Status& st, const app::TransferStats& s) {
      send = st;
      send_stats = s;
      (*listener)->cancel(make_error(Errc::interrupted, "test", "done"));
    };
    auto sender = app::start_send(
        &loop, so, std::make_unique<api::GenSource>(&loop, gen::Kind::random, 1, 1 << 20), log,
        sev);
    BOOST_REQUIRE(sender.ok());
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  BOOST_TEST(uv_loop_close(&loop) == 0);
  BOOST_REQUIRE(send);
  BOOST_TEST(!send->ok());
  BOOST_TEST(send->error().exit_code() == 4);
  BOOST_TEST(received.empty());
  // Both fingerprints and the fix reach the final stats (the api's record).
  BOOST_REQUIRE(send_stats.identity_refused);
  BOOST_TEST(send_stats.identity_refused->presented == listener_fp);
  BOOST_TEST(send_stats.identity_refused->expected == kWrongPin);
  BOOST_TEST(send_stats.identity_refused->fix.find("--pin " + listener_fp) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
