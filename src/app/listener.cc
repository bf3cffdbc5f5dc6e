// The listening side: a UDP socket that accepts QUIC connections, and for
// each one a Receiver that reassembles chunks in order, checks each chunk's
// hash and the stream digest, writes to the sink, and confirms with DONE
// only after the last write succeeded (and, for -o, the rename).
//
// Memory: connection-level flow control is returned to the sender only after
// the bytes were written, and stream credit only after a whole chunk was
// written, so what is buffered never exceeds the connection window (24 MiB)
// however slowly the sink drains.
#include <cstring>
#include <map>
#include <ngtcp2/ngtcp2_crypto.h>
#include <set>
#include <sys/stat.h>
#include <unordered_map>

#include "app/control_out.h"
#include "app/transfer.h"
#include "app/transfer_common.h"
#include "core/buffer_pool.h"
#include "core/units.h"
#include "pipeline/codec.h"
#include "pipeline/digest.h"
#include "pipeline/file_name.h"
#include "pipeline/wire.h"
#include "tls/identity_store.h"
#include "tls/secret.h"
#include "tls/tls_context.h"
#include "transport/connection.h"
#include "uv/fd_io.h"
#include "uv/work.h"

namespace qpipe::app {
namespace {

using transport::AppError;
using transport::CloseInfo;

constexpr uint64_t kConnWindow = 24ull << 20;
constexpr size_t kBlockSize = 64 * 1024;
constexpr uint64_t kDecompressedAhead = 16ull << 20;
// Connection flow control: kInitialWindow until HELLO says the chunk size,
// then kConnWindow shared among the transfers under way, but never less than
// two chunks per connection (a window below one chunk could never complete
// the chunk the writer waits for).
constexpr uint64_t kInitialWindow = 2ull << 20;

struct RxChunk {
  std::array<uint8_t, wire::ChunkHeader::kSize> hbuf{};
  size_t hgot = 0;
  bool have_header = false;
  wire::ChunkHeader hdr;
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  size_t got = 0; // payload bytes
  bool processing = false, hashed = false;
  wire::Digest actual{};
  std::unique_ptr<uint8_t[]> raw; // the decompressed bytes of a zstd chunk
  std::optional<Error> error;     // set by a failed decompression

  // What to write: the decompressed buffer, or the received blocks.
  std::vector<iovec> iov() const {
    if (raw) return {iovec{raw.get(), hdr.raw_len}};
    return received();
  }
  std::vector<iovec> received() const {
    std::vector<iovec> v;
    size_t left = got;
    for (const auto& b : blocks) {
      size_t n = std::min(left, kBlockSize);
      v.push_back({b.get(), n});
      left -= n;
    }
    return v;
  }
};

class Listener;

class Receiver final : public transport::ConnectionHandler {
public:
  Receiver(Listener& owner, uv_loop_t* loop, const Logger& log)
      : owner_(owner), loop_(loop), log_(log) {}
  ~Receiver() override {
    alive_.reset();
    if (sink_) sink_->abort();
  }
  void recycle(RxChunk& c) {
    for (auto& b : c.blocks)
      pool_.put(std::move(b));
    c.blocks.clear();
  }

  void attach(std::unique_ptr<transport::Connection> c) { conn_ = std::move(c); }
  transport::Connection* conn() const { return conn_.get(); }
  bool started() const { return started_; }
  bool finished() const { return finished_; }
  bool idle() const { return !writing_ && pending_work_ == 0; }
  const std::string& peer() const { return peer_; }
  void set_peer(std::string p) { peer_ = std::move(p); }
  TransferStats stats() const;
  void abort(const Error& e, AppError code) { fail(e, code); }
  void release_connection() { conn_.reset(); }

  void on_handshake_completed() override {
    handshake_done_ = true;
    log_.verbose("connection from " + peer_);
  }
  Status on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) override;
  void on_stream_close(int64_t stream_id, bool, uint64_t) override {
    if (stream_id == 0 && done_sent_) succeed();
  }
  bool next_send(transport::SendSlot& slot) override {
    if (!control_out_.all_sent() || (done_queued_ && !done_sent_)) {
      slot.stream_id = 0;
      slot.cnt = control_out_.next(slot.vec[0]) ? 1 : 0;
      // DONE is the last message: the FIN goes with it.
      slot.fin = done_queued_ && control_out_.pending_is_last();
      return true;
    }
    return false;
  }
  void on_sent(int64_t stream_id, size_t n, bool fin) override {
    if (stream_id != 0) return;
    control_out_.sent(n);
    if (fin) done_sent_ = true;
  }
  void on_stream_blocked(int64_t) override {}
  void on_closed(const CloseInfo& info) override;

private:
  Status on_control(std::span<const uint8_t> data);
  Status on_chunk_data(int64_t stream_id, std::span<const uint8_t> data, bool fin);
  void try_write();
  void size_window(uint32_t chunk_size);
  bool advance_files(uint32_t upto);
  void offer_resume(uint32_t index);
  void send_control(const wire::Message& m);
  void process_ready();
  void maybe_finish();
  void fail(const Error& e, AppError code);
  void succeed();
  void finish(Status st);

