#!/usr/bin/env bash
# Terminal escapes from the peer: what a sender controls (the reason of its
# CONNECTION_CLOSE, a file's name) never reaches the listener's stderr as
# control bytes; it is shown escaped (\x1b), and a name with control
# characters is refused in every mode, not only with -o DIR.
source "$(dirname "$0")/lib.sh"

# no_control FILE: the file holds no ESC, BEL, C1 CSI (raw or UTF-8) byte.
no_control() { ! LC_ALL=C grep -q $'[\x1b\x07\x9b]' "$1"; }

echo "key-for-the-escape-test" > "$TMP/secret"; chmod 600 "$TMP/secret"
evil=$'\e[2J\e]0;pwned\a'

# A sender without the secret closes right after the handshake with a
# reason that would clear the screen and set the window title.
listener a "127.0.0.1:0 -k --secret-file $TMP/secret" "> /dev/null"
echo x | QPIPE_TEST_CLOSE="6:$evil" timeout 20 "$QPIPE_TEST_HOOKS" 127.0.0.1:"$PORT" --insecure 2>/dev/null
wait_for "grep -q pwned '$TMP/a.err'" 10
check "a close reason reaches the listener's message" grep -q "pwned" "$TMP/a.err"
check "... with no control byte in it" no_control "$TMP/a.err"
check "... shown escaped" grep -qF '\x1b[2J\x1b]0;pwned\x07' "$TMP/a.err"
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k --secret-file"; wait_rc a 10 >/dev/null

# A file name with control characters, to a listener writing one file (-o
# FILE, progress on): refused, and not echoed raw.
echo data > "$TMP/plain.txt"
listener b "127.0.0.1:0 -p -o $TMP/out.bin"
QPIPE_TEST_TAMPER="name=a${evil}b" timeout 20 "$QPIPE_TEST_HOOKS" 127.0.0.1:"$PORT" "$TMP/plain.txt" --insecure 2>"$TMP/b.serr"; src=$?
rc=$(wait_rc b 20)
check "a name with control characters under -o FILE: refused (sender $src, listener $rc)" [ "$src" != 0 ] && [ "$rc" != 0 ]
check "... nothing at the output" [ ! -e "$TMP/out.bin" ]
check "... and no control byte on the listener's stderr" no_control "$TMP/b.err"
check "... nor on the sender's" no_control "$TMP/b.serr"

# A name with a UTF-8 encoded C1 CSI and a right-to-left override: allowed
# (they are characters), shown escaped on the progress line and in messages.
odd=$'x\xc2\x9b31m\xe2\x80\xaetxt.exe'
"$QPIPE" gen 2M > "$TMP/two.bin"
listener c "127.0.0.1:0 -p -o $TMP/odd.bin"
# --limit makes the transfer last long enough for progress lines.
QPIPE_TEST_TAMPER="name=$odd" timeout 20 "$QPIPE_TEST_HOOKS" 127.0.0.1:"$PORT" "$TMP/two.bin" --insecure --limit 2M -p 2>"$TMP/c.serr"; src=$?
rc=$(wait_rc c 20)
check "a name with C1 and bidi characters under -o FILE: sent (sender $src, listener $rc)" [ "$src$rc" = 00 ]
check "... shown escaped on the progress line" grep -qF 'x\u009b31m\u202etxt.exe' "$TMP/c.err"
check "... and never raw" bash -c "! LC_ALL=C grep -q $'\xc2\x9b\|\xe2\x80\xae' $TMP/c.err"

finish
