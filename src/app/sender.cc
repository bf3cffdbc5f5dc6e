// The sending side of a transfer: reads the source into chunks, hashes them
// on the thread pool, sends each chunk on its own QUIC stream (the lowest
// sequence number first), and ends with the stream digest on the control
// stream. It succeeds only when the listener's DONE confirms every byte.
//
// Memory: at most max_held_ bytes of chunk buffers exist at once; a chunk's
// buffer is freed when the listener has acknowledged its whole stream.
#include <wolfssl/options.h>

#include <cstring>
#include <deque>
#include <unordered_map>
#include <wolfssl/ssl.h>

#include "app/control_out.h"
#include "app/transfer.h"
#include "app/transfer_common.h"
#include "core/buffer_pool.h"
#include "core/units.h"
#include "pipeline/codec.h"
#include "pipeline/digest.h"
#include "pipeline/wire.h"
#include "tls/identity_store.h"
#include "tls/known_hosts.h"
#include "tls/secret.h"
#include "transport/connection.h"
#include "uv/work.h"

namespace qpipe::app {
namespace {

using transport::AppError;
using transport::CloseInfo;

struct Chunk {
  uint64_t seq = 0;
  uint32_t file = 0;               // the item it belongs to
  std::unique_ptr<uint8_t[]> data; // the raw bytes, until sent compressed or acknowledged
  size_t capacity = 0;
  uint32_t len = 0;
  std::unique_ptr<uint8_t[]> packed; // the zstd frame, when compression was tried
  size_t packed_capacity = 0;
  wire::Codec codec = wire::Codec::raw;
  uint32_t wire_len = 0;
  bool closed = false; // the listener acknowledged the whole stream
  std::array<uint8_t, wire::ChunkHeader::kSize> header{};
  bool hashed = false;
  wire::Digest hash{};
  int64_t stream_id = -1;
  size_t sent = 0; // header and payload bytes handed to QUIC
  bool fin_sent = false;
  bool blocked = false;
  const uint8_t* payload() const { return codec == wire::Codec::zstd ? packed.get() : data.get(); }
};

class Sender final : public Transfer, public transport::ConnectionHandler {
public:
  Sender(uv_loop_t* loop, const SendOptions& opts, std::vector<SendItem> items, bool named,
         const Logger& log, TransferEvents events)
      : loop_(loop), opts_(opts), items_(std::move(items)), named_(named), log_(log),
        events_(std::move(events)) {
    files_.resize(items_.size());
    uint64_t per = opts_.chunk_size;
    max_held_ = std::clamp<uint64_t>(per * (static_cast<uint64_t>(opts_.streams) + 1), 2 * per,
                                     std::max<uint64_t>(2 * per, 64ull << 20));
    if (opts_.zstd_level) max_held_ *= 2; // a compressed frame beside each raw chunk
    pool_.emplace(per, max_held_ / per);
    if (opts_.zstd_level) {
      size_t bound = ZSTD_compressBound(per);
      packed_pool_.emplace(bound, max_held_ / per);
    }
  }

  ~Sender() override { alive_.reset(); }

  Status start() {
    auto ctx = tls::make_client_context(opts_.verify == Verify::ca ? opts_.ca_file : "");
    if (!ctx) return ctx.error();
    tls_ = std::move(*ctx);
    if (int rv = done_timer_.init(loop_, [this] { deliver_result(); }); rv != 0)
      return uv_error(Errc::connect, "timer", rv);
    if (int rv = progress_timer_.init(loop_,
                                      [this] {
                                        if (events_.on_progress) events_.on_progress(stats());
                                      });
        rv != 0)
      return uv_error(Errc::connect, "timer", rv);
    if (int rv = rate_timer_.init(loop_, [this] { flush(); }); rv != 0)
      return uv_error(Errc::connect, "timer", rv);
    start_ns_ = transport::now_ns();
    progress_timer_.start(250, 250);
    read_next();
    return resolve(loop_, opts_.host, opts_.port, opts_.family, alive_,
                   [this](Result<transport::Address> addr) { on_resolved(std::move(addr)); });
  }

