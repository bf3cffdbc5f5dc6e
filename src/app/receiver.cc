#include "app/receiver.h"

#include "app/close_reason.h"
#include "core/units.h"
#include "pipeline/codec.h"

namespace qpipe::app {

using transport::Abort;
using transport::AppError;
using transport::CloseInfo;
using transport::Outcome;
using transport::protocol_abort;

Receiver::Receiver(ReceiverHost& host, uv_loop_t* loop, const ListenOptions& opts,
                   const Logger& log)
    : host_(host), opts_(opts), log_(log), work_(loop) {
  control_out_.open(0); // the sender's bidirectional stream 0
  transport::random_bytes(reinterpret_cast<uint8_t*>(&name_seed_), sizeof name_seed_);
}

Receiver::~Receiver() {
  if (sink_) sink_->abort();
}

TransferStats Receiver::stats() const {
  TransferStats s;
  s.bytes = bytes_written_;
  if (named()) {
    s.files_total = hello_->files;
    s.files_done = files_done_;
    if (!files_.empty()) {
      s.file = files_.front().meta.name;
      s.file_bytes = files_.front().meta.start_offset + files_.front().bytes;
    }
  }
  s.payload_wire_bytes = payload_wire_;
  if (max_credit_ > kControlAllowance) s.window = max_credit_;
  s.chunks = next_write_;
  s.peer = peer_;
  if (hello_ && hello_->size_hint != UINT64_MAX) s.size = hello_->size_hint;
  s.seconds = static_cast<double>((end_ns_ ? end_ns_ : transport::now_ns()) - start_ns_) / 1e9;
  if (conn_) {
    auto cs = conn_->stats();
    s.wire_bytes = cs.wire_bytes_sent + cs.wire_bytes_received;
    if (cs.rtt_sampled) s.rtt_ms = cs.smoothed_rtt_ms;
    s.udp_payload = cs.max_udp_payload;
    s.path_changes = cs.path_changes;
    if (cs.max_cwnd) s.cwnd = cs.max_cwnd;
    if (end_)
      s.lost_packets = end_->datagrams_sent > cs.datagrams_received
                           ? end_->datagrams_sent - cs.datagrams_received
                           : 0;
  }
  return s;
}

void Receiver::on_handshake_completed() {
  phase_ = Phase::connected;
  proof_deadline_ns_ =
      transport::now_ns() + std::min(kProofDeadlineMs, opts_.idle_timeout_ms) * 1'000'000;
  log_.verbose("connection from " + peer_);
}

void Receiver::on_tick(uint64_t now) {
  if (finished()) return;
  if (phase_ == Phase::connected || phase_ == Phase::authenticated) {
    if (now >= proof_deadline_ns_)
      fail(Abort{
          make_error(Errc::transfer, peer_,
                     strprintf("no AUTH and HELLO within %llu s of the handshake",
                               static_cast<unsigned long long>(
                                   std::min(kProofDeadlineMs, opts_.idle_timeout_ms) / 1000))),
          AppError::refused});
    return;
  }
  if (phase_ != Phase::receiving) return;
  // The clock runs only while chunks wait for the one the writer needs and
  // nothing is being written or checked here: then only the sender can
  // move the transfer on.
  bool holding = !receiving_.empty() || !ready_.empty();
  if (!holding || writing_ || !work_.idle()) {
    last_progress_ns_ = now;
    return;
  }
  if (now - last_progress_ns_ < opts_.idle_timeout_ms * 1'000'000) return;
  // A sender that fell silent is the idle timeout's to name ("no packet
  // from the sender"): this is about one that is heard (keep-alive comes at
  // least every third of the idle timeout) but does not send the chunk.
  if (conn_ && now - conn_->last_received_ns() >= opts_.idle_timeout_ms * 1'000'000 / 2) return;
  uint64_t held = chunk_arrived_ - chunk_consumed_;
  fail(Abort{make_error(Errc::transfer, peer_,
                        strprintf("chunk %llu did not come for %llu s while %s of other chunks "
                                  "waited for it; giving up",
                                  static_cast<unsigned long long>(next_write_),
                                  static_cast<unsigned long long>(opts_.idle_timeout_ms / 1000),
                                  format_bytes(held).c_str())),
             AppError::protocol});
}

Outcome Receiver::on_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) {
  if (finished()) return {};
  if (stream_id == 0) {
    // Control bytes are consumed as they arrive: the connection's credit
    // goes back at once (grant_credit), the stream's as
    // return_control_credit says.
    credit_consumed_ += data.size();
    control_credit_due_ += static_cast<int64_t>(data.size());
    Outcome o = on_control(data);
    if (!finished()) {
      grant_credit();
      if (o) return_control_credit();
    }
    return o;
  }
  if ((stream_id & 0x3) == 0x2) return on_chunk_data(stream_id, data, fin);
  return protocol_abort("data on an unexpected stream");
}

