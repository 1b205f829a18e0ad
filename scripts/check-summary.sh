#!/bin/sh
# Prints the summary of `make check` from $CHECK_DIR/results (default
# build/check; one tab-separated line per suite, written by run-suite.sh and
# run-checks.sh: NAME PASSED FAILED SKIPPED SECONDS NOTE): a line per suite
# with its counts, its time and why it failed or skipped, then the closing line
#   check: N passed, N failed, N skipped (SUITE: reason; ...) in S s
# Exits 1 when a suite failed, when no suite ran, and, under CI (CI=true or
# CHECK_NO_SKIP=1), when anything was skipped: on a provisioned machine
# nothing skips, so a skip in CI is a missing dependency.
set -u
results=${CHECK_DIR:-build/check}/results
[ -s "$results" ] || { echo "check: no suite ran ($results is empty)" >&2; exit 1; }
strict=0
case "${CI:-}" in true|1|yes) strict=1 ;; esac
[ "${CHECK_NO_SKIP:-0}" = 1 ] && strict=1
awk -F '\t' -v strict="$strict" '
    {
        printf "  %-22s %5d passed, %d failed, %d skipped %7.1fs", $1, $2, $3, $4, $5
        if ($3 > 0) printf "  FAILED: %s", $6
        else if ($4 > 0) printf "  skipped: %s", $6
        printf "\n"
        p += $2; f += $3; s += $4; t += $5
        if ($3 > 0) failed = failed (failed == "" ? "" : "; ") $1 ": " $6
        else if ($4 > 0) skipped = skipped (skipped == "" ? "" : "; ") $1 ": " $6
    }
    END {
        line = sprintf("check: %d passed, %d failed, %d skipped", p, f, s)
        if (s > 0 && skipped != "") line = line " (" skipped ")"
        printf "%s in %.0fs\n", line, t
        if (f > 0) printf "check: FAILED: %s\n", failed
        if (s > 0 && strict) printf "check: %d skipped under CI: a skip is a missing dependency here\n", s
        exit (f > 0 || (s > 0 && strict))
    }' "$results"
