#!/usr/bin/env bash
# Active migration (issue 18): a sender whose path goes away mid-transfer
# moves the connection to another local address and finishes there. Two
# network namespaces joined by two veth paths (tests/tools/two_paths.sh);
# once 32 MiB have left over path 1, path 1 goes away (its link goes down,
# or its address is removed); 256 MiB arrive identical over path 2 and both
# ends exit 0. Needs root: skips otherwise.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/two_paths.sh"
if ! why=$(two_paths_can_run); then
  echo "SKIP: the migration tests $why"
  exit 77
fi
NET=qpm$$
trap 'two_paths_down $NET; cleanup' EXIT

json_field() { grep -o "\"$2\":[0-9]*" "$1" | head -n1 | cut -d: -f2; }

# path_goes_away DESC COMMAND: COMMAND takes path 1 away mid-transfer.
path_goes_away() {
  local desc=$1 cut=$2
  if ! two_paths_up "$NET"; then not_ok "$desc: namespaces did not come up"; return; fi
  bg l "$TP_B timeout 200 $QPIPE -l 10.79.9.9:0 --stats=json | $QPIPE gen --check --seed 41 256M"
  wait_for "grep -qs 'listening on' '$TMP/l.err'" 15
  local port
  port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$TMP/l.err" | head -n1)
  # --limit keeps the transfer going for at least 4 s.
  bg s "$QPIPE gen --seed 41 256M | $TP_A timeout 190 $QPIPE 10.79.9.9:$port -v --limit 64M --stats=json"
  if wait_for "[ \$(two_paths_tx $NET a1) -gt 33554432 ]" 60; then eval "$cut"; fi
  local src rc
  src=$(wait_rc s 200); rc=$(wait_rc l 200)
  two_paths_down "$NET"
  local schanges lchanges
  schanges=$(json_field "$TMP/s.err" path_changes) lchanges=$(json_field "$TMP/l.err" path_changes)
  if [ "$src$rc" = 00 ] && [ "${schanges:-0}" -ge 1 ] && [ "${lchanges:-0}" -ge 1 ] &&
    grep -q "moving to 10.79.2.1:" "$TMP/s.err"; then
    ok "$desc: 256 MiB identical, sender moved to path 2 ($(grep -o 'path trouble ([^)]*)' "$TMP/s.err" | head -n1), $(grep -o '"seconds":[0-9.]*' "$TMP/s.err"))"
  else
    not_ok "$desc (sender $src, listener+check $rc, path_changes ${schanges:-?}/${lchanges:-?})" \
      "$TMP/s.err" "$TMP/l.err"
  fi
}

path_goes_away "path 1's link goes down" "ip -n $NET-a link set $NET-a1 down"
path_goes_away "path 1's address is removed" "ip -n $NET-a addr del 10.79.1.1/24 dev $NET-a1"

finish
