// Tests of the file sources and sinks (src/uv/fd_io.h) on a real loop: a
// FileSink commits by renaming its temporary into place with the file's mode
// and mtime, leaves nothing behind on abort, refuses to replace a file with
// --no-clobber, and keeps and extends the partial file of --resume, which
// one transfer at a time may hold (PartialFile); a DeviceSink writes straight
// into a FIFO or a socket. Every test ends with uv_loop_close() == 0, so no
// handle or request is leaked.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "uv/fd_io.h"

namespace qpipe::uvx {
namespace {

using qpipe::test::contents_of;
using qpipe::test::mode_of;
using qpipe::test::names_in;
using qpipe::test::write_file;

// A per-test directory and loop; the loop must close cleanly at the end.
struct Fixture {
  qpipe::test::TempDir dir{"qpipe-fd-io"};
  uv_loop_t loop;
  Fixture() { BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0); }
  ~Fixture() {
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_TEST(uv_loop_close(&loop) == 0); // nothing leaked
  }
};

// Writes data through the sink and runs the loop until the write is done;
// returns what the write reported (0 or a negative errno).
int write_all(uv_loop_t* loop, ByteSink& sink, std::string_view data) {
  int result = 1; // not called back
  iovec part{const_cast<char*>(data.data()), data.size()};
  sink.write(std::span<const iovec>(&part, 1), [&](int status) { result = status; });
  uv_run(loop, UV_RUN_DEFAULT);
  return result;
}

// Reads the source to its end through the loop.
std::string read_all(uv_loop_t* loop, ByteSource& source) {
  std::string out;
  std::vector<uint8_t> buf(4);
  for (bool eof = false; !eof;) {
    ReadResult got{0, false, 1};
    source.read(buf, [&](ReadResult r) { got = r; });
    uv_run(loop, UV_RUN_DEFAULT);
    BOOST_REQUIRE_EQUAL(got.error, 0);
    out.append(reinterpret_cast<const char*>(buf.data()), got.bytes);
    eof = got.eof;
  }
  return out;
}

std::unique_ptr<FileSink> sink_in(Fixture& f, const std::string& name,
                                  const FileSinkOptions& opts = {}) {
  auto sink = FileSink::create_in(&f.loop, f.dir.path, name, opts);
  BOOST_REQUIRE(sink.ok());
  return std::move(*sink);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_temporary_of(const std::string& entry, const std::string& name) {
  return entry.rfind("." + name + ".qpipe-", 0) == 0;
}

void check_local_io(const Status& s) {
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::local_io));
}

} // namespace

BOOST_AUTO_TEST_SUITE(fd_io)

BOOST_FIXTURE_TEST_CASE(commit_renames_the_temporary_into_place_with_mode_and_mtime, Fixture) {
  FileSinkOptions opts;
  opts.mode = 0640;
  opts.mtime = timespec{1'000'000'000, 123'456'789};
  auto sink = sink_in(*this, "out.bin", opts);
  BOOST_TEST(sink->name() == dir / "out.bin");

  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "hello, "), 0);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "world"), 0);
  // Until the commit, only the temporary exists.
  auto before = names_in(dir.path);
  BOOST_REQUIRE_EQUAL(before.size(), 1u);
  BOOST_TEST(is_temporary_of(before[0], "out.bin"));

  BOOST_REQUIRE(sink->commit().ok());
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"out.bin"},
             boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "out.bin") == "hello, world");
  BOOST_TEST(mode_of(dir / "out.bin") == 0640u);
  struct stat st;
  BOOST_REQUIRE_EQUAL(::stat((dir / "out.bin").c_str(), &st), 0);
  BOOST_TEST(st.st_mtim.tv_sec == 1'000'000'000);
  BOOST_TEST(st.st_mtim.tv_nsec == 123'456'789);

  sink.reset(); // destruction after a commit changes nothing
  BOOST_TEST(contents_of(dir / "out.bin") == "hello, world");
}

BOOST_FIXTURE_TEST_CASE(commit_with_sync_and_without_mode_or_mtime, Fixture) {
  mode_t old_umask = ::umask(022);
  FileSinkOptions opts;
  opts.sync = true;
  auto sink = sink_in(*this, "plain", opts);
  ::umask(old_umask);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "data"), 0);
  BOOST_REQUIRE(sink->commit().ok());
  BOOST_TEST(contents_of(dir / "plain") == "data");
  BOOST_TEST(mode_of(dir / "plain") == 0644u); // 0666 less the umask
}

