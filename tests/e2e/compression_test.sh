#!/usr/bin/env bash
# -z: text, random and mixed data arrive identical at every level; the
# listener decompresses without being told; lying or tampered chunks end the
# transfer with exit 1 on both sides and nothing written under -o.
source "$(dirname "$0")/lib.sh"

roundtrip() {
  local desc=$1 kind=$2 size=$3 sopts=$4
  listener l "127.0.0.1:0" "| $QPIPE gen --check --kind $kind $size"
  bg s "$QPIPE gen --kind $kind $size | timeout 120 $QPIPE 127.0.0.1:$PORT $sopts --stats=json"
  local src rc
  src=$(wait_rc s); rc=$(wait_rc l)
  if [ "$src$rc" = 00 ]; then ok "$desc"; else not_ok "$desc (sender $src, listener $rc)" "$TMP/s.err" "$TMP/l.err"; fi
}

roundtrip "text with -z" text 64M "-z"
check "text with -z: fewer wire bytes than data" bash -c "
  b=\$(sed -n 's/.*\"bytes\":\([0-9]*\).*/\1/p' $TMP/s.err | tail -n1)
  w=\$(sed -n 's/.*\"payload_wire_bytes\":\([0-9]*\).*/\1/p' $TMP/s.err | tail -n1)
  [ -n \"\$w\" ] && [ \"\$w\" -lt \"\$b\" ]"
# From a regular file (a pipe may cut a chunk short): 2 MiB chunks by default.
$QPIPE gen --kind text 64M >"$TMP/text64"
listener c "127.0.0.1:0" "> /dev/null"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT -z --stats=json <$TMP/text64"
src=$(wait_rc s); rc=$(wait_rc c)
check "text with -z: 2 MiB chunks by default (32 for 64 MiB)" bash -c "
  [ $src$rc = 00 ] && grep -q '\"chunks\":32,' $TMP/s.err"
roundtrip "text with -z19, 64K chunks" text 4M "-z19 --chunk-size 64K"
roundtrip "text with --zstd=-5" text 32M "--zstd=-5"
roundtrip "random with -z" random 64M "-z"
roundtrip "mixed with -z, -P 16" mixed 48M "-z -P 16"
roundtrip "a 1-byte stream with -z" text 1 "-z"

# -z is auto: --stats reports the levels used, within the range asked for;
# the level rises while the link is the bottleneck (--limit makes it one).
# levels_ok MIN MAX: every level of the last --stats=json line is within
# MIN..MAX, and the counts add up to the number of chunks.
levels_ok() {
  local line levels
  line=$(grep '"zstd_levels"' "$TMP/s.err" | tail -n1)
  levels=$(sed -n 's/.*"zstd_levels":{\([^}]*\)}.*/\1/p' <<<"$line" | tr -d '"' | tr , '\n')
  chunks=$(sed -n 's/.*"chunks":\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "$levels" ] && awk -F: -v lo="$1" -v hi="$2" -v chunks="$chunks" '
    { if ($1 < lo || $1 > hi) bad = 1; sum += $2; if ($1 > top || NR == 1) top = $1 }
    END { print top > "/dev/stderr"; exit (bad || sum != chunks) }' <<<"$levels" 2>"$TMP/top"
}
roundtrip "text with -z (auto)" text 32M "-z"
check "-z: --stats=json reports a level for every chunk, within auto's 1 to 12" levels_ok 1 12
roundtrip "text with --zstd=auto:2:6" text 32M "--zstd=auto:2:6"
check "--zstd=auto:2:6: every level within 2 to 6" levels_ok 2 6
roundtrip "text with -z7" text 8M "-z7"
check "-z7: level 7 only" levels_ok 7 7
roundtrip "text with -z on a 5 MB/s link (--limit), 1 MiB chunks" text 32M "-z --limit 5M --chunk-size 1M"
check "-z on a slow link: the level rises above the start (3)" bash -c "
  $(declare -f levels_ok); TMP=$TMP; levels_ok 1 19 && [ \$(cat $TMP/top) -gt 3 ]"
# ... and most chunks are compressed after it rose: until the link is
# measured, only a few chunks are read ahead of the connection (before, 20
# of the 32 went at level 3, compressed while the handshake and the first
# acknowledgements came).
check "-z on a slow link: fewer than half of the chunks at the start level" bash -c "
  n=\$(grep '\"zstd_levels\"' $TMP/s.err | tail -n1 | sed -n 's/.*\"zstd_levels\":{[^}]*\"3\":\([0-9]*\).*/\1/p')
  [ \"\${n:-0}\" -lt 16 ]"
listener h "127.0.0.1:0" "> /dev/null"
bg s "$QPIPE gen --kind text 4M | timeout 60 $QPIPE 127.0.0.1:$PORT -q --zstd=auto:2:2 --stats"
src=$(wait_rc s); rc=$(wait_rc h)
check "--stats says which levels were used" grep -q "compressed .*x, zstd level 2)" "$TMP/s.err"
roundtrip "random with -z: sent raw" random 16M "-z"
check "random with -z: no chunk sent compressed" bash -c "! grep -q zstd_levels $TMP/s.err"

# -z compresses each chunk against the raw bytes of the one before it: a
# file that repeats 1 MiB (half random, half zeros) compresses to about half
# chunk by chunk, and all but its first chunk shrink to almost nothing
# against the chunk before. Named files (whole 1 MiB chunks), and a second
# file after it.
{ head -c 512K /dev/urandom; head -c 512K /dev/zero; } >"$TMP/block"
for _ in $(seq 12); do cat "$TMP/block"; done >"$TMP/repeats"
$QPIPE gen --kind mixed 5M >"$TMP/mixed"
mkdir -p "$TMP/rep"
listener r "127.0.0.1:0 -o $TMP/rep"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/repeats $TMP/mixed -z --chunk-size 1M --stats=json"
src=$(wait_rc s); rc=$(wait_rc r)
check "repeated random chunks with -z: both files arrive identical" bash -c "
  [ $src$rc = 00 ] && cmp -s $TMP/repeats $TMP/rep/repeats && cmp -s $TMP/mixed $TMP/rep/mixed"
# (Without it the 12 MiB take over 6 MiB, and the mixed file over 3.)
check "repeated random chunks with -z: compressed against the chunk before (payload < 3 MiB + the 5 MiB file)" bash -c "
  w=\$(sed -n 's/.*\"payload_wire_bytes\":\([0-9]*\).*/\1/p' $TMP/s.err | tail -n1)
  [ -n \"\$w\" ] && [ \"\$w\" -lt \$(((3 + 5) * 1048576)) ]"

# Levels above 3 compress against up to 8 MiB of the bytes before a chunk
# (with zstd's long-distance matcher), lower ones against one chunk's worth:
# 6 MiB that compress to about half alone (256 KiB random, 256 KiB zeros),
# twice. With -z4 the second copy, 6 MiB back, costs almost nothing; with
# -z3 it costs as much as the first.
for _ in $(seq 12); do head -c 256K /dev/urandom; head -c 256K /dev/zero; done >"$TMP/block6"
cat "$TMP/block6" "$TMP/block6" >"$TMP/twice"
for level in 4 3; do
  listener w$level "127.0.0.1:0 -o $TMP/twice.$level"
  bg s "timeout 60 $QPIPE 127.0.0.1:$PORT -z$level --stats=json <$TMP/twice"
  src=$(wait_rc s); rc=$(wait_rc w$level)
  check "6 MiB twice with -z$level: arrives identical" bash -c "
    [ $src$rc = 00 ] && cmp -s $TMP/twice $TMP/twice.$level"
  sed -n 's/.*"payload_wire_bytes":\([0-9]*\).*/\1/p' "$TMP/s.err" | tail -n1 >"$TMP/wire.$level"
done
check "6 MiB twice: -z4 finds the copy 6 MiB back (payload < 4 MiB)" bash -c "
  [ \$(cat $TMP/wire.4) -lt \$((4 * 1048576)) ]"
check "6 MiB twice: -z3 looks one chunk back only (payload > 5 MiB)" bash -c "
  [ \$(cat $TMP/wire.3) -gt \$((5 * 1048576)) ]"

# Input that does not compress lately, or that looked random from its first
# chunk on, is left out of the history (its headers say so, and neither side
# keeps it): text after 16 MiB of random bytes is compressed against the text
# only, and arrives identical. (Until the next probe finds it compressible,
# up to 16 chunks of it travel raw.)
{ head -c 16M /dev/urandom; cat "$TMP/text64"; } >"$TMP/randtext"
listener rt "127.0.0.1:0 -o $TMP/randtext.out"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT -z --stats=json <$TMP/randtext"
src=$(wait_rc s); rc=$(wait_rc rt)
check "random, then text with -z: arrives identical, the text compressed" bash -c "
  [ $src$rc = 00 ] && cmp -s $TMP/randtext $TMP/randtext.out &&
  w=\$(sed -n 's/.*\"payload_wire_bytes\":\([0-9]*\).*/\1/p' $TMP/s.err | tail -n1) &&
  [ \"\$w\" -lt \$(((16 + 48) * 1048576)) ]"

tampered() {
  local desc=$1 tamper=$2 sopts=$3 expect=$4
  mkdir -p "$TMP/t"
  listener t "127.0.0.1:0 -o $TMP/t/out"
  bg s "$QPIPE gen --kind text 8M | QPIPE_TEST_TAMPER=$tamper timeout 60 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT $sopts --chunk-size 1M"
  local src rc
  src=$(wait_rc s); rc=$(wait_rc t)
  if [ "$src$rc" = 11 ] && grep -q "$expect" "$TMP/t.err" && [ -z "$(ls -A "$TMP/t")" ]; then ok "$desc"
  else not_ok "$desc (sender $src, listener $rc)" "$TMP/s.err" "$TMP/t.err"; fi
}
tampered "a compressed chunk that decompresses to more than declared (bomb)" length "-z" "more than its declared"
tampered "a raw chunk with a lying hash" hash "" "integrity check"
tampered "a compressed chunk with a lying hash" hash "-z" "integrity check"

"$QPIPE" -z99 host 2>/dev/null; check "-z with a level out of range: exit 2" [ $? = 2 ]
"$QPIPE" --zstd=auto:9:2 host 2>"$TMP/range.err"; rc=$?
check "--zstd=auto:9:2: exit 2, MIN above MAX" bash -c "[ $rc = 2 ] && grep -q 'MIN is above MAX' $TMP/range.err"
finish
