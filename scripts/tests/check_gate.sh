#!/usr/bin/env bash
# Proves the gate of `make check` (scripts/run-suite.sh, run-checks.sh,
# check-summary.sh) turns red on what must turn it red, and names it: a failing
# suite, a suite whose exit status contradicts its counts, a script that counts
# nothing, a sanitizer report, a hung suite (short deadline: it is stopped with
# its children and named with its last line), a make target that fails before
# its suite runs; and that a skip is counted and named, never a pass, and fails
# under CI. Each fixture in scripts/tests/fixtures is one such suite.
# Prints "gate: N passed, N failed".
set -u
# The gate's own settings must not leak in: .ci/run exports CI=true, and the
# cases below set CI and SUITE_TIMEOUT themselves where they test them.
unset CI CHECK_NO_SKIP SUITE_TIMEOUT CHECK_DIR
root=$(cd "$(dirname "$0")/../.." && pwd)
fx=$root/scripts/tests/fixtures
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-gate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -20 | sed 's/^/     /'; }
# expect NAME COND...: ok when the condition holds.
expect() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what" "$(cat "$tmp/out" 2>/dev/null)"; fi; }

# run CASE NAME COMMAND...: one suite through run-suite.sh into its own results
# file; its output in $tmp/out, its record in $rec (NAME PASSED FAILED SKIPPED ...).
run() {
    export CHECK_DIR=$tmp/$1; shift
    rm -rf "$CHECK_DIR"
    "$root/scripts/run-suite.sh" "$@" > "$tmp/out" 2>&1
    rc=$?
    rec=$(cut -f1-4 "$CHECK_DIR/results" 2>/dev/null | tr '\t' ' ')
    note=$(cut -f6 "$CHECK_DIR/results" 2>/dev/null)
}
summary() { "$root/scripts/check-summary.sh" > "$tmp/out" 2>&1; src=$?; }

run a passing "$fx/passes.sh"
expect "a passing suite counts its tests (3), not 1" [ "$rc" = 0 ] && [ "$rec" = "passing 3 0 0" ]
summary
expect "and the summary is green" [ "$src" = 0 ]
grep -q '^check: 3 passed, 0 failed, 0 skipped' "$tmp/out"; expect "closing line of a green run" [ $? = 0 ]

run b failing "$fx/fails.sh"
expect "a failing suite: exit 1, counted 1 passed 1 failed" [ "$rc" = 1 ] && [ "$rec" = "failing 1 1 0" ]
summary
expect "turns the summary red" [ "$src" = 1 ]
grep -q '^check: FAILED: failing: two' "$tmp/out"; expect "and names it and its failed test" [ $? = 0 ]

run c lying "$fx/lies.sh"
expect "exit 3 with '0 failed' counts as failed" [ "$rc" = 3 ] && [ "$rec" = "lying 4 1 0" ]
case $note in *"exit status 3"*) ok "the note says why";; *) bad "note: $note";; esac

run d silent "$fx/silent.sh"
expect "a script that counts nothing fails, it is not 1 passed" [ "$rc" = 1 ] && [ "$rec" = "silent 0 1 0" ]

run e sanitizer "$fx/sanitizer.sh"
expect "a sanitizer report fails the suite" [ "$rec" = "sanitizer 2 1 0" ] && [ "$rc" != 0 ]

run f criterion "$fx/criterion.sh"
expect "Criterion: failing + crashing, and its [SKIP]" [ "$rec" = "criterion 5 2 1" ]

start=$(date +%s)
SUITE_TIMEOUT=2 run g hanging "$fx/hangs.sh" "$tmp/child.pid"
took=$(($(date +%s) - start))
expect "a hung suite is stopped at its deadline (took ${took}s)" [ "$took" -lt 15 ] && [ "$rc" = 124 ]
expect "and recorded as failed" [ "$rec" = "hanging 0 1 0" ]
case $note in *"timed out after 2s"*"never answers"*) ok "the record names the deadline and the last line";;
    *) bad "timeout note: $note";; esac
# The killed child may stay a zombie until init reaps it: a zombie runs nothing.
child=$(cat "$tmp/child.pid" 2>/dev/null)
alive() { [ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
if [ -n "$child" ] && ! alive "$child"; then ok "the hung suite's child was stopped too"
else bad "the hung suite's child $child still runs"; kill "$child" 2>/dev/null; fi
summary
grep -q 'hanging.*FAILED: timed out' "$tmp/out" && [ "$src" = 1 ]; expect "the summary names the hung suite" [ $? = 0 ]

# A Criterion test without .timeout gets the deadline of scripts/criterion_deadline.c.
if ${CC:-cc} -std=c11 -DCRITERION_DEADLINE_S=1 -o "$tmp/crit" "$fx/criterion_hang.c" \
        "$root/scripts/criterion_deadline.c" -lcriterion > "$tmp/out" 2>&1; then
    start=$(date +%s)
    run k crit-hang "$tmp/crit" --jobs 2
    took=$(($(date +%s) - start))
    expect "a hung Criterion test fails at its deadline (took ${took}s), an assertion-free one fails" \
        [ "$took" -lt 20 ] && [ "$rec" = "crit-hang 1 2 0" ]
    grep -q 'gate::hangs: Timed out' "$tmp/out"; expect "the hung test names itself" [ $? = 0 ]
    case $note in *"passed without an assertion: gate::asserts_nothing"*) ok "the assertion-free test is named";;
        *) bad "note: $note";; esac
