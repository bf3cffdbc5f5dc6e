#!/usr/bin/env bash
# Transfers that must arrive byte-identical, both ends exiting 0.
source "$(dirname "$0")/lib.sh"

# roundtrip DESC SIZE 'SENDER OPTIONS' ['LISTENER OPTIONS']
roundtrip() {
  local desc=$1 size=$2 sopts=${3:-} lopts=${4:-}
  listener l "127.0.0.1:0 $lopts" "| $QPIPE gen --check $size"
  bg s "timeout 300 $QPIPE gen $size | timeout 300 $QPIPE 127.0.0.1:$PORT $sopts"
  local src rc
  src=$(wait_rc s)
  rc=$(wait_rc l)
  if [ "$src" = 0 ] && [ "$rc" = 0 ]; then ok "$desc"; else
    not_ok "$desc (sender $src, listener+check $rc)" "$TMP/s.err" "$TMP/l.err"; fi
}

roundtrip "0 bytes" 0
roundtrip "1 byte" 1
roundtrip "chunk size - 1" 65535 "--chunk-size 64K"
roundtrip "chunk size" 65536 "--chunk-size 64K"
roundtrip "chunk size + 1" 65537 "--chunk-size 64K"
roundtrip "default chunk size + 1" $((2097152 + 1))
roundtrip "100 MiB with -P 32 --chunk-size 64K" 100M "-P 32 --chunk-size 64K"
roundtrip "1 MiB with -P 1" 1M "-P 1"
roundtrip "1 GiB" 1G
roundtrip "16 MiB chunks" 40M "--chunk-size 16M -P 2"
roundtrip "rate limit 20 MiB/s" 10M "--limit 20M"
roundtrip "bbr" 50M "--cc bbr" "--cc bbr"
roundtrip "reno" 50M "--cc reno"

# -o PATH: the file appears only when complete, with the right content.
listener o "127.0.0.1:0 -o $TMP/out.bin"
bg s "$QPIPE gen --seed 7 3M | timeout 60 $QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s); rc=$(wait_rc o)
check "-o PATH: both exit 0" [ "$src$rc" = 00 ]
check "-o PATH: content matches" bash -c "$QPIPE gen --check --seed 7 3M < $TMP/out.bin"
check "-o PATH: no temporary left" bash -c "[ -z \"\$(ls -A $TMP | grep qpipe-)\" ]"

# IPv6 and the default dual-stack listener.
if [ -n "$(ip -6 addr show lo 2>/dev/null)" ]; then
  listener d "0" "| $QPIPE gen --check 2M"
  bg s "$QPIPE gen 2M | timeout 60 $QPIPE '[::1]':$PORT"
  src=$(wait_rc s); rc=$(wait_rc d)
  check "dual-stack listener, IPv6 sender" [ "$src$rc" = 00 ]
  listener d "0" "| $QPIPE gen --check 2M"
  bg s "$QPIPE gen 2M | timeout 60 $QPIPE 127.0.0.1:$PORT"
  src=$(wait_rc s); rc=$(wait_rc d)
  check "dual-stack listener, IPv4 sender" [ "$src$rc" = 00 ]
  listener d "'[::1]:0'" "| $QPIPE gen --check 2M"
  bg s "$QPIPE gen 2M | timeout 60 $QPIPE -6 '[::1]':$PORT"
  src=$(wait_rc s); rc=$(wait_rc d)
  check "IPv6 listener on [::1], sender with -6" [ "$src$rc" = 00 ]
else
  echo "ok - IPv6 tests # SKIP no IPv6 on lo"
fi

# A host name, resolved with uv_getaddrinfo.
listener n "127.0.0.1:0" "| $QPIPE gen --check 1M"
bg s "$QPIPE gen 1M | timeout 60 $QPIPE -4 localhost:$PORT"
src=$(wait_rc s); rc=$(wait_rc n)
check "sender by host name (localhost, -4)" [ "$src$rc" = 00 ]

# A regular file as stdin (read with the fs path, size known).
$QPIPE gen --seed 5 5M > "$TMP/in.bin"
listener f "127.0.0.1:0 --stats=json" "| $QPIPE gen --check --seed 5 5M"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT --stats=json < $TMP/in.bin"
src=$(wait_rc s); rc=$(wait_rc f)
check "stdin is a regular file" [ "$src$rc" = 00 ]
check "--stats=json has the promised keys" bash -c "for k in bytes wire_bytes seconds rate ratio rtt_ms lost_packets; do grep -q \"\\\"\$k\\\":\" $TMP/s.err || exit 1; done; grep -q '\"bytes\":5242880' $TMP/s.err"
# The listener's socket is shared by its transfers; its GSO state is in the
# listener's summary too (it said false there before).
check "the listener's --stats=json says whether its socket does GSO" grep -q '"gso":true' "$TMP/f.err"

# tar c /usr/include | qpipe -> qpipe -l | tar x
mkdir -p "$TMP/untar"
listener t "127.0.0.1:0" "| tar x -C $TMP/untar"
bg s "tar c -C /usr include 2>/dev/null | timeout 120 $QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s); rc=$(wait_rc t)
check "tar through qpipe: both exit 0" [ "$src$rc" = 00 ]
check "tar through qpipe: tree reproduced" diff -r --no-dereference /usr/include "$TMP/untar/include"

finish