  Listener& owner_;
  uv_loop_t* loop_;
  const Logger& log_;
  uvx::AliveToken alive_ = uvx::make_alive_token();
  std::unique_ptr<transport::Connection> conn_;
  std::unique_ptr<ByteSink> sink_;
  std::string peer_;
  bool handshake_done_ = false, started_ = false, finished_ = false, committed_ = false;
  bool authed_ = false;

  wire::ControlDecoder control_in_;
  std::optional<wire::Hello> hello_;
  std::optional<wire::End> end_;
  struct FileState {
    FileMeta meta;
    uint64_t meta_first_seq = 0;
    std::optional<wire::FileEnd> end;
    bool resume_asked = false;
    uint64_t resume_offered = 0;
    std::optional<uint64_t> resume_start; // set once the sender decided
    uint64_t bytes = 0;
    Digester digester;
  };
  std::vector<FileState> files_;
  size_t cur_file_ = 0;
  uint32_t files_done_ = 0;
  std::unordered_map<int64_t, std::unique_ptr<RxChunk>> receiving_;
  std::map<uint64_t, std::unique_ptr<RxChunk>> ready_;
  std::set<uint64_t> seqs_;
  uint64_t next_write_ = 0, bytes_written_ = 0;
  bool writing_ = false;
  int pending_work_ = 0;
  Digester digester_;
  ControlOut control_out_;
  bool done_queued_ = false, done_sent_ = false;
  uint64_t start_ns_ = transport::now_ns(), end_ns_ = 0;
  // Blocks are reused; up to the connection window's worth are kept.
  BufferPool pool_{kBlockSize, kConnWindow / kBlockSize};
  std::optional<BufferPool> raw_pool_; // decompressed chunks, chunk_size each
  uint64_t payload_wire_ = 0;
};

class Listener final : public Transfer {
public:
  Listener(uv_loop_t* loop, const ListenOptions& opts, SinkFactory make_sink, const Logger& log,
           TransferEvents events)
      : loop_(loop), opts_(opts), make_sink_(std::move(make_sink)), log_(log),
        events_(std::move(events)) {}
  ~Listener() override { alive_.reset(); }

  Status start();
  void cancel(const Error& why) override {
    if (done_) return;
    for (auto& r : receivers_)
      r->abort(why, AppError::interrupted);
    complete(why);
  }
  TransferStats stats() const override {
    TransferStats s = active_.empty() ? last_stats_ : (*active_.begin())->stats();
    s.fingerprint = identity_.fingerprint;
    if (socket_) s.local = socket_->local().to_string();
    return s;
  }

