// Tests of the file-system helpers (src/core/fs.h): the descriptor owner,
// path splitting, following symlinks, the umask, reading whole files
// (ordinary and private), atomic replacement, private directories and their
// lock, and the chmod hint.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

namespace qpipe {
namespace {

namespace fs = std::filesystem;

// A per-test directory (tests/unit/temp_dir.h).
struct TempDir : qpipe::test::TempDir {
  TempDir() : qpipe::test::TempDir("qpipe-fs") {}
};

using qpipe::test::mode_of;
using qpipe::test::names_in;
using qpipe::test::write_file;

// True while fd names an open file description.
bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

// Whether an exclusive flock() on dir can be taken right now through a
// descriptor of its own (flock locks belong to the open file description).
bool can_lock(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  BOOST_REQUIRE(fd);
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

void check_split(const std::string& path, const std::string& dir, const std::string& base) {
  BOOST_TEST_INFO("'" << path << "'");
  PathParts p = split_path(path);
  BOOST_TEST(p.dir == dir);
  BOOST_TEST(p.base == base);
}

} // namespace

BOOST_AUTO_TEST_SUITE(file_system)

BOOST_AUTO_TEST_CASE(split_path_splits_at_the_last_slash) {
  check_split("a/b/c", "a/b", "c");
  check_split("dir/file.txt", "dir", "file.txt");
  check_split("/abs/dir/file", "/abs/dir", "file");
  check_split("./x", ".", "x");
  check_split("../x", "..", "x");
  check_split(".hidden", ".", ".hidden");
}

BOOST_AUTO_TEST_CASE(split_path_edge_cases) {
  check_split("file", ".", "file"); // no slash: the current directory
  check_split("", ".", "");
  check_split("/file", "/", "file"); // a file in the root
  check_split("/", "/", "");
  check_split("dir/", "dir", ""); // a trailing slash: no name
  check_split("a//b", "a/", "b"); // no normalisation
  check_split("//b", "/", "b");
}

BOOST_AUTO_TEST_CASE(follow_symlinks_reaches_the_target_even_a_missing_one) {
  TempDir dir;
  fs::create_directory(dir / "sub");
  BOOST_REQUIRE(::symlink("sub/target", (dir / "rel").c_str()) == 0);
  BOOST_REQUIRE(::symlink((dir / "rel").c_str(), (dir / "abs").c_str()) == 0);
  BOOST_REQUIRE(::symlink("../elsewhere", (dir / "sub/up").c_str()) == 0);
  BOOST_REQUIRE(::symlink("loop", (dir / "loop").c_str()) == 0);
  BOOST_TEST(*follow_symlinks(dir / "plain") == dir / "plain"); // not a link: as it is
  BOOST_TEST(*follow_symlinks(dir / "rel") == dir / "sub/target");
  BOOST_TEST(*follow_symlinks(dir / "abs") == dir / "sub/target");
  BOOST_TEST(*follow_symlinks(dir / "sub/up") == dir / "sub/../elsewhere");
  auto looped = follow_symlinks(dir / "loop");
  BOOST_REQUIRE(!looped.ok());
  BOOST_TEST(looped.error().why == std::strerror(ELOOP));
}

BOOST_AUTO_TEST_CASE(current_umask_reads_without_changing_it) {
  mode_t old = ::umask(027);
  BOOST_TEST(current_umask() == 027u);
  BOOST_TEST(current_umask() == 027u);
  ::umask(old);
}

BOOST_AUTO_TEST_CASE(unique_fd_closes_what_it_owns) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(raw >= 0);
  {
    UniqueFd fd(raw);
    BOOST_TEST(fd.get() == raw);
    BOOST_TEST(static_cast<bool>(fd));
    BOOST_TEST(is_open(raw));
  }
  BOOST_TEST(!is_open(raw));

  UniqueFd empty;
  BOOST_TEST(!empty);
  BOOST_TEST(empty.get() == -1);
}

BOOST_AUTO_TEST_CASE(unique_fd_release_move_and_reset) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(raw >= 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    BOOST_TEST(!a); // a moved-from owner is empty
    BOOST_TEST(b.get() == raw);
    UniqueFd c;
    c = std::move(b);
    BOOST_TEST(c.get() == raw);
    BOOST_TEST(c.release() == raw);
    BOOST_TEST(!c);
  }
  BOOST_TEST(is_open(raw)); // released: still open
  {
    UniqueFd d(raw);
    int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(other >= 0);
    d.reset(other); // closes raw
    BOOST_TEST(!is_open(raw));
    BOOST_TEST(d.get() == other);
    d = UniqueFd(); // closes other
    BOOST_TEST(!is_open(other));
  }
}

BOOST_AUTO_TEST_CASE(unique_fd_close_reports_and_destruction_keeps_errno) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  BOOST_REQUIRE(fd);
  int raw = fd.get();
  BOOST_TEST(fd.close() == 0);
  BOOST_TEST(!fd);
  BOOST_TEST(!is_open(raw));
  BOOST_TEST(fd.close() == -1); // nothing to close

  {
    UniqueFd other(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    BOOST_REQUIRE(other);
    errno = ENOSPC; // what a failed call left for the error path to report
  }
  BOOST_TEST(errno == ENOSPC);
}

BOOST_AUTO_TEST_CASE(read_file_reads_a_whole_small_file) {
  TempDir dir;
  const std::string f = dir / "f";
  write_file(f, std::string("line\n\0binary", 12), 0644); // others may read it: fine
  auto data = read_file(f, 12);
  BOOST_REQUIRE(data.ok());
  BOOST_TEST(*data == std::string("line\n\0binary", 12));

  write_file(f, "", 0644);
  BOOST_TEST(read_file(f, 0)->empty());
}

