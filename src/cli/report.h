// What the CLI shows of a transfer on stderr: the progress line while it
// runs (-p, or by default on a terminal without -q), the summary after each
// transfer of a listener that keeps listening (--stats), and at the end the
// error, if any, and the summary (--stats as text or JSON; with -v the text).
#pragma once

#include <optional>
#include <string>

#include "app/transfer.h"
#include "cli/parse.h"

namespace qpipe::cli {

class Report {
public:
  // `log` is the run's logger, which must outlive the report: the report
  // tells it when a progress line is on screen.
  Report(const Config& config, Logger& log);
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;

  // The engine's events, reported here; the result is kept for finish().
  app::TransferEvents events();
  // Clears the progress line and prints the error and the summary; returns
  // the exit status.
  int finish();

private:
  void draw_progress(const app::TransferStats& stats);

  Logger& log_;
  StatsFormat format_;
  bool progress_;
  bool progress_drawn_ = false;
  std::optional<Status> result_;
  app::TransferStats stats_;
};

// --stats=json: {"ok":...,<the stats (frontend/stats_json.h)>,"error":...},
// "error" only on failure.
std::string stats_json(const app::TransferStats& stats, const Status& status);
// --stats: "5.00 MiB in 0.1s (50.0 MiB/s), ... peer HOST:PORT".
std::string stats_text(const app::TransferStats& stats);

} // namespace qpipe::cli
