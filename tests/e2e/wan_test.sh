#!/usr/bin/env bash
# Across an emulated long, lossy path (two network namespaces joined by
# qpipe-linkem: rate, queue, delay and random loss on TUN devices), data
# arrives identical and both ends exit 0, with qpipe's default options.
source "$(dirname "$0")/lib.sh"
: "${QPIPE_LINKEM:?set QPIPE_LINKEM to the qpipe-linkem binary (ctest does)}"
source "$(dirname "$0")/../tools/wan_link.sh"
if ! why=$(wan_can_run); then
  echo "SKIP: the WAN tests $why"
  exit 77
fi
NET=qpwan$$
trap 'wan_down $NET; cleanup' EXIT

# across DESC SIZE SENDER_OPTS LINKEM_ARGS...
across() {
  local desc=$1 size=$2 sopts=$3
  shift 3
  if ! wan_up "$NET" "$@"; then not_ok "$desc: link did not come up"; return; fi
  bg l "$WAN_B timeout 120 $QPIPE -l 10.78.0.2:0 --stats=json | $QPIPE gen --check --seed 5 $size"
  wait_for "grep -qs 'listening on' '$TMP/l.err'" 15
  local port
  port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$TMP/l.err" | head -n1)
  bg s "$QPIPE gen --seed 5 $size | $WAN_A timeout 110 $QPIPE 10.78.0.2:$port --stats=json $sopts"
  local src rc
  src=$(wait_rc s 130); rc=$(wait_rc l 130)
  wan_down "$NET"
  if [ "$src$rc" = 00 ]; then
    ok "$desc ($(grep -o '"seconds":[0-9.]*' "$TMP/s.err" | head -n1))"
  else
    not_ok "$desc (sender $src, listener+check $rc)" "$TMP/s.err" "$TMP/l.err"
  fi
}

across "32 MiB over 100 Mbit/s, 50 ms RTT, 1% loss each way" 32M "" \
  --rate 100m --delay 25 --loss 1 --seed 3
across "4 MiB over 20 Mbit/s, 200 ms RTT, 0.5% loss, jitter 1 ms (reordering)" 4M "" \
  --rate 20m --delay 100 --loss 0.5 --jitter 1 --seed 4
# Heavy random loss: every round loses packets and retransmissions are lost
# too (how fast is scripts/bench --wan's business; here: every byte, exit 0).
across "16 MiB over 100 Mbit/s, 50 ms RTT, 5% loss each way" 16M "" \
  --rate 100m --delay 25 --loss 5 --seed 8

# Pacing and packet size, from the sender's debug log (its lines start with
# the milliseconds since the connection began) and --stats=json. BBR's
# congestion window is twice the path's BDP while it paces the flow to one
# BDP in flight, so a sender that wrote all the window allowed whenever the
# pacer let it start threw bursts of up to a BDP into the bottleneck's
# queue: 580-1200 packets in one millisecond here (50 Mbit/s x 200 ms is
# about 850 packets), against 22-26 when each send quantum waits for its
# pacing slot. The path is IPv4 with MTU 1500: 1472 bytes of UDP payload
# (1452 is IPv6's).
across "16 MiB over 50 Mbit/s, 200 ms RTT, no loss (sender at -vv)" 16M "-vv" \
  --rate 50m --delay 100 --seed 9
burst=$(grep ' pkt tx ' "$TMP/s.err" | awk '{print $1}' | uniq -c | sort -rn | head -n1 | awk '{print $1}')
if [ -n "$burst" ] && [ "$burst" -le 300 ]; then
  ok "the sender paces: at most $burst packets in one millisecond (limit 300)"
else
  not_ok "the sender paces: at most ${burst:-no} packets in one millisecond (limit 300)" "$TMP/s.err"
fi
# BBR's startup ends when its RTT samples show the queue it builds
# (scripts/patches/ngtcp2-bbr-startup-queue.patch), not when the one-BDP
# queue overflows: counted are the packets the sender's log declares lost
# before BBR's first bandwidth probe (ProbeBW_REFILL, 2-3 s after the
# startup), which can overflow the queue itself and is not this check's
# business. 437-652 such losses on this path before the patch, 3-4 after
# in most runs. In about one run in six, 206-223: the first samples of the
# round in which the window passes the BDP saw no queue yet, so the signal
# (the round's smallest sample) comes one round later, when the queue is
# full. The limit sits between the two; the log line says the patch acted.
lost=$(awk '/cca bbr start ProbeBW_REFILL/ {exit} / lost type=/ {n++} END {print n + 0}' "$TMP/s.err")
if grep -q 'bbr startup saw a queue' "$TMP/s.err" && [ "$lost" -le 320 ]; then
  ok "the startup ends on the queue it builds, not on its overflow ($lost packets lost before the first probe, limit 320)"
else
  not_ok "the startup ends on the queue it builds, not on its overflow ($lost packets lost before the first probe, limit 320)" \
    "$TMP/s.err"
fi
udp=$(grep -o '"udp_payload":[0-9]*' "$TMP/s.err" | tail -n1 | cut -d: -f2)
check "PMTUD reaches 1472-byte datagrams on an IPv4 path with MTU 1500 (got ${udp:-none})" \
  test "${udp:-0}" -eq 1472

# A long fat path: 1 Gbit/s across 200 ms holds 25 MB (the BDP). With the
# defaults, the listener's credit window starts at 18 MiB (twice the 8 + 1
# chunks a sender starts with) and must grow past the BDP (up to 48 MiB) as
# the sender keeps more chunks in flight (up to 40 MiB); both ends report it
# in --stats=json. linkem sustains 1 Gbit/s here.
window_of() { grep -o '"window":[0-9]*' "$1" | tail -n1 | cut -d: -f2; }
across "128 MiB over 1 Gbit/s, 200 ms RTT" 128M "" --rate 1g --delay 100 --seed 6
bdp=25000000
lw=$(window_of "$TMP/l.err") sw=$(window_of "$TMP/s.err")
# Under AddressSanitizer the two ends are CPU-bound at a fraction of the
# link (25-28 MB/s on a 2-core machine): the window follows what they move
# per round trip, 19-36 MB in runs of one binary, so the BDP says nothing.
if sanitized; then
  echo "ok - the credit window outgrew the 25 MB BDP # SKIP under AddressSanitizer the transfer is CPU-bound (window $lw / $sw)"
elif [ "${lw:-0}" -gt $bdp ] && [ "${sw:-0}" -gt $bdp ]; then
  ok "the credit window outgrew the 25 MB BDP (listener granted $lw, sender saw $sw)"
else
  not_ok "the credit window outgrew the 25 MB BDP (listener granted ${lw:-none}, sender saw ${sw:-none})" \
    "$TMP/s.err" "$TMP/l.err"
fi

finish
