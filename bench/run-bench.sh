#!/usr/bin/env bash
# `make bench-mqtt`: every broker figure of the README, made with mqtt-bench,
# for mqtt-broker and Debian's mosquitto side by side in one run, with the
# ratio (ours / mosquitto). Both brokers run with their defaults (release
# build of ours; mosquitto with a generated config on a free port), on
# 127.0.0.1, one at a time, with mqtt-bench on the same machine.
# Scenarios: QoS 0 and 1 one-to-one, fan-out 1->50 and 1->500, fan-in 50->1,
# one subscriber that never reads beside one that does (issue 14's load
# cases: deliveries/s, dropped, publisher stall), 10,000 retained topics to a
# new subscriber, latency at a fixed rate, 10,000 idle connections.
#
#   run-bench.sh MQTT_BENCH MQTT_BROKER
# Environment: BENCH_SECONDS (5, per throughput run), BENCH_CONNS (10000),
# BENCH_OUT (a directory to keep the JSON reports in; default: temporary).
set -u
BENCH=${1:?usage: run-bench.sh MQTT_BENCH MQTT_BROKER}
BROKER=${2:?usage: run-bench.sh MQTT_BENCH MQTT_BROKER}
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-10000}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
WORK=$(mktemp -d /tmp/bench-mqtt.XXXXXX)
OUT=${BENCH_OUT:-$WORK}
mkdir -p "$OUT"
BPID=
cleanup() {
    [ -n "$BPID" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/../scripts/free_port.sh" # free_port, wait_listening

start_broker() { # start_broker ours|mosq: sets BPID and PORT
    if [ "$1" = ours ]; then
        "$BROKER" -p 0 > "$WORK/ours.out" 2> /dev/null &
        BPID=$!
        for _ in $(seq 500); do
            PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/ours.out" | head -n 1)
            [ -n "$PORT" ] && return 0
            sleep 0.02
        done
    else
        for _ in $(seq 20); do
            PORT=$(free_port) || exit 1
            printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest none\n' \
                "$PORT" > "$WORK/mosquitto.conf"
            "$MOSQUITTO" -c "$WORK/mosquitto.conf" > /dev/null 2>&1 &
            BPID=$!
            # its own listening socket (a lost bind race retries with another port)
            wait_listening "$PORT" "$BPID" && return 0
            kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null
        done
    fi
    echo "$1 did not start" >&2
    exit 1
}

stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; BPID=; }

# The scenarios: name and mqtt-bench arguments (the broker address is added).
SCENARIOS=(
    "qos0|pubsub --qos 0 --warmup 1 --duration $SECS"
    "qos1|pubsub --qos 1 --warmup 1 --duration $SECS"
    "fanout50|pubsub --subscribers 50 --warmup 1 --duration $SECS"
    "fanout500|pubsub --subscribers 500 --warmup 1 --duration $SECS"
    "fanin50|pubsub --publishers 50 --subscribers 1 --warmup 1 --duration $SECS"
    "slowsub|pubsub --subscribers 1 --slow-subscribers 1 --rate 10000 --warmup 1 --duration $SECS"
    "retained|pub --count 10000 --retain --topic kept/%n"
    "latency|pubsub --qos 1 --rate 1000 --warmup 1 --duration $((SECS * 2))"
    "conns|conn --clients $CONNS --conn-rate 5000 --duration 2"
)

for who in ours mosq; do
    start_broker "$who"
    for s in "${SCENARIOS[@]}"; do
        name=${s%%|*}; args=${s#*|}
        extra=
        [ "$name" = conns ] && extra="--broker-pid $BPID"
        # shellcheck disable=SC2086
        timeout 300 "$BENCH" $args $extra --broker "127.0.0.1:$PORT" --quiet --drain 30 \
            --json "$OUT/$who-$name.json" > "$OUT/$who-$name.txt" 2>&1
        rc=$?
        [ $rc -le 3 ] || echo "warning: $who $name: mqtt-bench exited $rc" >&2
        if [ "$name" = retained ]; then # the 10,000 are stored: a new subscriber counts what it gets
            timeout 300 "$BENCH" sub --topic 'kept/#' --publishers 1 --count 10000 --duration 30 --drain 2 \
                --broker "127.0.0.1:$PORT" --quiet --json "$OUT/$who-retained-sub.json" > "$OUT/$who-retained-sub.txt" 2>&1
            rc=$?
            [ $rc -le 3 ] || echo "warning: $who retained-sub: mqtt-bench exited $rc" >&2
        fi
        # Each scenario gets a fresh broker: a backlog left by one cannot slow the next.
        stop_broker
        start_broker "$who"
    done
    stop_broker
done

jget() { sed -n "s/^  \"$2\": \([-0-9.]*\).*/\1/p" "$OUT/$1.json" | head -n 1; }
jsub() { sed -n "s/^  \"$2\": {.*\"$3\": \([-0-9.]*\).*/\1/p" "$OUT/$1.json" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
row() { # row LABEL OURS MOSQ NOTE
    printf '%-58s %14s %14s %8s  %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
lossrow() { # lossrow LABEL SCENARIO: messages lost, as a share of those owed
    local o m
    o=$(awk -v l="$(jget "ours-$2" lost)" -v e="$(jget "ours-$2" expected)" 'BEGIN { if (e > 0) printf "%.2f%%", 100 * l / e }')
    m=$(awk -v l="$(jget "mosq-$2" lost)" -v e="$(jget "mosq-$2" expected)" 'BEGIN { if (e > 0) printf "%.2f%%", 100 * l / e }')
    printf '%-58s %14s %14s\n' "$1" "$o" "$m"
}

stallrows() { # stallrows SCENARIO: the publishers' stall, longest and share of the time
    row "  publisher stall, longest (ms)" "$(jsub "ours-$1" publisher_stall_ms max)" "$(jsub "mosq-$1" publisher_stall_ms max)" ""
    row "  publisher stall, share of the time (%)" "$(jsub "ours-$1" publisher_stall_ms share_pct)" "$(jsub "mosq-$1" publisher_stall_ms share_pct)" ""
}

echo
echo "mqtt-bench $("$BENCH" --version | awk '{ print $2 }'): mqtt-broker vs $("$MOSQUITTO" -h 2>&1 | head -n 1)"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %14s %14s %8s\n' "" "mqtt-broker" "mosquitto" "ratio"
r() { printf '%.0f' "$(jget "$1" "$2")"; }
row "QoS 0, 1 -> 1, 64 B (msg/s received)" "$(r ours-qos0 received_per_s)" "$(r mosq-qos0 received_per_s)" "higher is better"
lossrow "  lost" qos0
row "QoS 1, 1 -> 1, 64 B (msg/s received)" "$(r ours-qos1 received_per_s)" "$(r mosq-qos1 received_per_s)" "higher is better"
lossrow "  lost" qos1
row "fan-out 1 -> 50, QoS 0 (deliveries/s)" "$(r ours-fanout50 received_per_s)" "$(r mosq-fanout50 received_per_s)" "higher is better"
lossrow "  lost" fanout50
row "fan-out 1 -> 500, QoS 0 (deliveries/s)" "$(r ours-fanout500 received_per_s)" "$(r mosq-fanout500 received_per_s)" "higher is better"
lossrow "  lost" fanout500
row "fan-in 50 -> 1, QoS 0 (deliveries/s)" "$(r ours-fanin50 received_per_s)" "$(r mosq-fanin50 received_per_s)" "higher is better"
row "  (msg/s sent)" "$(r ours-fanin50 sent_per_s)" "$(r mosq-fanin50 sent_per_s)" ""
lossrow "  dropped by the broker" fanin50
stallrows fanin50
row "slow subscriber beside 1 reading, 10,000/s (deliveries/s)" "$(r ours-slowsub received_per_s)" "$(r mosq-slowsub received_per_s)" "higher is better"
lossrow "  dropped (to the reading one)" slowsub
stallrows slowsub
row "  latency p99 to the reading one (us)" "$(jsub ours-slowsub latency_us p99)" "$(jsub mosq-slowsub latency_us p99)" "lower is better"
row "retained on subscribe: delivered of 10,000" "$(jget ours-retained-sub received)" "$(jget mosq-retained-sub received)" ""
for p in p50 p99 p999 max; do
    row "QoS 1 at 1,000 msg/s: latency $p (us)" "$(jsub ours-latency latency_us $p)" "$(jsub mosq-latency latency_us $p)" "lower is better"
done
row "connections held (of $CONNS)" "$(jsub ours-conns connections held)" "$(jsub mosq-conns connections held)" ""
row "connections accepted per second" "$(jsub ours-conns connections per_s)" "$(jsub mosq-conns connections per_s)" "higher is better"
row "memory per idle connection (B)" "$(jget ours-conns bytes_per_connection)" "$(jget mosq-conns bytes_per_connection)" "lower is better"
echo "latency: from when each message was due (coordinated omission corrected); reports: $OUT"
