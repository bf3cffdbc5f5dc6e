#include "cli/run.h"

#include <wolfssl/options.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ngtcp2/ngtcp2.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/ssl.h>
#include <xxhash.h>
#include <zstd.h>

#include "app/transfer.h"
#include "core/fs.h"
#include "core/printable.h"
#include "core/units.h"
#include "tls/identity_store.h"
#include "tls/secret.h"
#include "uv/fd_io.h"
#include "uv/handle.h"
#include "version.h"

namespace qpipe::cli {
namespace {

std::string progress_line(const app::TransferStats& s) {
  double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  std::string line = format_bytes(s.bytes);
  if (s.size && *s.size > 0) {
    line += strprintf(" of %s (%3.0f%%)", format_bytes(*s.size).c_str(),
                      100.0 * static_cast<double>(s.bytes) / static_cast<double>(*s.size));
  }
  line += "  " + format_rate(rate) + "  " + format_duration(s.seconds);
  if (s.files_total > 0)
    line += strprintf("  [%u/%u] %s", std::min(s.files_done + 1, s.files_total), s.files_total,
                      printable(s.file).c_str()); // a name the peer chose
  if (s.size && rate > 0 && *s.size > s.bytes)
    line += "  ETA " + format_duration(static_cast<double>(*s.size - s.bytes) / rate);
  return line;
}

std::string stats_text(const app::TransferStats& s) {
  double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  std::string ratio;
  if (s.payload_wire_bytes > 0 && s.payload_wire_bytes < s.bytes)
    ratio = strprintf(" (compressed %.2fx)",
                      static_cast<double>(s.bytes) / static_cast<double>(s.payload_wire_bytes));
  return strprintf("%s in %s (%s), %s on the wire%s, rtt %.2f ms, %llu packets lost, peer %s",
                   format_bytes(s.bytes).c_str(), format_duration(s.seconds).c_str(),
                   format_rate(rate).c_str(), format_bytes(s.wire_bytes).c_str(), ratio.c_str(),
                   s.rtt_ms, static_cast<unsigned long long>(s.lost_packets), s.peer.c_str());
}

std::string json_escape(const std::string& in) {
  std::string out;
  for (char c : in) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20)
      out += strprintf("\\u%04x", c);
    else
      out += c;
  }
  return out;
}

std::string stats_json(const app::TransferStats& s, const Status& st) {
  double rate = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  double ratio =
      s.wire_bytes > 0 ? static_cast<double>(s.bytes) / static_cast<double>(s.wire_bytes) : 0;
  return strprintf(
      "{\"ok\":%s,\"bytes\":%llu,\"wire_bytes\":%llu,\"seconds\":%.6f,\"rate\":%.0f,"
      "\"ratio\":%.4f,\"rtt_ms\":%.3f,\"lost_packets\":%llu,\"chunks\":%llu,"
      "\"payload_wire_bytes\":%llu,\"udp_payload\":%zu,\"gso\":%s,\"gro\":%s,"
      "\"peer\":\"%s\"%s}",
      st.ok() ? "true" : "false", static_cast<unsigned long long>(s.bytes),
      static_cast<unsigned long long>(s.wire_bytes), s.seconds, rate, ratio, s.rtt_ms,
      static_cast<unsigned long long>(s.lost_packets), static_cast<unsigned long long>(s.chunks),
      static_cast<unsigned long long>(s.payload_wire_bytes), s.udp_payload,
      s.gso ? "true" : "false", s.gro ? "true" : "false", json_escape(s.peer).c_str(),
      st.ok() ? "" : (",\"error\":\"" + json_escape(st.error().message()) + "\"").c_str());
}

struct Run {
  uv_loop_t loop;
  std::unique_ptr<app::Transfer> transfer;
  std::optional<Status> result;
  app::TransferStats stats;
  bool progress = false;
  bool progress_drawn = false;
  int signals = 0;
};

} // namespace

// " (ORIGIN)" after a library's version, when the deps prefix recorded one.
static std::string origin(const char* text) {
  return *text ? strprintf(" (%s)", text) : std::string();
}

