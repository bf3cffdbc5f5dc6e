// qpipe-docgen: prints the man page or a shell completion generated from the
// option table. scripts/gen-docs runs it; tests/e2e/docs_test.sh checks that
// the committed files match its output.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/docgen.h"
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
    std::cout << qpipe::cli::render_man_page(ss.str(), QPIPE_VERSION);
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
