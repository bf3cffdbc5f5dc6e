#include "api/service.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

#include "api/gen_source.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "core/fs.h"
#include "core/host_port.h"
#include "core/units.h"
#include "frontend/option_ranges.h"
#include "frontend/output.h"
#include "frontend/stats_json.h"
#include "tls/known_hosts.h"
#include "uv/fd_io.h"
#include "version.h"

namespace qpipe::api {

using nlohmann::json;

namespace {

// The states of a transfer, and their names in GET /v1/transfers.
enum class State { pending, running, done, failed, cancelled };
constexpr const char* kStateNames[] = {"pending", "running", "done", "failed", "cancelled"};

const char* state_name(State s) {
  return kStateNames[static_cast<size_t>(s)];
}

} // namespace

struct Service::Record {
  std::string id, role;
  State state = State::pending;
  std::unique_ptr<app::Transfer> transfer;
  app::TransferStats stats;
  std::string error;
  std::string started, finished;
  bool over = false;

  // Takes the engine's latest stats; a listener's address is kept when they
  // do not carry it.
  void refresh(const app::TransferStats& s) {
    std::string local = std::move(stats.local);
    stats = s;
    if (stats.local.empty()) stats.local = std::move(local);
  }
  // Asks a live transfer for its stats.
  void refresh() {
    if (transfer && !over) refresh(transfer->stats());
  }
};

namespace {

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

json to_json(const Service::Record& r);

// A value checked by one of the checks that both front ends share; a failed
// check becomes the field's error in f.
template <typename Out, typename T>
void take(JsonFields& f, std::string_view field, Out& out, const Result<T>& checked) {
  if (checked)
    out = *checked;
  else
    f.fail(field, checked.error().why);
}

} // namespace

Service::Service(uv_loop_t* loop, ServiceConfig config, const Logger& log)
    : loop_(loop), config_(std::move(config)), log_(log),
      server_(loop, ServerConfig{config_.bind, config_.port, config_.token, {}}, &log) {
  auto bind = [this](Response (Service::*fn)(const Request&)) {
    return [this, fn](const Request& r) { return (this->*fn)(r); };
  };
  server_.route("GET", "/v1/health", bind(&Service::health));
  server_.route("POST", "/v1/sends", bind(&Service::start_send));
  server_.route("POST", "/v1/listeners", bind(&Service::start_listener));
  server_.route("GET", "/v1/transfers", bind(&Service::list));
  server_.route("GET", "/v1/transfers/{id}", bind(&Service::get));
  server_.route("DELETE", "/v1/transfers/{id}", bind(&Service::cancel));
  server_.route("GET", "/metrics", bind(&Service::metrics));
  server_.route("GET", "/openapi.json", bind(&Service::openapi));
}

Service::~Service() = default;

Status Service::start() {
  char real[PATH_MAX];
  if (!realpath(config_.root.c_str(), real)) return errno_error(Errc::usage, config_.root, errno);
  root_real_ = real;
  struct stat st;
  if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::usage, config_.root, "--root must be a directory");
  return server_.start();
}

void Service::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  for (auto& [id, r] : records_)
    if (!r->over && r->transfer)
      r->transfer->cancel(make_error(Errc::interrupted, "api", "the service is shutting down"));
  server_.stop(std::move(done));
}

Service::Record& Service::add_record(std::string role) {
  auto r = std::make_unique<Record>();
  r->id = strprintf("t%llu", static_cast<unsigned long long>(next_id_++));
  r->role = std::move(role);
  r->started = now_iso();
  Record& ref = *r;
  records_[ref.id] = std::move(r);
  return ref;
}

app::TransferEvents Service::events_for(Record& r) {
  app::TransferEvents ev;
  Record* rp = &r;
  ev.on_progress = [rp](const app::TransferStats& s) {
    rp->refresh(s);
    if (rp->state == State::pending && (s.bytes > 0 || !s.peer.empty())) rp->state = State::running;
  };
  ev.on_info = [this](const std::string& line) { log_.verbose(line); };
  ev.on_done = [rp](const Status& st, const app::TransferStats& s) {
    rp->refresh(s);
    rp->over = true;
    rp->finished = now_iso();
    if (st.ok()) {
      rp->state = State::done;
    } else {
      bool cancelled = rp->state == State::cancelled || st.error().code == Errc::interrupted;
      rp->state = cancelled ? State::cancelled : State::failed;
      rp->error = st.error().message();
    }
  };
  ev.on_transfer_done = [rp](const Status& st, const app::TransferStats& s) {
    rp->refresh(s);
    if (!st.ok()) rp->error = st.error().message();
  };
  return ev;
}

