#include "cli/docgen.h"

#include <cctype>
#include <sstream>

#include "cli/config_file.h"
#include "cli/options.h"

namespace qpipe::cli {
namespace {

// Plain text to roff: backslashes and hyphens escaped, no leading dot.
std::string roff(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\')
      out += "\\e";
    else if (ch == '-')
      out += "\\-";
    else
      out += ch;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string roff_synopsis(const OptionSpec& o) {
  std::string s;
  if (o.short_name) s += std::string("\\fB\\-") + o.short_name + "\\fR, ";
  s += "\\fB\\-\\-" + roff(o.long_name) + "\\fR";
  if (o.arg == Arg::required) s += std::string(" \\fI") + roff(o.arg_name) + "\\fR";
  if (o.arg == Arg::optional) s += std::string("[=\\fI") + roff(o.arg_name) + "\\fR]";
  return s;
}

struct Group {
  const char* title;
  unsigned match;
};
constexpr Group kGroups[] = {
    {"General", kAll},   {"Send and listen", kSend | kListen}, {"Send", kSend},
    {"Listen", kListen}, {"Generate (qpipe gen)", kGen},       {"Service (qpipe api)", kApi}};

const Group* group_of(const OptionSpec& o) {
  for (const auto& g : kGroups)
    if ((o.modes & g.match) == g.match) return &g;
  return nullptr;
}

// A synopsis line in roff: the command in bold, ALL-CAPS placeholders in
// italics, the rest as it is.
std::string roff_synopsis_line(const SynopsisLine& line) {
  std::string out = ".B " + roff(line.command) + "\n";
  std::string_view args = line.args;
  for (size_t i = 0; i < args.size();) {
    if (std::isupper(static_cast<unsigned char>(args[i]))) {
      size_t end = i;
      while (end < args.size() && std::isupper(static_cast<unsigned char>(args[end])))
        ++end;
      out += "\\fI" + roff(args.substr(i, end - i)) + "\\fR";
      i = end;
    } else {
      // Mid-line, so no \& is needed before a dot: only '-' and '\' change.
      out += args[i] == '-' ? "\\-" : args[i] == '\\' ? "\\e" : std::string(1, args[i]);
      ++i;
    }
  }
  return out + "\n";
}

std::string all_long_options(unsigned modes) {
  std::string s;
  for (const auto& o : option_table()) {
    if (!(o.modes & modes)) continue;
    if (!s.empty()) s += ' ';
    s += std::string("--") + o.long_name;
    if (o.short_name) s += std::string(" -") + o.short_name;
  }
  return s;
}

// "--streams|-P|--chunk-size|...": the options that take a separate argument.
std::string options_with_argument() {
  std::string s;
  for (const auto& o : option_table()) {
    if (o.arg != Arg::required) continue;
    if (!s.empty()) s += '|';
    s += std::string("--") + o.long_name;
    if (o.short_name) s += std::string("|-") + o.short_name;
  }
  return s;
}

// The shell function (bash and zsh alike) that tells whether the word being
// completed is a send's HOST.
std::string before_host_function() {
  std::ostringstream s;
  s << "# Whether the word being completed is a send's HOST: no -l, and no other\n"
    << "# argument before it (the words that options take skipped).\n"
    << "_qpipe_before_host() {\n"
    << "  local i skip=\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    if [[ -n $skip ]]; then skip=; continue; fi\n"
    << "    case ${COMP_WORDS[i]} in\n"
    << "      -l|--listen) return 1 ;;\n"
    << "      " << options_with_argument() << ") skip=1 ;;\n"
    << "      -*) ;;\n"
    << "      *) return 1 ;;\n"
    << "    esac\n"
    << "  done\n"
    << "}\n";
  return s.str();
}

// The man page's list of config file keywords (CONFIGURATION), from the
// keyword table of cli/config_file.cc.
std::string roff_config_keywords() {
  std::ostringstream out;
  for (const auto& k : config_keywords()) {
    out << ".TP\n\\fB" << roff(k.name) << "\\fR \\fI" << roff(k.value) << "\\fR\n" << roff(k.help);
    if (k.option) out << "\nLike \\fB" << roff(k.option) << "\\fR.";
    out << "\n";
  }
  return out.str();
}

// The awk program that prints the aliases of a config file: the names on
// its Host lines that have no wildcard or negation. The completions of all
// three shells run it to offer aliases where a HOST goes.
constexpr const char* kAliasesAwk =
    "awk '{ sub(/^[ \\t]+/, \"\"); n = split($0, w, /[ \\t=]+/); if (tolower(w[1]) == \"host\") "
    "for (i = 2; i <= n; i++) if (w[i] != \"\" && w[i] !~ /[*?!\"]/) print w[i] }'";

} // namespace

std::string text_to_roff(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line, out;
  bool verbatim = false, in_para = false;
  auto is_heading = [](const std::string& l) {
    if (l.empty() || l[0] == ' ') return false;
    bool upper = false;
    for (char c : l) {
      if (std::islower(static_cast<unsigned char>(c))) return false;
      if (std::isupper(static_cast<unsigned char>(c))) upper = true;
    }
    return upper;
  };
  while (std::getline(in, line)) {
    bool indented = line.size() >= 4 && line.compare(0, 4, "    ") == 0;
    if (indented) {
      if (!verbatim) out += ".PP\n.nf\n.RS 4\n";
      verbatim = true;
      in_para = false;
      out += roff(line.substr(4)) + "\n";
      continue;
    }
    if (verbatim) {
      out += ".RE\n.fi\n";
      verbatim = false;
    }
    if (line.empty()) {
      in_para = false;
      continue;
    }
    if (is_heading(line)) {
      out += ".SS " + roff(line) + "\n";
      in_para = false;
      continue;
    }
    if (!in_para) out += ".PP\n";
    in_para = true;
    std::string r = roff(line);
    // Backquoted words as bold, as in the text's own convention.
    std::string b;
    bool open = false;
    for (char c : r) {
      if (c == '`') {
        b += open ? "\\fR" : "\\fB";
        open = !open;
      } else {
        b += c;
      }
    }
    out += b + "\n";
  }
  if (verbatim) out += ".RE\n.fi\n";
  return out;
}

std::string render_man_page(std::string_view tmpl, std::string_view version,
                            const std::function<std::string(const std::string&)>& include) {
  std::ostringstream opts;
  for (const auto& g : kGroups) {
    bool any = false;
    for (const auto& o : option_table()) {
      if (group_of(o) != &g) continue;
      if (!any) opts << ".SS " << g.title << "\n";
      any = true;
      opts << ".TP\n" << roff_synopsis(o) << "\n";
      if (o.man)
        opts << o.man << "\n";
      else {
        std::string help = roff(o.help);
        help[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(help[0])));
        opts << help << ".\n";
      }
    }
  }
  std::string out;
  std::istringstream in{std::string(tmpl)};
  std::string line;
  while (std::getline(in, line)) {
    if (line == "@OPTIONS@") {
      out += opts.str();
      continue;
    }
    if (line == "@SYNOPSIS@") {
      bool first = true;
      for (const auto& s : synopsis_table()) {
        if (!first) out += ".br\n";
        first = false;
        out += roff_synopsis_line(s);
      }
      continue;
    }
    if (line == "@CONFIG_KEYWORDS@") {
      out += roff_config_keywords();
      continue;
    }
    if (line.rfind("@INCLUDE:", 0) == 0 && line.size() > 10 && line.back() == '@') {
      out += text_to_roff(include(line.substr(9, line.size() - 10)));
      continue;
    }
    for (size_t p; (p = line.find("@VERSION@")) != std::string::npos;)
      line.replace(p, 9, version);
    out += line + "\n";
  }
  return out;
}

std::string bash_completion() {
  std::ostringstream s;
  s << "# bash completion for qpipe; generated by qpipe-docgen from the option table.\n"
    << "# File names: directories with their slash, so that completion goes on inside.\n"
    << "_qpipe_files() {\n"
    << "  local IFS=$'\\n' f\n"
    << "  COMPREPLY=()\n"
    << "  for f in $(compgen $2 -- \"$1\"); do\n"
    << "    [[ -d $f && $f != */ ]] && f+=/\n"
    << "    COMPREPLY+=(\"$f\")\n"
    << "  done\n"
    << "  compopt -o filenames 2>/dev/null\n"
    << "}\n"
    << "# _qpipe_value OPTION WORD: completes WORD as the value of OPTION; 1 when\n"
    << "# OPTION takes no value.\n"
    << "_qpipe_value() {\n"
    << "  case $1 in\n";
  for (const auto& o : option_table()) {
    if (o.arg == Arg::none) continue;
    std::string pats = std::string("--") + o.long_name;
    if (o.short_name) pats += std::string("|-") + o.short_name;
    s << "    " << pats << ")";
    std::string c = o.complete ? o.complete : "";
    if (c == "file")
      s << " _qpipe_files \"$2\" -f ;;\n";
    else if (c == "dir")
      s << " _qpipe_files \"$2\" -d ;;\n";
    else if (c == "host")
      s << " COMPREPLY=($(compgen -A hostname -- \"$2\")) ;;\n";
    else if (!c.empty())
      s << " COMPREPLY=($(compgen -W '" << c << "' -- \"$2\")) ;;\n";
    else
      s << " COMPREPLY=() ;;\n";
  }
  s << "    *) return 1 ;;\n"
    << "  esac\n"
    << "}\n"
    << "# The aliases of the config file (-F FILE, or $XDG_CONFIG_HOME/qpipe/config).\n"
    << "_qpipe_aliases() {\n"
    << "  local f=${XDG_CONFIG_HOME:-$HOME/.config}/qpipe/config i\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    case ${COMP_WORDS[i]} in\n"
    << "      -F|--config) f=${COMP_WORDS[i+1]} ;;\n"
    << "      --config=*) f=${COMP_WORDS[i]#--config=} ;;\n"
    << "    esac\n"
    << "  done\n"
    << "  f=${f/#\\~/$HOME}\n"
    << "  [[ $f != none && -r $f ]] && " << kAliasesAwk << " \"$f\" 2>/dev/null\n"
    << "}\n"
    << before_host_function() << "_qpipe() {\n"
    << "  local cur prev mode=send\n"
    << "  cur=${COMP_WORDS[COMP_CWORD]}\n"
    << "  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    << "  case ${COMP_WORDS[1]} in gen) mode=gen ;; api) mode=api ;; esac\n"
    << "  # --opt=VALUE: one word when COMP_WORDBREAKS lacks '=', else three.\n"
    << "  if [[ $cur == --*=* ]]; then\n"
    << "    _qpipe_value \"${cur%%=*}\" \"${cur#*=}\" && "
       "COMPREPLY=(\"${COMPREPLY[@]/#/${cur%%=*}=}\")\n"
    << "    return\n"
    << "  fi\n"
    << "  if [[ $cur == = && $prev == --* ]]; then _qpipe_value \"$prev\" \"\"; return; fi\n"
    << "  if [[ $prev == = && $COMP_CWORD -ge 2 && ${COMP_WORDS[COMP_CWORD-2]} == --* ]]; then\n"
    << "    _qpipe_value \"${COMP_WORDS[COMP_CWORD-2]}\" \"$cur\"\n"
    << "    return\n"
    << "  fi\n"
    << "  # The word after an option that requires a value is that value.\n"
    << "  case $prev in\n";
  std::string required;
  for (const auto& o : option_table()) {
    if (o.arg != Arg::required) continue;
    if (!required.empty()) required += '|';
    required += std::string("--") + o.long_name;
    if (o.short_name) required += std::string("|-") + o.short_name;
  }
  s << "    " << required << ")\n"
    << "      _qpipe_value \"$prev\" \"$cur\"; return ;;\n"
    << "  esac\n"
    << "  if [[ $cur == -* ]]; then\n"
    << "    case $mode in\n"
    << "      gen) COMPREPLY=($(compgen -W '" << all_long_options(kGen) << "' -- \"$cur\")) ;;\n"
    << "      api) COMPREPLY=($(compgen -W '" << all_long_options(kApi) << "' -- \"$cur\")) ;;\n"
    << "      *) COMPREPLY=($(compgen -W '" << all_long_options(kSend | kListen)
    << "' -- \"$cur\")) ;;\n"
    << "    esac\n"
    << "  elif [[ $COMP_CWORD -eq 1 ]]; then\n"
    << "    COMPREPLY=($(compgen -W \"gen api help $(_qpipe_aliases)\" -A hostname -- \"$cur\"))\n"
    << "  elif [[ $mode == send ]] && _qpipe_before_host; then\n"
    << "    COMPREPLY=($(compgen -W \"$(_qpipe_aliases)\" -A hostname -- \"$cur\"))\n"
    << "  else\n"
    << "    _qpipe_files \"$cur\" -f\n"
    << "  fi\n"
    << "}\n"
    << "complete -F _qpipe qpipe\n";
  return s.str();
}

