// Tests of the --resume exchange (src/app/resume.h), both halves: the
// sender's question, comparison and decision; the listener's offer of what
// it kept, and the checks on what the sender says. Digests run on a real
// libuv thread pool; every test ends with uv_loop_close() == 0.
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "app/resume.h"
#include "pipeline/digest.h"
#include "temp_dir.h"
#include "uv/fd_io.h"

using namespace qpipe;
using app::ResumeVerdict;

namespace {

struct Loop {
  uv_loop_t loop;
  Loop() { BOOST_REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() { BOOST_CHECK(uv_loop_close(&loop) == 0); }
  void run() { uv_run(&loop, UV_RUN_DEFAULT); }
};

std::array<uint8_t, 16> digest_of(const std::string& s) {
  auto d = hash_bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  std::array<uint8_t, 16> out;
  std::copy(d.begin(), d.end(), out.begin());
  return out;
}

app::PrefixDigest prefix_of(std::string content) {
  return [content](uint64_t n) -> Result<std::array<uint8_t, 16>> {
    return digest_of(content.substr(0, n));
  };
}

struct Decision {
  uint32_t index = 99;
  uint64_t offset = 99;
  std::optional<ResumeVerdict> verdict;
};

} // namespace

BOOST_AUTO_TEST_SUITE(resume)

BOOST_AUTO_TEST_CASE(an_offer_without_a_question_is_a_protocol_error) {
  Loop l;
  uvx::WorkQueue work(&l.loop);
  app::ResumeAsk ask;
  auto o = ask.on_offer(work, wire::Resume{0, 5, {}}, 10, prefix_of("0123456789"),
                        [](uint32_t, uint64_t, ResumeVerdict) { BOOST_FAIL("decided"); });
  BOOST_REQUIRE(!o);
  BOOST_TEST(o.abort().error.message() == "protocol: unexpected RESUME");
  BOOST_TEST(static_cast<int>(o.abort().code) == static_cast<int>(transport::AppError::protocol));
}

BOOST_AUTO_TEST_CASE(nothing_kept_or_too_long_means_all_of_it) {
  Loop l;
  uvx::WorkQueue work(&l.loop);
  for (uint64_t offered : {uint64_t{0}, uint64_t{11}, UINT64_MAX}) {
    app::ResumeAsk ask;
    auto q = ask.ask(3);
    BOOST_TEST(q.index == 3u);
    BOOST_TEST(q.offset == UINT64_MAX);
    BOOST_TEST(ask.waiting());
    Decision d;
    auto o = ask.on_offer(work, wire::Resume{3, offered, {}}, 10, prefix_of("0123456789"),
                          [&](uint32_t i, uint64_t off, ResumeVerdict v) {
                            d = {i, off, v};
                          });
    BOOST_TEST(o.ok());
    BOOST_TEST(d.index == 3u);
    BOOST_TEST(d.offset == 0u);
    BOOST_TEST((d.verdict == ResumeVerdict::nothing_kept));
    auto m = ask.decision(3, 0);
    BOOST_TEST(m.offset == 0u);
    BOOST_TEST(!ask.waiting());
  }
}

BOOST_AUTO_TEST_CASE(a_matching_prefix_is_kept_and_a_different_one_is_not) {
  Loop l;
  uvx::WorkQueue work(&l.loop);
  for (bool same : {true, false}) {
    app::ResumeAsk ask;
    (void)ask.ask(0);
    wire::Resume offer{0, 4, {}};
    auto d16 = digest_of(same ? "0123" : "0124");
    std::copy(d16.begin(), d16.end(), offer.digest.begin());
    Decision d;
    BOOST_TEST(ask.on_offer(work, offer, 10, prefix_of("0123456789"),
                            [&](uint32_t i, uint64_t off, ResumeVerdict v) {
                              d = {i, off, v};
                            })
                   .ok());
    BOOST_TEST(!d.verdict); // decided on the loop, after the thread pool
    BOOST_TEST(work.pending() == 1);
    l.run();
    BOOST_TEST(d.offset == (same ? 4u : 0u));
    BOOST_TEST((d.verdict == (same ? ResumeVerdict::same : ResumeVerdict::differs)));
  }
}

BOOST_AUTO_TEST_CASE(the_listener_offers_what_it_kept_and_checks_the_answer) {
  Loop l;
  test::TempDir dir;
  test::write_file(dir / uvx::partial_name("f"), "0123456789", 0600);
  auto part = uvx::PartialFile::claim(dir.path, "f");
  BOOST_REQUIRE(part.ok());
  uvx::WorkQueue work(&l.loop);
  app::ResumeOffer offer;
  std::optional<wire::Resume> answer;
  auto on_answer = [&](const wire::Resume& r) { answer = r; };
  BOOST_TEST(offer.on_message(work, wire::Resume{2, UINT64_MAX, {}}, *part, on_answer).ok());
  BOOST_TEST(offer.pending());
  l.run();
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->index == 2u);
  BOOST_TEST(answer->offset == 10u);
  auto expected = digest_of("0123456789");
  BOOST_TEST(std::equal(expected.begin(), expected.end(), answer->digest.begin()));
  // The sender may only take the offer or start at 0.
  auto bad = offer.on_message(work, wire::Resume{2, 7, {}}, *part, on_answer);
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.abort().error.message() == "protocol: RESUME at an offset not offered");
  BOOST_TEST(offer.on_message(work, wire::Resume{2, 10, {}}, *part, on_answer).ok());
  BOOST_TEST(offer.decided());
  BOOST_TEST(offer.start() == 10u);
  BOOST_TEST(!offer.on_message(work, wire::Resume{2, 0, {}}, *part, on_answer).ok());
}

BOOST_AUTO_TEST_CASE(the_listener_offers_nothing_without_a_kept_part) {
  Loop l;
  test::TempDir dir;
  uvx::WorkQueue work(&l.loop);
  auto empty = uvx::PartialFile::claim(dir.path, "new"); // made now, empty
  BOOST_REQUIRE(empty.ok());
  for (const auto& part : {std::shared_ptr<uvx::PartialFile>(), *empty}) {
    app::ResumeOffer offer;
    std::optional<wire::Resume> answer;
    BOOST_TEST(offer
                   .on_message(work, wire::Resume{0, UINT64_MAX, {}}, part,
                               [&](const wire::Resume& r) { answer = r; })
                   .ok());
    BOOST_REQUIRE(answer); // at once: nothing to hash
    BOOST_TEST(answer->offset == 0u);
    BOOST_TEST(offer.on_message(work, wire::Resume{0, 0, {}}, part, {}).ok());
    BOOST_TEST(offer.start() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(the_first_message_must_be_a_question) {
  Loop l;
  uvx::WorkQueue work(&l.loop);
  app::ResumeOffer offer;
  auto o = offer.on_message(work, wire::Resume{0, 0, {}}, nullptr, {});
  BOOST_REQUIRE(!o);
  BOOST_TEST(o.abort().error.message() == "protocol: unexpected RESUME");
}

BOOST_AUTO_TEST_SUITE_END()
