// Tests of the command line (src/cli/parse.h): modes, defaults, the spellings
// of options, the usage errors (exit status 2) and HOST[:PORT].
#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "cli/parse.h"
#include "core/host_port.h"

namespace qpipe::cli {
namespace {

// Parses `qpipe ARGS...` (argv[0] is added here).
Result<Config> parse_args(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"qpipe"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

std::string joined(std::initializer_list<const char*> args) {
  std::string s;
  for (const char* a : args)
    s += std::string(s.empty() ? "" : " ") + a;
  return s;
}

Config parsed(std::initializer_list<const char*> args) {
  auto r = parse_args(args);
  BOOST_TEST_INFO("qpipe " << joined(args));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
  return *r;
}

// Checks that the command line is a usage error; returns the message.
std::string refused(std::initializer_list<const char*> args) {
  auto r = parse_args(args);
  BOOST_TEST_INFO("qpipe " << joined(args));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST_INFO("qpipe " << joined(args) << ": " << r.error().message());
  BOOST_TEST(r.error().exit_code() == static_cast<int>(Errc::usage));
  return r.error().message();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

HostPort host_port(const std::string& text, bool listening) {
  auto r = parse_host_port(text, listening, app::kDefaultPort);
  BOOST_TEST_INFO("'" << text << "' listening " << listening);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
  return *r;
}

void bad_host_port(const std::string& text, bool listening) {
  auto r = parse_host_port(text, listening, app::kDefaultPort);
  BOOST_TEST_INFO("'" << text << "' listening " << listening);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().exit_code() == static_cast<int>(Errc::usage));
}

} // namespace

BOOST_AUTO_TEST_SUITE(parse)

BOOST_AUTO_TEST_CASE(send_defaults) {
  Config c = parsed({"example.org"});
  BOOST_TEST(c.mode == kSend);
  BOOST_TEST(!c.help);
  BOOST_TEST(!c.version);
  BOOST_TEST((c.verbosity == Verbosity::normal));
  BOOST_TEST((c.progress == Progress::automatic));
  BOOST_TEST((c.stats == StatsFormat::none));
  BOOST_TEST(c.send.host == "example.org");
  BOOST_TEST(c.send.port == app::kDefaultPort);
  BOOST_TEST(c.send.port == 4433);
  BOOST_TEST(c.send.streams == 8);
  BOOST_TEST(c.send.chunk_size_or_default() == 2u << 20);
  BOOST_TEST(c.send.limit_bytes_per_second == 0u);
  BOOST_TEST(!c.send.zstd.has_value());
  // The same with -z; --chunk-size still decides.
  BOOST_TEST(parsed({"-z", "example.org"}).send.chunk_size_or_default() == 2u << 20);
  BOOST_TEST(parsed({"-z", "--chunk-size", "1M", "example.org"}).send.chunk_size_or_default() ==
             1u << 20);
  BOOST_TEST((c.send.cc == transport::CongestionControl::bbr));
  BOOST_TEST(c.send.family == AF_UNSPEC);
  BOOST_TEST(c.send.bind.empty());
  BOOST_TEST(c.send.idle_timeout_ms == 30000u);
  BOOST_TEST(c.files.empty());
}

BOOST_AUTO_TEST_CASE(listen_defaults) {
  Config c = parsed({"-l"});
  BOOST_TEST(c.mode == kListen);
  BOOST_TEST(c.listen.host.empty());
  BOOST_TEST(c.listen.port == 4433);
  BOOST_TEST(!c.listen.output.has_value());
  BOOST_TEST(!c.listen.keep_listening);
  BOOST_TEST((c.listen.cc == transport::CongestionControl::bbr));
  BOOST_TEST(c.listen.family == AF_UNSPEC);
  BOOST_TEST(c.listen.idle_timeout_ms == 30000u);
  // -l anywhere on the line, and its long form.
  BOOST_TEST(parsed({"127.0.0.1:5000", "-l"}).mode == kListen);
  BOOST_TEST(parsed({"--listen", ":5000"}).listen.port == 5000);
}

BOOST_AUTO_TEST_CASE(gen_defaults) {
  Config c = parsed({"gen", "1M"});
  BOOST_TEST(c.mode == kGen);
  BOOST_TEST(c.gen.size == 1024u * 1024u);
  BOOST_TEST(c.gen.seed == 0u);
  BOOST_TEST((c.gen.kind == gen::Kind::random));
  BOOST_TEST(!c.gen.check);
  BOOST_TEST(!c.gen.force);
  Config d = parsed({"gen", "--seed", "3", "--kind=text", "--check", "-f", "0"});
  BOOST_TEST(d.gen.size == 0u);
  BOOST_TEST(d.gen.seed == 3u);
  BOOST_TEST((d.gen.kind == gen::Kind::text));
  BOOST_TEST(d.gen.check);
  BOOST_TEST(d.gen.force);
  // `gen` names the mode only as the first word.
  BOOST_TEST(parsed({"-q", "gen"}).send.host == "gen");
  BOOST_TEST(parsed({"-l", "gen"}).listen.host == "gen");
}

BOOST_AUTO_TEST_CASE(api_mode) {
  Config a = parsed({"api", "--port", "0", "--root", "r", "--token-file", "t", "--bind", "::1"});
  BOOST_TEST(a.mode == kApi);
  BOOST_TEST(a.api.port == 0);
  BOOST_TEST(a.api.root == "r");
  BOOST_TEST(a.api.token_file == "t");
  BOOST_TEST(a.api.bind == "::1");
  BOOST_TEST(parsed({"api"}).api.port == 8000);
  refused({"api", "extra"});
  Config c = parsed({"api", "--help"});
  BOOST_TEST(c.mode == kApi);
  BOOST_TEST(c.help);
  refused({"api", "--seed", "1"});
  refused({"api", "-P", "4"});
}

BOOST_AUTO_TEST_CASE(options_are_applied) {
  Config c =
      parsed({"-P", "16", "--chunk-size", "4M", "--cc", "bbr", "--limit", "100M", "-4", "--bind",
              "10.0.0.1", "--idle-timeout", "5", "--stats=json", "-p", "-vv", "host:1234", "-"});
  BOOST_TEST(c.send.streams == 16);
  BOOST_TEST(c.send.chunk_size == 4u * 1024 * 1024);
  BOOST_TEST((c.send.cc == transport::CongestionControl::bbr));
  BOOST_TEST(c.send.limit_bytes_per_second == 100u * 1024 * 1024);
  BOOST_TEST(c.send.family == AF_INET);
  BOOST_TEST(c.send.bind == "10.0.0.1");
  BOOST_TEST(c.send.idle_timeout_ms == 5000u);
  BOOST_TEST((c.stats == StatsFormat::json));
  BOOST_TEST((c.progress == Progress::on));
  BOOST_TEST((c.verbosity == Verbosity::debug));
  BOOST_TEST(c.send.host == "host");
  BOOST_TEST(c.send.port == 1234);
  BOOST_TEST(c.files == std::vector<std::string>{"-"});

  Config l = parsed({"-l", "-o", "out.bin", "-k", "--cc=reno", "-6", "--no-progress", "--stats",
                     "-q", "[::1]:0"});
  BOOST_TEST(l.listen.output.value_or("") == "out.bin");
  BOOST_TEST(l.listen.keep_listening);
  BOOST_TEST((l.listen.cc == transport::CongestionControl::reno));
  BOOST_TEST(l.listen.family == AF_INET6);
  BOOST_TEST((l.progress == Progress::off));
  BOOST_TEST((l.stats == StatsFormat::text));
  BOOST_TEST((l.verbosity == Verbosity::quiet));
  BOOST_TEST(l.listen.host == "::1");
  BOOST_TEST(l.listen.port == 0);

  // -v saturates at debug.
  BOOST_TEST((parsed({"-vvvv", "h"}).verbosity == Verbosity::debug));
  BOOST_TEST((parsed({"-v", "h"}).verbosity == Verbosity::verbose));
  BOOST_TEST((parsed({"--cc", "cubic", "h"}).send.cc == transport::CongestionControl::cubic));
}

BOOST_AUTO_TEST_CASE(short_option_spellings) {
  // Bundles of flags, and the argument attached or separate.
  Config lk = parsed({"-lk"});
  BOOST_TEST(lk.mode == kListen);
  BOOST_TEST(lk.listen.keep_listening);
  BOOST_TEST(parsed({"-P8", "h"}).send.streams == 8);
  BOOST_TEST(parsed({"-P", "8", "h"}).send.streams == 8);
  BOOST_TEST(parsed({"-P256", "h"}).send.streams == 256);
  BOOST_TEST(parsed({"-pP3", "h"}).send.streams == 3); // flag, then an option with its value
  BOOST_TEST(parsed({"-pP", "3", "h"}).send.streams == 3);
  Config lko = parsed({"-lko", "x.bin"});
  BOOST_TEST(lko.listen.keep_listening);
  BOOST_TEST(lko.listen.output.value_or("") == "x.bin");
  BOOST_TEST(parsed({"-lkox.bin"}).listen.output.value_or("") == "x.bin");
  // The argument may look like an option: it is taken as it is.
  BOOST_TEST(parsed({"-l", "-o", "-k"}).listen.output.value_or("") == "-k");
}

BOOST_AUTO_TEST_CASE(long_option_spellings) {
  BOOST_TEST(parsed({"--streams=12", "h"}).send.streams == 12);
  BOOST_TEST(parsed({"--streams", "12", "h"}).send.streams == 12);
  BOOST_TEST(parsed({"--chunk-size=64K", "h"}).send.chunk_size == 65536u);
  BOOST_TEST(parsed({"-l", "--output=a=b"}).listen.output.value_or("") == "a=b");
  // An optional argument only with '=': `--stats json` would be --stats and a
  // positional, so it is refused with the fix (see mistakes_answered_with_the_fix).
  Config c = parsed({"--stats", "h"});
  BOOST_TEST((c.stats == StatsFormat::text));
  BOOST_TEST(c.send.host == "h");
  BOOST_TEST((parsed({"--stats=text", "h"}).stats == StatsFormat::text));
}

BOOST_AUTO_TEST_CASE(double_dash_ends_options) {
  Config c = parsed({"--", "-host"});
  BOOST_TEST(c.send.host == "-host");
  Config l = parsed({"-l", "--", "5000"});
  BOOST_TEST(l.listen.port == 5000);
  Config g = parsed({"gen", "--seed", "1", "--", "2K"});
  BOOST_TEST(g.gen.size == 2048u);
  BOOST_TEST(g.gen.seed == 1u);
  // Options after `--` are positionals, not options.
  Config s = parsed({"h", "--", "-"});
  BOOST_TEST(s.files == std::vector<std::string>{"-"});
  refused({"gen", "--", "--check", "1M"}); // two positionals
  Config k = parsed({"-l", "--", "-k"});
  BOOST_TEST(!k.listen.keep_listening);
  BOOST_TEST(k.listen.host == "-k");
}

BOOST_AUTO_TEST_CASE(dash_is_a_positional) {
  Config c = parsed({"host", "-"});
  BOOST_TEST(c.send.host == "host");
  BOOST_TEST(c.files == std::vector<std::string>{"-"});
  Config d = parsed({"-", "-P", "2"}); // "-" is not a bundle of no options
  BOOST_TEST(d.send.host == "-");
  BOOST_TEST(d.send.streams == 2);
}

BOOST_AUTO_TEST_CASE(unknown_options) {
  BOOST_TEST(contains(refused({"--no-such-option", "h"}), "--no-such-option"));
  BOOST_TEST(contains(refused({"-Y", "h"}), "-Y"));
  BOOST_TEST(contains(refused({"-lY"}), "-Y")); // in a bundle
  refused({"--Streams=2", "h"});                // case matters
  refused({"--stream=2", "h"});                 // no abbreviations
  refused({"-5", "h"});
}

BOOST_AUTO_TEST_CASE(missing_and_extra_arguments) {
  BOOST_TEST(contains(refused({"h", "-P"}), "-P"));
  BOOST_TEST(contains(refused({"h", "--streams"}), "--streams"));
  refused({"-l", "-o"});
  refused({"gen", "1M", "--seed"});
  refused({"gen", "1M", "--kind"});
  // A flag with a value.
  BOOST_TEST(contains(refused({"--listen=yes"}), "--listen"));
  refused({"h", "--progress=1"});
  refused({"gen", "1M", "--check=yes"});
  // Positionals: none, one too many.
  refused({});
  refused({"-P", "4"});
  refused({"gen"});
  refused({"gen", "1M", "2M"});
  refused({"-l", "h:1", "h:2"});
  // stdin can be named once among the files.
  refused({"h", "-", "-"});
  BOOST_TEST(parsed({"h", "a", "-", "b c"}).files.size() == 3u);
}

BOOST_AUTO_TEST_CASE(options_of_another_mode) {
  BOOST_TEST(contains(refused({"-o", "x", "h"}), "-o"));
  BOOST_TEST(contains(refused({"--output=x", "h"}), "--output"));
  refused({"-k", "h"});
  BOOST_TEST(contains(refused({"-l", "-P", "8"}), "-P"));
  refused({"-l", "--chunk-size", "1M"});
  refused({"-l", "--limit", "1M"});
  BOOST_TEST(contains(refused({"--seed", "1", "h"}), "--seed"));
  refused({"-l", "--seed", "1"});
  refused({"--kind", "text", "h"});
  refused({"--check", "h"});
  refused({"-f", "h"});
  refused({"gen", "-P", "4", "1M"});
  refused({"gen", "-l", "1M"});
  refused({"gen", "--cc", "bbr", "1M"});
  refused({"gen", "--stats", "1M"});
  // The message says where the option belongs.
  std::string msg = refused({"-l", "-P", "8"});
  BOOST_TEST(contains(msg, "send"));
}

BOOST_AUTO_TEST_CASE(out_of_range_values) {
  BOOST_TEST(contains(refused({"--streams", "0", "h"}), "--streams"));
  refused({"--streams", "257", "h"});
  refused({"-P0", "h"});
  refused({"-P", "-1", "h"});
  refused({"-P", "eight", "h"});
  refused({"-P", "", "h"});
  BOOST_TEST(parsed({"-P", "1", "h"}).send.streams == 1);
  BOOST_TEST(parsed({"-P", "256", "h"}).send.streams == 256);

  BOOST_TEST(contains(refused({"--chunk-size", "65535", "h"}), "--chunk-size"));
  refused({"--chunk-size", "63K", "h"});
  refused({"--chunk-size", "16777217", "h"});
  refused({"--chunk-size", "17M", "h"});
  refused({"--chunk-size", "0", "h"});
  refused({"--chunk-size", "1X", "h"});
  BOOST_TEST(parsed({"--chunk-size", "64K", "h"}).send.chunk_size == 65536u);
  BOOST_TEST(parsed({"--chunk-size", "65536", "h"}).send.chunk_size == 65536u);
  BOOST_TEST(parsed({"--chunk-size", "16M", "h"}).send.chunk_size == 16u * 1024 * 1024);

  refused({"--idle-timeout", "0", "h"});
  refused({"--idle-timeout", "86401", "h"});
  refused({"--limit", "fast", "h"});
  refused({"gen", "--seed", "x", "1M"});
  refused({"gen", "--kind", "noise", "1M"});
  refused({"gen", "1Q"});
  refused({"gen", "-1"});
}

BOOST_AUTO_TEST_CASE(bad_words) {
  std::string msg = refused({"--cc", "vegas", "h"});
  BOOST_TEST(contains(msg, "vegas"));
  refused({"--cc", "", "h"});
  refused({"--cc", "BBR", "h"});
  refused({"--stats=", "h"});
  refused({"--stats=JSON", "h"});
  refused({"-l", "-o", ""});
}

BOOST_AUTO_TEST_CASE(zstd_levels) {
  using codec::LevelRange;
  BOOST_TEST((*parsed({"-z", "h"}).send.zstd == codec::kAutoLevels)); // plain -z is auto
  BOOST_TEST((*parsed({"--zstd=auto", "h"}).send.zstd == codec::kAutoLevels));
  BOOST_TEST((*parsed({"-zauto:-3:9", "h"}).send.zstd == LevelRange{-3, 9}));
  BOOST_TEST((*parsed({"-z19", "h"}).send.zstd == LevelRange{19, 19}));
  BOOST_TEST((*parsed({"--zstd=-5", "h"}).send.zstd == LevelRange{-5, -5}));
  BOOST_TEST(!parsed({"h"}).send.zstd.has_value());
  refused({"--zstd=99", "h"});
  refused({"--zstd=x", "h"});
  refused({"--zstd=auto:9:2", "h"});  // MIN above MAX
  refused({"--zstd=auto:1:99", "h"}); // out of range
  refused({"--zstd=auto:1", "h"});
  refused({"-l", "-z"});
}

BOOST_AUTO_TEST_CASE(listener_file_options) {
  BOOST_TEST(parsed({"-l", "--resume"}).listen.resume);
  BOOST_TEST(parsed({"--resume", "h"}).send.resume);
  BOOST_TEST(parsed({"-l", "--max-connections", "5"}).listen.max_connections == 5);
  refused({"-l", "--max-connections", "0"});
  BOOST_TEST(parsed({"-l", "--sync"}).listen.sync);
  BOOST_TEST(parsed({"-l", "--no-clobber"}).listen.no_clobber);
  refused({"--sync", "h"});
}

BOOST_AUTO_TEST_CASE(trust_options) {
  const char* fp = "SHA256:yMV3WK2X9MtX/w7BIKNLrAfSbItQiySc4lSgRb74FHo";
  auto p = parsed({"--pin", fp, "h"});
  BOOST_TEST((p.send.verify == qpipe::app::Verify::pin));
  BOOST_TEST(p.send.pin == fp);
  BOOST_TEST((parsed({"--ca", "ca.pem", "h"}).send.verify == qpipe::app::Verify::ca));
  BOOST_TEST((parsed({"--insecure", "h"}).send.verify == qpipe::app::Verify::insecure));
  BOOST_TEST((parsed({"h"}).send.verify == qpipe::app::Verify::known_hosts));
  BOOST_TEST(parsed({"Example.ORG:99"}).send.peer_key == "example.org:99");
  BOOST_TEST(parsed({"[::1]"}).send.peer_key == "[::1]:4433");
  BOOST_TEST(parsed({"--secret-file", "s", "h"}).secret_file == "s");
  BOOST_TEST(parsed({"-l", "--cert", "c", "--key", "k"}).listen.cert_file == "c");
  BOOST_TEST(parsed({"-l", "--print-fingerprint"}).print_fingerprint);
  BOOST_TEST(contains(refused({"--pin", "SHA256:abc", "h"}), "--pin"));
  refused({"--pin", fp, "--insecure", "h"});
  refused({"--ca", "x", "--insecure", "h"});
  refused({"-l", "--cert", "c"});
  refused({"-l", "--key", "k"});
  refused({"--cert", "c", "--key", "k", "h"});
}

BOOST_AUTO_TEST_CASE(help_and_version_win) {
  BOOST_TEST(parsed({"--help"}).help);
  BOOST_TEST(parsed({"-h"}).help);
  BOOST_TEST(parsed({"--version"}).version);
  BOOST_TEST(parsed({"-V"}).version);
  // Over a missing destination or SIZE, bad values, options of another mode.
  BOOST_TEST(parsed({"--streams", "0", "--help"}).help);
  BOOST_TEST(parsed({"-h", "--chunk-size", "1"}).help);
  BOOST_TEST(parsed({"-l", "-P", "8", "--help"}).help);
  BOOST_TEST(parsed({"--seed", "1", "-V"}).version);
  BOOST_TEST(parsed({"--pin", "x", "-h"}).help);
  BOOST_TEST(parsed({"h", "a", "b", "-h"}).help);
  BOOST_TEST(parsed({"--cc", "vegas", "-V"}).version);
  Config g = parsed({"gen", "--help"});
  BOOST_TEST(g.help);
  BOOST_TEST(g.mode == kGen);
  Config l = parsed({"-lh"});
  BOOST_TEST(l.help);
  BOOST_TEST(l.mode == kListen);
  BOOST_TEST(parsed({"api", "-V"}).version);
}

// Help and version win even over unknown options and malformed flags.
BOOST_AUTO_TEST_CASE(help_wins_over_unknown_options) {
  BOOST_TEST(parse_args({"--help", "--no-such-option"}).ok());
  BOOST_TEST(parse_args({"-V", "-Y"}).ok());
  BOOST_TEST(parse_args({"--help", "--listen=yes"}).ok());
}

BOOST_AUTO_TEST_CASE(host_port_forms) {
  auto a = host_port("example.org", false);
  BOOST_TEST(a.host == "example.org");
  BOOST_TEST(a.port == 4433);
  auto b = host_port("example.org:5000", false);
  BOOST_TEST(b.host == "example.org");
  BOOST_TEST(b.port == 5000);
  auto c = host_port("[::1]:5000", false);
  BOOST_TEST(c.host == "::1");
  BOOST_TEST(c.port == 5000);
  auto d = host_port("::1", false);
  BOOST_TEST(d.host == "::1");
  BOOST_TEST(d.port == 4433);
  auto e = host_port("[::1]", false);
  BOOST_TEST(e.host == "::1");
  BOOST_TEST(e.port == 4433);
  auto f = host_port("fe80::1:2:3", false);
  BOOST_TEST(f.host == "fe80::1:2:3");
  BOOST_TEST(f.port == 4433);
  auto g = host_port("10.1.2.3:65535", false);
  BOOST_TEST(g.host == "10.1.2.3");
  BOOST_TEST(g.port == 65535);
  auto h = host_port("127.0.0.1:1", false);
  BOOST_TEST(h.port == 1);
}

BOOST_AUTO_TEST_CASE(host_port_listening) {
  auto a = host_port(":5000", true);
  BOOST_TEST(a.host.empty());
  BOOST_TEST(a.port == 5000);
  auto b = host_port("5000", true); // as nc -l reads it
  BOOST_TEST(b.host.empty());
  BOOST_TEST(b.port == 5000);
  auto c = host_port("0", true);
  BOOST_TEST(c.host.empty());
  BOOST_TEST(c.port == 0);
  auto d = host_port("127.0.0.1:0", true);
  BOOST_TEST(d.host == "127.0.0.1");
  BOOST_TEST(d.port == 0);
  auto e = host_port("[::]:0", true);
  BOOST_TEST(e.host == "::");
  BOOST_TEST(e.port == 0);
  auto f = host_port("localhost", true);
  BOOST_TEST(f.host == "localhost");
  BOOST_TEST(f.port == 4433);
  auto g = host_port("::", true);
  BOOST_TEST(g.host == "::");
  // When sending, a number is a host name and port 0 is no port.
  BOOST_TEST(host_port("5000", false).host == "5000");
  bad_host_port(":5000", false);
  bad_host_port("host:0", false);
  bad_host_port("[::1]:0", false);
  bad_host_port("[]:5000", false);
}

BOOST_AUTO_TEST_CASE(host_port_errors) {
  for (bool listening : {false, true}) {
    bad_host_port("", listening);
    bad_host_port("host:", listening);
    bad_host_port("[::1]:", listening);
    bad_host_port("host:70000", listening);
    bad_host_port("host:65536", listening);
    bad_host_port("[::1]:70000", listening);
    bad_host_port("host:http", listening);
    bad_host_port("host:-1", listening);
    bad_host_port("[::1", listening);
    bad_host_port("[::1]5000", listening);
  }
  bad_host_port("70000", true);
  bad_host_port(":70000", true);
  // Through the command line, as a usage error.
  refused({"host:"});
  refused({"host:70000"});
  refused({"-l", "70000"});
  refused({"-l", ":"});
  refused({"127.0.0.1:0"});
}

// Issue 15, point 4: each mistake gets a usage error that says what to type.
BOOST_AUTO_TEST_CASE(mistakes_answered_with_the_fix) {
  // nc's HOST PORT, when no file of that name exists.
  BOOST_TEST(contains(refused({"host", "5011"}), "did you mean host:5011?"));
  BOOST_TEST(contains(refused({"::1", "5011"}), "did you mean [::1]:5011?"));
  BOOST_TEST(contains(refused({"-l", "127.0.0.1", "5011"}), "-l 127.0.0.1:5011"));
  // With a port given, a missing file named 5011 is just a missing file.
  BOOST_TEST(parsed({"host:1", "5011"}).files.size() == 1u);
  // A mistyped mode.
  BOOST_TEST(contains(refused({"gne", "1G"}), "did you mean 'qpipe gen 1G'?"));
  BOOST_TEST(contains(refused({"gen", "1G", "--seeed", "1"}), "did you mean --seed?"));
  // Unknown long options, with the nearest one.
  BOOST_TEST(contains(refused({"--stream", "4", "h"}), "did you mean --streams?"));
  BOOST_TEST(contains(refused({"--strems=4", "h"}), "did you mean --streams?"));
  BOOST_TEST(contains(refused({"-l", "--keep-listen"}), "did you mean --keep-listening?"));
  BOOST_TEST(!contains(refused({"--no-such-option", "h"}), "did you mean"));
  // An optional value written apart.
  BOOST_TEST(contains(refused({"-z", "19", "h"}), "-z19 or --zstd=19"));
  BOOST_TEST(contains(refused({"h", "--zstd", "3"}), "--zstd=3"));
  BOOST_TEST(contains(refused({"h", "--stats", "json"}), "--stats=json"));
  BOOST_TEST(contains(refused({"-l", "--stats", "json"}), "--stats=json"));
  // ... but not when the word cannot be the value, or is a file that exists.
  BOOST_TEST(parsed({"-l", "--stats", "5000"}).listen.port == 5000);
  BOOST_TEST(parsed({"-z", "h", "/"}).send.host == "h");
  // `qpipe help`, `qpipe help gen`.
  BOOST_TEST(parsed({"help"}).help);
  Config g = parsed({"help", "gen"});
  BOOST_TEST(g.help);
  BOOST_TEST((g.mode == kGen));
}

BOOST_AUTO_TEST_CASE(stats_size_forget_and_stdout) {
  Config c = parsed({"--stats-file", "s.txt", "h"});
  BOOST_TEST((c.stats == StatsFormat::text));
  BOOST_TEST(c.stats_file == "s.txt");
  BOOST_TEST((parsed({"--stats-file=s", "--stats=json", "h"}).stats == StatsFormat::json));
  BOOST_TEST((parsed({"-l", "--stats-file", "s"}).stats == StatsFormat::text));
  BOOST_TEST(parsed({"-s", "10M", "h"}).input_size.value_or(0) == 10u << 20);
  refused({"--size=1K", "h", "-"});
  BOOST_TEST(contains(refused({"-s", "1M", "h", "/etc/hostname"}), "-s"));
  refused({"-s", "lots", "h"});
  refused({"-l", "-s", "1M"});
  Config f = parsed({"--forget", "Host"});
  BOOST_TEST(f.forget->host == "Host");
  BOOST_TEST(f.forget->port == 0);
  BOOST_TEST(parsed({"--forget", "h:5000"}).forget->port == 5000);
  BOOST_TEST(parsed({"--forget", "[::1]:7"}).forget->host == "::1");
  refused({"--forget", "h", "extra"});
  refused({"--forget", "h:0"});
  Config o = parsed({"-l", "-o", "-"});
  BOOST_TEST(o.output_stdout);
  BOOST_TEST(!o.listen.output);
  BOOST_TEST(!parsed({"-l", "-o", "-", "-o", "x"}).output_stdout);
}

BOOST_AUTO_TEST_CASE(help_text_by_mode) {
  std::string all = help_text(kSend);
  for (const auto& o : option_table()) {
    BOOST_TEST_INFO(o.long_name);
    BOOST_TEST(contains(all, std::string("--") + o.long_name));
  }
  std::string g = help_text(kGen);
  for (const char* opt : {"--seed", "--kind", "--check", "--force", "--quiet", "--help"})
    BOOST_TEST(contains(g, opt), opt);
  for (const char* opt : {"--streams", "--listen", "--output", "--token-file"})
    BOOST_TEST(!contains(g, opt), opt);
  BOOST_TEST(help_text(kSend).rfind(usage_text(), 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::cli
