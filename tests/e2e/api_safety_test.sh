#!/usr/bin/env bash
# qpipe api is safe to leave running (SPEC §6): a web page cannot drive it
# (a body not declared JSON: 415; a foreign Origin: 403; a rebound Host:
# 403), a listener does not replace a file unless asked and needs a secret
# on a non-loopback address, live sends and listeners are capped (429), and
# finished records are removed by DELETE, beyond a count and after an age.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/api_lib.sh"
echo "keep me" > "$TMP/root/precious.txt"
echo "secret data" > "$TMP/root/secret.txt"

api a
port=${API##*:}
count() { req GET /v1/transfers >/dev/null; field "len(d['transfers'])"; }

# The cross-site request of the report: it carried the token here (a
# browser's cookie would), and is refused in each of its three forms.
body='{"peer":"127.0.0.1:9","source":{"path":"secret.txt"},"insecure":true}'
st=$(curl -s -o "$TMP/body" -w '%{http_code}' -XPOST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: text/plain' --data-binary "$body" "$API/v1/sends")
check "cross-site form 1, Content-Type text/plain: 415 (got $st)" [ "$st" = 415 ]
st=$(curl -s -o "$TMP/body" -w '%{http_code}' -XPOST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$body" "$API/v1/sends")
check "a form post: 415 (got $st)" [ "$st" = 415 ]
st=$(req POST /v1/sends "$body" -H 'Origin: http://evil.example')
check "cross-site form 2, Origin http://evil.example: 403 (got $st)" [ "$st" = 403 ]
st=$(req POST /v1/sends "$body" -H "Host: evil.example:$port")
check "cross-site form 3, Host evil.example (DNS rebinding): 403 (got $st)" [ "$st" = 403 ]
st=$(req GET /v1/transfers '' -H "Host: evil.example:$port")
check "a rebound Host cannot read either: 403 (got $st)" [ "$st" = 403 ]
check "none of them started a transfer" [ "$(count)" = 0 ]
st=$(req GET /v1/health '' -H "Host: localhost:$port" -H "Origin: http://localhost:$port")
check "the service's own origin and a loopback name: 200 (got $st)" [ "$st" = 200 ]

# A listener does not replace what is there unless asked.
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"precious.txt"}')
check "a listener onto an existing file: 409 (got $st)" [ "$st" = 409 ]
check "  ... and the message says how to replace it" grep -q '\\"overwrite\\": true' "$TMP/body"
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"precious.txt","overwrite":true}')
lid=$(field "d['id']"); lport=$(listen_port)
check "with \"overwrite\": true: 201 (got $st)" [ "$st" = 201 ]
timeout 30 "$QPIPE" -q --insecure "127.0.0.1:$lport" < "$TMP/root/secret.txt"
wait_state "$lid" done 20
check "  ... and the file is replaced" cmp "$TMP/root/secret.txt" "$TMP/root/precious.txt"
# Files into a directory: one that is there is not replaced.
mkdir -p "$TMP/root/in"; echo old > "$TMP/root/in/a.txt"; echo new > "$TMP/a.txt"
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"in"}'); lid=$(field "d['id']"); lport=$(listen_port)
timeout 30 "$QPIPE" -q --insecure "127.0.0.1:$lport" "$TMP/a.txt" 2>/dev/null; rc=$?
wait_for "[ \"\$(state $lid)\" != pending ] && [ \"\$(state $lid)\" != running ]" 20
check "a sent file onto an existing one in the directory: refused (exit $rc), the old one stays" \
  bash -c "[ $rc != 0 ] && [ \"\$(cat $TMP/root/in/a.txt)\" = old ]"

# A listener that other hosts can reach needs a secret.
st=$(req POST /v1/listeners '{"listen":":0","output":"open.bin"}')
check "a listener on all addresses without a secret: 403 (got $st)" [ "$st" = 403 ]
st=$(req POST /v1/listeners '{"listen":"0.0.0.0:0","output":"open.bin"}')
check "a listener on 0.0.0.0 without a secret: 403 (got $st)" [ "$st" = 403 ]
check "  ... and the message names the two ways" bash -c "grep -q secret $TMP/body && grep -q allow_unauthenticated $TMP/body"
st=$(req POST /v1/listeners '{"listen":":0","output":"open.bin","secret":"s3cret"}'); l1=$(field "d['id']")
check "with a secret: 201 (got $st)" [ "$st" = 201 ]
st=$(req POST /v1/listeners '{"listen":":0","output":"open2.bin","allow_unauthenticated":true}'); l2=$(field "d['id']")
check "with \"allow_unauthenticated\": true: 201 (got $st)" [ "$st" = 201 ]