  // From receivers.
  Status begin_transfer(Receiver* r) {
    if (done_) return make_error(Errc::transfer, "listener", "shutting down");
    // With -k and a directory, transfers run side by side; otherwise one at a time.
    bool concurrent = opts_.keep_listening && opts_.output_is_directory;
    if (!active_.empty() && !active_.count(r) && !concurrent)
      return make_error(Errc::transfer, "listener", "busy with another transfer");
    active_.insert(r);
    return {};
  }
  Result<std::unique_ptr<ByteSink>> make_sink(const FileMeta* file) {
    if (!file || !opts_.resume) return make_sink_(file);
    FileMeta m = *file;
    m.resumable = true;
    return make_sink_(&m);
  }
  // Where --resume keeps the part of a file (none when writing to stdout).
  std::optional<std::string> partial_path(const FileMeta& meta) const {
    if (!opts_.resume || !opts_.output) return std::nullopt;
    const std::string& out = *opts_.output;
    if (opts_.output_is_directory) return out + "/" + uvx::partial_name(meta.name);
    auto slash = out.rfind('/');
    std::string dir = slash == std::string::npos ? "." : out.substr(0, slash == 0 ? 1 : slash);
    std::string base = slash == std::string::npos ? out : out.substr(slash + 1);
    return dir + "/" + uvx::partial_name(base);
  }
  bool output_is_directory() const { return opts_.output_is_directory; }
  size_t active_transfers() const { return active_.size(); }
  void receiver_finished(Receiver* r, const Status& st) {
    if (active_.count(r)) {
      last_stats_ = r->stats();
      active_.erase(r);
      if (opts_.keep_listening) {
        if (st.ok())
          log_.info(strprintf("received %llu bytes from %s",
                              static_cast<unsigned long long>(last_stats_.bytes),
                              r->peer().c_str()));
        else
          log_.error(st.error());
        if (events_.on_transfer_done) events_.on_transfer_done(st, last_stats_);
      } else {
        complete(st);
      }
    } else if (!st.ok()) {
      // A sender that never started a transfer (refused, wrong protocol,
      // gone during the handshake): the listener goes on listening.
      if (st.error().code == Errc::refused)
        log_.info(st.error().message());
      else
        log_.verbose("connection from " + r->peer() + " ended: " + st.error().message());
    }
    cleanup_timer_.start(0);
  }
  uint64_t idle_timeout_ms() const { return opts_.idle_timeout_ms; }
  const std::optional<std::string>& secret() const { return opts_.secret; }
  void progress() {
    if (events_.on_progress && !active_.empty()) events_.on_progress((*active_.begin())->stats());
  }

private:
  void on_datagram(const transport::Datagram& d);
  void flush_all() {
    for (auto& r : receivers_)
      if (r->conn() && !r->conn()->closed()) r->conn()->flush();
  }
  void cleanup();
  void complete(Status st) {
    if (done_) return;
    done_ = true;
    result_ = std::move(st);
    if (!active_.empty()) last_stats_ = (*active_.begin())->stats();
    done_timer_.start(0);
  }
  void deliver() {
    deliver_wanted_ = true;
    for (auto& r : receivers_)
      if (!r->idle()) return; // pending writes or hashing hold buffers: wait
    if (delivered_) return;
    delivered_ = true;
    progress_timer_.close();
    cleanup_timer_.close();
    receivers_.clear();
    by_cid_.clear();
    socket_.reset();
    TransferStats final_stats = last_stats_;
    final_stats.fingerprint = identity_.fingerprint;
    if (events_.on_done) events_.on_done(result_, final_stats);
  }

public:
  void maybe_deliver() {
    if (deliver_wanted_ && !delivered_) deliver();
  }

private:
  uv_loop_t* loop_;
  ListenOptions opts_;
  SinkFactory make_sink_;
  const Logger& log_;
  TransferEvents events_;
  uvx::AliveToken alive_ = uvx::make_alive_token();
  tls::Identity identity_;
  tls::Ctx tls_;
  std::unique_ptr<transport::UdpSocket> socket_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::unordered_map<std::string, Receiver*> by_cid_;
  std::set<Receiver*> active_; // receivers with a transfer under way
  TransferStats last_stats_;
  bool done_ = false, deliver_wanted_ = false, delivered_ = false, refusal_logged_ = false;
  Status result_;
  uvx::Timer done_timer_, cleanup_timer_, progress_timer_;
};

std::string cid_key(const uint8_t* data, size_t len) {
  return std::string(reinterpret_cast<const char*>(data), len);
}

// ---- Receiver ----

TransferStats Receiver::stats() const {
  TransferStats s;
  s.bytes = bytes_written_;
  if (hello_ && hello_->files > 0) {
    s.files_total = hello_->files;
    s.files_done = files_done_;
    if (cur_file_ < files_.size()) s.file = files_[cur_file_].meta.name;
  }
  s.payload_wire_bytes = payload_wire_;
  s.chunks = next_write_;
  s.peer = peer_;
  if (hello_ && hello_->size_hint != UINT64_MAX) s.size = hello_->size_hint;
  s.seconds = static_cast<double>((end_ns_ ? end_ns_ : transport::now_ns()) - start_ns_) / 1e9;
  if (conn_) {
    auto cs = conn_->stats();
    s.wire_bytes = cs.wire_bytes_sent + cs.wire_bytes_received;
    s.rtt_ms = cs.smoothed_rtt_ms;
    s.udp_payload = cs.max_udp_payload;
    if (end_ && end_->datagrams_sent > cs.datagrams_received)
      s.lost_packets = end_->datagrams_sent - cs.datagrams_received;
  }
  return s;
}

Status Receiver::on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) {
  if (finished_) return {};
  if (stream_id == 0) return on_control(data);
  if ((stream_id & 0x3) == 0x2) return on_chunk_data(stream_id, data, fin);
  return make_error(Errc::transfer, "protocol", "data on an unexpected stream");
}

