#!/usr/bin/env bash
# check-conform-mosquitto: the whole suite against Debian's mosquitto 2.0.11
# with its profile (known deviations are expected failures). Fails on any
# unexpected result. Usage: run-mosquitto.sh MQTT-CONFORM
set -u
conform=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/mosquitto.sh"
work=$(mktemp -d /tmp/conform-mosq.XXXXXX)
trap 'mosq_stop; rm -rf "$work"' EXIT
mosq_start "$work" || exit 1
"$conform" --broker "127.0.0.1:$MOSQ_PORT" --profile "$root/conformance/profiles/mosquitto.profile" \
    --out "$root/build/check/conform-mosquitto" -q "$root/conformance/scenarios"
