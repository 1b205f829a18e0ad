#!/usr/bin/env bash
# check-conform-guard: mqtt-conform watches the reference broker it starts.
#  - a broker that crashes during the run (killed by SIGSEGV) makes the run
#    exit 1 and every report names it;
#  - a sanitizer report in the broker's log does the same;
#  - SIGTERM or SIGINT to the runner stops the broker it started, and a
#    SIGKILLed runner takes the broker with it (PR_SET_PDEATHSIG);
#  - --strict is accepted, and a clean run exits 0.
# The crashing and reporting brokers are shell wrappers around the real one.
# Usage: check-guard.sh MQTT-CONFORM MQTT-BROKER
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1 broker=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pass=0 fail=0
tmp=$(mktemp -d /tmp/conform-guard.XXXXXX)
runner=
cleanup() {
    [ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# keep alive scenarios take over a second each: the run is still going when a wrapper crashes
slow="$root/conformance/scenarios/keepalive"

# A broker that crashes 0.5 s after it started (the real one is killed first).
cat > "$tmp/crashing-broker" <<EOF
#!/usr/bin/env bash
"$broker" "\$@" & b=\$!
trap 'kill \$b; wait \$b; exit 0' TERM
sleep 0.5 & wait \$!
kill -9 \$b; wait \$b
kill -SEGV \$\$
EOF
# A broker that writes an AddressSanitizer report to its log when it stops.
cat > "$tmp/reporting-broker" <<EOF
#!/usr/bin/env bash
"$broker" "\$@" & b=\$!
trap 'kill \$b; wait \$b; echo "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1" >&2; exit 0' TERM
wait \$b
EOF
chmod +x "$tmp/crashing-broker" "$tmp/reporting-broker"

out=$(bounded 120 "$conform" --broker-bin "$tmp/crashing-broker" --out "$tmp/crash" -q -j 4 "$slow" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "reference broker crashed during the run (killed by signal 11"; then ok
else bad "crash: exit $rc, output: $(echo "$out" | tail -5)"; fi
for f in report.json report.md report.html junit.xml; do
    if grep -q "crashed during the run" "$tmp/crash/$f" 2>/dev/null; then ok; else bad "crash not named in $f"; fi
done

out=$(bounded 120 "$conform" --broker-bin "$tmp/reporting-broker" --out "$tmp/san" -q "$root/conformance/scenarios/connect/01-accepted.mqs" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "sanitizer report: ==1==ERROR: AddressSanitizer"; then ok
else bad "sanitizer: exit $rc, output: $(echo "$out" | tail -5)"; fi
if grep -q "AddressSanitizer" "$tmp/san/junit.xml"; then ok; else bad "sanitizer report not named in junit.xml"; fi

mkdir -p "$tmp/logs-clean" "$tmp/logs-crash"
out=$(TMPDIR="$tmp/logs-clean" bounded 120 "$conform" --broker-bin "$broker" --no-reports -q --strict "$root/conformance/scenarios/connect/01-accepted.mqs" 2>&1); rc=$?
if [ $rc = 0 ]; then ok; else bad "clean run with --strict: exit $rc, output: $(echo "$out" | tail -5)"; fi
# Without a report directory the broker's log is the run's own (runs side by
# side never share a fixed path): gone after a clean run, kept after a crash.
if [ -z "$(ls -A "$tmp/logs-clean")" ]; then ok; else bad "--no-reports left $(ls "$tmp/logs-clean") behind after a clean run"; fi
out=$(TMPDIR="$tmp/logs-crash" bounded 120 "$conform" --broker-bin "$tmp/crashing-broker" --no-reports -q -j 4 "$slow" 2>&1); rc=$?
log=$(echo "$out" | sed -nE 's/.*crashed during the run.*log ([^)]*)\).*/\1/p' | head -n 1)
case "$log" in
"$tmp/logs-crash/mqtt-conform-"*/broker.log) if [ $rc = 1 ] && [ -f "$log" ]; then ok; else bad "crash with --no-reports: exit $rc, log $log kept? no"; fi ;;
*) bad "crash with --no-reports names no private log: $(echo "$out" | tail -3)" ;;
esac

# Starts the runner in the background on the slow scenarios; sets runner and
# bpid (the broker it started), polling (bounded) for the broker to listen.
start_runner() {
    "$conform" --broker-bin "$broker" --out "$tmp/$1" -q -j 1 "$slow" > "$tmp/$1.out" 2>&1 &
    runner=$! bpid=
    local _
    for _ in $(seq 1 200); do
        bpid=$(pgrep -P "$runner" -x mqtt-broker | head -n 1)
        [ -n "$bpid" ] && grep -q "listening on" "$tmp/$1/broker.log" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
# Is the broker gone (not running, not a zombie of ours) within 3 s?
gone() {
    local _
    for _ in $(seq 1 60); do
        kill -0 "$1" 2>/dev/null || return 0
        [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ] && [ "$2" = zombie-ok ] && return 0
        sleep 0.05
    done
    return 1
}
for sig in TERM INT KILL; do
    if ! start_runner "sig$sig"; then bad "SIG$sig: the runner's broker did not start"; continue; fi
    kill -"$sig" "$runner"
    wait "$runner" 2>/dev/null
    runner=
    if gone "$bpid" no; then ok; else bad "SIG$sig to the runner left its broker $bpid running"; kill -9 "$bpid"; fi
done

echo "guard: $pass passed, $fail failed"
[ "$fail" = 0 ]
