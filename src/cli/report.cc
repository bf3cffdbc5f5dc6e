// What the CLI shows of a transfer on stderr (see report.h).
#include "cli/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fcntl.h>
#include <map>
#include <unistd.h>

#include "core/printable.h"
#include "core/units.h"
#include "frontend/stats_json.h"

namespace qpipe::cli {
namespace {

double rate_of(const app::TransferStats& s) {
  return s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
}

// One write(2), so that the line stays whole beside the logger's.
void write_all(int fd, const std::string& text) {
  ssize_t n = ::write(fd, text.data(), text.size());
  (void)n;
}

} // namespace

std::string progress_line(const app::TransferStats& s) {
  double rate = rate_of(s);
  std::string line = format_bytes(s.bytes);
  bool within = s.size && *s.size > 0 && s.bytes <= *s.size;
  if (within) {
    // Rounded down: 100% only when every byte is there.
    double percent =
        std::floor(100.0 * static_cast<double>(s.bytes) / static_cast<double>(*s.size));
    line += strprintf(" of %s (%3.0f%%)", format_bytes(*s.size).c_str(), percent);
  } else if (s.size && s.bytes > *s.size) {
    line += " (past the expected " + format_bytes(*s.size) + ")";
  }
  line += "  " + format_rate(rate) + "  " + format_duration(s.seconds);
  if (s.files_total > 0)
    line += strprintf("  [%u/%u] %s", std::min(s.files_done + 1, s.files_total), s.files_total,
                      printable(s.file).c_str()); // a name the peer chose
  if (within && rate > 0 && *s.size > s.bytes)
    line += "  ETA " + format_duration(static_cast<double>(*s.size - s.bytes) / rate);
  return line;
}

// The zstd levels chunks were sent at: "zstd level 3", or
// "zstd levels 3-7, mostly 5".
std::string levels_text(const std::map<int, uint64_t>& levels) {
  if (levels.empty()) return "";
  int lo = levels.begin()->first, hi = levels.rbegin()->first;
  if (lo == hi) return strprintf(", zstd level %d", lo);
  auto most = std::max_element(levels.begin(), levels.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return strprintf(", zstd levels %d to %d, mostly %d", lo, hi, most->first);
}

std::string stats_text(const app::TransferStats& s) {
  std::string ratio;
  if (s.payload_wire_bytes > 0 && s.payload_wire_bytes < s.bytes)
    ratio = strprintf(" (compressed %.2fx%s)",
                      static_cast<double>(s.bytes) / static_cast<double>(s.payload_wire_bytes),
                      levels_text(s.zstd_levels).c_str());
  std::string line = strprintf("%s in %s (%s), %s on the wire%s", format_bytes(s.bytes).c_str(),
                               format_duration(s.seconds).c_str(), format_rate(rate_of(s)).c_str(),
                               format_bytes(s.wire_bytes).c_str(), ratio.c_str());
  if (s.rtt_ms) line += strprintf(", rtt %.2f ms", *s.rtt_ms);
  if (s.lost_packets) line += ", " + count_of(*s.lost_packets, "packet") + " lost";
  if (s.path_changes > 0) line += ", " + count_of(s.path_changes, "path change");
  return line + ", peer " + s.peer;
}

std::string summary_line(bool sent, const app::TransferStats& s) {
  std::string line = sent ? "sent " : "received ";
  if (s.files_total > 0) line += count_of(s.files_total, "file") + ", ";
  line += format_bytes(s.bytes) + " in " + format_duration(s.seconds) + " (" +
          format_rate(rate_of(s)) + ")";
  if (!s.peer.empty()) line += (sent ? " to " : " from ") + s.peer;
  if (s.payload_wire_bytes > 0 && s.payload_wire_bytes < s.bytes)
    line += strprintf(", compressed %.2fx",
                      static_cast<double>(s.bytes) / static_cast<double>(s.payload_wire_bytes));
  return line;
}

std::string stats_json(const app::TransferStats& s, const Status& st) {
  nlohmann::ordered_json j{{"ok", st.ok()}};
  j.update(frontend::to_json(s));
  if (!st.ok()) j["error"] = st.error().message();
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Report::Report(const Config& config, Logger& log)
    : log_(log), mode_(config.mode), format_(config.stats), stats_file_(config.stats_file),
      progress_(config.progress == Progress::on ||
                (config.progress == Progress::automatic && isatty(STDERR_FILENO) &&
                 config.verbosity != Verbosity::quiet)),
      keep_listening_(config.mode == kListen && config.listen.keep_listening),
      announce_listening_(config.mode == kListen && config.listen.port == 0) {}

Status Report::open_stats_file() {
  if (stats_file_.empty()) return {};
  stats_fd_.reset(
      ::open(stats_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666));
  if (!stats_fd_) return errno_error(Errc::local_io, stats_file_, errno);
  return {};
}

app::TransferEvents Report::events() {
  app::TransferEvents ev;
  ev.on_info = [this](const std::string& line) {
    if (announce_listening_ && line.rfind(app::kListeningPrefix, 0) == 0)
      log_.always(line);
    else
      log_.info(line);
  };
  ev.on_progress = [this](const app::TransferStats& s) { draw_progress(s); };
  ev.on_done = [this](const Status& st, const app::TransferStats& s) {
    result_ = st;
    stats_ = s;
  };
  ev.on_transfer_done = [this](const Status& st, const app::TransferStats& s) { summarize(st, s); };
  return ev;
}

void Report::draw_progress(const app::TransferStats& s) {
  if (!progress_) return;
  write_all(STDERR_FILENO, "\r\033[Kqpipe: " + progress_line(s));
  progress_drawn_ = true;
  log_.set_progress_active(true);
}

void Report::clear_progress() {
  if (!progress_drawn_) return;
  write_all(STDERR_FILENO, "\r\033[K");
  progress_drawn_ = false;
  log_.set_progress_active(false);
}

void Report::write_stats(const std::string& line) {
  if (stats_fd_)
    write_all(stats_fd_.get(), line + "\n");
  else if (format_ == StatsFormat::json)
    write_all(STDERR_FILENO, line + "\n"); // bare: no `qpipe: ` prefix
  else
    log_.always(line);
}

void Report::summarize(const Status& st, const app::TransferStats& s) {
  clear_progress();
  if (!st.ok()) log_.error(st.error());
  if (format_ == StatsFormat::json) write_stats(stats_json(s, st));
  if (!st.ok()) return;
  if (format_ == StatsFormat::text) write_stats(stats_text(s));
  // The text summary on stderr says all that the short line would.
  if (format_ == StatsFormat::text && !stats_fd_) return;
  if (progress_) log_.info(summary_line(mode_ != kListen, s));
  log_.verbose(stats_text(s));
}

int Report::finish() {
  Status st = result_.value_or(make_error(Errc::transfer, "transfer", "ended without a result"));
  if (keep_listening_) {
    // Each transfer was summarised as it ended; what is left is why the
    // listener stopped.
    clear_progress();
    if (!st.ok()) log_.error(st.error());
  } else {
    summarize(st, stats_);
  }
  return st.ok() ? 0 : st.error().exit_code();
}

} // namespace qpipe::cli
