#!/bin/sh
# The suite loop of `make check`: runs every suite target, whatever the others
# did, then prints the summary (check-summary.sh) and exits with its status.
#   run-checks.sh TARGET...      ($MAKE runs the targets, default make)
# One make runs them all, CHECK_JOBS at a time (default: the number of cores
# plus one; most suites spend their time waiting on timers and peers, not
# on a core). One make, not one per target: prerequisites that several suites
# share are then built once, where makes side by side would race on the same
# objects. -k keeps going past a failure; --output-sync prints each suite's
# output whole when it ends, never interleaved with another's. Targets start
# in the order given (put the slow ones first: the run ends sooner).
# Target check-NAME records suite NAME (scripts/run-suite.sh). A target that
# ends without its suite's record (a test binary that does not build, a
# dependency that cannot be installed) is recorded as a failed suite named
# after the target, so the summary shows it and the exit status is non-zero.
# Starts from an empty $CHECK_DIR/results.
set -u
dir=${CHECK_DIR:-build/check}
make=${MAKE:-make}
jobs=${CHECK_JOBS:-$(( $(nproc 2>/dev/null || echo 1) + 1 ))}
mkdir -p "$dir"
: > "$dir/results"
start=$(date +%s)
# --output-sync came with GNU make 4.0 (macOS still ships 3.81: output may interleave there).
sync=--output-sync=target
$make --version 2>/dev/null | head -n 1 | grep -qE 'Make [4-9]' || sync=
$make --no-print-directory -k -j"$jobs" $sync "$@"
rc=$?
for target in "$@"; do
    name=${target#check-}
    cut -f1 "$dir/results" | grep -qxF "$name" && continue
    printf '%s\t0\t1\t0\t0\t%s\n' "$target" \
        "make $target ended before its suite recorded a result (make exited $rc; see the output above)" >> "$dir/results"
done
CHECK_ORDER="$*" CHECK_WALL=$(($(date +%s) - start)) exec "$(dirname "$0")/check-summary.sh"
