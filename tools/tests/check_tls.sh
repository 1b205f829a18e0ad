#!/usr/bin/env bash
# mqtt-pub / mqtt-sub over TLS, against Debian's mosquitto_pub / mosquitto_sub.
#   check_tls.sh ABIN FAKE_BROKER
# ABIN holds the sanitized mqtt-pub, mqtt-sub and mqtt-broker; FAKE_BROKER is
# tools/tests/fake_broker.c (its `silent` mode never answers the handshake).
#
# A throwaway CA and certificates are made here with the openssl CLI: a
# server certificate for 127.0.0.1 and localhost, one for another name, a
# client certificate, and a second CA that signed none of them. Two brokers
# get the same four listeners: plain, TLS, TLS requiring a client
# certificate, TLS with the other name's certificate -- Debian's mosquitto
# (random free ports) and our mqtt-broker (-c, listener 0).
#
# Part 1: the same command lines through mosquitto_sub + mosquitto_pub,
# mqtt-sub + mqtt-pub and the mixed pairs, against both brokers; everything
# the clients print (stdout, stderr, exit codes) must be the same bytes
# after masking run numbers and program names.
# Part 2: bad CA, wrong host name without --insecure, missing or bad files,
# no client certificate, TLS against plain and plain against TLS: our
# tools give mosquitto's first line and exit status plus a line saying why.
# mosquitto_pub's own status for a failed handshake depends on timing (1
# when the first handshake step fails inside its connect call, 8 when it
# fails in its loop); ours is always 8, and mosquitto's must be non-zero.
#
# Synchronisation is by condition with a deadline: a publisher starts only
# once the broker's log shows the SUBACK to that subscriber's client id.
set -u

