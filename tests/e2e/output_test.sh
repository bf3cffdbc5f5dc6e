#!/usr/bin/env bash
# -o writes into what the user named (man qpipe, -o): a character device, a
# FIFO and a socket are written directly and stay what they are; a symlink
# is followed and stays a link; -o is checked before "listening on" (also
# for `qpipe api` listeners); files a sender sends get the modes the
# listener allows (its umask, never group- or world-writable unless
# --keep-modes, never setuid).
source "$(dirname "$0")/lib.sh"
"$QPIPE" gen --seed 3 5M > "$TMP/payload"

# send_data NAME [ARGS]: sends $TMP/payload (or ARGS) to the listener at $PORT; waits.
send_data() { bg "$1" "timeout 60 $QPIPE 127.0.0.1:$PORT ${2:-< $TMP/payload}"; wait_rc "$1"; }

# A character device with the numbers of /dev/null, made in a directory of
# our own: written into, never replaced by a regular file.
mkdir -p "$TMP/dev"
if [ "$(id -u)" = 0 ] && mknod "$TMP/dev/null" c 1 3 2>/dev/null; then
  listener c "127.0.0.1:0 -o $TMP/dev/null"
  src=$(send_data s); rc=$(wait_rc c)
  check "-o CHARDEV: both exit 0 (sender $src, listener $rc)" [ "$src$rc" = 00 ]
  check "-o CHARDEV: still the character device 1,3" \
    bash -c "[ -c $TMP/dev/null ] && [ \"\$(stat -c %t,%T $TMP/dev/null)\" = 1,3 ]"
  check "-o CHARDEV: no temporary beside it" bash -c "[ \"\$(ls -A $TMP/dev)\" = null ]"
else
  echo "ok - -o CHARDEV # SKIP needs root to mknod"
fi

# A FIFO with a reader: the reader gets every byte, the FIFO stays a FIFO.
mkfifo "$TMP/fifo"
bg reader "exec timeout 60 cat $TMP/fifo > $TMP/fifo.out"
listener f "127.0.0.1:0 -o $TMP/fifo"
src=$(send_data s); rc=$(wait_rc f); rrc=$(wait_rc reader)
check "-o FIFO: both exit 0, the reader too (sender $src, listener $rc, reader $rrc)" \
  [ "$src$rc$rrc" = 000 ]
check "-o FIFO: the reader got the data" cmp -s "$TMP/payload" "$TMP/fifo.out"
check "-o FIFO: still a FIFO" test -p "$TMP/fifo"

# A FIFO whose reader comes late: the listener waits for it.
rm -f "$TMP/fifo" && mkfifo "$TMP/fifo"
listener g "127.0.0.1:0 -v -o $TMP/fifo"
bg s "timeout 60 $QPIPE 127.0.0.1:$PORT < $TMP/payload"
wait_for "grep -qs 'connection from' $TMP/g.err" 10
bg reader "exec timeout 60 cat $TMP/fifo > $TMP/fifo2.out"
src=$(wait_rc s); rc=$(wait_rc g); wait_rc reader >/dev/null
check "-o FIFO, reader after the sender: both exit 0, data intact, still a FIFO ($src, $rc)" \
  bash -c "[ '$src$rc' = 00 ] && cmp -s $TMP/payload $TMP/fifo2.out && [ -p $TMP/fifo ]"

# A socket: connected to, the data goes over it.
if command -v python3 >/dev/null; then
  bg sock "exec timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); out = open(sys.argv[2], \"wb\")
while True:
    b = c.recv(1 << 16)
    if not b: break
    out.write(b)
' $TMP/sock $TMP/sock.out"
  wait_for "[ -S $TMP/sock ]" 10
  listener u "127.0.0.1:0 -o $TMP/sock"
  src=$(send_data s); rc=$(wait_rc u); wait_rc sock >/dev/null
  check "-o SOCKET: both exit 0, the data arrived over it ($src, $rc)" \
    bash -c "[ '$src$rc' = 00 ] && cmp -s $TMP/payload $TMP/sock.out && [ -S $TMP/sock ]"
else
  echo "ok - -o SOCKET # SKIP needs python3"
fi

# A symlink the user names: its target gets the data, the link stays.
mkdir -p "$TMP/real"
echo old > "$TMP/real/target.bin"
ln -s real/target.bin "$TMP/link.bin"
listener l "127.0.0.1:0 -o $TMP/link.bin"
src=$(send_data s); rc=$(wait_rc l)
check "-o SYMLINK: both exit 0 ($src, $rc)" [ "$src$rc" = 00 ]
check "-o SYMLINK: still a link to the same target" \
  bash -c "[ -L $TMP/link.bin ] && [ \"\$(readlink $TMP/link.bin)\" = real/target.bin ]"
check "-o SYMLINK: the target has the data" cmp -s "$TMP/payload" "$TMP/real/target.bin"
check "-o SYMLINK: no temporary left beside link or target" \
  bash -c "[ \"\$(ls -A $TMP/real)\" = target.bin ] && ! ls -A $TMP | grep -q qpipe-"
# A dangling one: the file is made where it points.
ln -s real/new.bin "$TMP/dangling"
listener d "127.0.0.1:0 -o $TMP/dangling"
src=$(send_data s); rc=$(wait_rc d)
check "-o dangling SYMLINK: the file is made at its target, the link stays" \
  bash -c "[ '$src$rc' = 00 ] && cmp -s $TMP/payload $TMP/real/new.bin && [ -L $TMP/dangling ]"

