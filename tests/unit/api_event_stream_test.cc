// Tests of the server-sent events of `qpipe api` (src/api/event_stream.h).
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "api/event_stream.h"

namespace qpipe::api {
namespace {

// A stream that records what it was given; `open` says whether the client
// is still there.
struct FakeStream final : BodyStream {
  std::string written;
  bool is_open = true, ended = false;
  bool write(std::string_view b) override {
    if (!is_open) return false;
    written += b;
    return true;
  }
  void end() override {
    ended = true;
    is_open = false;
  }
  bool open() const override { return is_open; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(api_event_stream)

BOOST_AUTO_TEST_CASE(event_format) {
  BOOST_TEST(sse_event("progress", R"({"a":1})") == "event: progress\ndata: {\"a\":1}\n\n");
  BOOST_TEST(sse_event("x", "one\ntwo") == "event: x\ndata: one\ndata: two\n\n");
}

BOOST_AUTO_TEST_CASE(publish_finish_and_gone_clients) {
  EventHub hub;
  auto a = std::make_shared<FakeStream>(), b = std::make_shared<FakeStream>(),
       c = std::make_shared<FakeStream>();
  hub.subscribe(1, a);
  hub.subscribe(1, b);
  hub.subscribe(2, c);
  BOOST_TEST(hub.watched().size() == 2u);
  hub.publish(1, "progress", "p1");
  b->is_open = false; // the client went away
  hub.publish(1, "progress", "p2");
  BOOST_TEST(a->written == sse_event("progress", "p1") + sse_event("progress", "p2"));
  hub.finish(1, "end", "e");
  BOOST_TEST(a->written.ends_with(sse_event("end", "e")));
  BOOST_TEST(a->ended);
  BOOST_TEST(!b->ended);
  BOOST_TEST((hub.watched() == std::vector<uint64_t>{2}));
  hub.end_all();
  BOOST_TEST(c->ended);
  BOOST_TEST(hub.empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