Status Receiver::on_control(std::span<const uint8_t> data) {
  if (auto st = control_in_.feed(data); !st) return st;
  while (auto m = control_in_.next()) {
    if (auto* a = std::get_if<wire::Auth>(&*m)) {
      if (hello_ || authed_) return make_error(Errc::transfer, "protocol", "unexpected AUTH");
      if (const auto& secret = owner_.secret()) {
        auto expected = tls::secret_proof(conn_->ssl(), *secret);
        if (!expected) {
          fail(expected.error(), AppError::internal);
          return {};
        }
        if (!tls::constant_time_equal(a->proof, *expected)) {
          fail(make_error(Errc::refused, peer_, "refused a sender: wrong secret"),
               AppError::refused);
          return {};
        }
      }
      authed_ = true;
    } else if (auto* h = std::get_if<wire::Hello>(&*m)) {
      if (hello_) return make_error(Errc::transfer, "protocol", "second HELLO");
      if (owner_.secret() && !authed_) {
        fail(make_error(Errc::refused, peer_,
                        "refused a sender that did not prove the shared secret"),
             AppError::refused);
        return {};
      }
      if (h->version != wire::kVersion)
        return make_error(Errc::transfer, "protocol",
                          strprintf("sender speaks protocol version %u, this listener %u",
                                    h->version, wire::kVersion));
      if (h->chunk_size < kMinChunkSize || h->chunk_size > kMaxChunkSize || h->streams == 0 ||
          h->streams > kMaxStreams)
        return make_error(Errc::transfer, "protocol", "HELLO with out-of-range parameters");
      hello_ = *h;
      if (auto st = owner_.begin_transfer(this); !st) {
        fail(st.error(), AppError::busy);
        return {};
      }
      // Refuse what the output cannot take before a byte is written.
      if (h->files > 1 && !owner_.output_is_directory()) {
        fail(make_error(Errc::transfer, peer_,
                        strprintf("refused %u files: several files need a directory on the "
                                  "listener (qpipe -l -o DIR)",
                                  h->files)),
             AppError::output_failed);
        return {};
      }
      if (h->files == 0 && owner_.output_is_directory()) {
        fail(make_error(Errc::transfer, peer_,
                        "refused a stream: -o names a directory, which takes named files "
                        "(send a stream to stdout or -o FILE)"),
             AppError::output_failed);
        return {};
      }
      if (h->files == 0) {
        auto sink = owner_.make_sink(nullptr);
        if (!sink) {
          fail(sink.error(), AppError::output_failed);
          return {};
        }
        sink_ = std::move(*sink);
      }
      raw_pool_.emplace(h->chunk_size, std::max<size_t>(2, kDecompressedAhead / h->chunk_size));
      size_window(h->chunk_size);
      started_ = true;
      process_ready();
      start_ns_ = transport::now_ns();
      try_write();
    } else if (auto* f = std::get_if<wire::File>(&*m)) {
      if (!hello_ || f->index != files_.size() || f->index >= hello_->files ||
          (!files_.empty() && f->first_seq < files_.back().meta_first_seq))
        return make_error(Errc::transfer, "protocol", "unexpected FILE");
      if (owner_.output_is_directory())
        if (auto st = validate_file_name(f->name); !st) {
          fail(st.error(), AppError::protocol);
          return {};
        }
      FileState fs;
      fs.meta.name = f->name;
      fs.meta.mode = f->mode;
      fs.meta.mtime_sec = f->mtime_sec;
      fs.meta.mtime_nsec = f->mtime_nsec;
      if (f->size != UINT64_MAX) fs.meta.size = f->size;
      fs.meta_first_seq = f->first_seq;
      files_.push_back(std::move(fs));
      try_write();
    } else if (auto* r = std::get_if<wire::Resume>(&*m)) {
      if (r->index >= files_.size() || files_[r->index].resume_start)
        return make_error(Errc::transfer, "protocol", "unexpected RESUME");
      FileState& f = files_[r->index];
      if (!f.resume_asked) {
        if (r->offset != UINT64_MAX)
          return make_error(Errc::transfer, "protocol", "unexpected RESUME");
        f.resume_asked = true;
        offer_resume(r->index);
      } else {
        if (r->offset != 0 && r->offset != f.resume_offered)
          return make_error(Errc::transfer, "protocol", "RESUME at an offset not offered");
        f.resume_start = r->offset;
        f.meta.start_offset = r->offset;
        if (r->offset > 0)
          log_.info(
              strprintf("resuming %s at %s", f.meta.name.c_str(), format_bytes(r->offset).c_str()));
        try_write();
        maybe_finish();
      }
    } else if (auto* fe = std::get_if<wire::FileEnd>(&*m)) {
      if (fe->index >= files_.size() || files_[fe->index].end)
        return make_error(Errc::transfer, "protocol", "unexpected FILE_END");
      files_[fe->index].end = *fe;
      try_write();
      maybe_finish();
    } else if (auto* e = std::get_if<wire::End>(&*m)) {
      if (!hello_ || end_) return make_error(Errc::transfer, "protocol", "unexpected END");
      end_ = *e;
      maybe_finish();
    } else {
      return make_error(Errc::transfer, "protocol", "unexpected control message");
    }
  }
  return {};
}

