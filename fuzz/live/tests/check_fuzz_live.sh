#!/usr/bin/env bash
# make check-fuzz-live: mqtt-fuzz against the reference broker and a planted fault.
#   check_fuzz_live.sh MQTT_FUZZ MQTT_BROKER MQTT_CONFORM FAULT_RELAY MUTE_PEER MQTT_PCAP MQTT_SUB MQTT_PUB FRAGILE_CLIENT
# 1. a deterministic campaign (seed 1, 2000 sessions) against the reference broker: 0 findings;
# 2. the differential oracle, reference broker against itself: 0 findings (control answers
#    and PUBLISH deliveries); a relay that loses deliveries is found and reproduced;
# 3. the planted fault (fault_relay aborts on the bytes C0 01): found, minimised to those
#    bytes, and the written repro.mqs makes mqtt-conform fail against the relay and pass
#    against the broker alone; the pcap decodes;
# 4. same seed -> same sessions (listed, and run with and without oracles), other seed -> others;
# 5. usage errors and an unreachable broker exit 2; the memory and hang oracles fire;
# 6. client fuzzing (--client): our mqtt-sub and mqtt-pub (ASan) against a hostile broker,
#    0 findings; a fixture client with a planted out-of-bounds read is found, minimised,
#    and its repro.txt replays it.
# Every broker and relay runs on 127.0.0.1 on a free port, in a temporary directory.
set -u
fuzz=$1 broker=$2 conform=$3 relay=$4 mute_peer=$5 pcap=$6 sub=$7 pub=$8 fragile=$9
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/free_port.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/bounded.sh" # bounded: a hung run fails its check, named
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-live.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' "$2" | tail -n 20; }
json() { jq -r "$2" "$1"; } # FILE FILTER: one value of a summary.json

# A reference broker on a free port (its "listening on HOST:PORT" line).
start_broker() {
    "$broker" -p 0 >"$tmp/broker.log" 2>&1 &
    pids+=($!)
    port=$(reported_port "$tmp/broker.log" "$!") && return 0
    echo "check_fuzz_live: the reference broker did not start" >&2; cat "$tmp/broker.log" >&2; exit 1
}

# 1. The reference broker: no findings in a fixed-seed campaign.
spawn="$broker -p {port}"
bounded 180 "$fuzz" --spawn "$spawn" --seed 1 --runs 2000 --out "$tmp/ref" -q >"$tmp/ref.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(json "$tmp/ref/summary.json" '.findings.total')" = 0 ] \
   && [ "$(json "$tmp/ref/summary.json" '.sessions')" = 2000 ]; then
    ok "seed 1, 2000 sessions against the reference broker: 0 findings ($(json "$tmp/ref/summary.json" '.exec_per_s') exec/s)"
else bad "campaign against the reference broker (exit $rc)" "$tmp/ref.out"; fi
types=$(json "$tmp/ref/summary.json" '.coverage."5.0".types | length')
if [ "$types" -ge 9 ]; then ok "coverage: the broker answered $types packet types in 5.0"
else bad "coverage: only $types packet types answered in 5.0" "$tmp/ref.out"; fi
if ls "$tmp/ref/corpus/"*.sess >/dev/null 2>&1; then ok "interesting sessions saved to the corpus ($(ls "$tmp/ref/corpus" | wc -l))"
else bad "no corpus written" "$tmp/ref.out"; fi

# 2. Differential oracle: the reference broker against itself gives no difference.
bounded 180 "$fuzz" --spawn "$spawn" --reference-spawn "$spawn" --seed 2 --runs 300 --out "$tmp/diff" -q >"$tmp/diff.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "differential: reference against itself, 300 sessions, 0 findings"
else bad "differential against itself (exit $rc)" "$tmp/diff.out"; fi

