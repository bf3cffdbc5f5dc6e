// Tests of where a listener started by a front end writes
// (src/frontend/output.h): the directory decision and the sink it leads to.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
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
  BOOST_REQUIRE(output_sinks(&l.loop, none).ok());
  BOOST_TEST(!none.output_is_directory);

  app::ListenOptions into_dir;
  into_dir.output = dir.path;
  BOOST_REQUIRE(output_sinks(&l.loop, into_dir).ok());
  BOOST_TEST(into_dir.output_is_directory);

  app::ListenOptions to_file;
  to_file.output = dir / "new.bin"; // not there yet: a file to create
  BOOST_REQUIRE(output_sinks(&l.loop, to_file).ok());
  BOOST_TEST(!to_file.output_is_directory);
  BOOST_TEST(!to_file.output_is_device);
}

BOOST_AUTO_TEST_CASE(sinks_for_stdout_a_file_and_a_directory) {
  TempDir dir;
  Loop l;
  app::FileMeta meta;
  meta.name = "a.txt";

  app::ListenOptions none;
  auto out = (*output_sinks(&l.loop, none))(nullptr);
  BOOST_REQUIRE(out.ok());
  BOOST_TEST((*out)->name() == "stdout");

  app::ListenOptions into_dir;
  into_dir.output = dir.path;
  auto in_dir = (*output_sinks(&l.loop, into_dir))(&meta);
  BOOST_REQUIRE(in_dir.ok());
  BOOST_TEST((*in_dir)->name() == dir / "a.txt");
  (*in_dir)->abort();

  app::ListenOptions to_file;
  to_file.output = dir / "out.bin";
  auto file = (*output_sinks(&l.loop, to_file))(&meta); // a file's own name does not matter
  BOOST_REQUIRE(file.ok());
  BOOST_TEST((*file)->name() == dir / "out.bin");
  (*file)->abort();
}

BOOST_AUTO_TEST_CASE(no_clobber_is_refused_before_listening) {
  TempDir dir;
  Loop l;
  std::ofstream(dir / "there") << "x";
  app::ListenOptions o;
  o.output = dir / "there";
  o.no_clobber = true;
  auto sinks = output_sinks(&l.loop, o);
  BOOST_REQUIRE(!sinks.ok());
  BOOST_TEST(sinks.error().message() == dir / "there" + ": exists (and --no-clobber was given)");
  BOOST_TEST(static_cast<int>(sinks.error().code) == static_cast<int>(Errc::local_io));
  // A file that appears after the listener started is refused by the sink.
  o.output = dir / "later";
  auto later = output_sinks(&l.loop, o);
  BOOST_REQUIRE(later.ok());
  std::ofstream(dir / "later") << "x";
  auto sink = (*later)(nullptr);
  BOOST_REQUIRE(!sink.ok());
  BOOST_TEST(sink.error().message().find("--no-clobber") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(outputs_that_cannot_be_written_are_refused_with_the_reason) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir / "missing/out.bin",
       dir / "missing/out.bin: directory " + dir / "missing" + " does not exist"},
      {dir / "missing/", dir / "missing/: no such directory"},
      {dir / "file/out.bin", dir / "file/out.bin: Not a directory"},
  };
  for (const auto& [path, message] : cases) {
    BOOST_TEST_INFO(path);
    auto t = check_output(path, false);
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().message() == message);
    BOOST_TEST(static_cast<int>(t.error().code) == static_cast<int>(Errc::local_io));
  }
  if (::geteuid() != 0) { // root may write anywhere
    std::filesystem::create_directory(dir / "ro");
    ::chmod((dir / "ro").c_str(), 0555);
    auto t = check_output(dir / "ro/out.bin", false);
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().why == "cannot create files in " + dir / "ro" + ": Permission denied");
    BOOST_TEST(!check_output(dir / "ro", false).ok()); // files cannot land in it either
  }
}