# Checked before listening: refused with exit 5 and the reason, and never
# "listening on".
echo x > "$TMP/exists"
refused() { # DESCRIPTION EXPECTED-TEXT ARGS...
  local desc=$1 text=$2
  shift 2
  timeout 10 "$QPIPE" -l 127.0.0.1:0 "$@" 2>"$TMP/refused.err"
  local rc=$?
  if [ "$rc" = 5 ] && ! grep -q 'listening on' "$TMP/refused.err" && grep -q -- "$text" "$TMP/refused.err"; then
    ok "$desc: exit 5 before listening"
  else
    not_ok "$desc: exit 5 before listening (got $rc)" "$TMP/refused.err"
  fi
}
refused "-o in a missing directory" "directory $TMP/nodir does not exist" -o "$TMP/nodir/out.bin"
refused "-o DIR/ that does not exist" "nodir/: no such directory" -o "$TMP/nodir/"
refused "-o under a regular file" "Not a directory" -o "$TMP/exists/out.bin"
refused "--no-clobber with an existing file" "exists (and --no-clobber was given)" -o "$TMP/exists" --no-clobber
check "--no-clobber: the existing file is untouched" [ "$(cat "$TMP/exists")" = x ]
# A directory this user cannot write in (as root: as nobody, through setpriv).
mkdir -p "$TMP/ro"
chmod 0555 "$TMP/ro"
chmod 0711 "$TMP"
AS=
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null && AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ "$(id -u)" != 0 ] || [ -n "$AS" ]; then
  $AS timeout 10 "$QPIPE" -l 127.0.0.1:0 -o "$TMP/ro/out.bin" 2>"$TMP/ro.err"
  rc=$?
  check "-o in a read-only directory: exit 5 before listening (got $rc)" \
    bash -c "[ $rc = 5 ] && grep -q 'cannot create files in $TMP/ro: Permission denied' $TMP/ro.err && ! grep -q listening $TMP/ro.err"

  # The same check for listeners started through `qpipe api`: 4xx at once;
  # and a dangling symlink under its root is not followed out of it.
  if command -v curl >/dev/null; then
    mkdir -p "$TMP/apiroot/ro" "$TMP/elsewhere"
    chmod 0555 "$TMP/apiroot/ro"
    chmod 0777 "$TMP/elsewhere" # writable: only the root keeps the api out
    ln -s ../elsewhere/new.bin "$TMP/apiroot/escape"
    bg api "exec $AS env QPIPE_API_TOKEN=t0ken timeout 120 $QPIPE api --port 0 --root $TMP/apiroot"
    wait_for "grep -qs 'api listening on' $TMP/api.err" 15
    API=$(sed -n 's/.*api listening on \(http:[^ ]*\).*/\1/p' "$TMP/api.err" | head -n1)
    post() {
      curl -s -o "$TMP/body" -w '%{http_code}' -H 'Authorization: Bearer t0ken' -H 'Content-Type: application/json' \
        --data-binary "{\"listen\":\"127.0.0.1:0\",\"output\":\"$1\"}" "${API%/}/v1/listeners"
    }
    st=$(post ro/out.bin)
    check "api: a listener into a read-only directory gets 422 at once (got $st)" \
      bash -c "[ '$st' = 422 ] && grep -q 'cannot create files in' $TMP/body"
    st=$(post escape)
    check "api: a dangling symlink that points outside --root gets 403 (got $st)" \
      bash -c "[ '$st' = 403 ] && [ -z \"\$(ls -A $TMP/elsewhere)\" ]"
    kill -INT "$(pgrep -f -n "$QPIPE api --port 0 --root $TMP/apiroot")" 2>/dev/null
    wait_rc api 10 >/dev/null
  else
    echo "ok - api output check # SKIP curl is not installed"
  fi
else
  echo "ok - -o in a read-only directory # SKIP needs setpriv to drop root"
fi

# Modes: a file sent with mode 4777 to a listener whose umask is 077.
mkdir -p "$TMP/src" "$TMP/m1" "$TMP/m2" "$TMP/m3"
head -c 1000 "$TMP/payload" > "$TMP/src/wide.bin"
chmod 4777 "$TMP/src/wide.bin"
head -c 1000 "$TMP/payload" > "$TMP/src/shared.bin"
chmod 0666 "$TMP/src/shared.bin"
umask 077
listener m "127.0.0.1:0 -o $TMP/m1"
umask 022
src=$(send_data s "$TMP/src/wide.bin"); rc=$(wait_rc m)
check "umask 077, sender's mode 4777: arrives 0700 (got $(stat -c %a "$TMP/m1/wide.bin" 2>/dev/null))" \
  bash -c "[ '$src$rc' = 00 ] && [ \$(stat -c %a $TMP/m1/wide.bin) = 700 ]"
umask 002
listener m "127.0.0.1:0 -o $TMP/m2"
umask 022
src=$(send_data s "$TMP/src/shared.bin"); rc=$(wait_rc m)
check "umask 002, sender's mode 0666: never group- or world-writable, arrives 0644 (got $(stat -c %a "$TMP/m2/shared.bin" 2>/dev/null))" \
  bash -c "[ '$src$rc' = 00 ] && [ \$(stat -c %a $TMP/m2/shared.bin) = 644 ]"
umask 077
listener m "127.0.0.1:0 -o $TMP/m3 --keep-modes"
umask 022
src=$(send_data s "$TMP/src/wide.bin"); rc=$(wait_rc m)
check "--keep-modes: the sender's 0777, without setuid (got $(stat -c %a "$TMP/m3/wide.bin" 2>/dev/null))" \
  bash -c "[ '$src$rc' = 00 ] && [ \$(stat -c %a $TMP/m3/wide.bin) = 777 ]"
finish
