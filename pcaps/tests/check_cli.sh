#!/usr/bin/env bash
# End-to-end checks of the mqtt-pcap command line (run by `make check-pcap-cli`):
# exit codes and messages, stdin and gzip input, JSON output, truncated and
# corrupted files through the sanitized binary, the pcap writer read back by
# tshark as MQTT without errors, to-scenario output parsed and run by
# mqtt-conform, and replay of the corpus against Debian's mosquitto and the
# reference broker. A missing binary is a failure; a missing tool (jq, tshark)
# skips what needs it, counted and named ("SKIP ..." and ", N skipped").
#   check_cli.sh MQTT_PCAP [MQTT_CONFORM MQTT_BROKER PCAP_GEN]
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port, wait_listening
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
PCAP=${1:?usage: check_cli.sh MQTT_PCAP [MQTT_CONFORM MQTT_BROKER PCAP_GEN]}
CONFORM=${2:-build/bin/mqtt-conform}
BROKER=${3:-build/bin/mqtt-broker}
GEN=${4:-build/bench/pcap-gen}
CORPUS=pcaps/corpus
T=$(mktemp -d)
pass=0 fail=0 skip=0
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -20 | sed 's/^/       /'; }
skipped() { skip=$((skip + 1)); echo "  SKIP $1"; }
for b in "$CONFORM" "$BROKER" "$GEN"; do
    [ -x "$b" ] || { echo "  FAIL $b is missing (make check-pcap-cli builds it)"; echo "pcap-cli: $pass passed, 1 failed"; exit 1; }
done
# expect_rc NAME WANT CMD...: runs CMD, output in $T/out and $T/err.
expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" > "$T/out" 2> "$T/err"; local rc=$?
    if [ "$rc" -eq "$want" ] && ! grep -q "AddressSanitizer\|runtime error" "$T/err"; then ok "$name"
    else bad "$name (exit $rc, want $want)" "$(cat "$T/err")"; fi
}
args_of() { cat "$CORPUS/$1.args" 2>/dev/null; }

echo "command line"
expect_rc "no arguments: usage, exit 2" 2 bounded 30 "$PCAP"
expect_rc "unknown command: exit 2" 2 bounded 30 "$PCAP" frobnicate x.pcap
expect_rc "bad --port: exit 2" 2 bounded 30 "$PCAP" dump "$CORPUS/v5_qos1.pcap" --port 70000
expect_rc "missing file: exit 2" 2 bounded 30 "$PCAP" dump "$T/nope.pcap"
grep -q "nope.pcap: No such file" "$T/err" && ok "missing file is named" || bad "missing file is named" "$(cat "$T/err")"
expect_rc "--help: exit 0" 0 bounded 30 "$PCAP" --help
expect_rc "replay without --broker: exit 2" 2 bounded 30 "$PCAP" replay "$CORPUS/v5_qos1.pcap"

echo "input forms"
name=v5_qos2
cat "$CORPUS/$name.pcap" | bounded 30 "$PCAP" dump - $(args_of $name) > "$T/stdin.dump" 2>"$T/err"
cmp -s "$T/stdin.dump" "$CORPUS/$name.dump" && ok "dump from standard input" || bad "dump from standard input" "$(diff "$T/stdin.dump" "$CORPUS/$name.dump")"
gzip -c "$CORPUS/$name.pcap" | bounded 30 "$PCAP" dump - $(args_of $name) > "$T/gz.dump" 2>"$T/err"
cmp -s "$T/gz.dump" "$CORPUS/$name.dump" && ok "dump of gzip from a pipe" || bad "dump of gzip from a pipe" "$(cat "$T/err")"
gzip -c "$CORPUS/$name.pcap" > "$T/$name.pcap.gz"
bounded 30 "$PCAP" dump "$T/$name.pcap.gz" $(args_of $name) > "$T/gzf.dump" 2>"$T/err"
cmp -s "$T/gzf.dump" "$CORPUS/$name.dump" && ok "dump of a .gz file" || bad "dump of a .gz file" "$(cat "$T/err")"