std::string zsh_completion() {
  std::ostringstream s;
  s << "#compdef qpipe\n"
    << "# zsh completion for qpipe; generated by qpipe-docgen from the option table.\n"
    << before_host_function()
    << "# A send's HOST: a mode, an alias of the config file, or a host name.\n"
    << "_qpipe_destinations() {\n"
    << "  local "
       "f=${opt_args[-F]:-${opt_args[--config]:-${XDG_CONFIG_HOME:-$HOME/.config}/qpipe/config}}\n"
    << "  local -a aliases\n"
    << "  [[ $f != none && -r $f ]] && aliases=(${(f)\"$(" << kAliasesAwk
    << " $f 2>/dev/null)\"})\n"
    << "  _alternative 'modes:mode:(gen api)' \"aliases:host alias:(${aliases[*]})\" "
       "'hosts:host:_hosts'\n"
    << "}\n"
    << "_qpipe() {\n"
    << "  local -a opts\n"
    << "  opts=(\n";
  for (const auto& o : option_table()) {
    std::string help = o.help;
    std::string esc;
    for (char ch : help) {
      if (ch == '\'') {
        esc += "'\\''"; // close the quote, an escaped quote, reopen
        continue;
      }
      if (ch == '[' || ch == ']' || ch == ':' || ch == '\\') esc += '\\';
      esc += ch;
    }
    std::string action;
    if (o.arg != Arg::none) {
      std::string c = o.complete ? o.complete : "";
      std::string what;
      for (const char* p = o.arg_name; *p; ++p) {
        if (*p == ':') what += '\\';
        what += *p;
      }
      if (c == "file")
        action = ":" + what + ":_files";
      else if (c == "dir")
        action = ":" + what + ":_files -/";
      else if (c == "host")
        action = ":" + what + ":_hosts";
      else if (!c.empty())
        action = ":" + what + ":(" + c + ")";
      else
        action = ":" + what + ": ";
    }
    std::string eq = o.arg == Arg::optional ? "=-" : (o.arg == Arg::required ? "=" : "");
    // An optional value is completed only from a list of words (--stats=json).
    if (o.arg == Arg::optional && (!o.complete || action.find(":(") == std::string::npos))
      action.clear();
    if (o.short_name)
      s << "    '(-" << o.short_name << " --" << o.long_name << ")'{-" << o.short_name << ",--"
        << o.long_name << eq << "}'[" << esc << "]" << action << "'\n";
    else
      s << "    '--" << o.long_name << eq << "[" << esc << "]" << action << "'\n";
  }
  s << "  )\n"
    << "  _arguments -s $opts '1:host or mode:_qpipe_destinations' '*:file:_files'\n"
    << "}\n"
    << "_qpipe \"$@\"\n";
  return s.str();
}

