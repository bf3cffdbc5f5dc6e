#!/usr/bin/env bash
# Through a lossy link (our own UDP relay: loss, duplication, corruption,
# jitter and reordering), data arrives identical and both ends exit 0;
# corrupted datagrams never corrupt the output; a lost first flight is sent
# again after 300 ms.
source "$(dirname "$0")/lib.sh"
: "${QPIPE_RELAY:?set QPIPE_RELAY to the qpipe-relay binary (ctest does)}"

through_relay() {
  local desc=$1 size=$2 impair=$3 sopts=${4:-}
  listener l "127.0.0.1:0 --idle-timeout 20" "| $QPIPE gen --check --seed 11 $size"
  "$QPIPE_RELAY" --to 127.0.0.1:"$PORT" $impair --port-file "$TMP/relay.port" --lifetime-s 280 \
    >/dev/null 2>"$TMP/relay.err" &
  local relay=$!
  wait_for "[ -s $TMP/relay.port ]" 10
  local rport
  rport=$(cat "$TMP/relay.port")
  bg s "$QPIPE gen --seed 11 $size | timeout 240 $QPIPE 127.0.0.1:$rport --idle-timeout 20 --stats $sopts"
  local src rc
  src=$(wait_rc s 250); rc=$(wait_rc l 250)
  kill -INT $relay 2>/dev/null; wait $relay 2>/dev/null
  rm -f "$TMP/relay.port"
  if [ "$src$rc" = 00 ]; then ok "$desc"; else
    not_ok "$desc (sender $src, listener+check $rc)" "$TMP/s.err" "$TMP/l.err" "$TMP/relay.err"; fi
}

through_relay "64 MiB, 3% loss, 1% dup, 0.5% corruption, jitter" 64M \
  "--loss 0.03 --dup 0.01 --corrupt 0.005 --delay-ms 1 --jitter-ms 2 --seed 3"
through_relay "16 MiB, reordering and 10% loss, -P 32 --chunk-size 64K" 16M \
  "--loss 0.10 --reorder 0.05 --jitter-ms 3 --seed 5" "-P 32 --chunk-size 64K"
through_relay "8 MiB over a 20 MiB/s link with a small queue" 8M \
  "--rate 20000000 --queue-bytes 200000 --seed 7"

# The first datagram of each direction lost (the sender's Initial, then the
# listener's first answer): each end sends again after 300 ms, three times
# the initial RTT of 100 ms (RFC 9002's 333 ms would wait 1 s, as TCP does
# for a SYN). The sender's debug log stamps its packets in ms since the
# connection began; its second Initial must go out before 600 ms.
through_relay "the first flight lost each way: sent again after 300 ms" 1M \
  "--drop-first 1 --seed 9" "-vv"
check "the first flight lost: the sender's second Initial within 600 ms" bash -c "
  t=\$(grep -m1 'pkt tx pkn=1 .*type=Initial' $TMP/s.err | sed -n 's/^I\([0-9]*\) .*/\1/p')
  [ -n \"\$t\" ] && [ \$((10#\$t)) -ge 250 ] && [ \$((10#\$t)) -lt 600 ]"

finish
