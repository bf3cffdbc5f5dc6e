// Tests of where a listener started by a front end writes
// (src/frontend/output.h): the directory decision and the sink it leads to.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <unistd.h>

#include "frontend/output.h"
#include "temp_dir.h"

namespace qpipe::frontend {
namespace {

struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-output") {}
};

// A loop for sinks that are created and aborted, closed at the end.
struct Loop {
  uv_loop_t loop;
  Loop() { BOOST_REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_TEST(uv_loop_close(&loop) == 0);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(frontend_output)

BOOST_AUTO_TEST_CASE(is_directory_follows_symlinks) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  BOOST_REQUIRE(::symlink(dir.path.c_str(), (dir / "link").c_str()) == 0);
  BOOST_TEST(is_directory(dir.path));
  BOOST_TEST(is_directory(dir / "link"));
  BOOST_TEST(!is_directory(dir / "file"));
  BOOST_TEST(!is_directory(dir / "missing"));
}

BOOST_AUTO_TEST_CASE(the_directory_decision) {
  TempDir dir;
  Loop l;
  app::ListenOptions none;
  none.output_is_directory = true; // decided again
  (void)output_sinks(&l.loop, none);
  BOOST_TEST(!none.output_is_directory);

  app::ListenOptions into_dir;
  into_dir.output = dir.path;
  (void)output_sinks(&l.loop, into_dir);
  BOOST_TEST(into_dir.output_is_directory);

  app::ListenOptions to_file;
  to_file.output = dir / "new.bin"; // not there yet: a file to create
  (void)output_sinks(&l.loop, to_file);
  BOOST_TEST(!to_file.output_is_directory);
}

BOOST_AUTO_TEST_CASE(sinks_for_stdout_a_file_and_a_directory) {
  TempDir dir;
  Loop l;
  app::FileMeta meta;
  meta.name = "a.txt";

  app::ListenOptions none;
  auto out = output_sinks(&l.loop, none)(nullptr);
  BOOST_REQUIRE(out.ok());
  BOOST_TEST((*out)->name() == "stdout");

  app::ListenOptions into_dir;
  into_dir.output = dir.path;
  auto in_dir = output_sinks(&l.loop, into_dir)(&meta);
  BOOST_REQUIRE(in_dir.ok());
  BOOST_TEST((*in_dir)->name() == dir / "a.txt");
  (*in_dir)->abort();

  app::ListenOptions to_file;
  to_file.output = dir / "out.bin";
  auto file = output_sinks(&l.loop, to_file)(&meta); // a file's own name does not matter
  BOOST_REQUIRE(file.ok());
  BOOST_TEST((*file)->name() == dir / "out.bin");
  (*file)->abort();
}

BOOST_AUTO_TEST_CASE(no_clobber_is_passed_on) {
  TempDir dir;
  Loop l;
  std::ofstream(dir / "there") << "x";
  app::ListenOptions o;
  o.output = dir / "there";
  o.no_clobber = true;
  auto sink = output_sinks(&l.loop, o)(nullptr);
  BOOST_REQUIRE(!sink.ok());
  BOOST_TEST(sink.error().message().find("--no-clobber") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
