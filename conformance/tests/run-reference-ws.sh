#!/usr/bin/env bash
# check-conform-ws: the whole suite over WebSockets against the reference
# broker's `protocol websockets` listeners: ws://, and wss:// (a CA and
# certificate made here with the openssl CLI) for the connect, QoS and
# websocket areas (TLS handshakes under ASan on a loaded machine make the
# whole suite's timer scenarios slow; the layers compose the same way in
# every area), with the reference profile;
# every run must pass (or skip as the profile and the probe say), as over TCP
# (check-conform-reference). Also: a wrong path or a plain listener gives
# exit 2 with the reason; a capture of a run over ws:// holds the MQTT
# stream (mqtt-pcap decodes it: the packet split around a ping is whole).
# Usage: run-reference-ws.sh MQTT-CONFORM MQTT-BROKER MQTT-PCAP
set -u
conform=$1 broker=$2 pcap=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/free_port.sh"
. "$root/scripts/bounded.sh" # a deadline per runner call: a hang names the command
work=$(mktemp -d /tmp/conform-ws.XXXXXX)
bpid=
trap '[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null; rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -20; return 0; }

if [ ! -x "$broker" ]; then
    echo "FAIL: $broker does not exist (make check-conform-ws builds it); nothing was run"
    echo "conform-ws: 0 passed, 1 failed"
    exit 1
fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" > /dev/null 2>&1
tcp=$(free_port) && ws=$(free_port) && wss=$(free_port) || { echo "conform-ws: 0 passed, 1 failed"; exit 1; }
cat > "$work/broker.conf" <<CONF
allow_anonymous true
listener $tcp 127.0.0.1
listener $ws 127.0.0.1
protocol websockets
listener $wss 127.0.0.1
protocol websockets
certfile $work/cert.pem
keyfile $work/key.pem
CONF
"$broker" -c "$work/broker.conf" > "$work/broker.log" 2>&1 &
bpid=$!
for p in $tcp $ws $wss; do
    if ! wait_listening "$p" "$bpid"; then
        cat "$work/broker.log"; echo "conform-ws: 0 passed, 1 failed (the broker did not start)"; exit 1
    fi
done

# suite NAME URL [OPTIONS] -- DIRS: the scenarios of DIRS over URL, exit 0 (nothing unexpected).
suite() {
    local name=$1 url=$2 opts=(); shift 2
    while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
    bounded 300 "$conform" --broker "$url" "${opts[@]}" --profile "$root/conformance/profiles/reference.profile" \
        --out "$work/$name" -q "$@" > "$work/$name.out" 2>&1
    local rc=$?
    mkdir -p "$root/build/check" && cp "$work/$name/report.json" "$root/build/check/conform-$name.json" 2>/dev/null
    if [ $rc -eq 0 ] && grep -q "0 failed" "$work/$name.out"; then ok "$name: $(tail -1 "$work/$name.out")"
    else ko "$name: exit $rc" "$(grep -E '^ +(fail|error|unexpected)' "$work/$name.out"; tail -3 "$work/$name.out")"; fi
}
sc=$root/conformance/scenarios
suite ws "ws://127.0.0.1:$ws/mqtt" -- "$sc"
wss_dirs=("$sc/connect" "$sc/qos")
[ -d "$sc/websocket" ] && wss_dirs+=("$sc/websocket")
suite wss "wss://localhost:$wss/mqtt" --cafile "$work/cert.pem" -j 8 -- "${wss_dirs[@]}"

bounded 60 "$conform" --broker "ws://127.0.0.1:$ws/mqtt" --out "$work/cap" --pcap all -q \
    "$sc/websocket/05-ping-during-packet.mqs" > "$work/cap.out" 2>&1
dump=$("$pcap" dump "$work/cap/pcap/websocket_05-ping-during-packet@5.0.pcap" 2>&1)
if grep -q 'C>S PUBLISH .*"around a ping"' <<< "$dump" && grep -q 'S>C PINGRESP' <<< "$dump"; then
    ok "a capture over ws:// holds the MQTT stream (mqtt-pcap dump)"
else ko "a capture over ws:// holds the MQTT stream" "$dump"; fi

# expect2 NAME WANT ARGS...: exit 2 with WANT in the message.
expect2() {
    local name=$1 want=$2 out rc; shift 2
    out=$(bounded 120 "$conform" --no-reports -q "$@" "$root/conformance/scenarios/connect" 2>&1); rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$want" <<< "$out"; then ok "$name"
    else ko "$name: exit $rc, expected 2 and '$want'" "$out"; fi
}
expect2 "ws:// to a plain MQTT listener: the upgrade fails, exit 2" "WebSocket upgrade" --broker "ws://127.0.0.1:$tcp/mqtt"
expect2 "wss:// without the CA: the TLS handshake fails, exit 2" "TLS handshake" --broker "wss://localhost:$wss/mqtt"
expect2 "ws:// with --cafile: TLS options on a plain URL, exit 2" "use mqtts:// or wss://" \
    --broker "ws://127.0.0.1:$ws/mqtt" --cafile "$work/cert.pem"
expect2 "an unknown scheme, exit 2" "unsupported URL scheme" --broker "http://127.0.0.1:$ws/"
echo "conform-ws: $pass passed, $fail failed"
[ "$fail" = 0 ]
