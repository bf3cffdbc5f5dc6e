// The records of `qpipe api`, bounded in number and in age.
//
// Live transfers are bounded elsewhere (--max-sends, --max-listeners); the
// finished ones are kept here up to a count and an age (--max-records,
// --record-ttl), oldest first out, and a DELETE drops one at once. Records
// are listed in the order they were started. Time is passed in (monotonic
// milliseconds), so the table is pure and its tests need no clock.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/transfer_record.h"

namespace qpipe::api {

struct RecordLimits {
  size_t max_finished = 1000;  // --max-records
  uint64_t ttl_ms = 3'600'000; // --record-ttl
};

class RecordTable {
public:
  explicit RecordTable(RecordLimits limits) : limits_(limits) {}

  // A new live record with the next id.
  TransferRecord& add(std::string role);
  TransferRecord* find(uint64_t number);
  // By id ("t7"); null for an unknown or malformed id.
  TransferRecord* find(std::string_view id);
  // The record is over: it joins the finished ones, and the oldest beyond
  // the cap go (this one too, when the cap is 0).
  void finished(uint64_t number, uint64_t now_ms);
  // Drops a finished record; false when there is none of that number or it
  // is still live.
  bool remove(uint64_t number);
  // Forgets a live record whose transfer could not start at all.
  void discard(uint64_t number);
  // Drops the finished records older than the age limit.
  void expire(uint64_t now_ms);
  // In the order started.
  void for_each(const std::function<void(TransferRecord&)>& fn);
  size_t size() const { return records_.size(); }
  size_t finished_count() const { return finished_.size(); }

private:
  struct Finished {
    uint64_t number;
    uint64_t at_ms;
  };
  RecordLimits limits_;
  std::map<uint64_t, TransferRecord> records_;
  std::list<Finished> finished_; // oldest first
  uint64_t next_ = 1;
};

} // namespace qpipe::api