std::string version_text() {
  const ngtcp2_info* ng = ngtcp2_version(0);
  unsigned xx = XXH_versionNumber();
  return strprintf("qpipe %s\nngtcp2 %s%s, wolfSSL %s%s, libuv %s, zstd %s, xxHash %u.%u.%u\n",
                   QPIPE_VERSION, ng ? ng->version_str : "?", origin(QPIPE_NGTCP2_ORIGIN).c_str(),
                   wolfSSL_lib_version(), origin(QPIPE_WOLFSSL_ORIGIN).c_str(), uv_version_string(),
                   ZSTD_versionString(), xx / 10000, xx / 100 % 100, xx % 100);
}

// Settles what the command line only names: the shared secret (from
// --secret-file or QPIPE_SECRET), the known_hosts file, the identity.
static Status resolve_files(Config& config) {
  std::optional<std::string> secret;
  if (!config.secret_file.empty()) {
    auto s = tls::read_secret_file(config.secret_file);
    if (!s) return s.error();
    secret = std::move(*s);
  } else if (const char* env = std::getenv("QPIPE_SECRET"); env && *env) {
    secret = env;
  }
  config.send.secret = config.listen.secret = secret;
  config.send.known_hosts_file = tls::xdg_config_home() + "/qpipe/known_hosts";
  config.listen.identity_dir = tls::xdg_data_home() + "/qpipe";
  return {};
}

