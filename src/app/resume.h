// --resume, both halves of its three-step exchange (wire::Resume, one file at
// a time): the sender asks what the listener kept of a file (offset all
// ones); the listener answers with the length of the part it kept and its
// XXH3-128 (or 0); the sender compares that with its own prefix and says
// where it starts (that length, or 0 when its prefix differs). The sender
// reads nothing of the file, and the listener writes nothing of it, before
// the third step. Digests of prefixes are computed on the thread pool.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pipeline/wire.h"
#include "transport/connection.h"
#include "uv/partial_file.h"
#include "uv/work.h"

namespace qpipe::app {

using PrefixDigest = std::function<Result<std::array<uint8_t, 16>>(uint64_t n)>;

enum class ResumeVerdict {
  nothing_kept, // the listener kept nothing usable: send all of it
  same,         // the kept part is our prefix: send the rest
  differs,      // the kept part is not our prefix: send all of it
};

// The sender's half: one question at a time.
class ResumeAsk {
public:
  // Step 1, for file `index`.
  wire::Resume ask(uint32_t index);
  // From ask() until the decision: nothing of the file may be read.
  bool waiting() const { return awaiting_.has_value(); }
  // Step 2: the listener's offer for a file of `size` bytes. Compares it with
  // `own_prefix` on the thread pool, then calls `decided` on the loop with
  // the offset to start at (0: all of it) and the verdict; the caller sends
  // that offset back (step 3) with the message decision() returns. An offer
  // that answers no question is a protocol error.
  transport::Outcome
  on_offer(uvx::WorkQueue& work, const wire::Resume& offer, uint64_t size, PrefixDigest own_prefix,
           std::function<void(uint32_t index, uint64_t offset, ResumeVerdict)> decided);
  // Step 3's message, and the end of this question.
  wire::Resume decision(uint32_t index, uint64_t offset);

private:
  std::optional<uint32_t> awaiting_;
  bool checking_ = false;
};

// The listener's half, for one file.
class ResumeOffer {
public:
  // A RESUME message about this file. Step 1 makes `answer` run (on the loop)
  // with the offer for what `partial` holds (null: nothing kept), which the
  // caller has claimed and holds until the file is done, so that the bytes
  // offered are the bytes the rest is appended to; step 3 records where the
  // sender starts. Anything else is a protocol error.
  transport::Outcome on_message(uvx::WorkQueue& work, const wire::Resume& msg,
                                const std::shared_ptr<uvx::PartialFile>& partial,
                                std::function<void(const wire::Resume&)> answer);
  // The sender asked, and has not decided yet: write nothing of the file.
  bool pending() const { return step_ == Step::asked; }
  bool decided() const { return step_ == Step::decided; }
  uint64_t start() const { return start_; }

private:
  enum class Step { none, asked, decided };
  Step step_ = Step::none;
  uint64_t offered_ = 0, start_ = 0;
};

} // namespace qpipe::app
