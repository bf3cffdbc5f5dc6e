#include "app/send_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/units.h"
#include "pipeline/codec.h"

namespace qpipe::app {

using transport::AppError;

namespace {

// After this many chunks in a row that did not shrink, only every
// kProbeEvery-th chunk is tried, so that incompressible input costs almost
// nothing with -z. The period is odd: input that alternates compressible and
// incompressible chunks (tar of mixed files, gen --kind mixed) must not have
// every probe land on the incompressible ones.
constexpr int kIncompressibleRun = 4;
constexpr uint64_t kProbeEvery = 17;
// A probe compresses this much of the chunk first, and the rest only when
// that shrank: random data with -z then costs 1-2% instead of 8% on loopback.
constexpr size_t kProbeSample = 64 * 1024;
// Chunks read ahead of the oldest one still being compressed, which the
// history ring has room for beside the wire::kHistory bytes before it: the
// workers' and one or two more.
constexpr uint64_t kHistoryAhead = 4;

bool uses_history(const SendOptions& opts) {
  return opts.zstd && opts.chunk_size <= wire::kHistoryChunkMost;
}
uint64_t history_size(const SendOptions& opts) {
  return uses_history(opts) ? wire::kHistory + kHistoryAhead * opts.chunk_size : 0;
}

// How many chunks libuv's thread pool works on at once: its threads
// (UV_THREADPOOL_SIZE, 4 by default), but no more than there are cores.
int pool_workers() {
  int threads = 4;
  if (const char* env = std::getenv("UV_THREADPOOL_SIZE"); env && std::atoi(env) > 0)
    threads = std::atoi(env);
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores > 0 ? std::min(threads, cores) : threads);
}

} // namespace

SendPipeline::SendPipeline(uv_loop_t* loop, const SendOptions& opts, std::vector<SendItem> items,
                           bool named, const Logger& log, Events events)
    : opts_(opts), items_(std::move(items)), named_(named), log_(log), events_(std::move(events)),
      work_(loop),
      memory_(opts.chunk_size, opts.streams, opts.zstd.has_value(), history_size(opts)),
      workers_(pool_workers()) {
  files_.resize(items_.size());
  if (opts_.zstd) {
    // Without the history, level 4 is no slower a step than the others.
    codec::LevelControl::Tuning tuning;
    if (!app::uses_history(opts_)) tuning.slower_into_long = 1;
    levels_.emplace(*opts_.zstd, tuning);
  }
}

std::optional<uint64_t> SendPipeline::total_size() const {
  uint64_t sum = 0;
  for (const auto& it : items_) {
    if (!it.meta.size) return std::nullopt;
    sum += *it.meta.size;
  }
  return sum;
}

void SendPipeline::fill_file_stats(TransferStats& s) const {
  if (!named_) return;
  s.files_total = static_cast<uint32_t>(items_.size());
  s.files_done = files_announced_;
  if (cur_item_ < items_.size()) s.file = items_[cur_item_].meta.name;
}

// Opens the next item; false when there is none left (or on failure).
bool SendPipeline::open_next_item() {
  if (next_item_ >= items_.size()) return false;
  cur_item_ = next_item_++;
  auto src = items_[cur_item_].open();
  if (!src) {
    fail(src.error(), AppError::input_failed);
    return false;
  }
  source_ = std::move(*src);
  files_[cur_item_].first_seq = next_seq_;
  files_[cur_item_].digester.emplace();
  if (history_) history_item_start_ = history_->head();
  if (!named_) return true;
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
  events_.control(msg);
  // --resume: ask what the listener kept; read nothing of this file until it answers.
  if (opts_.resume && items_[cur_item_].prefix_digest)
    events_.control(resume_.ask(static_cast<uint32_t>(cur_item_)));
  return true;
}

bool SendPipeline::uses_history() const {
  return app::uses_history(opts_);
}

// Whether the history ring has room for one more chunk: the last
// wire::kHistory bytes stay, and so do the bytes and the prefix of each
// chunk still being compressed (from the ring: see hash()).
bool SendPipeline::history_has_room() const {
  uint64_t head = history_->head();
  uint64_t keep = head - std::min<uint64_t>(head, wire::kHistory);
  for (const auto& ch : chunks_)
    if (!ch->hashed && ch->packed && !ch->outside_history)
      keep = std::min(keep, ch->at - ch->prefix_len);
  return head + opts_.chunk_size - keep <= history_->size();
}