  void cancel(const Error& why) override { fail(why, AppError::interrupted); }

  TransferStats stats() const override {
    TransferStats s;
    s.bytes = done_ok_ ? bytes_read_ : payload_sent_;
    s.payload_wire_bytes = payload_wire_;
    s.chunks = next_seq_;
    s.size = total_size();
    if (named_) {
      s.files_total = static_cast<uint32_t>(items_.size());
      s.files_done = files_ended_;
      if (cur_item_ < items_.size()) s.file = items_[cur_item_].meta.name;
    }
    s.seconds = static_cast<double>(transport::now_ns() - start_ns_) / 1e9;
    if (end_ns_) s.seconds = static_cast<double>(end_ns_ - start_ns_) / 1e9;
    s.peer = peer_name_;
    s.fingerprint = peer_fingerprint_;
    if (conn_) {
      auto cs = conn_->stats();
      last_conn_stats_ = cs;
    }
    const auto& cs = last_conn_stats_;
    s.wire_bytes = cs.wire_bytes_sent + cs.wire_bytes_received;
    s.rtt_ms = cs.smoothed_rtt_ms;
    s.udp_payload = cs.max_udp_payload;
    if (peer_datagrams_received_ && cs.datagrams_sent > *peer_datagrams_received_)
      s.lost_packets = cs.datagrams_sent - *peer_datagrams_received_;
    if (socket_) {
      s.gso = socket_->gso_enabled();
      s.gro = socket_->gro_seen();
    }
    return s;
  }

  // ConnectionHandler
  void on_handshake_completed() override {
    handshake_done_ = true;
    // The listener's identity is settled before a single byte is sent.
    if (auto st = verify_listener(); !st) return fail(st.error(), AppError::refused);
    log_.verbose("connected to " + peer_name_ + " (QUIC, TLS 1.3, ALPN qpipe/1), fingerprint " +
                 peer_fingerprint_);
    auto id = conn_->open_bidi_stream();
    if (!id) return fail(id.error(), AppError::internal);
    control_id_ = *id;
    if (opts_.secret) {
      auto proof = tls::secret_proof(conn_->ssl(), *opts_.secret);
      if (!proof) return fail(proof.error(), AppError::internal);
      control_out_.append(wire::encode(wire::Auth{*proof}));
    }
    wire::Hello hello;
    hello.streams = static_cast<uint16_t>(opts_.streams);
    hello.chunk_size = opts_.chunk_size;
    hello.size_hint = total_size().value_or(UINT64_MAX);
    hello.files = named_ ? static_cast<uint32_t>(items_.size()) : 0;
    control_out_.append(wire::encode(hello));
    for (auto& m : early_control_) control_out_.append(std::move(m));
    early_control_.clear();
    assign_streams();
    maybe_send_end();
  }

  Status on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool) override {
    if (stream_id != control_id_)
      return make_error(Errc::transfer, "protocol", "data on an unexpected stream");
    if (auto st = control_in_.feed(data); !st) return st;
    while (auto m = control_in_.next()) {
      if (auto* r = std::get_if<wire::Resume>(&*m)) {
        if (auto st = on_resume(*r); !st) return st;
        continue;
      }
      auto* done = std::get_if<wire::Done>(&*m);
      if (!done) return make_error(Errc::transfer, "protocol", "unexpected control message");
      if (!end_queued_ || done->bytes != bytes_read_)
        return make_error(Errc::transfer, "protocol", "DONE does not match what was sent");
      peer_datagrams_received_ = done->datagrams_received;
      succeed();
    }
    return {};
  }

  void on_stream_close(int64_t stream_id, bool has_error, uint64_t code) override {
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end()) return;
    Chunk* c = it->second;
    by_stream_.erase(it);
    if (has_error && code != 0) {
      fail(make_error(Errc::transfer, "transfer",
                      std::string("listener reset a stream: ") + transport::app_error_text(code)),
           AppError::protocol);
      return;
    }
    // Acknowledged in full: the buffers can go. Chunks leave in any order;
    // the deque keeps sequence order, so drop finished ones from the front.
    release_raw(*c);
    release_packed(*c);
    c->closed = true;
    --in_flight_;
    while (!chunks_.empty() && chunks_.front()->closed)
      chunks_.pop_front();
    read_next();
    assign_streams();
  }