Checked<std::string> Service::resolve_under_root(const std::string& rel, bool must_exist) {
  if (rel.empty()) return json_error(422, "unprocessable", "path: must not be empty");
  if (rel[0] == '/')
    return json_error(403, "forbidden",
                      "path: absolute paths are refused; paths are relative to --root");
  std::string full = root_real_ + "/" + rel;
  char real[PATH_MAX];
  std::string checked;
  if (realpath(full.c_str(), real)) {
    checked = real;
  } else {
    if (must_exist)
      return json_error(422, "unprocessable", "path: " + rel + ": " + std::strerror(errno));
    // A file to be created: its directory must exist and resolve inside the root.
    auto [dir, base] = split_path(full);
    if (base.empty() || base == "." || base == "..")
      return json_error(403, "forbidden", "path: " + rel + " does not name a file");
    if (!realpath(dir.c_str(), real))
      return json_error(422, "unprocessable", "path: " + rel + ": " + std::strerror(errno));
    checked = std::string(real) + "/" + base;
  }
  if (checked != root_real_ && checked.rfind(root_real_ + "/", 0) != 0)
    return json_error(403, "forbidden", "path: " + rel + " resolves outside --root");
  return checked;
}

Response Service::health(const Request&) {
  return json_ok(200, json{{"status", "ok"}, {"version", QPIPE_VERSION}});
}