// Until the connection's rate is first measured (a window after the first
// acknowledgement), -z (auto) reads only as many chunks ahead of the
// connection as the workers compress at once and two more: those are
// compressed at the first level, before the controller knows whether the
// link or the workers are the limit, and on a slow link they would be a
// good part of a short transfer.
bool SendPipeline::ahead_of_unmeasured_link() const {
  if (!levels_ || levels_->range().fixed() || levels_->link_rate() > 0) return false;
  int unsent = 0;
  for (const auto& ch : chunks_)
    unsent += !ch->fin_sent;
  return unsent >= workers_ + 2;
}

void SendPipeline::read_next() {
  if (reading_ || eof_ || stopped_ || !memory_.has_room()) return;
  if (uses_history() && !history_) {
    auto ring = MirrorRing::create(history_size(opts_));
    if (!ring) return fail(ring.error(), AppError::internal);
    history_ = std::move(*ring);
  }
  if (history_ && !history_has_room()) return; // until a chunk is compressed
  // (Not at the end of the input: END need not wait for an acknowledgement.)
  if (ahead_of_unmeasured_link() && (source_ || next_item_ < items_.size()))
    return; // until a chunk is acknowledged
  if (!source_ && next_item_ < items_.size() && next_item_ - ended_files_ >= kFilesAhead) return;
  if (!source_ && !open_next_item()) {
    eof_ = true;
    events_.progressed();
    return;
  }
  if (resume_.waiting()) return;
  reading_ = true;
  reading_chunk_ = std::make_unique<SendChunk>();
  SendChunk* c = reading_chunk_.get();
  memory_.take_raw(*c);
  source_->read({c->data.get(), c->capacity}, [this](ReadResult r) { on_read(r); });
}

void SendPipeline::on_read(ReadResult r) {
  reading_ = false;
  auto chunk = std::move(reading_chunk_);
  if (stopped_) {
    if (idle() && drained_) drained_();
    return;
  }
  if (r.error != 0) {
    memory_.release_raw(*chunk);
    return fail(uv_error(Errc::local_io, source_->name(), r.error), AppError::input_failed);
  }
  if (r.bytes == 0) {
    memory_.release_raw(*chunk);
    if (r.eof) end_of_item();
    events_.progressed();
    read_next();
    return;
  }
  // A short read from a pipe: keep only what arrived.
  if (r.bytes < chunk->capacity / 4) memory_.shrink_raw(*chunk, r.bytes);
  chunk->len = static_cast<uint32_t>(r.bytes);
  if (history_) {
    // Input that does not compress lately is not copied, nor ever part of
    // a prefix; its header tells the listener not to keep it either. Nor
    // is input that looked random from its first chunk on, until a chunk
    // does not or one shrinks: copying the first chunks of random input
    // into the fresh ring, here and at the listener, cost more time than
    // -z may (each of its pages is a page fault). (Only from the start: a
    // chunk left out cuts the prefix of the ones after it.)
    chunk->at = history_->head();
    // (Not judged again while the run keeps chunks out anyway: with small
    // chunks the count would be a good part of the loop's time.)
    if (random_start_ && incompressible_run_ < kIncompressibleRun)
      random_start_ = codec::looks_incompressible({chunk->data.get(), r.bytes});
    chunk->outside_history = incompressible_run_ >= kIncompressibleRun || random_start_;
    if (chunk->outside_history)
      history_valid_from_ = chunk->at + r.bytes;
    else
      std::memcpy(history_->at(chunk->at), chunk->data.get(), r.bytes);
    history_->advance(r.bytes);
  }
  chunk->seq = next_seq_++;
  chunk->file = static_cast<uint32_t>(cur_item_);
  files_[cur_item_].chunks++;
  files_[cur_item_].bytes += r.bytes;
  bytes_read_ += r.bytes;
  SendChunk* c = chunk.get();
  chunks_.push_back(std::move(chunk));
  hash(c);
  if (stopped_) return;
  if (r.eof) end_of_item();
  read_next();
}

