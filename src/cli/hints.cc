// Mistakes answered with the fix (see hints.h).
#include "cli/hints.h"

#include <algorithm>
#include <sys/stat.h>

#include "core/suggest.h"

namespace qpipe::cli {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool looks_like_port(std::string_view s) {
  return all_digits(s) && s.size() <= 5 && std::stoul(std::string(s)) >= 1 &&
         std::stoul(std::string(s)) <= 65535;
}

// A whole number, possibly signed: a zstd level, say.
bool looks_like_number(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return all_digits(s);
}

// The words of a completion list ("text json"), or none for "file",
// "dir", "host" and no list.
std::vector<std::string> value_words(const OptionSpec& spec) {
  std::vector<std::string> words;
  if (!spec.complete) return words;
  std::string_view c = spec.complete;
  if (c == "file" || c == "dir" || c == "host") return words;
  while (!c.empty()) {
    size_t sp = c.find(' ');
    words.emplace_back(c.substr(0, sp));
    c = sp == std::string_view::npos ? std::string_view() : c.substr(sp + 1);
  }
  return words;
}

// The destination as HOST:PORT: an IPv6 address goes in brackets.
std::string with_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

// Whether a destination or listen address names a port: `host:1`,
// `[::1]:1`; a bare IPv6 address does not.
bool names_port(const std::string& text) {
  if (!text.empty() && text[0] == '[') return text.find("]:") != std::string::npos;
  return std::count(text.begin(), text.end(), ':') == 1;
}

std::string joined(const std::vector<std::string>& words, size_t from) {
  std::string s;
  for (size_t i = from; i < words.size(); ++i)
    s += " " + words[i];
  return s;
}

} // namespace

std::string unknown_option_hint(std::string_view name, Mode mode) {
  std::vector<std::string> own, all;
  for (const auto& o : option_table()) {
    all.emplace_back(o.long_name);
    if (o.modes & mode) own.emplace_back(o.long_name);
  }
  auto near = closest(name, own);
  if (!near) near = closest(name, all);
  return near ? " (did you mean --" + *near + "?)" : "";
}

std::optional<Error> detached_value(const OptionSpec& spec, const std::string& spelled,
                                    const std::string& next) {
  if (spec.arg != Arg::optional || next.empty() || next[0] == '-') return std::nullopt;
  auto words = value_words(spec);
  bool value_like = words.empty() ? looks_like_number(next)
                                  : std::find(words.begin(), words.end(), next) != words.end();
  if (!value_like || exists(next)) return std::nullopt;
  std::string fix = "--" + std::string(spec.long_name) + "=" + next;
  if (spelled.size() == 2) fix = spelled + next + " or " + fix;
  return make_error(Errc::usage, spelled + " " + next,
                    "an optional value must be attached: " + fix);
}

std::optional<Error> mistaken_positionals(Mode mode, const std::vector<std::string>& positionals) {
  if (positionals.size() < 2) return std::nullopt;
  const std::string& first = positionals[0];
  const std::string& second = positionals[1];
  if (mode == kListen) {
    if (positionals.size() == 2 && !names_port(first) && looks_like_port(second))
      return make_error(Errc::usage, second,
                        "unexpected argument; did you mean -l " + with_port(first, second) +
                            "? (a listener takes one [[HOST]:PORT])");
    return std::nullopt;
  }
  if (mode != kSend || exists(second)) return std::nullopt;
  // nc's `HOST PORT`: the "file" is a port number, and there is no such file.
  if (positionals.size() == 2 && !names_port(first) && looks_like_port(second))
    return make_error(Errc::usage, second,
                      "no such file; did you mean " + with_port(first, second) +
                          "? (qpipe takes HOST:PORT, not nc's HOST PORT)");
  // A mistyped mode: the "host" is near a mode's name and the "file" does not exist.
  static const std::vector<std::string> modes{"gen", "api"};
  if (first.find(':') == std::string::npos) {
    auto near = closest(first, modes);
    if (near && *near != first)
      return make_error(Errc::usage, first,
                        "no such mode; did you mean 'qpipe " + *near + joined(positionals, 1) +
                            "'? (as written, '" + first + "' is a host to send to and '" + second +
                            "' a file, which does not exist)");
  }
  return std::nullopt;
}

} // namespace qpipe::cli
