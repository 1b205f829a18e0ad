#!/usr/bin/env bash
# check-conform-reference: the whole suite against the reference broker, every
# run must pass. In-process (--inproc: the broker's core in the runner, on a
# virtual clock), so no verdict depends on the machine's load; the same suite
# over sockets against the broker process the runner starts (the embedded
# default) runs in check-conform-inproc, which proves both give the same
# verdict for every run. A missing broker binary is a failure (a skip is not a pass).
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
bounded 1000 "$conform" --inproc --profile "$root/conformance/profiles/reference.profile" \
    --out "$root/build/check/conform-reference" -q "$root/conformance/scenarios"