// The level to compress c at, or nullopt to send it raw without trying.
// Data that did not compress lately is tried again only now and then, at
// a fast level; otherwise the level controller sees the queues as they are
// and picks the level.
std::optional<int> SendPipeline::compression_level(const SendChunk& c, bool probing) {
  if (!levels_) return std::nullopt;
  if (probing) {
    if (c.seq % kProbeEvery != 0) return std::nullopt;
    return std::min(levels_->level(), std::max(levels_->range().min, codec::LevelRange::kStart));
  }
  // (Not while reads are held back for the link's first measurement: the
  // queues would show workers the connection waits for.)
  if (connected_ && levels_->link_rate() > 0) levels_->observe(transport::now_ns(), observation());
  return levels_->level();
}

// What the queues look like: chunks go out in sequence order, so those
// behind one still being compressed wait for the compressor, not for the
// connection.
codec::LevelControl::Observation SendPipeline::observation() const {
  codec::LevelControl::Observation o;
  for (const auto& ch : chunks_) {
    if (!ch->hashed) break;
    o.waiting += !ch->fin_sent;
    o.waiting_compressed += !ch->fin_sent && wire::compressed(ch->codec);
  }
  o.busy = work_.pending();
  o.workers = workers_;
  return o;
}

// Hashes (and compresses) a chunk on the thread pool; its buffers stay put
// while the work runs (stop() waits for it before anything is freed).
void SendPipeline::hash(SendChunk* c) {
  int level = 0;
  const bool probing = incompressible_run_ >= kIncompressibleRun;
  if (auto l = compression_level(*c, probing)) {
    memory_.take_packed(*c);
    level = c->level = *l;
    // Before any chunk came back from the workers, and after one that did
    // not shrink, the sample first: a whole 2 MiB chunk of random data is
    // 5 ms of a core at level 3, twice that against a prefix.
    c->probed = probing || incompressible_run_ > 0 || !any_hashed_;
  }
  // The bytes of the same item before it are the prefix of its frame (not
  // of a periodic probe's: a probe stays cheap). From LevelRange::kLong
  // to below LevelRange::kTree, up to wire::kHistory of them, searched with
  // the long-distance matcher; at other levels as many as a chunk (the cost
  // of a prefix grows with its length, steeply at the binary-tree levels).
  // Never more than four times the chunk: a short read from a slow pipe is
  // not compressed against megabytes.
  std::span<const uint8_t> against;
  std::span<const uint8_t> src{c->data.get(), c->len};
  bool long_matching = false;
  // (A periodic probe is outside the history: it was read in the same run.)
  if (c->packed && history_ && !c->outside_history) {
    long_matching = level >= codec::LevelRange::kLong && level < codec::LevelRange::kTree;
    uint64_t most =
        std::min<uint64_t>(long_matching ? wire::kHistory : opts_.chunk_size, 4ull * c->len);
    uint64_t from = std::min(
        c->at, std::max({history_item_start_, history_valid_from_, c->at - std::min(c->at, most)}));
    // The chunk is compressed from its copy in the ring, right after its
    // prefix in one span: zstd then sees one window, not a dictionary apart
    // from the input (at level 3: frames 1.2% smaller, 8% faster).
    auto window = history_->view(from, c->at + c->len);
    against = window.first(c->at - from);
    src = window.subspan(c->at - from);
    c->prefix_len = static_cast<uint32_t>(against.size());
  }
  int rv = work_.run(
      [c, level, src, against, long_matching] {
        auto start = std::chrono::steady_clock::now();
        c->hash = hash_bytes({c->data.get(), c->len});
        if (c->packed)
          c->wire_len = static_cast<uint32_t>(codec::compress_sampled(
              codec::worker_cctx(), level, src, {c->packed.get(), c->packed_capacity},
              c->probed ? kProbeSample : c->len, against, long_matching));
        c->work_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
      },
      [this, c] { on_hashed(c); });
  if (rv != 0) fail(uv_error(Errc::local_io, "thread pool", rv), AppError::internal);
}

void SendPipeline::release_unused(SendChunk& c) {
  if (c.raw_done) memory_.release_raw(c);
}

void SendPipeline::pop_acknowledged() {
  // Chunks leave in any order; the deque keeps sequence order, so drop
  // finished ones from the front (not while their raw bytes are in use).
  while (!chunks_.empty() && chunks_.front()->acked && !chunks_.front()->data)
    chunks_.pop_front();
}

void SendPipeline::end_of_item() {
  files_[cur_item_].read_done = true;
  source_.reset(); // no read is outstanding: this was its completion
  end_files();
}

