// The CLI's front end to the engine (see run.h).
#include "cli/run.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "app/transfer.h"
#include "cli/host_config.h"
#include "cli/report.h"
#include "cli/send_items.h"
#include "cli/sized_source.h"
#include "core/units.h"
#include "frontend/event_loop.h"
#include "frontend/interrupts.h"
#include "frontend/output.h"
#include "frontend/resolve.h"
#include "tls/identity_store.h"
#include "tls/known_hosts.h"
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

// --forget HOST[:PORT]: as ssh-keygen -R, exit 0 whether or not there was
// an entry to remove (the host is forgotten either way).
int forget(const Config& config, const Logger& log) {
  const std::string& file = config.send.known_hosts_file;
  auto kh = tls::KnownHosts::load(file);
  if (!kh) return failed(log, kh.error());
  const HostPort& hp = *config.forget;
  auto removed = kh->remove(hp.host, hp.port);
  if (!removed) return failed(log, removed.error());
  // The host as known_hosts spells it ("[::1]", lower case), with its port or not.
  std::string key = tls::known_hosts_key(hp.host, hp.port == 0 ? 1 : hp.port);
  std::string which = hp.port != 0 ? key : key.substr(0, key.rfind(':')) + " (every port)";
  if (*removed == 0)
    log.info("no entry for " + which + " in " + file);
  else
    log.info("removed " + count_of(*removed, "entry", "entries") + " for " + which + " from " +
             file);
  return 0;
}

// A listener writes binary data; to a terminal only when told to (-o -), as
// qpipe gen does. Checked before it listens.
Status check_terminal_output(const Config& config) {
  if (config.mode != kListen || config.listen.output || config.output_stdout ||
      !isatty(STDOUT_FILENO))
    return {};
  return make_error(Errc::usage, "stdout",
                    "refusing to write what arrives to a terminal; use -o FILE, or a pipe "
                    "(qpipe -l | cmd); -o - writes to the terminal all the same");
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
  if (config.files.empty()) {
    std::unique_ptr<app::ByteSource> in =
        std::make_unique<uvx::FdSource>(loop, STDIN_FILENO, "stdin");
    if (config.input_size) in = std::make_unique<SizedSource>(std::move(in), *config.input_size);
    return app::start_send(loop, config.send, std::move(in), log, std::move(events));
  }
  auto items = send_items(loop, config.files);
  if (!items) return items.error();
  return app::start_send_files(loop, config.send, std::move(*items), log, std::move(events));
}

} // namespace

int run_transfer(const Config& config_in, const Logger& log_in) {
  std::signal(SIGPIPE, SIG_IGN);
  Logger log = log_in;
  Config config = config_in;
  if (config.print_config) { // nothing is read or sent: what applies, and exit
    std::fputs(print_config_text(config).c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 5;
  }
  if (auto st = resolve_files(config); !st) return failed(log, st.error());
  if (config.print_fingerprint) return print_fingerprint(config.listen, log);
  if (config.forget) return forget(config, log);
  if (auto st = check_terminal_output(config); !st) return failed(log, st.error());
  Report report(config, log);
  if (auto st = report.open_stats_file(); !st) return failed(log, st.error());
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
