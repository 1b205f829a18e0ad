#!/usr/bin/env bash
# mqtt-broker's WebSocket listeners (`protocol websockets`, plain and TLS).
#   check_ws.sh ABIN FRAMES
# 1. FRAMES (broker-ws-frames, from ws_frames.c): the upgrade and framing
#    at the byte level (MQTT-6.0.0-1 to -4, split and packed packets, ping inside a packet, oversize and
#    2^63 lengths, unmasked frames, the frame limit at max_packet_size,
#    DISCONNECT then close 1000 then FIN, never a reset).
# 2. MQTT.js (npm `mqtt`, the WebSocket client browsers use; installed at
#    test time into build/npm) publishes and subscribes through ws:// and
#    wss://, mixed with mqtt-pub / mqtt-sub over ws://, wss:// and plain TCP.
# A publisher starts once the broker's log shows the SUBACK to the
# subscriber's client id, within a deadline.
set -u

ABIN=${1:?usage: check_ws.sh ABIN FRAMES}
FRAMES=${2:?usage: check_ws.sh ABIN FRAMES}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BROKER=$ABIN/mqtt-broker PUB=$ABIN/mqtt-pub SUB=$ABIN/mqtt-sub
NPM_DIR=$ROOT/build/npm
MQTTJS=$NPM_DIR/node_modules/.bin/mqtt
for f in "$BROKER" "$PUB" "$SUB" "$FRAMES" "$(command -v ss)" "$(command -v node)" "$(command -v npm)" "$(command -v openssl)"; do
    [ -x "$f" ] || { echo "check_ws: missing $f (apt-get install nodejs npm openssl iproute2)" >&2; exit 1; }
done
if [ ! -x "$MQTTJS" ]; then
    npm install --prefix "$NPM_DIR" mqtt@5 --no-audit --no-fund > /dev/null 2>&1 ||
        { echo "check_ws: npm install mqtt failed" >&2; echo "broker-ws: 0 passed, 1 failed"; exit 1; }
fi

WORK=$(mktemp -d /tmp/broker-ws.XXXXXX)
PASSED=0 FAILED=0 FAILED_NAMES="" BPID=""
cleanup() {
    jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
    [ -n "$BPID" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "check_ws: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT
ok() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
ko() {
    FAILED=$((FAILED + 1)); FAILED_NAMES="$FAILED_NAMES [$1]"; echo "FAIL $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -30
    return 0
}
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh"   # bounded: a deadline per client run
# Waits up to $1 tenths of a second for command "$2 ..." to succeed.
wait_for() {
    local n=$1 i; shift
    for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}
subscribed() { grep -q "client \"$1\" .*-> SUBACK" "$WORK/broker.log"; }
has_lines() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" > /dev/null 2>&1
TCP=$(free_port) WS=$(free_port) WSS=$(free_port)
MAX_PACKET=100000 # also the WebSocket frame limit (broker_ws_frame_limit)
cat > "$WORK/broker.conf" <<CONF
log_type all
allow_anonymous true
max_packet_size $MAX_PACKET
listener $TCP 127.0.0.1
listener $WS 127.0.0.1
protocol websockets
listener $WSS 127.0.0.1
protocol websockets
certfile $WORK/cert.pem
keyfile $WORK/key.pem
CONF
"$BROKER" -c "$WORK/broker.conf" -v > "$WORK/broker.log" 2>&1 &
BPID=$!
if ! wait_for 100 grep -q "running" "$WORK/broker.log"; then
    cat "$WORK/broker.log"; echo "broker-ws: 0 passed, 1 failed"; exit 1
fi

if bounded 60 "$FRAMES" "$WS" "$MAX_PACKET" > "$WORK/frames.out" 2>&1; then ok "framing at the byte level ($(tail -1 "$WORK/frames.out"))"
else ko "framing at the byte level" "$(cat "$WORK/frames.out")"; fi

# sub_then_pub NAME ID SUBCMD... -- PUBCMD...: the subscriber runs with client
# id ID and must print the lines of $WANT.
sub_then_pub() {
    local name=$1 id=$2 sub=() pub=(); shift 2
    while [ "$1" != "--" ]; do sub+=("$1"); shift; done; shift
    pub=("$@")
    "${sub[@]}" > "$WORK/$id.out" 2> "$WORK/$id.err" &
    local spid=$!
    if ! wait_for 150 subscribed "$id"; then
        kill $spid 2>/dev/null; wait $spid 2>/dev/null
        ko "$name" "no SUBACK: $(cat "$WORK/$id.err")"; return
    fi
    bounded 30 "${pub[@]}" > "$WORK/$id.pub" 2>&1
    local prc=$?
    wait_for 100 has_lines "$WORK/$id.out" "$(printf '%s\n' "$WANT" | wc -l)"
    kill $spid 2>/dev/null; wait $spid 2>/dev/null
    if [ $prc -eq 0 ] && [ "$(cat "$WORK/$id.out")" = "$WANT" ]; then ok "$name"
    else ko "$name" "pub exit $prc $(cat "$WORK/$id.pub"); got: $(cat "$WORK/$id.out" "$WORK/$id.err")"; fi
}

for q in 0 1 2; do
    WANT="js/q$q hello $q"
    sub_then_pub "MQTT.js ws sub + MQTT.js ws pub, QoS $q" "jssub$q" \
        "$MQTTJS" sub -l ws -h 127.0.0.1 -p "$WS" -t "js/q$q" -q "$q" -i "jssub$q" -v -- \
        "$MQTTJS" pub -l ws -h 127.0.0.1 -p "$WS" -t "js/q$q" -q "$q" -m "hello $q"
done
WANT="js/wss over tls"
sub_then_pub "MQTT.js wss sub + MQTT.js wss pub" jswss \
    "$MQTTJS" sub -l wss -h localhost -p "$WSS" --ca "$WORK/cert.pem" -t js/wss -q 1 -i jswss -v -- \
    "$MQTTJS" pub -l wss -h localhost -p "$WSS" --ca "$WORK/cert.pem" -t js/wss -q 1 -m "over tls"
WANT="js/mix from mqtt-pub ws"
sub_then_pub "MQTT.js ws sub + mqtt-pub ws" jsmix \
    "$MQTTJS" sub -l ws -h 127.0.0.1 -p "$WS" -t js/mix -q 1 -i jsmix -v -- \
    "$PUB" -L "ws://127.0.0.1:$WS/mqtt" -t js/mix -q 2 -m "from mqtt-pub ws"
WANT="js/tcp from MQTT.js"
sub_then_pub "mqtt-sub TCP + MQTT.js ws pub" tcpsub \
    "$SUB" -h 127.0.0.1 -p "$TCP" -t js/tcp -q 1 -i tcpsub -v -- \
    "$MQTTJS" pub -l ws -h 127.0.0.1 -p "$WS" -t js/tcp -q 1 -m "from MQTT.js"
WANT="js/wss2 from mqtt-pub wss"
sub_then_pub "mqtt-sub wss + mqtt-pub wss (--cafile)" wsssub \
    "$SUB" -L "wss://localhost:$WSS/mqtt" --cafile "$WORK/cert.pem" -t js/wss2 -q 2 -i wsssub -v -V 5 -- \
    "$PUB" -L "wss://localhost:$WSS/" --cafile "$WORK/cert.pem" -t js/wss2 -q 2 -m "from mqtt-pub wss" -V 5

echo "broker-ws: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || echo "failed:$FAILED_NAMES"
[ "$FAILED" -eq 0 ]