  void on_extend_max_streams() override { assign_streams(); }

  void on_stream_unblocked(int64_t stream_id) override {
    if (stream_id == control_id_) control_blocked_ = false;
    if (auto it = by_stream_.find(stream_id); it != by_stream_.end()) it->second->blocked = false;
  }

  bool next_send(transport::SendSlot& slot) override {
    if (control_id_ >= 0 && !control_blocked_ &&
        (!control_out_.all_sent() || (end_queued_ && !control_fin_sent_))) {
      slot.stream_id = control_id_;
      slot.cnt = control_out_.next(slot.vec[0]) ? 1 : 0;
      // END is the last message: the FIN goes with it.
      slot.fin = end_queued_ && control_out_.pending_is_last();
      return true;
    }
    if (opts_.limit_bytes_per_second && !rate_allows()) return false;
    for (auto& cp : chunks_) {
      Chunk& c = *cp;
      if (c.stream_id < 0) break; // streams are assigned in order
      if (c.fin_sent || c.blocked) continue;
      slot.stream_id = c.stream_id;
      slot.cnt = 0;
      constexpr size_t H = wire::ChunkHeader::kSize;
      if (c.sent < H) slot.vec[slot.cnt++] = {c.header.data() + c.sent, H - c.sent};
      size_t poff = c.sent > H ? c.sent - H : 0;
      slot.vec[slot.cnt++] = {const_cast<uint8_t*>(c.payload()) + poff, c.wire_len - poff};
      slot.fin = true;
      return true;
    }
    return false;
  }

  void on_sent(int64_t stream_id, size_t n, bool fin) override {
    if (stream_id == control_id_) {
      control_out_.sent(n);
      if (fin) control_fin_sent_ = true;
      return;
    }
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end()) return;
    Chunk& c = *it->second;
    constexpr size_t H = wire::ChunkHeader::kSize;
    size_t before = c.sent > H ? c.sent - H : 0;
    c.sent += n;
    size_t after = c.sent > H ? c.sent - H : 0;
    payload_sent_ += after - before;
    tokens_ -= static_cast<double>(n);
    if (fin) c.fin_sent = true;
  }

  void on_stream_blocked(int64_t stream_id) override {
    if (stream_id == control_id_) control_blocked_ = true;
    if (auto it = by_stream_.find(stream_id); it != by_stream_.end()) it->second->blocked = true;
  }

  void on_closed(const CloseInfo& info) override {
    if (done_) return;
    if (info.kind == CloseInfo::Kind::handshake && opts_.verify == Verify::ca)
      return complete(make_error(Errc::refused, peer_name_,
                                 "the listener's certificate did not verify against " +
                                     opts_.ca_file + " (" + info.reason + ")"));
    if (info.kind == CloseInfo::Kind::local)
      return complete(pending_error_.value_or(make_error(Errc::transfer, "transfer", info.reason)));
    complete(describe_close(info, handshake_done_, peer_name_, "listener", opts_.idle_timeout_ms));
  }

