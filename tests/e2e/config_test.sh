#!/usr/bin/env bash
# The config file ($XDG_CONFIG_HOME/qpipe/config): an alias sends to its
# Address and Port with its settings, the command line wins, -F names another
# file and -F none none, --print-config shows what applies, and a malformed
# or group-writable file is refused with exit 2 before anything is sent.
source "$(dirname "$0")/lib.sh"
conf=$TMP/config/qpipe/config
mkdir -p "$TMP/config/qpipe"
fp=$("$QPIPE" -l --print-fingerprint)
wrong_pin=SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

listener l "127.0.0.1:0 -k" "> $TMP/l.data"
cat > "$conf" <<CONF
# Aliases of the test listener.
Host backup
    Address 127.0.0.1
    Port $PORT
    Zstd 3
    Streams 2
host pinned
    address = 127.0.0.1
    port = $PORT
    pin $wrong_pin
Host *
    IdleTimeout 20
CONF
chmod 600 "$conf"

# An alias: its Address and Port, and the known hosts key is that address.
echo via-alias | timeout 20 "$QPIPE" backup 2>"$TMP/s1.err"; rc=$?
check "qpipe backup sends to the alias's Address and Port (exit $rc)" [ "$rc" = 0 ]
check "first contact recorded under the address and port, not the alias" \
  grep -q "^127.0.0.1:$PORT $fp$" "$TMP/config/qpipe/known_hosts"
check "the alias itself is not a known_hosts key" bash -c "! grep -q '^backup' $TMP/config/qpipe/known_hosts"
echo via-address | timeout 20 "$QPIPE" "127.0.0.1:$PORT" 2>"$TMP/s2.err"; rc=$?
check "the address shares the alias's trust: no new first contact" \
  bash -c "[ $rc = 0 ] && ! grep -q 'first contact' $TMP/s2.err"

# The alias's settings apply: --print-config shows them.
"$QPIPE" --print-config backup >"$TMP/p1.out" 2>"$TMP/p1.err"; rc=$?
check "--print-config exits 0" [ "$rc" = 0 ]
for line in "host backup" "address 127.0.0.1" "port $PORT" "zstd 3" "streams 2" "idletimeout 20" \
  "knownhostskey 127.0.0.1:$PORT" "configfile $conf"; do
  check "--print-config backup: '$line'" grep -qx "$line" "$TMP/p1.out"
done
"$QPIPE" --print-config -P 5 --zstd=7 --idle-timeout 9 backup:7000 >"$TMP/p2.out"
for line in "port 7000" "zstd 7" "streams 5" "idletimeout 9" "knownhostskey 127.0.0.1:7000"; do
  check "--print-config with options: the command line wins: '$line'" grep -qx "$line" "$TMP/p2.out"
done

# The command line wins: the config's wrong Pin refuses, --pin on the command
# line replaces it.
echo refused | timeout 20 "$QPIPE" pinned 2>"$TMP/s3.err"; rc=$?
check "the config file's Pin applies: a wrong one refuses (exit 4, got $rc)" [ "$rc" = 4 ]
echo pinned-right | timeout 20 "$QPIPE" --pin "$fp" pinned 2>"$TMP/s4.err"; rc=$?
check "--pin on the command line wins over the config's Pin (exit $rc)" [ "$rc" = 0 ]
# A port on the command line wins over Port: a port nothing listens on fails.
echo nowhere | timeout 20 "$QPIPE" backup:1 2>"$TMP/s5.err"; rc=$?
check "HOST:PORT wins over the config's Port (exit 3, got $rc)" [ "$rc" = 3 ]

# -F names another file; -F none reads none (backup is then no host at all).
printf 'Host other\n  Address 127.0.0.1\n  Port %s\n' "$PORT" > "$TMP/other.conf"
chmod 600 "$TMP/other.conf"
echo via-F | timeout 20 "$QPIPE" -F "$TMP/other.conf" other 2>"$TMP/s6.err"; rc=$?
check "-F FILE: its aliases apply (exit $rc)" [ "$rc" = 0 ]
"$QPIPE" -F none --print-config backup >"$TMP/p3.out"
check "-F none: no config file, backup stays a host name" \
  bash -c "grep -qx 'address backup' $TMP/p3.out && grep -qx 'port 4433' $TMP/p3.out && grep -qx 'configfile none' $TMP/p3.out"

# Mistakes: exit 2 with the file and line, nothing sent.
cp "$conf" "$TMP/good.conf"
printf 'Host broken\n    Streams 0\n' >> "$conf"
echo never | timeout 20 "$QPIPE" backup 2>"$TMP/e1.err"; rc=$?
check "a wrong value in another host's block: exit 2 (got $rc)" [ "$rc" = 2 ]
check "... named with file and line" grep -q "qpipe: $conf:14: Streams: 0 is out of range" "$TMP/e1.err"
cp "$TMP/good.conf" "$conf"
printf 'Host x\n    HostName y\n' >> "$conf"
echo never | timeout 20 "$QPIPE" backup 2>"$TMP/e2.err"; rc=$?
check "an unknown keyword: exit 2 (got $rc)" [ "$rc" = 2 ]
check "... with the line and the keyword qpipe uses" \
  grep -q "qpipe: $conf:14: unknown keyword 'HostName' (qpipe calls it Address)" "$TMP/e2.err"
cp "$TMP/good.conf" "$conf"
chmod 664 "$conf"
echo never | timeout 20 "$QPIPE" backup 2>"$TMP/e3.err"; rc=$?
check "a group-writable config file is refused: exit 2 (got $rc)" [ "$rc" = 2 ]
check "... with the chmod that fixes it" grep -q "fix with: chmod 600 $conf" "$TMP/e3.err"
chmod 600 "$conf"
echo never | timeout 20 "$QPIPE" -F "$TMP/missing.conf" backup 2>"$TMP/e4.err"; rc=$?
check "a missing -F file: exit 2 (got $rc)" \
  bash -c "[ $rc = 2 ] && grep -q '$TMP/missing.conf: No such file' $TMP/e4.err"
check "a listener takes no -F" bash -c "! $QPIPE -l -F $conf 2>/dev/null"

# The example the package ships parses, and says what its comments say.
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
install -m 0600 "$src/packaging/examples/config" "$TMP/example.conf"
"$QPIPE" -F "$TMP/example.conf" --print-config backup >"$TMP/p4.out" 2>"$TMP/p4.err"; rc=$?
check "the shipped example config parses (exit $rc)" \
  bash -c "[ $rc = 0 ] && grep -qx 'address 192.0.2.10' $TMP/p4.out && grep -qx 'zstd 3' $TMP/p4.out && grep -qx 'limit 104857600' $TMP/p4.out"

pkill -INT -f "^$QPIPE -l 127.0.0.1:0 -k"; wait_rc l 10 >/dev/null
check "the listener got exactly what the accepted sends sent" \
  bash -c "[ \"\$(cat $TMP/l.data)\" = \"\$(printf 'via-alias\nvia-address\npinned-right\nvia-F')\" ]"
finish
