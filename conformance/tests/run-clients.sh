#!/usr/bin/env bash
# check-conform-clients: the client suite (conformance/client-scenarios, the
# runner as the server) against real MQTT clients, each run twice:
#   mqtt-tools          this project's mqtt-pub / mqtt-sub (the build next to MQTT-CONFORM)
#   mosquitto-clients   Debian's mosquitto_pub / mosquitto_sub
#   mqttjs              MQTT.js's `mqtt pub` / `mqtt sub` (npm package `mqtt`,
#                       installed here into build/npm when missing)
# Every run's verdict must be the one in conformance/tests/expect-client-NAME.txt
# (a run not listed must pass; same format as expect-*.txt of run-peer.sh:
# `ID-GLOB@VERSION-GLOB VERDICT "the specification's words that justify it"`),
# and the two rounds must give identical verdicts. Counts one test per run
# and round, one per client for the comparison, plus one per stale line.
#   run-clients.sh MQTT-CONFORM [NAME...] [--write]
# --write prints one round's non-pass verdicts per client as expectation lines
# (to start a review, never to replace one).
set -u
conform=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/expect-lib.sh" # verdicts, expect_load, expect_judge, expect_stable
names=() mode=
for a in "$@"; do [ "$a" = --write ] && mode=--write || names+=("$a"); done
[ ${#names[@]} -gt 0 ] || names=(mqtt-tools mosquitto-clients mqttjs)
work=$(mktemp -d "/tmp/conform-clients.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 skipped=0

# MQTT.js: the npm package `mqtt` in build/npm (installed once, at test time).
mqttjs_ready() {
    local bin=$root/build/npm/node_modules/.bin
    [ -x "$bin/mqtt" ] || (cd "$root" && timeout 180 npm install --prefix build/npm mqtt >"$work/npm.log" 2>&1)
    [ -x "$bin/mqtt" ] && PATH=$bin:$PATH
}

run_once() {
    local name=$1 round=$2 rc
    # Runs mostly wait on protocol timers: -j 8. MQTT.js: --time-scale 2 (the
    # steps' waits, not the protocol timers: node.js needs about 0.4 s of CPU to
    # start and to end, and the machine may have 2 cores)
    local scale=1
    [ "$name" = mqttjs ] && scale=2
    "$conform" --client "$name" --out "$work/$name-r$round" --pcap failures -q -j 8 --time-scale "$scale" \
        "$root/conformance/client-scenarios" > "$work/$name-r$round.out" 2>&1
    rc=$?
    mkdir -p "$root/build/check"
    cp "$work/$name-r$round/report.json" "$root/build/check/client-$name-r$round.json" 2>/dev/null
    if [ "$rc" -gt 1 ] || [ ! -s "$work/$name-r$round/report.json" ]; then
        { echo "FAIL $name round $round: mqtt-conform exited $rc:"; tail -5 "$work/$name-r$round.out"; } \
            > "$work/$name-r$round.failed"
    fi
}

# Can client NAME run here? (else it is counted as skipped, with the reason)
available() {
    local name=$1
    if [ "$name" = mqttjs ] && ! mqttjs_ready; then
        echo "SKIP mqttjs: npm could not install the package mqtt into build/npm (see npm's log)"
        skipped=$((skipped + 1)); return 1
    fi
    if [ "$name" = mosquitto-clients ] && ! command -v mosquitto_pub >/dev/null; then
        echo "SKIP mosquitto-clients: mosquitto_pub is not installed (Debian package mosquitto-clients)"
        skipped=$((skipped + 1)); return 1
    fi
}

# Judges client NAME's two rounds (already run) against its expectation file
# and against each other.
judge_client() {
    local name=$1 round
    expect=$here/expect-client-$name.txt
    expect_load "$expect"
    for round in 1 2; do
        if [ -f "$work/$name-r$round.failed" ]; then cat "$work/$name-r$round.failed"; fail=$((fail + 1)); continue; fi
        expect_judge "$name round $round" "$work/$name-r$round/report.json"
    done
    for k in "${!pats[@]}"; do
        [ "${used[$k]}" = 1 ] && continue
        fail=$((fail + 1)); echo "FAIL: $expect: '${pats[$k]} ${want[$k]}' matches no run (stale)"
    done
    local a=$work/$name-r1/report.json b=$work/$name-r2/report.json
    if [ -s "$a" ] && [ -s "$b" ]; then
        if diff <(expect_stable "$a") <(expect_stable "$b") > "$work/$name.diff"; then pass=$((pass + 1))
        else fail=$((fail + 1)); echo "FAIL $name: verdicts differ between the two rounds:"; grep '^[<>]' "$work/$name.diff"; fi
    fi
    echo "$name: reports in build/check/client-$name-r1.json, build/check/client-$name-r2.json"
}

ready=()
for n in "${names[@]}"; do available "$n" && ready+=("$n"); done
if [ "$mode" = --write ]; then
    for n in "${ready[@]}"; do
        run_once "$n" 1
        echo "# $n"
        verdicts "$work/$n-r1/report.json" | awk '$2 != "pass" { printf "%-60s %s \"\"\n", $1, $2 }'
    done
    exit 0
fi
# The clients side by side (their runs mostly wait on timers; each client's
# rounds one after the other), then judged in order.
for n in "${ready[@]}"; do (run_once "$n" 1; run_once "$n" 2) & done
wait
for n in "${ready[@]}"; do judge_client "$n"; done
echo "clients: $pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
