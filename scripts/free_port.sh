# free_port.sh: the one way test scripts pick a TCP port for a peer they start.
# Source it, then PORT=$(free_port) || exit 1; wait_listening PORT PID once the peer runs.
#
# A random port below the ephemeral range (where the kernel picks client
# sockets' ports, which could take it between our check and the peer's bind)
# that no socket uses, per ss from iproute2 (a DEPS_CHECK package); 200 tries.
# Peers that can bind port 0 and report it (mqtt-broker -p 0) need none of this.
free_port() {
    local lo p
    read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
    [ "${lo:-0}" -gt 12000 ] || lo=32768
    for _ in $(seq 1 200); do
        p=$((10000 + RANDOM % (lo - 10000)))
        [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
    done
    echo "free_port: no free port found in 200 tries" >&2
    return 1
}
# wait_listening PORT PID: returns 0 once process PID has a listening socket
# on PORT (what a client needs, not a log line or a delay), 1 as soon as PID
# has exited (its bind failed) or after 10 s.
wait_listening() {
    local i
    for i in $(seq 1 200); do
        ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2," && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05 # nothing to block on: ss is polled, bounded by the count
    done
    return 1
}
# reported_port LOG PID: prints the port of the first "listening on HOST:PORT"
# line process PID wrote to LOG (mqtt-broker -p 0 and listener 0, bench-relay,
# the peers' node servers), once it is there; returns 1 as soon as PID has
# exited or after 10 s.
reported_port() {
    local i p
    for i in $(seq 1 200); do
        p=$(sed -n 's/^listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | head -n 1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05 # nothing to block on: the log is polled, bounded by the count
    done
    return 1
}
