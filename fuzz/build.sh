#!/bin/bash -eu
# Builds the fuzz harnesses the OSS-Fuzz / ClusterFuzzLite way, so the same
# sources run on ClusterFuzz unchanged.
#
# Inputs (set by the OSS-Fuzz / ClusterFuzzLite builder; defaults for a local run):
#   CC, CXX               compilers (clang, clang++)
#   CFLAGS, CXXFLAGS      sanitizer and coverage flags (e.g. -fsanitize=address -fsanitize=fuzzer-no-link)
#   LIB_FUZZING_ENGINE    the engine to link (-fsanitize=fuzzer for libFuzzer)
#   OUT                   where fuzz targets, dictionaries and seed corpora go
#   SRC                   the checkout (this repository); WORK: scratch space
# Outputs in $OUT, per harness H (`make fuzz-vars` lists them):
#   fuzz_H                    the fuzz target
#   fuzz_H.dict               the MQTT dictionary (fuzz/mqtt.dict)
#   fuzz_H.options            libFuzzer options (max_len)
#   fuzz_H_seed_corpus.zip    seeds (fuzz/gen_corpus.c, the codec's test vectors, fuzz/seeds/H,
#                             files named in FUZZ_SEED_FILES) and the reproducers of fixed
#                             findings (fuzz/regressions/H)
# The harnesses are built by the project's own make rules (fuzz/fuzz.mk and the fragments of
# the parts they test), with OSS-Fuzz's compiler, flags and engine in place of ours, into
# $WORK/build. Local run: `make fuzz-ossfuzz`.
cd "${SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
[ -f fuzz/fuzz.mk ] || cd mqtt # OSS-Fuzz: $SRC/mqtt
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}" "${OUT:=$PWD/build/fuzz/oss/out}"
WORK=${WORK:-$OUT/../work}
mkdir -p "$OUT" "$WORK"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -le 8 ] || jobs=8

std="-std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icodec/include -I."
# DEPS_FUZZ=: the builder image brings its own clang; nothing to install.
mk=(make --no-print-directory BUILD="$WORK/build" DEPS_FUZZ= CC="$CC"
    FUZZ_CC="$CC" FUZZ_LINK="$CXX" FUZZ_CFLAGS="$std -Wall $CFLAGS"
    FUZZ_ENGINE="$CXXFLAGS $LIB_FUZZING_ENGINE")
harnesses=$("${mk[@]}" -s fuzz-vars | sed -n 's/^FUZZ_HARNESSES=//p')
seed_files=$("${mk[@]}" -s fuzz-vars | sed -n 's/^FUZZ_SEED_FILES=//p')
"${mk[@]}" -j"$jobs" $(for h in $harnesses; do echo "$WORK/build/fuzz/fuzz_$h"; done)

# The seed generator is a plain program (no sanitizer, no fuzzer flags): it only writes files.
seeds=$WORK/seeds
rm -rf "$seeds"
$CC $std -O1 -o "$WORK/gen-corpus" fuzz/gen_corpus.c codec/src/*.c
"$WORK/gen-corpus" "$seeds" codec/tests/*.c
# shellcheck disable=SC2086
fuzz/add-seeds.sh "$seeds" $seed_files

for h in $harnesses; do
    cp "$WORK/build/fuzz/fuzz_$h" "$OUT/"
    cp fuzz/mqtt.dict "$OUT/fuzz_$h.dict"
    printf '[libfuzzer]\nmax_len = 4096\n' >"$OUT/fuzz_$h.options"
    mkdir -p "$seeds/$h"
    printf '\n' >"$seeds/$h/newline" # one input every harness accepts (see fuzz/run.sh)
    if [ -d "fuzz/regressions/$h" ]; then cp "fuzz/regressions/$h"/* "$seeds/$h/"; fi
    rm -f "$OUT/fuzz_${h}_seed_corpus.zip"
    if [ -n "$(ls -A "$seeds/$h")" ]; then
        (cd "$seeds/$h" && zip -q -r "$OUT/fuzz_${h}_seed_corpus.zip" .)
    fi
    echo "build.sh: $OUT/fuzz_$h ($(ls "$seeds/$h" | wc -l) seeds)"
done
