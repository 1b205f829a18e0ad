# Free ports and listener readiness for the pcaps test scripts (sourced by
# check_cli.sh and check_ws.sh; needs ss from iproute2).
#
# Why below the ephemeral range, and why "no socket in any state": a port that
# nothing LISTENs on may still be the local port of a client socket, open or in
# TIME_WAIT (60 s) after a test connected from it; binding it then fails with
# "Address already in use". On a machine where other suites make thousands of
# connections, a random port in 20000-49999 hit such a port often enough to
# fail check-pcap-cli ("mosquitto did not start"). Ports below
# ip_local_port_range are never handed to clients, and the ss check skips the
# few that other tests' listeners use. Two scripts can still pick the same
# port between the check and the bind: callers that start a listener retry
# with another port when it exits (see wait_listening).

# free_port: prints a free port, or says why not on stderr and returns 1.
free_port() {
    local lo p
    read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
    [ "${lo:-0}" -gt 12000 ] || lo=32768
    for _ in $(seq 1 200); do
        p=$((10000 + RANDOM % (lo - 10000)))
        [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
    done
    echo "free_port: 200 random ports in 10000-$((lo - 1)) were all in use" >&2
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
