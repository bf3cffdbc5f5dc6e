#!/usr/bin/env bash
# qpipe as it fits users' hands (issue 15): output that scripts can parse
# (--stats=json, --stats-file), what -q still says, mistakes answered with the
# fix, one exit status for local configuration errors, a listener that will
# not write to a terminal, the summary line that stays, -s for piped input,
# known hosts across ports and --forget.
source "$(dirname "$0")/lib.sh"

# json_field FILE KEY: the value of KEY in the JSON object that is FILE's
# only line (python3 parses it, so a prefix or a second line fails).
json_field() {
  python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read())[sys.argv[2]])' "$1" "$2"
}
# json_has FILE KEY / json_lacks FILE KEY: whether the object that is FILE's
# only line has KEY (both fail when FILE is not one JSON object).
json_has() {
  python3 -c 'import json, sys; sys.exit(0 if sys.argv[2] in json.loads(open(sys.argv[1]).read()) else 1)' "$1" "$2"
}
json_lacks() {
  python3 -c 'import json, sys; sys.exit(1 if sys.argv[2] in json.loads(open(sys.argv[1]).read()) else 0)' "$1" "$2"
}
# matches STRING REGEX: for check.
matches() { [[ $1 =~ $2 ]]; }
have_python=false
command -v python3 >/dev/null && have_python=true

fp=$("$QPIPE" -l --print-fingerprint)

# --- 1. --stats=json: one bare JSON object, alone on stderr ----------------
listener j "127.0.0.1:0 --stats=json" "> /dev/null"
"$QPIPE" gen 3M | timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" --stats=json 2>&1 >/dev/null |
  cat >"$TMP/json.err"
rc=$(wait_rc j 30)
check "--stats=json listener exits 0 (got $rc)" [ "$rc" = 0 ]
check "--stats=json: the sender's stderr is one line" [ "$(wc -l <"$TMP/json.err")" = 1 ]
check "--stats=json: the line is a bare object, no 'qpipe: ' prefix" grep -q '^{"ok":true,' "$TMP/json.err"
check "--stats=json: the listener's line is bare too" grep -q '^{"ok":true,"bytes":3145728,' "$TMP/j.err"
if $have_python; then
  check "--stats=json 2>&1 >/dev/null parses as JSON: bytes = 3145728" \
    [ "$(json_field "$TMP/json.err" bytes)" = 3145728 ]
  check "--stats=json after a transfer has rtt_ms" json_has "$TMP/json.err" rtt_ms
  check "--stats=json after a transfer has lost_packets" json_has "$TMP/json.err" lost_packets
  # Nobody listening: no RTT sample, no report from a peer: both absent.
  echo x | timeout 20 "$QPIPE" 127.0.0.1:9 --stats=json 2>"$TMP/refused.err"
  grep '^{' "$TMP/refused.err" >"$TMP/refused.json"
  check "a refused connection's JSON has no rtt_ms (nothing was measured)" \
    json_lacks "$TMP/refused.json" rtt_ms
  check "a refused connection's JSON has no lost_packets" json_lacks "$TMP/refused.json" lost_packets
  check "a refused connection's JSON says ok false" [ "$(json_field "$TMP/refused.json" ok)" = False ]
else
  echo "ok - JSON parsing checks # SKIP python3 is not installed"
fi

# --stats-file FILE: the summary goes there, stderr keeps quiet.
listener sf "127.0.0.1:0 --stats-file $TMP/l.stats" "> /dev/null"
"$QPIPE" gen 1M | timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" --stats=json \
  --stats-file "$TMP/s.stats" 2>"$TMP/sf.err"
check "--stats-file: sender exits 0" [ $? = 0 ]
wait_rc sf 30 >/dev/null
check "--stats-file=json: the object is in the file" grep -q '^{"ok":true,"bytes":1048576,' "$TMP/s.stats"
check "--stats-file: nothing on stderr" [ ! -s "$TMP/sf.err" ]
check "--stats-file without =json: one line of text, no prefix" \
  bash -c "[ \$(wc -l <'$TMP/l.stats') = 1 ] && grep -q '^1.00 MiB in .* peer ' '$TMP/l.stats'"
echo x | "$QPIPE" 127.0.0.1:9 --stats-file "$TMP/no/such/dir/s" 2>"$TMP/sf2.err"
rc=$?
check "--stats-file in a missing directory: exit 5 before connecting (got $rc)" \
  bash -c "[ $rc = 5 ] && grep -q 'No such file or directory' '$TMP/sf2.err'"