Status Receiver::on_chunk_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) {
  auto& slot = receiving_[stream_id];
  if (!slot) slot = std::make_unique<RxChunk>();
  RxChunk& c = *slot;
  constexpr size_t H = wire::ChunkHeader::kSize;
  if (!c.have_header) {
    size_t n = std::min(data.size(), H - c.hgot);
    std::memcpy(c.hbuf.data() + c.hgot, data.data(), n);
    c.hgot += n;
    data = data.subspan(n);
    if (c.hgot == H) {
      auto h = wire::decode_chunk_header(std::span<const uint8_t, H>(c.hbuf), wire::kMaxChunkRaw);
      if (!h) return h.error();
      if (h->seq < next_write_ || !seqs_.insert(h->seq).second)
        return make_error(
            Errc::transfer, "protocol",
            strprintf("chunk %llu sent twice", static_cast<unsigned long long>(h->seq)));
      c.hdr = *h;
      c.have_header = true;
    }
  }
  if (!data.empty()) {
    if (!c.have_header || c.got + data.size() > c.hdr.wire_len)
      return make_error(Errc::transfer, "protocol", "chunk longer than its header says");
    while (!data.empty()) {
      size_t off = c.got % kBlockSize;
      if (off == 0) c.blocks.push_back(pool_.get());
      size_t n = std::min(data.size(), kBlockSize - off);
      std::memcpy(c.blocks.back().get() + off, data.data(), n);
      c.got += n;
      data = data.subspan(n);
    }
  }
  if (!fin) return {};
  if (!c.have_header || c.got != c.hdr.wire_len)
    return make_error(Errc::transfer, "protocol", "chunk shorter than its header says");
  std::unique_ptr<RxChunk> done = std::move(slot);
  receiving_.erase(stream_id);
  uint64_t seq = done->hdr.seq;
  ready_[seq] = std::move(done);
  process_ready();
  return {};
}

// Hashes received chunks (and decompresses zstd ones) on the thread pool.
// Decompression runs only a few chunks ahead of the writer, so that the
// decompressed bytes waiting for the sink stay bounded (kDecompressedAhead).
void Receiver::process_ready() {
  if (!hello_ || finished_) return;
  const uint64_t ahead = std::max<uint64_t>(2, kDecompressedAhead / hello_->chunk_size);
  for (auto& [seq, chunk] : ready_) {
    RxChunk* cp = chunk.get();
    if (cp->processing || cp->hashed) continue;
    bool zstd = cp->hdr.codec == wire::Codec::zstd;
    if (zstd && seq >= next_write_ + ahead) break;
    if (cp->hdr.raw_len > hello_->chunk_size)
      return fail(
          make_error(Errc::transfer, "protocol", "chunk larger than the announced chunk size"),
          AppError::protocol);
    if (zstd) cp->raw = raw_pool_->get();
    cp->processing = true;
    ++pending_work_;
    int rv = uvx::queue_work(
        loop_, alive_,
        [cp] {
          if (cp->hdr.codec == wire::Codec::zstd) {
            auto st = codec::decompress(
                codec::worker_dctx(), cp->received(), {cp->raw.get(), cp->hdr.raw_len},
                strprintf("chunk %llu", static_cast<unsigned long long>(cp->hdr.seq)));
            if (!st) {
              cp->error = st.error();
              return;
            }
          }
          auto v = cp->iov();
          cp->actual = hash_iovecs(v);
        },
        [this, cp] {
          --pending_work_;
          if (finished_) return owner_.maybe_deliver();
          cp->processing = false;
          cp->hashed = true;
          if (cp->error) return fail(*cp->error, AppError::protocol);
          if (cp->raw) recycle(*cp); // the compressed blocks are no longer needed
          if (cp->actual != cp->hdr.hash)
            return fail(make_error(Errc::transfer, peer_,
                                   strprintf("chunk %llu failed its integrity check",
                                             static_cast<unsigned long long>(cp->hdr.seq))),
                        AppError::digest_mismatch);
          try_write();
        });
    if (rv != 0) {
      --pending_work_;
      return fail(uv_error(Errc::local_io, "thread pool", rv), AppError::internal);
    }
  }
}

