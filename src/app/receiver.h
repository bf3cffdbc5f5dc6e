// The listening side of one connection: the per-transfer receive side.
//
// A Receiver takes the control stream (AUTH, HELLO, FILE, RESUME, FILE_END,
// END: one handler each, in receiver_control.cc) and the chunk streams,
// checks each chunk's hash on the thread pool (decompressing zstd chunks
// there too), writes chunks to the sink in sequence order, checks each
// file's digest and the stream digest, and confirms with DONE only after the
// last write succeeded (and, for -o, the rename).
//
// Memory: before the sender has proven itself (HELLO, and AUTH with a
// secret) it gets credit for control messages only (kControlAllowance) and
// no chunk stream, and it must do so within kProofDeadlineMs of the
// handshake. Then its transfer reserves its part of the listener's one
// MemoryBudget (TransferMemory; it waits for it when others hold it all),
// which sets the credit and streams it is granted. Connection credit is
// returned only after the bytes were written, and stream credit only after
// a whole chunk was, so what is buffered stays within the reservation
// however slowly the sink drains. A transfer that holds chunks while the one
// the writer waits for makes no progress for the idle timeout is cut.
// On the control stream, stream credit goes back as messages are taken,
// except for a FILE message's bytes, which go back when that file is
// committed and its state dropped: the files announced and not yet committed
// are bounded by the control stream's window, however many files a transfer
// has.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "app/chunk_seqs.h"
#include "app/control_out.h"
#include "app/memory_budget.h"
#include "app/resume.h"
#include "app/rx_chunk.h"
#include "app/transfer.h"
#include "app/transfer_memory.h"
#include "core/mirror_ring.h"
#include "pipeline/digest.h"
#include "transport/connection.h"
#include "uv/work.h"

namespace qpipe::app {

class Receiver;

// What a Receiver needs from the listener that accepted its connection.
class ReceiverHost {
public:
  virtual ~ReceiverHost() = default;
  // A sender's HELLO: may this transfer start now? (One at a time, unless
  // the listener takes files side by side; at most --max-connections.)
  virtual Status begin_transfer(Receiver& r) = 0;
  // The listener's one budget for chunk data.
  virtual MemoryBudget& memory() = 0;
  // The sink for a stream (file null) or a named file.
  virtual Result<std::unique_ptr<ByteSink>> make_sink(const FileMeta* file) = 0;
  // The part --resume keeps of a file, claimed for this transfer (null when
  // nothing is kept: no --resume, stdout, a device). Errc::transfer when
  // another transfer holds it.
  virtual Result<std::shared_ptr<uvx::PartialFile>> claim_partial(const FileMeta& meta) = 0;
  // The receiver ended: a transfer (started or not) succeeded or failed.
  virtual void receiver_finished(Receiver& r, const Status& st) = 0;
  // A finished receiver's last read, write or job came back.
  virtual void receiver_idle() = 0;
  // A named file began, was received whole, or failed.
  virtual void file_event(const FileEvent& e) = 0;
};

// A sender that completed the handshake has this long (or the idle timeout,
// when shorter) to prove itself with AUTH and HELLO.
inline constexpr uint64_t kProofDeadlineMs = 5'000;

class Receiver final : public transport::ConnectionHandler {
public:
  Receiver(ReceiverHost& host, uv_loop_t* loop, const ListenOptions& opts, const Logger& log);
  ~Receiver() override;

  void attach(std::unique_ptr<transport::Connection> c) { conn_ = std::move(c); }
  transport::Connection* conn() const { return conn_.get(); }
  bool finished() const { return phase_ == Phase::finished; }
  // HELLO (and AUTH with a secret) accepted: a transfer, counted against
  // --max-connections; before, a connection in the handshake budget.
  bool proven() const { return phase_ >= Phase::receiving && !finished(); }
  // No write or thread-pool job is outstanding: its buffers can be freed.
  bool idle() const { return !writing_ && work_.idle(); }
  const std::string& peer() const { return peer_; }
  void set_peer(std::string p) { peer_ = std::move(p); }
  TransferStats stats() const;
  void abort(const Error& e, transport::AppError code) { fail(transport::Abort{e, code}); }
  // About 4 times a second: the proof deadline, and a transfer that holds
  // chunks while the one the writer waits for does not come.
  void on_tick(uint64_t now_ns);

  // ConnectionHandler
  void on_handshake_completed() override;
  transport::Outcome on_stream_data(int64_t stream_id, std::span<const uint8_t> data,
                                    bool fin) override;
  void on_stream_close(int64_t stream_id, bool, uint64_t) override;
  bool next_send(transport::SendSlot& slot) override { return control_out_.next(slot); }
  void on_sent(int64_t stream_id, size_t n, bool fin) override;
  void on_stream_blocked(int64_t) override {}
  void on_closed(const transport::CloseInfo& info) override;

private:
  enum class Phase {
    handshaking,   // QUIC and TLS handshake
    connected,     // waiting for AUTH (with a secret) and HELLO
    authenticated, // AUTH proved the secret; waiting for HELLO
    receiving,     // HELLO accepted: chunks and control messages
    confirming,    // everything written and verified, DONE queued
    finished,      // succeeded or failed; reported to the host
  };
  struct FileState {
    FileMeta meta;
    uint64_t first_seq = 0;
    std::optional<wire::FileEnd> end;
    ResumeOffer resume;
    uint64_t bytes = 0;
    Digester digester;
    uint64_t control_bytes = 0; // its FILE message: stream credit held until it is committed
  };

