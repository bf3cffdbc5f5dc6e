#include "app/resume.h"

namespace qpipe::app {

using Digest16 = std::array<uint8_t, 16>;

wire::Resume ResumeAsk::ask(uint32_t index) {
  awaiting_ = index;
  return wire::Resume{index, UINT64_MAX, {}};
}

transport::Outcome
ResumeAsk::on_offer(uvx::WorkQueue& work, const wire::Resume& offer, uint64_t size,
                    PrefixDigest own_prefix,
                    std::function<void(uint32_t index, uint64_t offset, ResumeVerdict)> decided) {
  if (!awaiting_ || offer.index != *awaiting_ || checking_)
    return transport::protocol_abort("unexpected RESUME");
  uint32_t index = offer.index;
  if (offer.offset == 0 || offer.offset == UINT64_MAX || offer.offset > size) {
    decided(index, 0, ResumeVerdict::nothing_kept);
    return {};
  }
  checking_ = true;
  uint64_t n = offer.offset;
  int rv = work.run<Result<Digest16>>(
      [own_prefix, n] { return own_prefix(n); },
      [this, offer, decided](Result<Digest16> own) {
        checking_ = false;
        bool same = own.ok() && std::equal(offer.digest.begin(), offer.digest.end(), own->begin());
        decided(offer.index, same ? offer.offset : 0,
                same ? ResumeVerdict::same : ResumeVerdict::differs);
      });
  if (rv != 0) {
    checking_ = false;
    return transport::Abort{uv_error(Errc::local_io, "thread pool", rv),
                            transport::AppError::internal};
  }
  return {};
}

wire::Resume ResumeAsk::decision(uint32_t index, uint64_t offset) {
  awaiting_.reset();
  return wire::Resume{index, offset, {}};
}

transport::Outcome ResumeOffer::on_message(uvx::WorkQueue& work, const wire::Resume& msg,
                                           const std::shared_ptr<uvx::PartialFile>& partial,
                                           std::function<void(const wire::Resume&)> answer) {
  switch (step_) {
  case Step::decided:
    return transport::protocol_abort("unexpected RESUME");
  case Step::asked:
    if (msg.offset != 0 && msg.offset != offered_)
      return transport::protocol_abort("RESUME at an offset not offered");
    step_ = Step::decided;
    start_ = msg.offset;
    return {};
  case Step::none:
    break;
  }
  if (msg.offset != UINT64_MAX) return transport::protocol_abort("unexpected RESUME");
  step_ = Step::asked;
  uint32_t index = msg.index;
  uint64_t size = partial ? partial->size() : 0;
  if (size == 0) {
    answer(wire::Resume{index, 0, {}});
    return {};
  }
  int rv = work.run<Result<Digest16>>([partial, size] { return partial->digest_prefix(size); },
                                      [this, index, size, answer](Result<Digest16> kept) {
                                        wire::Resume r{index, 0, {}};
                                        if (kept.ok()) {
                                          r.offset = size;
                                          std::copy(kept->begin(), kept->end(), r.digest.begin());
                                          offered_ = size;
                                        }
                                        answer(r);
                                      });
  if (rv != 0) answer(wire::Resume{index, 0, {}});
  return {};
}

} // namespace qpipe::app
