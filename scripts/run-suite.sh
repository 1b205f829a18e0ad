#!/usr/bin/env bash
# Runs one test suite for `make check` under a deadline and records what it
# counted, so that check-summary.sh can print the closing line.
#   run-suite.sh NAME COMMAND [ARGS...]
#
# What a suite reports (the gate believes nothing else):
#   - Criterion's "Synthesis: Tested: ..." line, or the suite's own closing line
#     "[name: ]N passed, N failed[, N skipped]" (the last such line counts);
#   - each skipped test as a line "SKIP <reason>" (or "SKIPPED: <reason>"), with
#     the reason naming what is missing; a suite that skips as a whole exits 77;
#   - its exit status: non-zero is a failure whatever the counts say.
# A suite that prints no count line is a failure (a script is not "1 passed"),
# so is a sanitizer report anywhere in its output, so is a Criterion test that
# passed without running an assertion ("[NOASSERT] ...", printed by
# scripts/criterion_deadline.c: it counts as failed, not passed), and so is running past its
# deadline: SUITE_TIMEOUT seconds (default 1200), then SIGTERM to the suite's
# whole process group, SIGKILL 10 s later; the record names the suite and the
# last line it printed (what it was doing when it hung).
#
# Appends one tab-separated line to $CHECK_DIR/results (default build/check):
#   NAME PASSED FAILED SKIPPED SECONDS NOTE
# NOTE: why it failed, or the skip reasons ("; "-separated). The suite's
# output goes to the terminal and to $CHECK_DIR/NAME.log. Exits with the
# suite's status (124 when it timed out).
set -u
name=${1:?usage: run-suite.sh NAME COMMAND [ARGS...]}; shift
[ $# -gt 0 ] || { echo "usage: run-suite.sh NAME COMMAND [ARGS...]" >&2; exit 2; }
dir=${CHECK_DIR:-build/check}
budget=${SUITE_TIMEOUT:-1200}
mkdir -p "$dir"
log="$dir/$name.log"

start=$(date +%s%N)
# timeout puts the suite in its own process group and signals all of it, so
# brokers and clients a hung suite started go too; no stdin (nothing may wait on a terminal).
# Its group is not the terminal's: on Ctrl-C (or make being stopped) the trap
# passes the signal on through timeout, so nothing the suite started is orphaned.
pidf="$dir/$name.pid"
trap 'kill -TERM "$(cat "$pidf" 2>/dev/null)" 2>/dev/null; rm -f "$pidf"; exit 130' INT TERM HUP
{ timeout --kill-after=10 "$budget" "$@" < /dev/null 2>&1 & echo $! > "$pidf"; wait $!; } | tee "$log"
rc=${PIPESTATUS[0]}
rm -f "$pidf"
trap - INT TERM HUP
end=$(date +%s%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

num() { sed -nE "s/.*$1: ([0-9]+).*/\\1/p"; }
synth=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
plain=$(grep -aE '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
passed=0 failed=0 skipped=0 note=""
if [ -n "$synth" ]; then
    passed=$(echo "$synth" | num Passing)
    failed=$(( $(echo "$synth" | num Failing) + $(echo "$synth" | num Crashing) ))
    skipped=$(grep -ac '^\[SKIP\]' "$log")
elif [ -n "$plain" ]; then
    passed=$(echo "$plain" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed.*/\2/')
    failed=$(echo "$plain" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    skipped=$(echo "$plain" | sed -nE 's/.* failed, ([0-9]+) skipped.*/\1/p')
    skipped=${skipped:-0}
fi

# Skip reasons, from the suite's SKIP lines; every SKIP line is a skip, whatever the count says.
reasons=$(grep -aE '^[[:space:]]*(\[SKIP\]|SKIP(PED)?:?)[[:space:]]' "$log" |
          sed -E 's/^[[:space:]]*(\[SKIP\]|SKIP(PED)?:?)[[:space:]]+//' | sort -u | paste -sd ';' - | sed 's/;/; /g')
nskip=$(grep -acE '^[[:space:]]*(\[SKIP\]|SKIP(PED)?:?)[[:space:]]' "$log")
[ "$nskip" -gt "$skipped" ] && skipped=$nskip

fail() { failed=$((failed + 1)); note="${note:+$note; }$1"; }
noassert=$(grep -a '^\[NOASSERT\]' "$log" | sed -E 's/^\[NOASSERT\] ([^:]+::[^:]+):.*/\1/')
if [ -n "$noassert" ]; then
    n=$(echo "$noassert" | wc -l)
    passed=$((passed - n)); failed=$((failed + n - 1))
    fail "$n test(s) passed without an assertion: $(echo "$noassert" | head -5 | paste -sd ' ' -)"
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    last=$(grep -av '^[[:space:]]*$' "$log" | tail -n 1 | cut -c1-160)
    fail "timed out after ${budget}s (SUITE_TIMEOUT); last line: ${last:-nothing printed}"
elif [ "$rc" -eq 77 ] && [ "$failed" -eq 0 ]; then
    # Skipped as a whole: one skip, with its reason.
    [ "$skipped" -eq 0 ] && skipped=1
    [ -n "$reasons" ] || reasons="the suite skipped (exit 77) without printing a SKIP line"
elif [ -z "$synth" ] && [ -z "$plain" ]; then
    fail "printed no 'N passed, N failed' line (exit $rc)"
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    fail "exit status $rc although its counts say 0 failed"
fi
if grep -aqE '(ERROR: (Address|Leak|Memory|Thread)Sanitizer|: runtime error: )' "$log"; then
    fail "a sanitizer report is in its output"
fi
# A suite that counted its own failures: name the first ones from its FAIL lines.
if [ "$failed" -gt 0 ] && [ -z "$note" ]; then
    note=$(grep -aE '^[[:space:]]*(\[FAIL\]|FAIL)[[:space:]:-]' "$log" | head -3 | cut -c1-120 |
           sed -E 's/^[[:space:]]*(\[FAIL\]|FAIL)[[:space:]:-]+//' | paste -sd ';' - | sed 's/;/; /g')
    note=${note:-see $log}
fi
[ "$failed" -eq 0 ] && [ "$skipped" -gt 0 ] && note=$reasons
[ "$failed" -gt 0 ] && [ "$skipped" -gt 0 ] && note="$note; skipped: $reasons"

printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$passed" "$failed" "$skipped" "$seconds" "$note" >> "$dir/results"
[ "$rc" -eq 77 ] && [ "$failed" -eq 0 ] && exit 0
[ "$rc" -eq 0 ] && [ "$failed" -gt 0 ] && exit 1
exit "$rc"
