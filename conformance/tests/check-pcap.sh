#!/usr/bin/env bash
# check-conform-pcap: the runner writes the traffic of failing runs as pcap
# (issue 6, "Writing captures"). Runs the fixtures in
# conformance/tests/fixtures/pcap/capture against the reference broker (one
# fails on purpose: it waits for a message nobody sends; one passes) and
# checks that
#   - each failing run has DIR/pcap/<id>@<version>.pcap, the passing one none;
#   - the console prints the path, JSON and JUnit name it, Markdown and HTML link it;
#   - `mqtt-pcap dump` decodes it to the expected packets (fixtures/pcap/expected),
#     and `mqtt-pcap check` finds nothing wrong in it;
#   - tshark decodes it as MQTT: the same packets, no malformed packet, no
#     expert warning or error (`tshark -z expert`);
#   - --pcap all writes passing runs too, --pcap none nothing (and clears old ones).
# A missing reference broker or tshark is a failure (make builds and installs them first).
# Usage: check-pcap.sh MQTT-CONFORM MQTT-BROKER MQTT-PCAP
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
conform=$1 broker=$2 pcapbin=$3
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/fixtures/pcap
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -20 | sed 's/^/     /'; }
check() { # description command...: ok if the command succeeds
    local what=$1; shift
    if "$@" > /dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
if [ ! -x "$broker" ]; then
    bad "$broker does not exist (make check-conform-pcap builds it); the capture checks were not run"
    echo "conform-pcap: $pass passed, $fail failed"; exit 1
fi
if ! command -v tshark > /dev/null; then
    bad "tshark is not installed (make pcap-deps installs it)"
    echo "conform-pcap: $pass passed, $fail failed"
    exit 1
fi
tmp=$(mktemp -d /tmp/conform-pcap.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Packets of a dump without times, namespaces, ports and the broker's CONNACK
# properties (its defaults are not what this test is about), by connection.
normalize() {
    cut -d' ' -f2- | sed -E 's/"m[0-9a-z]{6}([-/])/"NS\1/g; s/127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:[0-9]+/CLIENT > BROKER/' |
        sed -E 's/(CONNACK .*) props\{[^}]*\}/\1 props{...}/' | sort -s -k1,1
}
# MQTT packet type numbers, sorted: from a dump, and from tshark.
dump_types() {
    awk '$3 == "C>S" || $3 == "S>C" { print $4 }' | sed -E 's/^CONNECT$/1/; s/^CONNACK$/2/; s/^PUBLISH$/3/;
        s/^PUBACK$/4/; s/^PUBREC$/5/; s/^PUBREL$/6/; s/^PUBCOMP$/7/; s/^SUBSCRIBE$/8/; s/^SUBACK$/9/;
        s/^UNSUBSCRIBE$/10/; s/^UNSUBACK$/11/; s/^PINGREQ$/12/; s/^PINGRESP$/13/; s/^DISCONNECT$/14/; s/^AUTH$/15/' |
        sort -n | tr '\n' ' '
}
tshark_types() { # FILE PORT
    tshark -r "$1" -d "tcp.port==$2,mqtt" -T fields -e mqtt.msgtype 2>/dev/null | tr ',' '\n' | grep -v '^$' |
        sort -n | tr '\n' ' '
}

echo "== default (--pcap failures): a failing and a passing fixture against the reference broker"
out=$tmp/reports
bounded 120 "$conform" --broker-bin "$broker" --out "$out" "$fixtures" > "$tmp/console" 2>&1
rc=$?
if [ "$rc" = 1 ]; then ok "the failing fixture makes the exit status 1"; else bad "exit status $rc (want 1)" "$(cat "$tmp/console")"; fi
port=$(sed -nE 's/.*"broker": "[^"]*:([0-9]+) .*/\1/p' "$out/report.json")
if [ -n "$port" ]; then ok "the broker's port is in report.json ($port)"; else bad "no broker port in report.json"; fi
n=$(find "$out/pcap" -name '*.pcap' 2>/dev/null | wc -l)
if [ "$n" = 2 ]; then ok "two pcaps: one per failing run, none for the passing run"; else bad "$n pcaps in $out/pcap (want 2)" "$(ls -l "$out/pcap" 2>&1)"; fi

for v in 3.1.1 5.0; do
    name="capture_01-never-sent@$v.pcap"
    f="$out/pcap/$name"
    echo "-- $name"
    check "$name exists" test -s "$f"
    check "the console prints its path" grep -qF "  pcap: $f" "$tmp/console"
    check "report.json names it" grep -qF "\"pcap\": \"$f\"" "$out/report.json"
    check "junit.xml names it in the failure and as an attachment" \
        sh -c 'grep -qF "pcap: $1" "$2" && grep -qF "[[ATTACHMENT|$1]]" "$2"' _ "$f" "$out/junit.xml"
    check "report.md links it" grep -qF "(pcap/$name)" "$out/report.md"
    check "report.html links it" grep -qF "href=\"pcap/$name\"" "$out/report.html"

    dump=$(bounded 30 "$pcapbin" dump "$f" 2>&1)
    got=$(printf '%s\n' "$dump" | normalize)
    want=$(cat "$fixtures/expected/${name%.pcap}.dump")
    if [ "$got" = "$want" ]; then ok "mqtt-pcap dump decodes the expected packets ($(printf '%s\n' "$want" | grep -c ' [CS]>[CS] ') packets, 3 streams)"
    else bad "mqtt-pcap dump differs from fixtures/pcap/expected/${name%.pcap}.dump" "$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got"))"; fi
    check "mqtt-pcap check finds no violation in it" bounded 30 "$pcapbin" check -q "$f"

    t_types=$(tshark_types "$f" "$port")
    d_types=$(printf '%s\n' "$dump" | dump_types)
    if [ -n "$t_types" ] && [ "$t_types" = "$d_types" ]; then ok "tshark decodes the same MQTT packets (types $t_types)"
    else bad "tshark packet types '$t_types', mqtt-pcap '$d_types'"; fi
    warn=$(tshark -r "$f" -d "tcp.port==$port,mqtt" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)
    if [ -z "$warn" ]; then ok "tshark: no malformed packet, no warning"; else bad "tshark flags packets" "$warn"; fi
    expert=$(tshark -r "$f" -d "tcp.port==$port,mqtt" -q -z expert 2>/dev/null)
    if printf '%s\n' "$expert" | grep -q 'Chats (' && ! printf '%s\n' "$expert" | grep -qE '^(Errors|Warns) \('; then
        ok "tshark -z expert: no errors, no warnings"
    else bad "tshark -z expert reports problems" "$expert"; fi
