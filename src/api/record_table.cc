// Bounded transfer records (see record_table.h).
#include "api/record_table.h"

#include <charconv>

namespace qpipe::api {

TransferRecord& RecordTable::add(std::string role) {
  uint64_t n = next_++;
  TransferRecord& r = records_[n];
  r.number = n;
  r.role = std::move(role);
  r.started = now_iso();
  return r;
}

TransferRecord* RecordTable::find(uint64_t number) {
  auto it = records_.find(number);
  return it == records_.end() ? nullptr : &it->second;
}

TransferRecord* RecordTable::find(std::string_view id) {
  if (id.size() < 2 || id[0] != 't') return nullptr;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  if (ec != std::errc() || end != id.data() + id.size()) return nullptr;
  return find(n);
}

void RecordTable::finished(uint64_t number, uint64_t now_ms) {
  if (!records_.count(number)) return;
  finished_.push_back(Finished{number, now_ms});
  while (finished_.size() > limits_.max_finished) {
    records_.erase(finished_.front().number);
    finished_.pop_front();
  }
}

bool RecordTable::remove(uint64_t number) {
  for (auto it = finished_.begin(); it != finished_.end(); ++it)
    if (it->number == number) {
      records_.erase(number);
      finished_.erase(it);
      return true;
    }
  return false;
}

void RecordTable::discard(uint64_t number) {
  for (const auto& f : finished_)
    if (f.number == number) return; // finished: remove() is the way
  records_.erase(number);
}

void RecordTable::expire(uint64_t now_ms) {
  while (!finished_.empty() && now_ms - finished_.front().at_ms >= limits_.ttl_ms) {
    records_.erase(finished_.front().number);
    finished_.pop_front();
  }
}

void RecordTable::for_each(const std::function<void(TransferRecord&)>& fn) {
  for (auto& [n, r] : records_)
    fn(r);
}

} // namespace qpipe::api
