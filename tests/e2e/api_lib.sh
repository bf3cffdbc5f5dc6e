# Helpers for the tests of `qpipe api`, sourced after lib.sh: start a
# service, ask it things with its token, read JSON answers, wait for states.
command -v curl >/dev/null || { echo "ok - api tests # SKIP curl is not installed"; exit 77; }
# The generated token of each service lands in this test's runtime directory.
export XDG_RUNTIME_DIR=$TMP/run
mkdir -p "$TMP/run" "$TMP/root"
chmod 700 "$TMP/run"

# api NAME [ARGS]: starts `qpipe api --port 0 --root $TMP/root ARGS` and sets
# API (its base URL, without the last /) and TOKEN (API_TOKEN when the
# caller set one, else the generated one).
api() {
  local name=$1
  shift
  bg "$name" "exec timeout 300 $QPIPE api --port 0 --root $TMP/root $*"
  API=
  if wait_for "grep -qs 'api listening on' '$TMP/$name.err'" 15; then
    API=$(sed -n 's/.*api listening on \(http:[^ ]*\).*/\1/p' "$TMP/$name.err" | head -n1)
    API=${API%/}
  fi
  [ -n "$API" ] || { echo "api $name did not start"; cat "$TMP/$name.err"; }
  TOKEN=${API_TOKEN:-$(cat "$XDG_RUNTIME_DIR/qpipe/api-token" 2>/dev/null)}
}
# The pid of the qpipe of `api NAME` (bg's subshell -> timeout -> qpipe).
api_pid() {
  local t
  t=$(pgrep -P "${PIDS[$1]}" | head -n1)
  [ -n "$t" ] && pgrep -P "$t" | head -n1
}
# stop_api NAME [SIGNAL]: stops it and prints its exit status.
stop_api() {
  local pid
  pid=$(api_pid "$1")
  [ -n "$pid" ] && kill "-${2:-INT}" "$pid"
  wait_rc "$1" 20
}
# req METHOD PATH [BODY] [curl args...]: prints the status; the body lands in
# $TMP/body. With the token, and a JSON body as JSON.
req() {
  local method=$1 path=$2 body=${3:-}
  shift 3 2>/dev/null || shift $#
  curl -s -o "$TMP/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $TOKEN" \
    ${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$@" "$API$path"
}
# field EXPR: a Python expression over d, the JSON of the last answer.
field() { python3 -c "import json,sys; d=json.load(open('$TMP/body')); print($1)"; }
# state ID: the state of a transfer.
state() {
  curl -s -H "Authorization: Bearer $TOKEN" "$API/v1/transfers/${1:-none}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("state"))' 2>/dev/null
}
# wait_state ID STATE [SECONDS]
wait_state() { wait_for "[ \"\$(state $1)\" = $2 ]" "${3:-30}"; }
# listen_port: the port of the listener in the last answer.
listen_port() { field "d['listen'].rsplit(':',1)[1]"; }
