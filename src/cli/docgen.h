// Generates the man page's option list and the bash, zsh and fish
// completions from the option table, so that none of them can drift from
// what the parser accepts. Run by tools/docgen.cc (scripts/gen-docs).
#pragma once

#include <string>
#include <string_view>

namespace qpipe::cli {

// Replaces the line `@OPTIONS@` of the man page template with the options,
// grouped in subsections as --help groups them, and `@VERSION@` with the version.
std::string render_man_page(std::string_view template_text, std::string_view version);
std::string bash_completion();
std::string zsh_completion();
std::string fish_completion();

} // namespace qpipe::cli
