// Tests of the outgoing control stream (src/app/control_out.h): nothing goes
// out before the stream is open or while it is blocked, messages go out in
// order from stable memory, prepend() puts a message ahead of those queued
// early, and the FIN goes with the last byte of the last message after
// finish() (or alone when everything was sent already).
#include <boost/test/unit_test.hpp>

#include <string>

#include "app/control_out.h"

using qpipe::app::ControlOut;
using qpipe::transport::SendSlot;

namespace {
std::string take(ControlOut& out, SendSlot& s, bool* fin = nullptr) {
  std::string got;
  for (size_t i = 0; i < s.cnt; ++i)
    got.append(static_cast<const char*>(s.vec[i].iov_base), s.vec[i].iov_len);
  if (fin) *fin = s.fin;
  out.sent(got.size(), s.fin);
  return got;
}
} // namespace

BOOST_AUTO_TEST_SUITE(control_out)

BOOST_AUTO_TEST_CASE(nothing_before_open_and_while_blocked) {
  ControlOut out;
  out.append("abc");
  SendSlot s;
  BOOST_TEST(!out.next(s));
  out.open(4);
  out.set_blocked(true);
  BOOST_TEST(!out.next(s));
  out.set_blocked(false);
  BOOST_REQUIRE(out.next(s));
  BOOST_TEST(s.stream_id == 4);
  BOOST_TEST(take(out, s) == "abc");
  BOOST_TEST(!out.next(s));
}

BOOST_AUTO_TEST_CASE(prepend_goes_first_and_partial_sends_continue) {
  ControlOut out;
  out.append("file");
  out.prepend("hello");
  out.prepend("auth");
  out.open(0);
  SendSlot s;
  std::string all;
  while (out.next(s)) {
    // Take two bytes at a time, as a full packet would.
    std::string chunk(static_cast<const char*>(s.vec[0].iov_base),
                      std::min<size_t>(2, s.vec[0].iov_len));
    out.sent(chunk.size(), false);
    all += chunk;
  }
  BOOST_TEST(all == "authhellofile");
}

BOOST_AUTO_TEST_CASE(fin_goes_with_the_last_message) {
  ControlOut out;
  out.open(0);
  out.append("one");
  out.append("end");
  out.finish();
  SendSlot s;
  bool fin = true;
  BOOST_REQUIRE(out.next(s));
  BOOST_TEST(take(out, s, &fin) == "one");
  BOOST_TEST(!fin);
  BOOST_REQUIRE(out.next(s));
  BOOST_TEST(take(out, s, &fin) == "end");
  BOOST_TEST(fin);
  BOOST_TEST(out.fin_sent());
  BOOST_TEST(!out.next(s));
}

BOOST_AUTO_TEST_CASE(fin_alone_when_everything_was_sent) {
  ControlOut out;
  out.open(0);
  out.append("x");
  SendSlot s;
  BOOST_REQUIRE(out.next(s));
  BOOST_TEST(take(out, s) == "x");
  out.finish();
  BOOST_REQUIRE(out.next(s));
  BOOST_TEST(s.cnt == 0u);
  BOOST_TEST(s.fin);
  out.sent(0, true);
  BOOST_TEST(!out.next(s));
}

BOOST_AUTO_TEST_SUITE_END()
