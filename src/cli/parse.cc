#include "cli/parse.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "cli/hints.h"
#include "cli/host_config.h"
#include "core/host_port.h"
#include "core/units.h"
#include "frontend/option_ranges.h"
#include "pipeline/codec.h"
#include "tls/fingerprint.h"
#include "tls/known_hosts.h"

namespace qpipe::cli {
namespace {

// Set only in the test build (see set_send_test_hooks_source); a plain
// pointer, so that it is null before any constructor runs.
SendTestHooksSource send_test_hooks_source = nullptr;

struct Given {
  const OptionSpec* spec;
  std::optional<std::string> value;
  std::string spelled; // as the user typed it, for messages: "-P" or "--streams"
};

Error usage(std::string what, std::string why) {
  return make_error(Errc::usage, std::move(what), std::move(why));
}

const OptionSpec* find_long(std::string_view name) {
  for (const auto& o : option_table())
    if (name == o.long_name) return &o;
  return nullptr;
}

const OptionSpec* find_short(char c) {
  for (const auto& o : option_table())
    if (o.short_name == c) return &o;
  return nullptr;
}

std::string modes_of(unsigned modes) {
  std::string s;
  for (Mode m : {kSend, kListen, kGen, kApi}) {
    if (!(modes & m)) continue;
    if (!s.empty()) s += ", ";
    s += mode_name(m);
  }
  return s;
}

// Collects options and positionals; the first word may name the mode.
Result<Mode> collect(int argc, const char* const* argv, std::vector<Given>& given,
                     std::vector<std::string>& positionals) {
  Mode mode = kSend;
  int i = 1;
  if (argc > 1 && std::strcmp(argv[1], "gen") == 0) {
    mode = kGen;
    i = 2;
  } else if (argc > 1 && std::strcmp(argv[1], "api") == 0) {
    mode = kApi;
    i = 2;
  }
  bool options_done = false;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
      positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg[1] == '-') {
      std::string name = arg.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      const OptionSpec* spec = find_long(name);
      if (!spec) return usage("--" + name, "unknown option" + unknown_option_hint(name, mode));
      if (spec->arg == Arg::none && value) return usage("--" + name, "takes no argument");
      if (spec->arg == Arg::optional && !value && i + 1 < argc)
        if (auto e = detached_value(*spec, "--" + name, argv[i + 1])) return *e;
      if (spec->arg == Arg::required && !value) {
        if (i + 1 >= argc)
          return usage("--" + name, std::string("needs an argument ") + spec->arg_name);
        value = argv[++i];
      }
      given.push_back({spec, value, "--" + name});
      continue;
    }
    // A bundle of short options: -lk, -P8, -P 8, -z19, -z-5.
    for (size_t k = 1; k < arg.size(); ++k) {
      const OptionSpec* spec = find_short(arg[k]);
      std::string spelled = std::string("-") + arg[k];
      if (!spec) return usage(spelled, "unknown option");
      std::optional<std::string> value;
      if (spec->arg != Arg::none) {
        if (k + 1 < arg.size()) {
          value = arg.substr(k + 1);
        } else if (spec->arg == Arg::optional && i + 1 < argc) {
          if (auto e = detached_value(*spec, spelled, argv[i + 1])) return *e;
        } else if (spec->arg == Arg::required) {
          if (i + 1 >= argc)
            return usage(spelled, std::string("needs an argument ") + spec->arg_name);
          value = argv[++i];
        }
        given.push_back({spec, value, spelled});
        break;
      }
      given.push_back({spec, value, spelled});
    }
  }
  if (mode == kSend) {
    for (const auto& g : given)
      if (g.spec->id == OptId::listen) mode = kListen;
  }
  return mode;
}

// A whole number, checked by the range check that both front ends share.
template <typename Out, typename T>
Status set_checked(Out& out, const std::string& text, const std::string& what,
                   Result<T> (*check)(int64_t, std::string_view)) {
  auto n = parse_int(text, what, std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max());
  if (!n) return n.error();
  auto checked = check(*n, what);
  if (!checked) return checked.error();
  out = *checked;
  return {};
}

