// The sender's input side: reads the items (stdin, or files one after the
// other) into chunks, hashes each chunk (and compresses it with -z) on the
// thread pool, folds the hashes into the stream digest and each file's
// digest in sequence order, and says what the control stream must carry:
// FILE when a file begins, RESUME for --resume, FILE_END when a file's chunks
// are all read and hashed.
//
// It reads only while ChunkMemory has room, so memory stays bounded however
// fast the input is; the sender releases a chunk's memory once the listener
// has acknowledged its stream. It opens a file only while fewer than
// kFilesAhead files have been announced (FILE) and not ended (FILE_END):
// the listener holds the control stream credit of each FILE until that file
// is committed, and this keeps the credit held well inside its window.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/options.h"
#include "app/resume.h"
#include "app/send_chunk.h"
#include "app/transfer.h"
#include "core/mirror_ring.h"
#include "pipeline/digest.h"
#include "pipeline/level_control.h"
#include "transport/connection.h"
#include "uv/work.h"

namespace qpipe::app {

class SendPipeline {
public:
  static constexpr size_t kFilesAhead = 64;

  struct Events {
    std::function<void(const wire::Message&)> control; // a message for the control stream
    std::function<void()> progressed;                  // a chunk is ready, or the input moved on
    std::function<void(const transport::Abort&)> fail;
  };
  SendPipeline(uv_loop_t* loop, const SendOptions& opts, std::vector<SendItem> items, bool named,
               const Logger& log, Events events);

  // Whether chunks may be compressed against the bytes before them
  // (HELLO's wire::kHelloHistory): with -z and chunks of at most
  // wire::kHistoryChunkMost.
  bool uses_history() const;
  // The connection is up and takes chunks: from now on the queues say who
  // is behind, the network or the compressor (before, chunks wait for the
  // handshake, which says nothing about either).
  void connected() { connected_ = true; }
  // Reads more while memory allows; call again whenever memory was released.
  void read_next();
  // The chunks the sender keeps in flight now (ChunkMemory::set_in_flight).
  void set_in_flight(int chunks) {
    memory_.set_in_flight(chunks);
    read_next();
  }
  // The listener's answer to a RESUME question.
  transport::Outcome on_resume_offer(const wire::Resume& offer);

  // Unacknowledged chunks, in sequence order; ready to send once hashed.
  std::deque<std::unique_ptr<SendChunk>>& chunks() { return chunks_; }
  // The listener acknowledged c's stream: its memory goes back.
  void acknowledged(SendChunk& c);

  // Everything was read, hashed and announced (every FILE_END queued): the
  // END message can follow.
  bool input_complete() const;
  wire::End end_message() const;

  // The transfer is over: cancels the read, drops the results of work that
  // is still running, and calls `drained` once nothing uses the buffers.
  void stop(std::function<void()> drained);
  bool idle() const { return !reading_ && work_.idle(); }

  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t chunks_read() const { return next_seq_; }
  uint64_t payload_wire_bytes() const { return payload_wire_; }
  // Chunks sent compressed, by zstd level.
  const codec::LevelCounts& zstd_levels() const { return level_counts_; }
  std::optional<uint64_t> total_size() const;
  // The number of named files; 0 for one anonymous stream.
  uint32_t named_files() const { return named_ ? static_cast<uint32_t>(items_.size()) : 0; }
  // Named files: how many, how many announced as complete, the current name.
  void fill_file_stats(TransferStats& s) const;

private:
  struct FileProgress {
    uint64_t first_seq = 0, chunks = 0, bytes = 0;
    bool read_done = false;
    std::optional<Digester> digester; // from the file's opening to its FILE_END
  };
  bool open_next_item();
  void on_read(ReadResult r);
  void end_of_item();
  void hash(SendChunk* c);
  std::optional<int> compression_level(const SendChunk& c, bool probing);
  codec::LevelControl::Observation observation() const;
  void on_hashed(SendChunk* c);
  bool history_has_room() const;
  bool ahead_of_unmeasured_link() const;
  // Releases c's raw bytes once nothing needs them; drops acknowledged
  // chunks from the front.
  void release_unused(SendChunk& c);
  void pop_acknowledged();
  void end_files();
  void on_resume_decided(uint32_t index, uint64_t offset, ResumeVerdict verdict);
  void fail(Error e, transport::AppError code) {
    events_.fail(transport::Abort{std::move(e), code});
  }

  SendOptions opts_;
  std::vector<SendItem> items_;
  bool named_; // files with names, or one anonymous stream
  const Logger& log_;
  Events events_;
  uvx::WorkQueue work_;
  ChunkMemory memory_;

  std::vector<FileProgress> files_;
  size_t next_item_ = 0, cur_item_ = 0, ended_files_ = 0;
  uint32_t files_announced_ = 0; // FILE_END queued
  std::unique_ptr<ByteSource> source_;
  ResumeAsk resume_;

  std::deque<std::unique_ptr<SendChunk>> chunks_;
  std::unique_ptr<SendChunk> reading_chunk_;
  bool reading_ = false, eof_ = false, stopped_ = false, connected_ = false;
  std::function<void()> drained_;
  std::optional<codec::LevelControl> levels_; // with -z
  // With uses_history(): the last bytes read, wire::kHistory and room for
  // kHistoryAhead chunks more, which chunks are compressed against.
  std::optional<MirrorRing> history_;
  uint64_t history_item_start_ = 0; // where the current item's bytes begin in it
  uint64_t history_valid_from_ = 0; // bytes before this were not all copied into it
  codec::LevelCounts level_counts_;
  int workers_;                // chunks the thread pool compresses at once
  int incompressible_run_ = 0; // chunks in a row that did not shrink
  bool any_hashed_ = false;    // a chunk came back from the workers
  bool random_start_ = true;   // all chunks so far looked random, and none shrank
  uint64_t next_seq_ = 0, digested_ = 0, bytes_read_ = 0, payload_wire_ = 0;
  uint64_t acked_wire_ = 0; // payload the listener acknowledged, as sent (compressed or raw)
  Digester digester_;
};

} // namespace qpipe::app
