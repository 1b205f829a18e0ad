#!/usr/bin/env bash
# make bench-pcap: ~100 MB of mixed MQTT traffic (pcap-gen, i.e. pcap_writer),
# then `mqtt-pcap dump` and `tshark -r FILE -Y mqtt` on it in the same run,
# both writing to /dev/null; prints both times and the ratio (goal: 20x).
#   bench_pcap.sh MQTT_PCAP PCAP_GEN [MEGABYTES]
set -euo pipefail
PCAP=$1 GEN=$2 MB=${3:-${BENCH_PCAP_MB:-100}}
FILE=build/bench/pcap-bench-${MB}MB.pcap
mkdir -p build/bench
# Regenerated when missing or older than the generator.
[ -s "$FILE" ] && [ "$FILE" -nt "$GEN" ] || "$GEN" "$FILE" "$MB"
now() { date +%s.%N; }
t0=$(now); "$PCAP" dump "$FILE" > /dev/null; t1=$(now)
packets=$("$PCAP" stats "$FILE" --json | sed -E 's/.*"packets":\{"C>S":([0-9]+),"S>C":([0-9]+)\}.*/\1 \2/' | awk '{print $1+$2}')
t2=$(now); tshark -r "$FILE" -Y mqtt > /dev/null 2>&1; t3=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$packets" -v f="$FILE" \
    -v size="$(stat -c %s "$FILE")" 'BEGIN {
    ours = b - a; theirs = d - c;
    printf "bench-pcap: %s, %.1f MB, %d MQTT packets\n", f, size / 1e6, n;
    printf "  mqtt-pcap dump      %7.3f s  (%.0f MB/s, %.2f M packets/s)\n", ours, size / 1e6 / ours, n / 1e6 / ours;
    printf "  tshark -r -Y mqtt   %7.3f s\n", theirs;
    printf "  ratio               %7.1fx faster (goal: 20x)\n", theirs / ours;
}'
