#!/usr/bin/env bash
# Memory that does not grow with the stream: the listener's resident memory
# stays flat over a long stream of small chunks (64 KiB: more chunks per
# byte than any other setting). It is sampled twice during one transfer,
# when the listener has written 1 GiB and when it has written 6 GiB: one
# remembered chunk number per chunk (~48 bytes) would add ~3.8 MB between.
source "$(dirname "$0")/lib.sh"
[ -r /proc/self/io ] || { echo "ok - long stream # SKIP no /proc/PID/io"; finish; exit; }
sanitized && { echo "ok - long stream # SKIP memory is not measured under AddressSanitizer"; finish; exit; }
G=$((1 << 30))
# The consumer starts after 2 s, so that the listener's window fills up
# first: its buffers reach their most at the start, and what grows later is
# what the stream's length adds.
listener l "127.0.0.1:0" "| (sleep 2; cat > /dev/null)"
lpid=$(pgrep -f "^$QPIPE -l 127.0.0.1:0\$" | head -n1)
bg s "$QPIPE gen 7G | timeout 200 $QPIPE 127.0.0.1:$PORT --insecure --chunk-size 64K"
written() { awk '/^wchar/ {print $2}' "/proc/$lpid/io" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$lpid/status"; }
wait_for "[ \$(written) -ge $G ]" 100
rss1=$(rss_kb)
wait_for "[ \$(written) -ge $((6 * G)) ]" 150
rss6=$(rss_kb)
src=$(wait_rc s 100); rc=$(wait_rc l 30)
check "7 GiB in 64 KiB chunks: sender and listener exit 0 (got $src, $rc)" [ "$src$rc" = 00 ]
grow=$((rss6 - rss1))
check "listener memory after 1 GiB: ${rss1} KiB; after 6 GiB: ${rss6} KiB (+${grow} KiB, at most +1024)" [ "$grow" -le 1024 ]
finish
