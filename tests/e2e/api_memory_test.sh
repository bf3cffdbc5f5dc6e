#!/usr/bin/env bash
# qpipe api is bounded in memory: a finished transfer releases its engine
# objects and buffers at once, so the service's RSS after 1,000 finished
# sends (4 MiB each, default chunks and streams, so that every send fills
# its buffers; into a keep-listening listener of the same service) stays
# within a few MiB of its RSS after the first 10. The test fails as soon as the growth passes the bound (it does
# not wait for a service that keeps every send's buffers to fill the
# machine). QPIPE_API_TRANSFERS sets the count (default 1000).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/api_lib.sh"
command -v python3 >/dev/null || { echo "ok - api memory # SKIP python3 is not installed"; exit 77; }
transfers=${QPIPE_API_TRANSFERS:-1000}
bound_mib=${QPIPE_API_RSS_BOUND_MIB:-16}
if ldd "$QPIPE" 2>/dev/null | grep -q libasan; then
  # AddressSanitizer keeps freed memory in quarantine and adds shadow memory:
  # RSS says nothing there. The path still runs, for the sanitizers.
  echo "# AddressSanitizer build: 100 transfers, RSS not bounded"
  transfers=${QPIPE_API_TRANSFERS:-100} bound_mib=100000
fi

api a
pid=$(api_pid a)
check "the service runs (pid $pid)" [ -n "$pid" ]
python3 - "$API" "$TOKEN" "$pid" "$transfers" "$bound_mib" > "$TMP/memory.out" 2>&1 <<'PY'
import http.client, json, sys, time, urllib.parse

base, token, pid, transfers, bound_mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(base)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

def call(method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None

def wait_end(tid):
    # The events stream ends with the final state: no polling.
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    c.request("GET", "/v1/transfers/%s/events" % tid, headers=headers)
    r = c.getresponse()
    if r.status == 404:  # a service from before the events: ask until it ends
        c.close()
        while True:
            st, t = call("GET", "/v1/transfers/" + tid)
            if t["state"] not in ("pending", "running"):
                return t
            time.sleep(0.01)
    last, name = None, None
    for raw in r:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "end":
            last = json.loads(line[6:])
    c.close()
    return last

def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

want = {"listen": "127.0.0.1:0", "output": "sink.bin", "keep_listening": True, "overwrite": True}
st, listener = call("POST", "/v1/listeners", want)
if st == 422 and "overwrite" in json.dumps(listener):
    del want["overwrite"]  # a service from before "overwrite": it replaces files anyway
    st, listener = call("POST", "/v1/listeners", want)
assert st == 201, (st, listener)
port = listener["listen"].rsplit(":", 1)[1]
start = time.time()
rss10 = None
for i in range(1, transfers + 1):
    st, t = call("POST", "/v1/sends", {"peer": "127.0.0.1:" + port,
                                       "source": {"gen": {"size": "4M", "seed": i}}, "insecure": True})
    assert st == 201, (st, t)
    end = wait_end(t["id"])
    assert end and end["state"] == "done", (i, end)
    if i == 10:
        rss10 = rss_kib()
        print("after 10 transfers: RSS %.1f MiB" % (rss10 / 1024))
    if rss10 is not None and (i % 50 == 0 or i == transfers):
        growth = (rss_kib() - rss10) / 1024
        print("after %d transfers: RSS %.1f MiB (%+.1f MiB since the 10th)" % (i, rss_kib() / 1024, growth))
        sys.stdout.flush()
        if growth > bound_mib:
            sys.exit("RSS grew by %.1f MiB after %d transfers, more than %d MiB" % (growth, i, bound_mib))
st, listing = call("GET", "/v1/transfers")
print("records: %d; %d transfers in %.1f s" % (len(listing["transfers"]), transfers, time.time() - start))
PY
rc=$?
sed 's/^/    /' "$TMP/memory.out"
check "RSS after $transfers finished transfers stays within $bound_mib MiB of RSS after 10" [ "$rc" = 0 ]
stop_api a >/dev/null
finish