Response Service::start_send(const Request& req) {
  if (shutting_down_) return json_error(409, "conflict", "the service is shutting down");
  auto body = parse_json_object(req.body);
  if (!body) return body.error();
  JsonFields f(*body);
  std::string peer = f.required_string("peer");
  const json* source = f.required_object("source");
  auto zstd = f.optional_int("zstd");
  auto streams = f.optional_int("streams");
  auto pin = f.optional_string("pin");
  auto insecure = f.optional_bool("insecure");
  auto secret = f.optional_string("secret");
  auto limit = f.optional_string("limit");
  auto chunk = f.optional_string("chunk_size");
  f.reject_unknown();
  if (!f.ok()) return f.error();

  app::SendOptions o;
  auto hp = parse_host_port(peer, false, app::kDefaultPort);
  if (!hp) return field_error("peer", hp.error().why);
  o.host = hp->host;
  o.port = hp->port;
  o.peer_key = tls::known_hosts_key(o.host, o.port);
  // The checks the CLI makes of the same options, in the same words.
  if (zstd) {
    std::optional<int> level;
    take(f, "zstd", level, frontend::check_zstd_level(*zstd, "zstd"));
    if (level) o.zstd = codec::LevelRange{*level, *level};
  }
  if (streams) take(f, "streams", o.streams, frontend::check_streams(*streams, "streams"));
  if (limit) take(f, "limit", o.limit_bytes_per_second, parse_rate(*limit, "limit"));
  if (chunk) take(f, "chunk_size", o.chunk_size, frontend::parse_chunk_size(*chunk, "chunk_size"));
  if (pin && insecure.value_or(false)) f.fail("insecure", "not together with \"pin\"");
  if (!f.ok()) return f.error();
  if (pin) {
    o.verify = app::Verify::pin;
    o.pin = *pin;
  } else if (insecure.value_or(false)) {
    o.verify = app::Verify::insecure;
  } else {
    o.known_hosts_file = config_.known_hosts_file;
  }
  if (secret) o.secret = *secret;

  // The source: a file under the root, or generated data.
  JsonFields sf(*source, "source");
  auto path = sf.optional_string("path");
  const json* g = sf.optional_object("gen");
  sf.reject_unknown();
  if (!sf.ok()) return sf.error();
  if (path.has_value() == (g != nullptr))
    return field_error("source", "exactly one of \"path\" and \"gen\"");
  std::unique_ptr<app::ByteSource> src;
  if (path) {
    auto full = resolve_under_root(*path, true);
    if (!full) return full.error();
    struct stat st;
    if (stat(full->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return field_error("source.path", "not a regular file");
    auto s = uvx::FdSource::open_file(loop_, *full);
    if (!s) return field_error("source.path", s.error().message());
    src = std::move(*s);
  } else {
    JsonFields gf(*g, "source.gen");
    std::string size_text = gf.required_string("size");
    auto seed = gf.optional_int("seed", 0, INT64_MAX);
    auto kind_text = gf.optional_string("kind");
    gf.reject_unknown();
    if (!gf.ok()) return gf.error();
    auto size = parse_size(size_text, "size");
    if (!size) return field_error("source.gen.size", size.error().why);
    auto kind = gen::parse_kind(kind_text.value_or("random"));
    if (!kind) return field_error("source.gen.kind", kind.error().why);
    src = std::make_unique<GenSource>(loop_, *kind, static_cast<uint64_t>(seed.value_or(0)), *size);
  }
  Record& r = add_record("send");
  auto t = app::start_send(loop_, o, std::move(src), log_, events_for(r));
  if (!t) {
    r.state = State::failed;
    r.error = t.error().message();
    r.over = true;
    r.finished = now_iso();
    return json_ok(201, to_json(r));
  }
  r.transfer = std::move(*t);
  r.state = State::running;
  r.stats.peer = peer;
  return json_ok(201, to_json(r));
}

Response Service::start_listener(const Request& req) {
  if (shutting_down_) return json_error(409, "conflict", "the service is shutting down");
  auto body = parse_json_object(req.body);
  if (!body) return body.error();
  JsonFields f(*body);
  auto listen = f.optional_string("listen");
  std::string output = f.required_string("output");
  auto secret = f.optional_string("secret");
  auto keep = f.optional_bool("keep_listening");
  f.reject_unknown();
  if (!f.ok()) return f.error();
  app::ListenOptions o;
  if (listen) {
    auto hp = parse_host_port(*listen, true, app::kDefaultPort);
    if (!hp) return field_error("listen", hp.error().why);
    o.host = hp->host;
    o.port = hp->port;
  }
  auto full = resolve_under_root(output, false);
  if (!full) return full.error();
  o.output = *full;
  o.keep_listening = keep.value_or(false);
  o.identity_dir = config_.identity_dir;
  if (secret) o.secret = *secret;
  // The output is checked before anything listens (frontend/output.h).
  auto sinks = frontend::output_sinks(loop_, o);
  if (!sinks) return field_error("output", sinks.error().message());
  // A dangling symlink is followed to the file it names: that must resolve
  // under the root as well.
  if (*o.output != *full) {
    auto [dir, base] = split_path(*o.output);
    char real[PATH_MAX];
    std::string d = realpath(dir.c_str(), real) ? real : "";
    if (d.empty() || (d != root_real_ && d.rfind(root_real_ + "/", 0) != 0))
      return json_error(403, "forbidden", "path: " + output + " resolves outside --root");
  }
  Record& r = add_record("listen");
  auto t = app::start_listen(loop_, o, std::move(*sinks), log_, events_for(r));
  if (!t) {
    int status = t.error().code == Errc::usage ? 422 : 409;
    std::string msg = t.error().message();
    records_.erase(r.id);
    return json_error(status, status == 422 ? "unprocessable" : "conflict", msg);
  }
  r.transfer = std::move(*t);
  r.refresh();
  return json_ok(201, to_json(r));
}

Response Service::list(const Request&) {
  json a = json::array();
  for (auto& [id, r] : records_) {
    r->refresh();
    a.push_back(to_json(*r));
  }
  return json_ok(200, json{{"transfers", a}});
}

Response Service::get(const Request& req) {
  auto it = records_.find(std::string(req.param("id")));
  if (it == records_.end()) return json_error(404, "not_found", "no transfer with that id");
  Record& r = *it->second;
  r.refresh();
  return json_ok(200, to_json(r));
}

Response Service::cancel(const Request& req) {
  auto it = records_.find(std::string(req.param("id")));
  if (it == records_.end()) return json_error(404, "not_found", "no transfer with that id");
  Record& r = *it->second;
  if (r.over)
    return json_error(409, "conflict",
                      std::string("the transfer is already ") + state_name(r.state));
  r.state = State::cancelled;
  r.transfer->cancel(make_error(Errc::interrupted, "api", "cancelled by DELETE"));
  return json_ok(200, to_json(r));
}

Response Service::metrics(const Request&) {
  MetricsWriter w;
  std::map<std::string, uint64_t> by_state; // by name: the samples in name order
  for (const char* name : kStateNames)
    by_state[name] = 0;
  uint64_t bytes = 0, wire = 0;
  for (auto& [id, r] : records_) {
    ++by_state[state_name(r->state)];
    bytes += r->stats.bytes;
    wire += r->stats.wire_bytes;
  }
  w.family("qpipe_transfers", "Transfers by state.", MetricType::gauge);
  for (auto& [state, n] : by_state)
    w.sample(static_cast<double>(n), {{"state", state}});
  w.family("qpipe_transfer_bytes", "Payload bytes carried by the transfers listed.",
           MetricType::gauge);
  w.sample(static_cast<double>(bytes));
  w.family("qpipe_transfer_wire_bytes", "UDP bytes of the transfers listed.", MetricType::gauge);
  w.sample(static_cast<double>(wire));
  server_.write_metrics(w);
  return text_response(200, std::string(MetricsWriter::kContentType), w.take());
}

Response Service::openapi(const Request&) {
  return text_response(200, "application/json", openapi_document());
}

namespace {
json nullable(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

// The stats as the CLI's --stats=json has them, and what the api adds.
json to_json(const Service::Record& r) {
  json j = frontend::to_json(r.stats);
  j["id"] = r.id;
  j["role"] = r.role;
  j["state"] = state_name(r.state);
  j["peer"] = nullable(r.stats.peer);
  j["fingerprint"] = nullable(r.stats.fingerprint);
  j["started"] = r.started;
  j["finished"] = nullable(r.finished);
  j["error"] = nullable(r.error);
  if (r.role == "listen") j["listen"] = r.stats.local;
  return j;
}
} // namespace

} // namespace qpipe::api