void SendPipeline::on_hashed(SendChunk* c) {
  c->hashed = true;
  any_hashed_ = true;
  if (c->packed && c->wire_len > 0) {
    c->codec = c->prefix_len > 0 ? wire::Codec::zstd_prefixed : wire::Codec::zstd;
    c->raw_done = true; // the frame is what travels now
    release_unused(*c);
    incompressible_run_ = 0;
    random_start_ = false;
    ++level_counts_[c->level];
    if (levels_) levels_->compressed(c->level, c->len, c->wire_len, c->work_ns);
  } else {
    // A probe that stopped at its sample says nothing of the level's speed.
    if (c->packed && levels_ && !c->probed) levels_->compressed(c->level, c->len, 0, c->work_ns);
    if (c->packed) ++incompressible_run_;
    memory_.release_packed(*c);
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
  h.outside_history = c->outside_history;
  apply_test_hook(opts_.test_hooks, h);
  wire::encode(h, c->header);
  // Fold hashes into the stream digest in sequence order.
  while (!chunks_.empty()) {
    uint64_t base = chunks_.front()->seq;
    if (digested_ < base || digested_ - base >= chunks_.size()) break;
    SendChunk& next = *chunks_[digested_ - base];
    if (!next.hashed) break;
    digester_.add_chunk(next.hash, next.len);
    files_[next.file].digester->add_chunk(next.hash, next.len);
    ++digested_;
  }
  end_files();
  events_.progressed();
  read_next(); // a file that ended may let the next one open
}

// A file whose chunks are all read and folded into its digest ends.
void SendPipeline::end_files() {
  while (ended_files_ < files_.size()) {
    auto& f = files_[ended_files_];
    if (!f.read_done || digested_ < f.first_seq + f.chunks) return;
    if (named_) {
      wire::FileEnd fe;
      fe.index = static_cast<uint32_t>(ended_files_);
      fe.chunks = f.chunks;
      fe.bytes = f.bytes;
      fe.digest = f.digester->digest();
      events_.control(fe);
      ++files_announced_;
    }
    f.digester.reset();
    ++ended_files_;
  }
}

void SendPipeline::acknowledged(SendChunk& c) {
  c.raw_done = true;
  release_unused(c);
  memory_.release_packed(c);
  c.acked = true;
  acked_wire_ += c.wire_len;
  if (levels_ && connected_) {
    uint64_t now = transport::now_ns();
    levels_->delivered(now, acked_wire_);
    if (levels_->link_rate() > 0) levels_->observe(now, observation());
  }
  pop_acknowledged();
  read_next();
}

bool SendPipeline::input_complete() const {
  if (!eof_ || reading_ || digested_ != next_seq_) return false;
  return !named_ || files_announced_ == items_.size();
}

wire::End SendPipeline::end_message() const {
  wire::End end;
  end.chunks = next_seq_;
  end.bytes = bytes_read_;
  end.digest = digester_.digest();
  return end;
}

transport::Outcome SendPipeline::on_resume_offer(const wire::Resume& offer) {
  if (offer.index >= items_.size()) return transport::protocol_abort("unexpected RESUME");
  const auto& item = items_[offer.index];
  return resume_.on_offer(work_, offer, item.meta.size.value_or(0), item.prefix_digest,
                          [this](uint32_t index, uint64_t offset, ResumeVerdict verdict) {
                            on_resume_decided(index, offset, verdict);
                          });
}

void SendPipeline::on_resume_decided(uint32_t index, uint64_t offset, ResumeVerdict verdict) {
  const std::string& name = items_[index].meta.name;
  if (verdict == ResumeVerdict::same) {
    if (auto st = source_->skip(offset); !st) return fail(st.error(), AppError::input_failed);
    log_.info(
        strprintf("resuming %s: %s already there", name.c_str(), format_bytes(offset).c_str()));
  } else if (verdict == ResumeVerdict::differs) {
    log_.info("the part of " + name + " kept by the listener differs; sending all of it");
  }
  events_.control(resume_.decision(index, offset));
  read_next();
}

void SendPipeline::stop(std::function<void()> drained) {
  if (stopped_) return;
  stopped_ = true;
  drained_ = std::move(drained);
  if (source_) source_->cancel();
  work_.stop([this] {
    if (idle() && drained_) drained_();
  });
}

} // namespace qpipe::app
