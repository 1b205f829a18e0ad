#!/bin/sh
# Proves libmqttcodec.so exports exactly its public API: every function
# declared in codec/include/mqtt/*.h, and nothing else (the library is built
# with -fvisibility=hidden; internal helpers such as codec_fail or
# topic_name_problem must not leak into users' namespaces).
#
#   check_exports.sh LIB.so [INCLUDE_DIR]
#
# Two checks: every declared function is exported (and there is at least one),
# and nothing else is. Prints each offending symbol, then "N passed, N failed";
# exits 1 if anything failed, 2 on usage errors.
set -u
lib=${1:-}
inc=${2:-$(dirname "$0")/../include/mqtt}
if [ -z "$lib" ] || [ ! -f "$lib" ] || [ ! -d "$inc" ]; then
    echo "usage: $0 LIB.so [INCLUDE_DIR]  (the shared library and its public headers)" >&2
    exit 2
fi
command -v nm >/dev/null 2>&1 || { echo "$0: 'nm' not found (install binutils)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-exports.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Declarations start a line with their return type: "mqtt_status mqtt_decode(".
grep -hE '^[a-z].*\bmqtt_[a-z0-9_]+\(' "$inc"/*.h | sed -E 's/.*\b(mqtt_[a-z0-9_]+)\(.*/\1/' | sort -u > "$tmp/declared"
nm -D --defined-only "$lib" | awk '{ print $3 }' | sort -u > "$tmp/exported"

passed=0 failed=0
hidden=$(comm -23 "$tmp/declared" "$tmp/exported")
leaked=$(comm -13 "$tmp/declared" "$tmp/exported")
for f in $hidden; do echo "FAIL $f is declared in $inc but not exported by $lib"; done
if [ -s "$tmp/declared" ] && [ -z "$hidden" ]; then
    passed=$((passed + 1)); echo "ok   all $(wc -l < "$tmp/declared") functions of the public headers are exported"
else
    failed=$((failed + 1)); [ -s "$tmp/declared" ] || echo "FAIL no function found in $inc/*.h"
fi
for s in $leaked; do echo "FAIL $lib exports $s, which no public header declares (internal: keep it hidden)"; done
if [ -z "$leaked" ]; then passed=$((passed + 1)); echo "ok   nothing else is exported"; else failed=$((failed + 1)); fi
echo "codec-exports: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
