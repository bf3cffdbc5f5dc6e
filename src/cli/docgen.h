// Generates the man page's option list and the bash, zsh and fish
// completions from the option table, so that none of them can drift from
// what the parser accepts. Run by tools/docgen.cc (scripts/gen-docs).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace qpipe::cli {

// Replaces the line `@OPTIONS@` of the man page template with the options,
// grouped in subsections as --help groups them, and `@VERSION@` with the version.
// A line `@INCLUDE:NAME@` is replaced by include(NAME), converted from plain
// text to roff by text_to_roff.
std::string render_man_page(std::string_view template_text, std::string_view version,
                            const std::function<std::string(const std::string&)>& include);
// Plain text to roff: an ALL-CAPS line is a subsection, indented lines are
// shown as they are, other lines are joined into paragraphs.
std::string text_to_roff(std::string_view text);
std::string bash_completion();
std::string zsh_completion();
std::string fish_completion();

} // namespace qpipe::cli
