// One transfer as `qpipe api` reports it (GET /v1/transfers, the events
// stream, the dashboard).
//
// A record is plain data: the latest stats the engine gave, the state, the
// times, the error, and for a listener the files it received. It never holds
// an engine object, so a finished transfer's buffers are gone while its
// record stays to be read (see record_table.h for how long).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/transfer.h"

namespace qpipe::api {

// The states of a transfer, and their names in the api.
enum class TransferState { pending, running, done, failed, cancelled };
inline constexpr const char* kStateNames[] = {"pending", "running", "done", "failed", "cancelled"};
const char* state_name(TransferState s);

// A named file a listener received, or is receiving.
struct FileRecord {
  std::string name;
  std::optional<uint64_t> size;
  uint64_t bytes = 0;
  app::FileEvent::State state = app::FileEvent::State::receiving;
  std::string peer;
};

struct TransferRecord {
  // Files listed per record: the most recent ones; the counts cover all.
  static constexpr size_t kMaxFilesListed = 100;

  uint64_t number = 0; // the id is "t<number>"
  std::string role;    // "send" or "listen"
  TransferState state = TransferState::pending;
  app::TransferStats stats;
  std::string error;
  std::string started, finished; // ISO 8601, UTC
  bool over = false;
  std::deque<FileRecord> files;
  uint64_t files_received = 0, files_failed = 0;

  std::string id() const { return "t" + std::to_string(number); }
  // Takes the engine's latest stats; a listener's address is kept when they
  // do not carry it.
  void refresh(const app::TransferStats& s);
  // A listener's file began, arrived or failed.
  void on_file(const app::FileEvent& e);
  // The transfer ended with `result` (cancelled when a DELETE asked for it
  // or the service shut down).
  void end(const Status& result, const app::TransferStats& s, std::string finished_at);
};

// The record as the api shows it: the CLI's --stats=json fields, and id,
// role, state, peer, fingerprint, started, finished, error, size, percent,
// files; a refused identity adds "identity" with both fingerprints and the
// fix.
nlohmann::json to_json(const TransferRecord& r);

// The current time as ISO 8601 UTC with milliseconds, e.g. 2026-11-30T04:15:00.123Z.
std::string now_iso();

} // namespace qpipe::api
