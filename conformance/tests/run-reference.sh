#!/usr/bin/env bash
# check-conform-reference: the whole suite against the reference broker
# (started by the runner itself, the embedded default), every run must pass.
# A missing broker binary is a failure (make builds it first; a skip is not a pass).
# Usage: run-reference.sh MQTT-CONFORM MQTT-BROKER
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1 broker=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -x "$broker" ]; then
    echo "FAIL: $broker does not exist (make check-conform-reference builds it); nothing was run"
    exit 1
fi
bounded 1000 "$conform" --broker-bin "$broker" --profile "$root/conformance/profiles/reference.profile" \
    --out "$root/build/check/conform-reference" -q "$root/conformance/scenarios"
