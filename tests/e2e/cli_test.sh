#!/usr/bin/env bash
# The command line as users meet it: --help agrees with the man page, -V
# names the libraries, and every error is one `qpipe: ` line on stderr with
# the documented exit status, nothing on stdout, and for usage errors a hint;
# the shipped binary carries no test hooks.
source "$(dirname "$0")/lib.sh"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# --help: exit 0, on stdout only, and the same long options as man/qpipe.1.
"$QPIPE" --help >"$TMP/help.out" 2>"$TMP/help.err"
check "--help exits 0" [ $? = 0 ]
check "--help writes nothing to stderr" [ ! -s "$TMP/help.err" ]
check "--help starts with the usage" grep -q "^Usage: qpipe" "$TMP/help.out"
"$QPIPE" -h >"$TMP/h.out" 2>/dev/null
check "-h is --help" cmp -s "$TMP/help.out" "$TMP/h.out"

grep -o -- '--[a-z0-9-]*' "$TMP/help.out" | sort -u >"$TMP/help.opts"
grep -o '\\fB\\-\\-\([a-z0-9]\|\\-\)*' "$src/man/qpipe.1" | sed 's/\\fB//; s/\\-/-/g' |
  sort -u >"$TMP/man.opts"
check "the man page lists options" [ "$(wc -l <"$TMP/man.opts")" -ge 20 ]
missing=$(comm -23 "$TMP/man.opts" "$TMP/help.opts" | tr '\n' ' ')
check "--help lists every option of the man page${missing:+ (missing: $missing)}" [ -z "$missing" ]
missing=$(comm -13 "$TMP/man.opts" "$TMP/help.opts" | tr '\n' ' ')
check "the man page lists every option of --help${missing:+ (missing: $missing)}" [ -z "$missing" ]

# `qpipe gen --help`: the gen options, not the transfer ones.
"$QPIPE" gen --help >"$TMP/genhelp.out" 2>&1
check "gen --help exits 0" [ $? = 0 ]
for opt in --seed --kind --check --force --quiet --help; do
  check "gen --help shows $opt" grep -q -- "$opt\b" "$TMP/genhelp.out"
done
for opt in --streams --listen --output --chunk-size; do
  check "gen --help leaves out $opt" bash -c "! grep -q -- '$opt\b' '$TMP/genhelp.out'"
done

# -V: qpipe's version and those of the libraries.
"$QPIPE" -V >"$TMP/v.out" 2>"$TMP/v.err"
check "-V exits 0" [ $? = 0 ]
check "-V writes nothing to stderr" [ ! -s "$TMP/v.err" ]
check "-V starts with 'qpipe VERSION'" grep -Eq '^qpipe [0-9]+\.[0-9]+' "$TMP/v.out"
for lib in ngtcp2 wolfSSL libuv zstd; do
  check "-V names $lib and its version" grep -Eq "(^|[ ,])$lib [0-9]+\.[0-9]+\.[0-9]+" "$TMP/v.out"
done
# scripts/deps builds them from Debian's source packages and patch series.
for lib in ngtcp2 wolfSSL; do
  check "-V names the Debian revision of $lib" \
    grep -Eq "(^|[ ,])$lib [0-9.]+ \(Debian [0-9][^ )]*( \+ [^)]*)?\)" "$TMP/v.out"
done
"$QPIPE" --version >"$TMP/version.out" 2>/dev/null
check "--version is -V" cmp -s "$TMP/v.out" "$TMP/version.out"

