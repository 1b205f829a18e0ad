#!/usr/bin/env bash
# check-conform-peer-NAME: the whole suite raw (no profile) against a
# third-party broker, twice, each run started here on 127.0.0.1 with its own
# state (conformance/tests/peers/peers.sh). Every run's verdict must be the
# one in conformance/tests/expect-NAME.txt (a run not listed must pass), and
# the two runs must give identical verdicts. Counts one test per run and
# round, plus one per expectation line that matched no run (stale).
#   run-peer.sh NAME MQTT-CONFORM [--write]
# --write prints the non-pass verdicts of one run as expectation lines (to
# start a review, never to replace one).
#
# NAME-ws (aedes-ws, rabbitmq-ws): the same broker over WebSockets
# (PEER_URL), judged against the TCP expectations expect-BASE.txt: the same
# verdicts over ws:// as over TCP; expect-NAME.txt, when it exists, is read
# first and lists the differences over WebSockets, each with the spec's
# words. One round only (the TCP suite checks repeatability; this one checks
# the transport), to keep `make check` short; plus, when the peer has a TLS
# WebSocket listener (rabbitmq-ws), the connect, QoS and websocket areas
# over wss:// with the same expectations.
#
# Expectation file: one line per run (or glob of runs) that does not pass:
#   ID-GLOB@VERSION-GLOB  VERDICT  "the specification's words that justify it"
# The first matching line wins; '#' starts a comment. VERDICT may list
# alternatives (`fail|pass`) only for a run whose outcome is known to vary
# from run to run, with the evidence in the justification; such runs are left
# out of the two-runs comparison, every other run must give the same verdict
# twice.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
name=$1 conform=$2 mode=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/peers/peers.sh"
. "$here/expect-lib.sh" # verdicts, expect_load, expect_judge, expect_stable
base=${name%-ws}
expect=$here/expect-$base.txt
ws_expect=$here/expect-$name.txt # differences over WebSockets (NAME-ws only), read first
rounds="1 2"
[ "$base" != "$name" ] && rounds=1
work=$(mktemp -d "/tmp/conform-peer-$name.XXXXXX")
trap 'peer_stop; rm -rf "$work"' EXIT
pass=0 fail=0

# The expectation files: over WebSockets the differences first, then the TCP ones.
load_expect() {
    local files=("$expect")
    [ "$base" != "$name" ] && [ -f "$ws_expect" ] && files=("$ws_expect" "$expect")
    expect_load "${files[@]}"
}

# -j 8: a third-party broker under 32 parallel runs (aedes: one node.js
# thread) can take over 2 s to answer a CONNECT, and that is load, not conformance.
run_once() {
    local round=$1 rc broker=${PEER_URL:-127.0.0.1:$PEER_PORT} opts=()
    # wss: the connect, QoS and websocket areas through the peer's TLS WebSocket listener
    [ "$round" = wss ] && broker=$PEER_WSS_URL opts=(--cafile "$PEER_CAFILE" --filter area:connect,area:qos,area:websocket)
    bounded 1000 "$conform" --broker "$broker" "${opts[@]}" --out "$work/r$round" --pcap none -q -j 8 "$root/conformance/scenarios" \
        > "$work/r$round.out" 2>&1
    rc=$?
    mkdir -p "$root/build/check"
    cp "$work/r$round/report.json" "$root/build/check/peer-$name-r$round.json" 2>/dev/null
    if [ "$rc" -gt 1 ] || [ ! -s "$work/r$round/report.json" ]; then
        echo "FAIL round $round: mqtt-conform exited $rc:"; tail -5 "$work/r$round.out"
        return 1
    fi
}

if ! peer_start "$name" "$work/peer"; then
    echo "peer-$name: 0 passed, 1 failed (the broker did not start)"
    exit 1
fi
if [ "$mode" = --write ]; then
    run_once 1 || exit 1
    verdicts "$work/r1/report.json" | awk '$2 != "pass" { printf "%-60s %s \"\"\n", $1, $2 }'
    exit 0
fi
load_expect
# NAME-ws with a TLS WebSocket listener (PEER_WSS_URL): one more round over wss://.
[ "$base" != "$name" ] && [ -n "${PEER_WSS_URL:-}" ] && rounds="$rounds wss"
for round in $rounds; do
    run_once "$round" || { fail=$((fail + 1)); continue; }
    expect_judge "round $round" "$work/r$round/report.json"
done
for k in "${!pats[@]}"; do
    [ "${used[$k]}" = 1 ] && continue
    # over WebSockets the TCP lines a ws line overrides are not stale: only the ws lines are checked
    [ "$base" != "$name" ] && [ "${src[$k]}" != "$ws_expect" ] && continue
    fail=$((fail + 1)); echo "FAIL: $(basename "${src[$k]}"): '${pats[$k]} ${want[$k]}' matches no run (stale)"
done
if [ -s "$work/r1/report.json" ] && [ -s "$work/r2/report.json" ]; then
    flips=$(diff <(expect_stable "$work/r1/report.json") <(expect_stable "$work/r2/report.json") | grep -c '^<')
    if [ "$flips" -gt 0 ]; then
        fail=$((fail + 1)); echo "FAIL: $flips verdicts differ between the two runs:"
        diff <(expect_stable "$work/r1/report.json") <(expect_stable "$work/r2/report.json") | grep '^[<>]'
    else pass=$((pass + 1)); fi
fi
echo "reports: $(for r in $rounds; do printf 'build/check/peer-%s-r%s.json ' "$name" "$r"; done)"
echo "peer-$name: $pass passed, $fail failed"
[ "$fail" = 0 ]
