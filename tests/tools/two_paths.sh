# Sourced by tests: two network paths between a sender and a listener, in
# network namespaces joined by two veth pairs.
#
#   two_paths_up NAME   namespaces NAME-a (the sender) and NAME-b (the
#                       listener). The listener's address, 10.79.9.9, is on
#                       NAME-b's loopback and reached over path 1 (NAME-a1
#                       10.79.1.1 <-> NAME-b1 10.79.1.2, the preferred route)
#                       or path 2 (NAME-a2 10.79.2.1 <-> NAME-b2 10.79.2.2).
#                       Sets TP_A, TP_B (the `ip netns exec` prefixes).
#   two_paths_tx NAME DEV   bytes sent so far on device DEV of NAME-a
#   two_paths_down NAME     deletes the namespaces (and the veth pairs)
#
# Needs root and iproute2; two_paths_can_run says why not.
two_paths_can_run() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; return 1; }
  command -v ip >/dev/null || { echo "needs ip (iproute2)"; return 1; }
  return 0
}

two_paths_up() {
  local n=$1 d
  two_paths_down "$n"
  ip netns add "$n-a" && ip netns add "$n-b" || return 1
  ip -n "$n-a" link set lo up && ip -n "$n-b" link set lo up || return 1
  ip link add "$n-a1" netns "$n-a" type veth peer name "$n-b1" netns "$n-b" || return 1
  ip link add "$n-a2" netns "$n-a" type veth peer name "$n-b2" netns "$n-b" || return 1
  ip -n "$n-a" addr add 10.79.1.1/24 dev "$n-a1" && ip -n "$n-b" addr add 10.79.1.2/24 dev "$n-b1" &&
    ip -n "$n-a" addr add 10.79.2.1/24 dev "$n-a2" && ip -n "$n-b" addr add 10.79.2.2/24 dev "$n-b2" &&
    ip -n "$n-b" addr add 10.79.9.9/32 dev lo || return 1
  for d in a1 a2; do ip -n "$n-a" link set "$n-$d" up || return 1; done
  for d in b1 b2; do ip -n "$n-b" link set "$n-$d" up || return 1; done
  ip -n "$n-a" route add 10.79.9.9/32 via 10.79.1.2 dev "$n-a1" metric 10 &&
    ip -n "$n-a" route add 10.79.9.9/32 via 10.79.2.2 dev "$n-a2" metric 20 || return 1
  TP_A="ip netns exec $n-a" TP_B="ip netns exec $n-b"
}

two_paths_tx() {
  ip netns exec "$1-a" cat "/sys/class/net/$1-$2/statistics/tx_bytes" 2>/dev/null || echo 0
}

two_paths_down() {
  ip netns del "$1-a" 2>/dev/null
  ip netns del "$1-b" 2>/dev/null
  return 0
}
