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
#include "cli/parse.h"
#include "core/fs.h"
#include "core/units.h"
#include "pipeline/codec.h"
#include "tls/known_hosts.h"
#include "uv/fd_io.h"
#include "version.h"

namespace qpipe::api {

using nlohmann::json;

struct Service::Record {
  std::string id, role;
  std::string state = "pending"; // pending running done failed cancelled
  std::unique_ptr<app::Transfer> transfer;
  app::TransferStats stats;
  std::string error, local;
  std::string started, finished;
  double started_at = 0;
  bool over = false;
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
    rp->stats = s;
    if (rp->state == "pending" && (s.bytes > 0 || !s.peer.empty())) rp->state = "running";
  };
  ev.on_info = [this](const std::string& line) { log_.verbose(line); };
  ev.on_done = [rp](const Status& st, const app::TransferStats& s) {
    std::string local = rp->stats.local;
    rp->stats = s;
    if (rp->stats.local.empty()) rp->stats.local = local;
    rp->over = true;
    rp->finished = now_iso();
    if (st.ok()) {
      rp->state = "done";
    } else {
      rp->state =
          rp->state == "cancelled" || st.error().code == Errc::interrupted ? "cancelled" : "failed";
      rp->error = st.error().message();
    }
  };
  ev.on_transfer_done = [rp](const Status& st, const app::TransferStats& s) {
    rp->stats = s;
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
  auto zstd = f.optional_int("zstd", -131072, 22);
  auto streams = f.optional_int("streams", 1, app::kMaxStreams);
  auto pin = f.optional_string("pin");
  auto insecure = f.optional_bool("insecure");
  auto secret = f.optional_string("secret");
  auto limit = f.optional_string("limit");
  auto chunk = f.optional_string("chunk_size");
  f.reject_unknown();
  if (!f.ok()) return f.error();

  app::SendOptions o;
  auto hp = cli::parse_host_port(peer, false);
  if (!hp) return json_error(422, "unprocessable", "field \"peer\": " + hp.error().why);
  o.host = hp->host;
  o.port = hp->port;
  o.peer_key = tls::known_hosts_key(o.host, o.port);
  if (zstd) {
    if (!codec::level_valid(static_cast<int>(*zstd)))
      return json_error(422, "unprocessable", "field \"zstd\": level out of range");
    o.zstd_level = static_cast<int>(*zstd);
  }
  if (streams) o.streams = static_cast<int>(*streams);
  if (limit) {
    auto n = parse_rate(*limit, "limit");
    if (!n) return json_error(422, "unprocessable", "field \"limit\": " + n.error().why);
    o.limit_bytes_per_second = *n;
  }
  if (chunk) {
    auto n = parse_size(*chunk, "chunk_size");
    if (!n || *n < app::kMinChunkSize || *n > app::kMaxChunkSize)
      return json_error(422, "unprocessable", "field \"chunk_size\": between 64K and 16M");
    o.chunk_size = static_cast<uint32_t>(*n);
  }
  if (pin && insecure.value_or(false))
    return json_error(422, "unprocessable", "field \"insecure\": not together with \"pin\"");
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
    return json_error(422, "unprocessable",
                      "field \"source\": exactly one of \"path\" and \"gen\"");
  std::unique_ptr<app::ByteSource> src;
  if (path) {
    auto full = resolve_under_root(*path, true);
    if (!full) return full.error();
    struct stat st;
    if (stat(full->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return json_error(422, "unprocessable", "field \"source.path\": not a regular file");
    auto s = uvx::FdSource::open_file(loop_, *full);
    if (!s)
      return json_error(422, "unprocessable", "field \"source.path\": " + s.error().message());
    src = std::move(*s);
  } else {
    JsonFields gf(*g, "source.gen");
    std::string size_text = gf.required_string("size");
    auto seed = gf.optional_int("seed", 0, INT64_MAX);
    auto kind_text = gf.optional_string("kind");
    gf.reject_unknown();
    if (!gf.ok()) return gf.error();
    auto size = parse_size(size_text, "size");
    if (!size)
      return json_error(422, "unprocessable", "field \"source.gen.size\": " + size.error().why);
    auto kind = gen::parse_kind(kind_text.value_or("random"));
    if (!kind)
      return json_error(422, "unprocessable", "field \"source.gen.kind\": " + kind.error().why);
    src = std::make_unique<GenSource>(loop_, *kind, static_cast<uint64_t>(seed.value_or(0)), *size);
  }
  Record& r = add_record("send");
  auto t = app::start_send(loop_, o, std::move(src), log_, events_for(r));
  if (!t) {
    r.state = "failed";
    r.error = t.error().message();
    r.over = true;
    r.finished = now_iso();
    return json_ok(201, to_json(r));
  }
  r.transfer = std::move(*t);
  r.state = "running";
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
  auto hp = cli::parse_host_port(listen.value_or(":" + std::to_string(app::kDefaultPort)), true);
  if (!hp) return json_error(422, "unprocessable", "field \"listen\": " + hp.error().why);
  o.host = hp->host;
  o.port = hp->port;
  auto full = resolve_under_root(output, false);
  if (!full) return full.error();
  struct stat st;
  o.output = *full;
  o.output_is_directory = stat(full->c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  o.keep_listening = keep.value_or(false);
  o.identity_dir = config_.identity_dir;
  if (secret) o.secret = *secret;
  uv_loop_t* loop = loop_;
  std::string out = *full;
  bool is_dir = o.output_is_directory;
  std::optional<std::string> out_path = out;
  app::SinkFactory factory = [loop, out_path, is_dir](const app::FileMeta* file) {
    return uvx::open_output(loop, out_path, is_dir, file, {});
  };
  Record& r = add_record("listen");
  auto t = app::start_listen(loop_, o, factory, log_, events_for(r));
  if (!t) {
    int status = t.error().code == Errc::usage ? 422 : 409;
    std::string msg = t.error().message();
    records_.erase(r.id);
    return json_error(status, status == 422 ? "unprocessable" : "conflict", msg);
  }
  r.transfer = std::move(*t);
  r.stats = r.transfer->stats();
  r.local = r.stats.local;
  return json_ok(201, to_json(r));
}

Response Service::list(const Request&) {
  json a = json::array();
  for (auto& [id, r] : records_) {
    if (r->transfer && !r->over) {
      std::string local = r->stats.local;
      r->stats = r->transfer->stats();
      if (r->stats.local.empty()) r->stats.local = local;
    }
    a.push_back(to_json(*r));
  }
  return json_ok(200, json{{"transfers", a}});
}

Response Service::get(const Request& req) {
  auto it = records_.find(std::string(req.param("id")));
  if (it == records_.end()) return json_error(404, "not_found", "no transfer with that id");
  Record& r = *it->second;
  if (r.transfer && !r.over) {
    std::string local = r.stats.local;
    r.stats = r.transfer->stats();
    if (r.stats.local.empty()) r.stats.local = local;
  }
  return json_ok(200, to_json(r));
}

Response Service::cancel(const Request& req) {
  auto it = records_.find(std::string(req.param("id")));
  if (it == records_.end()) return json_error(404, "not_found", "no transfer with that id");
  Record& r = *it->second;
  if (r.over) return json_error(409, "conflict", "the transfer is already " + r.state);
  r.state = "cancelled";
  r.transfer->cancel(make_error(Errc::interrupted, "api", "cancelled by DELETE"));
  return json_ok(200, to_json(r));
}

Response Service::metrics(const Request&) {
  MetricsWriter w;
  std::map<std::string, uint64_t> by_state{
      {"pending", 0}, {"running", 0}, {"done", 0}, {"failed", 0}, {"cancelled", 0}};
  uint64_t bytes = 0, wire = 0;
  for (auto& [id, r] : records_) {
    ++by_state[r->state];
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
json to_json(const Service::Record& r) {
  const auto& s = r.stats;
  double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  json j{{"id", r.id},
         {"role", r.role},
         {"state", r.state},
         {"bytes", s.bytes},
         {"wire_bytes", s.wire_bytes},
         {"rate", rate},
         {"peer", s.peer.empty() ? json(nullptr) : json(s.peer)},
         {"fingerprint", s.fingerprint.empty() ? json(nullptr) : json(s.fingerprint)},
         {"started", r.started},
         {"finished", r.finished.empty() ? json(nullptr) : json(r.finished)},
         {"error", r.error.empty() ? json(nullptr) : json(r.error)}};
  if (r.role == "listen") j["listen"] = s.local.empty() ? json(r.local) : json(s.local);
  return j;
}
} // namespace

} // namespace qpipe::api
