#!/usr/bin/env bash
# mqtt-pcap on MQTT over WebSockets: a capture made here (tcpdump on lo,
# filtered to one free port) of mqtt-pub / mqtt-sub talking to mqtt-broker's
# `protocol websockets` listener (MQTT 3.1.1 and 5.0, QoS 0 1 2, a 100 KB
# message spanning many TCP segments) is decoded by mqtt-pcap and by tshark,
# which must agree packet for packet; then checked, converted and replayed
# like a TCP capture.
#   check_ws.sh ABIN
# tshark 4.0 unmasks and reassembles WebSocket frames but does not hand the
# "mqtt" subprotocol to its MQTT dissector: a one-line Lua script registers
# it (DissectorTable "ws.protocol"), and "-d tcp.port==P,http" makes it read
# the upgrade on a port it does not know.
set -u

ABIN=${1:?usage: check_ws.sh ABIN}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/free_port.sh" # free_port, wait_listening
PCAP=$ABIN/mqtt-pcap BROKER=$ABIN/mqtt-broker PUB=$ABIN/mqtt-pub SUB=$ABIN/mqtt-sub
for f in "$PCAP" "$BROKER" "$PUB" "$SUB" "$(command -v tcpdump)" "$(command -v tshark)" "$(command -v jq)"; do
    [ -x "$f" ] || { echo "check_ws: missing $f (make pcap-deps; apt-get install tcpdump jq)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/pcap-ws.XXXXXX)
PASSED=0 FAILED=0 BPID="" TPID="" B2PID=""
cleanup() {
    for p in $TPID $BPID $B2PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "check_ws: files kept in $WORK" >&2; fi
}
trap cleanup EXIT
ok() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
ko() { FAILED=$((FAILED + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -30; return 0; }
wait_for() { local n=$1 i; shift; for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }
finish() {
    echo "pcap-ws: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit
}

WS=$(free_port) && TCP=$(free_port) || { ko "free ports for the brokers"; finish; }
printf 'allow_anonymous true\nlistener %s 127.0.0.1\nprotocol websockets\n' "$WS" > "$WORK/ws.conf"
"$BROKER" -c "$WORK/ws.conf" -v > "$WORK/broker.log" 2>&1 &
BPID=$!
tcpdump -i lo -U --immediate-mode -s 0 -w "$WORK/ws.pcap" "tcp port $WS" > "$WORK/tcpdump.log" 2>&1 &
TPID=$!
if ! wait_for 100 grep -q running "$WORK/broker.log" || ! wait_for 100 grep -q "listening on" "$WORK/tcpdump.log"; then
    ko "capture set up" "$(cat "$WORK/broker.log" "$WORK/tcpdump.log")"; finish
fi

# The session: a subscriber (v5), then publishers at each QoS (3.1.1 and 5.0).
URL="ws://127.0.0.1:$WS/mqtt"
head -c 75000 /dev/urandom | base64 -w 0 > "$WORK/big.txt"
"$SUB" -L "$URL" -t 'cap/#' -q 2 -V 5 -i capsub -C 5 -W 20 -v > "$WORK/sub.out" 2>&1 &
SPID=$!
wait_for 150 grep -q 'client "capsub" .*-> SUBACK' "$WORK/broker.log" || ko "subscriber ready" "$(cat "$WORK/sub.out")"
for q in 0 1 2; do "$PUB" -L "$URL" -t "cap/q$q" -m "qos $q" -q "$q"; done
"$PUB" -L "$URL" -t cap/v5 -m five -q 2 -V 5
"$PUB" -L "$URL" -t cap/big -f "$WORK/big.txt" -q 1
wait "$SPID"
# tcpdump gets each packet at once (--immediate-mode: no 1 s buffer timeout
# in libpcap) and writes it at once (-U); the subscriber's last close is seen
# once the broker logged it, then the capture stops.
wait_for 50 grep -q 'client "capsub" .*disconnected' "$WORK/broker.log"
kill -INT "$TPID"; wait "$TPID" 2>/dev/null; TPID=""
[ "$(grep -c . "$WORK/sub.out")" -eq 5 ] && ok "the session ran (5 messages)" || ko "the session ran" "$(cat "$WORK/sub.out")"

# ours: "clientport dir type" per MQTT packet, in order per direction.
"$PCAP" dump "$WORK/ws.pcap" --json > "$WORK/ours.json" 2> "$WORK/ours.err"
jq -r 'select(.event == "packet") | "\(.conn) \(.dir) \(.packet.type)"' "$WORK/ours.json" > "$WORK/ours.raw"
jq -r 'select(.event == "open") | "\(.conn) \(.client)"' "$WORK/ours.json" | sed 's/ .*:/ /' > "$WORK/conns"
awk 'NR == FNR { port[$1] = $2; next } { print port[$1], $2, $3 }' "$WORK/conns" "$WORK/ours.raw" |
    sort -s -k1,2 > "$WORK/ours.txt"

# tshark's: the same from its WebSocket and MQTT dissectors.
echo 'DissectorTable.get("ws.protocol"):add("mqtt", Dissector.get("mqtt"))' > "$WORK/ws-mqtt.lua"
tshark -X "lua_script:$WORK/ws-mqtt.lua" -r "$WORK/ws.pcap" -d "tcp.port==$WS,http" -Y mqtt \
    -T fields -e tcp.srcport -e tcp.dstport -e mqtt.msgtype 2> "$WORK/tshark.err" |
    awk -v ws="$WS" 'BEGIN { split("CONNECT CONNACK PUBLISH PUBACK PUBREC PUBREL PUBCOMP SUBSCRIBE SUBACK UNSUBSCRIBE UNSUBACK PINGREQ PINGRESP DISCONNECT AUTH", t, " ") }
        { n = split($3, types, ","); for (i = 1; i <= n; i++)
              print ($1 == ws ? $2 : $1), ($1 == ws ? "S>C" : "C>S"), t[types[i]] }' |
    sort -s -k1,2 > "$WORK/tshark.txt"
count=$(wc -l < "$WORK/ours.txt")
if [ "$count" -ge 20 ] && cmp -s "$WORK/ours.txt" "$WORK/tshark.txt"; then
    ok "mqtt-pcap and tshark decode the same $count packets"
else
    ko "mqtt-pcap and tshark decode the same packets" "$(diff "$WORK/ours.txt" "$WORK/tshark.txt" | head -20; cat "$WORK/ours.err")"
fi
tshark -X "lua_script:$WORK/ws-mqtt.lua" -r "$WORK/ws.pcap" -d "tcp.port==$WS,http" \
    -Y '_ws.malformed' 2>/dev/null > "$WORK/tshark.warn"
[ ! -s "$WORK/tshark.warn" ] && ok "tshark finds nothing malformed" || ko "tshark finds nothing malformed" "$(cat "$WORK/tshark.warn")"

big=$(jq -r 'select(.event == "packet" and .dir == "C>S" and .packet.type == "PUBLISH" and .packet.topic == "cap/big") | .packet.payload_length // .packet.length' "$WORK/ours.json" | head -1)
[ -n "$big" ] && [ "$big" -ge 100000 ] && ok "the 100 KB PUBLISH is reassembled ($big bytes)" || ko "the 100 KB PUBLISH is reassembled" "got '$big'"

"$PCAP" check "$WORK/ws.pcap" > "$WORK/check.out" 2>&1 && ok "check: no violation ($(tail -1 "$WORK/check.out"))" ||
    ko "check: no violation" "$(cat "$WORK/check.out")"

"$PCAP" to-scenario "$WORK/ws.pcap" --conn 1 -o "$WORK/c1.mqs" > /dev/null 2>&1
grep -q 'c1 connect' "$WORK/c1.mqs" && grep -q 'c1 send SUBSCRIBE' "$WORK/c1.mqs" && ok "to-scenario writes the subscriber's scenario" ||
    ko "to-scenario writes the subscriber's scenario" "$(head -20 "$WORK/c1.mqs")"

# Replay the client side against a plain TCP listener: the MQTT bytes are the same.
printf 'allow_anonymous true\nlistener %s 127.0.0.1\n' "$TCP" > "$WORK/tcp.conf"
"$BROKER" -c "$WORK/tcp.conf" > "$WORK/broker2.log" 2>&1 &
B2PID=$!
if ! wait_listening "$TCP" "$B2PID"; then
    ko "the TCP broker listens on $TCP" "$(cat "$WORK/broker2.log")"
elif "$PCAP" replay "$WORK/ws.pcap" --broker "127.0.0.1:$TCP" --fast > "$WORK/replay.out" 2>&1; then
    ok "replay over TCP: $(tail -1 "$WORK/replay.out" | sed 's/.*: //')"
else
    ko "replay over TCP" "$(tail -20 "$WORK/replay.out")"
fi
finish