Status apply(Config& c, const Given& g) {
  const std::string& what = g.spelled;
  const std::string v = g.value.value_or("");
  switch (g.spec->id) {
  case OptId::listen:
    return {};
  case OptId::help:
    c.help = true;
    return {};
  case OptId::version:
    c.version = true;
    return {};
  case OptId::quiet:
    c.verbosity = Verbosity::quiet;
    return {};
  case OptId::verbose:
    if (c.verbosity < Verbosity::debug)
      c.verbosity = static_cast<Verbosity>(static_cast<int>(c.verbosity) + 1);
    return {};
  case OptId::progress:
    c.progress = Progress::on;
    return {};
  case OptId::no_progress:
    c.progress = Progress::off;
    return {};
  case OptId::stats:
    if (!g.value || v == "text")
      c.stats = StatsFormat::text;
    else if (v == "json")
      c.stats = StatsFormat::json;
    else
      return usage(what, "'" + v + "' is not a format; use --stats or --stats=json");
    return {};
  case OptId::stats_file:
    if (v.empty()) return usage(what, "needs a file name");
    c.stats_file = v;
    return {};
  case OptId::size: {
    auto n = parse_size(v, what);
    if (!n) return n.error();
    c.input_size = *n;
    return {};
  }
  case OptId::forget: {
    auto hp = parse_host_port(v, false, 0); // port 0: none given, every port
    if (!hp) return make_error(Errc::usage, what, hp.error().message());
    c.forget = *hp;
    return {};
  }
  case OptId::streams:
    return set_checked(c.send.streams, v, what, frontend::check_streams);
  case OptId::chunk_size: {
    auto size = frontend::parse_chunk_size(v, what);
    if (!size) return size.error();
    c.send.chunk_size = *size;
    return {};
  }
  case OptId::limit: {
    auto n = parse_rate(v, what);
    if (!n) return n.error();
    c.send.limit_bytes_per_second = *n;
    return {};
  }
  case OptId::cc: {
    transport::CongestionControl cc;
    if (v == "cubic")
      cc = transport::CongestionControl::cubic;
    else if (v == "bbr")
      cc = transport::CongestionControl::bbr;
    else if (v == "reno")
      cc = transport::CongestionControl::reno;
    else
      return usage(what, "'" + v + "' is not one of cubic, bbr, reno");
    c.send.cc = c.listen.cc = cc;
    return {};
  }
  case OptId::ipv4:
    c.send.family = c.listen.family = AF_INET;
    return {};
  case OptId::ipv6:
    c.send.family = c.listen.family = AF_INET6;
    return {};
  case OptId::bind:
    c.send.bind = c.listen.bind = c.api.bind = v;
    return {};
  case OptId::idle_timeout: {
    auto st = set_checked(c.send.idle_timeout_ms, v, what, frontend::check_idle_timeout);
    c.listen.idle_timeout_ms = c.send.idle_timeout_ms;
    return st;
  }
  case OptId::output:
    if (v.empty()) return usage(what, "needs a path");
    if (v == "-") { // stdout, as named; even a terminal
      c.listen.output.reset();
      c.output_stdout = true;
      return {};
    }
    c.listen.output = v;
    c.output_stdout = false;
    return {};
  case OptId::max_connections:
    return set_checked(c.listen.max_connections, v, what, frontend::check_max_connections);
  case OptId::max_streams:
    return set_checked(c.listen.max_streams, v, what, frontend::check_streams);
  case OptId::keep_listening:
    c.listen.keep_listening = true;
    return {};
  case OptId::seed: {
    auto n = parse_size(v, what); // a plain number; suffixes are harmless
    if (!n) return n.error();
    c.gen.seed = *n;
    return {};
  }
  case OptId::kind: {
    auto k = gen::parse_kind(v);
    if (!k) return k.error();
    c.gen.kind = *k;
    return {};
  }
  case OptId::check:
    c.gen.check = true;
    return {};
  case OptId::force:
    c.gen.force = true;
    return {};
  case OptId::port: {
    auto p = parse_port(v, what, 0); // 0: a free port, printed
    if (!p) return p.error();
    c.api.port = *p;
    return {};
  }
  case OptId::root:
    c.api.root = v;
    return {};
  case OptId::token_file:
    c.api.token_file = v;
    return {};
  case OptId::allow_host:
    if (v.empty() || v.find_first_of(":/[] \t") != std::string::npos)
      return usage(what, "'" + v + "' is not a host name (give the name alone, without a port)");
    c.api.allowed_hosts.push_back(v);
    return {};
  case OptId::max_sends:
  case OptId::max_listeners: {
    auto n = parse_int(v, what, 1, 1024);
    if (!n) return n.error();
    (g.spec->id == OptId::max_sends ? c.api.max_sends : c.api.max_listeners) =
        static_cast<size_t>(*n);
    return {};
  }
  case OptId::max_records: {
    auto n = parse_int(v, what, 0, 1'000'000);
    if (!n) return n.error();
    c.api.max_records = static_cast<size_t>(*n);
    return {};
  }
  case OptId::record_ttl: {
    auto n = parse_int(v, what, 0, 30 * 86400);
    if (!n) return n.error();
    c.api.record_ttl_s = static_cast<uint64_t>(*n);
    return {};
  }
  case OptId::zstd: {
    if (!g.value) {
      c.send.zstd = codec::kAutoLevels;
      return {};
    }
    auto levels = frontend::parse_zstd(v, what);
    if (!levels) return levels.error();
    c.send.zstd = *levels;
    return {};
  }
  case OptId::sync:
    c.listen.sync = true;
    return {};
  case OptId::no_clobber:
    c.listen.no_clobber = true;
    return {};
  case OptId::keep_modes:
    c.listen.keep_modes = true;
    return {};
  case OptId::resume:
    c.send.resume = c.listen.resume = true;
    return {};
  case OptId::cert:
    c.listen.cert_file = v;
    return {};
  case OptId::key:
    c.listen.key_file = v;
    return {};
  case OptId::print_fingerprint:
    c.print_fingerprint = true;
    return {};
  case OptId::config: // read before the options, by apply_host_config
    return {};
  case OptId::print_config:
    c.print_config = true;
    return {};
  case OptId::pin: {
    if (!tls::is_fingerprint(v))
      return usage(what, "'" + v +
                             "' is not a fingerprint (SHA256: and 43 base64 characters, as the "
                             "listener prints it)");
    c.send.verify = app::Verify::pin;
    c.send.pin = v;
    return {};
  }
  case OptId::ca:
    c.send.verify = app::Verify::ca;
    c.send.ca_file = v;
    return {};
  case OptId::insecure:
    c.send.verify = app::Verify::insecure;
    return {};
  case OptId::secret_file:
    if (v.empty()) return usage(what, "needs a file name");
    c.secret_file = v;
    return {};
  }
  return {};
}

} // namespace

