#!/bin/sh
# Adds seeds kept elsewhere in the tree to the corpora:
#   fuzz/add-seeds.sh CORPUS_DIR [HARNESS:FILE ...]
# copies each FILE into CORPUS_DIR/HARNESS/ and every file of fuzz/seeds/<harness>/
# into CORPUS_DIR/<harness>/ (hand-written seeds of other parts' harnesses).
set -eu
dir=$1; shift
for pair in "$@"; do
    h=${pair%%:*}; f=${pair#*:}
    [ -f "$f" ] || { echo "add-seeds.sh: no file $f (for $h)" >&2; exit 1; }
    mkdir -p "$dir/$h"
    cp "$f" "$dir/$h/"
done
if [ -d fuzz/seeds ]; then
    for d in fuzz/seeds/*/; do
        [ -d "$d" ] || continue
        h=$(basename "$d")
        mkdir -p "$dir/$h"
        cp "$d"* "$dir/$h/" 2>/dev/null || true
    done
fi