# Usage errors: exit 2, one `qpipe: ` message naming the culprit, the hint,
# nothing on stdout.
# usage_error DESCRIPTION WORD ARGS...: WORD must appear in the message.
usage_error() {
  local desc=$1 word=$2
  shift 2
  timeout 10 "$QPIPE" "$@" </dev/null >"$TMP/u.out" 2>"$TMP/u.err"
  local rc=$?
  local first
  first=$(head -n1 "$TMP/u.err")
  if [ "$rc" != 2 ]; then
    not_ok "$desc: exit 2 (got $rc)" "$TMP/u.err"
  elif [ -s "$TMP/u.out" ]; then
    not_ok "$desc: nothing on stdout" "$TMP/u.out"
  elif [[ $first != "qpipe: "* ]]; then
    not_ok "$desc: the message starts with 'qpipe: '" "$TMP/u.err"
  elif [[ $first != *"$word"* ]]; then
    not_ok "$desc: the message names '$word'" "$TMP/u.err"
  elif [ "$(sed -n 2p "$TMP/u.err")" != "Try 'qpipe --help' for more information." ] ||
    [ "$(wc -l <"$TMP/u.err")" != 2 ]; then
    not_ok "$desc: one message line, then the hint" "$TMP/u.err"
  else
    ok "$desc: exit 2, 'qpipe: ' message, hint, empty stdout"
  fi
}
usage_error "no destination" "destination"
usage_error "unknown long option" "--no-such-option" --no-such-option host
usage_error "unknown short option" "-Y" -Y host
usage_error "missing argument" "--streams" host --streams
usage_error "flag with a value" "--listen" --listen=yes
usage_error "--streams 0" "--streams" --streams 0 host
usage_error "--streams 257" "--streams" --streams 257 host
usage_error "-P junk" "-P" -P eight host
usage_error "--chunk-size too small" "--chunk-size" --chunk-size 1K host
usage_error "--chunk-size too large" "--chunk-size" --chunk-size 32M host
usage_error "bad --cc" "--cc" --cc vegas host
usage_error "bad --stats" "--stats" --stats=yaml host
usage_error "-o when sending" "-o" -o out host
usage_error "-P when listening" "-P" -l -P 4
usage_error "--seed outside gen" "--seed" --seed 1 host
usage_error "malformed --pin" "--pin" --pin SHA256:x host
usage_error "--resume with gen" "--resume" gen --resume 1M
usage_error "port out of range" "70000" host:70000
usage_error "empty port" "host:" host:
usage_error "listen port out of range" "70000" -l 127.0.0.1:70000
usage_error "gen without SIZE" "SIZE" gen
usage_error "gen bad SIZE" "SIZE" gen 12Q
usage_error "gen bad --kind" "--kind" gen 1M --kind noise
usage_error "gen with -l" "-l" gen -l 1M
usage_error "api with an extra argument" "extra" api extra
usage_error "stdin named twice" "stdin" host - -

# Help and version win over the usage errors that come after parsing.
"$QPIPE" --streams 0 --help >"$TMP/hw.out" 2>"$TMP/hw.err"
rc=$?
check "--help wins over a bad value: exit 0 (got $rc)" [ $rc = 0 ]
check "--help wins over a bad value: the help, no message" \
  bash -c "cmp -s '$TMP/help.out' '$TMP/hw.out' && [ ! -s '$TMP/hw.err' ]"
"$QPIPE" -l -P 4 -V >/dev/null 2>&1
check "-V wins over an option of another mode" [ $? = 0 ]

# Other failures: their own exit status, a `qpipe: ` line, no hint, nothing
# on stdout.
# other_error DESCRIPTION STATUS SHELL-COMMAND
other_error() {
  local desc=$1 want=$2 cmd=$3
  timeout 30 bash -c "$cmd" >"$TMP/o.out" 2>"$TMP/o.err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    not_ok "$desc: exit $want (got $rc)" "$TMP/o.err"
  elif [ -s "$TMP/o.out" ]; then
    not_ok "$desc: nothing on stdout" "$TMP/o.out"
  elif [ ! -s "$TMP/o.err" ] || grep -qv '^qpipe: ' "$TMP/o.err"; then
    not_ok "$desc: every stderr line starts with 'qpipe: '" "$TMP/o.err"
  else
    ok "$desc: exit $want, 'qpipe: ' message, no hint, empty stdout"
  fi
}
other_error "gen --check on short input" 1 "'$QPIPE' gen --check 10 </dev/null"
other_error "gen --check on wrong data" 1 "'$QPIPE' gen 1K --seed 1 | '$QPIPE' gen --check 1K"
other_error "nobody listening" 3 "'$QPIPE' 127.0.0.1:9 </dev/null"
other_error "unknown host" 3 "'$QPIPE' no-such-host.invalid </dev/null"
other_error "gen --check, stdin unreadable" 5 "'$QPIPE' gen --check 10 <'$TMP'"

# Test hooks are not shipped: the release binary names no QPIPE_TEST_
# variable (the test build does, which shows that the check can see them).
if command -v strings >/dev/null; then
  check "the shipped qpipe names no QPIPE_TEST_ variable" \
    bash -c "! strings '$QPIPE' | grep -q QPIPE_TEST_"
  check "qpipe-test-hooks does (the check above can see them)" \
    bash -c "strings '$QPIPE_TEST_HOOKS' | grep -q QPIPE_TEST_TAMPER"
else
  echo "ok - the shipped qpipe names no QPIPE_TEST_ variable # SKIP strings (binutils) is not installed"
fi

finish
