#!/usr/bin/env bash
# Thousands of files in one run: 10,000 small files arrive intact (the
# control stream's credit is given back as its messages are taken, and the
# listener keeps no state for committed files); with --resume on both sides,
# where each file also costs a question and an offer, 3,000 do as well.
source "$(dirname "$0")/lib.sh"
N=${QPIPE_MANY_FILES:-10000}
mkdir -p "$TMP/src" "$TMP/dst" "$TMP/res"
# N files of a few bytes each (f00000 ... holding their own number).
(cd "$TMP/src" && seq 1 "$N" | split -d -l 1 -a 5 - f)
count=$(ls "$TMP/src" | wc -l)
check "made $N files (got $count)" [ "$count" = "$N" ]

listener k "127.0.0.1:0 -o $TMP/dst"
bg s "cd $TMP/src && timeout 120 $QPIPE 127.0.0.1:$PORT * --stats=json"
src=$(wait_rc s 150); rc=$(wait_rc k 30)
check "$N files in one run: both exit 0 (sender $src, listener $rc)" [ "$src$rc" = 00 ]
check "$N files in one run: all arrived, identical" bash -c "diff -rq $TMP/src $TMP/dst >/dev/null"
check "$N files in one run: nothing else in the directory" \
  bash -c "[ \$(ls -A $TMP/dst | wc -l) = $N ]"

# --resume: one RESUME question and offer per file on top.
listener r "127.0.0.1:0 -o $TMP/res --resume"
bg s "cd $TMP/src && timeout 120 $QPIPE 127.0.0.1:$PORT f0[0-2]* --resume"
src=$(wait_rc s 150); rc=$(wait_rc r 30)
check "3000 files with --resume: both exit 0 (sender $src, listener $rc)" [ "$src$rc" = 00 ]
check "3000 files with --resume: all arrived, no part left" \
  bash -c "[ \$(ls -A $TMP/res | wc -l) = 3000 ] && (cd $TMP/src && md5sum f0[0-2]*) | (cd $TMP/res && md5sum -c --quiet)"
finish
