# Helpers for the end-to-end tests: each *_test.sh sources this file, runs the
# real qpipe binary against itself over loopback, and ends with `finish`,
# which prints "N passed, M failed" and sets the exit status.
# Every process runs under `timeout`; waits poll for a condition, bounded.
set -u
: "${QPIPE:?set QPIPE to the qpipe binary (ctest does)}"
# qpipe with test hooks (tests/tools/test_hooks.cc), for a sender that lies.
QPIPE_TEST_HOOKS=${QPIPE_TEST_HOOKS:-$(dirname "$QPIPE")/tests/qpipe-test-hooks}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qpipe-e2e.XXXXXX")
declare -A PIDS=()
PASSED=0 FAILED=0
# Each test file has its own identity, known_hosts and no secret.
export XDG_CONFIG_HOME=$TMP/config XDG_DATA_HOME=$TMP/data
unset QPIPE_SECRET

cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() {
  FAILED=$((FAILED + 1))
  echo "not ok - $1"
  shift
  for f in "$@"; do [ -f "$f" ] && sed 's/^/    | /' "$f" | tail -n 20; done
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Memory figures mean nothing under AddressSanitizer (shadow memory, and a
# quarantine that keeps freed blocks): check_memory skips there.
sanitized() { grep -qa __asan_init "$QPIPE"; }
check_memory() {
  if sanitized; then echo "ok - $1 # SKIP memory is not measured under AddressSanitizer"; return; fi
  check "$@"
}

# bg NAME 'shell command': runs it in the background; stdout, stderr and the
# exit status land in $TMP/NAME.{out,err,rc}.
bg() {
  local name=$1 cmd=$2
  rm -f "$TMP/$name.rc" "$TMP/$name.out" "$TMP/$name.err"
  ( bash -c "$cmd" >"$TMP/$name.out" 2>"$TMP/$name.err"; echo $? >"$TMP/$name.rc" ) &
  PIDS[$name]=$!
}

# wait_for COND_COMMAND [SECONDS]: polls until the command succeeds.
wait_for() {
  local cond=$1 limit=${2:-15} i=0
  while ! eval "$cond"; do
    i=$((i + 1))
    [ $i -gt $((limit * 20)) ] && return 1
    sleep 0.05
  done
}

# wait_rc NAME [SECONDS]: waits for a background command; prints its exit status.
wait_rc() {
  local name=$1 limit=${2:-120}
  wait_for "[ -s '$TMP/$name.rc' ]" "$limit" || { echo timeout; return; }
  cat "$TMP/$name.rc"
}

# listener NAME 'ARGS' ['| consumer']: starts `qpipe -l` on an ephemeral port
# of 127.0.0.1 (or ARGS' own address) and sets PORT once it is listening.
listener() {
  local name=$1 args=$2 tail=${3:-}
  bg "$name" "exec 3>&1; timeout 300 $QPIPE -l $args $tail"
  PORT=
  if wait_for "grep -qs 'listening on' '$TMP/$name.err'" 15; then
    PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$TMP/$name.err" | head -n1)
  fi
  [ -n "$PORT" ] || { echo "listener $name did not start"; cat "$TMP/$name.err"; }
}

# The pid of the qpipe process started by bg NAME (its first qpipe child).
qpipe_pid() {
  pgrep -f -n "$QPIPE $1" 2>/dev/null
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
