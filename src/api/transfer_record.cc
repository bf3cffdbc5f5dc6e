// Transfer records and their JSON (see transfer_record.h).
#include "api/transfer_record.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/log.h"
#include "frontend/stats_json.h"

namespace qpipe::api {

using nlohmann::json;

const char* state_name(TransferState s) {
  return kStateNames[static_cast<size_t>(s)];
}

std::string now_iso() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return strprintf("%s.%03lldZ", buf, static_cast<long long>(ms));
}

void TransferRecord::refresh(const app::TransferStats& s) {
  std::string local = std::move(stats.local);
  stats = s;
  if (stats.local.empty()) stats.local = std::move(local);
  if (state == TransferState::pending && (s.bytes > 0 || !s.peer.empty()))
    state = TransferState::running;
}

void TransferRecord::on_file(const app::FileEvent& e) {
  using S = app::FileEvent::State;
  // The file is the newest one of its sender, when it is being received.
  auto it = std::find_if(files.rbegin(), files.rend(), [&](const FileRecord& f) {
    return f.state == S::receiving && f.name == e.name && f.peer == e.peer;
  });
  if (it == files.rend() || e.state == S::receiving) {
    files.push_back(FileRecord{e.name, e.size, e.bytes, e.state, e.peer});
    if (files.size() > kMaxFilesListed) files.pop_front();
  } else {
    it->bytes = e.bytes;
    it->size = e.size;
    it->state = e.state;
  }
  if (e.state == S::done) ++files_received;
  if (e.state == S::failed) ++files_failed;
}

void TransferRecord::end(const Status& result, const app::TransferStats& s,
                         std::string finished_at) {
  refresh(s);
  over = true;
  finished = std::move(finished_at);
  if (result.ok()) {
    state = TransferState::done;
    return;
  }
  bool cancelled = state == TransferState::cancelled || result.error().code == Errc::interrupted;
  state = cancelled ? TransferState::cancelled : TransferState::failed;
  error = result.error().message();
}

namespace {

json nullable(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

const char* file_state_name(app::FileEvent::State s) {
  switch (s) {
  case app::FileEvent::State::receiving:
    return "receiving";
  case app::FileEvent::State::done:
    return "done";
  case app::FileEvent::State::failed:
    return "failed";
  }
  return "?";
}

// Percent of the known size, one decimal; a finished transfer is at 100.
json percent(const TransferRecord& r) {
  if (r.state == TransferState::done) return 100.0;
  if (!r.stats.size) return nullptr;
  if (*r.stats.size == 0) return 0.0;
  double p = 100.0 * static_cast<double>(r.stats.bytes) / static_cast<double>(*r.stats.size);
  return std::round(std::min(p, 100.0) * 10) / 10;
}

// A refused identity in the api's words: the CLI's facts, and a fix that
// names the request field rather than the command-line option.
json identity_json(const tls::IdentityRefusal& x) {
  std::string fix =
      x.known_hosts.empty()
          ? "If the change is expected, send with \"pin\": \"" + x.presented + "\""
          : strprintf("If the change is expected, run qpipe --forget %s (or remove line %d of %s), "
                      "or send with \"pin\": \"%s\"",
                      x.key.c_str(), x.line, x.known_hosts.c_str(), x.presented.c_str());
  json j = {{"presented", x.presented}, {"expected", x.expected}, {"fix", fix}};
  if (!x.known_hosts.empty()) {
    j["known_hosts"] = x.known_hosts;
    j["line"] = x.line;
  }
  return j;
}

} // namespace

json to_json(const TransferRecord& r) {
  json j = frontend::to_json(r.stats);
  j["id"] = r.id();
  j["role"] = r.role;
  j["state"] = state_name(r.state);
  j["peer"] = nullable(r.stats.peer);
  j["fingerprint"] = nullable(r.stats.fingerprint);
  j["started"] = r.started;
  j["finished"] = nullable(r.finished);
  j["size"] = r.stats.size ? json(*r.stats.size) : json(nullptr);
  j["percent"] = percent(r);
  std::string error = r.error;
  if (r.stats.identity_refused) {
    const auto& x = *r.stats.identity_refused;
    json id = identity_json(x);
    j["identity"] = id;
    // The error says it all in one line, as the CLI's lines do (a wrong
    // pin's message names both fingerprints already).
    if (!x.known_hosts.empty())
      error += strprintf(": %s line %d has %s; the listener presented %s", x.known_hosts.c_str(),
                         x.line, x.expected.c_str(), x.presented.c_str());
    error += ". " + id["fix"].get<std::string>();
  }
  j["error"] = nullable(error);
  if (r.role == "listen") {
    j["listen"] = r.stats.local;
    json files = json::array();
    for (const auto& f : r.files)
      files.push_back({{"name", f.name},
                       {"size", f.size ? json(*f.size) : json(nullptr)},
                       {"bytes", f.bytes},
                       {"state", file_state_name(f.state)},
                       {"peer", f.peer}});
    j["files"] = std::move(files);
    j["files_received"] = r.files_received;
    j["files_failed"] = r.files_failed;
  }
  return j;
}

} // namespace qpipe::api
