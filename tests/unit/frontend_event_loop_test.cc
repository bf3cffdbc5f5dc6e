// Tests of a front end's loop and its signals (src/frontend/event_loop.h,
// src/frontend/interrupts.h): teardown closes what was left open, the
// first SIGTERM becomes an "interrupted" error, and unref'd handlers do not
// keep the loop running.
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <optional>

#include "frontend/event_loop.h"
#include "frontend/interrupts.h"
#include "uv/handle.h"

namespace qpipe::frontend {

BOOST_AUTO_TEST_SUITE(frontend_event_loop)

BOOST_AUTO_TEST_CASE(teardown_closes_a_handle_left_open) {
  Logger log(Verbosity::quiet);
  uv_timer_t leaked; // outlives the loop, as a leaked handle would
  {
    EventLoop loop(log);
    BOOST_REQUIRE(uv_timer_init(loop.get(), &leaked) == 0);
  }
  BOOST_TEST(uv_is_closing(reinterpret_cast<uv_handle_t*>(&leaked)) != 0);
}

BOOST_AUTO_TEST_CASE(sigterm_is_an_interrupted_error) {
  Logger log(Verbosity::quiet);
  EventLoop loop(log);
  std::optional<Error> got;
  Interrupts interrupts(loop.get());
  interrupts.start([&](const Error& why) {
    got = why;
    interrupts.close();
  });
  uvx::Timer raise_it, watchdog;
  raise_it.init(loop.get(), [] { std::raise(SIGTERM); });
  raise_it.start(0);
  watchdog.init(loop.get(), [&] { interrupts.close(); }); // no signal seen: end anyway
  watchdog.start(5000);
  watchdog.unref();
  loop.run();
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->exit_code() == 130);
  BOOST_TEST(got->message() == "interrupted: SIGTERM");
}

BOOST_AUTO_TEST_CASE(unrefd_handlers_let_the_loop_end) {
  Logger log(Verbosity::quiet);
  EventLoop loop(log);
  Interrupts interrupts(loop.get());
  interrupts.start([](const Error&) {});
  interrupts.unref();
  loop.run(); // returns at once: nothing else is alive
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