# --- 2. an explicit --stats wins over -q; -l 0 always says its port --------
listener q "-q 127.0.0.1:0" "> /dev/null"
check "-l -q with port 0 still prints where it listens" [ -n "$PORT" ]
echo hello | timeout 20 "$QPIPE" -q --stats 127.0.0.1:"$PORT" --pin "$fp" 2>"$TMP/qs.err"
check "-q --stats: the summary is printed" grep -q "^qpipe: 6 B in .*, peer 127.0.0.1:$PORT" "$TMP/qs.err"
check "-q --stats: nothing else" [ "$(wc -l <"$TMP/qs.err")" = 1 ]
wait_rc q 20 >/dev/null
check "-l -q 0: the listening line is all it said" [ "$(wc -l <"$TMP/q.err")" = 1 ]
if $have_python; then
  free=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bg qp "timeout 20 $QPIPE -l -q 127.0.0.1:$free > /dev/null"
  # Nothing to wait for (that is the point): retry until it listens.
  for _ in $(seq 1 100); do
    echo bye | timeout 20 "$QPIPE" -q 127.0.0.1:"$free" --insecure 2>/dev/null && break
    sleep 0.1
  done
  wait_rc qp 20 >/dev/null
  check "-l -q with a port of one's own choosing says nothing" [ ! -s "$TMP/qp.err" ]
fi

# --- 4. mistakes answered with the fix -------------------------------------
# mistake DESCRIPTION FIX ARGS...: exit 2 and the message shows FIX.
mistake() {
  local desc=$1 fix=$2
  shift 2
  (cd "$TMP" && timeout 10 "$QPIPE" "$@" </dev/null >"$TMP/m.out" 2>"$TMP/m.err")
  local rc=$?
  if [ "$rc" != 2 ]; then
    not_ok "$desc: exit 2 (got $rc)" "$TMP/m.err"
  elif ! grep -qF -- "$fix" "$TMP/m.err"; then
    not_ok "$desc: the message says '$fix'" "$TMP/m.err"
  else
    ok "$desc: exit 2, says '$fix'"
  fi
}
mistake "nc's HOST PORT" "did you mean host:5011?" host 5011
mistake "nc's HOST PORT with an IPv6 address" "did you mean [::1]:5011?" ::1 5011
mistake "nc's -l HOST PORT" "did you mean -l 127.0.0.1:5011?" -l 127.0.0.1 5011
mistake "a mistyped mode" "did you mean 'qpipe gen 1G'?" gne 1G
mistake "-z 19" "-z19 or --zstd=19" -z 19 host
mistake "--zstd 3" "--zstd=3" host --zstd 3
mistake "--stats json" "--stats=json" host --stats json
mistake "a mistyped long option" "did you mean --streams?" --stream 4 host
mistake "a mistyped gen option" "did you mean --seed?" gen --sed 1 1M
"$QPIPE" help >"$TMP/help.out" 2>"$TMP/help.err"
rc=$?
check "qpipe help: exit 0 and the help on stdout (got $rc)" \
  bash -c "[ $rc = 0 ] && grep -q '^Usage: qpipe' '$TMP/help.out' && [ ! -s '$TMP/help.err' ]"