BOOST_FIXTURE_TEST_CASE(commit_replaces_an_existing_file_and_a_symlink_is_not_followed, Fixture) {
  write_file(dir / "out", "old", 0644);
  auto sink = sink_in(*this, "out");
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "new"), 0);
  BOOST_REQUIRE(sink->commit().ok());
  BOOST_TEST(contents_of(dir / "out") == "new");

  write_file(dir / "victim", "untouched", 0644);
  BOOST_REQUIRE_EQUAL(::symlink("victim", (dir / "link").c_str()), 0);
  auto via_link = sink_in(*this, "link");
  BOOST_REQUIRE_EQUAL(write_all(&loop, *via_link, "replaced"), 0);
  BOOST_REQUIRE(via_link->commit().ok());
  struct stat st;
  BOOST_REQUIRE_EQUAL(::lstat((dir / "link").c_str(), &st), 0);
  BOOST_TEST(S_ISREG(st.st_mode)); // the link itself was replaced
  BOOST_TEST(contents_of(dir / "link") == "replaced");
  BOOST_TEST(contents_of(dir / "victim") == "untouched");
}

BOOST_FIXTURE_TEST_CASE(abort_leaves_nothing_behind, Fixture) {
  auto sink = sink_in(*this, "out");
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "partial data"), 0);
  sink->abort();
  BOOST_TEST(names_in(dir.path).empty());
  sink.reset(); // a second abort, by the destructor, is harmless
  BOOST_TEST(names_in(dir.path).empty());
}

BOOST_FIXTURE_TEST_CASE(destruction_without_commit_aborts, Fixture) {
  write_file(dir / "out", "before", 0600);
  {
    auto sink = sink_in(*this, "out");
    BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "never shown"), 0);
  }
  // The final name keeps what it had; no temporary is left.
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"out"},
             boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "out") == "before");
}

BOOST_FIXTURE_TEST_CASE(no_clobber_refuses_an_existing_target_and_leaves_it_untouched, Fixture) {
  write_file(dir / "out", "precious", 0600);
  FileSinkOptions opts;
  opts.no_clobber = true;
  auto refused = FileSink::create_in(&loop, dir.path, "out", opts);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(static_cast<int>(refused.error().code) == static_cast<int>(Errc::local_io));
  BOOST_TEST(refused.error().what == dir / "out");
  BOOST_TEST(refused.error().why == "exists (and --no-clobber was given)");
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"out"},
             boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "out") == "precious");

  // A dangling symlink under the name counts as existing too.
  BOOST_REQUIRE_EQUAL(::symlink("nowhere", (dir / "link").c_str()), 0);
  BOOST_TEST(!FileSink::create_in(&loop, dir.path, "link", opts).ok());
}

BOOST_FIXTURE_TEST_CASE(no_clobber_refuses_a_target_that_appears_before_the_commit, Fixture) {
  FileSinkOptions opts;
  opts.no_clobber = true;
  auto sink = sink_in(*this, "out", opts);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "late"), 0);
  write_file(dir / "out", "first", 0600); // another writer got there first
  Status s = sink->commit();
  check_local_io(s);
  BOOST_TEST(s.error().why == "exists (and --no-clobber was given)");
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"out"},
             boost::test_tools::per_element()); // the temporary is gone
  BOOST_TEST(contents_of(dir / "out") == "first");
}

BOOST_FIXTURE_TEST_CASE(resumable_keeps_the_partial_file_under_its_fixed_name, Fixture) {
  FileSinkOptions opts;
  opts.resumable = true;
  const std::string partial = partial_name("big.iso");
  BOOST_TEST(partial == ".big.iso.qpipe-partial");
  {
    auto sink = sink_in(*this, "big.iso", opts);
    BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "0123456789"), 0);
    sink->abort();
  }
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{partial},
             boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / partial) == "0123456789");

  // Destruction without commit keeps it as well.
  opts.start_offset = 10;
  {
    auto sink = sink_in(*this, "big.iso", opts);
    BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "abc"), 0);
  }
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{partial},
             boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / partial) == "0123456789abc");
}

BOOST_FIXTURE_TEST_CASE(resumable_appends_at_start_offset_and_commits, Fixture) {
  write_file(dir / partial_name("f"), "0123456789", 0600);
  FileSinkOptions opts;
  opts.resumable = true;
  opts.start_offset = 4; // only the first 4 bytes matched the source
  opts.mode = 0600;
  auto sink = sink_in(*this, "f", opts);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "abc"), 0);
  BOOST_REQUIRE(sink->commit().ok());
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"f"}, boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "f") == "0123abc");
  BOOST_TEST(mode_of(dir / "f") == 0600u);
}

