// Server-sent events for GET /v1/transfers/{id}/events.
//
// sse_event() is the wire format (text/event-stream: "event:" and "data:"
// lines, a blank line after each event). EventHub keeps the open streams of
// each transfer and writes to them: the service publishes a progress event
// about four times a second while anyone listens, and a last "end" event with
// the final state, after which the streams end (the connections close).
// Streams whose client went away are dropped as they are found.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"

namespace qpipe::api {

// One event: "event: NAME", a "data: " line per line of data, a blank line.
std::string sse_event(std::string_view name, std::string_view data);

class EventHub {
public:
  void subscribe(uint64_t number, std::shared_ptr<BodyStream> stream);
  bool empty() const { return streams_.empty(); }
  // The transfers that someone listens to.
  std::vector<uint64_t> watched() const;
  // Sends the event to every open stream of the transfer.
  void publish(uint64_t number, std::string_view name, std::string_view data);
  // Sends the event, then ends every stream of the transfer.
  void finish(uint64_t number, std::string_view name, std::string_view data);
  // Ends every stream (the service stops).
  void end_all();

private:
  std::map<uint64_t, std::vector<std::shared_ptr<BodyStream>>> streams_;
};

} // namespace qpipe::api
