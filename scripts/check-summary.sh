#!/bin/sh
# Prints the summary of `make check` from $CHECK_DIR/results (default
# build/check; one tab-separated line per suite, written by run-suite.sh and
# run-checks.sh: NAME PASSED FAILED SKIPPED SECONDS NOTE): a line per suite
# with its counts, its time and why it failed or skipped, then the closing line
#   check: N passed, N failed, N skipped (SUITE: reason; ...) in W s
# Suites are listed in the order of CHECK_ORDER (the targets, check-NAME, as
# run-checks.sh was given them: suites run side by side end in any order);
# W is CHECK_WALL, the run's wall time, when given, with the suites' own
# seconds added up beside it; without it, the sum of the suites' seconds.
# Exits 1 when a suite failed, when no suite ran, and, under CI (CI=true or
# CHECK_NO_SKIP=1), when anything was skipped: on a provisioned machine
# nothing skips, so a skip in CI is a missing dependency.
set -u
results=${CHECK_DIR:-build/check}/results
[ -s "$results" ] || { echo "check: no suite ran ($results is empty)" >&2; exit 1; }
strict=0
case "${CI:-}" in true|1|yes) strict=1 ;; esac
[ "${CHECK_NO_SKIP:-0}" = 1 ] && strict=1
# Each record prefixed with its suite's place in CHECK_ORDER, then sorted by it.
awk -F '\t' -v order="${CHECK_ORDER:-}" '
    BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) { t = o[i]; sub(/^check-/, "", t); at[t] = i; at[o[i]] = i } }
    { printf "%d\t%s\n", ($1 in at) ? at[$1] : n + NR, $0 }' "$results" | sort -n -s -k1,1 | cut -f2- |
awk -F '\t' -v strict="$strict" -v wall="${CHECK_WALL:-}" '
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
        if (wall != "") printf "%s in %ds (the suites took %.0fs in all, side by side)\n", line, wall, t
        else printf "%s in %.0fs\n", line, t
        if (f > 0) printf "check: FAILED: %s\n", failed
        if (s > 0 && strict) printf "check: %d skipped under CI: a skip is a missing dependency here\n", s
        exit (f > 0 || (s > 0 && strict))
    }'
