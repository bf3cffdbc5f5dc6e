// Messages to the user: one line each on stderr, prefixed `qpipe: `, with
// control characters shown as escapes (core/printable.h), whoever wrote them.
//
// stdout carries data only. A Logger is owned by whoever runs a mode (the CLI,
// or `qpipe api`) and handed to the engine; it is the only writer of messages.
#pragma once

#include <cstdarg>
#include <string>

#include "core/error.h"

namespace qpipe {

enum class Verbosity { quiet = 0, normal = 1, verbose = 2, debug = 3 };

class Logger {
public:
  explicit Logger(Verbosity v = Verbosity::normal) : verbosity_(v) {}
  Verbosity verbosity() const { return verbosity_; }
  void set_verbosity(Verbosity v) { verbosity_ = v; }

  // Errors are printed even with -q: the exit status alone does not say why.
  void error(const Error& e) const;
  void error(const std::string& line) const;
  // What the user asked for by name (--stats, the port that -l 0 chose):
  // printed even with -q, as errors are.
  void always(const std::string& line) const;
  void warn(const std::string& line) const;    // not with -q
  void info(const std::string& line) const;    // not with -q
  void verbose(const std::string& line) const; // only with -v
  void debug(const std::string& line) const;   // only with -vv

  // Clears a progress line before a message is printed over it.
  void set_progress_active(bool active) { progress_active_ = active; }

private:
  void emit(const std::string& line) const;
  Verbosity verbosity_;
  bool progress_active_ = false;
};

// printf-style formatting into a std::string (GCC 12 has no std::format).
std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace qpipe
