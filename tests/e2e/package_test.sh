#!/usr/bin/env bash
# The Debian package (scripts/package): it lists the expected files and
# Depends, installs with dpkg -i, /usr/bin/qpipe runs from it, the qpipe
# user exists, systemd-analyze verify accepts the units, the listener runs as
# qpipe-listen@PORT.service runs it (the ExecStart line of the installed
# unit, as the qpipe user) and receives a file into /var/lib/qpipe/PORT, and
# dpkg -r / --purge take it all away again.
#
# Needs root, dpkg-deb and dpkg-shlibdeps, and a release build; skips (exit
# 77) otherwise, and when a qpipe package or /usr/bin/qpipe is already there
# (it never touches an installation it did not make). Whatever happens, the
# EXIT trap purges the package, and removes the qpipe user and /var/lib/qpipe
# when this test created them.
source "$(dirname "$0")/lib.sh"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "ok - package test # SKIP $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "not root (dpkg -i needs root)"
for tool in dpkg dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || skip "$tool is missing (dpkg-dev)"
done
build_dir=$(cd "$(dirname "$QPIPE")" && pwd)
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt" 2>/dev/null \
  && ! grep -q '^QPIPE_SANITIZE:BOOL=ON$' "$build_dir/CMakeCache.txt" \
  || skip "$build_dir is not a release build (the package is made from one)"

# One package test at a time on this machine: dpkg and the qpipe user are shared.
exec 9>/var/lock/qpipe-package-test.lock
flock -w 300 9 || skip "another package test holds /var/lock/qpipe-package-test.lock"
# A run that was killed before its EXIT trap leaves this marker beside its
# installation: that one is ours to remove, any other is not.
marker=/var/lib/qpipe-package-test.installed
if [ -e "$marker" ]; then
  echo "# removing what a killed run of this test left installed"
  dpkg --purge qpipe >/dev/null 2>&1 || true
  read -r made_user made_state <"$marker" || true
  [ "${made_user:-}" = 1 ] && { deluser --quiet --system qpipe >/dev/null 2>&1 || true; }
  [ "${made_state:-}" = 1 ] && rm -rf /var/lib/qpipe
  rm -f "$marker"
