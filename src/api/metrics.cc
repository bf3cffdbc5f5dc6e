// Prometheus text format writer (see metrics.h).
#include "api/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace qpipe::api {
namespace {

bool is_name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!is_name_char(name[i], i == 0, colon_ok)) return false;
  return true;
}

std::string_view type_name(MetricType t) {
  switch (t) {
  case MetricType::counter:
    return "counter";
  case MetricType::gauge:
    return "gauge";
  case MetricType::untyped:
    return "untyped";
  }
  return "untyped";
}

} // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

void MetricsWriter::family(std::string_view name, std::string_view help, MetricType type) {
  if (!valid_name(name, true))
    throw std::invalid_argument("invalid metric name: " + std::string(name));
  if (std::find(seen_.begin(), seen_.end(), name) != seen_.end())
    throw std::invalid_argument("metric family written twice: " + std::string(name));
  seen_.emplace_back(name);
  current_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) { // HELP escapes only backslash and newline
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void MetricsWriter::sample(double value, const std::vector<Label>& labels) {
  write_sample(format_metric_value(value), labels);
}

void MetricsWriter::write_sample(std::string_view value, const std::vector<Label>& labels) {
  if (current_.empty()) throw std::logic_error("metric sample before its family");
  std::string line = current_;
  if (!labels.empty()) {
    line += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      const Label& l = labels[i];
      if (!valid_name(l.name, false) || l.name.starts_with("__"))
        throw std::invalid_argument("invalid label name: " + l.name);
      if (i) line += ',';
      line += l.name;
      line += "=\"";
      line += escape_label_value(l.value);
      line += '"';
    }
    line += '}';
  }
  line += ' ';
  line += value;
  line += '\n';
  out_ += line;
}

} // namespace qpipe::api
