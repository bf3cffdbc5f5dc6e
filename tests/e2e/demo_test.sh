#!/usr/bin/env bash
# scripts/demo's exit status is part of the contract (`scripts/demo && echo
# ok`): 0 with "== OK" when the transfer was verified, non-zero with
# "== FAILED" when it was not. Runs the demo with a small size against the
# binary under test (QPIPE), so that it builds nothing.
source "$(dirname "$0")/lib.sh"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

QPIPE="$QPIPE" timeout 120 bash "$src/scripts/demo" 4M >"$TMP/demo.out" 2>"$TMP/demo.err"
rc=$?
check "scripts/demo 4M exits 0 (got $rc)" [ "$rc" = 0 ]
check "scripts/demo 4M says == OK" grep -q "^== OK: 4M arrived intact" "$TMP/demo.out"
[ "$rc" = 0 ] || cat "$TMP/demo.out" "$TMP/demo.err"

# A qpipe whose `gen --check` finds a difference: the demo must say so and fail.
cat >"$TMP/bad-qpipe" <<EOS
#!/usr/bin/env bash
for a in "\$@"; do
  if [ "\$a" = --check ]; then cat >/dev/null; echo "qpipe: gen --check: differs" >&2; exit 1; fi
done
exec "$QPIPE" "\$@"
EOS
chmod +x "$TMP/bad-qpipe"
QPIPE="$TMP/bad-qpipe" timeout 120 bash "$src/scripts/demo" 1M >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
check "scripts/demo exits non-zero when the data does not verify (got $rc)" [ "$rc" != 0 ]
check "scripts/demo says == FAILED" grep -q "^== FAILED" "$TMP/bad.err"
finish
