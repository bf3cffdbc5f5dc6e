// What the CLI shows of a transfer on stderr: the progress line while it
// runs (-p, or by default on a terminal without -q), and when a transfer
// ends (each one of a listener with -k, or the only one) the error, if any,
// and the summary:
//  - --stats: one `qpipe: ` line of text, even with -q; --stats=json: one
//    bare JSON object on a line of its own (the one exception to the
//    `qpipe: ` rule, so that scripts can parse it); --stats-file FILE: the
//    same line in FILE instead of stderr, without prefix.
//  - otherwise, where the progress line was shown, a one-line summary that
//    stays on the screen in its place, as pv and rsync leave one (with -v
//    the full text line too).
// A listener that picks its port (-l 0) prints where it listens even with
// -q: the port is the answer to the command, like mktemp's file name.
#pragma once

#include <optional>
#include <string>

#include "app/transfer.h"
#include "cli/parse.h"
#include "core/fs.h"

namespace qpipe::cli {

class Report {
public:
  // `log` is the run's logger, which must outlive the report: the report
  // tells it when a progress line is on screen.
  Report(const Config& config, Logger& log);
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;

  // Creates (or empties) --stats-file; before the transfer starts, so that
  // a path that cannot be written fails first (Errc::local_io).
  Status open_stats_file();
  // The engine's events, reported here; the result is kept for finish().
  app::TransferEvents events();
  // Clears the progress line and prints the error and the summary; returns
  // the exit status.
  int finish();

private:
  void draw_progress(const app::TransferStats& stats);
  void clear_progress();
  // The end of one transfer: its error or its summary.
  void summarize(const Status& st, const app::TransferStats& stats);
  void write_stats(const std::string& line);

  Logger& log_;
  Mode mode_;
  StatsFormat format_;
  std::string stats_file_;
  UniqueFd stats_fd_;
  bool progress_;
  bool keep_listening_;
  bool announce_listening_; // -l with port 0: the chosen port, even with -q
  bool progress_drawn_ = false;
  std::optional<Status> result_;
  app::TransferStats stats_;
};

// --stats=json: {"ok":...,<the stats (frontend/stats_json.h)>,"error":...},
// "error" only on failure.
std::string stats_json(const app::TransferStats& stats, const Status& status);
// --stats: "5.00 MiB in 0.1s (50.0 MiB/s), ... peer HOST:PORT".
std::string stats_text(const app::TransferStats& stats);
// The line that stays on a terminal: "sent 5.00 MiB in 0.1s (50.0 MiB/s) to
// HOST:PORT", "received 2 files, 5.00 MiB in ... from HOST:PORT".
std::string summary_line(bool sent, const app::TransferStats& stats);
// The progress line: bytes, "of SIZE (NN%)" and ETA when the size is known
// (past it, no percentage: the size was only a hint), rate, time, file.
std::string progress_line(const app::TransferStats& stats);

} // namespace qpipe::cli
