#!/usr/bin/env bash
# Runs libFuzzer campaigns on the harnesses and prints one summary table.
#
#   fuzz/run.sh [--seconds N | --runs N] [--jobs N] [--smoke] HARNESS...
#
# Campaign (default): each harness runs N seconds on fuzz/corpus/<harness>/,
# which grows with what it finds; --jobs N > 1 uses libFuzzer's fork mode
# (N worker processes, crashes do not stop the run). Crashes, leaks, timeouts
# and OOMs land in fuzz/crashes/<harness>/, each with a one-line reproduce
# command. Exits 1 if any harness found something.
#
# Smoke (--smoke, for `make check`): each harness replays its seeds (read-only:
# new units go to a scratch directory) and the fixed regressions, then runs
# --runs N more inputs from a fixed seed (-seed=1), one job: the same work on
# every machine, whatever its speed; the script ends with "N passed, N failed"
# (one per harness). --runs also works for a campaign; --seconds is its default.
#
# Environment: FUZZ_BIN_DIR (build/fuzz), FUZZ_CORPUS_DIR (fuzz/corpus),
# FUZZ_CRASH_DIR (fuzz/crashes), FUZZ_ARGS (extra libFuzzer flags).
set -u
seconds=60
run_limit=""
jobs=1
smoke=0
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) run_limit=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    --*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: fuzz/run.sh [--seconds N] [--jobs N] [--smoke] HARNESS..." >&2; exit 2; }
case $seconds in ''|*[!0-9]*) echo "run.sh: --seconds wants a number, not '$seconds'" >&2; exit 2 ;; esac
case $run_limit in *[!0-9]*) echo "run.sh: --runs wants a number, not '$run_limit'" >&2; exit 2 ;; esac
case $jobs in ''|*[!0-9]*|0) echo "run.sh: --jobs wants a positive number, not '$jobs'" >&2; exit 2 ;; esac

bin_dir=${FUZZ_BIN_DIR:-build/fuzz}
corpus_dir=${FUZZ_CORPUS_DIR:-fuzz/corpus}
crash_dir=${FUZZ_CRASH_DIR:-fuzz/crashes}
log_dir=$bin_dir/logs
dict=fuzz/mqtt.dict
mkdir -p "$log_dir"
# Leaks are findings; a report must not be cut short by abort_on_error.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# Prints field NAME ("cov", "ft", "corp", "exec/s") of the last status line of a log.
status_field() {
    grep -aE '^#[0-9]+.*cov: ' "$1" | tail -n 1 |
        awk -v key="$2:" '{ for (i = 1; i < NF; i++) if ($i == key) { v = $(i + 1) } } END { print v + 0 }'
}

rows=()
passed=0
failed=0
for h in "$@"; do
    bin=$bin_dir/fuzz_$h
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is not built (make fuzz-build)" >&2
        rows+=("$h|-|-|-|-|-|not built")
        failed=$((failed + 1))
        continue
    fi
    crashes=$crash_dir/$h
    mkdir -p "$crashes" "$corpus_dir/$h"
    # A one-byte input always: libFuzzer skips empty files, and gives up when every seed is
    # rejected (the harness returns -1), as a config file with include_dir is.
    [ -e "$corpus_dir/$h/newline" ] || printf '\n' >"$corpus_dir/$h/newline"
    log=$log_dir/$h.log
    before=$(ls -1 "$crashes" 2>/dev/null | sort)
    args=(-timeout=10 -rss_limit_mb=1536 -malloc_limit_mb=512
          -print_final_stats=1 -artifact_prefix="$crashes/")
    [ -f "$dict" ] && args+=(-dict="$dict")
    if [ "$smoke" = 1 ]; then
        scratch=$bin_dir/smoke-corpus/$h
        rm -rf "$scratch" && mkdir -p "$scratch"
        dirs=("$scratch" "$corpus_dir/$h")
    else
        dirs=("$corpus_dir/$h")
    fi
    # Inputs of fixed findings are replayed first, every run (read-only: new units go to dirs[0]).
    [ -d "fuzz/regressions/$h" ] && dirs+=("fuzz/regressions/$h")
    # libFuzzer's -runs counts the seeds it replays first: add them, so that the
    # N runs are new inputs, and all seeds are replayed however many there are.
    if [ -n "$run_limit" ]; then
        nseeds=$(find "${dirs[@]}" -type f | wc -l)
        args+=(-runs=$((nseeds + run_limit)) -seed=1)
    else
        args+=(-max_total_time="$seconds")
    fi
    if [ "$smoke" = 0 ]; then
        [ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    echo "== fuzz $h: $([ -n "$run_limit" ] && echo "seeds + $run_limit runs" || echo "${seconds}s"), $( [ "$jobs" -gt 1 ] && [ "$smoke" = 0 ] && echo "$jobs jobs" || echo "1 job"), log $log"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" "${args[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    [ "$elapsed" -gt 0 ] || elapsed=1

    runs=$(grep -a 'stat::number_of_executed_units:' "$log" | tail -n 1 | awk '{print $2}')
    eps=$(grep -a 'stat::average_exec_per_sec:' "$log" | tail -n 1 | awk '{print $2}')
    if [ -z "$runs" ]; then # fork mode: the last "#N: cov: ..." line
        runs=$(grep -aE '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/')
        runs=${runs:-0}
        eps=$((runs / elapsed))
    fi
    cov=$(status_field "$log" cov)
    ft=$(status_field "$log" ft)
    corp=$(ls -1 "$corpus_dir/$h" | wc -l)
    after=$(ls -1 "$crashes" 2>/dev/null | sort)
    new=$(comm -13 <(echo "$before") <(echo "$after") | grep -E '^(crash|leak|timeout|oom)-' || true)
    n_new=$(echo -n "$new" | grep -c . || true)
    verdict=ok
    if [ "$n_new" -gt 0 ] || [ "$rc" -ne 0 ]; then
        verdict=FAILED
        failed=$((failed + 1))
        echo "!! fuzz $h: exit $rc, $n_new new finding(s) (log: $log); distinct ones:"
        # One line per distinct finding (fork mode finds the same bug many times): each new
        # input is replayed alone and named by its first invariant or sanitizer line.
        for f in $(echo "$new" | head -n 50); do
            timeout 60 "$bin" "$crashes/$f" 2>&1 |
                grep -aE -A1 "==FUZZ INVARIANT==|^SUMMARY: |ERROR: (Address|Leak)Sanitizer|runtime error" |
                grep -avE "^--$|==FUZZ INVARIANT==" | head -n 1 | cut -c1-160
        done | sed -E "s/(client|packet) [0-9]+/\1 N/g" | sort | uniq -c | sort -rn | head -n 10 | sed "s/^/   /"
        for f in $new; do
            echo "   reproduce: $bin $crashes/$f"
        done
    else
        passed=$((passed + 1))
    fi
    rows+=("$h|$runs|$eps|$cov|$ft|$corp|$n_new|$verdict")
done

echo
printf '%-10s %14s %10s %7s %8s %8s %8s  %s\n' harness executions exec/s cov features corpus crashes result
for r in "${rows[@]}"; do
    IFS='|' read -r h runs eps cov ft corp n verdict <<<"$r"
    printf '%-10s %14s %10s %7s %8s %8s %8s  %s\n' "$h" "$runs" "$eps" "$cov" "$ft" "$corp" "$n" "$verdict"
done
echo "(cov: covered edges; features: libFuzzer coverage features; corpus: files in $corpus_dir/<harness>)"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