// Files mode: commits every file before `upto` (all its chunks written, its
// FILE_END here, its digest matching). False while a message it needs has not
// arrived yet, or on failure.
bool Receiver::advance_files(uint32_t upto) {
  while (cur_file_ < upto && !finished_) {
    if (cur_file_ >= files_.size()) return false;
    FileState& f = files_[cur_file_];
    if (!f.end) return false;
    if (next_write_ != f.meta_first_seq + f.end->chunks || f.bytes != f.end->bytes) {
      fail(make_error(Errc::transfer, "protocol", "a file's chunks do not match its FILE_END"),
           AppError::protocol);
      return false;
    }
    if (f.resume_asked && !f.resume_start) return false;
    if (!sink_) { // an empty file
      auto sink = owner_.make_sink(&f.meta);
      if (!sink) {
        fail(sink.error(), AppError::output_failed);
        return false;
      }
      sink_ = std::move(*sink);
    }
    if (f.digester.digest() != f.end->digest) {
      fail(make_error(Errc::transfer, sink_->name(), "the file's digest does not match"),
           AppError::digest_mismatch);
      return false;
    }
    if (auto st = sink_->commit(); !st) {
      fail(st.error(), AppError::output_failed);
      return false;
    }
    log_.verbose("received " + sink_->name());
    sink_.reset();
    ++files_done_;
    ++cur_file_;
  }
  return !finished_;
}

void Receiver::size_window(uint32_t chunk_size) {
  uint64_t chunk_wire = wire::ChunkHeader::kSize + wire::max_wire_len(chunk_size);
  uint64_t share = kConnWindow / std::max<size_t>(1, owner_.active_transfers());
  uint64_t target = std::max(2 * chunk_wire, share);
  if (conn_ && target > kInitialWindow) conn_->extend_max_offset(target - kInitialWindow);
}

