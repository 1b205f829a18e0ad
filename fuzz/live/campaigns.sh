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
run() { # NAME SPAWN
    local name=$1 spawn=$2 dir="$out/campaign-$1"
    rm -rf "$dir" "$dir-plain"
    "$fuzz" --spawn "$spawn" --seed "$seed" --duration "${secs}s" --out "$dir" -q >"$dir.log" 2>&1
    local rc=$?
    [ $rc -eq 1 ] && status=1
    local n
    n=$(python3 -c "import json; print(json.load(open('$dir/summary.json'))['sessions'])" 2>/dev/null || echo 0)
    [ "$n" -gt 0 ] || { echo "$name: the campaign did not run (see $dir.log)"; status=1; return; }
    "$fuzz" --spawn "$spawn" --seed "$seed" --runs "$n" --plain --out "$dir-plain" -q >/dev/null 2>&1
    python3 - "$name" "$dir/summary.json" "$dir-plain/summary.json" <<'PY'
import json, sys
name, a, b = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
f = a['findings']
first = a['time_to_first_finding_s']
print(f"{name}: {a['sessions']} sessions in {a['seconds']:.0f} s, {a['exec_per_s']:.1f} exec/s with oracles, "
      f"{b['exec_per_s']:.1f} exec/s plain replay of the same sessions (chain {'same' if a['session_chain'] == b['session_chain'] else 'DIFFERENT'}); "
      f"findings {f['total']} (crash {f['crash']} hang {f['hang']} memory {f['memory']} spec {f['spec']} diff {f['diff']}) in {len(a['groups'])} groups"
      + (f", first after {first:.1f} s" if first else ""))
for g in a['groups']:
    print(f"  {g['class']} {g['rule']} x{g['count']}: {g['signature']}  {g['dir']}/repro.mqs")
PY
}
run reference "$broker -p {port}"
if command -v mosquitto >/dev/null; then run mosquitto-debian "mosquitto -p {port}"
else echo "mosquitto-debian: Debian's mosquitto is not installed (apt-get install mosquitto)"; status=1; fi
exit $status