done

echo "== --pcap all: passing runs too"
bounded 120 "$conform" --broker-bin "$broker" --out "$out" --pcap all -q "$fixtures" > "$tmp/console" 2>&1
f="$out/pcap/capture_02-passes@5.0.pcap"
check "the passing run has its pcap" test -s "$f"
check "report.json names it" grep -qF "\"pcap\": \"$f\"" "$out/report.json"
port=$(sed -nE 's/.*"broker": "[^"]*:([0-9]+) .*/\1/p' "$out/report.json")
t_types=$(tshark_types "$f" "$port")
if [ "$t_types" = "1 2 3 3 8 9 14 " ]; then ok "tshark decodes it: CONNECT CONNACK SUBSCRIBE SUBACK PUBLISH x2 DISCONNECT"
else bad "tshark packet types '$t_types'"; fi
up=$(tshark -r "$f" -d "tcp.port==$port,mqtt" -Y 'mqtt.prop_key == "k" && mqtt.prop_value == "v"' 2>/dev/null | wc -l)
if [ "$up" = 2 ]; then ok "tshark shows the user property k=v in the PUBLISH sent and in the one received"
else bad "user property k=v in $up frames (want 2)"; fi

echo "== --pcap none: nothing written, earlier captures removed"
touch "$out/pcap/keep-me.pcap"
bounded 120 "$conform" --broker-bin "$broker" --out "$out" --pcap none -q "$fixtures" > "$tmp/console" 2>&1
n=$(find "$out/pcap" -name '*@*.pcap' | wc -l)
if [ "$n" = 0 ]; then ok "no capture left in $out/pcap"; else bad "$n captures left" "$(ls "$out/pcap")"; fi
check "files the runner did not write stay" test -e "$out/pcap/keep-me.pcap"
check "report.json has no pcap" sh -c '! grep -q "\"pcap\": \"" "$1"' _ "$out/report.json"

echo "== bad option"
bounded 120 "$conform" --pcap sometimes --list > "$tmp/console" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "expects failures, all or none" "$tmp/console"; then ok "--pcap sometimes: exit 2, says what it expects"
else bad "--pcap sometimes: exit $rc" "$(cat "$tmp/console")"; fi

echo "conform-pcap: $pass passed, $fail failed"
[ "$fail" = 0 ]
