#!/usr/bin/env bash
# Named files: qpipe HOST f1 f2 ... -> qpipe -l -o DIR. Atomic, modes and
# times kept, path-safe; refusals before any byte; disk full is exit 5.
source "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/src" "$TMP/dst"
: > "$TMP/src/empty"
printf 'spaces\n' > "$TMP/src/name with spaces"
"$QPIPE" gen --seed 9 200M > "$TMP/src/big.bin"
chmod 0750 "$TMP/src/big.bin"
touch -d '2021-02-03 04:05:06.123456789' "$TMP/src/big.bin"

listener d "127.0.0.1:0 -o $TMP/dst"
bg s "timeout 120 $QPIPE 127.0.0.1:$PORT $TMP/src/empty '$TMP/src/name with spaces' $TMP/src/big.bin"
src=$(wait_rc s); rc=$(wait_rc d)
check "three files to -o DIR: both exit 0 (sender $src, listener $rc)" [ "$src$rc" = 00 ]
for f in empty "name with spaces" big.bin; do
  check "'$f' arrived identical" cmp "$TMP/src/$f" "$TMP/dst/$f"
done
check "the mode 0750 was kept" [ "$(stat -c %a "$TMP/dst/big.bin")" = 750 ]
check "the modification time was kept, to the nanosecond" \
  [ "$(stat -c %y "$TMP/src/big.bin")" = "$(stat -c %y "$TMP/dst/big.bin")" ]
check "no temporaries remain" bash -c "[ \$(ls -A $TMP/dst | wc -l) = 3 ]"

# One file to a listener without -o goes to its stdout.
listener o "127.0.0.1:0" "> $TMP/one.out"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT '$TMP/src/name with spaces'"
src=$(wait_rc s); rc=$(wait_rc o)
check "one file to a stdout listener: exit 0, content on stdout" \
  bash -c "[ '$src$rc' = 00 ] && cmp -s '$TMP/src/name with spaces' $TMP/one.out"

# One file to -o FILE lands at FILE.
listener p "127.0.0.1:0 -o $TMP/renamed.bin"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/big.bin"
src=$(wait_rc s); rc=$(wait_rc p)
check "one file to -o FILE: lands at FILE" bash -c "[ '$src$rc' = 00 ] && cmp -s $TMP/src/big.bin $TMP/renamed.bin"

# Several files to a stdout listener: refused before any byte, both exit 1.
listener r "127.0.0.1:0" "> $TMP/refused.out"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/big.bin '$TMP/src/name with spaces'"
src=$(wait_rc s); rc=$(wait_rc r)
check "several files to stdout: sender 1, listener 1 (got $src, $rc)" [ "$src$rc" = 11 ]
check "several files to stdout: nothing written" bash -c "[ ! -s $TMP/refused.out ]"
check "several files to stdout: both say to use -o DIR" \
  bash -c "grep -q -- '-o DIR' $TMP/s.err && grep -q -- '-o DIR' $TMP/r.err"

# A stream into -o DIR is refused too.
mkdir -p "$TMP/dir2"
listener q "127.0.0.1:0 -o $TMP/dir2"
bg s "echo stream | timeout 60 $QPIPE 127.0.0.1:$PORT"
src=$(wait_rc s); rc=$(wait_rc q)
check "a stream into -o DIR: refused, both exit 1" bash -c "[ '$src$rc' = 11 ] && [ -z \"\$(ls -A $TMP/dir2)\" ]"

# Sender-side checks before anything is sent.
timeout 10 "$QPIPE" 127.0.0.1:9 "$TMP/src" 2>"$TMP/dir.err"; rc=$?
check "a directory argument: exit 2 with the tar hint" bash -c "[ $rc = 2 ] && grep -q 'tar c' $TMP/dir.err"
timeout 10 "$QPIPE" 127.0.0.1:9 "$TMP/src/nope" 2>"$TMP/nope.err"; rc=$?
check "a missing file: exit 5 naming it" bash -c "[ $rc = 5 ] && grep -q 'nope: No such file' $TMP/nope.err"

# Two files with the same name in one send: refused before any byte. The
# sender refuses them itself (exit 2, naming both); a sender that lies (every
# file claims one name) is refused by the listener at the second FILE.
mkdir -p "$TMP/a" "$TMP/b" "$TMP/dup"
echo one > "$TMP/a/x.bin"
echo two > "$TMP/b/x.bin"
cp "$TMP/b/x.bin" "$TMP/b/y.bin"
timeout 10 "$QPIPE" 127.0.0.1:9 "$TMP/a/x.bin" "$TMP/b/x.bin" 2>"$TMP/dup.err"; rc=$?
check "two files named x.bin: the sender refuses (exit 2, got $rc), naming both paths" \
  bash -c "[ $rc = 2 ] && grep -q '$TMP/a/x.bin and $TMP/b/x.bin: both would arrive as x.bin' $TMP/dup.err"
listener u "127.0.0.1:0 -o $TMP/dup"
bg s "QPIPE_TEST_TAMPER=name=x.bin timeout 60 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT $TMP/a/x.bin $TMP/b/y.bin"
src=$(wait_rc s); rc=$(wait_rc u)
check "two FILEs named x.bin: a protocol error on both sides (sender $src, listener $rc)" \
  bash -c "[ '$src$rc' = 11 ] && grep -q 'two files named x.bin in one transfer' $TMP/u.err && grep -q 'two files named x.bin' $TMP/s.err"
