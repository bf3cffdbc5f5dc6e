// qpipe-docgen: prints the man page or a shell completion generated from the
// option table. scripts/gen-docs runs it; tests/e2e/docs_test.sh checks that
// the committed files match its output.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/docgen.h"
#include "core/fs.h"
#include "version.h"

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "";
  if (what == "man" && argc == 3) {
    std::ifstream in(argv[2]);
    if (!in) {
      std::cerr << "qpipe-docgen: " << argv[2] << ": cannot open\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string dir = qpipe::split_path(argv[2]).dir;
    bool missing = false;
    std::string page =
        qpipe::cli::render_man_page(ss.str(), QPIPE_VERSION, [&](const std::string& name) {
          std::ifstream f(dir + "/" + name);
          if (!f) missing = true;
          std::stringstream t;
          t << f.rdbuf();
          return t.str();
        });
    if (missing) {
      std::cerr << "qpipe-docgen: an @INCLUDE file is missing next to " << argv[2] << "\n";
      return 1;
    }
    std::cout << page;
  } else if (what == "bash") {
    std::cout << qpipe::cli::bash_completion();
  } else if (what == "zsh") {
    std::cout << qpipe::cli::zsh_completion();
  } else if (what == "fish") {
    std::cout << qpipe::cli::fish_completion();
  } else {
    std::cerr << "usage: qpipe-docgen man TEMPLATE | bash | zsh | fish\n";
    return 2;
  }
  return std::cout.good() ? 0 : 1;
}
