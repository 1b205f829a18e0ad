#!/usr/bin/env bash
# Runs one test suite for `make check` and records its counts.
#   run-suite.sh NAME COMMAND [ARGS...]
# Counts come from Criterion's "Synthesis" line, else from a plain
# "N passed, N failed" line, else from the exit status (1 passed or 1 failed).
# They are appended to build/check/results, from which check-summary.sh prints
# the closing line. Exits with the command's status.
set -u
name=$1; shift
dir=build/check
mkdir -p "$dir"
log="$dir/$name.log"
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

synth=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
plain=$(grep -aE '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -n "$synth" ]; then
    passed=$(echo "$synth" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
    failing=$(echo "$synth" | sed -E 's/.*Failing: ([0-9]+).*/\1/')
    crashing=$(echo "$synth" | sed -E 's/.*Crashing: ([0-9]+).*/\1/')
    failed=$((failing + crashing))
elif [ -n "$plain" ]; then
    passed=$(echo "$plain" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
    failed=$(echo "$plain" | sed -E 's/.* ([0-9]+) failed.*/\1/')
elif [ "$rc" -eq 0 ]; then
    passed=1; failed=0
else
    passed=0; failed=1
fi
# A suite that exits non-zero counts as failed even if its counts say otherwise.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$name $passed $failed" >> "$dir/results"
exit "$rc"
