// `qpipe api`: the HTTP/JSON service (SPEC §6). Each request that starts a
// send or a listener runs it in-process on the same engine as the CLI
// (src/app), on this service's loop; the service keeps a record of every
// transfer for GET /v1/transfers and /metrics.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <uv.h>

#include "api/http_server.h"
#include "api/json_body.h"
#include "app/transfer.h"
#include "core/log.h"

namespace qpipe::api {

struct ServiceConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8000;
  std::string token; // empty: no authentication (loopback only)
  std::string root = ".";
  std::string known_hosts_file; // for sends without pin/insecure
  std::string identity_dir;     // the listeners' identity
};

class Service {
public:
  Service(uv_loop_t* loop, ServiceConfig config, const Logger& log);
  ~Service();
  Status start();
  uint16_t port() const { return server_.port(); }
  // Cancels every running transfer, stops the HTTP server, then calls done.
  void shutdown(std::function<void()> done);

  struct Record; // one transfer, as the API reports it

private:
  Response health(const Request&);
  Response start_send(const Request&);
  Response start_listener(const Request&);
  Response list(const Request&);
  Response get(const Request&);
  Response cancel(const Request&);
  Response metrics(const Request&);
  Response openapi(const Request&);
  Record& add_record(std::string role);
  app::TransferEvents events_for(Record& r);
  // A path under the root: 403 when it resolves outside it.
  Checked<std::string> resolve_under_root(const std::string& rel, bool must_exist);

  uv_loop_t* loop_;
  ServiceConfig config_;
  const Logger& log_;
  HttpServer server_;
  std::string root_real_;
  std::map<std::string, std::unique_ptr<Record>> records_;
  uint64_t next_id_ = 1;
  bool shutting_down_ = false;
};

std::string openapi_document();

} // namespace qpipe::api
