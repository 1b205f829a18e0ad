#!/usr/bin/env bash
# bench-conform: scenario runs per second of the whole suite against the
# reference broker (or mosquitto, if the reference broker is not built yet).
# One pass: the machine is shared, benchmarks are not run in loops.
# Usage: bench.sh MQTT-CONFORM MQTT-BROKER
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1 broker=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d /tmp/conform-bench.XXXXXX)
if [ -x "$broker" ]; then
    target="reference broker"
    set -- --broker-bin "$broker"
else
    . "$here/mosquitto.sh"
    trap 'mosq_stop' EXIT
    mosq_start "$out" || exit 1
    target="mosquitto (reference broker not built)"
    set -- --broker "127.0.0.1:$MOSQ_PORT" --profile "$root/conformance/profiles/mosquitto.profile"
fi
start=$(date +%s.%N)
bounded 1000 "$conform" "$@" --out "$out" -q "$root/conformance/scenarios" > "$out/console.txt" 2>&1
rc=$?
end=$(date +%s.%N)
runs=$(grep -c '"verdict"' "$out/report.json")
awk -v n="$runs" -v s="$start" -v e="$end" -v t="$target" -v rc="$rc" 'BEGIN {
    d = e - s; printf "bench-conform: %d scenario runs against %s in %.2f s: %.1f runs/s (exit %d)\n", n, t, d, n / d, rc }'
rm -rf "$out"