Status apply_option(Config& c, OptId id, const std::optional<std::string>& value,
                    const std::string& spelled) {
  return apply(c, Given{&option(id), value, spelled});
}

void set_send_test_hooks_source(SendTestHooksSource source) {
  send_test_hooks_source = source;
}

Result<Config> parse_command_line(int argc, const char* const* argv) {
  Config c;
  // Help and version win over everything else, even over unknown options,
  // as in every Unix tool.
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help") c.help = true;
    if (a == "-V" || a == "--version") c.version = true;
  }
  // `qpipe help [gen|api]`, as git and go take it.
  const bool help_word = argc > 1 && std::strcmp(argv[1], "help") == 0;
  if (help_word) c.help = true;
  if (c.help || c.version) {
    const char* mode_word = argc > (help_word ? 2 : 1) ? argv[help_word ? 2 : 1] : "";
    if (std::strcmp(mode_word, "gen") == 0)
      c.mode = kGen;
    else if (std::strcmp(mode_word, "api") == 0)
      c.mode = kApi;
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]) == "-l" || std::string_view(argv[i]) == "--listen")
        c.mode = kListen;
    return c;
  }
  std::vector<Given> given;
  std::vector<std::string> positionals;
  auto mode = collect(argc, argv, given, positionals);
  if (!mode) return mode.error();
  c.mode = *mode;
  for (const auto& g : given) { // bundled, as in -lh
    if (g.spec->id == OptId::help) c.help = true;
    if (g.spec->id == OptId::version) c.version = true;
  }
  if (c.help || c.version) return c;
  if (auto e = mistaken_positionals(c.mode, positionals)) return *e;
  // A send's destination first: what the config file says of its HOST is
  // applied before the options, so that they win.
  std::optional<HostPort> destination;
  if (c.mode == kSend && !positionals.empty()) {
    auto hp = parse_host_port(positionals[0], false, 0); // port 0: none given
    if (!hp) return hp.error();
    destination = *hp;
    std::optional<std::string> config_option;
    for (const auto& g : given)
      if (g.spec->id == OptId::config) config_option = g.value;
    if (auto s = apply_host_config(c, config_option, hp->host); !s) return s.error();
  }
  for (const auto& g : given) {
    if (!(g.spec->modes & c.mode))
      return usage(g.spelled, std::string("is not an option of ") + mode_name(c.mode) +
                                  " (it belongs to " + modes_of(g.spec->modes) + ")");
    if (auto s = apply(c, g); !s) return s.error();
  }
  int verifiers = 0;
  for (const auto& g : given)
    if (g.spec->id == OptId::pin || g.spec->id == OptId::ca || g.spec->id == OptId::insecure)
      ++verifiers;
  if (verifiers > 1) return usage("--pin/--ca/--insecure", "use only one of them");
  if (c.listen.cert_file.empty() != c.listen.key_file.empty())
    return usage(c.listen.cert_file.empty() ? "--key" : "--cert", "--cert and --key go together");
  if (!c.stats_file.empty() && c.stats == StatsFormat::none) c.stats = StatsFormat::text;
  if (c.forget) {
    if (!positionals.empty())
      return usage(positionals[0], "unexpected argument (--forget takes one HOST[:PORT])");
    return c;
  }
  switch (c.mode) {
  case kSend: {
    if (positionals.empty())
      return usage("destination", "missing HOST[:PORT] to send to (or -l to listen)");
    // The host is the config file's Address, else HOST; a port in HOST:PORT
    // wins over its Port. The known_hosts key is the address and port
    // connected to, so that two aliases of one listener share its entry.
    if (destination->port != 0) c.send.port = destination->port;
    c.send.peer_key = tls::known_hosts_key(c.send.host, c.send.port);
    c.files.assign(positionals.begin() + 1, positionals.end());
    if (send_test_hooks_source) c.send.test_hooks = send_test_hooks_source();
    if (std::count(c.files.begin(), c.files.end(), "-") > 1)
      return usage("-", "stdin can be sent only once");
    if (c.input_size && !c.files.empty())
      return usage("-s", "gives the size of piped stdin; FILEs are sent with their own sizes");
    break;
  }
  case kListen: {
    if (positionals.size() > 1)
      return usage(positionals[1], "unexpected argument (a listener takes one [[HOST]:PORT])");
    if (!positionals.empty()) {
      auto hp = parse_host_port(positionals[0], true, app::kDefaultPort);
      if (!hp) return hp.error();
      c.listen.host = hp->host;
      c.listen.port = hp->port;
    }
    break;
  }
  case kGen: {
    if (positionals.empty()) return usage("gen", "missing SIZE (for example: qpipe gen 1G)");
    if (positionals.size() > 1) return usage(positionals[1], "unexpected argument");
    auto n = parse_size(positionals[0], "SIZE");
    if (!n) return n.error();
    c.gen.size = *n;
    break;
  }
  case kApi:
    if (!positionals.empty()) return usage(positionals[0], "unexpected argument");
    break;
  default:
    break;
  }
  return c;
}

