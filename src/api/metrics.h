// A small writer of the Prometheus text exposition format (version 0.0.4).
//
// Metrics are written family by family: family() emits the `# HELP` and
// `# TYPE` lines, then sample() emits `name{label="value",...} value` lines
// for that family. Label values and help texts are escaped as the format
// requires; names are checked, since a bad one would make a scraper reject
// the whole page. Only counters, gauges and untyped metrics are supported.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace qpipe::api {

enum class MetricType { counter, gauge, untyped };

struct Label {
  std::string name;
  std::string value;
};

class MetricsWriter {
public:
  // The Content-Type of the text this writer produces.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family. Throws std::invalid_argument for a name that is not
  // [a-zA-Z_:][a-zA-Z0-9_:]* or that was used before.
  void family(std::string_view name, std::string_view help, MetricType type);

  // A sample of the current family. Throws std::logic_error before any
  // family, std::invalid_argument for a bad label name.
  void sample(double value, const std::vector<Label>& labels = {});
  template <std::integral T> void sample(T value, const std::vector<Label>& labels = {}) {
    write_sample(std::to_string(value), labels);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

private:
  void write_sample(std::string_view value, const std::vector<Label>& labels);
  std::string out_;
  std::string current_;
  std::vector<std::string> seen_;
};

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);
// Formats a sample value: shortest round-trip decimal, NaN, +Inf, -Inf.
std::string format_metric_value(double v);

} // namespace qpipe::api