echo "JSON"
bounded 30 "$PCAP" dump "$CORPUS/$name.pcap" $(args_of $name) --json > "$T/j" 2>"$T/err"
if command -v jq >/dev/null; then
    if jq -e . "$T/j" > /dev/null 2>&1 && [ "$(wc -l < "$T/j")" -eq "$(wc -l < "$CORPUS/$name.dump")" ] &&
       [ "$(jq -r 'select(.event=="packet") | .packet.type' "$T/j" | head -1)" = CONNECT ]; then
        ok "dump --json: one valid object per line"
    else bad "dump --json: one valid object per line" "$(head -3 "$T/j")"; fi
    bounded 30 "$PCAP" stats "$CORPUS/$name.pcap" $(args_of $name) --json > "$T/s" 2>"$T/err"
    [ "$(jq -r .connections "$T/s")" = 2 ] && [ "$(jq -r '.versions["5.0"]' "$T/s")" = 2 ] &&
        ok "stats --json counts connections and versions" || bad "stats --json" "$(cat "$T/s")"
else
    skipped "JSON validity (jq is not installed)"
fi
expect_rc "stats" 0 bounded 30 "$PCAP" stats "$CORPUS/v311_retained.pcap" $(args_of v311_retained)
grep -q "^connections   3 (3.1: 0, 3.1.1: 3" "$T/out" && ok "stats text" || bad "stats text" "$(cat "$T/out")"

