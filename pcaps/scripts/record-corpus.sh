#!/usr/bin/env bash
# Records the regression corpus: real traffic between Debian's mosquitto and
# mosquitto_pub / mosquitto_sub on the loopback interface (tcpdump -i lo),
# one small capture per case, then writes each capture's expected `dump`.
#   pcaps/scripts/record-corpus.sh MQTT_PCAP [OUTDIR] [mosquitto|reference]
# With `reference` the broker is build/bin/mqtt-broker and the captures are
# named ref_CASE; CASES="v5_qos1 ..." records a subset.
# Run by hand when the corpus needs new cases (needs root for tcpdump); the
# captures are committed, `make check` only reads them. The broker runs on a
# free port with a generated config, never on 1883, so `--port` is recorded
# in each case's .args file.
set -euo pipefail
PCAP_BIN=${1:?usage: record-corpus.sh MQTT_PCAP [OUTDIR] [mosquitto|reference]}
OUT=${2:-pcaps/corpus}
KIND=${3:-mosquitto}
PREFIX=""
[ "$KIND" = reference ] && PREFIX=ref_
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port, wait_listening

# wait_for FILE PATTERN: poll (with a deadline) until FILE contains PATTERN.
wait_for() {
    for _ in $(seq 1 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}

PORT=$(free_port)
cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
user root
persistence false
log_dest none
CONF
if [ "$KIND" = reference ]; then
    build/bin/mqtt-broker -p "$PORT" > "$WORK/broker.log" 2>&1 & BROKER=$!
else
    mosquitto -c "$WORK/mosquitto.conf" & BROKER=$!
fi
wait_listening "$PORT" "$BROKER" || { echo "record-corpus: the $KIND broker does not listen on $PORT" >&2; exit 1; }

# record NAME: runs the function case_NAME while tcpdump records.
record() {
    local name=$1 file=$PREFIX$1
    tcpdump -Z root -i lo --immediate-mode -U -s 0 -w "$WORK/$name.pcap" "tcp port $PORT" 2>"$WORK/tcpdump.err" & local td=$!
    wait_for "$WORK/tcpdump.err" "listening on"
    sleep 0.5   # the kernel filter attaches after the message (recording only, not a test)
    "case_$name"
    sleep 0.3   # let the last FIN/ACKs reach the capture (recording only, not a test)
    kill -INT $td; wait $td || true
    cat "$WORK/tcpdump.err" >&2
    cp "$WORK/$name.pcap" "$OUT/$file.pcap"
    echo "--port $PORT" > "$OUT/$file.args"
    "$PCAP_BIN" dump "$OUT/$file.pcap" --port "$PORT" > "$OUT/$file.dump"
    echo "recorded $file: $(wc -c < "$OUT/$file.pcap") bytes, $(grep -c ' [CS]>[CS] ' "$OUT/$file.dump") packets"
}

# sub_then_pub V QOS: a subscriber waits for one message, a publisher sends it.
sub_then_pub() {
    local v=$1 q=$2 tag=$3
    stdbuf -oL mosquitto_sub -V "$v" -p "$PORT" -i "sub-$tag" -t "corpus/$tag" -q "$q" -C 1 -d > "$WORK/sub.out" & local s=$!
    wait_for "$WORK/sub.out" "SUBACK"
    mosquitto_pub -V "$v" -p "$PORT" -i "pub-$tag" -t "corpus/$tag" -q "$q" -m "hello $tag"
    wait $s
}
case_v311_qos0() { sub_then_pub mqttv311 0 v311-q0; }
case_v311_qos1() { sub_then_pub mqttv311 1 v311-q1; }
case_v311_qos2() { sub_then_pub mqttv311 2 v311-q2; }
case_v5_qos0() { sub_then_pub mqttv5 0 v5-q0; }
case_v5_qos1() { sub_then_pub mqttv5 1 v5-q1; }
case_v5_qos2() { sub_then_pub mqttv5 2 v5-q2; }

retained() {
    local v=$1 tag=$2
    mosquitto_pub -V "$v" -p "$PORT" -i "pub-$tag" -t "corpus/$tag" -q 1 -r -m "kept $tag"
    stdbuf -oL mosquitto_sub -V "$v" -p "$PORT" -i "sub-$tag" -t "corpus/$tag" -q 1 -C 1 > /dev/null
    mosquitto_pub -V "$v" -p "$PORT" -i "clr-$tag" -t "corpus/$tag" -q 0 -r -n
}
case_v311_retained() { retained mqttv311 v311-ret; }
case_v5_retained() { retained mqttv5 v5-ret; }

# will V: a client with a Will is killed; the subscriber gets the Will.
will() {
    local v=$1 tag=$2
    stdbuf -oL mosquitto_sub -V "$v" -p "$PORT" -i "sub-$tag" -t "corpus/$tag/will" -q 1 -C 1 -d > "$WORK/sub.out" & local s=$!
    wait_for "$WORK/sub.out" "SUBACK"
    stdbuf -oL mosquitto_sub -V "$v" -p "$PORT" -i "dev-$tag" -t "corpus/$tag/cmd" -k 30 -d \
        --will-topic "corpus/$tag/will" --will-payload "device $tag gone" --will-qos 1 \
        > "$WORK/dev.out" & local d=$!
    wait_for "$WORK/dev.out" "SUBACK"
    kill -9 $d; wait $d 2>/dev/null || true
    wait $s
}
case_v311_will() { will mqttv311 v311-will; }
case_v5_will() { will mqttv5 v5-will; }

for c in ${CASES:-v311_qos0 v311_qos1 v311_qos2 v5_qos0 v5_qos1 v5_qos2 v311_retained v5_retained \
         v311_will v5_will}; do
    record "$c"
done
kill $BROKER; wait $BROKER 2>/dev/null || true
