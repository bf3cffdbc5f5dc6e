#!/usr/bin/env bash
# The dashboard of qpipe api in a real browser (tests/e2e/browser/
# dashboard_test.js): Debian's chromium, headless, driven through the
# DevTools protocol by puppeteer-core. From the page: log in with the printed
# ?token= address, start a listener and a send, see both end done at 100%,
# cancel and remove a transfer; a page of another origin cannot start one.
# scripts/test installs chromium (apt) and puppeteer-core (npm, into
# ~/.cache/qpipe-test-npm, never into the repository); without them this
# test skips.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/api_lib.sh"
skip() { echo "ok - dashboard in a browser # SKIP $1"; exit 77; }
npm_dir=${QPIPE_TEST_NPM:-$HOME/.cache/qpipe-test-npm}
chromium=$(command -v chromium || command -v chromium-browser) ||
  skip "chromium is not installed (scripts/test installs it, as root)"
command -v node >/dev/null || skip "node is not installed (scripts/test installs it, as root)"
[ -f "$npm_dir/node_modules/puppeteer-core/package.json" ] ||
  skip "puppeteer-core is not in $npm_dir (scripts/test installs it with npm)"

api a
NODE_PATH="$npm_dir/node_modules" timeout 150 node "$(dirname "$0")/browser/dashboard_test.js" \
  "$API" "$TOKEN" "$chromium" "$TMP/chromium-profile" > "$TMP/browser.out" 2> "$TMP/browser.err"
rc=$?
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "browser: ${line#ok - }" ;;
    "not ok - "*) not_ok "browser: ${line#not ok - }" ;;
  esac
done < "$TMP/browser.out"
check "the browser test ended by itself (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -n 20 "$TMP/browser.err"
check "what the page sent arrived: 32 MiB of qpipe gen data" \
  bash -c "$QPIPE gen --check 32M < $TMP/root/browser.bin"
stop_api a >/dev/null
finish