# 3. The planted fault: found, minimised, reproduced by the scenario.
start_broker
bounded 180 "$fuzz" --spawn "$relay {port} $port" --seed 1 --runs 4000 --stop-after 1 --out "$tmp/fault" -q >"$tmp/fault.out" 2>&1
rc=$?
dir=$(ls -d "$tmp"/fault/findings/*crash 2>/dev/null | head -n 1)
if [ $rc -eq 1 ] && [ -n "$dir" ]; then ok "planted fault found: $(grep -o 'killed by signal [0-9]*' "$tmp/fault.out" | head -n 1)"
else bad "planted fault not found (exit $rc)" "$tmp/fault.out"; fi
if [ -n "$dir" ] && [ "$(grep -c '^send' "$dir/session.txt")" = 1 ] && grep -q '^send [a-d] c001$' "$dir/session.txt"; then
    ok "minimised to the one 2-byte packet that triggers it"
else bad "not minimised to 'send a c001'" "${dir:-$tmp}/session.txt"; fi
rport=$(free_port)
"$relay" "$rport" "$port" >"$tmp/relay.log" 2>&1 &
pids+=($!)
wait_listening "$rport" "$!"
bounded 180 "$conform" --broker "127.0.0.1:$rport" "$dir/repro.mqs" --out "$tmp/conf-relay" -q >"$tmp/conf-relay.out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "planted fault hit" "$tmp/relay.log"; then ok "repro.mqs makes mqtt-conform fail against the faulty relay (exit $rc)"
else bad "repro.mqs did not reproduce the fault (exit $rc)" "$tmp/conf-relay.out"; fi
bounded 180 "$conform" --broker "127.0.0.1:$port" "$dir/repro.mqs" --out "$tmp/conf-ref" -q >"$tmp/conf-ref.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "repro.mqs passes against the broker without the fault"
else bad "repro.mqs fails against the reference broker (exit $rc)" "$tmp/conf-ref.out"; fi
# repro.pcap decodes with mqtt-pcap, the triggering bytes sent client to server. The
# session has no CONNECT for mqtt-pcap to recognise MQTT by, so it is told the server
# port: the TCP destination port of the first record (our writer: 24-byte file header,
# 16-byte record header, Ethernet 14, IPv4 20, then source and destination ports).
pcap_port=$(od -An -tu1 -j 76 -N 2 "${dir:-/dev/null}/repro.pcap" 2>/dev/null | awk 'NF == 2 { print $1 * 256 + $2 }')
bounded 180 "$pcap" dump --port "${pcap_port:-1883}" "${dir:-/dev/null}/repro.pcap" >"$tmp/pcap.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "C>S .* bytes c0 01$" "$tmp/pcap.out"; then ok "repro.pcap decodes with mqtt-pcap and holds the triggering bytes C>S"
else bad "repro.pcap missing or wrong (mqtt-pcap exit $rc)" "$tmp/pcap.out"; fi
if grep -q '"crash"' "$tmp/fault/summary.json" && grep -q "repro.mqs" "$tmp/fault/findings.txt"; then
    ok "summary.json and findings.txt name the finding"
else bad "summary.json / findings.txt" "$tmp/fault.out"; fi

# The differential oracle on deliveries: a relay that loses the broker's PUBLISH
# packets on topics ending in /b (fault_relay drop-publish) against the reference
# broker itself; only the comparison of who received which message can see it.
bounded 180 "$fuzz" --spawn "$relay {port} $port drop-publish" --reference-spawn "$spawn" --seed 1 --runs 500 --stop-after 1 \
    --out "$tmp/drop" -q >"$tmp/drop.out" 2>&1
rc=$?
ddir=$(ls -d "$tmp"/drop/findings/*diff 2>/dev/null | head -n 1)
if [ $rc -eq 1 ] && [ -n "$ddir" ] && grep -q "^diff MQTT-3.3.[45]-[12]: .*no PUBLISH on '.*/b'" "$tmp/drop/findings.txt"; then
    ok "differential: a lost delivery is found ($(grep -o 'session [0-9]*, [0-9]* steps [0-9]* bytes -> [0-9]* steps' "$tmp/drop/findings.txt" | head -n 1))"
else bad "lost delivery not found (exit $rc)" "$tmp/drop.out"; fi
drport=$(free_port)
"$relay" "$drport" "$port" drop-publish >"$tmp/drelay.log" 2>&1 &
pids+=($!)
wait_listening "$drport" "$!"
bounded 180 "$conform" --broker "127.0.0.1:$drport" "${ddir:-/dev/null}/repro.mqs" --out "$tmp/conf-drop" -q >"$tmp/conf-drop.out" 2>&1
r1=$?
bounded 180 "$conform" --broker "127.0.0.1:$port" "${ddir:-/dev/null}/repro.mqs" --out "$tmp/conf-drop2" -q >"$tmp/conf-drop2.out" 2>&1
r2=$?
if [ $r1 -ne 0 ] && grep -q "expected PUBLISH topic=" "$tmp/conf-drop.out" && [ $r2 -eq 0 ]; then
    ok "its repro.mqs fails against the lossy relay and passes against the broker"
else bad "delivery repro.mqs: relay exit $r1, broker exit $r2" "$tmp/conf-drop.out"; fi

# MQTT over WebSocket: the reference broker's `protocol websockets` listener, given as a
# ws:// URL (each step one binary frame: the split / packed-write mutations put packets
# across frames and several in one frame); a plain TCP listener refuses the upgrade: exit 2.
printf 'allow_anonymous true\nlistener 0 127.0.0.1\nprotocol websockets\n' >"$tmp/ws.conf"
"$broker" -c "$tmp/ws.conf" -p 0 >"$tmp/wsbroker.log" 2>&1 &
pids+=($!)
wsport=$(reported_port "$tmp/wsbroker.log" "$!")
bounded 180 "$fuzz" --broker "ws://127.0.0.1:${wsport:-1}/mqtt" --seed 3 --runs 150 --out "$tmp/ws" -q >"$tmp/ws.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(json "$tmp/ws/summary.json" '.sessions')" = 150 ] \
   && [ "$(json "$tmp/ws/summary.json" '.coverage."5.0".types | length')" -ge 9 ]; then
    ok "ws://: 150 sessions over WebSocket against the reference broker, 0 findings ($(json "$tmp/ws/summary.json" '.exec_per_s') exec/s)"
