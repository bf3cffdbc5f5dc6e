// Server-sent events (see event_stream.h).
#include "api/event_stream.h"

#include <algorithm>

namespace qpipe::api {

std::string sse_event(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += '\n';
  for (;;) {
    size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
  return out;
}

void EventHub::subscribe(uint64_t number, std::shared_ptr<BodyStream> stream) {
  if (stream && stream->open()) streams_[number].push_back(std::move(stream));
}

std::vector<uint64_t> EventHub::watched() const {
  std::vector<uint64_t> v;
  for (const auto& entry : streams_)
    v.push_back(entry.first);
  return v;
}

void EventHub::publish(uint64_t number, std::string_view name, std::string_view data) {
  auto it = streams_.find(number);
  if (it == streams_.end()) return;
  std::string event = sse_event(name, data);
  std::erase_if(it->second, [&](const std::shared_ptr<BodyStream>& s) { return !s->write(event); });
  if (it->second.empty()) streams_.erase(it);
}

void EventHub::finish(uint64_t number, std::string_view name, std::string_view data) {
  auto it = streams_.find(number);
  if (it == streams_.end()) return;
  auto streams = std::move(it->second);
  streams_.erase(it);
  std::string event = sse_event(name, data);
  for (auto& s : streams)
    if (s->write(event)) s->end();
}

void EventHub::end_all() {
  auto all = std::move(streams_);
  streams_.clear();
  for (auto& [n, streams] : all)
    for (auto& s : streams)
      s->end();
}

} // namespace qpipe::api
