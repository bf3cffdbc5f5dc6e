// `qpipe api`: reads the token, runs the HTTP service on a loop until SIGINT
// or SIGTERM, then shuts down gracefully (running transfers are cancelled and
// reported, the port is released).
#include <csignal>

#include "api/service.h"
#include "cli/run.h"
#include "frontend/event_loop.h"
#include "frontend/interrupts.h"
#include "frontend/resolve.h"

namespace qpipe::cli {

int run_api(const Config& config, const Logger& log) {
  std::signal(SIGPIPE, SIG_IGN);
  api::ServiceConfig sc;
  sc.bind = config.api.bind;
  sc.port = config.api.port;
  sc.root = config.api.root;
  sc.known_hosts_file = frontend::default_known_hosts_file();
  sc.identity_dir = frontend::default_identity_dir();
  auto token = frontend::read_secret(config.api.token_file, "QPIPE_API_TOKEN");
  if (!token) {
    log.error(token.error());
    return token.error().exit_code();
  }
  sc.token = token->value_or("");
  frontend::EventLoop loop(log);
  api::Service service(loop.get(), sc, log);
  if (auto st = service.start(); !st) {
    log.error(st.error());
    return st.error().exit_code();
  }
  std::string host = sc.bind.find(':') != std::string::npos ? "[" + sc.bind + "]" : sc.bind;
  log.info(strprintf("api listening on http://%s:%u/ (root %s%s)", host.c_str(), service.port(),
                     sc.root.c_str(), sc.token.empty() ? "" : ", bearer token required"));
  int code = 0;
  frontend::Interrupts interrupts(loop.get());
  interrupts.start([&](const Error& why) {
    code = why.exit_code();
    log.info("shutting down: cancelling running transfers");
    service.shutdown([&interrupts] { interrupts.close(); });
  });
  loop.run();
  return code;
}

} // namespace qpipe::cli
