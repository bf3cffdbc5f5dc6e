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
roundtrip "text with -z19, 64K chunks" text 4M "-z19 --chunk-size 64K"
roundtrip "text with --zstd=-5" text 32M "--zstd=-5"
roundtrip "random with -z" random 64M "-z"
roundtrip "mixed with -z, -P 16" mixed 48M "-z -P 16"
roundtrip "a 1-byte stream with -z" text 1 "-z"

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
finish
