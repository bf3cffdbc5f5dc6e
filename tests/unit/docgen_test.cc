// Tests of the generated documentation (src/cli/docgen.h): every option of the
// table reaches the man page and the three completions, and the plain text to
// roff conversion used for @INCLUDE@ files.
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli/config_file.h"
#include "cli/docgen.h"
#include "cli/options.h"

namespace qpipe::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// "--chunk-size" as roff writes it: "\-\-chunk\-size".
std::string roff_option(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// Whether word occurs in s as a whole word of a shell word list.
bool has_word(const std::string& s, const std::string& word) {
  const std::string delims = " '\t\n|()";
  for (size_t at = 0; (at = s.find(word, at)) != std::string::npos; ++at) {
    bool before = at == 0 || delims.find(s[at - 1]) != std::string::npos;
    size_t end = at + word.size();
    bool after = end == s.size() || delims.find(s[end]) != std::string::npos;
    if (before && after) return true;
  }
  return false;
}

std::string no_include(const std::string&) {
  return "";
}

const char* kTemplate = ".TH QPIPE 1 \"2026\" \"qpipe @VERSION@\"\n"
                        ".SH OPTIONS\n"
                        "@OPTIONS@\n"
                        ".SH END\n";

std::string options_section() {
  std::string page = render_man_page(kTemplate, "9.9.9", no_include);
  auto from = page.find(".SH OPTIONS\n");
  auto to = page.find(".SH END\n");
  BOOST_REQUIRE(from != std::string::npos);
  BOOST_REQUIRE(to != std::string::npos);
  return page.substr(from, to - from);
}

} // namespace

BOOST_AUTO_TEST_SUITE(docgen)

BOOST_AUTO_TEST_CASE(man_page_lists_every_option) {
  std::string page = render_man_page(kTemplate, "9.9.9", no_include);
  BOOST_TEST(contains(page, "\"qpipe 9.9.9\""));
  BOOST_TEST(!contains(page, "@VERSION@"));
  BOOST_TEST(!contains(page, "@OPTIONS@"));
  BOOST_TEST(contains(page, ".SH END\n"));
  for (const auto& o : option_table()) {
    BOOST_TEST_INFO(o.long_name);
    BOOST_TEST(contains(page, "\\fB" + roff_option(std::string("--") + o.long_name) + "\\fR"));
    if (o.short_name) {
      BOOST_TEST(contains(page, std::string("\\fB\\-") + o.short_name + "\\fR"));
    }
    if (o.arg != Arg::none) BOOST_TEST(contains(page, o.arg_name));
  }
}

// The SYNOPSIS is made from the same lines as --help's usage, with the
// placeholders in italics.
BOOST_AUTO_TEST_CASE(man_page_synopsis_is_the_usage) {
  std::string page = render_man_page(".SH SYNOPSIS\n@SYNOPSIS@\n.SH END\n", "1", no_include);
  BOOST_TEST(!contains(page, "@SYNOPSIS@"));
  for (const auto& line : synopsis_table()) {
    BOOST_TEST_INFO(line.command);
    std::string command = line.command;
    std::string roffed;
    for (char c : command)
      roffed += c == '-' ? std::string("\\-") : std::string(1, c);
    BOOST_TEST(contains(page, ".B " + roffed + "\n"));
  }
  BOOST_TEST(contains(page, "[\\fIOPTIONS\\fR] \\fIHOST\\fR[:\\fIPORT\\fR] [\\fIFILE\\fR...]\n"));
  BOOST_TEST(contains(page, ".br\n"));
}

