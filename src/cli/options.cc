#include "cli/options.h"

#include <cassert>

namespace qpipe::cli {
namespace {

constexpr OptionSpec kTable[] = {
    {OptId::listen, 'l', "listen", Arg::none, nullptr, kSend | kListen,
     "listen for a sender instead of sending", nullptr,
     "Listen on [[HOST]:PORT] (default: all addresses, IPv4 and IPv6, port 4433) and write what "
     "the first sender sends to stdout, or to the file given with \\-o."},
    {OptId::zstd, 'z', "zstd", Arg::optional, "LEVEL|auto[:MIN:MAX]", kSend,
     "compress chunks with zstd; the level follows the link (default auto:1:12)", nullptr,
     "Compress chunks with zstd on all cores; the listener decompresses on its own. Plain \\-z "
     "is \\-\\-zstd=auto: the level follows the connection, between 1 and 12 (auto:MIN:MAX "
     "sets the range, up to 22; negative levels are faster still). It is the highest level at "
     "which the "
     "workers, at the speed they measured at that level and with the ratio they achieved, still "
     "produce compressed data as fast as the connection delivers it: a slow link gets a higher "
     "level, a fast one a lower, so that the link stays full. A number "
     "fixes the level (\\-z19, \\-\\-zstd=\\-5). Each chunk is compressed against the bytes "
     "before it (up to level 3 and from 13 a chunk's worth, from 4 to 12 up to 8 MiB with "
     "long\\-distance matching), so what repeats costs little. Chunks that do not shrink travel "
     "raw, "
     "and "
     "after a few such chunks only every 17th is tried: incompressible data costs almost "
     "nothing. \\-\\-stats reports the levels used."},
    {OptId::streams, 'P', "streams", Arg::required, "N", kSend,
     "parallel QUIC streams in flight, at least (default 8, 1-256)", nullptr,
     "Chunks in flight, each on its own QUIC stream, at least (default 8, 1\\-256). On a "
     "long fat path the sender keeps more in flight as its congestion window needs them, up "
     "to 40 MiB of chunks (20 streams of the default 2 MiB chunks; never fewer than N), and "
     "announces that many to the listener."},
    {OptId::chunk_size, 0, "chunk-size", Arg::required, "SIZE", kSend,
     "bytes per chunk (default 2M; 64K-16M)", nullptr,
     "Bytes per chunk (default 2M; 64K\\-16M). Each chunk costs both ends a few handovers "
     "between threads, so larger chunks cost less CPU; with \\-z, a larger unit, compressed "
     "against the one before, also finds more repeats. Smaller chunks hold less memory."},
    {OptId::output, 'o', "output", Arg::required, "PATH", kListen,
     "write to PATH (a file, or a directory for named files) instead of stdout; - is stdout",
     "file",
     "Write to PATH instead of stdout, into what PATH names, as a shell's redirection would. A "
     "regular file or a new name: the data is written to a temporary file beside PATH and "
     "renamed to PATH only after the whole stream arrived and its digest matched; on any failure "
     "nothing appears at PATH. A device, a FIFO or a socket is written directly (not atomic: "
     "what arrived before a failure is there). A symlink is followed: its target gets the data, "
     "through a temporary beside the target, and the link stays a link. When PATH is a "
     "directory, the files a sender sends by name land in it, each renamed into place after its "
     "own digest matched, with its modification time and its mode (see FILES). PATH is checked "
     "before listening starts: a missing directory, a path that cannot be written, or with "
     "\\-\\-no\\-clobber an existing file, is refused at once (exit 5). A listener refuses to "
     "write to stdout when it is a terminal (exit 2, before it listens); \\fB\\-o \\-\\fR writes "
     "to stdout all the same."},
    {OptId::print_fingerprint, 0, "print-fingerprint", Arg::none, nullptr, kListen,
     "print the listener's fingerprint and exit", nullptr,
     "Print the fingerprint of the listener's identity (the stored one, or \\-\\-cert) on "
     "stdout and exit, for scripts that pass it to \\fB\\-\\-pin\\fR."},
    {OptId::max_connections, 0, "max-connections", Arg::required, "N", kListen,
     "serve at most N transfers at once (default 128); more are refused", nullptr, nullptr},
    {OptId::max_streams, 0, "max-streams", Arg::required, "N", kListen,
     "let a sender have at most N chunk streams open (default 256)", nullptr, nullptr},
    {OptId::keep_listening, 'k', "keep-listening", Arg::none, nullptr, kListen,
     "accept further transfers after the first", nullptr, nullptr},
    {OptId::cert, 0, "cert", Arg::required, "FILE", kListen,
     "certificate to present, or a PEM chain with it first (with --key)", "file", nullptr},
    {OptId::key, 0, "key", Arg::required, "FILE", kListen, "private key of --cert", "file",
     nullptr},
    {OptId::pin, 0, "pin", Arg::required, "SHA256:FP", kSend,
     "accept only a listener with this public-key fingerprint", nullptr, nullptr},
    {OptId::ca, 0, "ca", Arg::required, "FILE", kSend,
     "verify the listener's certificate chain and name against these CAs", "file", nullptr},
    {OptId::insecure, 0, "insecure", Arg::none, nullptr, kSend,
     "do not verify the listener (warns)", nullptr, nullptr},
    {OptId::secret_file, 0, "secret-file", Arg::required, "FILE", kSend | kListen,
     "shared secret that the sender must prove (or QPIPE_SECRET)", "file", nullptr},
    {OptId::cc, 0, "cc", Arg::required, "ALGO", kSend | kListen,
     "congestion control: bbr (default), cubic or reno", "cubic bbr reno", nullptr},
    {OptId::limit, 0, "limit", Arg::required, "RATE", kSend,
     "cap the sending rate (100M = 100 MiB/s)", nullptr, nullptr},
    {OptId::config, 'F', "config", Arg::required, "FILE", kSend,
     "host aliases from FILE (default ~/.config/qpipe/config; none: no file)", "file",
     "Read host aliases and per\\-host settings from \\fIFILE\\fR instead of "
     "\\fI$XDG_CONFIG_HOME/qpipe/config\\fR; \\fB\\-F none\\fR reads no config file (see "
     "CONFIGURATION)."},
    {OptId::print_config, 0, "print-config", Arg::none, nullptr, kSend,
     "print the settings that apply to HOST (config file and options) and exit", nullptr,
     "Print the settings that a send to \\fIHOST\\fR would use, after the config file and the "
     "options on the command line, one \\(lqkeyword value\\(rq line each, as \\fBssh \\-G\\fR "
     "does, and exit."},
    {OptId::progress, 'p', "progress", Arg::none, nullptr, kSend | kListen,
     "show progress (default when stderr is a terminal)", nullptr, nullptr},
    {OptId::no_progress, 0, "no-progress", Arg::none, nullptr, kSend | kListen,
     "never show progress", nullptr, nullptr},
    {OptId::quiet, 'q', "quiet", Arg::none, nullptr, kAll, "print errors only", nullptr, nullptr},
    {OptId::verbose, 'v', "verbose", Arg::none, nullptr, kAll,
     "print more detail (twice for debugging output)", nullptr, nullptr},
    {OptId::stats, 0, "stats", Arg::optional, "json", kSend | kListen,
     "print a summary at the end, even with -q (=json: one bare JSON object)", "text json",
     "Print a summary when the transfer ends (a listener with \\-k: after each transfer), even "
     "with \\-q. As text, one \\(lqqpipe: \\(rq line. With \\fB=json\\fR, one JSON object on a "
     "line of its own, without the \\(lqqpipe: \\(rq prefix, so that "
     "\\fB2>&1 >/dev/null | jq .bytes\\fR works: \\fBok\\fR, \\fBbytes\\fR (payload bytes this "
     "run carried), \\fBwire_bytes\\fR, \\fBseconds\\fR, \\fBrate\\fR (bytes per second), "
     "\\fBratio\\fR, \\fBrtt_ms\\fR, \\fBlost_packets\\fR, \\fBchunks\\fR, "
     "\\fBpayload_wire_bytes\\fR, \\fBwindow\\fR (the largest flow\\-control credit: "
     "what the listener granted, what the sender saw as left plus in flight), \\fBcwnd\\fR "
     "(the largest congestion window of this side), \\fBudp_payload\\fR, "
     "\\fBpath_changes\\fR (times the "
     "connection moved to another address pair: a NAT that rebound, a sender that migrated; "
     "\\-v prints each), \\fBgso\\fR, \\fBgro\\fR, \\fBpeer\\fR, "
     "and \\fBerror\\fR on failure. A member without a measurement is absent: \\fBrtt_ms\\fR "
     "before the first RTT sample (a refused connection), \\fBlost_packets\\fR when the peer "
     "never said what it received, \\fBwindow\\fR before any chunk credit. With \\-q the summary "
     "is all that standard error carries "
     "on success (no \\(lqfirst contact\\(rq line, say). The value must be attached: "
     "\\fB\\-\\-stats=json\\fR."},
    {OptId::stats_file, 0, "stats-file", Arg::required, "FILE", kSend | kListen,
     "write the --stats summary to FILE instead of stderr (text unless --stats=json)", "file",
     "Write the summary of \\fB\\-\\-stats\\fR (text, or JSON with \\fB\\-\\-stats=json\\fR) to "
     "FILE instead of standard error, one line per transfer, without the \\(lqqpipe: \\(rq "
     "prefix; implies \\fB\\-\\-stats\\fR. FILE is created (or emptied) before the transfer "
     "starts."},
    {OptId::size, 's', "size", Arg::required, "SIZE", kSend,
     "size of the piped input, for percent and ETA on both sides (as pv -s)", nullptr,
     "The size of standard input when it is a pipe, as \\fBpv \\-s\\fR takes it: the progress "
     "display of both sides shows percent and ETA (the listener learns it in HELLO). It is a "
     "hint, not a promise: an input that ends sooner or runs longer is sent all the same; past "
     "SIZE the display drops the percentage instead of showing more than 100%. Not with FILE "
     "arguments, whose sizes are known."},
    {OptId::forget, 0, "forget", Arg::required, "HOST[:PORT]", kSend,
     "remove HOST's entries (all ports, or PORT's) from known_hosts and exit", "host",
     "Remove the entries of HOST (every port, or only PORT) from the known_hosts file, as "
     "\\fBssh\\-keygen \\-R\\fR does, say how many, and exit 0 (also when there was none). The "
     "next transfer to HOST is a first contact again."},
    {OptId::resume, 0, "resume", Arg::none, nullptr, kSend | kListen,
     "keep an interrupted file's part and send only the rest next time", nullptr, nullptr},
    {OptId::sync, 0, "sync", Arg::none, nullptr, kListen, "fsync before renaming into place",
     nullptr, nullptr},
    {OptId::no_clobber, 0, "no-clobber", Arg::none, nullptr, kListen,
     "refuse to replace an existing file", nullptr, nullptr},
    {OptId::keep_modes, 0, "keep-modes", Arg::none, nullptr, kListen,
     "give files the sender's permission bits, even group- or world-writable", nullptr,
     "Give files sent by name the sender's permission bits as they are. Without it the "
     "listener's umask applies and no file is made group\\- or world\\-writable; setuid, "
     "setgid and sticky bits are dropped either way."},
    {OptId::ipv4, '4', "ipv4", Arg::none, nullptr, kSend | kListen, "use IPv4 only", nullptr,
     nullptr},
    {OptId::ipv6, '6', "ipv6", Arg::none, nullptr, kSend | kListen, "use IPv6 only", nullptr,
     nullptr},
    {OptId::bind, 0, "bind", Arg::required, "ADDR", kSend | kListen | kApi,
     "local address to use (api: address to listen on, default 127.0.0.1)", "host", nullptr},
    {OptId::idle_timeout, 0, "idle-timeout", Arg::required, "SECONDS", kSend | kListen,
     "give up on a silent peer after SECONDS (default 30)", nullptr, nullptr},
    {OptId::seed, 0, "seed", Arg::required, "N", kGen, "seed of the generated data (default 0)",
     nullptr, nullptr},
    {OptId::kind, 0, "kind", Arg::required, "KIND", kGen,
     "kind of data: random (default), zero, text or mixed", "random zero text mixed", nullptr},
    {OptId::check, 0, "check", Arg::none, nullptr, kGen,
     "read stdin and exit 0 only if it equals the data", nullptr, nullptr},
    {OptId::force, 'f', "force", Arg::none, nullptr, kGen, "write binary data even to a terminal",
     nullptr, nullptr},
    {OptId::port, 0, "port", Arg::required, "PORT", kApi,
     "TCP port of the HTTP service (default 8000; 0 picks a free one)", nullptr, nullptr},
    {OptId::token_file, 0, "token-file", Arg::required, "FILE", kApi,
     "token that requests must present (or QPIPE_API_TOKEN; default: a generated one)", "file",
     "Requests must present the token in FILE (or in \\fBQPIPE_API_TOKEN\\fR). Without either, the "
     "token in \\fI$XDG_RUNTIME_DIR/qpipe/api\\-token\\fR is used, generated (mode 0600) when "
     "missing; see SERVICE."},
    {OptId::root, 0, "root", Arg::required, "DIR", kApi,
     "directory that request paths are relative to (default: .)", "dir", nullptr},
    {OptId::allow_host, 0, "allow-host", Arg::required, "NAME", kApi,
     "also accept requests for Host NAME, any port (repeatable)", "host",
     "Also accept requests whose Host header names NAME (with any port), for example the name a "
     "reverse proxy or other hosts use. May be given more than once. Loopback names and the "
     "bound address are always accepted; any other name is refused (DNS rebinding)."},
    {OptId::max_sends, 0, "max-sends", Arg::required, "N", kApi,
     "run at most N sends at once (default 16); more get 429", nullptr, nullptr},
    {OptId::max_listeners, 0, "max-listeners", Arg::required, "N", kApi,
     "run at most N listeners at once (default 16); more get 429", nullptr, nullptr},
    {OptId::max_records, 0, "max-records", Arg::required, "N", kApi,
     "keep at most N finished transfers (default 1000), oldest out first", nullptr, nullptr},
    {OptId::record_ttl, 0, "record-ttl", Arg::required, "SECONDS", kApi,
     "forget a finished transfer SECONDS after it ended (default 3600)", nullptr, nullptr},
    {OptId::help, 'h', "help", Arg::none, nullptr, kAll, "show this help and exit", nullptr,
     nullptr},
    {OptId::version, 'V', "version", Arg::none, nullptr, kAll,
     "show the version and the library versions and exit", nullptr, nullptr},
};

constexpr SynopsisLine kSynopsis[] = {
    {"qpipe", "[OPTIONS] HOST[:PORT] [FILE...]", "send stdin or FILEs to a listener"},
    {"qpipe -l", "[OPTIONS] [[HOST]:PORT]", "listen; write what arrives to stdout"},
    {"qpipe gen", "[OPTIONS] SIZE", "write deterministic test data"},
    {"qpipe gen --check", "[OPTIONS] SIZE", "verify stdin against that data"},
    {"qpipe api", "[OPTIONS]", "HTTP/JSON service for transfers"},
    {"qpipe --print-config", "[OPTIONS] HOST", "show what the config file sets for HOST"},
    {"qpipe --forget", "HOST[:PORT]", "forget a listener's recorded identity"},
};

} // namespace

std::span<const OptionSpec> option_table() {
  return kTable;
}

std::span<const SynopsisLine> synopsis_table() {
  return kSynopsis;
}

const OptionSpec& option(OptId id) {
  for (const auto& o : kTable)
    if (o.id == id) return o;
  assert(false && "option id missing from the table");
  return kTable[0];
}

const char* mode_name(Mode m) {
  switch (m) {
  case kSend:
    return "send";
  case kListen:
    return "listen (-l)";
  case kGen:
    return "gen";
  case kApi:
    return "api";
  default:
    return "?";
  }
}

} // namespace qpipe::cli