void Receiver::on_stream_close(int64_t stream_id, bool, uint64_t) {
  // The sender has the DONE (our FIN on stream 0 was acknowledged).
  if (stream_id == 0 && control_out_.fin_sent()) finish({});
}

void Receiver::on_sent(int64_t stream_id, size_t n, bool fin) {
  if (stream_id == 0) control_out_.sent(n, fin);
}

void Receiver::on_closed(const CloseInfo& info) {
  if (finished()) return;
  if (phase_ == Phase::confirming && info.kind == CloseInfo::Kind::peer_app && info.code == 0)
    return finish({});
  if (info.kind == CloseInfo::Kind::local)
    return finish(info.error.value_or(make_error(Errc::transfer, "transfer", info.reason)));
  finish(describe_close(info, phase_ >= Phase::connected, peer_, "sender", opts_.idle_timeout_ms));
}

Outcome Receiver::on_chunk_data(int64_t stream_id, std::span<const uint8_t> data, bool fin) {
  // Chunk streams are granted only with the transfer's memory.
  if (!memory_ || !memory_->granted()) return protocol_abort("chunk data before HELLO");
  chunk_arrived_ += data.size();
  if (!writing_ && !ready_.count(next_write_))
    memory_->held_behind_missing(chunk_arrived_ - chunk_consumed_);
  if (receiving_.empty() && ready_.empty()) last_progress_ns_ = transport::now_ns();
  auto& slot = receiving_[stream_id];
  if (!slot) slot = std::make_unique<RxChunk>();
  auto check_seq = [this](const wire::ChunkHeader& h) -> Outcome {
    if (!seqs_.claim(h.seq))
      return protocol_abort(
          strprintf("chunk %llu sent twice", static_cast<unsigned long long>(h.seq)));
    // Before its bytes are buffered (and long before they could go into the
    // history, which holds a few chunks of the announced size).
    if (h.raw_len > hello_->chunk_size)
      return protocol_abort("chunk larger than the announced chunk size");
    if (h.codec == wire::Codec::zstd_prefixed && !history())
      return protocol_abort("a chunk compressed against the bytes before it, which HELLO did "
                            "not announce");
    if (h.outside_history && !history())
      return protocol_abort("a chunk marked outside the history, which HELLO did not announce");
    if (wire::compressed(h.codec)) memory_->saw_zstd();
    return {};
  };
  auto alloc = [this](size_t n) { return take_block(n); };
  if (auto o = slot->feed(data, alloc, check_seq); !o) return o;
  if (slot->have_header && slot->hdr.seq == next_write_) last_progress_ns_ = transport::now_ns();
  if (!fin) return {};
  if (!slot->complete()) return protocol_abort("chunk shorter than its header says");
  std::unique_ptr<RxChunk> done = std::move(slot);
  receiving_.erase(stream_id);
  uint64_t seq = done->hdr.seq;
  ready_[seq] = std::move(done);
  process_ready();
  return {};
}