std::string usage_text() {
  std::string out;
  for (const auto& line : synopsis_table()) {
    std::string left =
        std::string(out.empty() ? "Usage: " : "       ") + line.command + " " + line.args;
    left.resize(std::max<size_t>(left.size() + 1, 47), ' ');
    out += left + line.what + "\n";
  }
  return out;
}

static std::string help_line(const OptionSpec& o) {
  std::string left = "  ";
  left += o.short_name ? std::string("-") + o.short_name + ", " : "    ";
  left += std::string("--") + o.long_name;
  if (o.arg == Arg::required) left += std::string(" ") + o.arg_name;
  if (o.arg == Arg::optional) left += std::string("[=") + o.arg_name + "]";
  if (left.size() < 28)
    left.resize(28, ' ');
  else
    left += "\n" + std::string(28, ' ');
  return left + o.help + "\n";
}

std::string help_text(Mode mode) {
  std::string out = usage_text();
  out += "\nqpipe moves a byte stream between machines over QUIC, encrypted and verified end to "
         "end.\nIt exits 0 only when every byte arrived intact.\n";
  // Each option is listed once, under the first section its modes match.
  struct Section {
    const char* title;
    unsigned match; // every one of these modes
  } sections[] = {
      {"General", kAll},   {"Send and listen", kSend | kListen}, {"Send", kSend},
      {"Listen", kListen}, {"Generate (qpipe gen)", kGen},       {"Service (qpipe api)", kApi}};
  auto section_of = [&](const OptionSpec& o) -> const Section* {
    for (const auto& s : sections)
      if ((o.modes & s.match) == s.match) return &s;
    return nullptr;
  };
  const unsigned wanted = (mode == kGen || mode == kApi) ? unsigned(mode) : unsigned(kAll);
  for (const auto& s : sections) {
    std::string block;
    for (const auto& o : option_table()) {
      if (section_of(o) != &s || !(o.modes & wanted)) continue;
      block += help_line(o);
    }
    if (!block.empty()) out += std::string("\n") + s.title + ":\n" + block;
  }
  out += "\nExit status: 0 success, 1 transfer failed, 2 usage error, 3 could not connect or "
         "listen,\n4 identity or secret refused, 5 local I/O error, 130 interrupted.\n"
         "See qpipe(1) for details.\n";
  return out;
}

} // namespace qpipe::cli
