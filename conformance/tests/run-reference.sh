#!/usr/bin/env bash
# check-conform-reference: the whole suite against the reference broker
# (started by the runner itself, the embedded default), every run must pass.
# Skips, saying so, while the broker binary does not exist yet.
# Usage: run-reference.sh MQTT-CONFORM MQTT-BROKER
set -u
conform=$1 broker=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -x "$broker" ]; then
    echo "SKIPPED: $broker does not exist yet (issue: reference broker); the suite against the reference broker was not run"
    exit 0
fi
"$conform" --broker-bin "$broker" --profile "$root/conformance/profiles/reference.profile" \
    --out "$root/build/check/conform-reference" -q "$root/conformance/scenarios"