ABIN=${1:?usage: check_tls.sh ABIN FAKE_BROKER}
FAKE=${2:?usage: check_tls.sh ABIN FAKE_BROKER}
OUR_PUB=$ABIN/mqtt-pub
OUR_SUB=$ABIN/mqtt-sub
OUR_BROKER=$ABIN/mqtt-broker
MOSQ_PUB=$(command -v mosquitto_pub)
MOSQ_SUB=$(command -v mosquitto_sub)
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port
for f in "$OUR_PUB" "$OUR_SUB" "$OUR_BROKER" "$FAKE" "$MOSQ_PUB" "$MOSQ_SUB" "$MOSQUITTO" "$(command -v openssl)"; do
    [ -x "$f" ] || { echo "check_tls: missing $f (apt-get install mosquitto mosquitto-clients openssl)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tools-tls.XXXXXX)
chmod 755 "$WORK" # mosquitto may run as user mosquitto: it must read the certificates
export XDG_CONFIG_HOME=$WORK/xdg HOME=$WORK/home TZ=UTC LC_ALL=C
mkdir -p "$XDG_CONFIG_HOME" "$HOME"
PASSED=0
FAILED=0
FAILED_NAMES=""
MPID="" OPID=""

cleanup() {
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
    [ -n "$OPID" ] && kill "$OPID" 2>/dev/null && wait "$OPID" 2>/dev/null
    jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "check_tls: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
ko() {
    FAILED=$((FAILED + 1)); FAILED_NAMES="$FAILED_NAMES [$1]"; echo "FAIL $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -40
    return 0
}

wait_until() { # SECONDS CMD...: polls CMD every 20 ms until it succeeds or the deadline passes
    local limit=$1; shift
    local end=$(($(date +%s%N) / 1000000 + limit * 1000))
    until "$@"; do
        [ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
        sleep 0.02
    done
}

# ---- certificates -------------------------------------------------------------
C=$WORK/certs
mkdir -p "$C" "$C/capath"
chmod 755 "$C" "$C/capath"
mk_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2>/dev/null; }
mk_ca() { mk_key "$1" && openssl req -x509 -new -key "$C/$1.key" -out "$C/$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null; }
mk_cert() { # NAME CN CA [EXTENSIONS]
    mk_key "$1" && openssl req -new -key "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$2" 2>/dev/null || return 1
    printf '%s\n' "${4:-basicConstraints=CA:FALSE}" > "$C/$1.ext"
    openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.crt" -CAkey "$C/$3.key" -CAcreateserial -out "$C/$1.crt" \
        -days 2 -extfile "$C/$1.ext" 2>/dev/null
}
if mk_ca ca && mk_ca otherca && mk_cert server localhost ca "subjectAltName=IP:127.0.0.1,DNS:localhost" &&
    mk_cert wrongname wrong.example ca "subjectAltName=DNS:wrong.example" && mk_cert client client ca &&
    cp "$C/ca.crt" "$C/capath/" && openssl rehash "$C/capath" 2>/dev/null &&
    openssl verify -CAfile "$C/ca.crt" "$C/server.crt" "$C/wrongname.crt" "$C/client.crt" > /dev/null; then
    ok "throwaway CA and certificates made with the openssl CLI"
else
    ko "throwaway CA and certificates made with the openssl CLI"
    exit 1
fi
chmod 644 "$C"/*.crt "$C"/*.key
CA=$C/ca.crt

# ---- brokers: [0] plain, [1] TLS, [2] TLS + client certificate, [3] TLS for another name ----
tls_listener_lines() { # KIND: the lines after a `listener` line
    case $1 in
    1) printf 'certfile %s\nkeyfile %s\n' "$C/server.crt" "$C/server.key" ;;
    2) printf 'certfile %s\nkeyfile %s\ncafile %s\nrequire_certificate true\n' "$C/server.crt" "$C/server.key" "$CA" ;;
    3) printf 'certfile %s\nkeyfile %s\n' "$C/wrongname.crt" "$C/wrongname.key" ;;
    esac
}
MLOG=$WORK/mosquitto.log
start_mosquitto() {
    local attempt p k
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        MP=()
        for k in 0 1 2 3; do p=$(free_port) || exit 1; MP+=("$p"); done
        [ "$(printf '%s\n' "${MP[@]}" | sort -u | wc -l)" -eq 4 ] || continue # two picks collided
        {
            [ "$(id -u)" = 0 ] && echo "user root" # else mosquitto drops to user mosquitto
            echo "allow_anonymous true"
            echo "persistence false"
            echo "log_dest file $MLOG"
            echo "log_type all"
            for k in 0 1 2 3; do
                echo "listener ${MP[$k]} 127.0.0.1"
                tls_listener_lines $k
            done
        } > "$WORK/mosquitto.conf"
        chmod 644 "$WORK/mosquitto.conf"
        : > "$MLOG"
        "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.out" 2>&1 &
        MPID=$!
        wait_until 10 sh -c 'grep -q "mosquitto version .* running" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$MLOG" "$MPID"
        if kill -0 "$MPID" 2>/dev/null && grep -q "running" "$MLOG"; then return 0; fi
        wait "$MPID" 2>/dev/null
        MPID=""
    done
    echo "check_tls: cannot start mosquitto" >&2
    cat "$WORK/mosquitto.out" "$MLOG" >&2
    exit 1
}
OLOG=$WORK/ours.log
start_ours() {
    local k
    {
        echo "allow_anonymous true"
        for k in 0 1 2 3; do
            echo "listener 0 127.0.0.1"
            tls_listener_lines $k
        done
    } > "$WORK/ours.conf"
    "$OUR_BROKER" -c "$WORK/ours.conf" -v > "$OLOG" 2>&1 &
    OPID=$!
    wait_until 10 sh -c '[ "$(grep -c "^listening on" "$1")" -ge 4 ] || ! kill -0 "$2" 2>/dev/null' _ "$OLOG" "$OPID"
    mapfile -t OP < <(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$OLOG")
    [ "${#OP[@]}" -eq 4 ] || { echo "check_tls: mqtt-broker did not start" >&2; cat "$OLOG" >&2; exit 1; }
}
start_mosquitto
start_ours

# ---- part 1: the same command lines, the same output ----------------------------
# In a case: $SUB, $PUB (the tools of this run), $P0..$P3 (the broker's ports),
# $R (a prefix unique to this run, for topics and client ids, masked in the comparison),
# $T the transcript.
#   sub ID ARGS...   start a subscriber with client id $R$ID, wait for its SUBACK
#   sub_end ID       wait for it to exit (20 s at most), record its output
#   pub ARGS...      run a publisher, record its output
declare -A SPID
suback_count() {
    if [ "$BKIND" = mosquitto ]; then grep -c "Sending SUBACK to $1\$" "$MLOG"
    else grep -c "client \"$1\" .*-> SUBACK" "$OLOG"; fi
}
subscribed() { [ "$(suback_count "$1")" -gt "$2" ] || ! kill -0 "${SPID[$1]}" 2>/dev/null; }
sub() {
    local id=$R$1 before; shift
    before=$(suback_count "$id")
    "$SUB" -i "$id" "$@" > "$RUN/sub.$id.out" 2> "$RUN/sub.$id.err" &
    SPID[$id]=$!
    wait_until 10 subscribed "$id" "$before" || echo "sub $id: no SUBACK within 10 s" >> "$T"
}
sub_gone() { ! kill -0 "${SPID[$1]}" 2>/dev/null; }
sub_end() {
    local id=$R$1 rc
    if ! wait_until 20 sub_gone "$id"; then
        echo "sub $id: still running after 20 s (hang)" >> "$T"
        kill -9 "${SPID[$id]}" 2>/dev/null
    fi
    wait "${SPID[$id]}" 2>/dev/null
    rc=$?
    { echo "--- sub $id exit $rc"; cat "$RUN/sub.$id.out"; echo "--- sub $id stderr"; cat "$RUN/sub.$id.err"; } >> "$T"
}
pub() {
    timeout 30 "$PUB" "$@" > "$RUN/pub.out" 2> "$RUN/pub.err" < /dev/null
    local rc=$?
    { echo "--- pub exit $rc"; cat "$RUN/pub.out"; echo "--- pub stderr"; cat "$RUN/pub.err"; } >> "$T"
}
normalize() {
    sed -E -e 's/mosquitto_(pub|sub)/\1/g; s/mqtt-(pub|sub)/\1/g; s/R[0-9]+/R/g' "$1"
}

case_qos() { # QoS 0, 1, 2 round trips with -d, 3.1.1 and 5.0
    local v
    for v in 311 5; do
        sub S$v -h 127.0.0.1 -p "$P1" --cafile "$CA" -q 2 -C 3 -W 10 -d -v -V $v -t "$R/q/#"
        pub -h 127.0.0.1 -p "$P1" --cafile "$CA" -d -i "${R}P0" -V $v -q 0 -t "$R/q/0" -m zero
        pub -h 127.0.0.1 -p "$P1" --cafile "$CA" -d -i "${R}P1" -V $v -q 1 -t "$R/q/1" -m one
        pub -h 127.0.0.1 -p "$P1" --cafile "$CA" -d -i "${R}P2" -V $v -q 2 -t "$R/q/2" -m two
        sub_end S$v
    done
}

case_client_certificate() { # the listener that requires one
    sub S -h 127.0.0.1 -p "$P2" --cafile "$CA" --cert "$C/client.crt" --key "$C/client.key" -q 2 -C 2 -W 10 -v -t "$R/c/#"
    pub -h 127.0.0.1 -p "$P2" --cafile "$CA" --cert "$C/client.crt" --key "$C/client.key" -q 1 -t "$R/c/1" -m cert-q1
    pub -h 127.0.0.1 -p "$P2" --cafile "$CA" --cert "$C/client.crt" --key "$C/client.key" -q 2 -t "$R/c/2" -m cert-q2
    sub_end S
}

case_url_and_names() { # mqtts:// URLs, a DNS name, --capath, --tls-version
    sub S -L "mqtts://127.0.0.1:$P1/$R/u/#" --cafile "$CA" -C 4 -W 10 -v -q 1
    pub -L "mqtts://127.0.0.1:$P1/$R/u/url" --cafile "$CA" -m via-url -q 1
    pub -h localhost -p "$P1" --cafile "$CA" -t "$R/u/localhost" -m by-name -q 1
    pub -h 127.0.0.1 -p "$P1" --capath "$C/capath" -t "$R/u/capath" -m capath -q 1
    pub -h 127.0.0.1 -p "$P1" --cafile "$CA" --tls-version tlsv1.3 -t "$R/u/tls13" -m tls13 -q 1
    sub_end S
}

case_insecure() { # a certificate for another name is accepted with --insecure only
    sub S -h 127.0.0.1 -p "$P3" --cafile "$CA" --insecure -C 1 -W 10 -v -t "$R/i/#"
    pub -h 127.0.0.1 -p "$P3" --cafile "$CA" --insecure -t "$R/i/1" -m insecure
    sub_end S
}

case_retained_v5() { # retained message and properties over TLS
    pub -h 127.0.0.1 -p "$P1" --cafile "$CA" -V 5 -r -q 1 -t "$R/r" -m kept -D publish user-property k v
    sub S -h 127.0.0.1 -p "$P1" --cafile "$CA" -V 5 -C 1 -W 10 -F '%t %p %r %P' -t "$R/r"
    sub_end S
    pub -h 127.0.0.1 -p "$P1" --cafile "$CA" -V 5 -r -q 1 -t "$R/r" -n
}

RUNNO=0
# run_case NAME FUNCTION: every toolset against each broker, compared with mosquitto's own pair.
run_case() {
    local name=$1 fn=$2 broker ts base
    [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && return
    for broker in mosquitto ours; do
        base=""
        if [ $broker = mosquitto ]; then P0=${MP[0]} P1=${MP[1]} P2=${MP[2]} P3=${MP[3]}
        else P0=${OP[0]} P1=${OP[1]} P2=${OP[2]} P3=${OP[3]}; fi
        BKIND=$broker
        for ts in mosq ours xpub xsub; do
            case $ts in
            mosq) SUB=$MOSQ_SUB PUB=$MOSQ_PUB ;;
            ours) SUB=$OUR_SUB PUB=$OUR_PUB ;;
            xpub) SUB=$MOSQ_SUB PUB=$OUR_PUB ;;
            xsub) SUB=$OUR_SUB PUB=$MOSQ_PUB ;;
            esac
            RUNNO=$((RUNNO + 1))
            R=R$RUNNO
            RUN=$WORK/$name.$broker.$ts
            T=$RUN/transcript
            mkdir -p "$RUN"
            : > "$T"
            "$fn"
            normalize "$T" > "$T.norm"
            if [ -z "$base" ]; then
                base=$T.norm
                # the reference run itself must have worked: every exit status 0
                if grep -q "exit [1-9]" "$T.norm"; then ko "$name [$broker: mosquitto's clients]" "$(cat "$T.norm")"; fi
            elif cmp -s "$base" "$T.norm"; then
                ok "$name [$broker: $ts = mosq]"
            else
                ko "$name [$broker: $ts = mosq]" "$(diff -a -u "$base" "$T.norm" | head -30)"
            fi
        done
    done
}

run_case qos case_qos
run_case client-certificate case_client_certificate
run_case url-and-names case_url_and_names
run_case insecure case_insecure
run_case retained-v5 case_retained_v5

# ---- part 2: failures -----------------------------------------------------------
# same_error NAME TOOL ARGS...: mosquitto's tool and ours exit the same way, same stderr.
same_error() {
    local name=$1 tool=$2 m o rm ro; shift 2
    if [ "$tool" = pub ]; then m=$MOSQ_PUB o=$OUR_PUB; else m=$MOSQ_SUB o=$OUR_SUB; fi
    timeout 30 "$m" "$@" > /dev/null 2> "$WORK/m.err" < /dev/null; rm=$?
    timeout 30 "$o" "$@" > /dev/null 2> "$WORK/o.err" < /dev/null; ro=$?
    if [ "$rm" != "$ro" ]; then ko "$name" "exit $ro, mosquitto's $rm; stderr: $(cat "$WORK/o.err")"
    elif ! cmp -s <(normalize "$WORK/m.err") <(normalize "$WORK/o.err"); then
        ko "$name" "$(diff -u <(normalize "$WORK/m.err") <(normalize "$WORK/o.err"))"
    else ok "$name"; fi
}
# same_start NAME TOOL PATTERN ARGS...: the same exit status and first stderr line as
# mosquitto's tool; our stderr also says why (PATTERN).
same_start() {
    local name=$1 tool=$2 pattern=$3 m o rm ro; shift 3
    if [ "$tool" = pub ]; then m=$MOSQ_PUB o=$OUR_PUB; else m=$MOSQ_SUB o=$OUR_SUB; fi
    timeout 30 "$m" "$@" > /dev/null 2> "$WORK/m.err" < /dev/null; rm=$?
    timeout 30 "$o" "$@" > /dev/null 2> "$WORK/o.err" < /dev/null; ro=$?
    if [ "$rm" != "$ro" ]; then ko "$name" "exit $ro, mosquitto's $rm; stderr: $(cat "$WORK/o.err")"
    elif [ "$(normalize "$WORK/m.err" | head -n 1)" != "$(normalize "$WORK/o.err" | head -n 1)" ]; then
        ko "$name" "first line '$(head -n 1 "$WORK/o.err")', mosquitto's '$(head -n 1 "$WORK/m.err")'"
    elif ! grep -qE -- "$pattern" "$WORK/o.err"; then ko "$name" "stderr does not match /$pattern/: $(cat "$WORK/o.err")"
    else ok "$name"; fi
}
# refused NAME TOOL WANT_RC PATTERN ARGS...: ours exits WANT_RC within 30 s, stderr matching
# PATTERN; mosquitto's tool refuses too (non-zero).
refused() {
    local name=$1 tool=$2 want=$3 pattern=$4 m o rm ro; shift 4
    if [ "$tool" = pub ]; then m=$MOSQ_PUB o=$OUR_PUB; else m=$MOSQ_SUB o=$OUR_SUB; fi
    timeout 30 "$m" "$@" > /dev/null 2> "$WORK/m.err" < /dev/null; rm=$?
    timeout 30 "$o" "$@" > /dev/null 2> "$WORK/o.err" < /dev/null; ro=$?
    if [ "$ro" != "$want" ]; then ko "$name" "exit $ro, wanted $want; stderr: $(cat "$WORK/o.err")"
    elif [ "$rm" = 0 ]; then ko "$name" "mosquitto's client succeeded where ours refused"
    elif ! grep -qE -- "$pattern" "$WORK/o.err"; then ko "$name" "stderr does not match /$pattern/: $(cat "$WORK/o.err")"
    elif grep -q Sanitizer "$WORK/o.err"; then ko "$name" "$(cat "$WORK/o.err")"
    else ok "$name"; fi
}

for broker in mosquitto ours; do
    if [ $broker = mosquitto ]; then P0=${MP[0]} P1=${MP[1]} P2=${MP[2]} P3=${MP[3]}
    else P0=${OP[0]} P1=${OP[1]} P2=${OP[2]} P3=${OP[3]}; fi
    b="[$broker]"
    H=(-h 127.0.0.1)
    refused "bad CA: certificate verify failed $b (pub)" pub 8 \
        "^Error: A TLS error occurred\.$|certificate verify failed.*not signed by a CA" \
        "${H[@]}" -p "$P1" --cafile "$C/otherca.crt" -t a -m x
    refused "bad CA: certificate verify failed $b (sub)" sub 8 "certificate verify failed" \
        "${H[@]}" -p "$P1" --cafile "$C/otherca.crt" -t a -W 5
    refused "wrong host name without --insecure $b (pub)" pub 8 "mismatch.*not for this host name.*--insecure" \
        "${H[@]}" -p "$P3" --cafile "$CA" -t a -m x
    refused "wrong host name without --insecure $b (sub)" sub 8 "A TLS error occurred" \
        -h localhost -p "$P3" --cafile "$CA" -t a -W 5
    refused "mqtts:// without --cafile: the system's CAs do not know ours $b" pub 8 "certificate verify failed" \
        -L "mqtts://127.0.0.1:$P1/a" -m x
    refused "no client certificate where one is required $b" pub 7 \
        "^Error: The connection was lost\.$|certificate" "${H[@]}" -p "$P2" --cafile "$CA" -t a -m x -q 1
    refused "TLS client against a plain listener $b" pub 8 "TLS handshake with 127.0.0.1:$P0" \
        "${H[@]}" -p "$P0" --cafile "$CA" -t a -m x
    same_start "plain client against a TLS listener $b" pub "reading from the broker failed|sending to the broker failed" \
        "${H[@]}" -p "$P1" -t a -m x
done 2>/dev/null

# A certificate signed by another CA, refused by the listener that verifies client certificates.
mk_cert intruder client otherca 2>/dev/null && chmod 644 "$C/intruder.crt" "$C/intruder.key"
for broker in mosquitto ours; do
    if [ $broker = mosquitto ]; then P2=${MP[2]}; else P2=${OP[2]}; fi
    refused "a client certificate from another CA is refused [$broker]" pub 7 "Error: The connection was lost" \
        -h 127.0.0.1 -p "$P2" --cafile "$CA" --cert "$C/intruder.crt" --key "$C/intruder.key" -t a -m x
done

# Options and files: the same messages and exit statuses (no connection is made).
same_error "certificate without key (pub)" pub -p "${MP[1]}" --cafile "$CA" --cert "$C/client.crt" -t a -m x
same_error "key without certificate (sub)" sub -p "${MP[1]}" --cafile "$CA" --key "$C/client.key" -t a
same_error "--cafile without a file" pub -t a -m x --cafile
same_error "--tls-version without a version" sub -t a --tls-version
same_start "missing CA file" pub 'cannot open the CA file \(--cafile\) ".*/nonexistent.crt": No such file' \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$C/nonexistent.crt" -t a -m x
same_start "missing key file" pub 'cannot open the key \(--key\) ".*/nokey": No such file' \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$CA" --cert "$C/client.crt" --key "$C/nokey" -t a -m x
same_start "missing certificate file (sub)" sub 'cannot open the certificate \(--cert\)' \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$CA" --cert "$C/nocert" --key "$C/client.key" -t a
same_start "a key that does not match the certificate" pub "key values mismatch|does not match" \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$CA" --cert "$C/client.crt" --key "$C/server.key" -t a -m x
same_start "a CA file that holds no certificate" pub "cannot load CA certificates from .*ca.key" \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$C/ca.key" -t a -m x
same_start "bad --tls-version" pub 'tlsv1.9.*expected tlsv1.3, tlsv1.2 or tlsv1.1' \
    -h 127.0.0.1 -p "${MP[1]}" --cafile "$CA" --tls-version tlsv1.9 -t a -m x
timeout 10 "$OUR_PUB" --quiet -h 127.0.0.1 -p "${MP[1]}" --cafile "$C/otherca.crt" -t a -m x > /dev/null 2> "$WORK/q.err"
rc=$?
if [ $rc = 8 ] && [ ! -s "$WORK/q.err" ]; then ok "--quiet: exit 8, nothing printed"; else ko "--quiet: exit 8, nothing printed" "exit $rc: $(cat "$WORK/q.err")"; fi
"$OUR_PUB" --help | grep -q -- "--cafile" && "$OUR_SUB" --help | grep -q -- "--insecure" && ok "--help lists the TLS options" ||
    ko "--help lists the TLS options"

# A broker that accepts TCP and never answers the handshake: the keepalive ends it, -W too.
silent() {
    coproc SILENT { exec "$FAKE" silent; }
    FPID=$SILENT_PID # (bash unsets SILENT_PID when the coprocess ends)
    read -r -t 10 FPORT <&"${SILENT[0]}" || { ko "the fake broker starts"; return 1; }
}
if silent; then
    start=$(date +%s)
    timeout 30 "$OUR_PUB" -h 127.0.0.1 -p "$FPORT" --cafile "$CA" -k 5 -t a -m x > /dev/null 2> "$WORK/s.err"
    rc=$?
    if [ $rc = 19 ] && grep -q "within 5 seconds (TLS handshake)" "$WORK/s.err" && [ $(($(date +%s) - start)) -le 8 ]; then
        ok "silent broker: the handshake ends at the keepalive (exit 19)"
    else ko "silent broker: the handshake ends at the keepalive (exit 19)" "exit $rc: $(cat "$WORK/s.err")"; fi
    kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
fi
if silent; then
    timeout 30 "$OUR_SUB" -h 127.0.0.1 -p "$FPORT" --cafile "$CA" -W 1 -t a > /dev/null 2> "$WORK/s.err"
    rc=$?
    if [ $rc = 27 ] && grep -q "^Timed out$" "$WORK/s.err"; then ok "silent broker: -W ends the handshake (exit 27)"
    else ko "silent broker: -W ends the handshake (exit 27)" "exit $rc: $(cat "$WORK/s.err")"; fi
    kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
fi

# The brokers stop cleanly, without sanitizer reports.
kill "$OPID"; wait "$OPID"; rc=$?
if [ $rc = 0 ] && ! grep -q Sanitizer "$OLOG"; then ok "mqtt-broker stops cleanly after the TLS clients"
else ko "mqtt-broker stops cleanly after the TLS clients" "exit $rc; $(grep -A5 Sanitizer "$OLOG" | head)"; fi
OPID=""
if grep -q Sanitizer "$WORK"/*/*.err 2>/dev/null; then ko "no sanitizer report from our tools" "$(grep -l Sanitizer "$WORK"/*/*.err)"
else ok "no sanitizer report from our tools"; fi

echo "tools-tls: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || echo "failed:$FAILED_NAMES"
[ "$FAILED" -eq 0 ]