"$QPIPE" help gen >"$TMP/helpgen.out" 2>/dev/null
check "qpipe help gen: the gen options" grep -q -- "--kind" "$TMP/helpgen.out"
# A file named like a port is a file: sent, not second-guessed.
listener nf "127.0.0.1:0 -o $TMP/nf.data" ""
(cd "$TMP" && echo content >5011 && timeout 20 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" 5011 2>/dev/null)
check "an existing file named 5011 is sent" [ $? = 0 ]
check "an existing file named 5011 arrives" [ "$(wait_rc nf 20)$(cat "$TMP/nf.data")" = 0content ]
rm -f "$TMP/5011"

# --- 5. local configuration errors: exit 2, with the system's reason -------
echo x | timeout 10 "$QPIPE" --ca /nonexistent 127.0.0.1:9 2>"$TMP/ca.err"
rc=$?
check "--ca /nonexistent: exit 2 (got $rc)" [ "$rc" = 2 ]
check "--ca /nonexistent: says No such file or directory" grep -q "^qpipe: /nonexistent: No such file or directory$" "$TMP/ca.err"
printf 'not a certificate\n' >"$TMP/junk.pem"
echo x | timeout 10 "$QPIPE" --ca "$TMP/junk.pem" 127.0.0.1:9 2>"$TMP/ca2.err"
rc=$?
check "--ca with garbage: exit 2 and no 'unknown error' (got $rc)" \
  bash -c "[ $rc = 2 ] && ! grep -q 'unknown error' '$TMP/ca2.err'"
printf 'secret\n' >"$TMP/open-secret"
chmod 644 "$TMP/open-secret"
echo x | timeout 10 "$QPIPE" --secret-file "$TMP/open-secret" 127.0.0.1:9 2>"$TMP/sec.err"
rc=$?
check "a secret file with mode 0644: exit 2, not 4 (got $rc)" [ "$rc" = 2 ]
timeout 10 "$QPIPE" -l --secret-file "$TMP/open-secret" 2>/dev/null
rc=$?
check "a listener's secret file with mode 0644: exit 2 (got $rc)" [ "$rc" = 2 ]
timeout 10 "$QPIPE" -l --cert "$TMP/nope.crt" --key "$TMP/nope.key" 2>"$TMP/cert.err"
rc=$?
check "--cert that does not exist: exit 2 with the reason (got $rc)" \
  bash -c "[ $rc = 2 ] && grep -q 'No such file or directory' '$TMP/cert.err'"

# --- 6. the listener will not write to a terminal ---------------------------
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "timeout 10 $QPIPE -l 127.0.0.1:0" /dev/null >"$TMP/tty.out" 2>&1
  rc=$?
  check "listener with stdout on a terminal: exit 2 (got $rc)" [ "$rc" = 2 ]
  check "listener on a terminal: the hint names -o FILE and a pipe" \
    bash -c "grep -q -- '-o FILE' '$TMP/tty.out' && grep -q 'qpipe -l | cmd' '$TMP/tty.out'"
  check "listener on a terminal: refused before listening" bash -c "! grep -q 'listening on' '$TMP/tty.out'"
  # -o - writes to the terminal all the same.
  bg tty "script -qec 'timeout 20 $QPIPE -l 127.0.0.1:0 -o -' /dev/null"
  wait_for "grep -qs 'listening on' '$TMP/tty.out'" 10
  PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$TMP/tty.out" | head -n1)
  echo to-the-terminal | timeout 20 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" 2>/dev/null
  rc=$(wait_rc tty 20)
  check "-o - on a terminal: exit 0 (got $rc)" [ "$rc" = 0 ]
  check "-o - on a terminal: the data is written there" grep -q to-the-terminal "$TMP/tty.out"
else
  echo "ok - listener refuses a terminal # SKIP util-linux script is not installed"
fi

# --- 7. the summary that stays ----------------------------------------------
# last_line FILE: what remains on a terminal: the text after the last \r.
last_line() { tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -n 1; }
listener p "127.0.0.1:0 -p" "> /dev/null"
"$QPIPE" gen 2M | timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" -p 2>"$TMP/ps.err"
wait_rc p 30 >/dev/null
check "-p: what stays of the sender's progress is the summary" \
  matches "$(last_line "$TMP/ps.err")" "^qpipe: sent 2\.00 MiB in .* to 127\.0\.0\.1:$PORT$"
check "-p: what stays of the listener's progress is the summary" \
  matches "$(last_line "$TMP/p.err")" "^qpipe: received 2\.00 MiB in .* from 127\.0\.0\.1:[0-9]+$"
# Named files, and a listener with -k: the same line after each transfer.
mkdir -p "$TMP/src" "$TMP/inbox"
head -c 100000 /dev/urandom >"$TMP/src/a.bin"
echo b >"$TMP/src/b.txt"
listener pk "127.0.0.1:0 -k -p -o $TMP/inbox" "> /dev/null"
timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" -p "$TMP/src/a.bin" "$TMP/src/b.txt" 2>"$TMP/pf.err"
check "-p with files: 'sent 2 files, ...'" grep -q "qpipe: sent 2 files, 97.7 KiB in " "$TMP/pf.err"
timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" -p "$TMP/src/b.txt" 2>/dev/null
wait_for "[ \$(grep -c 'received' '$TMP/pk.err') -ge 2 ]" 10
check "-k -p: a summary after each transfer" \
  bash -c "grep -q 'qpipe: received 2 files, 97.7 KiB in ' '$TMP/pk.err' && grep -q 'qpipe: received 1 file, 2 B in ' '$TMP/pk.err'"
pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k -p -o $TMP/inbox"
wait_rc pk 10 >/dev/null
# Without -p and not on a terminal: no summary (stderr stays for messages).
listener np "127.0.0.1:0" "> /dev/null"
echo quiet | timeout 20 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" 2>"$TMP/np.err"
wait_rc np 20 >/dev/null
check "no progress, no summary: the sender says nothing" [ ! -s "$TMP/np.err" ]
# On a real terminal (a pty from script), the summary appears by default.
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
  listener pt "127.0.0.1:0" "> /dev/null"
  script -qec "$QPIPE gen 1M | timeout 20 $QPIPE 127.0.0.1:$PORT --pin $fp" /dev/null >"$TMP/pt.out" 2>&1
  wait_rc pt 20 >/dev/null
  check "on a terminal the sender leaves 'sent 1.00 MiB in ...'" grep -q "qpipe: sent 1.00 MiB in " "$TMP/pt.out"
fi

# --- 8. -s SIZE: percent and ETA on both sides for a pipe ------------------
listener s "127.0.0.1:0 -p" "> /dev/null"
"$QPIPE" gen 2M | cat | timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" -p -s 2M --limit 2M 2>"$TMP/ss.err"
wait_rc s 30 >/dev/null
check "-s: the sender shows percent of the size" grep -q "of 2.00 MiB (" "$TMP/ss.err"
check "-s: the listener shows it too (HELLO's size hint)" grep -q "of 2.00 MiB (" "$TMP/s.err"
check "-s: the sender shows an ETA" grep -q "ETA " "$TMP/ss.err"
listener s2 "127.0.0.1:0 -p" "> $TMP/s2.data"
"$QPIPE" gen 3M | cat | timeout 30 "$QPIPE" 127.0.0.1:"$PORT" --pin "$fp" -p -s 1M --limit 2M 2>"$TMP/s2s.err"
rc=$?
check "an input longer than -s is sent in full: exit 0 (got $rc)" [ "$rc" = 0 ]
check "an input longer than -s: all 3 MiB arrived" [ "$(wait_rc s2 30)$(wc -c <"$TMP/s2.data")" = "03145728" ]
check "past -s the display says so, never more than 100%" \
  bash -c "grep -q 'past the expected 1.00 MiB' '$TMP/s2s.err' && ! grep -Eq '\( *(10[1-9]|1[1-9][0-9]|[2-9][0-9][0-9]|[0-9]{4,})%\)' '$TMP/s2s.err' '$TMP/s2.err'"

# --- 9. known hosts across ports; --forget ----------------------------------
export XDG_CONFIG_HOME=$TMP/kh-config
kh=$XDG_CONFIG_HOME/qpipe/known_hosts
listener k1 "127.0.0.1:0" "> /dev/null"
p1=$PORT
echo one | timeout 20 "$QPIPE" 127.0.0.1:"$p1" 2>"$TMP/k1s.err"
wait_rc k1 20 >/dev/null
check "first port: first contact, announced" grep -q "first contact with 127.0.0.1:$p1" "$TMP/k1s.err"
listener k2 "127.0.0.1:0" "> /dev/null"
p2=$PORT
echo two | timeout 20 "$QPIPE" 127.0.0.1:"$p2" 2>"$TMP/k2s.err"
rc=$?
wait_rc k2 20 >/dev/null
check "same identity on another port: accepted (got $rc)" [ "$rc" = 0 ]
check "same identity on another port: quietly" [ ! -s "$TMP/k2s.err" ]
check "same identity on another port: recorded" grep -q "^127.0.0.1:$p2 $fp$" "$kh"
# Another identity on a third port of the same host: a first contact, said aloud.
export XDG_DATA_HOME=$TMP/other-data
listener k3 "127.0.0.1:0" "> /dev/null"
export XDG_DATA_HOME=$TMP/data
echo three | timeout 20 "$QPIPE" 127.0.0.1:"$PORT" 2>"$TMP/k3s.err"
wait_rc k3 20 >/dev/null
check "another identity on a new port: announced as a first contact" \
  grep -q "first contact with 127.0.0.1:$PORT" "$TMP/k3s.err"
"$QPIPE" --forget 127.0.0.1:"$p1" 2>"$TMP/f1.err"
rc=$?
check "--forget HOST:PORT: exit 0, says 1 entry (got $rc)" \
  bash -c "[ $rc = 0 ] && grep -q 'removed 1 entry for 127.0.0.1:$p1' '$TMP/f1.err'"
check "--forget HOST:PORT: only that entry went" \
  bash -c "! grep -q '^127.0.0.1:$p1 ' '$kh' && grep -q '^127.0.0.1:$p2 ' '$kh'"
"$QPIPE" --forget 127.0.0.1 2>"$TMP/f2.err"
rc=$?
check "--forget HOST: every port, exit 0, says 2 entries (got $rc)" \
  bash -c "[ $rc = 0 ] && grep -q 'removed 2 entries for 127.0.0.1 (every port)' '$TMP/f2.err' && ! grep -q '^127.0.0.1:' '$kh'"
"$QPIPE" --forget 127.0.0.1 2>"$TMP/f3.err"
rc=$?
check "--forget with nothing to forget: exit 0, says so (as ssh-keygen -R)" \
  bash -c "[ $rc = 0 ] && grep -q 'no entry for 127.0.0.1' '$TMP/f3.err'"
"$QPIPE" --forget 2>/dev/null
check "--forget without HOST: exit 2" [ $? = 2 ]

finish
