#!/usr/bin/env bash
# Transfers that survive the network changing under them (issue 18), over
# loopback through our relay (tests/tools/relay.cc) acting as a NAT:
# - it rebinds (a new upstream port) every 800 ms: the listener follows the
#   sender to each new port, and 256 MiB arrive identical;
# - stdin is silent for a while behind a mapping that expires after 3 s of
#   silence: with keep-alive inside the timeout the mapping is never lost;
#   with keep-alive outside it, the mapping is lost and the listener follows
#   the sender's next packets to the new port.
# The long variant of the quiet pipe (120 s of silence, 30 s mappings, as in
# the README) is the same test with QPIPE_QUIET_SILENCE_S=120
# QPIPE_QUIET_MAPPING_MS=30000 QPIPE_QUIET_SIZE=128M (run it with bash
# directly: it takes longer than ctest's 300 s limit allows for safety).
source "$(dirname "$0")/lib.sh"
: "${QPIPE_RELAY:?set QPIPE_RELAY to the qpipe-relay binary (ctest does)}"
SILENCE_S=${QPIPE_QUIET_SILENCE_S:-12}
MAPPING_MS=${QPIPE_QUIET_MAPPING_MS:-3000}
QUIET_SIZE=${QPIPE_QUIET_SIZE:-16M}
LIMIT_S=$((SILENCE_S + 250))

# relay_up RELAY_ARGS...: a relay to the listener on $PORT; sets RPORT, RELAY.
relay_up() {
  rm -f "$TMP/relay.port"
  "$QPIPE_RELAY" --to 127.0.0.1:"$PORT" --port-file "$TMP/relay.port" --lifetime-s "$LIMIT_S" \
    "$@" >/dev/null 2>"$TMP/relay.err" &
  RELAY=$!
  PIDS[relay]=$RELAY
  wait_for "[ -s $TMP/relay.port ]" 10
  RPORT=$(cat "$TMP/relay.port")
}
relay_down() { kill -INT "$RELAY" 2>/dev/null; wait "$RELAY" 2>/dev/null; }
relay_rebinds() { sed -n 's/.* rebinds=\([0-9]*\) dir=to-server/\1/p' "$TMP/relay.err"; }
# json_field FILE NAME: a number from the --stats=json line of FILE.
json_field() { grep -o "\"$2\":[0-9]*" "$1" | head -n1 | cut -d: -f2; }

# 1. NAT rebinding: a new upstream port every 800 ms. --limit keeps the
# transfer going for at least 4 s, so that it sees several rebinds.
listener l "127.0.0.1:0 -v --stats=json" "| $QPIPE gen --check --seed 21 256M"
relay_up --rebind-every-ms 800
bg s "$QPIPE gen --seed 21 256M | timeout 200 $QPIPE 127.0.0.1:$RPORT --limit 64M --stats=json"
src=$(wait_rc s 210); rc=$(wait_rc l 210)
relay_down
changes=$(json_field "$TMP/l.err" path_changes) rebinds=$(relay_rebinds)
if [ "$src$rc" = 00 ] && [ "${rebinds:-0}" -ge 3 ] && [ "${changes:-0}" -ge 3 ]; then
  ok "256 MiB identical through $rebinds NAT rebindings (listener: $changes path changes, $(grep -o '"seconds":[0-9.]*' "$TMP/s.err"))"
else
  not_ok "rebinding (sender $src, listener+check $rc, rebinds ${rebinds:-?}, path_changes ${changes:-?})" \
    "$TMP/s.err" "$TMP/l.err" "$TMP/relay.err"
fi
check "-v prints each path change with both addresses" \
  grep -q "path changed: now 127.0.0.1:$PORT <-> 127.0.0.1:[0-9]* (was " "$TMP/l.err"

# quiet DESC LISTENER_AND_SENDER_OPTS MAPPING_MS SILENCE: QUIET_SIZE, then
# SILENCE seconds of silent stdin, then QUIET_SIZE more, through a relay that forgets
# a mapping after MAPPING_MS without a datagram from the sender. Sets
# QUIET_OK, QUIET_REBINDS and QUIET_CHANGES.
quiet() {
  local desc=$1 opts=$2 mapping=$3 silence=$4
  listener l "127.0.0.1:0 --stats=json $opts" "| sha256sum > $TMP/got.sum"
  relay_up --mapping-timeout-ms "$mapping"
  bg s "{ $QPIPE gen --seed 31 $QUIET_SIZE; sleep $silence; $QPIPE gen --seed 32 $QUIET_SIZE; } |
        timeout $LIMIT_S $QPIPE 127.0.0.1:$RPORT --stats=json $opts"
  local src rc
  src=$(wait_rc s "$LIMIT_S"); rc=$(wait_rc l "$LIMIT_S")
  relay_down
  { $QPIPE gen --seed 31 "$QUIET_SIZE"; $QPIPE gen --seed 32 "$QUIET_SIZE"; } | sha256sum >"$TMP/want.sum"
  QUIET_REBINDS=$(relay_rebinds) QUIET_CHANGES=$(json_field "$TMP/l.err" path_changes)
  QUIET_OK=
  if [ "$src$rc" = 00 ] && cmp -s "$TMP/got.sum" "$TMP/want.sum"; then QUIET_OK=1; else
    not_ok "$desc (sender $src, listener $rc)" "$TMP/s.err" "$TMP/l.err" "$TMP/relay.err"; fi
}

# 2. Keep-alive inside the mapping timeout (a third of the idle timeout, at
# most 15 s): the mapping never expires.
idle=30
[ "$MAPPING_MS" -lt 20000 ] && idle=$((MAPPING_MS * 2 / 1000))
quiet "quiet pipe, keep-alive inside the mapping timeout" "--idle-timeout $idle" "$MAPPING_MS" \
  "$SILENCE_S"
if [ -n "$QUIET_OK" ]; then
  check "stdin silent ${SILENCE_S}s behind a ${MAPPING_MS} ms mapping: identical, keep-alive kept the mapping" \
    test "${QUIET_REBINDS:-1}" = 0 -a "${QUIET_CHANGES:-1}" = 0
fi

# 3. Keep-alive outside the mapping timeout (the default 10 s against 3 s):
# the mapping is lost; the sender's next packet opens a new one, and the
# listener follows it there. (12 s of silence in the long variant too.)
quiet "quiet pipe, mapping lost" "" 3000 12
if [ -n "$QUIET_OK" ]; then
  check "stdin silent 12s, mapping lost after 3 s: identical, listener followed the new port" \
    test "${QUIET_REBINDS:-0}" -ge 1 -a "${QUIET_CHANGES:-0}" -ge 1
fi

finish