BOOST_AUTO_TEST_CASE(what_each_kind_of_path_becomes) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  std::filesystem::create_directory(dir / "sub");
  BOOST_REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  BOOST_REQUIRE(::symlink("file", (dir / "to-file").c_str()) == 0);
  BOOST_REQUIRE(::symlink("sub", (dir / "to-dir").c_str()) == 0);
  BOOST_REQUIRE(::symlink("sub/new.bin", (dir / "dangling").c_str()) == 0);
  BOOST_REQUIRE(::symlink("fifo", (dir / "to-fifo").c_str()) == 0);
  auto kind = [](const std::string& p) {
    auto t = check_output(p, false);
    BOOST_REQUIRE(t.ok());
    return std::make_pair(static_cast<int>(t->kind), t->path);
  };
  auto expect = [](OutputKind k, const std::string& p) {
    return std::make_pair(static_cast<int>(k), p);
  };
  std::string real = std::filesystem::canonical(dir.path).string();
  BOOST_TEST((kind(dir / "file") == expect(OutputKind::file, dir / "file")));
  BOOST_TEST((kind(dir / "new.bin") == expect(OutputKind::file, dir / "new.bin")));
  BOOST_TEST((kind(dir / "sub") == expect(OutputKind::directory, dir / "sub")));
  BOOST_TEST((kind(dir / "sub/") == expect(OutputKind::directory, dir / "sub/")));
  BOOST_TEST((kind(dir / "fifo") == expect(OutputKind::device, dir / "fifo")));
  // A symlink the user names is followed: its target is written.
  BOOST_TEST((kind(dir / "to-file") == expect(OutputKind::file, real + "/file")));
  BOOST_TEST((kind(dir / "to-dir") == expect(OutputKind::directory, dir / "to-dir")));
  BOOST_TEST((kind(dir / "dangling") == expect(OutputKind::file, dir / "sub/new.bin")));
  BOOST_TEST((kind(dir / "to-fifo") == expect(OutputKind::device, dir / "to-fifo")));
  BOOST_TEST(!check_output(std::string(), false).ok());
  BOOST_TEST((static_cast<int>(check_output(std::nullopt, false)->kind) ==
              static_cast<int>(OutputKind::standard_output)));
  // --no-clobber refuses an existing regular file, not a FIFO it writes into.
  BOOST_TEST(!check_output(dir / "to-file", true).ok());
  BOOST_TEST(check_output(dir / "fifo", true).ok());
}

BOOST_AUTO_TEST_CASE(a_fifo_named_by_o_gets_a_device_sink) {
  TempDir dir;
  Loop l;
  BOOST_REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  app::ListenOptions o;
  o.output = dir / "fifo";
  o.resume = true;
  auto sinks = output_sinks(&l.loop, o);
  BOOST_REQUIRE(sinks.ok());
  BOOST_TEST(o.output_is_device);
  auto sink = (*sinks)(nullptr);
  BOOST_REQUIRE(sink.ok());
  BOOST_TEST(dynamic_cast<uvx::DeviceSink*>(sink->get()) != nullptr);
  BOOST_TEST((*sink)->commit().ok()); // no reader: nothing to deliver, nothing made
  BOOST_TEST(qpipe::test::names_in(dir.path) == std::vector<std::string>{"fifo"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(received_modes_respect_the_listener) {
  // sender's mode, umask, --keep-modes -> the file's mode
  const struct {
    uint32_t sender;
    mode_t umask;
    bool keep;
    uint32_t expected;
  } cases[] = {
      {04777, 077, false, 0700}, // the case
      {0777, 022, false, 0755},  {0777, 002, false, 0775 & ~022u}, {0666, 0, false, 0644},
      {0640, 022, false, 0640},  {07777, 077, true, 0777},         {0666, 077, true, 0666},
      {0600, 022, true, 0600},
  };
  for (const auto& c : cases) {
    BOOST_TEST_INFO(c.sender << " " << c.umask << " " << c.keep);
    BOOST_TEST(received_mode(c.sender, c.umask, c.keep) == c.expected);
  }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::frontend