echo "check"
for f in "$CORPUS"/*.pcap; do
    n=$(basename "$f" .pcap)
    bounded 30 "$PCAP" check "$f" $(args_of "$n") > "$T/out" 2>&1 || { bad "check $n: mosquitto traffic is clean" "$(cat "$T/out")"; continue; }
done
ok "check: every corpus capture has 0 violations (exit 0)"

echo "truncated and corrupt files"
f=$CORPUS/v5_qos1.pcap
size=$(stat -c %s "$f")
head -c $((size - 30)) "$f" > "$T/trunc.pcap"
expect_rc "truncated capture: exit 1" 1 bounded 30 "$PCAP" dump "$T/trunc.pcap" $(args_of v5_qos1)
grep -q "trunc.pcap: offset [0-9]* (record [0-9]*)" "$T/err" && ok "the error names the file offset" || bad "the error names the file offset" "$(cat "$T/err")"
head -n 8 "$CORPUS/v5_qos1.dump" | cmp -s - <(head -n 8 "$T/out") && ok "everything before the error is kept" || bad "everything before the error is kept" "$(diff <(head -n 8 "$CORPUS/v5_qos1.dump") <(head -n 8 "$T/out"))"
gzip -c "$f" | head -c 700 > "$T/trunc.pcap.gz"
expect_rc "truncated gzip: exit 1" 1 bounded 30 "$PCAP" dump "$T/trunc.pcap.gz"
grep -q "gzip" "$T/err" && ok "the gzip error says gzip" || bad "the gzip error says gzip" "$(cat "$T/err")"
crashed=0
for i in $(seq 1 30); do
    cp "$f" "$T/c.pcap"
    printf '\xff\x00\x7f\x80' | dd of="$T/c.pcap" bs=1 seek=$(( (i * 97) % size )) conv=notrunc status=none
    bounded 30 "$PCAP" dump "$T/c.pcap" > /dev/null 2> "$T/err"; rc=$?
    if [ $rc -gt 1 ] || grep -q "AddressSanitizer\|runtime error" "$T/err"; then crashed=$((crashed + 1)); fi
done
[ $crashed -eq 0 ] && ok "30 corrupted copies: exit 0 or 1, no sanitizer report" || bad "corrupted copies crashed $crashed times"

echo "pcap writer read by tshark"
if command -v tshark >/dev/null; then
    for link in ethernet raw; do
        bounded 60 "$GEN" "$T/w-$link.pcap" 0.3 $([ $link = raw ] && echo raw) > /dev/null
        frames=$(tshark -r "$T/w-$link.pcap" -Y mqtt 2>/dev/null | wc -l)
        errors=$(tshark -r "$T/w-$link.pcap" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null | wc -l)
        types=$(tshark -r "$T/w-$link.pcap" -T fields -e mqtt.msgtype 2>/dev/null | tr ',' '\n' | grep -v '^$' | sort -un | tr '\n' ' ')
        if [ "$frames" -gt 100 ] && [ "$errors" -eq 0 ] && [ "$types" = "1 2 3 4 5 6 7 8 9 12 13 14 " ]; then
            ok "tshark decodes the writer's $link capture as MQTT ($frames frames, no warnings)"
        else
            bad "tshark on the writer's $link capture: $frames frames, $errors warnings, types '$types'" \
                "$(tshark -r "$T/w-$link.pcap" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>&1 | head -5)"
        fi
        bounded 30 "$PCAP" check "$T/w-$link.pcap" > "$T/out" 2>&1 && ok "mqtt-pcap check of the $link capture: clean" || bad "check of the $link capture" "$(tail -3 "$T/out")"
    done
else
    skipped "writer read by tshark (tshark is not installed: make pcap-deps)"
fi

# mosquitto on a free port (never 1883), in its own directory under $T: a
# generated config, and its log, shown when it does not start. `user root`:
# started as root, mosquitto would otherwise switch to the `mosquitto` user,
# which cannot open the log in $T (mode 0700). Sets $port, empty if it did
# not start; a port taken between free_port and the bind (another suite
# started a listener there) makes it exit: then another port, 3 tries. Not
# run in $(...): the pid must be recorded in this shell so that cleanup stops it.
start_mosquitto() { # $1 = allow_anonymous (default true)
    local try p d pid
    port="" mosq_log=""
    for try in 1 2 3; do
        p=$(free_port 2> "$T/err") || { mosq_log=$(cat "$T/err"); return; }
        d=$T/mosquitto-$p-$try
        mkdir -p "$d"
        printf 'listener %s 127.0.0.1\nallow_anonymous %s\nuser root\npersistence false\nlog_dest file %s\n' \
            "$p" "${1:-true}" "$d/log" > "$d/conf"
        mosquitto -c "$d/conf" > "$d/out" 2>&1 &
        pid=$!
        PIDS+=($pid)
        wait_listening "$p" "$pid" && { port=$p; return; }
        kill "$pid" 2>/dev/null
        mosq_log="try $try, port $p: $(cat "$d/out" "$d/log" 2>/dev/null | grep -v 'should not be run as root')"
    done
}

echo "to-scenario"
nsc=0
for f in "$CORPUS"/*.pcap; do
    n=$(basename "$f" .pcap)
    if bounded 30 "$PCAP" to-scenario "$f" $(args_of "$n") -o "$T/$n.mqs" 2> "$T/err"; then
        nsc=$((nsc + 1))
    elif ! grep -q "nothing to replay" "$T/err"; then
        bad "to-scenario $n" "$(cat "$T/err")"
    fi
done
bounded 120 "$CONFORM" --list "$T"/*.mqs > "$T/out" 2>&1 && [ "$(grep -c 'Replay of the capture' "$T/out")" -eq "$nsc" ] &&
    ok "mqtt-conform parses all $nsc generated scenarios" || bad "mqtt-conform --list" "$(cat "$T/out")"
bounded 120 "$CONFORM" --no-reports -q --broker-bin "$BROKER" "$T"/*.mqs > "$T/out" 2>&1 &&
    ok "generated scenarios pass against the reference broker" || bad "scenarios vs reference broker" "$(tail -15 "$T/out")"
start_mosquitto
if [ -n "$port" ]; then
    bounded 120 "$CONFORM" --no-reports -q --broker "127.0.0.1:$port" "$T"/*.mqs > "$T/out" 2>&1 &&
        ok "generated scenarios pass against mosquitto" || bad "scenarios vs mosquitto" "$(tail -15 "$T/out")"
else bad "mosquitto did not start" "$mosq_log"; fi

echo "replay"
start_mosquitto
if [ -n "$port" ]; then
    all=0
    for f in "$CORPUS"/*.pcap; do
        n=$(basename "$f" .pcap)
        case $n in *midstream*) continue ;; esac
        bounded 30 "$PCAP" replay "$f" $(args_of "$n") --broker "127.0.0.1:$port" --fast > "$T/out" 2>&1 ||
            { all=1; bad "replay $n against mosquitto" "$(cat "$T/out")"; }
    done
    [ $all -eq 0 ] && ok "replay --fast of the corpus against mosquitto: no differences"
    expect_rc "replay at the recorded pace" 0 bounded 30 "$PCAP" replay "$CORPUS/v5_qos2.pcap" $(args_of v5_qos2) --broker "127.0.0.1:$port"
    expect_rc "replay of a capture without CONNECT: exit 1" 1 bounded 30 "$PCAP" replay "$CORPUS/v5_midstream_will.pcap" $(args_of v5_midstream_will) --broker "127.0.0.1:$port"
else bad "mosquitto did not start" "$mosq_log"; fi
# A broker that refuses anonymous clients answers differently: replay must say where.
start_mosquitto false
if [ -n "$port" ]; then
    expect_rc "replay against a refusing broker: exit 1" 1 bounded 30 "$PCAP" replay "$CORPUS/v311_qos1.pcap" $(args_of v311_qos1) --broker "127.0.0.1:$port" --fast --timeout 500
    grep -q "recorded: CONNACK sp=0 rc=0x00" "$T/out" && grep -q "live:     CONNACK sp=0 rc=0x05" "$T/out" &&
        ok "the difference shows the recorded and the live CONNACK" || bad "difference report" "$(cat "$T/out")"
else bad "mosquitto (anonymous refused) did not start" "$mosq_log"; fi
cport=$(free_port)
expect_rc "replay to a closed port: exit 2" 2 bounded 30 "$PCAP" replay "$CORPUS/v5_qos0.pcap" $(args_of v5_qos0) --broker "127.0.0.1:$cport" --timeout 500
grep -q "127.0.0.1:$cport" "$T/err" && ok "the unreachable broker is named" || bad "unreachable broker named" "$(cat "$T/err")"

"$BROKER" -p 0 > "$T/broker.out" 2>&1 &
PIDS+=($!)
rport=""
for _ in $(seq 1 100); do
    rport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/broker.out" | head -1)
    [ -n "$rport" ] && break
    sleep 0.05
done
if [ -n "$rport" ]; then
    all=0
    for f in "$CORPUS"/*.pcap; do
        n=$(basename "$f" .pcap)
        case $n in *midstream*) continue ;; esac
        bounded 30 "$PCAP" replay "$f" $(args_of "$n") --broker "127.0.0.1:$rport" --fast > "$T/out" 2>&1 ||
            { all=1; bad "replay $n against the reference broker" "$(cat "$T/out")"; }
    done
    [ $all -eq 0 ] && ok "replay of the corpus against the reference broker: no differences"
else
    bad "the reference broker did not print 'listening on'" "$(cat "$T/broker.out")"
fi

# The same corpus against the reference broker's core in this process (the driver
# mqtt-conform --inproc uses), on a virtual clock: the same answers, no broker process.
all=0
for f in "$CORPUS"/*.pcap; do
    n=$(basename "$f" .pcap)
    case $n in *midstream*) continue ;; esac
    bounded 30 "$PCAP" replay "$f" $(args_of "$n") --inproc --fast > "$T/out" 2>&1 ||
        { all=1; bad "replay --inproc $n" "$(cat "$T/out")"; }
done
[ $all -eq 0 ] && ok "replay --inproc --fast of the corpus (the reference broker in-process): no differences"
expect_rc "replay --inproc at the recorded pace" 0 bounded 30 "$PCAP" replay "$CORPUS/v5_qos2.pcap" $(args_of v5_qos2) --inproc
expect_rc "replay --inproc with --broker: exit 2" 2 bounded 30 "$PCAP" replay "$CORPUS/v5_qos2.pcap" --inproc --broker 127.0.0.1:1
grep -q "exclude each other" "$T/err" && ok "--inproc with --broker: the message says why" || bad "--inproc with --broker message" "$(cat "$T/err")"

echo "pcap-cli: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
