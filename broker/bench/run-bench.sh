#!/usr/bin/env bash
# `make bench-broker`: mqtt-broker side by side with Debian's mosquitto, in
# one run, on this machine: memory per idle connection (RSS growth over
# 5,000 connections) and publish throughput with one publisher and one
# subscriber (QoS 0 and QoS 1, 64-byte payloads); then the load cases:
# fan-in (20 publishers, one subscriber), one slow '#' subscriber beside a
# reading one, 10,000 retained messages to a new subscriber (deliveries/s,
# messages dropped, longest publisher stall). Prints the figures and the
# ratios. Both brokers run with their defaults (release build of ours).
#
#   run-bench.sh MQTT_BROKER BENCH_DRIVER
# Environment: BENCH_CONNS (5000), BENCH_MESSAGES (200000), BENCH_PAYLOAD (64).
set -u
BROKER=${1:?usage: run-bench.sh MQTT_BROKER BENCH_DRIVER}
DRIVER=${2:?usage: run-bench.sh MQTT_BROKER BENCH_DRIVER}
CONNS=${BENCH_CONNS:-5000}
MESSAGES=${BENCH_MESSAGES:-200000}
PAYLOAD=${BENCH_PAYLOAD:-64}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)" >&2; exit 1; }

# Both brokers and the driver need CONNS+ file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CONNS + 64)) ]; then
    echo "warning: ulimit -n is $(ulimit -n); fewer than $CONNS connections will be measured" >&2
fi

WORK=$(mktemp -d /tmp/bench-broker.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { # wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s)
    for _ in $(seq 500); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# ---- ours ----
"$BROKER" -p 0 > "$WORK/ours.out" 2> /dev/null &
OURS=$!; PIDS+=("$OURS")
for _ in $(seq 500); do grep -q '^listening on' "$WORK/ours.out" && break; sleep 0.02; done
OPORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/ours.out" | head -n 1)
[ -n "$OPORT" ] || { echo "mqtt-broker did not start" >&2; exit 1; }

# ---- mosquitto, its own generated config on a free port (never 1883) ----
MPORT=$("$DRIVER" --free-port)
cat > "$WORK/mosquitto.conf" <<CONF
listener $MPORT 127.0.0.1
allow_anonymous true
persistence false
user root
log_dest none
CONF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" > /dev/null 2>&1 &
MOSQ=$!; PIDS+=("$MOSQ")
wait_port "$MPORT" || { echo "mosquitto did not start on $MPORT" >&2; exit 1; }

echo "bench-broker: $CONNS idle connections, $MESSAGES QoS 0 + $((MESSAGES / 2)) QoS 1 messages of $PAYLOAD B"
echo "  mqtt-broker pid $OURS port $OPORT; $("$MOSQUITTO" -h 2>&1 | head -n 1) pid $MOSQ port $MPORT"
"$DRIVER" --name ours --port "$OPORT" --pid "$OURS" --conns "$CONNS" --messages "$MESSAGES" --payload "$PAYLOAD" > "$WORK/ours.txt" || exit 1
"$DRIVER" --name mosq --port "$MPORT" --pid "$MOSQ" --conns "$CONNS" --messages "$MESSAGES" --payload "$PAYLOAD" > "$WORK/mosq.txt" || exit 1

get() { awk -v k="$2" '$2 == k { print $3 }' "$WORK/$1.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

printf '\n%-34s %14s %14s %10s\n' "" "mqtt-broker" "mosquitto" "ratio"
o=$(get ours bytes_per_connection); m=$(get mosq bytes_per_connection)
printf '%-34s %14s %14s %10s  (lower is better)\n' "memory per idle connection (B)" "$o" "$m" "$(ratio "$o" "$m")"
o=$(get ours rss_after_kib); m=$(get mosq rss_after_kib)
printf '%-34s %14s %14s %10s\n' "RSS with $(get ours idle_connections) connections (KiB)" "$o" "$m" "$(ratio "$o" "$m")"
o=$(get ours connects_per_sec); m=$(get mosq connects_per_sec)
printf '%-34s %14s %14s %10s  (higher is better)\n' "connections accepted per second" "$o" "$m" "$(ratio "$o" "$m")"
for q in 0 1; do
    o=$(get ours qos${q}_msgs_per_sec); m=$(get mosq qos${q}_msgs_per_sec)
    printf '%-34s %14s %14s %10s  (higher is better)\n' "QoS $q throughput (msg/s)" "$o" "$m" "$(ratio "$o" "$m")"
    or=$(get ours qos${q}_received); mr=$(get mosq qos${q}_received); n=$(get ours qos${q}_messages)
    printf '%-34s %14s %14s\n' "  received of $n" "$or" "$mr"
done

# ---- load cases (issue 14): fan-in, one slow '#' subscriber, retained on subscribe ----
"$DRIVER" --load --name ours --port "$OPORT" --pid "$OURS" --messages "$MESSAGES" > "$WORK/ours-load.txt" || exit 1
"$DRIVER" --load --name mosq --port "$MPORT" --pid "$MOSQ" --messages "$MESSAGES" > "$WORK/mosq-load.txt" || exit 1
lget() { awk -v k="$2" '$2 == k { print $3 }' "$WORK/$1-load.txt"; }
printf '\n%-46s %14s %14s\n' "load, QoS 0, 64 B, open loop" "mqtt-broker" "mosquitto"
row() { printf '%-46s %14s %14s\n' "$1" "$(lget ours "$2")" "$(lget mosq "$2")"; }
row "fan-in 20 -> 1: deliveries/s" fanin_per_sec
row "  delivered of $(lget ours fanin_sent)" fanin_delivered
row "  messages dropped" fanin_dropped
row "  longest publisher stall (ms)" fanin_stall_ms
row "slow '#' subscriber: deliveries/s to the other" slowsub_per_sec
row "  delivered of $(lget ours slowsub_sent)" slowsub_delivered
row "  messages dropped (to the reading one)" slowsub_dropped
row "  longest publisher stall (ms)" slowsub_stall_ms
row "retained on subscribe: delivered of $(lget ours retained_stored)" retained_delivered