// Hashes received chunks (and decompresses zstd ones) on the thread pool,
// only kDecompressedAhead ahead of the writer for zstd chunks. With
// history(), every chunk is appended to it in sequence order, and a
// compressed one is decoded against it (one at a time).
void Receiver::process_ready() {
  if (!hello_ || finished()) return;
  const uint64_t ahead = std::max<uint64_t>(2, kDecompressedAhead / hello_->chunk_size);
  bool checked_here = false;
  for (auto& [seq, chunk] : ready_) {
    RxChunk* cp = chunk.get();
    if (cp->hdr.raw_len > hello_->chunk_size)
      return fail(protocol_abort("chunk larger than the announced chunk size"));
    bool flat = wire::compressed(cp->hdr.codec); // decoded into cp->raw
    // With history, chunks go through it in order: a raw one is appended
    // here (and hashed beside the others), a compressed one waits for its
    // turn and is appended by its worker.
    if (history() && !flat && !cp->in_history && seq == history_seq_ && !history_busy_) {
      std::span<const uint8_t> none;
      if (auto o = history_for(*cp, &none); !o) return fail(o.abort());
      if (!cp->hdr.outside_history) cp->copy_to(history_->at(history_->head()));
      history_passed(*cp);
    }
    if (cp->processing || cp->checked) continue;
    if (cp->running) { // a raw chunk, hashed as it arrived
      cp->actual = cp->finish_hash();
      cp->checked = true;
      if (cp->actual != cp->hdr.hash) return fail(integrity_failure(*cp));
      checked_here = true;
      continue;
    }
    if (history() && flat && (seq != history_seq_ || history_busy_)) continue;
    if (flat && seq >= next_write_ + ahead) break;
    // The awaited chunk always has room for its buffer; others only when
    // the transfer's memory allows.
    if (flat && seq != next_write_ &&
        !memory_->may_decompress_ahead(outstanding(), awaited_has_raw()))
      break;
    std::span<const uint8_t> prefix;
    uint8_t* append_at = nullptr;
    if (history() && flat) {
      if (auto o = history_for(*cp, &prefix); !o) return fail(o.abort());
      if (!cp->hdr.outside_history) append_at = history_->at(history_->head());
      history_busy_ = true;
    }
    if (flat) cp->raw = memory_->take_raw();
    cp->processing = true;
    int rv = work_.run(
        [cp, prefix, append_at] {
          if (wire::compressed(cp->hdr.codec)) {
            auto st = codec::decompress(
                codec::worker_dctx(), cp->received(), {cp->raw.get(), cp->hdr.raw_len},
                strprintf("chunk %llu", static_cast<unsigned long long>(cp->hdr.seq)), prefix);
            if (!st) {
              cp->error = st.error();
              return;
            }
          }
          // (After decoding: the bytes appended replace the oldest of the prefix.)
          if (append_at) cp->copy_to(append_at);
          cp->actual = hash_iovecs(cp->iov());
        },
        [this, cp] { on_processed(cp); });
    if (rv != 0)
      return fail(Abort{uv_error(Errc::local_io, "thread pool", rv), AppError::internal});
  }
  if (checked_here) try_write();
}

Abort Receiver::integrity_failure(const RxChunk& c) const {
  return Abort{make_error(Errc::transfer, peer_,
                          strprintf("chunk %llu failed its integrity check",
                                    static_cast<unsigned long long>(c.hdr.seq))),
               AppError::digest_mismatch};
}

