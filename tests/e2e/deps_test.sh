#!/usr/bin/env bash
# scripts/deps --check-updates against trixie's source index: a pin older than
# what trixie offers is reported "behind" (exit 1) for each library, and a pin
# the index does not offer is not called up to date. The pins are overridden
# with QPIPE_DEPS_PIN_*; whether today's pins are current is not asserted, so
# that a Debian upload overnight fails nothing (.ci/run prints that verdict as
# a warning). Needs the network: skips (exit 77) when the index is unreachable.
source "$(dirname "$0")/lib.sh"
src=${QPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
deps=$src/scripts/deps

# The revisions before the security uploads: wolfSSL's previous point-release
# fix and ngtcp2's revision as trixie released it.
QPIPE_DEPS_PIN_WOLFSSL=5.7.2-0.1+deb13u1 QPIPE_DEPS_PIN_NGTCP2=1.11.0-1 \
  "$deps" --check-updates >"$TMP/old.out" 2>"$TMP/old.err"
rc=$?
if [ $rc = 3 ]; then
  echo "skipped: trixie's source index cannot be reached from here (scripts/deps --check-updates exits 3):"
  sed 's/^/    | /' "$TMP/old.out" "$TMP/old.err"
  exit 77
fi
check "older pins: exit status 1" [ $rc = 1 ]
check "older pins: wolfssl is behind" grep -q '^wolfssl 5\.7\.2-0\.1+deb13u1: behind, ' "$TMP/old.out"
check "older pins: ngtcp2 is behind" grep -q '^ngtcp2 1\.11\.0-1: behind, ' "$TMP/old.out"
check "older pins: the verdict says behind" grep -q '^behind: ' "$TMP/old.out"
check "older pins: no \"up to date\"" bash -c "! grep -q 'up to date' '$TMP/old.out'"
check "the mirror's address is not printed" bash -c "! grep -q '://' '$TMP/old.out' '$TMP/old.err'"

QPIPE_DEPS_PIN_NGTCP2=99.0-1 "$deps" --check-updates >"$TMP/future.out" 2>"$TMP/future.err"
rc=$?
check "a pin the index does not offer: exit status 1" [ $rc = 1 ]
check "a pin the index does not offer: said so" grep -q '^ngtcp2 99\.0-1: not offered, ' "$TMP/future.out"

finish
