#!/usr/bin/env bash
# The client suite catches client faults: a mutating relay
# (conformance/tests/client_relay.c) sits between a correct client (this
# project's mqtt-pub) and mqtt-conform's broker seat and breaks one rule at a
# time. For each mutation its scenarios must pass through the relay without
# the mutation (baseline `none`) and fail with the mutation, the failing
# step citing the rule the mutation breaks. No hook inside the client.
#   run-relay.sh MQTT-CONFORM CLIENT-RELAY
# Prints `relay: N passed, N failed`.
set -u
conform=$1 relay=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d "/tmp/conform-relay.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# mutation | scenarios (--filter) | rule the failing step must cite
cases=(
    "clear-dup|id:session/0*-redelivery-dup|MQTT-3.3.1-1"
    "reuse-pid|id:publish/03-unique-packet-ids|MQTT-2.3.1-2 MQTT-2.2.1-3"
    "drop-pubrel|id:publish/02-qos2-pubrel|MQTT-4.3.3-1"
    "exceed-rm|id:flow/01-v5-receive-maximum|MQTT-3.3.4-7"
    "connect-twice|id:connect/04-connect-once|MQTT-3.1.0-2"
)

# The mqtt-tools profile with the client behind the relay (which reconnects for it).
profile() {
    sed -e "s|^pub  *{bindir}/mqtt-pub -h {host} -p {port}|pub $relay $1 {host} {port} {bindir}/mqtt-pub -h 127.0.0.1 -p @PORT@|" \
        -e "s|^sub  *{bindir}/mqtt-sub -h {host} -p {port}|sub $relay $1 {host} {port} {bindir}/mqtt-sub -h 127.0.0.1 -p @PORT@|" \
        -e "s|^cannot pub  *reconnect=1.*|opt pub reconnect=1|" -e "s|^name .*|name relay-$1|" \
        -e "s|^opt  *pub  *repeat .*|opt pub repeat -l --relay-lines {repeat}|" \
        "$root/conformance/profiles/clients/mqtt-tools.profile" > "$work/relay-$1.profile"
}

# "ID@VERSION VERDICT RULES" per run of a report.
runs() {
    python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["runs"]:
    print("%s@%s %s %s" % (r["id"], r["version"], r["verdict"], (r.get("deciding_rules") or "-").replace(" ", ",")))
' "$1"
}

one() {
    local mut=$1 filter=$2 want=$3 label=$4 key verdict rules ok
    profile "$mut"
    "$conform" --client "$work/relay-$mut.profile" --filter "$filter" --out "$work/$label" --pcap none -q -j 4 \
        "$root/conformance/client-scenarios" > "$work/$label.out" 2>&1
    if [ ! -s "$work/$label/report.json" ]; then
        fail=$((fail + 1)); echo "FAIL $label: no report"; tail -5 "$work/$label.out"; return
    fi
    while read -r key verdict rules; do
        ok=0
        if [ "$mut" = none ]; then [ "$verdict" = pass ] && ok=1
        else for r in $want; do [ "$verdict" = fail ] && [[ ",$rules," == *",$r,"* ]] && ok=1; done; fi
        if [ $ok = 1 ]; then pass=$((pass + 1)); echo "ok   $label: $key $verdict ${rules//,/ }"
        else fail=$((fail + 1)); echo "FAIL $label: $key is $verdict (${rules//,/ }), expected $([ "$mut" = none ] && echo pass || echo "fail citing $want")"; fi
    done < <(runs "$work/$label/report.json")
}

for c in "${cases[@]}"; do
    IFS='|' read -r mut filter want <<< "$c"
    one none "$filter" "" "baseline-$mut"
    one "$mut" "$filter" "$want" "$mut"
done
echo "relay: $pass passed, $fail failed"
[ "$fail" = 0 ]