private:
  Status verify_listener() {
    WOLFSSL_X509* x = wolfSSL_get_peer_certificate(conn_->ssl());
    if (!x) return make_error(Errc::refused, peer_name_, "the listener presented no certificate");
    int len = 0;
    const unsigned char* der = wolfSSL_X509_get_der(x, &len);
    auto fp =
        der && len > 0
            ? tls::fingerprint_of_cert({der, static_cast<size_t>(len)})
            : Result<std::string>(make_error(Errc::refused, peer_name_, "unreadable certificate"));
    wolfSSL_X509_free(x);
    if (!fp) return fp.error();
    peer_fingerprint_ = *fp;
    switch (opts_.verify) {
    case Verify::insecure:
      log_.warn("--insecure: not verifying the listener at " + peer_name_ + " (it presented " +
                peer_fingerprint_ + ")");
      return {};
    case Verify::ca:
      return {}; // verified during the handshake
    case Verify::pin:
      if (peer_fingerprint_ == opts_.pin) return {};
      return make_error(Errc::refused, peer_name_,
                        "the listener presented " + peer_fingerprint_ + ", not the pinned " +
                            opts_.pin + "; nothing was sent");
    case Verify::known_hosts:
      break;
    }
    auto kh = tls::KnownHosts::load(opts_.known_hosts_file);
    if (!kh) return kh.error();
    auto known = kh->lookup(opts_.peer_key);
    if (!known) {
      if (auto st = kh->add(opts_.peer_key, peer_fingerprint_); !st) return st.error();
      log_.info("first contact with " + opts_.peer_key + ": recorded its fingerprint " +
                peer_fingerprint_ + " in " + opts_.known_hosts_file);
      return {};
    }
    if (*known == peer_fingerprint_) return {};
    int line = kh->line_of(opts_.peer_key);
    log_.error("WARNING: the identity of the listener at " + opts_.peer_key + " has changed!");
    log_.error(strprintf("%s line %d has %s; the listener presented %s.",
                         opts_.known_hosts_file.c_str(), line, known->c_str(),
                         peer_fingerprint_.c_str()));
    log_.error(strprintf("If the change is expected, remove line %d of %s, or run with --pin %s",
                         line, opts_.known_hosts_file.c_str(), peer_fingerprint_.c_str()));
    return make_error(Errc::refused, opts_.peer_key, "identity refused; nothing was sent");
  }

  void on_resolved(Result<transport::Address> addr) {
    if (done_) return;
    if (!addr) return complete(addr.error());
    remote_ = *addr;
    peer_name_ = opts_.host.find(':') != std::string::npos
                     ? "[" + opts_.host + "]:" + std::to_string(opts_.port)
                     : opts_.host + ":" + std::to_string(opts_.port);
    auto local = local_address(opts_.bind, remote_.family(), 0);
    if (!local) return complete(local.error());
    auto sock = transport::UdpSocket::open(loop_, *local, true, log_);
    if (!sock) return complete(sock.error());
    socket_ = std::move(*sock);
    if (auto st = socket_->connect(remote_); !st) return complete(st.error());
    transport::ConnectionSettings cs;
    cs.cc = opts_.cc;
    cs.idle_timeout_ms = opts_.idle_timeout_ms;
    cs.max_data = 1 << 20; // the listener sends only control messages
    cs.max_stream_data_bidi = 64 * 1024;
    auto conn = transport::Connection::client(loop_, socket_.get(), remote_, cs, tls_.get(),
                                              opts_.host, offered_alpn(opts_.test_hooks),
                                              opts_.verify == Verify::ca, this, log_);
    if (!conn) return complete(conn.error());
    conn_ = std::move(*conn);
    socket_->start(
        [this](const transport::Datagram& d) {
          if (conn_) conn_->on_datagram(d);
        },
        [this](int err) {
          if (conn_) conn_->on_socket_error(err);
        },
        [this] { flush(); });
    log_.verbose("connecting to " + remote_.to_string());
    flush();
  }

  void flush() {
    if (conn_ && !done_) conn_->flush();
  }

  bool rate_allows() {
    uint64_t now = transport::now_ns();
    double rate = static_cast<double>(opts_.limit_bytes_per_second);
    double burst = std::max(64.0 * 1024, rate / 50);
    if (last_refill_ns_ == 0)
      tokens_ = burst;
    else
      tokens_ = std::min(burst, tokens_ + rate * static_cast<double>(now - last_refill_ns_) / 1e9);
    last_refill_ns_ = now;
    if (tokens_ > 0) return true;
    auto wait_ms = static_cast<uint64_t>(-tokens_ / rate * 1000) + 1;
    rate_timer_.start(wait_ms);
    return false;
  }

  void release_raw(Chunk& c) {
    if (!c.data) return;
    if (c.capacity == pool_->buffer_size()) pool_->put(std::move(c.data));
    c.data.reset();
    held_ -= c.capacity;
    c.capacity = 0;
  }

  void release_packed(Chunk& c) {
    if (!c.packed) return;
    packed_pool_->put(std::move(c.packed));
    held_ -= c.packed_capacity;
    c.packed_capacity = 0;
  }

  // The listener's answer to "what did you keep of file i?".
  Status on_resume(const wire::Resume& r) {
    if (!awaiting_resume_ || r.index != *awaiting_resume_ || resume_checking_)
      return make_error(Errc::transfer, "protocol", "unexpected RESUME");
    const auto& item = items_[r.index];
    uint64_t size = item.meta.size.value_or(0);
    if (r.offset == 0 || r.offset == UINT64_MAX || r.offset > size) {
      resume_from(r.index, 0);
      return {};
    }
    // Compare the listener's part with our own prefix, on the thread pool.
    resume_checking_ = true;
    auto result =
        std::make_shared<Result<std::array<uint8_t, 16>>>(make_error(Errc::local_io, "", ""));
    auto fn = item.prefix_digest;
    uint64_t n = r.offset;
    ++pending_work_;
    int rv = uvx::queue_work(
        loop_, alive_, [result, fn, n] { *result = fn(n); },
        [this, result, r] {
          --pending_work_;
          resume_checking_ = false;
          if (done_) return maybe_deliver();
          bool same =
              result->ok() && std::equal(r.digest.begin(), r.digest.end(), (**result).begin());
          if (same) {
            if (auto st = source_->skip(r.offset); !st)
              return fail(st.error(), AppError::input_failed);
            files_[r.index].skipped = r.offset;
            log_.info(strprintf("resuming %s: %s already there", items_[r.index].meta.name.c_str(),
                                format_bytes(r.offset).c_str()));
            resume_from(r.index, r.offset);
          } else {
            log_.info("the part of " + items_[r.index].meta.name +
                      " kept by the listener differs; sending all of it");
            resume_from(r.index, 0);
          }
        });
    if (rv != 0) {
      --pending_work_;
      resume_checking_ = false;
      return uv_error(Errc::local_io, "thread pool", rv);
    }
    return {};
  }

  void resume_from(uint32_t index, uint64_t offset) {
    queue_control(wire::Resume{index, offset, {}});
    awaiting_resume_.reset();
    read_next();
  }

  std::optional<uint64_t> total_size() const {
    uint64_t sum = 0;
    for (const auto& it : items_) {
      if (!it.meta.size) return std::nullopt;
      sum += *it.meta.size;
    }
    return sum;
  }

  // Control messages made before the handshake wait for HELLO.
  void queue_control(const wire::Message& m) {
    if (control_id_ >= 0) {
      control_out_.append(wire::encode(m));
      flush();
    } else {
      early_control_.push_back(wire::encode(m));
    }
  }

  // Opens the next item; false when there is none left (or on failure).
  bool open_next_item() {
    if (next_item_ >= items_.size()) return false;
    cur_item_ = next_item_++;
    auto src = items_[cur_item_].open();
    if (!src) {
      fail(src.error(), AppError::input_failed);
      return false;
    }
    source_ = std::move(*src);
    auto& f = files_[cur_item_];
    f.first_seq = next_seq_;
    if (named_) {
      const auto& meta = items_[cur_item_].meta;
      wire::File msg;
      msg.index = static_cast<uint32_t>(cur_item_);
      msg.first_seq = next_seq_;
      msg.size = meta.size.value_or(UINT64_MAX);
      msg.mode = meta.mode;
      msg.mtime_sec = meta.mtime_sec;
      msg.mtime_nsec = meta.mtime_nsec;
      msg.name = meta.name;
      apply_test_hook(opts_.test_hooks, msg);
      queue_control(std::move(msg));
      if (opts_.resume && items_[cur_item_].prefix_digest) {
        // Ask what the listener kept; read nothing of this file until it answers.
        queue_control(wire::Resume{static_cast<uint32_t>(cur_item_), UINT64_MAX, {}});
        awaiting_resume_ = cur_item_;
      }
    }
    return true;
  }

  // A file whose chunks are all read and folded into its digest ends.
  void maybe_end_files() {
    while (ended_files_ < files_.size()) {
      auto& f = files_[ended_files_];
      if (!f.read_done || digested_ < f.first_seq + f.chunks) return;
      if (named_) {
        wire::FileEnd fe;
        fe.index = static_cast<uint32_t>(ended_files_);
        fe.chunks = f.chunks;
        fe.bytes = f.bytes;
        fe.digest = f.digester.digest();
        queue_control(fe);
        ++files_ended_;
      }
      ++ended_files_;
    }
  }

  void read_next() {
    uint64_t need = opts_.chunk_size + (packed_pool_ ? packed_pool_->buffer_size() : 0);
    if (reading_ || eof_ || done_ || held_ + need > max_held_) return;
    if (!source_ && !open_next_item()) {
      eof_ = true;
      maybe_send_end();
      return;
    }
    if (awaiting_resume_) return;
    reading_ = true;
    auto chunk = std::make_unique<Chunk>();
    chunk->capacity = opts_.chunk_size;
    chunk->data = pool_->get();
    held_ += chunk->capacity;
    Chunk* c = chunk.get();
    reading_chunk_ = std::move(chunk);
    source_->read({c->data.get(), c->capacity}, [this](ReadResult r) { on_read(r); });
  }

  void on_read(ReadResult r) {
    reading_ = false;
    auto chunk = std::move(reading_chunk_);
    if (done_) {
      maybe_deliver();
      return;
    }
    if (r.error != 0) {
      release_raw(*chunk);
      return fail(uv_error(Errc::local_io, source_->name(), r.error), AppError::input_failed);
    }
    if (r.bytes == 0) {
      release_raw(*chunk);
      if (r.eof) end_of_item();
      flush();
      read_next();
      return;
    }
    if (r.bytes < chunk->capacity / 4) { // a short read from a pipe: keep only what arrived
      std::unique_ptr<uint8_t[]> small(new uint8_t[r.bytes]);
      std::memcpy(small.get(), chunk->data.get(), r.bytes);
      pool_->put(std::move(chunk->data));
      chunk->data = std::move(small);
      held_ -= chunk->capacity - r.bytes;
      chunk->capacity = r.bytes;
    }
    chunk->len = static_cast<uint32_t>(r.bytes);
    chunk->seq = next_seq_++;
    chunk->file = static_cast<uint32_t>(cur_item_);
    files_[cur_item_].chunks++;
    files_[cur_item_].bytes += r.bytes;
    bytes_read_ += r.bytes;
    Chunk* c = chunk.get();
    chunks_.push_back(std::move(chunk));
    // Data that did not compress lately is tried again only now and then,
    // so that incompressible input costs almost nothing with -z.
    int level = 0;
    if (packed_pool_ && (incompressible_run_ < 4 || c->seq % 16 == 0)) {
      c->packed = packed_pool_->get();
      c->packed_capacity = packed_pool_->buffer_size();
      held_ += c->packed_capacity;
      level = *opts_.zstd_level;
    }
    // Hash (and compress) on the thread pool; the buffers stay put while the
    // work runs (the result is not delivered while any work is outstanding).
    ++pending_work_;
    int rv = uvx::queue_work(
        loop_, alive_,
        [c, level] {
          c->hash = hash_bytes({c->data.get(), c->len});
          if (c->packed)
            c->wire_len = static_cast<uint32_t>(
                codec::compress(codec::worker_cctx(), level, {c->data.get(), c->len},
                                {c->packed.get(), c->packed_capacity}));
        },
        [this, c] {
          --pending_work_;
          if (done_) return maybe_deliver();
          on_hashed(c);
        });
    if (rv != 0) {
      --pending_work_;
      return fail(uv_error(Errc::local_io, "thread pool", rv), AppError::internal);
    }
    if (r.eof) end_of_item();
    read_next();
  }

  void end_of_item() {
    files_[cur_item_].read_done = true;
    source_.reset(); // no read is outstanding: this was its completion
    maybe_end_files();
    maybe_send_end();
  }

  void on_hashed(Chunk* c) {
    c->hashed = true;
    if (c->packed && c->wire_len > 0) {
      c->codec = wire::Codec::zstd;
      release_raw(*c); // the frame is what travels now
      incompressible_run_ = 0;
    } else {
      if (c->packed) ++incompressible_run_;
      release_packed(*c);
      c->codec = wire::Codec::raw;
      c->wire_len = c->len;
    }
    payload_wire_ += c->wire_len;
    wire::ChunkHeader h;
    h.codec = c->codec;
    h.seq = c->seq;
    h.raw_len = c->len;
    h.wire_len = c->wire_len;
    h.hash = c->hash;
    h.file = c->file;
    apply_test_hook(opts_.test_hooks, h);
    wire::encode(h, c->header);
    // Fold hashes into the stream digest in sequence order.
    while (!chunks_.empty()) {
      uint64_t base = chunks_.front()->seq;
      if (digested_ < base || digested_ - base >= chunks_.size()) break;
      Chunk& next = *chunks_[digested_ - base];
      if (!next.hashed) break;
      digester_.add_chunk(next.hash, next.len);
      files_[next.file].digester.add_chunk(next.hash, next.len);
      ++digested_;
    }
    maybe_end_files();
    assign_streams();
    maybe_send_end();
    flush();
  }

  void assign_streams() {
    if (!handshake_done_ || done_) return;
    for (auto& cp : chunks_) {
      if (in_flight_ >= opts_.streams) break;
      Chunk& c = *cp;
      if (c.stream_id >= 0) continue;
      if (!c.hashed || conn_->streams_uni_left() == 0) break;
      auto id = conn_->open_uni_stream();
      if (!id) break;
      c.stream_id = *id;
      by_stream_[*id] = &c;
      ++in_flight_;
    }
    flush();
  }

  void maybe_send_end() {
    if (!handshake_done_ || end_queued_ || !eof_ || reading_ || digested_ != next_seq_) return;
    maybe_end_files();
    if (named_ && files_ended_ < items_.size()) return;
    wire::End end;
    end.chunks = next_seq_;
    end.bytes = bytes_read_;
    end.digest = digester_.digest();
    end.datagrams_sent = conn_ ? conn_->stats().datagrams_sent : 0;
    control_out_.append(wire::encode(end));
    end_queued_ = true;
    log_.verbose(strprintf("input done: %llu bytes in %llu chunks; waiting for the listener",
                           static_cast<unsigned long long>(bytes_read_),
                           static_cast<unsigned long long>(next_seq_)));
    flush();
  }

  void succeed() {
    if (done_) return;
    done_ok_ = true;
    if (conn_) {
      last_conn_stats_ = conn_->stats();
      conn_->close_quietly();
    }
    complete({});
  }

  void fail(const Error& e, AppError code) {
    if (done_) return;
    pending_error_ = e;
    if (conn_ && !conn_->closed()) {
      conn_->close(code, e.message()); // reports on_closed(local) -> complete
      if (!done_) complete(e);
    } else {
      complete(e);
    }
  }

  void complete(Status st) {
    if (done_) return;
    done_ = true;
    end_ns_ = transport::now_ns();
    result_ = std::move(st);
    final_stats_ = stats();
    if (source_) source_->cancel();
    done_timer_.start(0);
  }

  // Runs from its own timer, outside every connection and socket callback,
  // so that the connection can be torn down and the owner may destroy us.
  void deliver_result() {
    deliver_wanted_ = true;
    maybe_deliver();
  }

  void maybe_deliver() {
    if (!deliver_wanted_ || delivered_ || reading_ || pending_work_ > 0) return;
    delivered_ = true;
    progress_timer_.close();
    rate_timer_.close();
    conn_.reset();
    socket_.reset();
    if (events_.on_done) events_.on_done(result_, final_stats_);
  }

  uv_loop_t* loop_;
  SendOptions opts_;
  std::vector<SendItem> items_;
  bool named_ = false; // files with names, or one anonymous stream
  struct FileProgress {
    uint64_t first_seq = 0, chunks = 0, bytes = 0, skipped = 0;
    bool read_done = false;
    Digester digester;
  };
  std::vector<FileProgress> files_;
  size_t next_item_ = 0, cur_item_ = 0, ended_files_ = 0;
  uint32_t files_ended_ = 0;
  std::unique_ptr<ByteSource> source_;
  std::vector<std::string> early_control_; // encoded, waiting for HELLO
  std::optional<size_t> awaiting_resume_; // the item waiting for the listener's RESUME
  bool resume_checking_ = false;
  const Logger& log_;
  TransferEvents events_;
  uvx::AliveToken alive_ = uvx::make_alive_token();
  tls::Ctx tls_;
  transport::Address remote_;
  std::string peer_name_;
  std::string peer_fingerprint_;
  std::unique_ptr<transport::UdpSocket> socket_;
  std::unique_ptr<transport::Connection> conn_;
  mutable transport::ConnectionStats last_conn_stats_;
  std::optional<uint64_t> peer_datagrams_received_;

  std::deque<std::unique_ptr<Chunk>> chunks_; // unacknowledged, in sequence order
  std::unordered_map<int64_t, Chunk*> by_stream_;
  std::unique_ptr<Chunk> reading_chunk_;
  std::optional<BufferPool> pool_;        // raw chunk buffers
  std::optional<BufferPool> packed_pool_; // zstd frames, with -z
  int incompressible_run_ = 0;
  uint64_t payload_wire_ = 0; // chunk payload bytes as sent (compressed or not)
  uint64_t max_held_ = 0, held_ = 0;
  uint64_t next_seq_ = 0, digested_ = 0, bytes_read_ = 0, payload_sent_ = 0;
  int in_flight_ = 0;
  bool reading_ = false, eof_ = false;
  Digester digester_;

  int64_t control_id_ = -1;
  ControlOut control_out_;
  bool control_blocked_ = false, control_fin_sent_ = false, end_queued_ = false;
  wire::ControlDecoder control_in_;
  bool handshake_done_ = false;

  double tokens_ = 0;
  uint64_t last_refill_ns_ = 0;
  uint64_t start_ns_ = 0, end_ns_ = 0;
  bool done_ = false, done_ok_ = false, deliver_wanted_ = false, delivered_ = false;
  int pending_work_ = 0;
  std::optional<Error> pending_error_;
  Status result_;
  TransferStats final_stats_;
  uvx::Timer done_timer_, progress_timer_, rate_timer_;
};

} // namespace