else bad "the Criterion fixture does not build" "$(cat "$tmp/out")"; fi

# Stopping make (SIGTERM to its process group) stops the suite's own group too
# (run-suite.sh passes it on through timeout): nothing it started is orphaned.
rm -f "$tmp/child2.pid"
CHECK_DIR=$tmp/term setsid "$root/scripts/run-suite.sh" stopped "$fx/hangs.sh" "$tmp/child2.pid" > /dev/null 2>&1 &
leader=$!
for _ in $(seq 1 100); do [ -s "$tmp/child2.pid" ] && break; sleep 0.05; done
child=$(cat "$tmp/child2.pid" 2>/dev/null)
kill -TERM -- "-$leader" 2>/dev/null
wait "$leader" 2>/dev/null
gone=0
for _ in $(seq 1 100); do alive "$child" || { gone=1; break; }; sleep 0.05; done
if [ -n "$child" ] && [ "$gone" = 1 ]; then ok "stopping the run stops what the suite started"
else bad "the suite's child ${child:-?} outlived SIGTERM to run-suite.sh"; kill "$child" 2>/dev/null; fi

run h skipping "$fx/skips.sh"
expect "a skip is counted as a skip" [ "$rc" = 0 ] && [ "$rec" = "skipping 1 0 1" ]
summary
expect "a skip alone keeps the summary green outside CI" [ "$src" = 0 ]
grep -q '^check: 1 passed, 0 failed, 1 skipped (skipping: tshark decodes the capture (tshark is not installed))' \
    "$tmp/out"; expect "the closing line counts and names the skip" [ $? = 0 ]
CI=true "$root/scripts/check-summary.sh" > "$tmp/out" 2>&1
expect "under CI=true a skip fails the summary" [ $? = 1 ]

run i uncounted "$fx/skips-uncounted.sh"
expect "a SKIP line the count forgot still counts" [ "$rec" = "uncounted 1 0 1" ]

run j whole "$fx/skips-all.sh"
expect "exit 77: the whole suite skipped, one skip with its reason" [ "$rc" = 0 ] && [ "$rec" = "whole 0 0 1" ] &&
    [ "$note" = "jq is not installed" ]

# The loop: every suite runs after a failing one and after a target that cannot
# build; suites run side by side (CHECK_JOBS) and are listed in the order given.
mkdir -p "$tmp/mk"
cat > "$tmp/mk/Makefile" <<EOF
s1:
	@$root/scripts/run-suite.sh s1 $fx/fails.sh
broken:
	@echo "cc: error: no such file" >&2; exit 2
s3:
	@$root/scripts/run-suite.sh s3 $fx/passes.sh
check-meet-a:
	@$root/scripts/run-suite.sh meet-a $fx/rendezvous.sh $tmp/mk/a $tmp/mk/b
check-meet-b:
	@$root/scripts/run-suite.sh meet-b $fx/rendezvous.sh $tmp/mk/b $tmp/mk/a
EOF
(cd "$tmp/mk" && CHECK_DIR=$tmp/mk/check MAKE=make CHECK_JOBS=2 "$root/scripts/run-checks.sh" \
    s1 broken s3 check-meet-a check-meet-b) > "$tmp/out" 2>&1
lrc=$?
expect "the loop exits non-zero" [ "$lrc" = 1 ]
grep -q '^check: 6 passed, 2 failed, 0 skipped' "$tmp/out"; expect "and runs every suite after a failure" [ $? = 0 ]
grep -q 'broken.*FAILED: make broken ended before its suite recorded a result' "$tmp/out"
expect "a target that fails to build is named" [ $? = 0 ]
grep -qE '^  s3 +3 passed, 0 failed, 0 skipped +[0-9.]+s' "$tmp/out"; expect "each suite's line shows its time" [ $? = 0 ]
grep -qE '^  meet-a +1 passed' "$tmp/out" && grep -qE '^  meet-b +1 passed' "$tmp/out"
expect "suites run side by side (each waited for the other)" [ $? = 0 ]
order=$(sed -nE 's/^  ([a-z0-9-]+) +[0-9]+ passed.*/\1/p' "$tmp/out" | paste -sd ' ' -)
expect "suites are listed in the order given, whenever they ended ($order)" [ "$order" = "s1 broken s3 meet-a meet-b" ]
grep -qE '^check: .* in [0-9]+s \(the suites took [0-9]+s in all, side by side\)' "$tmp/out"
expect "the closing line gives the wall time" [ $? = 0 ]

echo "gate: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