BOOST_AUTO_TEST_CASE(man_page_options_are_roff) {
  std::string opts = options_section();
  // Each option is one tagged paragraph.
  size_t entries = 0;
  for (size_t at = 0; (at = opts.find(".TP\n", at)) != std::string::npos; at += 4)
    ++entries;
  BOOST_TEST(entries == option_table().size());
  // Hyphens are all escaped (a bare '-' is a hyphen, not a minus, in roff),
  // and no text line starts with a control character by accident.
  std::istringstream in(opts);
  std::string line;
  while (std::getline(in, line)) {
    BOOST_TEST_INFO(line);
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '-') BOOST_TEST((i > 0 && line[i - 1] == '\\'));
    if (!line.empty() && line[0] == '.') {
      bool request = line.rfind(".SH ", 0) == 0 || line.rfind(".SS ", 0) == 0 || line == ".TP";
      BOOST_TEST(request);
    }
  }
}

BOOST_AUTO_TEST_CASE(completions_list_every_option) {
  const std::string bash = bash_completion();
  const std::string zsh = zsh_completion();
  const std::string fish = fish_completion();
  // The options whose next word is their value: the line after `case $prev in`.
  auto at = bash.find("case $prev in\n");
  BOOST_REQUIRE(at != std::string::npos);
  at += 14;
  const std::string prev_case = bash.substr(at, bash.find('\n', at) - at);
  for (const auto& o : option_table()) {
    const std::string name = o.long_name;
    BOOST_TEST_INFO(name);
    BOOST_TEST(has_word(bash, "--" + name));
    BOOST_TEST(contains(zsh, "--" + name));
    BOOST_TEST(contains(fish, " -l " + name + " "));
    if (o.short_name) {
      const std::string s(1, o.short_name);
      BOOST_TEST(contains(bash, "--" + name + " -" + s));
      BOOST_TEST(contains(zsh, "{-" + s + ",--" + name));
      BOOST_TEST(contains(fish, " -s " + s + " -l " + name + " "));
    }
    // An option that takes an argument completes it rather than options:
    // after `--name=` (optional or required) and as the next word (required).
    if (o.arg != Arg::none) {
      std::string pattern = "--" + name + (o.short_name ? std::string("|-") + o.short_name : "");
      BOOST_TEST(contains(bash, "    " + pattern + ")"));
    }
    if (o.arg == Arg::required) BOOST_TEST(has_word(prev_case, "--" + name));
  }
  // Words to complete come from the table.
  BOOST_TEST(contains(bash, "compgen -W 'cubic bbr reno'"));
  BOOST_TEST(contains(zsh, ":ALGO:(cubic bbr reno)"));
  BOOST_TEST(contains(fish, "-l kind -x -a 'random zero text mixed'"));
}

BOOST_AUTO_TEST_CASE(bash_completion_by_mode) {
  // The gen list offers gen options and not transfer-only ones.
  const std::string bash = bash_completion();
  auto at = bash.find("gen) COMPREPLY=($(compgen -W '");
  BOOST_REQUIRE(at != std::string::npos);
  std::string gen_line = bash.substr(at, bash.find('\n', at) - at);
  BOOST_TEST(contains(gen_line, "--seed"));
  BOOST_TEST(contains(gen_line, "--help"));
  BOOST_TEST(!contains(gen_line, "--streams"));
  BOOST_TEST(!contains(gen_line, "--listen"));
}

BOOST_AUTO_TEST_CASE(roff_headings) {
  BOOST_TEST(text_to_roff("GENERATED DATA\n") == ".SS GENERATED DATA\n");
  BOOST_TEST(text_to_roff("CHECK VALUES\nSome text.\n") == ".SS CHECK VALUES\n.PP\nSome text.\n");
  // A line with a lowercase letter is text.
  BOOST_TEST(text_to_roff("KIND random\n") == ".PP\nKIND random\n");
  // Hyphens in headings are escaped too.
  BOOST_TEST(text_to_roff("X-RAY\n") == ".SS X\\-RAY\n");
}

