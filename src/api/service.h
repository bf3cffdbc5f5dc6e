// `qpipe api`: the HTTP/JSON service (SPEC §6). Each request that starts a
// send or a listener runs it in-process on the same engine as the CLI
// (src/app), on this service's loop.
//
// Ownership: the service owns each live transfer (one engine object) and a
// record of plain data for every transfer (record_table.h). When the engine
// reports the end (on_done), the record takes the final stats and the engine
// object is destroyed right after, outside the engine's own callback, so a
// finished transfer holds no buffers, sockets or threads. Live sends and
// listeners are capped (429 beyond), finished records are kept up to a
// count and an age, and GET /v1/transfers/{id}/events streams a transfer's
// progress as server-sent events.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <uv.h>
#include <vector>

#include "api/event_stream.h"
#include "api/http_server.h"
#include "api/json_body.h"
#include "api/record_table.h"
#include "app/transfer.h"
#include "core/log.h"
#include "uv/handle.h"

namespace qpipe::api {

struct ServiceConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8000;
  std::string token;                      // empty: no authentication (loopback only)
  std::vector<std::string> allowed_hosts; // --allow-host
  std::string root = ".";
  std::string known_hosts_file; // for sends without pin/insecure
  std::string identity_dir;     // the listeners' identity
  RecordLimits records;         // --max-records, --record-ttl
  size_t max_sends = 16;        // --max-sends: live sends at once
  size_t max_listeners = 16;    // --max-listeners: live listeners at once
};

class Service {
public:
  Service(uv_loop_t* loop, ServiceConfig config, const Logger& log);
  ~Service();
  Status start();
  uint16_t port() const { return server_.port(); }
  // Cancels every running transfer, ends the event streams, stops the HTTP
  // server, then calls done.
  void shutdown(std::function<void()> done);

private:
  Response health(const Request&);
  Response start_send(const Request&);
  Response start_listener(const Request&);
  Response list(const Request&);
  Response get(const Request&);
  Response events(const Request&);
  Response remove(const Request&);
  Response metrics(const Request&);
  Response openapi(const Request&);

  app::TransferEvents events_for(uint64_t number);
  // The engine ended transfer `number`: final record, last event, and the
  // engine object retired (destroyed by the reaper, outside the engine).
  void transfer_over(uint64_t number, const Status& st, const app::TransferStats& s);
  // The record of a live transfer, with the engine's latest stats.
  void refresh(TransferRecord& r);
  TransferRecord* find(const Request& req);
  void on_tick();
  Response too_many(const char* what, size_t max, const char* option) const;
  // A path under the root: 403 when it resolves outside it.
  Checked<std::string> resolve_under_root(const std::string& rel, bool must_exist);

  struct Live {
    std::unique_ptr<app::Transfer> transfer;
    bool send = false;
  };

  uv_loop_t* loop_;
  ServiceConfig config_;
  const Logger& log_;
  HttpServer server_;
  std::string root_real_;
  RecordTable records_;
  std::map<uint64_t, Live> live_;
  size_t live_sends_ = 0, live_listeners_ = 0;
  // Finished engine objects wait here for the reaper, which runs on the next
  // loop iteration: never inside the engine's callback that reported the end.
  std::vector<std::unique_ptr<app::Transfer>> retired_;
  uvx::Timer reaper_, tick_, sweep_;
  EventHub hub_;
  bool shutting_down_ = false;
};

std::string openapi_document();

} // namespace qpipe::api
