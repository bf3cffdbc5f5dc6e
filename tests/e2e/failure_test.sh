#!/usr/bin/env bash
# Failure is loud: each failure gives the documented exit code on both sides,
# quickly, and -o leaves nothing at PATH.
source "$(dirname "$0")/lib.sh"

elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# Nobody listening: exit 3 as soon as the kernel reports the port unreachable.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 9)
t0=$(date +%s%N)
echo hi | timeout 20 "$QPIPE" 127.0.0.1:"$port" 2>"$TMP/nl.err"
rc=$?
ms=$(elapsed_ms "$t0")
check "nobody listening: exit 3" [ "$rc" = 3 ]
check "nobody listening: within 5 s, not the idle timeout (${ms} ms)" [ "$ms" -lt 5000 ]
check "nobody listening: message names the cause" grep -q "nothing is listening" "$TMP/nl.err"

# The listener is killed mid-transfer: the sender exits 1 promptly.
listener k "127.0.0.1:0 --idle-timeout 5" "> $TMP/k.data"
bg s "$QPIPE gen 20G | timeout 60 $QPIPE 127.0.0.1:$PORT --idle-timeout 5"
wait_for "[ \$(stat -c %s $TMP/k.data 2>/dev/null || echo 0) -gt 1000000 ]" 20
pkill -9 -f "^$QPIPE -l 127.0.0.1:0 --idle-timeout 5"
src=$(wait_rc s 30)
check "listener killed: sender exits 1 (got $src)" [ "$src" = 1 ]

# The sender is killed mid-transfer: the listener exits 1 within its idle
# timeout and leaves nothing at PATH.
mkdir -p "$TMP/dir"
listener v "127.0.0.1:0 --idle-timeout 3 -o $TMP/dir/out.bin"
bg s "$QPIPE gen 20G | timeout 60 $QPIPE 127.0.0.1:$PORT"
wait_for "ls -A $TMP/dir | grep -q qpipe- && [ \$(du -sk $TMP/dir | cut -f1) -gt 1000 ]" 20
pkill -9 -f "^$QPIPE 127.0.0.1:$PORT"
rc=$(wait_rc v 30)
check "sender killed: listener exits 1 (got $rc)" [ "$rc" = 1 ]
check "sender killed: nothing at PATH, no temporary" bash -c "[ -z \"\$(ls -A $TMP/dir)\" ]"
check "sender killed: listener names the timeout" grep -q "no packet from the sender" "$TMP/v.err"

# Ctrl-C on the sender: it exits 130, the listener exits 1 naming it.
listener i "127.0.0.1:0" "> /dev/null"
bg s "$QPIPE gen 20G | timeout 60 $QPIPE 127.0.0.1:$PORT"
wait_for "pgrep -f '$QPIPE 127.0.0.1:$PORT' >/dev/null" 10
sleep 0.3 # let data flow: the point is an interrupt in the middle of a transfer
pkill -INT -f "^$QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s 20); rc=$(wait_rc i 20)
check "SIGINT on the sender: sender 130 (got $src)" [ "$src" = 130 ]
check "SIGINT on the sender: listener 1 (got $rc)" [ "$rc" = 1 ]
check "SIGINT on the sender: listener says interrupted" grep -q "interrupted" "$TMP/i.err"

# SIGTERM on the listener: it exits 130, the sender exits 1 naming it.
listener j "127.0.0.1:0" "> /dev/null"
bg s "$QPIPE gen 20G | timeout 60 $QPIPE 127.0.0.1:$PORT"
wait_for "pgrep -f '$QPIPE 127.0.0.1:$PORT' >/dev/null" 10
sleep 0.3 # as above: interrupt mid-transfer
pkill -TERM -f "^$QPIPE -l 127.0.0.1:0\$"
src=$(wait_rc s 20); rc=$(wait_rc j 20)
check "SIGTERM on the listener: listener 130 (got $rc)" [ "$rc" = 130 ]
check "SIGTERM on the listener: sender 1 (got $src)" [ "$src" = 1 ]
check "SIGTERM on the listener: sender says interrupted" grep -q "interrupted" "$TMP/s.err"

# A closed stdout on the listener is a failed transfer on both sides.
bg c "set -o pipefail; timeout 60 $QPIPE -l 127.0.0.1:0 2>$TMP/c.qerr | head -c 1000 > /dev/null; echo \${PIPESTATUS[0]} > $TMP/c.lrc"
wait_for "grep -qs 'listening on' $TMP/c.qerr" 15
PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$TMP/c.qerr")
bg s "$QPIPE gen 1G | timeout 60 $QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s 30); wait_rc c 30 >/dev/null
check "closed stdout: listener exits 1 (got $(cat $TMP/c.lrc))" [ "$(cat "$TMP/c.lrc")" = 1 ]
check "closed stdout: sender exits 1 (got $src)" [ "$src" = 1 ]
check "closed stdout: sender says the listener could not write" grep -q "could not write" "$TMP/s.err"

# Garbage datagrams and a client of another protocol do not disturb a
# listener, which then serves a real sender.
listener g "127.0.0.1:0" "| $QPIPE gen --check 4M"
for i in $(seq 1 50); do head -c $((RANDOM % 1400 + 1)) /dev/urandom > /dev/udp/127.0.0.1/"$PORT"; done
echo x | QPIPE_TEST_ALPN=h3 timeout 20 "$QPIPE_TEST_HOOKS" 127.0.0.1:"$PORT" 2>"$TMP/alpn.err"
arc=$?
check "wrong ALPN: sender exits 3 (got $arc)" [ "$arc" = 3 ]
bg s "$QPIPE gen 4M | timeout 60 $QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s); rc=$(wait_rc g)
check "after garbage and a wrong ALPN the listener still serves (sender $src, listener $rc)" [ "$src$rc" = 00 ]

# Usage errors are exit 2 with a qpipe: message and a hint.
"$QPIPE" --streams 0 host 2>"$TMP/u.err"; rc=$?
check "bad --streams: exit 2" [ "$rc" = 2 ]
check "bad --streams: message and hint" bash -c "grep -q '^qpipe: --streams' $TMP/u.err && grep -q -- '--help' $TMP/u.err"
"$QPIPE" -l -z 2>/dev/null; check "sender option on a listener: exit 2" [ $? = 2 ]
"$QPIPE" --no-such-option 2>/dev/null; check "unknown option: exit 2" [ $? = 2 ]
"$QPIPE" 2>/dev/null; check "no destination: exit 2" [ $? = 2 ]
"$QPIPE" -l 127.0.0.1:70000 2>/dev/null; check "port out of range: exit 2" [ $? = 2 ]

# A port in use: exit 3.
listener p "127.0.0.1:0" "> /dev/null"
timeout 10 "$QPIPE" -l 127.0.0.1:"$PORT" 2>"$TMP/inuse.err" </dev/null; rc=$?
check "port in use: exit 3 (got $rc)" [ "$rc" = 3 ]
pkill -INT -f "^$QPIPE -l 127.0.0.1:0\$"; wait_rc p 10 >/dev/null

finish