// The history chunk `c` is decoded against (its prefix: the bytes of its
// file before it, at most wire::kHistory), when it is the next to go
// through the history; a chunk that begins a file starts it afresh.
Outcome Receiver::history_for(const RxChunk& c, std::span<const uint8_t>* prefix) {
  if (!history_) {
    auto ring = MirrorRing::create(wire::kHistory);
    if (!ring) return Abort{ring.error(), AppError::internal};
    history_ = std::move(*ring);
  }
  uint64_t head = history_->head();
  if (c.hdr.file != history_file_) {
    history_file_ = c.hdr.file;
    history_file_start_ = head;
  }
  uint64_t from = std::max(history_file_start_, head - std::min<uint64_t>(head, wire::kHistory));
  if (c.hdr.codec != wire::Codec::zstd_prefixed) return {};
  if (from == head)
    return protocol_abort(
        strprintf("chunk %llu is compressed against bytes before it, but begins its file",
                  static_cast<unsigned long long>(c.hdr.seq)));
  *prefix = history_->view(from, head);
  return {};
}

// Chunk c's bytes are in the history (or, outside it, skipped over: what
// comes after is compressed against what follows them only).
void Receiver::history_passed(RxChunk& c) {
  history_->advance(c.hdr.raw_len);
  if (c.hdr.outside_history) history_file_start_ = history_->head();
  ++history_seq_;
  c.in_history = true;
}

void Receiver::on_processed(RxChunk* c) {
  c->processing = false;
  c->checked = true;
  if (c->error) return fail(Abort{*c->error, AppError::protocol});
  if (history() && wire::compressed(c->hdr.codec)) {
    history_busy_ = false;
    history_passed(*c);
  }
  if (c->raw) // the compressed blocks are no longer needed
    c->recycle([this](Block b, size_t n) { give_block(std::move(b), n); });
  if (c->actual != c->hdr.hash) return fail(integrity_failure(*c));
  if (history()) process_ready(); // the chunk after waits for this one
  try_write();
}

// Writes the next chunk in sequence, once it is checked and its file's turn
// has come (earlier files committed, FILE and RESUME here).
void Receiver::try_write() {
  if (writing_ || finished() || !hello_) return;
  auto it = ready_.find(next_write_);
  if (it == ready_.end() || !it->second->checked) return;
  RxChunk* c = it->second.get();
  if (history() && !c->in_history) return; // its bytes are not in the history yet
  if (named()) {
    uint32_t file = c->hdr.file;
    if (file >= hello_->files || file < cur_file_)
      return fail(protocol_abort("a chunk of an unknown file"));
    bool waiting = false;
    if (auto o = advance_files(file, &waiting); !o) return fail(o.abort());
    FileState* f = waiting ? nullptr : file_state(file);
    if (!f) return;                  // FILE or FILE_END not here yet
    if (f->resume.pending()) return; // nor the resume decision
    if (c->hdr.seq < f->first_seq) return fail(protocol_abort("a chunk before its file began"));
    if (auto o = open_file_sink(file); !o) return fail(o.abort());
  }
  if (!sink_) return;
  if (end_ && c->hdr.seq >= end_->chunks)
    return fail(protocol_abort("more chunks than END announced"));
  writing_ = true;
  sink_->write(c->iov(), [this, c](int err) { on_written(c, err); });
}

void Receiver::on_written(RxChunk* c, int err) {
  writing_ = false;
  if (finished()) return host_.receiver_idle();
  if (err != 0) {
    Errc code = err == UV_EPIPE ? Errc::transfer : Errc::local_io;
    return fail(Abort{uv_error(code, sink_->name(), err), AppError::output_failed});
  }
  digester_.add_chunk(c->hdr.hash, c->hdr.raw_len);
  bytes_written_ += c->hdr.raw_len;
  if (named()) {
    files_.front().digester.add_chunk(c->hdr.hash, c->hdr.raw_len);
    files_.front().bytes += c->hdr.raw_len;
  }
  payload_wire_ += c->hdr.wire_len;
  credit_consumed_ += wire::ChunkHeader::kSize + c->hdr.wire_len;
  chunk_consumed_ += wire::ChunkHeader::kSize + c->hdr.wire_len;
  c->recycle([this](Block b, size_t n) { give_block(std::move(b), n); });
  if (c->raw) memory_->give_raw(std::move(c->raw));
  ready_.erase(c->hdr.seq);
  seqs_.written_below(++next_write_);
  last_progress_ns_ = transport::now_ns();
  if (conn_ && !conn_->closed()) {
    conn_->extend_max_streams_uni(1);
    grant_credit();
  }
  process_ready();
  try_write();
  maybe_finish();
  if (conn_ && !conn_->closed()) conn_->flush();
}

