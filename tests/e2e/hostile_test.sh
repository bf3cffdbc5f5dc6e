#!/usr/bin/env bash
# Hostile traffic at a listener (loopback only, bounded in count and time):
# datagrams of random bytes, truncated QUIC long headers and a flood of
# Initial packets with random connection IDs. The listener neither crashes nor
# stalls, a transfer running meanwhile completes intact, and the listener
# serves the next sender afterwards.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "ok - hostile traffic # SKIP python3 is not installed"; finish; exit; }
mkdir -p "$TMP/dst"
"$QPIPE" gen --seed 21 120M > "$TMP/legit.bin"
listener h "127.0.0.1:0 -k -o $TMP/dst --max-connections 64"
fp=$("$QPIPE" -l --print-fingerprint)
bg s "timeout 120 $QPIPE 127.0.0.1:$PORT $TMP/legit.bin --pin $fp --limit 30M"
wait_for "ls -A $TMP/dst | grep -q qpipe-" 15 # the legitimate transfer is under way

python3 - "$PORT" <<'PY' > "$TMP/flood.out"
import os, random, socket, struct, sys, time
port = int(sys.argv[1])
rng = random.Random(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("127.0.0.1", port)
sent = 0
deadline = time.time() + 10
def initial(cut=None):
    dcid = os.urandom(rng.randint(8, 20)); scid = os.urandom(rng.randint(0, 20))
    hdr = bytes([0xc0 | rng.randint(0, 3)]) + struct.pack(">I", 1) + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    pkt = hdr + b"\x00" + struct.pack(">H", 0x4000 | 1100) + os.urandom(1200 - len(hdr) - 3)
    return pkt[:cut] if cut else pkt
for i in range(3000):                      # random bytes
    s.sendto(os.urandom(rng.randint(1, 1500)), dst); sent += 1
for i in range(2000):                      # truncated long headers
    s.sendto(initial(rng.randint(1, 60)), dst); sent += 1
for i in range(3000):                      # Initial packets that open state
    s.sendto(initial(), dst); sent += 1
    if i % 200 == 0 and time.time() > deadline: break
print(sent)
PY
check "the flood was sent ($(cat "$TMP/flood.out") datagrams)" [ "$(cat "$TMP/flood.out")" -gt 7000 ]
src=$(wait_rc s 120)
check "the transfer under way completed (sender $src)" [ "$src" = 0 ]
check "... and arrived intact" cmp "$TMP/legit.bin" "$TMP/dst/legit.bin"
check "the listener is still running" kill -0 "$(pgrep -f "^$QPIPE -l 127.0.0.1:0 -k -o $TMP/dst" | head -n1)"
# The next sender is served: forged Initials hold no transfer slot (beyond 16
# pending handshakes they get a Retry, tests/e2e/peers_test.sh); the loop
# only tolerates a refusal while fake handshakes end.
"$QPIPE" gen --seed 22 4M > "$TMP/after.bin"
ok_after=1
for attempt in 1 2 3 4 5 6; do
  timeout 30 "$QPIPE" 127.0.0.1:"$PORT" "$TMP/after.bin" --pin "$fp" -q 2>"$TMP/after.err" && { ok_after=0; break; }
  grep -q "refused the connection" "$TMP/after.err" || break
  sleep 2 # refused while fake handshakes still hold the slots: they time out within 10 s
done
check "after the flood, the next sender is served" bash -c "[ $ok_after = 0 ] && cmp -s $TMP/after.bin $TMP/dst/after.bin"
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k -o $TMP/dst"
rc=$(wait_rc h 10)
check "the listener exits on SIGINT as usual (130, got $rc)" [ "$rc" = 130 ]
finish
