// A transfer's statistics as JSON, the same for the CLI's --stats=json and
// for the transfers that `qpipe api` reports.
//
// The members, in this order: bytes, wire_bytes, seconds, rate (bytes per
// second), ratio (bytes per wire byte), rtt_ms, lost_packets, chunks,
// payload_wire_bytes, window (the largest flow-control credit: what the
// listener granted, what the sender saw), cwnd (the largest congestion
// window of this side), udp_payload, path_changes (times the connection moved
// to another address pair: a NAT rebinding, a migration), gso, gro, peer. A member without a
// measurement is absent: rtt_ms before the first RTT sample (a connection
// that was refused), lost_packets while the peer has not said how many
// datagrams it received, window before a chunk's credit was granted. Fractions are rounded to what
// they can mean: seconds and rtt_ms to the microsecond, ratio to four places, rate to a whole byte
// per second.
#pragma once

#include <nlohmann/json.hpp>

#include "app/transfer.h"

namespace qpipe::frontend {

// An ordered object, so that the CLI prints the members in the order above.
nlohmann::ordered_json to_json(const app::TransferStats& stats);

} // namespace qpipe::frontend