else bad "campaign over ws:// (exit $rc)" "$tmp/ws.out"; fi
bounded 180 "$fuzz" --broker "ws://127.0.0.1:$port/mqtt" --runs 1 --out "$tmp/wsno" -q >"$tmp/wsno.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "no MQTT over WebSocket there" "$tmp/wsno.out"; then ok "ws:// to a plain TCP listener: exit 2 with a message"
else bad "ws:// to a TCP listener (exit $rc)" "$tmp/wsno.out"; fi

# The reproducers of what mqtt-fuzz found in other brokers (fuzz/live/findings/) pass
# against the reference broker: it has none of those defects.
for mqs in fuzz/live/findings/*.mqs; do
    if bounded 180 "$conform" --broker "127.0.0.1:$port" "$mqs" --out "$tmp/conf-findings" -q >"$tmp/conf-f.out" 2>&1; then
        ok "reference broker passes $(basename "$mqs")"
    else bad "reference broker fails $(basename "$mqs")" "$tmp/conf-f.out"; fi
done

# The memory and hang oracles: a bound below any broker's RSS; a "broker" that accepts and never answers.
bounded 180 "$fuzz" --spawn "$spawn" --max-rss 1 --runs 3 --minimize 0 --out "$tmp/mem" -q >"$tmp/mem.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^memory: resident memory" "$tmp/mem/findings.txt"; then ok "memory oracle: RSS above --max-rss 1 is a finding"
else bad "memory oracle (exit $rc)" "$tmp/mem.out"; fi
bounded 180 "$fuzz" --spawn "$mute_peer {port}" --hang-ms 300 --answer-ms 20 --runs 2 --minimize 0 --out "$tmp/hang" -q >"$tmp/hang.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^hang MQTT-3.12.4-1: no CONNACK/PINGRESP" "$tmp/hang/findings.txt"; then ok "hang oracle: a broker that never answers is a finding"
else bad "hang oracle (exit $rc)" "$tmp/hang.out"; fi

# 4. Same seed, same sessions.
bounded 180 "$fuzz" --list-sessions --seed 7 --runs 500 --out "$tmp/none" >"$tmp/l1"
bounded 180 "$fuzz" --list-sessions --seed 7 --runs 500 --out "$tmp/none" >"$tmp/l2"
bounded 180 "$fuzz" --list-sessions --seed 8 --runs 500 --out "$tmp/none" >"$tmp/l3"
if cmp -s "$tmp/l1" "$tmp/l2" && ! cmp -s "$tmp/l1" "$tmp/l3" && [ "$(sort -u -k2,2 "$tmp/l1" | wc -l)" -gt 450 ]; then
    ok "seed 7 lists the same 500 sessions twice; seed 8 others"
else bad "session sequence not determined by the seed" "$tmp/l1"; fi
bounded 180 "$fuzz" --spawn "$spawn" --seed 1 --runs 2000 --out "$tmp/plain" --plain -q >"$tmp/plain.out" 2>&1
c1=$(json "$tmp/ref/summary.json" '.session_chain'); c2=$(json "$tmp/plain/summary.json" '.session_chain')
if [ "$c1" = "$c2" ]; then
    ok "the campaign and a plain replay of seed 1 ran the same sessions ($(json "$tmp/plain/summary.json" '.exec_per_s') exec/s plain)"
else bad "session chains differ: $c1 vs $c2" "$tmp/plain.out"; fi

bounded 180 "$fuzz" --spawn "$spawn" --seed 1 --runs 2000 --out "$tmp/j2" -j 2 --plain -q >"$tmp/j2.out" 2>&1
c3=$(json "$tmp/j2/summary.json" '.session_chain')
if [ "$c3" = "$c2" ] && [ "$(json "$tmp/j2/summary.json" '.sessions')" = 2000 ]; then
    ok "-j 2 (two workers, two brokers) ran the same 2000 sessions"
else bad "-j 2 session chain $c3, expected $c2" "$tmp/j2.out"; fi

# 5. Errors for people.
bounded 180 "$fuzz" --broker nowhere >"$tmp/u1" 2>&1; r1=$?
bounded 180 "$fuzz" --spawn "$broker" >"$tmp/u2" 2>&1; r2=$?
free=$(free_port)
bounded 180 "$fuzz" --broker "127.0.0.1:$free" --runs 1 --out "$tmp/dead" -q >"$tmp/u3" 2>&1; r3=$?
bounded 180 "$fuzz" --client "$sub -t x" --runs 1 --out "$tmp/u" >"$tmp/u4" 2>&1; r4=$?
bounded 180 "$fuzz" --client "$sub -p {port}" --broker "127.0.0.1:$free" --out "$tmp/u" >"$tmp/u5" 2>&1; r5=$?
if [ $r1 = 2 ] && [ $r2 = 2 ] && grep -q "{port}" "$tmp/u2" && [ $r3 = 2 ] && grep -q "does not accept" "$tmp/u3" \
   && [ $r4 = 2 ] && grep -q "{port}" "$tmp/u4" && [ $r5 = 2 ] && grep -q "no --broker" "$tmp/u5"; then
    ok "usage errors and an unreachable broker exit 2 with a message"
else bad "error handling ($r1 $r2 $r3 $r4 $r5)" "$tmp/u5"; fi

# 6. Client fuzzing. Our clients must close on every protocol violation within --hang-ms
# and never crash; the closing line says how many violations they were sent.
for c in "$sub -h {host} -p {port} -t fz/# -q 2 -V 5" "$pub -h {host} -p {port} -t fz/t -m hello -q 1"; do
    name=$(basename "${c%% *}")
    bounded 180 "$fuzz" --client "$c" --seed 1 --runs 15 --answer-ms 40 --hang-ms 1000 --out "$tmp/c-$name" -q >"$tmp/c-$name.out" 2>&1
    rc=$?
    v=$(sed -n 's/.* \([0-9]*\) protocol violations sent, the client closed or exited in time after \([0-9]*\)$/\1 \2/p' "$tmp/c-$name.out")
    if [ $rc -eq 0 ] && [ -n "$v" ] && [ "${v% *}" -gt 0 ] && [ "${v% *}" = "${v#* }" ]; then
        ok "--client $name: 15 hostile-broker sessions, 0 findings (${v% *} protocol violations sent, closed on each)"
    else bad "--client $name (exit $rc)" "$tmp/c-$name.out"; fi
done
bounded 180 "$fuzz" --client "$fragile {host} {port}" --seed 3 --runs 40 --stop-on crash --minimize 20 --answer-ms 40 --hang-ms 300 \
    --out "$tmp/frag" -q >"$tmp/frag.out" 2>&1
rc=$?
cdir=$(ls -d "$tmp"/frag/findings/*crash 2>/dev/null | head -n 1)
if [ $rc -eq 1 ] && [ -n "$cdir" ] && grep -q "heap-buffer-overflow" "$cdir/report.txt" && [ "$(grep -c '^after' "$cdir/repro.txt")" -le 2 ]; then
    ok "--client: the fixture's out-of-bounds read is found and minimised ($(grep -o 'session [0-9]*, [0-9]* writes -> [0-9]*' "$tmp/frag/findings.txt" | tail -n 1))"
else bad "--client: planted client fault not found (exit $rc)" "$tmp/frag.out"; fi
bounded 180 "$fuzz" --client "$fragile {host} {port}" --replay "${cdir:-/dev/null}/repro.txt" --out "$tmp/frag-replay" -q >"$tmp/frag-replay.out" 2>&1
rc=$?
bounded 180 "$pcap" dump "${cdir:-/dev/null}/repro.pcap" >"$tmp/frag-pcap.out" 2>&1
if [ $rc -eq 1 ] && grep -q "heap-buffer-overflow" "$tmp/frag-replay.out" && grep -q "C>S CONNECT" "$tmp/frag-pcap.out" \
   && grep -q "S>C" "$tmp/frag-pcap.out"; then ok "--client: repro.txt replays the crash; repro.pcap decodes (client C>S, hostile broker S>C)"
else bad "--client: replay exit $rc" "$tmp/frag-replay.out"; fi

echo "fuzz-live: $passed passed, $failed failed"
[ $failed -eq 0 ]