BOOST_FIXTURE_TEST_CASE(resumable_starts_a_new_partial_file_at_zero, Fixture) {
  FileSinkOptions opts;
  opts.resumable = true;
  auto sink = sink_in(*this, "f", opts);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "all"), 0);
  BOOST_REQUIRE(sink->commit().ok());
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"f"}, boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "f") == "all");
}

BOOST_FIXTURE_TEST_CASE(create_splits_a_path_and_refuses_directory_names, Fixture) {
  auto sink = FileSink::create(&loop, dir / "named");
  BOOST_REQUIRE(sink.ok());
  BOOST_TEST((*sink)->name() == dir / "named");
  BOOST_REQUIRE_EQUAL(write_all(&loop, **sink, "x"), 0);
  BOOST_REQUIRE((*sink)->commit().ok());
  BOOST_TEST(contents_of(dir / "named") == "x");

  for (const std::string& path : {dir / "", dir / ".", dir / "..", dir.path}) {
    BOOST_TEST_INFO(path);
    auto bad = FileSink::create(&loop, path);
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(static_cast<int>(bad.error().code) == static_cast<int>(Errc::usage));
  }
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"named"},
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_missing_directory_is_a_local_error, Fixture) {
  auto sink = FileSink::create_in(&loop, dir / "missing", "f", {});
  BOOST_REQUIRE(!sink.ok());
  BOOST_TEST(static_cast<int>(sink.error().code) == static_cast<int>(Errc::local_io));
  BOOST_TEST(sink.error().what == dir / "missing");
  BOOST_TEST(!exists(dir / "missing"));
}

BOOST_FIXTURE_TEST_CASE(a_file_source_reads_the_file_and_knows_its_size, Fixture) {
  write_file(dir / "in", "0123456789", 0600);
  auto src = FdSource::open_file(&loop, dir / "in");
  BOOST_REQUIRE(src.ok());
  BOOST_TEST((*src)->size().value_or(0) == 10u);
  BOOST_REQUIRE((*src)->skip(3).ok());
  BOOST_TEST((*src)->size().value_or(0) == 7u);
  BOOST_TEST(read_all(&loop, **src) == "3456789");

  auto missing = FdSource::open_file(&loop, dir / "nope");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(static_cast<int>(missing.error().code) == static_cast<int>(Errc::local_io));
}

BOOST_FIXTURE_TEST_CASE(digest_prefix_hashes_the_first_bytes, Fixture) {
  write_file(dir / "long", "0123456789", 0600);
  write_file(dir / "short", "0123", 0600);
  auto a = digest_prefix(dir / "long", 4);
  auto b = digest_prefix(dir / "short", 4);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST(*a == *b);
  BOOST_TEST(*digest_prefix(dir / "long", 5) != *b);
  // Fewer bytes than asked for: an error, not the digest of what is there.
  auto past_end = digest_prefix(dir / "short", 5);
  BOOST_REQUIRE(!past_end.ok());
  BOOST_TEST(static_cast<int>(past_end.error().code) == static_cast<int>(Errc::local_io));
}

BOOST_FIXTURE_TEST_CASE(one_transfer_at_a_time_holds_a_part, Fixture) {
  write_file(dir / partial_name("f"), "kept", 0600);
  auto first = PartialFile::claim(dir.path, "f");
  BOOST_REQUIRE(first.ok());
  BOOST_TEST((*first)->size() == 4u);
  auto second = PartialFile::claim(dir.path, "f");
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST(static_cast<int>(second.error().code) == static_cast<int>(Errc::transfer));
  BOOST_TEST(second.error().message() ==
             dir / "f" +
                 ": another transfer is writing this file (--resume); try again when it is done");
  // A sink that has to claim the part itself is refused the same way.
  FileSinkOptions opts;
  opts.resumable = true;
  BOOST_TEST(!FileSink::create_in(&loop, dir.path, "f", opts).ok());
  first->reset(); // let go: kept, since it holds bytes
  BOOST_TEST(contents_of(dir / partial_name("f")) == "kept");
  BOOST_TEST(PartialFile::claim(dir.path, "f").ok());
}

BOOST_FIXTURE_TEST_CASE(an_empty_part_is_removed_when_let_go, Fixture) {
  {
    auto part = PartialFile::claim(dir.path, "new");
    BOOST_REQUIRE(part.ok());
    BOOST_TEST(names_in(dir.path) == std::vector<std::string>{partial_name("new")},
               boost::test_tools::per_element());
  }
  BOOST_TEST(names_in(dir.path).empty());
}