Result<std::unique_ptr<Transfer>> start_send(uv_loop_t* loop, const SendOptions& opts,
                                             std::unique_ptr<ByteSource> source, const Logger& log,
                                             TransferEvents events) {
  auto shared = std::make_shared<std::unique_ptr<ByteSource>>(std::move(source));
  SendItem item;
  item.meta.size = (*shared)->size();
  item.open = [shared]() -> Result<std::unique_ptr<ByteSource>> {
    if (!*shared) return make_error(Errc::local_io, "source", "opened twice");
    return std::move(*shared);
  };
  std::vector<SendItem> items;
  items.push_back(std::move(item));
  auto s = std::make_unique<Sender>(loop, opts, std::move(items), false, log, std::move(events));
  if (auto st = s->start(); !st) return st.error();
  return std::unique_ptr<Transfer>(std::move(s));
}

Result<std::unique_ptr<Transfer>> start_send_files(uv_loop_t* loop, const SendOptions& opts,
                                                   std::vector<SendItem> items, const Logger& log,
                                                   TransferEvents events) {
  auto s = std::make_unique<Sender>(loop, opts, std::move(items), true, log, std::move(events));
  if (auto st = s->start(); !st) return st.error();
  return std::unique_ptr<Transfer>(std::move(s));
}

} // namespace qpipe::app