Outcome Receiver::open_file_sink(uint32_t file) {
  if (sink_) return {};
  auto sink = host_.make_sink(&file_state(file)->meta);
  if (!sink) return Abort{sink.error(), AppError::output_failed};
  sink_ = std::move(*sink);
  report_file(FileEvent::State::receiving);
  return {};
}

// The current file (files_[0], whose sink is open), to the host: for the
// api's record of each file.
void Receiver::report_file(FileEvent::State state) {
  if (!named() || files_.empty()) return;
  const FileState& f = files_.front();
  host_.file_event(
      FileEvent{state, f.meta.name, f.meta.size, f.meta.start_offset + f.bytes, peer_});
}

// Files mode: commits every file before `upto`. *waiting is set while a
// message that is needed (FILE_END, the resume decision) has not arrived.
Outcome Receiver::advance_files(uint32_t upto, bool* waiting) {
  while (cur_file_ < upto) {
    if (files_.empty() || !files_.front().end || files_.front().resume.pending()) {
      *waiting = true;
      return {};
    }
    if (auto o = commit_file(); !o) return o;
    ++files_done_;
    drop_committed_file();
  }
  return {};
}

Receiver::FileState* Receiver::file_state(uint64_t index) {
  if (index < cur_file_ || index - cur_file_ >= files_.size()) return nullptr;
  return &files_[index - cur_file_];
}

// The current file is committed: its state goes, and with it the control
// stream credit its FILE message held.
void Receiver::drop_committed_file() {
  control_credit_due_ += static_cast<int64_t>(files_.front().control_bytes);
  files_.pop_front();
  ++cur_file_;
  return_control_credit();
}

void Receiver::return_control_credit() {
  if (control_credit_due_ <= 0) return;
  if (conn_ && !conn_->closed())
    conn_->extend_max_stream_offset(0, static_cast<uint64_t>(control_credit_due_));
  control_credit_due_ = 0;
}

// The current file, whose chunks were all written: its digest, then the rename.
Outcome Receiver::commit_file() {
  FileState& f = files_.front();
  if (next_write_ != f.first_seq + f.end->chunks || f.bytes != f.end->bytes)
    return protocol_abort("a file's chunks do not match its FILE_END");
  // An empty file has had no chunk to open its sink.
  if (auto o = open_file_sink(static_cast<uint32_t>(cur_file_)); !o) return o;
  if (f.digester.digest() != f.end->digest)
    return Abort{make_error(Errc::transfer, sink_->name(), "the file's digest does not match"),
                 AppError::digest_mismatch};
  if (auto st = sink_->commit(); !st) return Abort{st.error(), AppError::output_failed};
  log_.verbose("received " + sink_->name());
  sink_.reset();
  report_file(FileEvent::State::done);
  return {};
}

// Everything announced is written: check the stream digest, commit, DONE.
void Receiver::maybe_finish() {
  if (!end_ || writing_ || phase_ != Phase::receiving) return;
  if (next_write_ < end_->chunks) return;
  if (named()) {
    bool waiting = false;
    if (auto o = advance_files(hello_->files, &waiting); !o) return fail(o.abort());
    if (waiting) return;
  }
  if (auto o = verify_end(); !o) return fail(o.abort());
  wire::Done done{bytes_written_, conn_ ? conn_->stats().datagrams_received : 0};
  control_out_.append(wire::encode(done));
  control_out_.finish(); // DONE is the last message: the FIN goes with it
  phase_ = Phase::confirming;
  end_ns_ = transport::now_ns();
  if (conn_) conn_->flush();
}

