// `qpipe api`: reads the token, runs the HTTP service on a loop until SIGINT
// or SIGTERM, then shuts down gracefully (running transfers are cancelled and
// reported, the port is released).
#include <csignal>
#include <cstdlib>
#include <unistd.h>

#include "api/service.h"
#include "cli/run.h"
#include "tls/identity_store.h"
#include "tls/secret.h"
#include "uv/handle.h"

namespace qpipe::cli {

int run_api(const Config& config, const Logger& log) {
  std::signal(SIGPIPE, SIG_IGN);
  api::ServiceConfig sc;
  sc.bind = config.api.bind;
  sc.port = config.api.port;
  sc.root = config.api.root;
  sc.known_hosts_file = tls::xdg_config_home() + "/qpipe/known_hosts";
  sc.identity_dir = tls::xdg_data_home() + "/qpipe";
  if (!config.api.token_file.empty()) {
    auto t = tls::read_secret_file(config.api.token_file);
    if (!t) {
      log.error(t.error());
      return t.error().exit_code();
    }
    sc.token = *t;
  } else if (const char* env = std::getenv("QPIPE_API_TOKEN"); env && *env) {
    sc.token = env;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  int code = 0;
  {
    api::Service service(&loop, sc, log);
    if (auto st = service.start(); !st) {
      log.error(st.error());
      code = st.error().exit_code();
    } else {
      std::string host = sc.bind.find(':') != std::string::npos ? "[" + sc.bind + "]" : sc.bind;
      log.info(strprintf("api listening on http://%s:%u/ (root %s%s)", host.c_str(), service.port(),
                         sc.root.c_str(), sc.token.empty() ? "" : ", bearer token required"));
      uvx::Handle<uv_signal_t> sigint, sigterm;
      struct Ctx {
        api::Service* service;
        int* code;
        uvx::Handle<uv_signal_t>* a;
        uvx::Handle<uv_signal_t>* b;
        const Logger* log;
      } ctx{&service, &code, &sigint, &sigterm, &log};
      auto on_signal = [](uv_signal_t* h, int) {
        auto* c = static_cast<Ctx*>(h->data);
        if (*c->code == 130) std::_Exit(130); // a second signal
        *c->code = 130;
        c->log->info("shutting down: cancelling running transfers");
        c->service->shutdown([c] {
          c->a->reset();
          c->b->reset();
        });
      };
      sigint.init([&](uv_signal_t* s) { return uv_signal_init(&loop, s); }, &ctx);
      sigterm.init([&](uv_signal_t* s) { return uv_signal_init(&loop, s); }, &ctx);
      uv_signal_start(sigint.get(), on_signal, SIGINT);
      uv_signal_start(sigterm.get(), on_signal, SIGTERM);
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT); // closes what the service left closing
  if (uv_loop_close(&loop) != 0) log.debug("loop closed with live handles");
  return code;
}

} // namespace qpipe::cli
