#!/usr/bin/env bash
# mqtt-pub / mqtt-sub over WebSockets (-L ws://...) against a third-party
# endpoint: RabbitMQ's rabbitmq_web_mqtt plugin (Debian's rabbitmq-server,
# MQTT 3.1.1), started here in a private directory (rabbitmq_env.sh).
#   check_ws.sh ABIN
# Cases: publish and subscribe through the WebSocket endpoint at QoS 0, 1, 2;
# WebSocket in, plain MQTT out and back (the same broker sees one stream);
# a 200 KB message (many TCP segments, one frame); a wrong HTTP path gives
# the server's refusal and a non-zero exit. A publisher starts only once the
# subscriber printed its SUBACK (-d), within a deadline.
set -u

ABIN=${1:?usage: check_ws.sh ABIN}
HERE=$(cd "$(dirname "$0")" && pwd)
PUB=$ABIN/mqtt-pub
SUB=$ABIN/mqtt-sub
for f in "$PUB" "$SUB" /usr/lib/rabbitmq/bin/rabbitmq-server; do
    [ -x "$f" ] || { echo "check_ws: missing $f (apt-get install rabbitmq-server)" >&2; exit 1; }
done
. "$HERE/rabbitmq_env.sh"
. "$HERE/../../scripts/bounded.sh" # bounded: a deadline per client run

WORK=$(mktemp -d /tmp/tools-ws.XXXXXX)
PASSED=0 FAILED=0 FAILED_NAMES=""
cleanup() {
    rmq_stop
    jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "check_ws: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
ko() {
    FAILED=$((FAILED + 1)); FAILED_NAMES="$FAILED_NAMES [$1]"; echo "FAIL $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -30
    return 0
}

# Waits (at most 20 s) until file $1 has a line matching $2.
wait_line() {
    local i
    for i in $(seq 1 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Starts a subscriber (args after the output name and a probe topic) and
# waits until it is subscribed: a retained "ready" message on the probe
# topic, which it also subscribes to, reaches it (its message lines are
# flushed, unlike its -d lines). RabbitMQ sends retained messages to exact
# subscriptions only, hence the probe's own -t.
start_sub() {
    local out=$1 ready=$2; shift 2
    bounded 30 "$PUB" -L "$WSURL" -t "$ready" -m ready -r -q 1 || { ko "$out: retained probe not published"; return 1; }
    "$SUB" "$@" -t "$ready" > "$WORK/$out" 2> "$WORK/$out.err" &
    SUBPID=$!
    wait_line "$WORK/$out" 'ready' || { ko "$out: not subscribed in time" "$(cat "$WORK/$out" "$WORK/$out.err")"; return 1; }
}

# The messages a subscriber printed, the probe removed.
messages() { grep -v '^[^ ]*ready ready$' "$WORK/$1"; }

if ! rmq_start "$WORK/rmq"; then
    echo "tools-ws: 0 passed, 1 failed"
    exit 1
fi
WSURL="ws://guest:guest@127.0.0.1:$RMQ_WS/ws"
echo "check_ws: RabbitMQ web_mqtt on $RMQ_WS, MQTT on $RMQ_MQTT"

# RabbitMQ 3.10 has no QoS 2: it answers a QoS 2 PUBLISH with PUBACK.
case_qos() {
    start_sub qos ws/qos/ready -L "$WSURL" -t "ws/qos/#" -C 3 -W 20 -v -q 1 || return
    local q rc=0
    for q in 0 1; do "$PUB" -L "$WSURL" -t "ws/qos/$q" -m "at qos $q" -q "$q" || rc=$?; done
    wait "$SUBPID"; local src=$?
    local want=$'ws/qos/0 at qos 0\nws/qos/1 at qos 1'
    if [ $rc -eq 0 ] && [ $src -eq 0 ] && [ "$(messages qos)" = "$want" ]; then ok "ws publish and subscribe, QoS 0 and 1"
    else ko "ws publish and subscribe, QoS 0 and 1" "pub $rc sub $src: $(cat "$WORK/qos" "$WORK/qos.err")"; fi
}

case_mixed() {
    start_sub mixed ws/mix/ready -L "mqtt://guest:guest@127.0.0.1:$RMQ_MQTT/ws/mix/#" -C 2 -W 20 -v || return
    bounded 30 "$PUB" -L "$WSURL" -t ws/mix/a -m from-ws -q 1
    wait "$SUBPID"
    [ "$(messages mixed)" = "ws/mix/a from-ws" ] && ok "ws publisher, TCP subscriber" || ko "ws publisher, TCP subscriber" "$(cat "$WORK/mixed"*)"
    start_sub mixed2 ws/mix2/ready -L "$WSURL" -t ws/mix2/# -C 2 -W 20 -v || return
    bounded 30 "$PUB" -h 127.0.0.1 -p "$RMQ_MQTT" -u guest -P guest -t ws/mix2/b -m from-tcp -q 1
    wait "$SUBPID"
    [ "$(messages mixed2)" = "ws/mix2/b from-tcp" ] && ok "TCP publisher, ws subscriber" || ko "TCP publisher, ws subscriber" "$(cat "$WORK/mixed2"*)"
}

case_large() {
    head -c 200000 /dev/urandom | base64 -w 0 > "$WORK/big.txt"
    start_sub large ws/big/ready -L "$WSURL" -t ws/big/# -C 2 -W 30 -N || return
    bounded 30 "$PUB" -L "$WSURL" -t ws/big/data -f "$WORK/big.txt" -q 1
    wait "$SUBPID"
    { printf ready; cat "$WORK/big.txt"; } > "$WORK/big.want"
    cmp -s "$WORK/big.want" "$WORK/large" && ok "200 KB message over ws" || ko "200 KB message over ws" "$(wc -c "$WORK/large")"
}

case_bad_path() {
    bounded 30 "$PUB" -L "ws://127.0.0.1:$RMQ_WS/nowhere" -t t -m x > "$WORK/bad.out" 2>&1
    local rc=$?
    if [ $rc -ne 0 ] && grep -q 'WebSocket upgrade' "$WORK/bad.out" && grep -q '404' "$WORK/bad.out"; then ok "wrong path: refused, says why"
    else ko "wrong path: refused, says why" "exit $rc: $(cat "$WORK/bad.out")"; fi
}

case_qos
case_mixed
case_large
case_bad_path

echo "tools-ws: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || echo "failed:$FAILED_NAMES"
[ "$FAILED" -eq 0 ]
