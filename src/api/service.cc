// The transfer service of `qpipe api` (see service.h).
#include "api/service.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "api/dashboard.h"
#include "api/gen_source.h"
#include "api/ip_literal.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "core/fs.h"
#include "core/host_port.h"
#include "core/units.h"
#include "frontend/option_ranges.h"
#include "frontend/output.h"
#include "tls/fingerprint.h"
#include "tls/known_hosts.h"
#include "uv/fd_io.h"
#include "version.h"

namespace qpipe::api {

using nlohmann::json;

namespace {

// Progress events go out this often while someone listens: as often as the
// engine measures.
constexpr uint64_t kTickMs = 250;

// A value checked by one of the checks that both front ends share; a failed
// check becomes the field's error in f.
template <typename Out, typename T>
void take(JsonFields& f, std::string_view field, Out& out, const Result<T>& checked) {
  if (checked)
    out = *checked;
  else
    f.fail(field, checked.error().why);
}

std::string compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

Service::Service(uv_loop_t* loop, ServiceConfig config, const Logger& log)
    : loop_(loop), config_(std::move(config)), log_(log),
      server_(loop,
              ServerConfig{config_.bind, config_.port, config_.token, config_.allowed_hosts, {}},
              &log),
      records_(config_.records) {
  auto bind = [this](Response (Service::*fn)(const Request&)) {
    return [this, fn](const Request& r) { return (this->*fn)(r); };
  };
  server_.route("GET", "/v1/health", bind(&Service::health));
  server_.route("POST", "/v1/sends", bind(&Service::start_send));
  server_.route("POST", "/v1/listeners", bind(&Service::start_listener));
  server_.route("GET", "/v1/transfers", bind(&Service::list));
  server_.route("GET", "/v1/transfers/{id}", bind(&Service::get));
  server_.route("GET", "/v1/transfers/{id}/events", bind(&Service::events));
  server_.route("DELETE", "/v1/transfers/{id}", bind(&Service::remove));
  server_.route("GET", "/metrics", bind(&Service::metrics));
  server_.route("GET", "/openapi.json", bind(&Service::openapi));
  add_dashboard_routes(server_);
}

Service::~Service() = default;

Status Service::start() {
  char real[PATH_MAX];
  if (!realpath(config_.root.c_str(), real)) return errno_error(Errc::usage, config_.root, errno);
  root_real_ = real;
  struct stat st;
  if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::usage, config_.root, "--root must be a directory");
  int rv = reaper_.init(loop_, [this] { retired_.clear(); });
  if (rv == 0) rv = tick_.init(loop_, [this] { on_tick(); });
  if (rv == 0) rv = sweep_.init(loop_, [this] { records_.expire(uv_now(loop_)); });
  if (rv != 0) return uv_error(Errc::connect, "timer", rv);
  // Aged records go within a second of their time, or a minute for long ages.
  uint64_t sweep = std::clamp<uint64_t>(config_.records.ttl_ms, 1000, 60'000);
  sweep_.start(sweep, sweep);
  return server_.start();
}

void Service::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  std::vector<app::Transfer*> running;
  for (auto& [n, live] : live_)
    running.push_back(live.transfer.get());
  for (app::Transfer* t : running)
    t->cancel(make_error(Errc::interrupted, "api", "the service is shutting down"));
  hub_.end_all();
  tick_.stop();
  sweep_.stop();
  server_.stop(std::move(done));
}

app::TransferEvents Service::events_for(uint64_t n) {
  app::TransferEvents ev;
  ev.on_progress = [this, n](const app::TransferStats& s) {
    if (auto* r = records_.find(n)) r->refresh(s);
  };
  ev.on_info = [this](const std::string& line) { log_.verbose(line); };
  ev.on_done = [this, n](const Status& st, const app::TransferStats& s) {
    transfer_over(n, st, s);
  };
  ev.on_transfer_done = [this, n](const Status& st, const app::TransferStats& s) {
    auto* r = records_.find(n);
    if (!r) return;
    r->refresh(s);
    if (!st.ok()) r->error = st.error().message();
  };
  ev.on_file = [this, n](const app::FileEvent& e) {
    if (auto* r = records_.find(n)) r->on_file(e);
  };
  return ev;
}

void Service::transfer_over(uint64_t n, const Status& st, const app::TransferStats& s) {
  if (auto* r = records_.find(n)) {
    r->end(st, s, now_iso());
    hub_.finish(n, "end", compact(to_json(*r)));
  }
  if (auto it = live_.find(n); it != live_.end()) {
    --(it->second.send ? live_sends_ : live_listeners_);
    // Called from inside the engine object: it is destroyed a moment later.
    retired_.push_back(std::move(it->second.transfer));
    live_.erase(it);
    reaper_.start(0);
  }
  records_.finished(n, uv_now(loop_));
}

void Service::refresh(TransferRecord& r) {
  auto it = live_.find(r.number);
  if (it != live_.end() && !r.over) r.refresh(it->second.transfer->stats());
}

TransferRecord* Service::find(const Request& req) {
  records_.expire(uv_now(loop_));
  return records_.find(req.param("id"));
}

void Service::on_tick() {
  if (hub_.empty()) return tick_.stop();
  for (uint64_t n : hub_.watched()) {
    auto* r = records_.find(n);
    if (!r) continue;
    refresh(*r);
    hub_.publish(n, "progress", compact(to_json(*r)));
  }
}

Response Service::too_many(const char* what, size_t max, const char* option) const {
  Response r = json_error(429, "too_many",
                          strprintf("%zu %s are running, the most allowed (%s); wait for one to "
                                    "end or cancel one",
                                    max, what, option));
  r.headers.set("Retry-After", "1");
  return r;
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
  if (live_sends_ >= config_.max_sends) return too_many("sends", config_.max_sends, "--max-sends");

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
  if (pin && !tls::is_fingerprint(*pin))
    f.fail("pin",
           "not a fingerprint (SHA256: and 43 base64 characters, as the listener prints it)");
  if (pin && insecure.value_or(false)) f.fail("insecure", "not together with \"pin\"");
  if (secret && secret->empty()) f.fail("secret", "must not be empty");
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
  TransferRecord& r = records_.add("send");
  uint64_t n = r.number;
  auto t = app::start_send(loop_, o, std::move(src), log_, events_for(n));
  if (!t) {
    r.end(t.error(), app::TransferStats{}, now_iso());
    json j = to_json(r);
    records_.finished(n, uv_now(loop_)); // may drop it at once (--max-records 0)
    return json_ok(201, j);
  }
  app::Transfer& transfer = **t;
  live_[n] = Live{std::move(*t), true};
  ++live_sends_;
  r.refresh(transfer.stats()); // the size, when the source knows it
  r.state = TransferState::running;
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
  auto overwrite = f.optional_bool("overwrite");
  auto unauthenticated = f.optional_bool("allow_unauthenticated");
  f.reject_unknown();
  if (secret && secret->empty()) f.fail("secret", "must not be empty");
  if (!f.ok()) return f.error();
  if (live_listeners_ >= config_.max_listeners)
    return too_many("listeners", config_.max_listeners, "--max-listeners");
  app::ListenOptions o;
  if (listen) {
    auto hp = parse_host_port(*listen, true, app::kDefaultPort);
    if (!hp) return field_error("listen", hp.error().why);
    o.host = hp->host;
    o.port = hp->port;
  }
  // Anyone who can reach a listener on another address can send to it.
  if (!is_loopback_address(o.host) && !secret && !unauthenticated.value_or(false))
    return json_error(403, "forbidden",
                      "a listener on " + (o.host.empty() ? std::string("all addresses") : o.host) +
                          " can be reached from other hosts: give it a \"secret\", or say "
                          "\"allow_unauthenticated\": true");
  auto full = resolve_under_root(output, false);
  if (!full) return full.error();
  // What is there stays there unless the request says otherwise: an existing
  // file is not replaced, nor a file inside an existing directory (a device
  // or FIFO is written into, not replaced: frontend/output.h).
  o.no_clobber = !overwrite.value_or(false);
  struct stat st;
  if (o.no_clobber && stat(full->c_str(), &st) == 0 && S_ISREG(st.st_mode))
    return json_error(409, "conflict",
                      "output: " + output + " exists; \"overwrite\": true replaces it");
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
  TransferRecord& r = records_.add("listen");
  uint64_t n = r.number;
  auto t = app::start_listen(loop_, o, std::move(*sinks), log_, events_for(n));
  if (!t) {
    int status = t.error().code == Errc::usage ? 422 : 409;
    records_.discard(n);
    return json_error(status, status == 422 ? "unprocessable" : "conflict", t.error().message());
  }
  app::Transfer& transfer = **t;
  live_[n] = Live{std::move(*t), false};
  ++live_listeners_;
  r.refresh(transfer.stats());
  return json_ok(201, to_json(r));
}

Response Service::list(const Request&) {
  records_.expire(uv_now(loop_));
  json a = json::array();
  records_.for_each([&](TransferRecord& r) {
    refresh(r);
    a.push_back(to_json(r));
  });
  return json_ok(200, json{{"transfers", a}});
}

Response Service::get(const Request& req) {
  TransferRecord* r = find(req);
  if (!r) return json_error(404, "not_found", "no transfer with that id");
  refresh(*r);
  return json_ok(200, to_json(*r));
}

Response Service::events(const Request& req) {
  TransferRecord* r = find(req);
  if (!r) return json_error(404, "not_found", "no transfer with that id");
  Response resp;
  resp.headers.set("Content-Type", "text/event-stream");
  resp.headers.set("Cache-Control", "no-store");
  uint64_t n = r->number;
  // The current state at once; then progress while it runs, and the end.
  resp.stream = [this, n](std::shared_ptr<BodyStream> stream) {
    TransferRecord* r = records_.find(n);
    if (!r) return stream->end();
    refresh(*r);
    if (r->over) {
      if (stream->write(sse_event("end", compact(to_json(*r))))) stream->end();
      return;
    }
    if (!stream->write(sse_event("progress", compact(to_json(*r))))) return;
    bool idle = hub_.empty();
    hub_.subscribe(n, std::move(stream));
    if (idle) tick_.start(kTickMs, kTickMs);
  };
  return resp;
}

Response Service::remove(const Request& req) {
  TransferRecord* r = find(req);
  if (!r) return json_error(404, "not_found", "no transfer with that id");
  if (r->over) { // finished: the record goes
    json j = to_json(*r);
    records_.remove(r->number);
    return json_ok(200, j);
  }
  if (r->state == TransferState::cancelled)
    return json_error(409, "conflict", "the transfer is being cancelled");
  r->state = TransferState::cancelled;
  live_.at(r->number).transfer->cancel(make_error(Errc::interrupted, "api", "cancelled by DELETE"));
  return json_ok(200, to_json(*r));
}

Response Service::metrics(const Request&) {
  MetricsWriter w;
  std::map<std::string, uint64_t> by_state; // by name: the samples in name order
  for (const char* name : kStateNames)
    by_state[name] = 0;
  uint64_t bytes = 0, wire = 0;
  records_.expire(uv_now(loop_));
  records_.for_each([&](TransferRecord& r) {
    ++by_state[state_name(r.state)];
    bytes += r.stats.bytes;
    wire += r.stats.wire_bytes;
  });
  w.family("qpipe_transfers", "Transfers by state.", MetricType::gauge);
  for (auto& [state, n] : by_state)
    w.sample(static_cast<double>(n), {{"state", state}});
  w.family("qpipe_transfer_bytes", "Payload bytes carried by the transfers listed.",
           MetricType::gauge);
  w.sample(static_cast<double>(bytes));
  w.family("qpipe_transfer_wire_bytes", "UDP bytes of the transfers listed.", MetricType::gauge);
  w.sample(static_cast<double>(wire));
  w.family("qpipe_transfers_live", "Sends and listeners running, by role.", MetricType::gauge);
  w.sample(static_cast<double>(live_listeners_), {{"role", "listen"}});
  w.sample(static_cast<double>(live_sends_), {{"role", "send"}});
  server_.write_metrics(w);
  return text_response(200, std::string(MetricsWriter::kContentType), w.take());
}

Response Service::openapi(const Request&) {
  return text_response(200, "application/json", openapi_document());
}

} // namespace qpipe::api