BOOST_AUTO_TEST_CASE(read_file_refuses_large_files_directories_and_missing_files) {
  TempDir dir;
  const std::string f = dir / "f";
  write_file(f, std::string(13, 'x'), 0644);
  auto big = read_file(f, 12);
  BOOST_REQUIRE(!big.ok());
  BOOST_TEST(static_cast<int>(big.error().code) == static_cast<int>(Errc::usage));
  BOOST_TEST(big.error().what == f);
  BOOST_TEST(big.error().why.find("larger than 12 bytes") != std::string::npos);

  auto d = read_file(dir.path, 100);
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(static_cast<int>(d.error().code) == static_cast<int>(Errc::usage));

  auto missing = read_file(dir / "nope", 100);
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(static_cast<int>(missing.error().code) == static_cast<int>(Errc::usage));
  BOOST_TEST(missing.error().what == dir / "nope");
}

BOOST_AUTO_TEST_CASE(read_private_file_refuses_open_permissions_and_large_files) {
  TempDir dir;
  const std::string f = dir / "key";
  write_file(f, "private", 0600);
  BOOST_TEST(*read_private_file(f, 100) == "private");
  write_file(f, "private", 0400);
  BOOST_TEST(*read_private_file(f, 100) == "private");

  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0610, 0601}) {
    write_file(f, "private", mode);
    auto r = read_private_file(f, 100);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(Errc::usage));
    BOOST_TEST(r.error().what == f);
    BOOST_TEST(r.error().why.find("too open") != std::string::npos);
    BOOST_TEST(r.error().why.find(chmod_hint(f)) != std::string::npos);
  }

  write_file(f, std::string(101, 'x'), 0600);
  auto big = read_private_file(f, 100);
  BOOST_REQUIRE(!big.ok());
  BOOST_TEST(static_cast<int>(big.error().code) == static_cast<int>(Errc::usage));

  auto missing = read_private_file(dir / "nope", 100);
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(static_cast<int>(missing.error().code) == static_cast<int>(Errc::usage));
}

BOOST_AUTO_TEST_CASE(wipe_clears_the_string) {
  std::string s = "a secret";
  wipe(s);
  BOOST_TEST(s.empty());
  std::string empty;
  wipe(empty);
  BOOST_TEST(empty.empty());
}

BOOST_AUTO_TEST_CASE(dir_lock_makes_the_directory_and_holds_the_lock) {
  TempDir dir;
  const std::string d = dir / "a/b";
  mode_t old_umask = ::umask(022);
  {
    auto lock = DirLock::acquire(d);
    ::umask(old_umask);
    BOOST_REQUIRE(lock.ok());
    BOOST_TEST(mode_of(d) == 0700u);
    BOOST_TEST(!can_lock(d)); // held
    DirLock moved = std::move(*lock);
    BOOST_TEST(!can_lock(d)); // still held by the moved-to lock
  }
  BOOST_TEST(can_lock(d)); // released with the lock object

  write_file(dir / "file", "", 0600);
  auto bad = DirLock::acquire(dir / "file");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(static_cast<int>(bad.error().code) == static_cast<int>(Errc::local_io));
}

BOOST_AUTO_TEST_CASE(write_file_atomic_replaces_with_the_exact_mode) {
  TempDir dir;
  const std::string f = dir / "out";
  mode_t old_umask = ::umask(022);
  BOOST_REQUIRE(write_file_atomic(f, "first", 0600).ok());
  BOOST_TEST(mode_of(f) == 0600u);
  BOOST_REQUIRE(write_file_atomic(f, "second", 0644).ok());
  ::umask(old_umask);
  BOOST_TEST(mode_of(f) == 0644u);
  std::ifstream in(f);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(content == "second");
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"out"},
             boost::test_tools::per_element()); // no temporary file left

  // A directory that does not exist: an error, and nothing written.
  Status s = write_file_atomic(dir / "missing/out", "x", 0600);
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(static_cast<int>(s.error().code) == static_cast<int>(Errc::local_io));
  // A target that cannot be replaced (a non-empty directory): the temporary
  // file is removed.
  fs::create_directory(dir / "sub");
  write_file(dir / "sub/x", "", 0600);
  BOOST_REQUIRE(!write_file_atomic(dir / "sub", "x", 0600).ok());
  BOOST_TEST(names_in(dir.path) == (std::vector<std::string>{"out", "sub"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(make_private_dirs_creates_parents_0700) {
  TempDir dir;
  mode_t old_umask = ::umask(022);
  Status s = make_private_dirs(dir / "a/b//c/");
  ::umask(old_umask);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(mode_of(dir / "a") == 0700u);
  BOOST_TEST(mode_of(dir / "a/b") == 0700u);
  BOOST_TEST(mode_of(dir / "a/b/c") == 0700u);
  BOOST_TEST(make_private_dirs(dir / "a/b/c").ok()); // existing: fine

  write_file(dir / "file", "", 0600);
  Status bad = make_private_dirs(dir / "file/sub");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(static_cast<int>(bad.error().code) == static_cast<int>(Errc::local_io));
}

BOOST_AUTO_TEST_CASE(chmod_hint_quotes_only_when_needed) {
  BOOST_TEST(chmod_hint("/home/u/.local/share/qpipe/identity.key") ==
             "chmod 600 /home/u/.local/share/qpipe/identity.key");
  BOOST_TEST(chmod_hint("/tmp/my secret") == "chmod 600 '/tmp/my secret'");
  BOOST_TEST(chmod_hint("/tmp/it's") == "chmod 600 '/tmp/it'\\''s'");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe
