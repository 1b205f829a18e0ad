#!/usr/bin/env bash
# make fuzz-live-campaigns: mqtt-fuzz campaigns against the reference broker and
# Debian's mosquitto, SECONDS each, then a plain replay of the same sessions
# (--plain: no waiting, no oracles) to show what the oracles cost.
#   campaigns.sh MQTT_FUZZ MQTT_BROKER SECONDS [SEED]
# Results: build/fuzz-live/campaign-<target>/ (summary.json, findings/), and one
# line per target on stdout. Exit 1 when a campaign found something.
set -u
fuzz=$1 broker=$2 secs=$3 seed=${4:-1}
out=build/fuzz-live
mkdir -p "$out"
status=0
export LC_ALL=C # printf's %.1f takes jq's numbers with a decimal point

# One line for a campaign and its plain replay, then one per group of findings.
report() { # NAME SUMMARY PLAIN_SUMMARY
    local name=$1 a=$2 b=$3 chain=DIFFERENT first=""
    local sessions seconds eps total crash hang memory spec diff groups t plain
    [ "$(jq -r '.session_chain' "$a")" = "$(jq -r '.session_chain' "$b")" ] && chain=same
    read -r sessions seconds eps total crash hang memory spec diff groups t < <(jq -r '[.sessions, .seconds,
        .exec_per_s, .findings.total, .findings.crash, .findings.hang, .findings.memory, .findings.spec,
        .findings.diff, (.groups | length), (.time_to_first_finding_s // 0)] | @tsv' "$a")
    plain=$(jq -r '.exec_per_s' "$b")
    [ "$t" != 0 ] && first=$(printf ', first after %.1f s' "$t")
    printf '%s: %s sessions in %.0f s, %.1f exec/s with oracles, %.1f exec/s plain replay of the same sessions (chain %s); findings %s (crash %s hang %s memory %s spec %s diff %s) in %s groups%s\n' \
        "$name" "$sessions" "$seconds" "$eps" "$plain" "$chain" "$total" "$crash" "$hang" "$memory" "$spec" "$diff" "$groups" "$first"
    jq -r '.groups[] | "  \(.class) \(.rule) x\(.count): \(.signature)  \(.dir)/repro.mqs"' "$a"
}

run() { # NAME SPAWN
    local name=$1 spawn=$2 dir="$out/campaign-$1"
    rm -rf "$dir" "$dir-plain"
    "$fuzz" --spawn "$spawn" --seed "$seed" --duration "${secs}s" --out "$dir" -q >"$dir.log" 2>&1
    local rc=$?
    [ $rc -eq 1 ] && status=1
    local n
    n=$(jq -r '.sessions' "$dir/summary.json" 2>/dev/null) || n=0
    [ "$n" -gt 0 ] || { echo "$name: the campaign did not run (see $dir.log)"; status=1; return; }
    "$fuzz" --spawn "$spawn" --seed "$seed" --runs "$n" --plain --out "$dir-plain" -q >/dev/null 2>&1
    report "$name" "$dir/summary.json" "$dir-plain/summary.json"
}
run reference "$broker -p {port}"
if command -v mosquitto >/dev/null; then run mosquitto-debian "mosquitto -p {port}"
else echo "mosquitto-debian: Debian's mosquitto is not installed (apt-get install mosquitto)"; status=1; fi
exit $status
