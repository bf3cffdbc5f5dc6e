# Sourced by tests and scripts/bench: an emulated WAN link between two
# network namespaces, through qpipe-linkem (tests/tools/linkem.cc).
#
#   wan_up NAME LINKEM_ARGS...   namespaces NAME-a (10.78.0.1) and NAME-b
#                                (10.78.0.2), joined by the emulator; sets
#                                WAN_A, WAN_B (the `ip netns exec` prefixes)
#                                and WAN_ADDR_B
#   wan_down NAME                stops the emulator, deletes the namespaces
#   wan_tcp_cc NAME CC           TCP congestion control in both namespaces
#
# Needs root and /dev/net/tun. wan_up returns 77 (skip) when either is missing.
# Both namespaces get loopback up, MTU 1500 and 16 MiB socket buffer maxima.

wan_can_run() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; return 1; }
  [ -c /dev/net/tun ] || { echo "needs /dev/net/tun"; return 1; }
  command -v ip >/dev/null || { echo "needs ip (iproute2)"; return 1; }
  return 0
}

wan_up() {
  local name=$1
  shift
  : "${QPIPE_LINKEM:?set QPIPE_LINKEM to the qpipe-linkem binary}"
  wan_down "$name"
  ip netns add "$name-a" && ip netns add "$name-b" || return 1
  local ns
  for ns in "$name-a" "$name-b"; do
    ip -n "$ns" link set lo up
  done
  local log=${TMPDIR:-/tmp}/$name-linkem.err
  coproc WAN_LINKEM { exec "$QPIPE_LINKEM" --ns-a "$name-a" --ns-b "$name-b" "$@" 2>"$log"; }
  local ready=
  read -r -t 10 ready <&"${WAN_LINKEM[0]}" || true
  if [ "$ready" != ready ]; then
    echo "qpipe-linkem did not start:"; cat "$log"; return 1
  fi
  eval "WAN_LINKEM_PID_$(printf '%s' "$name" | tr -c 'A-Za-z0-9_' _)=$WAN_LINKEM_PID"
  ip -n "$name-a" addr add 10.78.0.1/24 dev lk0
  ip -n "$name-b" addr add 10.78.0.2/24 dev lk0
  for ns in "$name-a" "$name-b"; do
    ip -n "$ns" link set lk0 mtu 1500 up
    # TUN devices start with a short transmit queue; a burst from GSO must
    # reach the emulator, whose own queue is the bottleneck being emulated.
    ip -n "$ns" link set lk0 txqueuelen 10000
  done
  WAN_A="ip netns exec $name-a" WAN_B="ip netns exec $name-b" WAN_ADDR_B=10.78.0.2
}

wan_down() {
  local name=$1 var
  var=WAN_LINKEM_PID_$(printf '%s' "$name" | tr -c 'A-Za-z0-9_' _)
  if [ -n "${!var:-}" ]; then
    kill -TERM "${!var}" 2>/dev/null || true
    wait "${!var}" 2>/dev/null || true
    eval "$var="
  fi
  ip netns del "$name-a" 2>/dev/null || true
  ip netns del "$name-b" 2>/dev/null || true
  return 0
}

# A namespace may only pick what the host allows (net.ipv4.tcp_allowed_congestion_control).
wan_tcp_cc() {
  local name=$1 cc=$2 allowed
  modprobe "tcp_$cc" 2>/dev/null || true
  allowed=$(sysctl -n net.ipv4.tcp_allowed_congestion_control)
  case " $allowed " in *" $cc "*) ;; *) sysctl -qw net.ipv4.tcp_allowed_congestion_control="$allowed $cc" ;; esac
  ip netns exec "$name-a" sysctl -qw net.ipv4.tcp_congestion_control="$cc" &&
    ip netns exec "$name-b" sysctl -qw net.ipv4.tcp_congestion_control="$cc"
}
