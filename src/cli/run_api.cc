// `qpipe api`: settles the token, runs the HTTP service on a loop until
// SIGINT or SIGTERM, then shuts down gracefully (running transfers are
// cancelled and reported, the port is released).
//
// The service never runs without a token: the user's (--token-file or
// QPIPE_API_TOKEN), or the generated one of api/token_file.h, whose
// dashboard address (with ?token=) is printed at start. A service that other
// hosts can reach needs a token the user chose.
#include <csignal>

#include "api/ip_literal.h"
#include "api/service.h"
#include "api/token_file.h"
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
  sc.allowed_hosts = config.api.allowed_hosts;
  sc.records.max_finished = config.api.max_records;
  sc.records.ttl_ms = config.api.record_ttl_s * 1000;
  sc.max_sends = config.api.max_sends;
  sc.max_listeners = config.api.max_listeners;
  auto given = frontend::read_secret(config.api.token_file, "QPIPE_API_TOKEN");
  if (!given) {
    log.error(given.error());
    return given.error().exit_code();
  }
  std::string token_origin; // where the token came from, for the start message
  if (*given) {
    sc.token = **given;
    token_origin = config.api.token_file.empty() ? "QPIPE_API_TOKEN" : config.api.token_file;
  } else {
    if (api::parse_ip_literal(sc.bind) && !api::is_loopback_address(sc.bind)) {
      log.error(make_error(Errc::usage, "--bind " + sc.bind,
                           "is not a loopback address; an API reachable from other hosts needs "
                           "a token of your choosing (--token-file or QPIPE_API_TOKEN)"));
      return static_cast<int>(Errc::usage);
    }
    std::string file = api::default_token_file();
    auto token = api::load_or_create_token(file);
    if (!token) {
      log.error(token.error());
      return token.error().exit_code();
    }
    sc.token = std::move(*token);
    token_origin = file;
  }
  frontend::EventLoop loop(log);
  api::Service service(loop.get(), sc, log);
  if (auto st = service.start(); !st) {
    log.error(st.error());
    return st.error().exit_code();
  }
  std::string host = sc.bind.find(':') != std::string::npos ? "[" + sc.bind + "]" : sc.bind;
  std::string base = strprintf("http://%s:%u/", host.c_str(), service.port());
  log.info(strprintf("api listening on %s (root %s, token in %s)", base.c_str(), sc.root.c_str(),
                     token_origin.c_str()));
  // The generated token is shown once, as notebook servers do; a token the
  // user chose is not repeated.
  if (!*given)
    log.info("dashboard: " + base + "?token=" + sc.token);
  else
    log.info("dashboard: " + base + "?token=<the token>");
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