int run_transfer(const Config& config_in, const Logger& log_in) {
  std::signal(SIGPIPE, SIG_IGN);
  Logger log = log_in;
  Config config = config_in;
  if (auto st = resolve_files(config); !st) {
    log.error(st.error());
    return st.error().exit_code();
  }
  if (config.print_fingerprint) {
    auto id = !config.listen.cert_file.empty()
                  ? tls::load_identity(config.listen.cert_file, config.listen.key_file)
                  : tls::load_or_create_identity(config.listen.identity_dir);
    if (!id) {
      log.error(id.error());
      return id.error().exit_code();
    }
    std::printf("%s\n", id->fingerprint.c_str());
    return std::fflush(stdout) == 0 ? 0 : 5;
  }
  Run run;
  uv_loop_init(&run.loop);
  const bool listening = config.mode == kListen;
  run.progress = config.progress == Progress::on ||
                 (config.progress == Progress::automatic && isatty(STDERR_FILENO) &&
                  config.verbosity != Verbosity::quiet);

  app::TransferEvents ev;
  ev.on_info = [&](const std::string& line) { log.info(line); };
  ev.on_progress = [&](const app::TransferStats& s) {
    if (!run.progress) return;
    std::string line = "\r\033[Kqpipe: " + progress_line(s);
    ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    (void)n;
    run.progress_drawn = true;
    log.set_progress_active(true);
  };
  ev.on_done = [&](const Status& st, const app::TransferStats& s) {
    run.result = st;
    run.stats = s;
  };
  ev.on_transfer_done = [&](const Status& st, const app::TransferStats& s) {
    if (config.stats == StatsFormat::json)
      log.error(stats_json(s, st));
    else if (config.stats == StatsFormat::text)
      log.info(stats_text(s));
  };

  Result<std::unique_ptr<app::Transfer>> started = make_error(Errc::usage, "", "");
  uv_loop_t* loop = &run.loop;
  if (listening) {
    auto& lo = config.listen;
    struct stat st;
    lo.output_is_directory = lo.output && stat(lo.output->c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    auto output = lo.output;
    bool is_dir = lo.output_is_directory;
    uvx::FileSinkOptions base;
    base.sync = lo.sync;
    base.no_clobber = lo.no_clobber;
    app::SinkFactory factory = [loop, output, is_dir, base](const app::FileMeta* file) {
      return uvx::open_output(loop, output, is_dir, file, base);
    };
    started = app::start_listen(loop, lo, factory, log, ev);
  } else if (config.files.empty()) {
    auto source = std::make_unique<uvx::FdSource>(loop, STDIN_FILENO, "stdin");
    started = app::start_send(loop, config.send, std::move(source), log, ev);
  } else {
    // Named files: every one is checked before anything is sent.
    std::vector<app::SendItem> items;
    for (const auto& path : config.files) {
      app::SendItem item;
      if (path == "-") {
        item.meta.name = "stdin";
        item.meta.mode = 0644;
        item.meta.mtime_sec = static_cast<int64_t>(time(nullptr));
        item.open = [loop]() -> Result<std::unique_ptr<app::ByteSource>> {
          return std::unique_ptr<app::ByteSource>(
              std::make_unique<uvx::FdSource>(loop, STDIN_FILENO, "stdin"));
        };
      } else {
        struct stat st;
        if (stat(path.c_str(), &st) != 0) {
          Error e = errno_error(Errc::local_io, path, errno);
          log.error(e);
          uv_loop_close(&run.loop); // nothing was started on it yet
          return e.exit_code();
        }
        if (S_ISDIR(st.st_mode)) {
          log.error(make_error(Errc::usage, path,
                               "is a directory; send a tree as a stream: tar c " + path +
                                   " | qpipe HOST"));
          uv_loop_close(&run.loop);
          return 2;
        }
        item.meta.name = split_path(path).base;
        item.meta.mode = st.st_mode & 07777;
        item.meta.mtime_sec = st.st_mtim.tv_sec;
        item.meta.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
        if (S_ISREG(st.st_mode)) item.meta.size = static_cast<uint64_t>(st.st_size);
        if (S_ISREG(st.st_mode))
          item.prefix_digest = [path](uint64_t n) { return uvx::digest_prefix(path, n); };
        item.open = [loop, path]() -> Result<std::unique_ptr<app::ByteSource>> {
          auto src = uvx::FdSource::open_file(loop, path);
          if (!src) return src.error();
          return std::unique_ptr<app::ByteSource>(std::move(*src));
        };
      }
      items.push_back(std::move(item));
    }
    started = app::start_send_files(loop, config.send, std::move(items), log, ev);
  }
  if (!started) {
    log.error(started.error());
    uv_run(&run.loop, UV_RUN_DEFAULT);
    uv_loop_close(&run.loop);
    return started.error().exit_code();
  }
  run.transfer = std::move(*started);

  // Ctrl-C and SIGTERM: tell the peer and stop; a second signal, or a stuck
  // output after two seconds, exits at once.
  uvx::Handle<uv_signal_t> sigint, sigterm;
  uvx::Timer grace;
  grace.init(&run.loop, [&] {
    log.error("interrupted; output did not drain, exiting");
    std::_Exit(130);
  });
  auto on_signal = [](uv_signal_t* h, int signum) {
    auto* r = static_cast<std::pair<Run*, uvx::Timer*>*>(h->data);
    if (++r->first->signals > 1) std::_Exit(130);
    r->first->transfer->cancel(
        make_error(Errc::interrupted, "interrupted", signum == SIGINT ? "SIGINT" : "SIGTERM"));
    r->second->start(2000);
    r->second->unref();
  };
  std::pair<Run*, uvx::Timer*> sigdata{&run, &grace};
  sigint.init([&](uv_signal_t* s) { return uv_signal_init(&run.loop, s); }, &sigdata);
  sigterm.init([&](uv_signal_t* s) { return uv_signal_init(&run.loop, s); }, &sigdata);
  uv_signal_start(sigint.get(), on_signal, SIGINT);
  uv_signal_start(sigterm.get(), on_signal, SIGTERM);
  uv_unref(reinterpret_cast<uv_handle_t*>(sigint.get()));
  uv_unref(reinterpret_cast<uv_handle_t*>(sigterm.get()));

  uv_run(&run.loop, UV_RUN_DEFAULT);
  run.transfer.reset();
  sigint.reset();
  sigterm.reset();
  grace.close();
  uv_run(&run.loop, UV_RUN_DEFAULT); // let the closed handles go
  if (uv_loop_close(&run.loop) != 0) log.debug("loop closed with live handles");

  if (run.progress_drawn) {
    std::string clear = "\r\033[K";
    ssize_t n = ::write(STDERR_FILENO, clear.data(), clear.size());
    (void)n;
    log.set_progress_active(false);
  }
  Status st = run.result.value_or(make_error(Errc::transfer, "transfer", "ended without a result"));
  if (!st.ok()) log.error(st.error());
  if (config.stats == StatsFormat::json)
    log.error(stats_json(run.stats, st));
  else if (config.stats == StatsFormat::text && st.ok())
    log.info(stats_text(run.stats));
  else if (st.ok() && config.verbosity >= Verbosity::verbose)
    log.verbose(stats_text(run.stats));
  return st.ok() ? 0 : st.error().exit_code();
}

} // namespace qpipe::cli