# DELETE of a finished transfer removes its record.
req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"gone.bin"}' >/dev/null; gone=$(field "d['id']")
req DELETE /v1/transfers/$gone >/dev/null
wait_state "$gone" cancelled 20
st=$(req DELETE /v1/transfers/$gone)
check "DELETE of a finished transfer: 200 (got $st)" [ "$st" = 200 ]
check "  ... it is gone: 404" [ "$(req GET /v1/transfers/$gone)" = 404 ]
req GET /v1/transfers >/dev/null
check "  ... and no longer listed" [ "$(field "[t['id'] for t in d['transfers'] if t['id'] == '$gone']")" = "[]" ]
check "DELETE of it again: 404" [ "$(req DELETE /v1/transfers/$gone)" = 404 ]
stop_api a >/dev/null

api b "--allow-host qpipe.example"
st=$(req GET /v1/health '' -H "Host: qpipe.example:443" -H "Origin: https://qpipe.example:443")
check "--allow-host NAME: that Host is accepted (got $st)" [ "$st" = 200 ]
st=$(req GET /v1/health '' -H "Host: other.example:443")
check "  ... and no other (got $st)" [ "$st" = 403 ]
stop_api b >/dev/null

# Caps on what runs at once.
api c "--max-listeners 2 --max-sends 1"
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"first.bin"}'); l1=$(field "d['id']")
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"second.bin"}'); l2=$(field "d['id']")
check "two listeners: 201 (got $st)" [ "$st" = 201 ]
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"third.bin"}')
check "a listener beyond --max-listeners: 429 (got $st)" [ "$st" = 429 ]
check "  ... which names the option" grep -q -- --max-listeners "$TMP/body"
req DELETE /v1/transfers/$l2 >/dev/null
wait_state "$l2" cancelled 20
st=$(req POST /v1/listeners '{"listen":"127.0.0.1:0","output":"slow.bin"}'); l3=$(field "d['id']"); lport=$(listen_port)
check "once one has ended, a listener again: 201 (got $st)" [ "$st" = 201 ]
st=$(req POST /v1/sends "{\"peer\":\"127.0.0.1:$lport\",\"source\":{\"gen\":{\"size\":\"1G\"}},\"limit\":\"1M\",\"insecure\":true}"); s1=$(field "d['id']")
check "a send: 201 (got $st)" [ "$st" = 201 ]
st=$(req POST /v1/sends "{\"peer\":\"127.0.0.1:$lport\",\"source\":{\"gen\":{\"size\":\"1M\"}},\"insecure\":true}")
check "a send beyond --max-sends: 429 (got $st)" [ "$st" = 429 ]
for id in $s1 $l1 $l3; do req DELETE /v1/transfers/$id >/dev/null; done
stop_api c >/dev/null

# Finished records are kept up to --max-records, and for --record-ttl seconds.
# Two services: on a loaded machine five cancelled listeners can take longer
# than a short TTL, which would expire the records the first check counts.
finished_listeners() {
  for i in 1 2 3 4 5; do
    req POST /v1/listeners "{\"listen\":\"127.0.0.1:0\",\"output\":\"r$i.bin\"}" >/dev/null; id=$(field "d['id']")
    req DELETE /v1/transfers/$id >/dev/null; wait_state "$id" cancelled 20
  done
}
api d "--max-records 3 --record-ttl 600"
finished_listeners
req GET /v1/transfers >/dev/null
check "--max-records 3: the three latest finished records are kept" [ "$(field "[t['id'] for t in d['transfers']]")" = "['t3', 't4', 't5']" ]
stop_api d >/dev/null
api e "--record-ttl 2"
finished_listeners
check "--record-ttl 2: after it, none is left" wait_for "[ \"\$(count)\" = 0 ]" 10
stop_api e >/dev/null
finish
