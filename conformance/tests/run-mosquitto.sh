#!/usr/bin/env bash
# check-conform-mosquitto: the whole suite against Debian's mosquitto 2.0.11
# with the package's default configuration (conformance/tests/peers/peers.sh:
# Debian's mosquitto.conf, only the port and the state directory changed)
# and the shipped profile conformance/profiles/mosquitto.profile: every
# known deviation is an expected failure, anything else fails the suite.
# Usage: run-mosquitto.sh MQTT-CONFORM
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/peers/peers.sh"
work=$(mktemp -d /tmp/conform-mosq.XXXXXX)
trap 'peer_stop; rm -rf "$work"' EXIT
peer_start mosquitto-default "$work/peer" || exit 1
bounded 1000 "$conform" --broker "127.0.0.1:$PEER_PORT" --profile "$root/conformance/profiles/mosquitto.profile" \
    --out "$root/build/check/conform-mosquitto" -q "$root/conformance/scenarios"
