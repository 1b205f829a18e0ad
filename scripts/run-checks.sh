#!/bin/sh
# The suite loop of `make check`: runs every suite target, whatever the ones
# before it did, then prints the summary (check-summary.sh) and exits with its
# status.
#   run-checks.sh TARGET...      ($MAKE runs each target, default make)
# A target that fails before its suite recorded a result (a test binary that
# does not build, a dependency that cannot be installed) is recorded as a
# failed suite named after the target, so the summary shows it and the exit
# status is non-zero. Starts from an empty $CHECK_DIR/results.
set -u
dir=${CHECK_DIR:-build/check}
make=${MAKE:-make}
mkdir -p "$dir"
: > "$dir/results"
for target in "$@"; do
    before=$(wc -l < "$dir/results")
    start=$(date +%s)
    $make --no-print-directory "$target"
    rc=$?
    if [ "$(wc -l < "$dir/results")" -eq "$before" ]; then
        printf '%s\t0\t1\t0\t%s\t%s\n' "$target" "$(($(date +%s) - start))" \
            "make $target exited $rc before its suite recorded a result (see the output above)" >> "$dir/results"
    fi
done
exec "$(dirname "$0")/check-summary.sh"
