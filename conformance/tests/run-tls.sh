#!/usr/bin/env bash
# check-conform-tls: the runner over TLS (issue 8). Makes a throwaway CA, a
# server certificate for 127.0.0.1 and a client certificate with the openssl
# CLI, then:
#   - the reference broker with a TLS listener on a free port: the QoS area
#     and the first connect scenarios, over TLS, all pass (--cafile);
#   - the same with a listener that requires a client certificate, the TLS
#     settings coming from a profile (`broker`, `cafile`, `cert`, `key`,
#     paths relative to the profile);
#   - Debian's mosquitto with TLS, with its profile: nothing unexpected;
#   - a scenario that fails writes a pcap holding the decrypted MQTT bytes
#     (mqtt-pcap decodes the CONNECT and the broker's CONNACK);
#   - a CA that did not sign the broker's certificate, a host name the
#     certificate is not for, a missing client certificate, a missing file,
#     plain MQTT against the TLS port: exit status 2 and a message saying why;
#     --insecure accepts the other host name.
# A missing reference broker is a failure (make builds it first).
# Usage: run-tls.sh MQTT-CONFORM MQTT-BROKER MQTT-PCAP
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every foreground command
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
conform=$(abs "$1") broker=$(abs "$2") pcapbin=$(abs "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -30 | sed 's/^/     /'; }
if [ ! -x "$broker" ]; then
    bad "$broker does not exist (make check-conform-tls builds it); the TLS runs were not made"
    echo "conform-tls: $pass passed, $fail failed"; exit 1
fi
command -v openssl > /dev/null || { bad "openssl is not installed (apt-get install openssl)"; echo "conform-tls: $pass passed, $fail failed"; exit 1; }
. "$here/mosquitto.sh"
work=$(mktemp -d /tmp/conform-tls.XXXXXX)
chmod 755 "$work" # mosquitto may run as user mosquitto: it must read the certificates
bpid=""
cleanup() {
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
    mosq_stop
    rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() { # SECONDS COMMAND...: polls every 20 ms until it succeeds or the deadline passes
    local end=$(($(now_ms) + $1 * 1000)); shift
    until "$@"; do
        [ "$(now_ms)" -ge "$end" ] && return 1
        sleep 0.02
    done
}

# ---- certificates ----
C=$work/certs
mkdir -p "$C"
chmod 755 "$C"
mk_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2>/dev/null; }
mk_ca() { mk_key "$1" && openssl req -x509 -new -key "$C/$1.key" -out "$C/$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null; }
mk_cert() { # NAME CN CA EXTENSIONS
    mk_key "$1" && openssl req -new -key "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$2" 2>/dev/null &&
        printf '%s\n' "$4" > "$C/$1.ext" &&
        openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.crt" -CAkey "$C/$3.key" -CAcreateserial -out "$C/$1.crt" \
            -days 2 -extfile "$C/$1.ext" 2>/dev/null
}
if mk_ca ca && mk_ca otherca && mk_cert server localhost ca "subjectAltName=IP:127.0.0.1,DNS:localhost" &&
    mk_cert wrongname wrong.example ca "subjectAltName=DNS:wrong.example" &&
    mk_cert client client ca "basicConstraints=CA:FALSE"; then
    chmod 644 "$C"/*
    ok "throwaway CA, server and client certificates (openssl CLI)"
else
    bad "throwaway CA, server and client certificates (openssl CLI)"
    echo "conform-tls: $pass passed, $fail failed"
    exit 1
fi

# ---- the reference broker: [0] TLS, [1] TLS + client certificate, [2] TLS for another name, [3] plain ----
cat > "$work/broker.conf" <<EOF
allow_anonymous true
listener 0 127.0.0.1
certfile $C/server.crt
keyfile $C/server.key
listener 0 127.0.0.1
certfile $C/server.crt
keyfile $C/server.key
cafile $C/ca.crt
require_certificate true
listener 0 127.0.0.1
certfile $C/wrongname.crt
keyfile $C/wrongname.key
listener 0 127.0.0.1
EOF
"$broker" -c "$work/broker.conf" > "$work/broker.out" 2> "$work/broker.log" &
bpid=$!
if ! wait_for 10 sh -c '[ "$(grep -c "^listening on" "$1")" -ge 4 ]' _ "$work/broker.out"; then
    bad "the reference broker starts with TLS listeners" "$(cat "$work/broker.log")"
    echo "conform-tls: $pass passed, $fail failed"
    exit 1
fi
mapfile -t P < <(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/broker.out")

# expect_run NAME WANT_RC ARGS...: runs the runner; exit status WANT_RC, else the output is shown.
expect_run() {
    local name=$1 want=$2; shift 2
    bounded 120 "$conform" "$@" > "$work/out" 2>&1
    local rc=$?
    if [ "$rc" = "$want" ]; then ok "$name"; else bad "$name (exit $rc, want $want)" "$(tail -30 "$work/out")"; fi
}
# expect_error NAME PATTERN ARGS...: exit status 2 and stderr matching PATTERN.
expect_error() {
    local name=$1 pattern=$2; shift 2
    bounded 60 "$conform" "$@" > /dev/null 2> "$work/err"
    local rc=$?
    if [ "$rc" = 2 ] && grep -qE -- "$pattern" "$work/err"; then ok "$name"
    else bad "$name (exit $rc, want 2 and /$pattern/)" "$(cat "$work/err")"; fi
}
SEL=(--filter 'area:qos,id:connect/0[1-8]-*')
REF=(--profile "$root/conformance/profiles/reference.profile")

echo "== the reference broker over TLS"
expect_run "QoS area and connect scenarios over TLS: all pass" 0 --broker "127.0.0.1:${P[0]}" --cafile "$C/ca.crt" \
    "${REF[@]}" "${SEL[@]}" --out "$work/ref" -q
n=$(grep -oE '"verdict": "pass"' "$work/ref/report.json" | wc -l)
if [ "$n" -ge 40 ]; then ok "$n runs passed over TLS (report.json)"; else bad "only $n passing runs in report.json"; fi
grep -q '(TLS)' "$work/ref/report.json" && ok "the report says the broker was reached over TLS" ||
    bad "the report does not say TLS" "$(grep -m1 broker "$work/ref/report.json")"
grep -q "TLS established (TLSv1.3)" "$work/ref/report.html" && ok "the transcripts show the TLS handshake" ||
    bad "no 'TLS established' in the transcripts"

# TLS settings from a profile, paths relative to it; the listener that requires a client certificate.
cp "$C/ca.crt" "$C/client.crt" "$C/client.key" "$work/"
cat > "$work/tls.profile" <<EOF
name      reference-tls
broker    127.0.0.1:${P[1]}
cafile    ca.crt
cert      client.crt
key       client.key
EOF
cd / # relative paths in the profile are the profile's, not the working directory's
expect_run "a profile's broker, cafile, cert and key: a client certificate, all pass" 0 \
    --profile "$work/tls.profile" --filter area:qos --out "$work/prof" -q
cd "$root"
expect_error "no client certificate where one is required" "require a client certificate" \
    --broker "127.0.0.1:${P[1]}" --cafile "$C/ca.crt" --no-reports -q "${SEL[@]}"
expect_error "a CA that did not sign the broker's certificate" "certificate verify failed" \
    --broker "127.0.0.1:${P[0]}" --cafile "$C/otherca.crt" --no-reports -q "${SEL[@]}"
expect_error "a certificate for another host name" "certificate verify failed \((hostname|IP address) mismatch\)" \
    --broker "127.0.0.1:${P[2]}" --cafile "$C/ca.crt" --no-reports -q "${SEL[@]}"
expect_run "--insecure accepts the other host name" 0 --broker "127.0.0.1:${P[2]}" --cafile "$C/ca.crt" --insecure \
    "${REF[@]}" --filter area:qos --no-reports -q
expect_error "plain MQTT against the TLS port" "a TLS listener\? --cafile" --broker "127.0.0.1:${P[0]}" --no-reports -q \
    "${SEL[@]}"
expect_error "TLS against the plain port" "TLS handshake failed" --broker "127.0.0.1:${P[3]}" --cafile "$C/ca.crt" \
    --no-reports -q "${SEL[@]}"
expect_error "a missing CA file" "cannot open the CA file \(--cafile\) .*/nonexistent.crt: No such file" \
    --broker "127.0.0.1:${P[0]}" --cafile "$C/nonexistent.crt" --no-reports -q
expect_error "--cert without --key" "--cert needs --key" --broker "127.0.0.1:${P[1]}" --cafile "$C/ca.crt" \
    --cert "$C/client.crt" --no-reports -q
expect_error "TLS without --broker (the runner's own broker is plain)" "need --broker" --cafile "$C/ca.crt" --no-reports -q

echo "== a failing run over TLS: its pcap holds the decrypted MQTT"
bounded 120 "$conform" --broker "127.0.0.1:${P[0]}" --cafile "$C/ca.crt" --versions 3.1.1 --out "$work/cap" -q \
    "$here/fixtures/pcap" > "$work/cap.out" 2>&1
f="$work/cap/pcap/capture_01-never-sent@3.1.1.pcap"
if [ -s "$f" ]; then ok "the failing run's pcap is written"; else bad "no $f" "$(cat "$work/cap.out")"; fi
dump=$(bounded 30 "$pcapbin" dump "$f" 2>&1)
if printf '%s\n' "$dump" | grep -q "C>S CONNECT" && printf '%s\n' "$dump" | grep -q "S>C CONNACK" &&
    printf '%s\n' "$dump" | grep -q "S>C SUBACK"; then
    ok "mqtt-pcap decodes the plaintext CONNECT, CONNACK and SUBACK of the TLS run"
else
    bad "mqtt-pcap does not decode MQTT in the TLS run's pcap" "$dump"
fi
if printf '%s\n' "$dump" | grep -q ":${P[0]}"; then ok "the capture keeps the real TLS port ${P[0]}"
else bad "the capture does not show port ${P[0]}" "$(printf '%s\n' "$dump" | head -5)"; fi

kill "$bpid"; wait "$bpid"; rc=$?
if [ "$rc" = 0 ] && ! grep -q Sanitizer "$work/broker.log"; then ok "the reference broker stops cleanly"
else bad "the reference broker stops cleanly (exit $rc)" "$(grep -A5 Sanitizer "$work/broker.log" | head)"; fi
bpid=""

echo "== Debian's mosquitto over TLS, with its profile"
if mosq_start "$work/mosq" "certfile $C/server.crt" "keyfile $C/server.key"; then
    expect_run "QoS area and connect scenarios on mosquitto over TLS: nothing unexpected" 0 \
        --broker "127.0.0.1:$MOSQ_PORT" --cafile "$C/ca.crt" --profile "$root/conformance/profiles/mosquitto.profile" \
        "${SEL[@]}" --out "$work/mosq-report" -q
    n=$(grep -oE '"verdict": "pass"' "$work/mosq-report/report.json" | wc -l)
    if [ "$n" -ge 40 ]; then ok "$n runs passed on mosquitto over TLS"; else bad "only $n passing runs on mosquitto"; fi
    expect_error "mosquitto: a CA that did not sign its certificate" "certificate verify failed" \
        --broker "127.0.0.1:$MOSQ_PORT" --cafile "$C/otherca.crt" --no-reports -q "${SEL[@]}"
    mosq_stop
else
    bad "mosquitto starts with a TLS listener" "$(cat "$work/mosq/mosquitto.log" 2>/dev/null)"
fi

echo "conform-tls: $pass passed, $fail failed"
[ "$fail" = 0 ]
