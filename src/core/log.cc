#include "core/log.h"

#include <cstdio>

#include "core/printable.h"
#include <unistd.h>

namespace qpipe {

void Logger::emit(const std::string& line) const {
  std::string out;
  if (progress_active_) out += "\r\033[K";
  out += "qpipe: ";
  // Messages quote what peers send (close reasons, file names): nothing in
  // them reaches the terminal as a control sequence.
  out += printable(line);
  out += '\n';
  // One write(2) per line, so that lines from concurrent writers stay whole.
  ssize_t n = ::write(STDERR_FILENO, out.data(), out.size());
  (void)n;
}

void Logger::error(const Error& e) const {
  emit(e.message());
}
void Logger::error(const std::string& line) const {
  emit(line);
}
void Logger::always(const std::string& line) const {
  emit(line);
}
void Logger::warn(const std::string& line) const {
  if (verbosity_ >= Verbosity::normal) emit("warning: " + line);
}
void Logger::info(const std::string& line) const {
  if (verbosity_ >= Verbosity::normal) emit(line);
}
void Logger::verbose(const std::string& line) const {
  if (verbosity_ >= Verbosity::verbose) emit(line);
}
void Logger::debug(const std::string& line) const {
  if (verbosity_ >= Verbosity::debug) emit(line);
}

std::string strprintf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

} // namespace qpipe