std::string fish_completion() {
  std::ostringstream s;
  s << "# fish completion for qpipe; generated by qpipe-docgen from the option table.\n"
    << "complete -c qpipe -n '__fish_use_subcommand' -a 'gen' -d 'write deterministic test "
       "data'\n"
    << "complete -c qpipe -n '__fish_use_subcommand' -a 'api' -d 'HTTP/JSON service'\n"
    << "# The aliases of the config file, where a HOST goes.\n"
    << "function __qpipe_aliases\n"
    << "    set -l f (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo $HOME/.config)"
       "/qpipe/config\n"
    << "    test -r $f; and " << kAliasesAwk << " $f 2>/dev/null\n"
    << "end\n"
    << "complete -c qpipe -n '__fish_use_subcommand' -a '(__qpipe_aliases)' -d 'host alias'\n";
  for (const auto& o : option_table()) {
    std::string help = o.help;
    std::string esc;
    for (char ch : help) {
      if (ch == '\'' || ch == '\\') esc += '\\';
      esc += ch;
    }
    s << "complete -c qpipe";
    if (o.short_name) s << " -s " << o.short_name;
    s << " -l " << o.long_name;
    if (o.arg == Arg::required) {
      std::string c = o.complete ? o.complete : "";
      if (c == "file")
        s << " -r -F";
      else if (c == "dir")
        s << " -r -a '(__fish_complete_directories)'";
      else if (c == "host")
        s << " -x -a '(__fish_print_hostnames)'";
      else if (!c.empty())
        s << " -x -a '" << c << "'";
      else
        s << " -x";
    }
    s << " -d '" << esc << "'\n";
  }
  return s.str();
}

} // namespace qpipe::cli
