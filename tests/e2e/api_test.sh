#!/usr/bin/env bash
# qpipe api: a listener and a send started by POST move 64 MiB into a file
# under --root; every promised error status; bearer tokens; /metrics and
# /openapi.json; cancelling; graceful shutdown.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "ok - api tests # SKIP curl is not installed"; finish; exit; }
mkdir -p "$TMP/root/sub" "$TMP/outside"
echo secret > "$TMP/outside/x"
ln -s "$TMP/outside" "$TMP/root/link"
"$QPIPE" gen --seed 3 1M > "$TMP/root/sub/small.bin"

# api NAME ARGS: starts `qpipe api` and sets API to its base URL.
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
}
# req METHOD PATH [BODY] [extra curl args...]: prints the status; the body lands in $TMP/body.
req() {
  local method=$1 path=$2 body=${3:-}
  shift 3 2>/dev/null || shift $#
  curl -s -o "$TMP/body" -w '%{http_code}' -X "$method" ${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$@" "$API$path"
}
field() { python3 -c "import json,sys; d=json.load(open('$TMP/body')); print($1)"; }

api a ""
check "GET /v1/health: 200 with the version" bash -c "[ \$(curl -s -o $TMP/h -w '%{http_code}' $API/v1/health) = 200 ] && grep -q '\"status\":\"ok\"' $TMP/h && grep -q version $TMP/h"

# The main job: a listener and a send, 64 MiB of gen data into a file.
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"got.bin"}')
lid=$(field "d['id']"); lport=$(field "d['listen'].rsplit(':',1)[1]")
check "POST /v1/listeners: 201 (got $st)" [ "$st" = 201 ]
st=$(req POST /v1/sends "{\"peer\":\"127.0.0.1:$lport\",\"source\":{\"gen\":{\"size\":\"64M\",\"seed\":7}},\"zstd\":3,\"streams\":8,\"insecure\":true}")
sid=$(field "d['id']")
check "POST /v1/sends: 201 (got $st)" [ "$st" = 201 ]
wait_for "[ \"\$(curl -s $API/v1/transfers/$sid | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" != running ]" 60
req GET /v1/transfers/$sid >/dev/null
check "the send ends done" [ "$(field "d['state']")" = done ]
req GET /v1/transfers/$lid >/dev/null
check "the listener ends done, 64 MiB" bash -c "[ \"\$(python3 -c \"import json; d=json.load(open('$TMP/body')); print(d['state'], d['bytes'])\")\" = 'done 67108864' ]"
check "the file under --root checks out" bash -c "$QPIPE gen --check --seed 7 64M < $TMP/root/got.bin"
st=$(req GET /v1/transfers)
check "GET /v1/transfers lists both" bash -c "[ $st = 200 ] && [ \"\$(python3 -c \"import json; print(len(json.load(open('$TMP/body'))['transfers']))\")\" = 2 ]"

# A send from a file under --root.
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"copy.bin"}'); lport=$(field "d['listen'].rsplit(':',1)[1]")
st=$(req POST /v1/sends "{\"peer\":\"127.0.0.1:$lport\",\"source\":{\"path\":\"sub/small.bin\"},\"insecure\":true}"); sid=$(field "d['id']")
wait_for "curl -s $API/v1/transfers/$sid | grep -q '\"state\":\"done\"'" 30
check "a send of a file under --root arrives" cmp "$TMP/root/sub/small.bin" "$TMP/root/copy.bin"

# Errors, each where promised.
check "400 for malformed JSON" [ "$(req POST /v1/sends '{"peer":')" = 400 ]
check "400 body is {error:{code,message}}" bash -c "python3 -c \"import json; e=json.load(open('$TMP/body'))['error']; assert e['code'] and e['message']\""
check "404 for an unknown id" [ "$(req GET /v1/transfers/nope)" = 404 ]
check "404 for an unknown path" [ "$(req GET /v1/nothing)" = 404 ]
check "405 for a wrong method" [ "$(req PUT /v1/transfers)" = 405 ]
check "422 for a missing field, named" bash -c "[ \$(curl -s -o $TMP/b2 -w '%{http_code}' -XPOST -d '{\"source\":{\"gen\":{\"size\":\"1M\"}}}' $API/v1/sends) = 422 ] && grep -q peer $TMP/b2"
check "422 for a wrong type, named" bash -c "[ \$(curl -s -o $TMP/b3 -w '%{http_code}' -XPOST -d '{\"peer\":5,\"source\":{\"gen\":{\"size\":\"1M\"}}}' $API/v1/sends) = 422 ] && grep -q peer $TMP/b3"
check "403 for .. out of --root" [ "$(req POST /v1/sends '{"peer":"127.0.0.1:9","source":{"path":"../outside/x"}}')" = 403 ]
check "403 for an absolute path" [ "$(req POST /v1/listeners '{"output":"/tmp/evil"}')" = 403 ]
check "403 for a symlink out of --root" [ "$(req POST /v1/sends '{"peer":"127.0.0.1:9","source":{"path":"link/x"}}')" = 403 ]
head -c 2000000 /dev/zero | tr '\0' 'a' > "$TMP/big.json"
check "413 for a body too large" [ "$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data-binary @"$TMP/big.json" "$API/v1/sends")" = 413 ]