BOOST_FIXTURE_TEST_CASE(a_sink_appends_to_the_part_claimed_for_the_offer, Fixture) {
  write_file(dir / partial_name("f"), "0123456789", 0600);
  auto part = PartialFile::claim(dir.path, "f");
  BOOST_REQUIRE(part.ok());
  BOOST_TEST(*(*part)->digest_prefix(4) == *digest_prefix(dir / partial_name("f"), 4));
  FileSinkOptions opts;
  opts.resumable = true;
  opts.start_offset = 4;
  opts.partial = *part;
  auto sink = sink_in(*this, "f", opts);
  BOOST_REQUIRE_EQUAL(write_all(&loop, *sink, "abc"), 0);
  BOOST_REQUIRE(sink->commit().ok());
  part->reset(); // renamed into place: nothing is removed
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"f"}, boost::test_tools::per_element());
  BOOST_TEST(contents_of(dir / "f") == "0123abc");
}

BOOST_FIXTURE_TEST_CASE(a_device_sink_writes_into_a_fifo_without_replacing_it, Fixture) {
  const std::string fifo = dir / "fifo";
  BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK));
  BOOST_REQUIRE(reader);
  DeviceSink sink(&loop, fifo, false);
  BOOST_REQUIRE_EQUAL(write_all(&loop, sink, "through the fifo"), 0);
  BOOST_REQUIRE(sink.commit().ok());
  char buf[64];
  ssize_t n = ::read(reader.get(), buf, sizeof buf);
  BOOST_TEST(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "through the fifo");
  BOOST_TEST(::read(reader.get(), buf, sizeof buf) == 0); // the writer closed: end of data
  struct stat st;
  BOOST_REQUIRE_EQUAL(::lstat(fifo.c_str(), &st), 0);
  BOOST_TEST(S_ISFIFO(st.st_mode));
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"fifo"},
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_device_sink_waits_for_a_reader_until_cancelled, Fixture) {
  const std::string fifo = dir / "fifo";
  BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  DeviceSink sink(&loop, fifo, false);
  int result = 1;
  iovec part{const_cast<char*>("x"), 1};
  sink.write(std::span<const iovec>(&part, 1), [&](int st) { result = st; });
  uv_run(&loop, UV_RUN_NOWAIT);
  BOOST_TEST(result == 1); // still waiting for a reader
  sink.cancel();
  uv_run(&loop, UV_RUN_DEFAULT);
  BOOST_TEST(result == UV_ECANCELED);
  // An empty stream still opens and closes the FIFO: its reader sees the end.
  UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK));
  DeviceSink empty(&loop, fifo, true);
  BOOST_REQUIRE(empty.commit().ok());
}

BOOST_FIXTURE_TEST_CASE(a_device_sink_connects_to_a_socket, Fixture) {
  const std::string path = dir / "sock";
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  BOOST_REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  BOOST_REQUIRE_EQUAL(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  BOOST_REQUIRE_EQUAL(::listen(server.get(), 1), 0);
  DeviceSink sink(&loop, path, false);
  BOOST_REQUIRE_EQUAL(write_all(&loop, sink, "over the socket"), 0);
  BOOST_REQUIRE(sink.commit().ok());
  UniqueFd conn(::accept(server.get(), nullptr, nullptr));
  BOOST_REQUIRE(conn);
  std::string got;
  char buf[64];
  for (ssize_t n; (n = ::read(conn.get(), buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<size_t>(n));
  BOOST_TEST(got == "over the socket");
}

// A pipe is grown to 1 MiB for big reads and writes, and never shrunk: the
// producer may have made it larger.
BOOST_AUTO_TEST_CASE(enlarge_pipe_grows_a_small_pipe_and_never_shrinks_one) {
  int p[2];
  BOOST_REQUIRE_EQUAL(::pipe(p), 0);
  BOOST_REQUIRE_EQUAL(::fcntl(p[0], F_SETPIPE_SZ, 4096), 4096);
  enlarge_pipe(p[0]);
  BOOST_TEST(::fcntl(p[0], F_GETPIPE_SZ) == 1 << 20);
  ::close(p[0]);
  ::close(p[1]);

  BOOST_REQUIRE_EQUAL(::pipe(p), 0);
  // Past /proc/sys/fs/pipe-max-size (1 MiB by default) only with
  // CAP_SYS_RESOURCE; without it there is no larger pipe to keep.
  if (::fcntl(p[1], F_SETPIPE_SZ, 2 << 20) < 0) {
    BOOST_TEST_MESSAGE("skipped the larger pipe: no pipe above 1 MiB may be made here");
  } else {
    enlarge_pipe(p[0]);
    BOOST_TEST(::fcntl(p[0], F_GETPIPE_SZ) == 2 << 20);
  }
  ::close(p[0]);
  ::close(p[1]);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::uvx
