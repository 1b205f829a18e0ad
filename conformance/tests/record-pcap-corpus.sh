#!/usr/bin/env bash
# Records the captures the runner itself adds to the pcap regression corpus
# (pcaps/corpus, read by pcaps/tests/test_corpus.c and check_cli.sh): scenarios
# run with `--pcap all` against the reference broker with its default
# configuration (the runner's own start adds max_packet_size, which would
# show in every 5.0 CONNACK and differ when the corpus is replayed against
# mosquitto or a default reference broker), each capture copied with its
# .args (--port of that broker) and its expected `mqtt-pcap dump`. Run by hand when the corpus needs them again (the files
# are committed; `make check` only reads them):
#   conformance/tests/record-pcap-corpus.sh [OUTDIR]
# Uses build/bin/mqtt-conform, build/bin/mqtt-broker, build/bin/mqtt-pcap (run from the
# project root).
set -euo pipefail
OUT=${1:-pcaps/corpus}
WORK=$(mktemp -d)
trap 'kill $BROKER 2>/dev/null || true; rm -rf "$WORK"' EXIT
build/bin/mqtt-broker -p 0 > "$WORK/broker.log" 2>&1 & BROKER=$!
PORT=""
for _ in $(seq 1 100); do   # poll for the "listening on" line, with a deadline
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/broker.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "the reference broker did not start:" >&2; cat "$WORK/broker.log" >&2; exit 1; }

# record NAME SCENARIO VERSION: one run of SCENARIO (an id) in VERSION.
record() {
    local name=$1 id=$2 version=$3
    build/bin/mqtt-conform --broker "127.0.0.1:$PORT" --profile reference --out "$WORK/$name" --pcap all \
        --versions "$version" --filter "id:$id" -q conformance/scenarios > "$WORK/$name.out" ||
        { cat "$WORK/$name.out" >&2; exit 1; }
    local port=$PORT
    local file=$WORK/$name/pcap/${id//\//_}@$version.pcap
    cp "$file" "$OUT/$name.pcap"
    echo "--port $port" > "$OUT/$name.args"
    build/bin/mqtt-pcap dump "$OUT/$name.pcap" --port "$port" > "$OUT/$name.dump"
    echo "recorded $name: $id@$version, $(wc -c < "$OUT/$name.pcap") bytes, $(grep -c ' [CS]>[CS] ' "$OUT/$name.dump") packets"
}

record conform_v311_qos2 qos/03-qos2-handshake 3.1.1
record conform_v5_user_properties mqtt5/01-user-properties 5.0