# Cancel a running send.
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"slow.bin"}'); lport=$(field "d['listen'].rsplit(':',1)[1]")
st=$(req POST /v1/sends "{\"peer\":\"127.0.0.1:$lport\",\"source\":{\"gen\":{\"size\":\"1G\"}},\"limit\":\"10M\",\"insecure\":true}"); sid=$(field "d['id']")
st=$(req DELETE /v1/transfers/$sid)
check "DELETE a running send: 200" [ "$st" = 200 ]
wait_for "curl -s $API/v1/transfers/$sid | grep -q '\"state\":\"cancelled\"'" 20
check "the cancelled send is reported cancelled" bash -c "curl -s $API/v1/transfers/$sid | grep -q '\"state\":\"cancelled\"'"
check "DELETE it again: 409" [ "$(req DELETE /v1/transfers/$sid)" = 409 ]
check "nothing was left at the listener's output" bash -c "[ ! -e $TMP/root/slow.bin ]"

# /metrics parses as Prometheus text; /openapi.json is an OpenAPI 3 document.
curl -s "$API/metrics" > "$TMP/metrics"
check "/metrics is Prometheus text" python3 - "$TMP/metrics" <<'PY'
import re, sys
ok = False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    m = re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+|NaN', line)
    if not m: sys.exit("bad line: " + line)
    ok = True
for name in ("qpipe_transfers", "qpipe_transfer_bytes", "qpipe_transfer_wire_bytes", "qpipe_api_requests_total", "qpipe_api_connections_open"):
    if name not in open(sys.argv[1]).read(): sys.exit("missing " + name)
sys.exit(0 if ok else 1)
PY
curl -s "$API/openapi.json" > "$TMP/openapi.json"
check "/openapi.json is OpenAPI 3 with every endpoint" python3 - "$TMP/openapi.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["openapi"].startswith("3."), d["openapi"]
assert d["info"]["title"] and d["info"]["version"]
want = {"/v1/health": ["get"], "/v1/sends": ["post"], "/v1/listeners": ["post"], "/v1/transfers": ["get"],
        "/v1/transfers/{id}": ["get", "delete"], "/metrics": ["get"], "/openapi.json": ["get"]}
for p, methods in want.items():
    for m in methods:
        assert "responses" in d["paths"][p][m], (p, m)
def refs(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(x, list):
        for v in x: yield from refs(v)
for r in refs(d):
    name = r.split("/")[-1]
    assert name in d["components"]["schemas"], r
PY

# Graceful shutdown: running transfers are cancelled and reported, the port released.
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"last.bin"}'); lport=$(field "d['listen'].rsplit(':',1)[1]")
port=${API##*:}
pkill -TERM -f "^$QPIPE api --port 0 --root $TMP/root"
rc=$(wait_rc a 20)
check "SIGTERM: exit 130 (got $rc)" [ "$rc" = 130 ]
check "SIGTERM: says it cancels running transfers" grep -q "cancelling running transfers" "$TMP/a.err"
check "SIGTERM: the HTTP port is released (a new server can listen on it)" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen()"

# A token: 401 without it or with a wrong one; 200 with it.
printf 'tok3n\n' > "$TMP/token"; chmod 600 "$TMP/token"
api b "--token-file $TMP/token"
check "401 without a token" [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/v1/health")" = 401 ]
check "401 with a wrong token" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$API/v1/health")" = 401 ]
check "200 with the token" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok3n' "$API/v1/health")" = 200 ]
pkill -INT -f "^$QPIPE api --port 0 --root $TMP/root --token-file"; wait_rc b 10 >/dev/null

# Binding a non-loopback address without a token: refused at start.
timeout 10 "$QPIPE" api --bind 0.0.0.0 --port 0 --root "$TMP/root" 2>"$TMP/nl.err"; rc=$?
check "non-loopback bind without a token: refuses to start (exit 2, got $rc)" [ "$rc" = 2 ]
finish
