#!/usr/bin/env bash
# Hostile or careless peers cannot hold the listener (SPEC §3):
# - a peer that completes the handshake and never proves itself (no AUTH,
#   no HELLO) holds no transfer slot and is closed after a short deadline;
# - chunk data before HELLO cannot be sent at all (no stream credit), so
#   such peers hold no buffers;
# - a flood of Initial packets that never complete (as from forged
#   addresses) costs no slots: beyond a few, Initials get a Retry;
# - all transfers share one memory budget, and one that holds chunks while
#   the chunk the writer waits for never comes is cut within the idle
#   timeout.
# Hostile senders are qpipe-test-hooks (tests/tools/test_hooks.cc).
source "$(dirname "$0")/lib.sh"
: "${QPIPE_FLOOD:=$(dirname "$QPIPE")/tests/qpipe-initial-flood}"

elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
echo "peers-test-secret" > "$TMP/secret"; chmod 600 "$TMP/secret"
fp=$("$QPIPE" -l --print-fingerprint)

# --- No work before proof ----------------------------------------------------
# Four peers that never send AUTH or HELLO, against --max-connections 4 and a
# secret: the real sender is served at once, and the silent ones are closed
# within the proof deadline (5 s).
listener a "127.0.0.1:0 -k -v --max-connections 4 --secret-file $TMP/secret" "> $TMP/a.data"
for i in 1 2 3 4; do
  bg "h$i" "sleep 30 | QPIPE_TEST_NO_HELLO=1 timeout 40 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT --pin $fp"
done
wait_for "[ \$(grep -c 'connection from' $TMP/a.err) -ge 4 ]" 10 # their handshakes completed
t0=$(date +%s%N)
echo real | timeout 20 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" --secret-file "$TMP/secret" 2>"$TMP/real.err"; rc=$?
check "4 silent peers on --max-connections 4: the real sender exits 0 (got $rc, $(elapsed_ms "$t0") ms)" [ "$rc" = 0 ]
wait_for "[ \$(cat $TMP/h?.err | grep -c 'no AUTH and HELLO within 5 s') -ge 4 ]" 12
ms=$(elapsed_ms "$t0")
check "... the silent peers were closed within the deadline, and told why (${ms} ms after)" [ "$ms" -lt 9000 ]
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k -v --max-connections 4"; wait_rc a 10 >/dev/null
check "... and only the real data arrived" [ "$(cat "$TMP/a.data")" = real ]

# Twelve peers that send chunk data without HELLO: nothing is buffered for
# them (before, each could fill a 2 MiB window).
listener b "127.0.0.1:0 -k" "> /dev/null"
lpid=$(pgrep -f "^$QPIPE -l 127.0.0.1:0 -k\$" | head -n1)
rss0=$(status_kb "$lpid" VmRSS)
for i in $(seq 1 12); do
  bg "c$i" "$QPIPE gen 100M | QPIPE_TEST_NO_HELLO=1 timeout 40 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT --pin $fp"
done
wait_for "[ \$(pgrep -c -f '^$QPIPE_TEST_HOOKS 127.0.0.1:$PORT') -ge 12 ]" 10
sleep 2 # what each peer can push in: the point is that it is nothing
rss1=$(status_kb "$lpid" VmRSS)
grow=$((rss1 - rss0))
check_memory "12 peers sending chunks without HELLO: the listener grew by ${grow} KiB (at most 6 MiB)" [ "$grow" -le 6144 ]
for i in $(seq 1 12); do wait_rc "c$i" 15 >/dev/null; done
check "... and they were closed at the deadline (exit $(cat "$TMP/c1.rc"))" [ "$(cat "$TMP/c1.rc")" = 4 ]
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k\$"; wait_rc b 10 >/dev/null

# --- Address validation ------------------------------------------------------
# 300 Initials that never complete (a default listener has 128 slots): a real
# sender right after is served at once.
listener f "127.0.0.1:0" "| $QPIPE gen --check 1M"
sent=$("$QPIPE_FLOOD" 127.0.0.1 "$PORT" 300)
check "the flood of Initials was sent ($sent)" [ "$sent" = 300 ]
t0=$(date +%s%N)
"$QPIPE" gen 1M | timeout 20 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" 2>"$TMP/f.serr"; src=$?
ms=$(elapsed_ms "$t0")
check "after 300 forged Initials the real sender is served (exit $src, ${ms} ms)" [ "$src" = 0 ] && [ "$ms" -lt 5000 ]
check "... and the data arrived intact (listener $(wait_rc f 10))" [ "$(cat "$TMP/f.rc")" = 0 ]

# --- One memory budget ---------------------------------------------------------
# Eight senders with 16 MiB chunks that never send chunk 0, into -k -o DIR:
# the listener's memory stays within its budget (64 MiB of chunk data), each
# of them is cut within the idle timeout of holding chunks, and a real
# sender then gets through.
mkdir -p "$TMP/dst"
"$QPIPE" gen --seed 5 40M > "$TMP/src.bin"
listener m "127.0.0.1:0 -k -o $TMP/dst --idle-timeout 3"
mpid=$(pgrep -f "^$QPIPE -l 127.0.0.1:0 -k -o $TMP/dst" | head -n1)
for i in $(seq 1 8); do
  bg "w$i" "QPIPE_TEST_WITHHOLD_CHUNK=0 timeout 120 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT $TMP/src.bin --pin $fp --chunk-size 16M"
done
for i in $(seq 1 8); do wait_rc "w$i" 120 >/dev/null; done
hwm=$(status_kb "$mpid" VmHWM)
cut=0
for i in $(seq 1 8); do [ "$(cat "$TMP/w$i.rc")" = 1 ] && grep -q "did not come" "$TMP/w$i.err" && cut=$((cut + 1)); done
check "8 senders withholding chunk 0: all 8 cut for it ($cut)" [ "$cut" = 8 ]
check_memory "... the listener's peak memory: $((hwm / 1024)) MiB (at most 110 MiB)" [ "$hwm" -le $((110 * 1024)) ]
timeout 60 "$QPIPE" 127.0.0.1:"$PORT" "$TMP/src.bin" --pin "$fp" 2>"$TMP/m.serr"; src=$?
check "... then a real sender gets through (exit $src)" bash -c "[ $src = 0 ] && cmp -s $TMP/src.bin $TMP/dst/src.bin"
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k -o $TMP/dst"; wait_rc m 10 >/dev/null

finish
