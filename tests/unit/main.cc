#define BOOST_TEST_MODULE qpipe
#include <boost/test/unit_test.hpp>

#include <cstdlib>

// The unit tests never read the files of whoever runs them: the XDG base
// directories point where nothing exists, so that a config file
// ($XDG_CONFIG_HOME/qpipe/config) with `Host *` settings cannot change what
// parse_command_line returns. Tests that need these variables set their own.
struct NoUserFiles {
  NoUserFiles() {
    ::setenv("XDG_CONFIG_HOME", "/nonexistent/qpipe-unit-tests/config", 1);
    ::setenv("XDG_DATA_HOME", "/nonexistent/qpipe-unit-tests/data", 1);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(NoUserFiles);