fi
status=$(dpkg-query -W -f='${db:Status-Status}' qpipe 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || skip "a qpipe package is installed ($status)"
[ ! -e /usr/bin/qpipe ] || skip "/usr/bin/qpipe exists and is not from a package this test made"

made_user=0 made_state=0
getent passwd qpipe >/dev/null || made_user=1
[ -e /var/lib/qpipe ] || made_state=1
listener_pid=""
uninstall() {
  [ -n "$listener_pid" ] && kill -9 "$listener_pid" 2>/dev/null
  if [ -n "$(dpkg-query -W -f='${db:Status-Status}' qpipe 2>/dev/null | grep -v '^not-installed$')" ]; then
    dpkg --purge qpipe >/dev/null 2>&1 || echo "# dpkg --purge qpipe failed"
  fi
  if [ "$made_user" = 1 ] && getent passwd qpipe >/dev/null; then
    deluser --quiet --system qpipe >/dev/null 2>&1 || userdel qpipe
  fi
  getent group qpipe >/dev/null && [ "$made_user" = 1 ] && { delgroup --quiet --system qpipe >/dev/null 2>&1 || true; }
  [ "$made_state" = 1 ] && rm -rf /var/lib/qpipe
  rm -f "$marker"
}
trap 'uninstall; cleanup' EXIT

# Build.
deb=$(QPIPE_MAINTAINER="qpipe tests <qpipe-tests@example.org>" \
  "$src/scripts/package" --build-dir "$build_dir" --out "$TMP/dist" 2>"$TMP/package.err"); rc=$?
check "scripts/package builds a .deb (exit $rc)" bash -c "[ $rc = 0 ] && [ -f '$deb' ]"
[ -f "$deb" ] || { cat "$TMP/package.err"; finish; exit; }
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$TMP/files"
for f in /usr/bin/qpipe /usr/share/man/man1/qpipe.1.gz /usr/share/bash-completion/completions/qpipe \
  /usr/share/zsh/vendor-completions/_qpipe /usr/share/fish/vendor_completions.d/qpipe.fish \
  /lib/systemd/system/qpipe-listen@.service /lib/systemd/system/qpipe-api.service \
  /usr/share/doc/qpipe/copyright /usr/share/doc/qpipe/changelog.Debian.gz \
  /usr/share/doc/qpipe/examples/config; do
  check "dpkg-deb -c lists $f" grep -qxF "$f" "$TMP/files"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6 libuv1 libzstd1 libxxhash0 adduser; do
  check "Depends names $lib ($depends)" grep -q "\(^\|, \)$lib\( \|,\|$\)" <<<"$depends"
done
check "Depends names neither ngtcp2 nor wolfSSL (linked in)" bash -c "! grep -qiE 'ngtcp2|wolfssl' <<<'$depends'"
check "the package is for this architecture" [ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ]

if command -v lintian >/dev/null; then
  lintian --fail-on error,warning "$deb" >"$TMP/lintian.out" 2>&1; rc=$?
  check "lintian finds no error or warning (exit $rc)" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || sed 's/^/    | /' "$TMP/lintian.out"
else
  echo "ok - lintian # SKIP lintian is not installed"
fi

# Install.
printf '%s %s\n' "$made_user" "$made_state" >"$marker"
dpkg -i "$deb" >"$TMP/install.out" 2>&1; rc=$?
check "dpkg -i installs it (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    | /' "$TMP/install.out"
version=$(/usr/bin/qpipe --version 2>&1 | head -n1)
check "/usr/bin/qpipe --version runs from the package ($version)" \
  [ "$version" = "qpipe $(dpkg-deb -f "$deb" Version | sed 's/-[^-]*$//')" ]
check "the qpipe system user: home /var/lib/qpipe, no login shell" \
  bash -c "getent passwd qpipe | grep -q ':/var/lib/qpipe:/usr/sbin/nologin$'"
if command -v man >/dev/null; then
  check "man finds the installed page" [ "$(man -w qpipe 2>/dev/null)" = /usr/share/man/man1/qpipe.1.gz ]
fi
check "the installed bash completion loads" bash -c "source /usr/share/bash-completion/completions/qpipe && complete -p qpipe >/dev/null"

if command -v systemd-analyze >/dev/null; then
  man_opt=(); command -v man >/dev/null || man_opt=(--man=no)
  systemd-analyze verify "${man_opt[@]}" qpipe-listen@4433.service qpipe-api.service >"$TMP/verify.out" 2>&1; rc=$?
  check "systemd-analyze verify accepts qpipe-listen@4433 and qpipe-api (exit $rc)" \
    bash -c "[ $rc = 0 ] && [ ! -s $TMP/verify.out ]"
  [ -s "$TMP/verify.out" ] && sed 's/^/    | /' "$TMP/verify.out"
else
  echo "ok - systemd-analyze verify # SKIP systemd-analyze is not installed (apt-get install systemd)"
fi

# qpipe-listen@PORT as systemd would run it: the unit's ExecStart with %i
# the port, as the qpipe user with the unit's environment and umask, in the
# state directories systemd would make. Without systemd as PID 1 the unit
# itself cannot start here, so this runs its command line.
unit=/lib/systemd/system/qpipe-listen@.service
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", 0)); print(s.getsockname()[1])')
exec_start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s/%i/$port/g; s/ \$QPIPE_OPTIONS//")
data_home=$(sed -n 's/^Environment=XDG_DATA_HOME=//p' "$unit")
umask_=$(sed -n 's/^UMask=//p' "$unit")
state_mode=$(sed -n 's/^StateDirectoryMode=//p' "$unit")
check "the unit's command line: -l -k -o /var/lib/qpipe/PORT/ :PORT ($exec_start)" \
  [ "$exec_start" = "/usr/bin/qpipe -l -k -o /var/lib/qpipe/$port/ :$port" ]
install -d -o qpipe -g qpipe -m "$state_mode" /var/lib/qpipe "/var/lib/qpipe/$port"
bg svc "echo \$\$ >'$TMP/svc.pid'; umask $umask_; cd /var/lib/qpipe/$port && exec setpriv --reuid=qpipe --regid=qpipe --init-groups env -i XDG_DATA_HOME=$data_home HOME=/var/lib/qpipe $exec_start"
wait_for "grep -qs 'listening on' '$TMP/svc.err'" 15
listener_pid=$(cat "$TMP/svc.pid" 2>/dev/null)
fp=$(sed -n 's/.*listening on \[::\]:[0-9]*, fingerprint \(SHA256:[^ ]*\).*/\1/p' "$TMP/svc.err")
check "the listener prints its fingerprint (to the journal, under systemd)" [ -n "$fp" ]
check "its identity is kept in the state directory, owned by qpipe, mode 0600" \
  bash -c "[ \"\$(stat -c '%U %a' $data_home/qpipe/identity.key)\" = 'qpipe 600' ]"
head -c 100000 /dev/urandom >"$TMP/payload.bin"
/usr/bin/qpipe --pin "$fp" "127.0.0.1:$port" "$TMP/payload.bin" 2>"$TMP/send.err"; rc=$?
check "a file sent by name arrives in /var/lib/qpipe/PORT (exit $rc)" \
  cmp -s "$TMP/payload.bin" "/var/lib/qpipe/$port/payload.bin"
check "... owned by qpipe, in a directory others cannot enter (StateDirectoryMode=$state_mode)" \
  bash -c "[ \"\$(stat -c %U /var/lib/qpipe/$port/payload.bin) \$(stat -c %a /var/lib/qpipe/$port)\" = 'qpipe 750' ]"
kill -INT "$listener_pid" 2>/dev/null; wait_rc svc 10 >/dev/null; listener_pid=""

# qpipe-api.service the same way, on a free port instead of 8000.
api_unit=/lib/systemd/system/qpipe-api.service
api_start=$(sed -n 's/^ExecStart=//p' "$api_unit" | sed 's/\$QPIPE_API_OPTIONS/--port 0/')
api_env=$(sed -n 's/^Environment=//p' "$api_unit")
install -d -o qpipe -g qpipe -m "$(sed -n 's/^StateDirectoryMode=//p' "$api_unit")" /var/lib/qpipe/api
bg api "echo \$\$ >'$TMP/api.pid'; cd /var/lib/qpipe/api && exec setpriv --reuid=qpipe --regid=qpipe --init-groups env -i $api_env HOME=/var/lib/qpipe $api_start"
wait_for "grep -qs 'api listening on' '$TMP/api.err'" 15
listener_pid=$(cat "$TMP/api.pid" 2>/dev/null)
api_port=$(sed -n 's|.*api listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/api.err")
if command -v curl >/dev/null; then
  check "qpipe-api's command line serves /v1/health on loopback" \
    bash -c "curl -sf http://127.0.0.1:$api_port/v1/health | grep -q '\"status\":\"ok\"'"
else
  check "qpipe-api's command line starts on loopback" [ -n "$api_port" ]
fi
kill -INT "$listener_pid" 2>/dev/null; wait_rc api 10 >/dev/null; listener_pid=""

# Remove, then purge.
dpkg -r qpipe >"$TMP/remove.out" 2>&1; rc=$?
check "dpkg -r removes it (exit $rc)" bash -c "[ $rc = 0 ] && [ ! -e /usr/bin/qpipe ] && [ ! -e $unit ]"
dpkg --purge qpipe >"$TMP/purge.out" 2>&1; rc=$?
check "dpkg --purge: nothing of the package is left (exit $rc)" \
  bash -c "[ $rc = 0 ] && [ \"\$(dpkg-query -W -f='\${db:Status-Status}' qpipe 2>/dev/null)\" != installed ]"
check "purge removes the identity but keeps received files" \
  bash -c "[ ! -e $data_home/qpipe ] && [ -f /var/lib/qpipe/$port/payload.bin ]"
finish
