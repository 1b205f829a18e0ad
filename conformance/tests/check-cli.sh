#!/usr/bin/env bash
# CLI checks of mqtt-conform: exit status 2 with a clear message for usage
# errors, broken scenarios (all errors listed) and an unreachable broker;
# `compare` on good and unreadable reports.
# Usage: check-cli.sh MQTT-CONFORM
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1
pass=0 fail=0
tmp=$(mktemp -d /tmp/conform-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { # name expected-status grep-pattern command...
    local name=$1 want=$2 pat=$3; shift 3
    out=$(bounded 30 "$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && echo "$out" | grep -q -- "$pat"; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $name: exit $rc (want $want), output: $out"; fi
}
mkdir -p "$tmp/s/x"
printf 'title T\nversions 5.0\nrules MQTT-0.0.0-0\nclients a\nb connect\n' > "$tmp/s/x/01-a.mqs"
printf 'title T\nversions 9\nclients a\na connect\n' > "$tmp/s/x/02-b.mqs"
check bad-option 2 "usage:" "$conform" --bogus
check bad-versions 2 "versions expects" "$conform" --versions 4.0 --list
check bad-jobs 2 "-j expects" "$conform" -j 0
check broken-scenarios 2 "01-a.mqs:3:7: MQTT-0.0.0-0 is not a normative statement" "$conform" --list "$tmp/s"
check all-errors-listed 2 "02-b.mqs:2:10: expected a protocol version" "$conform" --list "$tmp/s"
check nothing-run 2 "nothing was run" "$conform" "$tmp/s"
check unreachable 2 "not reachable" "$conform" --broker 127.0.0.1:1 --no-reports conformance/scenarios/connect/01-accepted.mqs
check missing-broker-bin 2 "is not there" "$conform" --broker-bin /nonexistent/mqtt-broker --no-reports conformance/scenarios/connect
check list 0 "scenarios" "$conform" --list --filter tag:smoke
check inproc-with-broker 2 "cannot be combined with --broker" "$conform" --inproc --broker 127.0.0.1:1 --no-reports conformance/scenarios/connect/01-accepted.mqs
check empty-filter 2 "selects no scenario" "$conform" --list --filter tag:does-not-exist
check bad-profile 2 "no such file" "$conform" --profile /nonexistent.profile --list
# compare: reads the JSON reports back; unreadable input says which file and why
printf '{"tool": "mqtt-conform", "profile": "default", "broker": "h:1", "counts": {"pass": 1}, "runs": [' > "$tmp/a.json"
printf '{"id": "x/01-a", "version": "5.0", "verdict": "pass"}]}' >> "$tmp/a.json"
sed 's/"pass"}]/"fail"}]/; s/h:1/h:2/' "$tmp/a.json" > "$tmp/b.json"
check compare-matrix 0 "\* x/01-a@5.0 *pass *fail" "$conform" compare "$tmp/a.json" "$tmp/b.json"
check compare-labels 0 "^  mine  *1 pass" "$conform" compare "mine=$tmp/a.json" "theirs=$tmp/b.json"
check compare-one-file 2 "two or more report.json" "$conform" compare "$tmp/a.json"
check compare-not-json 2 "s/x/01-a.mqs is not JSON (at byte 0" "$conform" compare "$tmp/a.json" "$tmp/s/x/01-a.mqs"
check compare-not-report 2 "not an mqtt-conform report.json" "$conform" compare "$tmp/a.json" <(echo '{"x": 1}')
check compare-bad-option 2 "unknown option --bogus" "$conform" compare --bogus "$tmp/a.json" "$tmp/b.json"
check write-profile-needs-file 2 "write-profile" "$conform" --write-profile
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
