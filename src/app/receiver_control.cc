// The Receiver's control stream: one handler per message type, each
// returning the Abort (with its application error code) that ends the
// connection when the message cannot be taken.
#include "app/receiver.h"

#include <xxhash.h>

#include "core/printable.h"
#include "core/units.h"
#include "pipeline/file_name.h"
#include "tls/secret.h"

namespace qpipe::app {

using transport::Abort;
using transport::AppError;
using transport::Outcome;
using transport::protocol_abort;

namespace {
Abort output_refused(const std::string& peer, std::string why) {
  return Abort{make_error(Errc::transfer, peer, std::move(why)), AppError::output_failed};
}
} // namespace

Outcome Receiver::on_control(std::span<const uint8_t> data) {
  if (auto st = control_in_.feed(data); !st) return Abort{st.error(), AppError::protocol};
  while (auto m = control_in_.next()) {
    if (auto o = std::visit([this](const auto& msg) { return on_message(msg); }, *m); !o) return o;
    if (finished()) break;
  }
  return {};
}

Outcome Receiver::on_message(const wire::Auth& m) {
  if (phase_ > Phase::connected) return protocol_abort("unexpected AUTH");
  if (opts_.secret) {
    auto expected = tls::secret_proof(conn_->ssl(), *opts_.secret);
    if (!expected) return Abort{expected.error(), AppError::internal};
    if (!tls::constant_time_equal(m.proof, *expected))
      return Abort{make_error(Errc::refused, peer_, "refused a sender: wrong secret"),
                   AppError::refused};
  }
  phase_ = Phase::authenticated;
  return {};
}

Outcome Receiver::on_message(const wire::Hello& m) {
  if (hello_) return protocol_abort("second HELLO");
  if (opts_.secret && phase_ != Phase::authenticated)
    return Abort{
        make_error(Errc::refused, peer_, "refused a sender that did not prove the shared secret"),
        AppError::refused};
  if (m.version != wire::kVersion)
    return protocol_abort(strprintf("sender speaks protocol version %u, this listener %u",
                                    m.version, wire::kVersion));
  if (m.chunk_size < kMinChunkSize || m.chunk_size > kMaxChunkSize || m.streams == 0 ||
      m.streams > kMaxStreams)
    return protocol_abort("HELLO with out-of-range parameters");
  hello_ = m;
  if (auto st = host_.begin_transfer(*this); !st) return Abort{st.error(), AppError::busy};
  if (auto o = accept_hello(m); !o) return o;
  phase_ = Phase::receiving;
  start_ns_ = transport::now_ns();
  process_ready();
  try_write();
  return {};
}

// Refuses what the output cannot take before a byte is written; opens the
// sink of a stream and sizes the windows for the announced chunk size.
Outcome Receiver::accept_hello(const wire::Hello& h) {
  if (h.files > 1 && !opts_.output_is_directory)
    return output_refused(peer_, strprintf("refused %u files: several files need a directory on "
                                           "the listener (qpipe -l -o DIR)",
                                           h.files));
  if (h.files == 0 && opts_.output_is_directory)
    return output_refused(peer_, "refused a stream: -o names a directory, which takes named "
                                 "files (send a stream to stdout or -o FILE)");
  if ((h.flags & wire::kHelloHistory) && h.chunk_size > wire::kHistoryChunkMost)
    return protocol_abort(strprintf("HELLO: chunks compressed against the bytes before them are "
                                    "%u bytes, more than %u",
                                    h.chunk_size, wire::kHistoryChunkMost));
  if (h.files == 0) {
    auto sink = host_.make_sink(nullptr);
    if (!sink) return Abort{sink.error(), AppError::output_failed};
    sink_ = std::move(*sink);
  }
  // The transfer's part of the listener's memory: chunk streams and credit
  // come with it, now or when other transfers give some back.
  // (The sender has at most min(its streams, --max-streams) chunks in flight.)
  memory_.emplace(host_.memory(), h.chunk_size,
                  std::min<uint32_t>(h.streams, static_cast<uint32_t>(opts_.max_streams)),
                  (h.flags & wire::kHelloHistory) != 0);
  if (memory_->join([this] { on_memory_granted(false); }))
    on_memory_granted(true);
  else
    log_.verbose(strprintf("the transfer from %s waits for memory (%s in use by %zu others)",
                           peer_.c_str(), format_bytes(host_.memory().used()).c_str(),
                           host_.memory().members()));
  return {};
}

Outcome Receiver::on_message(const wire::File& m) {
  if (!hello_ || m.index != cur_file_ + files_.size() || m.index >= hello_->files ||
      m.first_seq < last_first_seq_)
    return protocol_abort("unexpected FILE");
  // In every mode: the name reaches messages and the progress line even when
  // it names no path here.
  if (auto st = validate_file_name(m.name); !st) return Abort{st.error(), AppError::protocol};
  // A second file of the same name would replace the first one.
  if (!names_seen_.insert(XXH3_64bits_withSeed(m.name.data(), m.name.size(), name_seed_)).second)
    return protocol_abort("two files named " + printable(m.name) +
                          " in one transfer (the second would replace the first)");
  last_first_seq_ = m.first_seq;
  FileState& f = files_.emplace_back();
  // Its stream credit comes back when the file is committed (see receiver.h).
  f.control_bytes = wire::encode(m).size();
  control_credit_due_ -= static_cast<int64_t>(f.control_bytes);
  f.meta.name = m.name;
  f.meta.mode = m.mode;
  f.meta.mtime_sec = m.mtime_sec;
  f.meta.mtime_nsec = m.mtime_nsec;
  if (m.size != UINT64_MAX) f.meta.size = m.size;
  f.first_seq = m.first_seq;
  try_write();
  return {};
}

Outcome Receiver::on_message(const wire::Resume& m) {
  FileState* fp = file_state(m.index);
  if (!fp) return protocol_abort("unexpected RESUME");
  FileState& f = *fp;
  bool was_pending = f.resume.pending();
  // The question: the part is claimed now and held until the file is done,
  // so that no other transfer writes it and what is offered stays on disk.
  if (m.offset == UINT64_MAX && !was_pending && !f.resume.decided() && !f.meta.partial) {
    auto claimed = host_.claim_partial(f.meta);
    if (!claimed)
      return Abort{claimed.error(), claimed.error().code == Errc::transfer
                                        ? AppError::busy
                                        : AppError::output_failed};
    f.meta.partial = std::move(*claimed);
  }
  if (auto o = f.resume.on_message(work_, m, f.meta.partial,
                                   [this](const wire::Resume& offer) { send_control(offer); });
      !o)
    return o;
  if (was_pending && f.resume.decided()) {
    f.meta.start_offset = f.resume.start();
    if (f.meta.start_offset > 0)
      log_.info(strprintf("resuming %s at %s", f.meta.name.c_str(),
                          format_bytes(f.meta.start_offset).c_str()));
    try_write();
    maybe_finish();
  }
  return {};
}

Outcome Receiver::on_message(const wire::FileEnd& m) {
  FileState* f = file_state(m.index);
  if (!f || f->end) return protocol_abort("unexpected FILE_END");
  f->end = m;
  try_write();
  maybe_finish();
  return {};
}

Outcome Receiver::on_message(const wire::End& m) {
  if (!hello_ || end_) return protocol_abort("unexpected END");
  end_ = m;
  maybe_finish();
  return {};
}

Outcome Receiver::on_message(const wire::Done&) {
  return protocol_abort("unexpected control message");
}

void Receiver::send_control(const wire::Message& m) {
  control_out_.append(wire::encode(m));
  if (conn_ && !conn_->closed()) conn_->flush();
}

} // namespace qpipe::app
