#!/usr/bin/env bash
# Line coverage of codec/ (and broker/, when its harness is built) reached by
# the fuzz corpora: each coverage-instrumented harness runs every file of
# fuzz/corpus/<harness>/ once (-runs=0), the profiles are merged, and llvm-cov
# reports per file. HTML goes to build/fuzz/coverage/html/index.html.
#
#   fuzz/coverage.sh HARNESS...
#
# Environment: FUZZ_BIN_DIR (build/fuzz; binaries in its cov/ subdirectory),
# FUZZ_CORPUS_DIR (fuzz/corpus), FUZZ_PROFDATA / FUZZ_COV (llvm-profdata-14,
# llvm-cov-14), FUZZ_COVERAGE_GOAL (95: the line percentage of codec/src the
# summary compares against; falling short is reported, not an error).
set -eu
[ $# -gt 0 ] || { echo "usage: fuzz/coverage.sh HARNESS..." >&2; exit 2; }
bin_dir=${FUZZ_BIN_DIR:-build/fuzz}
corpus_dir=${FUZZ_CORPUS_DIR:-fuzz/corpus}
profdata=${FUZZ_PROFDATA:-llvm-profdata-14}
cov=${FUZZ_COV:-llvm-cov-14}
goal=${FUZZ_COVERAGE_GOAL:-95}
out=$bin_dir/coverage
rm -rf "$out" && mkdir -p "$out/raw"

objects=()
for h in "$@"; do
    bin=$bin_dir/cov/fuzz_$h
    [ -x "$bin" ] || { echo "coverage.sh: $bin is not built" >&2; exit 1; }
    [ -d "$corpus_dir/$h" ] || { echo "coverage.sh: no corpus in $corpus_dir/$h (make fuzz-corpus)" >&2; exit 1; }
    n=$(ls -1 "$corpus_dir/$h" | wc -l)
    echo "== $h: $n inputs"
    # -runs=0: execute the corpus once, no fuzzing; findings are not this script's business.
    LLVM_PROFILE_FILE="$out/raw/$h-%p.profraw" "$bin" -runs=0 -timeout=10 "$corpus_dir/$h" \
        >"$out/$h.log" 2>&1 || echo "   (the harness exited non-zero; see $out/$h.log)"
    if [ ${#objects[@]} -eq 0 ]; then objects+=("$bin"); else objects+=(-object "$bin"); fi
done
"$profdata" merge -sparse "$out"/raw/*.profraw -o "$out/merged.profdata"

report() { # SOURCES...
    "$cov" report "${objects[@]}" -instr-profile="$out/merged.profdata" "$@"
}
codec_files=$(ls codec/src/*.c)
echo
echo "Line coverage of codec/src by fuzz/corpus ($*):"
report $codec_files | tee "$out/codec.txt"
broker_files=""
for h in "$@"; do [ "$h" = broker ] && broker_files=$(ls broker/src/*.c); done
if [ -n "$broker_files" ]; then
    echo
    echo "Line coverage of broker/src by fuzz/corpus/broker:"
    report $broker_files | tee "$out/broker.txt"
fi
"$cov" show "${objects[@]}" -instr-profile="$out/merged.profdata" -format=html \
    -output-dir="$out/html" $codec_files $broker_files >/dev/null

# TOTAL line: regions missed cover% functions missed exec% lines missed cover% ...
pct=$(awk '$1 == "TOTAL" { print $10 }' "$out/codec.txt" | tr -d '%')
echo
echo "codec/src line coverage: ${pct}% (goal ${goal}%); HTML: $out/html/index.html"
awk -v p="$pct" -v g="$goal" 'BEGIN { if (p + 0 < g + 0) print "below the goal: see the HTML for the lines never reached" }'
