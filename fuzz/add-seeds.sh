#!/bin/sh
# Adds seeds kept elsewhere in the tree to the corpora:
#   fuzz/add-seeds.sh CORPUS_DIR [HARNESS:FILE | HARNESS:gz:FILE ...]
# copies each FILE into CORPUS_DIR/HARNESS/ (HARNESS:gz:FILE writes a gzip-compressed
# copy, FILE.gz, instead: the pcap reader inflates captures itself), and every file of
# fuzz/seeds/<harness>/ into CORPUS_DIR/<harness>/ (hand-written seeds of other parts'
# harnesses).
set -eu
dir=$1; shift
for pair in "$@"; do
    h=${pair%%:*}; f=${pair#*:}
    gz=0
    case $f in gz:*) gz=1; f=${f#gz:} ;; esac
    [ -f "$f" ] || { echo "add-seeds.sh: no file $f (for $h)" >&2; exit 1; }
    mkdir -p "$dir/$h"
    if [ "$gz" = 1 ]; then
        gzip -9 -n -c "$f" >"$dir/$h/$(basename "$f").gz"
    else
        cp "$f" "$dir/$h/"
    fi
done
if [ -d fuzz/seeds ]; then
    for d in fuzz/seeds/*/; do
        [ -d "$d" ] || continue
        h=$(basename "$d")
        mkdir -p "$dir/$h"
        cp "$d"* "$dir/$h/" 2>/dev/null || true
    done
fi