// --resume: tells the sender how much of file `index` is kept, and its digest.
void Receiver::offer_resume(uint32_t index) {
  auto path = owner_.partial_path(files_[index].meta);
  struct stat st;
  if (!path || ::lstat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    send_control(wire::Resume{index, 0, {}});
    return;
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  auto result =
      std::make_shared<Result<std::array<uint8_t, 16>>>(make_error(Errc::local_io, "", ""));
  std::string p = *path;
  ++pending_work_;
  int rv = uvx::queue_work(
      loop_, alive_, [result, p, size] { *result = uvx::digest_prefix(p, size); },
      [this, result, index, size] {
        --pending_work_;
        if (finished_) return owner_.maybe_deliver();
        wire::Resume r{index, 0, {}};
        if (result->ok()) {
          r.offset = size;
          std::copy((**result).begin(), (**result).end(), r.digest.begin());
          files_[index].resume_offered = size;
        }
        send_control(r);
      });
  if (rv != 0) {
    --pending_work_;
    send_control(wire::Resume{index, 0, {}});
  }
}

void Receiver::send_control(const wire::Message& m) {
  control_out_.append(wire::encode(m));
  if (conn_ && !conn_->closed()) conn_->flush();
}

void Receiver::try_write() {
  if (writing_ || finished_ || !hello_) return;
  auto it = ready_.find(next_write_);
  if (it == ready_.end() || !it->second->hashed) return;
  RxChunk* c = it->second.get();
  if (hello_->files > 0) {
    // Earlier files end before this chunk's file can begin.
    uint32_t file = c->hdr.file;
    if (file >= hello_->files || file < cur_file_)
      return fail(make_error(Errc::transfer, "protocol", "a chunk of an unknown file"),
                  AppError::protocol);
    if (!advance_files(file) || files_.size() <= file) return;           // wait for FILE/FILE_END
    if (files_[file].resume_asked && !files_[file].resume_start) return; // and RESUME
    if (c->hdr.seq < files_[file].meta_first_seq)
      return fail(make_error(Errc::transfer, "protocol", "a chunk before its file began"),
                  AppError::protocol);
    if (!sink_) {
      auto sink = owner_.make_sink(&files_[file].meta);
      if (!sink) return fail(sink.error(), AppError::output_failed);
      sink_ = std::move(*sink);
    }
  }
  if (!sink_) return;
  if (end_ && c->hdr.seq >= end_->chunks)
    return fail(make_error(Errc::transfer, "protocol", "more chunks than END announced"),
                AppError::protocol);
  writing_ = true;
  auto v = c->iov();
  sink_->write(v, [this, c](int err) {
    writing_ = false;
    if (finished_) return owner_.maybe_deliver();
    if (err != 0) {
      Errc code = err == UV_EPIPE ? Errc::transfer : Errc::local_io;
      return fail(uv_error(code, sink_->name(), err), AppError::output_failed);
    }
    digester_.add_chunk(c->hdr.hash, c->hdr.raw_len);
    bytes_written_ += c->hdr.raw_len;
    if (hello_->files > 0) {
      files_[cur_file_].digester.add_chunk(c->hdr.hash, c->hdr.raw_len);
      files_[cur_file_].bytes += c->hdr.raw_len;
    }
    uint64_t consumed = wire::ChunkHeader::kSize + c->hdr.wire_len;
    payload_wire_ += c->hdr.wire_len;
    recycle(*c);
    if (c->raw) raw_pool_->put(std::move(c->raw));
    ready_.erase(c->hdr.seq);
    ++next_write_;
    if (conn_ && !conn_->closed()) {
      conn_->extend_max_offset(consumed);
      conn_->extend_max_streams_uni(1);
    }
    process_ready();
    try_write();
    maybe_finish();
    if (conn_ && !conn_->closed()) conn_->flush();
  });
}

void Receiver::maybe_finish() {
  if (!end_ || writing_ || done_queued_ || finished_) return;
  if (next_write_ < end_->chunks) return;
  if (hello_->files > 0) {
    if (!advance_files(hello_->files) || cur_file_ < hello_->files) return;
  }
  if (next_write_ > end_->chunks || !ready_.empty() || !receiving_.empty())
    return fail(make_error(Errc::transfer, "protocol", "more chunks than END announced"),
                AppError::protocol);
  if (bytes_written_ != end_->bytes || digester_.digest() != end_->digest)
    return fail(make_error(Errc::transfer, peer_,
                           "the stream digest does not match: data was lost or reordered"),
                AppError::digest_mismatch);
  if (sink_) {
    if (auto st = sink_->commit(); !st) return fail(st.error(), AppError::output_failed);
    sink_.reset();
  }
  committed_ = true;
  wire::Done done{bytes_written_, conn_ ? conn_->stats().datagrams_received : 0};
  control_out_.append(wire::encode(done));
  done_queued_ = true;
  end_ns_ = transport::now_ns();
  if (conn_) conn_->flush();
}

void Receiver::on_closed(const CloseInfo& info) {
  if (finished_) return;
  if (done_queued_ && info.kind == CloseInfo::Kind::peer_app && info.code == 0) return succeed();
  if (info.kind == CloseInfo::Kind::local) return; // fail() reports
  finish(describe_close(info, handshake_done_, peer_, "sender", owner_.idle_timeout_ms()));
}

void Receiver::fail(const Error& e, AppError code) {
  if (finished_) return;
  if (conn_ && !conn_->closed()) conn_->close(code, e.message());
  finish(e);
}

void Receiver::succeed() {
  finish({});
}

void Receiver::finish(Status st) {
  if (finished_) return;
  finished_ = true;
  if (!end_ns_) end_ns_ = transport::now_ns();
  if (!st.ok() && sink_) {
    sink_->cancel();
    sink_->abort();
  }
  if (started_ || !st.ok()) owner_.receiver_finished(this, st);
}

// ---- Listener ----

Status Listener::start() {
  auto id = !opts_.cert_file.empty()
                ? tls::load_identity(opts_.cert_file, opts_.key_file)
                : tls::load_or_create_identity(opts_.identity_dir.empty()
                                                   ? tls::xdg_data_home() + "/qpipe"
                                                   : opts_.identity_dir);
  if (!id) return id.error();
  identity_ = std::move(*id);
  auto ctx = tls::make_server_context(identity_);
  if (!ctx) return ctx.error();
  tls_ = std::move(*ctx);
  for (auto* t : {&done_timer_, &cleanup_timer_, &progress_timer_})
    (void)t;
  if (int rv = done_timer_.init(loop_, [this] { deliver(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = cleanup_timer_.init(loop_, [this] { cleanup(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);
  if (int rv = progress_timer_.init(loop_, [this] { progress(); }); rv != 0)
    return uv_error(Errc::connect, "timer", rv);

  Result<transport::Address> local = make_error(Errc::connect, "listen", "no address");
  bool v6_only = opts_.family == AF_INET6;
  if (opts_.host.empty()) {
    local = local_address(opts_.bind, opts_.family == AF_INET ? AF_INET : AF_INET6, opts_.port);
  } else {
    // A name or address to listen on: must resolve synchronously enough;
    // numeric addresses are the common case.
    local = local_address(opts_.host, opts_.family, opts_.port);
    v6_only = true;
    if (!local)
      return make_error(Errc::usage, opts_.host,
                        "listen on a numeric address (or leave it out to listen on all)");
  }
  if (!local) return local.error();
  auto sock = transport::UdpSocket::open(loop_, *local, v6_only, log_);
  if (!sock && opts_.host.empty() && opts_.family == AF_UNSPEC && opts_.bind.empty()) {
    // No IPv6 on this host: fall back to IPv4.
    local = local_address("", AF_INET, opts_.port);
    sock = transport::UdpSocket::open(loop_, *local, true, log_);
  }
  if (!sock) return sock.error();
  socket_ = std::move(*sock);
  socket_->start([this](const transport::Datagram& d) { on_datagram(d); },
                 [](int) { /* ICMP errors about a sender are handled by its idle timeout */ },
                 [this] { flush_all(); });
  progress_timer_.start(250, 250);
  if (events_.on_info)
    events_.on_info("listening on " + socket_->local().to_string() + ", fingerprint " +
                    identity_.fingerprint);
  return {};
}

void Listener::on_datagram(const transport::Datagram& d) {
  if (done_) return;
  ngtcp2_version_cid vc;
  int rv = ngtcp2_pkt_decode_version_cid(&vc, d.data.data(), d.data.size(), 18);
  if (rv != 0) return; // not QUIC, or a version we do not speak: ignore it
  auto it = by_cid_.find(cid_key(vc.dcid, vc.dcidlen));
  if (it != by_cid_.end()) {
    if (auto* c = it->second->conn()) c->on_datagram(d);
    return;
  }
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, d.data.data(), d.data.size()) != 0) return;
  if (receivers_.size() >= static_cast<size_t>(opts_.max_connections)) {
    // Refused at once, without state: the sender hears why.
    static const char reason[] = "too many connections";
    uint8_t buf[1500];
    auto n = ngtcp2_crypto_write_connection_close(
        buf, sizeof buf, hd.version, &hd.scid, &hd.dcid, NGTCP2_CONNECTION_REFUSED,
        reinterpret_cast<const uint8_t*>(reason), sizeof reason - 1);
    if (n > 0) socket_->send(d.remote, buf, static_cast<size_t>(n), static_cast<size_t>(n));
    if (!refusal_logged_)
      log_.info("refusing senders beyond --max-connections " +
                std::to_string(opts_.max_connections));
    refusal_logged_ = true;
    return;
  }
  transport::ConnectionSettings cs;
  cs.cc = opts_.cc;
  cs.idle_timeout_ms = opts_.idle_timeout_ms;
  cs.max_data = kInitialWindow; // grown after HELLO, see Receiver::size_window
  cs.max_stream_data_uni = wire::ChunkHeader::kSize + wire::max_wire_len(wire::kMaxChunkRaw);
  cs.max_stream_data_bidi = 64 * 1024;
  cs.max_streams_uni = static_cast<uint64_t>(opts_.max_streams);
  cs.max_streams_bidi = 1;
  auto r = std::make_unique<Receiver>(*this, loop_, log_);
  auto conn = transport::Connection::server(loop_, socket_.get(), d.local, d.remote, hd, cs,
                                            tls_.get(), r.get(), log_);
  if (!conn) {
    log_.verbose("cannot accept a connection: " + conn.error().message());
    return;
  }
  Receiver* rp = r.get();
  r->set_peer(d.remote.to_string());
  r->attach(std::move(*conn));
  transport::Connection* c = r->conn();
  c->on_cid_change = [this, rp](const ngtcp2_cid& cid, bool add) {
    if (add)
      by_cid_[cid_key(cid.data, cid.datalen)] = rp;
    else
      by_cid_.erase(cid_key(cid.data, cid.datalen));
  };
  by_cid_[cid_key(vc.dcid, vc.dcidlen)] = rp; // the client's chosen DCID
  for (const auto& cid : c->scids())
    by_cid_[cid_key(cid.data, cid.datalen)] = rp;
  receivers_.push_back(std::move(r));
  c->on_datagram(d);
}

void Listener::cleanup() {
  for (auto it = receivers_.begin(); it != receivers_.end();) {
    Receiver* r = it->get();
    bool dead = r->finished() || !r->conn() || r->conn()->closed();
    if (dead && r->idle() && !active_.count(r)) {
      for (auto c = by_cid_.begin(); c != by_cid_.end();) {
        if (c->second == r)
          c = by_cid_.erase(c);
        else
          ++c;
      }
      it = receivers_.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace

Result<std::unique_ptr<Transfer>> start_listen(uv_loop_t* loop, const ListenOptions& opts,
                                               SinkFactory make_sink, const Logger& log,
                                               TransferEvents events) {
  auto l = std::make_unique<Listener>(loop, opts, std::move(make_sink), log, std::move(events));
  if (auto st = l->start(); !st) return st.error();
  return std::unique_ptr<Transfer>(std::move(l));
}

} // namespace qpipe::app
