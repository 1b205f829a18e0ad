#!/bin/sh
# Compiles and runs the C example of the README against the library, and
# checks its output against the output the README shows.
#
#   scripts/check-readme-example.sh LIB.a
#
# The example is the fenced code between "<!-- readme-example -->" and
# "<!-- /readme-example -->" in README.md (or $README); the expected output is
# the fenced text between "<!-- readme-example-output -->" and
# "<!-- /readme-example-output -->". The program is built with $CC (default cc)
# in strict C11 with warnings as errors, against codec/include and LIB.a.
# Prints "N passed, N failed" (extract, compile, run, output) and exits 1 when
# a step fails, 2 on usage errors.
set -u

lib=${1:-}
readme=${README:-README.md}
cc=${CC:-cc}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
    echo "usage: $0 LIB.a  (run from the repository root; README=path overrides README.md)" >&2
    exit 2
fi
if [ ! -f "$readme" ]; then
    echo "$0: $readme not found (run from the repository root)" >&2
    exit 2
fi
include=$(dirname "$0")/../codec/include

tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme-example.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0
failed=0
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
    finish
}

# Prints the lines inside the first code fence between the two markers.
extract() {
    awk -v start="<!-- $1 -->" -v stop="<!-- /$1 -->" '
        index($0, start) == 1 { inside = 1; next }
        index($0, stop) == 1 { inside = 0; exit }
        inside && /^```/ { fence = !fence; if (!fence) exit; next }
        inside && fence { print }
    ' "$readme"
}

extract readme-example > "$tmp/example.c"
extract readme-example-output > "$tmp/expected"
if [ ! -s "$tmp/example.c" ]; then
    fail "$readme has no code between <!-- readme-example --> and <!-- /readme-example -->"
fi
if [ ! -s "$tmp/expected" ]; then
    fail "$readme has no output between <!-- readme-example-output --> and <!-- /readme-example-output -->"
fi
passed=$((passed + 1))

if ! $cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$include" -o "$tmp/example" \
        "$tmp/example.c" "$lib" 2> "$tmp/cc.log"; then
    sed 's/^/  /' "$tmp/cc.log" >&2
    fail "the README example does not compile (lines numbered from the start of the code block)"
fi
passed=$((passed + 1))

"$tmp/example" > "$tmp/actual" 2> "$tmp/stderr"
status=$?
if [ "$status" -ne 0 ]; then
    sed 's/^/  /' "$tmp/stderr" >&2
    fail "the README example exits with status $status instead of 0"
fi
passed=$((passed + 1))

if ! diff -u "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
    sed 's/^/  /' "$tmp/diff" >&2
    fail "the README example prints something else than the README shows (- README, + actual)"
fi
passed=$((passed + 1))
finish