check "two FILEs named x.bin: the second did not replace the first" \
  bash -c "[ ! -e $TMP/dup/x.bin ] || [ \"\$(cat $TMP/dup/x.bin)\" = one ]"

# --no-clobber refuses to replace; without it the file is replaced atomically.
echo original > "$TMP/dst/keep"
printf 'new\n' > "$TMP/src/keep"
listener n "127.0.0.1:0 -o $TMP/dst --no-clobber"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/keep"
src=$(wait_rc s); rc=$(wait_rc n)
check "--no-clobber: listener exits 5, sender 1 (got $rc, $src)" [ "$rc$src" = 51 ]
check "--no-clobber: the existing file is untouched" [ "$(cat "$TMP/dst/keep")" = original ]
listener m "127.0.0.1:0 -o $TMP/dst --sync"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/keep"
src=$(wait_rc s); rc=$(wait_rc m)
check "without --no-clobber (and with --sync): replaced" bash -c "[ '$src$rc' = 00 ] && [ \"\$(cat $TMP/dst/keep)\" = new ]"

# Hostile names, whatever the sender claims, are refused by the listener.
mkdir -p "$TMP/jail"
for name in "../escape" "/etc/evil" ".hidden" ".." "a/b"; do
  listener h "127.0.0.1:0 -o $TMP/jail"
  bg s "QPIPE_TEST_TAMPER='name=$name' timeout 60 $QPIPE_TEST_HOOKS 127.0.0.1:$PORT '$TMP/src/name with spaces'"
  src=$(wait_rc s); rc=$(wait_rc h)
  check "hostile name '$name': refused (sender $src, listener $rc), nothing written" \
    bash -c "[ '$src$rc' = 11 ] && [ -z \"\$(ls -A $TMP/jail)\" ] && [ ! -e $TMP/escape ]"
done

# --resume: a 200 MiB file interrupted midway keeps its part, and the next
# run sends only the rest.
mkdir -p "$TMP/res"
listener r1 "127.0.0.1:0 -o $TMP/res --resume --idle-timeout 2"
bg s1 "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/big.bin --resume --limit 40M"
wait_for "[ \$(stat -c %s $TMP/res/.big.bin.qpipe-partial 2>/dev/null || echo 0) -gt 110000000 ]" 30
pkill -9 -f "^$QPIPE 127.0.0.1:$PORT $TMP/src/big.bin"
rc=$(wait_rc r1 30)
check "interrupted: the listener exits 1 (got $rc)" [ "$rc" = 1 ]
check "interrupted: the part is kept, nothing under the final name" \
  bash -c "[ -s $TMP/res/.big.bin.qpipe-partial ] && [ ! -e $TMP/res/big.bin ]"
listener r2 "127.0.0.1:0 -o $TMP/res --resume"
bg s2 "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/big.bin --resume --stats=json"
src=$(wait_rc s2); rc=$(wait_rc r2)
check "resumed: both exit 0 (sender $src, listener $rc)" [ "$src$rc" = 00 ]
check "resumed: the file arrived identical, with its mode" \
  bash -c "cmp -s $TMP/src/big.bin $TMP/res/big.bin && [ \$(stat -c %a $TMP/res/big.bin) = 750 ]"
sent=$(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$TMP/s2.err" | tail -n1)
check "resumed: the second run carried less than 80% of the file ($sent bytes)" \
  [ "${sent:-999999999999}" -lt $((200 * 1048576 * 8 / 10)) ]
check "resumed: no partial left" bash -c "[ ! -e $TMP/res/.big.bin.qpipe-partial ]"

# A kept part that does not match the source is sent again in full.
head -c 5000000 /dev/urandom > "$TMP/res/.other.qpipe-partial"
"$QPIPE" gen --seed 2 12M > "$TMP/src/other"
listener r3 "127.0.0.1:0 -o $TMP/res --resume"
bg s3 "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/other --resume"
src=$(wait_rc s3); rc=$(wait_rc r3)
check "a mismatching part: sent in full, with a notice, identical" \
  bash -c "[ '$src$rc' = 00 ] && cmp -s $TMP/src/other $TMP/res/other && grep -q differs $TMP/s3.err"

# A full disk: exit 5 on the listener with the file name, no final file.
if [ "$(id -u)" = 0 ] && mkdir -p "$TMP/small" && mount -t tmpfs -o size=4m tmpfs "$TMP/small" 2>/dev/null; then
  "$QPIPE" gen 16M > "$TMP/src/too-big.bin"
  listener f "127.0.0.1:0 -o $TMP/small"
  bg s "timeout 60 $QPIPE 127.0.0.1:$PORT $TMP/src/too-big.bin"
  src=$(wait_rc s); rc=$(wait_rc f)
  check "disk full: listener 5, sender 1 (got $rc, $src)" [ "$rc$src" = 51 ]
  check "disk full: the message names the file and ENOSPC" grep -qi "too-big.bin: No space left on device" "$TMP/f.err"
  check "disk full: no final file and no temporary" bash -c "[ -z \"\$(ls -A $TMP/small)\" ]"
  umount "$TMP/small"
else
  echo "ok - disk full # SKIP needs root to mount a small tmpfs"
fi
finish
