// What the CLI shows of a transfer on stderr (see report.h).
#include "cli/report.h"

#include <algorithm>
#include <unistd.h>

#include "core/printable.h"
#include "core/units.h"
#include "frontend/stats_json.h"

namespace qpipe::cli {
namespace {

double rate_of(const app::TransferStats& s) {
  return s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
}

std::string progress_line(const app::TransferStats& s) {
  double rate = rate_of(s);
  std::string line = format_bytes(s.bytes);
  if (s.size && *s.size > 0) {
    line += strprintf(" of %s (%3.0f%%)", format_bytes(*s.size).c_str(),
                      100.0 * static_cast<double>(s.bytes) / static_cast<double>(*s.size));
  }
  line += "  " + format_rate(rate) + "  " + format_duration(s.seconds);
  if (s.files_total > 0)
    line += strprintf("  [%u/%u] %s", std::min(s.files_done + 1, s.files_total), s.files_total,
                      printable(s.file).c_str()); // a name the peer chose
  if (s.size && rate > 0 && *s.size > s.bytes)
    line += "  ETA " + format_duration(static_cast<double>(*s.size - s.bytes) / rate);
  return line;
}

// One write(2) on stderr, beside the logger's lines.
void write_stderr(const std::string& text) {
  ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
  (void)n;
}

} // namespace

std::string stats_text(const app::TransferStats& s) {
  std::string ratio;
  if (s.payload_wire_bytes > 0 && s.payload_wire_bytes < s.bytes)
    ratio = strprintf(" (compressed %.2fx)",
                      static_cast<double>(s.bytes) / static_cast<double>(s.payload_wire_bytes));
  return strprintf("%s in %s (%s), %s on the wire%s, rtt %.2f ms, %llu packets lost, peer %s",
                   format_bytes(s.bytes).c_str(), format_duration(s.seconds).c_str(),
                   format_rate(rate_of(s)).c_str(), format_bytes(s.wire_bytes).c_str(),
                   ratio.c_str(), s.rtt_ms, static_cast<unsigned long long>(s.lost_packets),
                   s.peer.c_str());
}

std::string stats_json(const app::TransferStats& s, const Status& st) {
  nlohmann::ordered_json j{{"ok", st.ok()}};
  j.update(frontend::to_json(s));
  if (!st.ok()) j["error"] = st.error().message();
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Report::Report(const Config& config, Logger& log)
    : log_(log), format_(config.stats),
      progress_(config.progress == Progress::on ||
                (config.progress == Progress::automatic && isatty(STDERR_FILENO) &&
                 config.verbosity != Verbosity::quiet)) {}

app::TransferEvents Report::events() {
  app::TransferEvents ev;
  ev.on_info = [this](const std::string& line) { log_.info(line); };
  ev.on_progress = [this](const app::TransferStats& s) { draw_progress(s); };
  ev.on_done = [this](const Status& st, const app::TransferStats& s) {
    result_ = st;
    stats_ = s;
  };
  ev.on_transfer_done = [this](const Status& st, const app::TransferStats& s) {
    if (format_ == StatsFormat::json)
      log_.error(stats_json(s, st));
    else if (format_ == StatsFormat::text)
      log_.info(stats_text(s));
  };
  return ev;
}

void Report::draw_progress(const app::TransferStats& s) {
  if (!progress_) return;
  write_stderr("\r\033[Kqpipe: " + progress_line(s));
  progress_drawn_ = true;
  log_.set_progress_active(true);
}

int Report::finish() {
  if (progress_drawn_) {
    write_stderr("\r\033[K");
    log_.set_progress_active(false);
  }
  Status st = result_.value_or(make_error(Errc::transfer, "transfer", "ended without a result"));
  if (!st.ok()) log_.error(st.error());
  if (format_ == StatsFormat::json)
    log_.error(stats_json(stats_, st));
  else if (format_ == StatsFormat::text && st.ok())
    log_.info(stats_text(stats_));
  else if (st.ok())
    log_.verbose(stats_text(stats_));
  return st.ok() ? 0 : st.error().exit_code();
}

} // namespace qpipe::cli