Outcome Receiver::verify_end() {
  if (next_write_ > end_->chunks || !ready_.empty() || !receiving_.empty())
    return protocol_abort("more chunks than END announced");
  if (bytes_written_ != end_->bytes || digester_.digest() != end_->digest)
    return Abort{make_error(Errc::transfer, peer_,
                            "the stream digest does not match: data was lost or reordered"),
                 AppError::digest_mismatch};
  if (sink_) {
    if (auto st = sink_->commit(); !st) return Abort{st.error(), AppError::output_failed};
    sink_.reset();
  }
  return {};
}

// The transfer's minimum was reserved: the sender may open chunk streams.
// From inside HELLO's handling the connection is flushed by the socket's
// batch; from a budget grant (another transfer gave memory back) here.
void Receiver::on_memory_granted(bool from_hello) {
  if (finished() || !conn_ || conn_->closed()) return;
  if (!from_hello) log_.verbose("memory for the transfer from " + peer_ + " is free now");
  last_progress_ns_ = transport::now_ns();
  conn_->extend_max_streams_uni(memory_->stream_credit(static_cast<uint32_t>(opts_.max_streams)));
  grant_credit();
  if (!from_hello) conn_->flush();
}

void Receiver::grant_credit() {
  if (!conn_ || conn_->closed()) return;
  uint64_t add = 0;
  if (memory_ && memory_->granted()) {
    tune_window();
    memory_->rebalance(outstanding());
    add = memory_->credit_to_add(outstanding());
  } else if (outstanding() < kControlAllowance) {
    add = kControlAllowance - outstanding();
  }
  if (add == 0) return;
  conn_->extend_max_offset(add);
  credit_granted_ += add;
  max_credit_ = std::max(max_credit_, outstanding());
}

// The window follows the path's need (CreditWindow); the sender gets the
// chunk streams of a larger window at once.
void Receiver::tune_window() {
  auto cs = conn_->stats();
  uint64_t rtt_ns = cs.rtt_sampled ? static_cast<uint64_t>(cs.smoothed_rtt_ms * 1e6) : 0;
  auto max = static_cast<uint32_t>(opts_.max_streams);
  uint32_t before = memory_->stream_credit(max);
  if (!memory_->tune_window(transport::now_ns(), credit_consumed_, rtt_ns)) return;
  log_.debug(
      strprintf("credit window of %s: %s", peer_.c_str(), format_bytes(memory_->window()).c_str()));
  uint32_t after = memory_->stream_credit(max);
  if (after > before) conn_->extend_max_streams_uni(after - before);
}

bool Receiver::awaited_has_raw() const {
  auto it = ready_.find(next_write_);
  return it != ready_.end() && it->second->raw;
}

Block Receiver::take_block(size_t n) {
  if (!memory_->take_block(n, awaited_has_raw())) return nullptr;
  return memory_->block(n);
}

void Receiver::give_block(Block b, size_t n) {
  memory_->recycle(std::move(b), n);
}

void Receiver::fail(const Abort& a) {
  if (finished()) return;
  // An open connection reports on_closed(local), which finishes with a.error.
  if (conn_ && !conn_->closed()) conn_->close(a);
  finish(a.error);
}

void Receiver::finish(Status st) {
  if (finished()) return;
  bool started = phase_ >= Phase::receiving;
  phase_ = Phase::finished;
  if (!end_ns_) end_ns_ = transport::now_ns();
  if (!st.ok() && sink_) {
    report_file(FileEvent::State::failed);
    sink_->cancel();
    sink_->abort();
  }
  // A transfer still waiting for memory leaves the line now; one that holds
  // memory gives it back when its buffers are gone (with the receiver).
  if (memory_ && !memory_->granted()) memory_.reset();
  work_.stop([this] { host_.receiver_idle(); });
  if (started || !st.ok()) host_.receiver_finished(*this, st);
}

} // namespace qpipe::app
