#!/usr/bin/env bash
# --resume with -k -o DIR: two transfers of one name never write one file at
# once. A sends a big file slowly; B, a different file of the same name, is
# refused at once with a message naming it (with or without --resume on its
# side), and A's file on disk is exactly A's data.
source "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/a" "$TMP/b" "$TMP/dst"
"$QPIPE" gen --seed 11 40M > "$TMP/a/big.bin"
"$QPIPE" gen --seed 12 40M > "$TMP/b/big.bin"
fp=$("$QPIPE" -l --print-fingerprint)

listener k "127.0.0.1:0 -k -o $TMP/dst --resume"
bg a "timeout 120 $QPIPE 127.0.0.1:$PORT $TMP/a/big.bin --pin $fp --resume --limit 10M"
wait_for "[ \$(stat -c %s $TMP/dst/.big.bin.qpipe-partial 2>/dev/null || echo 0) -gt 2000000 ]" 30
bg b "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/b/big.bin --pin $fp --resume"
rc=$(wait_rc b 60)
check "B (--resume) while A writes big.bin: refused, exit 1 (got $rc)" [ "$rc" = 1 ]
check "B: told that another transfer is writing big.bin" \
  grep -q "big.bin: another transfer is writing this file" "$TMP/b.err"
bg c "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/b/big.bin --pin $fp"
rc=$(wait_rc c 60)
check "C (no --resume) while A writes big.bin: refused too, exit 1 (got $rc)" \
  bash -c "[ $rc = 1 ] && grep -q 'another transfer is writing this file' $TMP/c.err"
# The issue's case: a second sender killed midway.
bg d "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/b/big.bin --pin $fp --resume"
wait_for "[ -s $TMP/d.rc ] || grep -qs . $TMP/d.err" 10
pkill -9 -f "^$QPIPE 127.0.0.1:$PORT $TMP/b/big.bin" 2>/dev/null
rc=$(wait_rc a 120)
check "A: exit 0 (got $rc)" [ "$rc" = 0 ]
check "A: the file on disk is exactly A's data" cmp "$TMP/a/big.bin" "$TMP/dst/big.bin"
check "A: no part left" bash -c "[ ! -e $TMP/dst/.big.bin.qpipe-partial ]"
check "the listener said why B and C were refused" \
  bash -c "[ \$(grep -c 'another transfer is writing this file' $TMP/k.err) -ge 2 ]"
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k -o $TMP/dst"
wait_rc k 10 >/dev/null
finish
