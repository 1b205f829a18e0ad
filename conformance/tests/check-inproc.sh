#!/usr/bin/env bash
# check-conform-inproc: `mqtt-conform --inproc` (the reference broker's core
# in-process, virtual clock) is the socket run's equal, and deterministic.
#   1. the whole suite over sockets against the reference broker process, and
#      the whole suite --inproc: the same runs with the same verdict each
#      (`mqtt-conform compare` marks every row that differs with '*');
#   2. a second --inproc run: the same verdicts, the same virtual duration and
#      the same transcript event times for every run (timers fire at the same
#      virtual times, whatever the load);
#   3. a timer scenario (session expiry after 4 s) --inproc takes less real time
#      than the virtual time it measures: no real sleep stood in for a timer.
# Both wall times are printed (the README quotes them).
# Usage: check-inproc.sh MQTT-CONFORM MQTT-BROKER
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1 broker=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/conform-inproc.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -20 | sed 's/^/     /'; }
if [ ! -x "$broker" ]; then
    echo "FAIL: $broker does not exist (make check-conform-inproc builds it); nothing was compared"
    echo "conform-inproc: 0 passed, 1 failed"
    exit 1
fi
ms() { echo $(($(date +%s%N) / 1000000)); }
profile=$root/conformance/profiles/reference.profile
suite() { # NAME ARGS...: the whole suite into $work/NAME, its wall time in $work/NAME.ms
    local name=$1 t0 rc; shift
    t0=$(ms)
    bounded 1000 "$conform" "$@" --profile "$profile" --out "$work/$name" --pcap none -q "$root/conformance/scenarios" \
        > "$work/$name.out" 2>&1; rc=$?
    echo $(($(ms) - t0)) > "$work/$name.ms"
    [ "$rc" -eq 0 ] && ok "$name run: exit 0 ($(tail -1 "$work/$name.out" | sed 's/ (.*//'))" ||
        bad "$name run: exit $rc" "$(tail -8 "$work/$name.out")"
}
suite socket --broker-bin "$broker"
suite inproc --inproc
suite inproc2 --inproc
echo "wall time of the whole suite: sockets $(cat "$work/socket.ms") ms, in-process $(cat "$work/inproc.ms") ms"

runs=$(grep -c '"verdict"' "$work/socket/report.json" 2>/dev/null)
bounded 60 "$conform" compare socket="$work/socket/report.json" inproc="$work/inproc/report.json" > "$work/cmp" 2>&1
rows=$(grep -cE '^[ *] [^ ]+@[0-9.]+ ' "$work/cmp")
differ=$(grep -E '^\* ' "$work/cmp")
if [ "${runs:-0}" -gt 0 ] && [ "$rows" -eq "$runs" ] && [ -z "$differ" ]; then
    ok "every one of the $runs runs has the same verdict over sockets and in-process"
else
    bad "verdicts differ ($rows rows compared, $runs runs over sockets)" "$differ"
fi

# per run: id, version, repeat, verdict and (virtual) seconds, then every transcript
# event's virtual time, client and kind, in report order (the texts hold the namespace,
# which differs from process to process)
fingerprint() {
    grep -oE '"(id|version|repeat|verdict|seconds)": ("[^"]*"|[0-9.]+)|"ms": [0-9]+, "client": "[^"]*", "kind": "[^"]*"' \
        "$1" | paste -sd' ' | sed 's/"id"/\n"id"/g'
}
if [ -s "$work/inproc/report.json" ] && diff <(fingerprint "$work/inproc/report.json") \
    <(fingerprint "$work/inproc2/report.json") > "$work/fp.diff"; then
    ok "two in-process runs: the same verdict, virtual duration and transcript event times for every run"
else
    bad "two in-process runs differ" "$(head -10 "$work/fp.diff")"
fi

# The runner's own wall time of the run (report.json wall_seconds: the engine,
# not process start-up) against the virtual time the run measured.
timer=session/04-v5-session-expiry
bounded 60 "$conform" --inproc --json "$work/timer.json" -q "$root/conformance/scenarios/$timer.mqs" \
    > "$work/timer.out" 2>&1
secs() { # KEY: the first "KEY": number of the timer run's report, in ms
    awk -v s="$(grep -oE "\"$1\": [0-9.]+" "$work/timer.json" 2>/dev/null | head -1 | grep -oE '[0-9.]+$')" \
        'BEGIN { printf "%d", s * 1000 }'
}
virt_ms=$(secs seconds) wall_ms=$(secs wall_seconds)
if grep -q '"verdict": "pass"' "$work/timer.json" 2>/dev/null && [ "$virt_ms" -ge 3000 ] && [ "$wall_ms" -lt "$virt_ms" ]; then
    ok "$timer in-process: ${virt_ms} ms of virtual time in ${wall_ms} ms of real time"
else
    bad "$timer in-process: virtual ${virt_ms} ms, real ${wall_ms} ms (want a pass, >= 3000 ms virtual, less real)" \
        "$(tail -5 "$work/timer.out")"
fi
echo "conform-inproc: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
