#!/usr/bin/env bash
# make fuzz-live: mqtt-fuzz against an old mosquitto release with published,
# network-reachable crash bugs, built with ASan from its public source:
# v2.0.7 (CVE-2021-34432: a 5.0 PUBLISH with an empty topic and no Topic
# Alias, fixed in 2.0.8; CVE-2021-28166: a CONNACK sent by a 5.0 client,
# fixed in 2.0.10). mqtt-fuzz is not told either packet.
#   fuzz-live.sh MQTT_FUZZ MQTT_CONFORM
# Environment: FUZZ_LIVE_BOUND (seconds per campaign, default 300),
# FUZZ_LIVE_RANDOM (random seeds to try besides seed 1, default 3),
# MOSQUITTO_TAG (default v2.0.7), MOSQUITTO_MIRROR (a git mirror of eclipse/mosquitto).
# Each campaign must find a crash within the bound; every crash's repro.mqs
# must make mqtt-conform fail against a fresh v2.0.7 and pass against
# Debian's mosquitto (2.0.11, fixed). Exit 0 when all of that holds.
set -u
fuzz=$1 conform=$2
bound=${FUZZ_LIVE_BOUND:-300} nrandom=${FUZZ_LIVE_RANDOM:-3} tag=${MOSQUITTO_TAG:-v2.0.7}
out=build/fuzz-live
bin=$(fuzz/live/build-mosquitto.sh "$out" "$tag") || exit $?
echo "fuzz-live: mosquitto $tag with ASan: $bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-live.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
failed=0

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh"
export LC_ALL=C # printf's %.1f takes jq's numbers with a decimal point

# Starts CMD -p PORT, waits until it accepts; sets $bport.
start() {
    bport=$(free_port) || return 1
    "$@" -p "$bport" >"$tmp/b-$bport.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$bport") 2>/dev/null && return 0; sleep 0.05; done
    echo "fuzz-live: $* did not start" >&2; return 1
}

# The scenario of a finding against a fresh broker: prints the verdict word. Runs in a
# command substitution (a subshell), so it stops the broker it started itself.
replay() { # MQS CMD...
    local mqs=$1 verdict=fail; shift
    start "$@" || { echo "no-broker"; return; }
    "$conform" --broker "127.0.0.1:$bport" "$mqs" --out "$tmp/conf" -q >"$tmp/conf.out" 2>&1 && verdict=pass
    kill "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null
    echo "$verdict"
}

# One line for a campaign: its first crash, or none within the bound (then status 1).
verdict() { # SEED SUMMARY
    local sessions eps t crash
    read -r sessions eps t < <(jq -r '[.sessions, .exec_per_s, (.time_to_first_finding_s // 0)] | @tsv' "$2") || return 1
    crash=$(jq -r 'first(.groups[] | select(.class == "crash")) | "(session \(.first_session)): \(.signature)"' "$2")
    if [ -n "$crash" ]; then
        printf 'seed %s: %s sessions, %.1f exec/s, first crash after %.1f s %s\n' "$1" "$sessions" "$eps" "$t" "$crash"
    else
        printf 'seed %s: %s sessions, %.1f exec/s, NO crash within the bound\n' "$1" "$sessions" "$eps"
        return 1
    fi
}

campaign() { # SEED
    local seed=$1 dir="$out/live-seed-$1"
    rm -rf "$dir"
    "$fuzz" --spawn "$bin -p {port}" --seed "$seed" --duration "${bound}s" --stop-on crash --out "$dir" -q >"$dir.log" 2>&1
    verdict "$seed" "$dir/summary.json" || failed=$((failed + 1))
    for mqs in "$dir"/findings/*crash/repro.mqs; do
        [ -f "$mqs" ] || continue
        local old new
        old=$(replay "$mqs" "$bin")
        new=$(replay "$mqs" mosquitto)
        echo "  $mqs: mosquitto $tag $old, Debian's mosquitto $new"
        [ "$old" = fail ] && [ "$new" = pass ] || failed=$((failed + 1))
        echo "  $(grep -v '^#' "${mqs%/repro.mqs}/session.txt" | grep -c '^send') packet(s): $(grep '^send' "${mqs%/repro.mqs}/session.txt" | tr '\n' ';')"
    done
}

campaign 1
for _ in $(seq "$nrandom"); do campaign $(( (RANDOM << 15) | RANDOM )); done
echo "fuzz-live: $failed failed"
[ $failed -eq 0 ]
