// The CLI's front end to the engine (see run.h).
#include "cli/run.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "app/transfer.h"
#include "cli/report.h"
#include "cli/send_items.h"
#include "frontend/event_loop.h"
#include "frontend/interrupts.h"
#include "frontend/output.h"
#include "frontend/resolve.h"
#include "tls/identity_store.h"
#include "uv/fd_io.h"
#include "uv/handle.h"

namespace qpipe::cli {
namespace {

int failed(const Logger& log, const Error& e) {
  log.error(e);
  return e.exit_code();
}

// Settles what the command line only names: the shared secret (from
// --secret-file or QPIPE_SECRET), the known_hosts file, the identity.
Status resolve_files(Config& config) {
  auto secret = frontend::read_secret(config.secret_file, "QPIPE_SECRET");
  if (!secret) return secret.error();
  config.send.secret = config.listen.secret = *secret;
  config.send.known_hosts_file = frontend::default_known_hosts_file();
  config.listen.identity_dir = frontend::default_identity_dir();
  return {};
}

// --print-fingerprint: the listener's identity, created when there is none.
int print_fingerprint(const app::ListenOptions& lo, const Logger& log) {
  auto id = !lo.cert_file.empty() ? tls::load_identity(lo.cert_file, lo.key_file)
                                  : tls::load_or_create_identity(lo.identity_dir);
  if (!id) return failed(log, id.error());
  std::printf("%s\n", id->fingerprint.c_str());
  return std::fflush(stdout) == 0 ? 0 : 5;
}

// A listen, a send of stdin, or a send of the named files.
Result<std::unique_ptr<app::Transfer>> start(uv_loop_t* loop, Config& config, const Logger& log,
                                             app::TransferEvents events) {
  if (config.mode == kListen) {
    // -o is checked before anything listens.
    auto sinks = frontend::output_sinks(loop, config.listen);
    if (!sinks) return sinks.error();
    return app::start_listen(loop, config.listen, std::move(*sinks), log, std::move(events));
  }
  if (config.files.empty())
    return app::start_send(loop, config.send,
                           std::make_unique<uvx::FdSource>(loop, STDIN_FILENO, "stdin"), log,
                           std::move(events));
  auto items = send_items(loop, config.files);
  if (!items) return items.error();
  return app::start_send_files(loop, config.send, std::move(*items), log, std::move(events));
}

} // namespace

int run_transfer(const Config& config_in, const Logger& log_in) {
  std::signal(SIGPIPE, SIG_IGN);
  Logger log = log_in;
  Config config = config_in;
  if (auto st = resolve_files(config); !st) return failed(log, st.error());
  if (config.print_fingerprint) return print_fingerprint(config.listen, log);
  Report report(config, log);
  {
    frontend::EventLoop loop(log);
    auto started = start(loop.get(), config, log, report.events());
    if (!started) return failed(log, started.error());
    std::unique_ptr<app::Transfer> transfer = std::move(*started);
    // Ctrl-C and SIGTERM: tell the peer and stop; a second signal, or a
    // stuck output after two seconds, exits at once.
    uvx::Timer grace;
    grace.init(loop.get(), [&log] {
      log.error("interrupted; output did not drain, exiting");
      std::_Exit(static_cast<int>(Errc::interrupted));
    });
    frontend::Interrupts interrupts(loop.get());
    interrupts.start([&](const Error& why) {
      transfer->cancel(why);
      grace.start(2000);
      grace.unref();
    });
    interrupts.unref();
    loop.run();
  }
  return report.finish();
}

} // namespace qpipe::cli