  // Control messages (receiver_control.cc).
  transport::Outcome on_control(std::span<const uint8_t> data);
  transport::Outcome on_message(const wire::Auth& m);
  transport::Outcome on_message(const wire::Hello& m);
  transport::Outcome on_message(const wire::File& m);
  transport::Outcome on_message(const wire::Resume& m);
  transport::Outcome on_message(const wire::FileEnd& m);
  transport::Outcome on_message(const wire::End& m);
  transport::Outcome on_message(const wire::Done& m);
  transport::Outcome accept_hello(const wire::Hello& h);

  // Chunks and writing (receiver.cc).
  transport::Outcome on_chunk_data(int64_t stream_id, std::span<const uint8_t> data, bool fin);
  void process_ready();
  void on_processed(RxChunk* c);
  // The abort for chunk c, whose bytes do not hash to what its header says.
  transport::Abort integrity_failure(const RxChunk& c) const;
  void try_write();
  void on_written(RxChunk* c, int err);
  transport::Outcome open_file_sink(uint32_t file);
  transport::Outcome advance_files(uint32_t upto, bool* waiting);
  transport::Outcome commit_file();
  void report_file(FileEvent::State state);
  void maybe_finish();
  transport::Outcome verify_end();
  void on_memory_granted(bool from_hello);
  // Adds the connection credit the transfer's memory allows (before HELLO:
  // what keeps kControlAllowance open for control messages).
  void grant_credit();
  void tune_window();
  uint64_t outstanding() const { return credit_granted_ - credit_consumed_; }
  bool awaited_has_raw() const;
  // Chunks may be compressed against the bytes of their file before them
  // (HELLO's kHelloHistory): then every chunk goes through history_.
  bool history() const { return hello_ && (hello_->flags & wire::kHelloHistory); }
  transport::Outcome history_for(const RxChunk& c, std::span<const uint8_t>* prefix);
  void history_passed(RxChunk& c);
  Block take_block(size_t n);
  void give_block(Block b, size_t n);
  // Files mode: the state of file `index`, or null when it is committed or
  // its FILE has not come yet.
  FileState* file_state(uint64_t index);
  void drop_committed_file();
  void return_control_credit();
  void send_control(const wire::Message& m);
  bool named() const { return hello_ && hello_->files > 0; }

  void fail(const transport::Abort& a);
  void check(transport::Outcome o) {
    if (!o) fail(o.abort());
  }
  void finish(Status st);

  ReceiverHost& host_;
  const ListenOptions& opts_;
  const Logger& log_;
  uvx::WorkQueue work_;
  std::unique_ptr<transport::Connection> conn_;
  std::unique_ptr<ByteSink> sink_;
  std::string peer_;
  Phase phase_ = Phase::handshaking;

  wire::ControlDecoder control_in_;
  ControlOut control_out_;
  std::optional<wire::Hello> hello_;
  std::optional<wire::End> end_;
  // Files announced and not yet committed: files_[0] is file cur_file_.
  std::deque<FileState> files_;
  size_t cur_file_ = 0;
  uint32_t files_done_ = 0;
  uint64_t last_first_seq_ = 0;
  // Seeded 64-bit hashes of the names of this transfer's files, to refuse a
  // second file of the same name (8 bytes and a node per file).
  std::unordered_set<uint64_t> names_seen_;
  uint64_t name_seed_ = 0;
  // Control stream credit consumed and not yet given back (negative: owed,
  // when a FILE message's first bytes were given back before it was whole).
  int64_t control_credit_due_ = 0;

  // The transfer's part of the listener's memory, from HELLO on. Declared
  // before the chunks, so that their blocks are gone before it is.
  std::optional<TransferMemory> memory_;
  uint64_t credit_granted_ = kControlAllowance, credit_consumed_ = 0;
  uint64_t max_credit_ = 0; // the largest connection credit outstanding
  // Chunk stream bytes that arrived, and of them the ones consumed (written).
  uint64_t chunk_arrived_ = 0, chunk_consumed_ = 0;
  uint64_t proof_deadline_ns_ = 0, last_progress_ns_ = 0;

  // With history(): the last wire::kHistory bytes of the current file,
  // which zstd_prefixed chunks are decoded against. Chunks go through it in
  // sequence order: a compressed one is decoded by a worker that appends
  // its bytes after, the next waiting for it; a raw one is appended on the
  // loop. (Its memory is part of the transfer's.)
  std::optional<MirrorRing> history_;
  uint64_t history_seq_ = 0;        // the next chunk to go through it
  uint64_t history_file_start_ = 0; // where the current file's bytes begin in it
  uint32_t history_file_ = 0;
  bool history_busy_ = false; // a worker has the next chunk
  std::unordered_map<int64_t, std::unique_ptr<RxChunk>> receiving_;
  std::map<uint64_t, std::unique_ptr<RxChunk>> ready_;
  ChunkSeqs seqs_;
  uint64_t next_write_ = 0, bytes_written_ = 0;
  bool writing_ = false;
  Digester digester_;
  uint64_t start_ns_ = transport::now_ns(), end_ns_ = 0;
  uint64_t payload_wire_ = 0;
};

} // namespace qpipe::app