BOOST_AUTO_TEST_CASE(roff_indented_lines) {
  BOOST_TEST(text_to_roff("    a = b\n    c  d\n") == ".PP\n.nf\n.RS 4\na = b\nc  d\n.RE\n.fi\n");
  // A block between paragraphs; the indentation beyond four spaces is kept.
  BOOST_TEST(text_to_roff("Before:\n\n    x\n      y\n\nAfter.\n") ==
             ".PP\nBefore:\n.PP\n.nf\n.RS 4\nx\n  y\n.RE\n.fi\n.PP\nAfter.\n");
  // A text line right after the block ends it.
  BOOST_TEST(text_to_roff("    x\ntext\n") == ".PP\n.nf\n.RS 4\nx\n.RE\n.fi\n.PP\ntext\n");
  // Escaped inside the block as well.
  BOOST_TEST(text_to_roff("    a - b \\ c\n") == ".PP\n.nf\n.RS 4\na \\- b \\e c\n.RE\n.fi\n");
}

BOOST_AUTO_TEST_CASE(roff_paragraphs_and_escapes) {
  BOOST_TEST(text_to_roff("one\ntwo\n\nthree\n") == ".PP\none\ntwo\n.PP\nthree\n");
  BOOST_TEST(text_to_roff("a-b c\\d\n") == ".PP\na\\-b c\\ed\n");
  BOOST_TEST(text_to_roff("--kind\n") == ".PP\n\\-\\-kind\n");
  // A line that would be a roff request is protected.
  BOOST_TEST(text_to_roff(".hidden\n") == ".PP\n\\&.hidden\n");
  BOOST_TEST(text_to_roff("'quoted\n") == ".PP\n\\&'quoted\n");
  // Backquoted words in bold.
  BOOST_TEST(text_to_roff("run `qpipe gen` now\n") == ".PP\nrun \\fBqpipe gen\\fR now\n");
  BOOST_TEST(text_to_roff("") == "");
  BOOST_TEST(text_to_roff("\n\n") == "");
}

BOOST_AUTO_TEST_CASE(include_calls_the_function) {
  std::vector<std::string> asked;
  auto include = [&](const std::string& name) {
    asked.push_back(name);
    return std::string("TITLE\nbody-text\n    code\n");
  };
  std::string page =
      render_man_page("before\n@INCLUDE:gen-algorithm.txt@\nafter @VERSION@\n", "1.2.3", include);
  BOOST_TEST(asked == std::vector<std::string>{"gen-algorithm.txt"});
  BOOST_TEST(page == "before\n" + text_to_roff("TITLE\nbody-text\n    code\n") + "after 1.2.3\n");
  BOOST_TEST(contains(page, ".SS TITLE\n.PP\nbody\\-text\n.PP\n.nf\n.RS 4\ncode\n.RE\n.fi\n"));
  // Each include line calls it once, in order.
  asked.clear();
  (void)render_man_page("@INCLUDE:a@\n@INCLUDE:b@\n", "1", include);
  BOOST_TEST(asked == (std::vector<std::string>{"a", "b"}));
  // Not an include: not at the start of the line, or not closed.
  asked.clear();
  std::string other = render_man_page("x @INCLUDE:a@\n@INCLUDE:a\n", "1", include);
  BOOST_TEST(asked.empty());
  BOOST_TEST(other == "x @INCLUDE:a@\n@INCLUDE:a\n");
}

BOOST_AUTO_TEST_CASE(config_keywords_and_aliases) {
  // Every keyword of the config file is in the man page, with its option.
  std::string page = render_man_page("@CONFIG_KEYWORDS@\n", "1", no_include);
  for (const auto& k : config_keywords()) {
    BOOST_TEST_INFO(k.name);
    BOOST_TEST(contains(page, std::string(".TP\n\\fB") + k.name + "\\fR"));
    if (k.option) BOOST_TEST(contains(page, "Like \\fB" + roff_option(k.option) + "\\fR."));
  }
  // The three completions offer the aliases of the config file.
  BOOST_TEST(contains(bash_completion(), "$(_qpipe_aliases)"));
  BOOST_TEST(contains(zsh_completion(), "'1:host or mode:_qpipe_destinations'"));
  BOOST_TEST(contains(fish_completion(), "-a '(__qpipe_aliases)'"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::cli
