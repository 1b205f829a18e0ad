#!/bin/sh
# Prints the closing line of `make check` from build/check/results, one line
# per suite ("NAME PASSED FAILED"), and fails if any suite failed.
set -u
results=build/check/results
[ -s "$results" ] || { echo "check: no suite ran" >&2; exit 1; }
awk '{ printf "  %-24s %5d passed, %d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "check: %d passed, %d failed\n", p, f; exit (f > 0) }' "$results"
