#!/usr/bin/env bash
# mqtt-bench against real brokers and a misbehaving relay (`make check-bench-cli`).
#   check_bench.sh MQTT_BENCH MQTT_BROKER BENCH_RELAY CAPTURE_LATENCY
# Every run is bounded (--count / --duration, --drain, timeout); every peer is
# on 127.0.0.1, a free port, its own directory, and stopped on exit.
set -u
BENCH=${1:?usage: check_bench.sh MQTT_BENCH MQTT_BROKER BENCH_RELAY CAPTURE_LATENCY}
BROKER=${2:?}
RELAY=${3:?}
CAPLAT=${4:?}
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port, wait_listening, reported_port
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
WORK=$(mktemp -d /tmp/check-bench.XXXXXX)
PIDS=()
passed=0
failed=0
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' "$2" | head -n 30; }

# jget FILE KEY: a top-level number of a mqtt-bench JSON report.
jget() { sed -n "s/^  \"$2\": \([-0-9.]*\).*/\1/p" "$1" | head -n 1; }
# jsub FILE OBJECT KEY: a number inside a one-line object ("latency_us" "p50").
jsub() { sed -n "s/^  \"$2\": {.*\"$3\": \([-0-9.]*\).*/\1/p" "$1" | head -n 1; }

start_ours() { # start_ours NAME: our broker on a free port; sets PORT
    "$BROKER" -p 0 > "$WORK/$1.out" 2> "$WORK/$1.err" &
    PIDS+=($!)
    PORT=$(reported_port "$WORK/$1.out" "$!") && return 0
    echo "mqtt-broker did not start" >&2
    exit 1
}

start_relay() { # start_relay NAME UPSTREAM ARGS...: sets RPORT
    local name=$1 up=$2; shift 2
    "$RELAY" --upstream "$up" --counts "$WORK/$name.counts" "$@" > "$WORK/$name.out" &
    PIDS+=($!)
    RPORT=$(reported_port "$WORK/$name.out" "$!") && return 0
    echo "bench-relay did not start" >&2
    exit 1
}


start_mosquitto() { # its own config on a free port (never 1883); sets MPORT
    [ -x "$MOSQUITTO" ] || { echo "mosquitto not installed" >&2; exit 1; }
    for _ in $(seq 20); do
        MPORT=$(free_port) || exit 1
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest none\n' \
            "$MPORT" > "$WORK/mosquitto.conf"
        "$MOSQUITTO" -c "$WORK/mosquitto.conf" > /dev/null 2>&1 &
        local pid=$!
        # its own listening socket (a lost bind race retries with another port)
        if wait_listening "$MPORT" "$pid"; then PIDS+=("$pid"); return 0; fi
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    echo "mosquitto did not start" >&2
    exit 1
}

bench() { # bench NAME ARGS...: runs mqtt-bench, JSON in $WORK/NAME.json, status in RC
    local name=$1; shift
    timeout 60 "$BENCH" "$@" --quiet --json "$WORK/$name.json" > "$WORK/$name.txt" 2>&1
    RC=$?
}

counts() { sed -n "s/.*$2 \([0-9]*\).*/\1/p" "$WORK/$1.counts"; }

start_ours ours
OURS=$PORT
start_mosquitto

# ---- command line ----
"$BENCH" > "$WORK/u.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q usage "$WORK/u.txt" && ok "no arguments: usage, exit 2" || bad "no arguments (rc $rc)" "$WORK/u.txt"
"$BENCH" --version > "$WORK/v.txt" 2>&1 && grep -q '^mqtt-bench [0-9]' "$WORK/v.txt" && ok "--version" || bad "--version" "$WORK/v.txt"
"$BENCH" pubsub --qos 3 > "$WORK/q.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q -- '--qos 3' "$WORK/q.txt" && ok "--qos 3 refused, names the option" || bad "--qos 3 (rc $rc)" "$WORK/q.txt"
"$BENCH" pubsub --topic 'a/#' --broker "127.0.0.1:$OURS" > "$WORK/t.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'MQTT-' "$WORK/t.txt" && ok "wildcard publish topic refused with its rule" || bad "bad topic (rc $rc)" "$WORK/t.txt"

# ---- errors are counted, not fatal ----
start_relay dead 1   # a relay whose upstream refuses: every client is closed after CONNECT
bench refused pubsub --broker "127.0.0.1:$RPORT" --count 10 --connect-timeout 2 --drain 0.2
e=$(sed -n 's/.*"closed": \([0-9]*\).*/\1/p' "$WORK/refused.json")
[ "$RC" -eq 3 ] && [ "${e:-0}" -ge 1 ] && ok "refused connections counted (closed $e), exit 3" || bad "refused (rc $RC)" "$WORK/refused.txt"

start_relay silent 1 --silent # accepts, never answers CONNECT
bench silent conn --broker "127.0.0.1:$RPORT" --clients 3 --connect-timeout 0.5 --duration 0.2
e=$(sed -n 's/.*"timeout": \([0-9]*\).*/\1/p' "$WORK/silent.json")
[ "$RC" -eq 3 ] && [ "${e:-0}" -eq 3 ] && ok "a broker that never answers: 3 timeouts counted, exit 3" ||
    bad "silent broker (rc $RC, timeouts ${e:-?})" "$WORK/silent.txt"

# ---- TLS (a throwaway CA made with the openssl CLI) ----
C="$WORK/certs"; mkdir -p "$C"
mk_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2>/dev/null; }
if mk_key ca && openssl req -x509 -new -key "$C/ca.key" -out "$C/ca.crt" -days 2 -subj /CN=ca 2>/dev/null &&
   mk_key other && openssl req -x509 -new -key "$C/other.key" -out "$C/other.crt" -days 2 -subj /CN=other 2>/dev/null &&
   mk_key server && openssl req -new -key "$C/server.key" -out "$C/server.csr" -subj /CN=localhost 2>/dev/null &&
   printf 'subjectAltName=IP:127.0.0.1\n' > "$C/server.ext" &&
   openssl x509 -req -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
       -out "$C/server.crt" -days 2 -extfile "$C/server.ext" 2>/dev/null; then
    printf 'listener 0 127.0.0.1\nallow_anonymous true\ncertfile %s\nkeyfile %s\n' "$C/server.crt" "$C/server.key" > "$WORK/tls.conf"
    "$BROKER" -c "$WORK/tls.conf" > "$WORK/tls.out" 2>&1 &
    PIDS+=($!)
    TPORT=$(reported_port "$WORK/tls.out" "$!")
    bench tls pubsub --broker "mqtts://127.0.0.1:$TPORT" --cafile "$C/ca.crt" --qos 1 --count 200
    [ "$RC" -eq 0 ] && [ "$(jget "$WORK/tls.json" received)" = 200 ] && ok "TLS: 200 messages over mqtts://" ||
        bad "TLS (rc $RC)" "$WORK/tls.txt"
    bench tls-bad pubsub --broker "mqtts://127.0.0.1:$TPORT" --cafile "$C/other.crt" --count 10 --drain 0.2
    e=$(sed -n 's/.*"tls": \([0-9]*\).*/\1/p' "$WORK/tls-bad.json")
    [ "$RC" -eq 3 ] && [ "${e:-0}" -eq 2 ] && ok "TLS with the wrong CA: 2 handshake errors counted, exit 3" ||
        bad "TLS wrong CA (rc $RC, tls errors ${e:-?})" "$WORK/tls-bad.txt"
    # ---- MQTT over WebSockets: ws:// and wss:// to the broker's websockets listeners ----
    WS=$(free_port) WSS=$(free_port)
    printf 'allow_anonymous true\nlistener %s 127.0.0.1\nprotocol websockets\nlistener %s 127.0.0.1\nprotocol websockets\ncertfile %s\nkeyfile %s\n' \
        "$WS" "$WSS" "$C/server.crt" "$C/server.key" > "$WORK/ws.conf"
    "$BROKER" -c "$WORK/ws.conf" > "$WORK/ws.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 250); do [ "$(grep -c '^listening on' "$WORK/ws.out")" -ge 2 ] && break; sleep 0.02; done
    bench ws pubsub --broker "ws://127.0.0.1:$WS/mqtt" --qos 1 --count 300 --drain 5
    [ "$RC" -eq 0 ] && [ "$(jget "$WORK/ws.json" received)" = 300 ] && [ "$(jget "$WORK/ws.json" lost)" = 0 ] &&
        ok "ws://: 300 messages at QoS 1" || bad "ws:// (rc $RC)" "$WORK/ws.txt"
    bench wss pubsub --broker "wss://127.0.0.1:$WSS/mqtt" --cafile "$C/ca.crt" --mqtt 5 --qos 2 --subscribers 3 --count 300 --drain 5
    [ "$RC" -eq 0 ] && [ "$(jget "$WORK/wss.json" received)" = 900 ] && [ "$(jget "$WORK/wss.json" duplicates)" = 0 ] &&
        ok "wss:// (5.0, QoS 2, 1->3): 900 deliveries, no duplicate" || bad "wss:// (rc $RC)" "$WORK/wss.txt"
    bench ws-tcp pubsub --broker "ws://127.0.0.1:$OURS/mqtt" --count 10 --connect-timeout 2 --drain 0.2
    e=$(sed -n 's/.*"connect": \([0-9]*\).*/\1/p' "$WORK/ws-tcp.json")
    [ "$RC" -eq 3 ] && [ "${e:-0}" -eq 2 ] && ok "ws:// to a plain MQTT listener: 2 upgrade failures counted, exit 3" ||
        bad "ws:// to plain MQTT (rc $RC, connect errors ${e:-?})" "$WORK/ws-tcp.txt"
else
    bad "could not make test certificates with openssl"
fi

# ---- all QoS, both versions, against ours and mosquitto ----
for target in ours:$OURS mosquitto:$MPORT; do
    name=${target%%:*}; port=${target#*:}
    for v in 3.1.1 5; do
        for q in 0 1 2; do
            bench "$name-v$v-q$q" pubsub --broker "127.0.0.1:$port" --mqtt "$v" --qos "$q" --count 300 --drain 5
            f="$WORK/$name-v$v-q$q.json"
            if [ "$RC" -eq 0 ] && [ "$(jget "$f" sent)" = 300 ] && [ "$(jget "$f" received)" = 300 ] &&
               [ "$(jget "$f" lost)" = 0 ] && [ "$(jsub "$f" latency_us count)" = 300 ]; then
                ok "$name mqtt $v QoS $q: 300 sent, 300 received, none lost"
            else
                bad "$name mqtt $v QoS $q (rc $RC)" "$WORK/$name-v$v-q$q.txt"
            fi
        done
    done
done

# ---- the four modes against mosquitto ----
bench conn conn --broker "127.0.0.1:$MPORT" --clients 200 --conn-rate 2000 --duration 0.5
[ "$RC" -eq 0 ] && grep -q '"ready": 200' "$WORK/conn.json" && grep -q '"held": 200' "$WORK/conn.json" &&
    ok "conn: 200 connections held" || bad "conn (rc $RC)" "$WORK/conn.txt"
timeout 60 "$BENCH" sub --broker "127.0.0.1:$MPORT" --clients 2 --topic 'split/%i' --duration 4 \
    --json "$WORK/sub.json" > "$WORK/sub.txt" 2> "$WORK/sub.err" &
SUBJOB=$!
# publish only once both have subscribed: mosquitto keeps nothing for a subscription not made yet
for _ in $(seq 500); do grep -q 'connections ready, running' "$WORK/sub.err" && break; sleep 0.02; done
bench pub pub --broker "127.0.0.1:$MPORT" --clients 2 --topic 'split/%i' --qos 1 --count 200
wait "$SUBJOB"
bench sub-again sub --broker "127.0.0.1:$MPORT" --clients 1 --duration 0.2
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/pub.json" acked)" = 400 ] && ok "pub: 400 sent at QoS 1, 400 acked" ||
    bad "pub (rc $RC)" "$WORK/pub.txt"
r=$(jget "$WORK/sub.json" received)
[ "$r" = 400 ] && [ "$(jget "$WORK/sub.json" lost)" = 0 ] && ok "sub (other process): received 400, no gaps" ||
    bad "sub received ${r:-?}" "$WORK/sub.txt"

# ---- fan-out, fan-in, shared subscriptions ----
bench fanout pubsub --broker "127.0.0.1:$OURS" --subscribers 20 --count 200 --qos 1
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/fanout.json" received)" = 4000 ] && ok "fan-out 1->20: 4000 deliveries" ||
    bad "fan-out (rc $RC)" "$WORK/fanout.txt"
bench fanin pubsub --broker "127.0.0.1:$OURS" --publishers 10 --subscribers 1 --count 100 --qos 1
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/fanin.json" received)" = 1000 ] && ok "fan-in 10->1: 1000 deliveries" ||
    bad "fan-in (rc $RC)" "$WORK/fanin.txt"
bench shared pubsub --broker "127.0.0.1:$OURS" --mqtt 5 --shared grp --subscribers 3 --count 300 --qos 1
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/shared.json" received)" = 300 ] && [ "$(jget "$WORK/shared.json" duplicates)" = 0 ] &&
    ok "shared subscription of 3: each of 300 once" || bad "shared (rc $RC)" "$WORK/shared.txt"
bench pairs pubsub --broker "127.0.0.1:$OURS" --publishers 4 --subscribers 4 --topic 'pair/%i' --count 100
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/pairs.json" expected)" = 400 ] && [ "$(jget "$WORK/pairs.json" received)" = 400 ] &&
    ok "topic pattern %i: 4 one-to-one pairs" || bad "pairs (rc $RC)" "$WORK/pairs.txt"

# ---- a subscriber that never reads is owed nothing; retained on subscribe; sub told what comes ----
bench slow pubsub --broker "127.0.0.1:$OURS" --subscribers 1 --slow-subscribers 1 --count 2000 --drain 5
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/slow.json" expected)" = 2000 ] && [ "$(jget "$WORK/slow.json" received)" = 2000 ] &&
    ok "slow subscriber beside a reading one: 2000 owed to the reader, 2000 received" || bad "slow (rc $RC)" "$WORK/slow.txt"
for target in ours:$OURS mosquitto:$MPORT; do
    name=${target%%:*}; port=${target#*:}
    bench "kept-$name" pub --broker "127.0.0.1:$port" --retain --count 500 --topic "kept-$name/%n"
    bench "late-$name" sub --broker "127.0.0.1:$port" --topic "kept-$name/#" --publishers 1 --count 500 --duration 10 --drain 1
    f="$WORK/late-$name.json"
    [ "$RC" -eq 0 ] && [ "$(jget "$f" received)" = 500 ] && [ "$(jget "$f" lost)" = 0 ] && [ "$(jget "$f" out_of_order)" = 0 ] &&
        ok "$name: 500 retained topics (%n), a new subscriber gets 500" || bad "retained $name (rc $RC)" "$WORK/late-$name.txt"
done
# Two publishers announced, one ever sent: its 500 are the lost tail the gaps cannot show.
bench late-tail sub --broker "127.0.0.1:$OURS" --topic 'kept-ours/#' --publishers 2 --count 500 --duration 2 --drain 0.5
[ "$RC" -eq 0 ] && [ "$(jget "$WORK/late-tail.json" lost)" = 500 ] && [ "$(jget "$WORK/late-tail.json" expected)" = 1000 ] &&
    ok "sub --publishers 2 --count 500, one silent: 500 lost (QoS 0: reported, exit 0)" || bad "late-tail (rc $RC)" "$WORK/late-tail.txt"

# ---- persistent sessions: subscribers leave and come back; what was published meanwhile is owed ----
for target in ours-v3.1.1:$OURS ours-v5:$OURS mosquitto-v3.1.1:$MPORT; do
    name=${target%%:*}; port=${target#*:}; v=${name#*-v}
    bench "away-$name" pubsub --broker "127.0.0.1:$port" --mqtt "$v" --subscribers 2 --qos 1 --rate 400 --duration 2.5 \
        --persistent --session-expiry 60 --reconnect 0.6 --offline 0.3 --drain 5
    f="$WORK/away-$name.json"
    if [ "$RC" -eq 0 ] && [ "$(jget "$f" lost)" = 0 ] && [ "$(jget "$f" reconnects)" -ge 2 ] &&
       [ "$(jget "$f" received)" = "$(jget "$f" expected)" ]; then
        ok "$name: 2 subscribers reconnect $(jget "$f" reconnects) times, QoS 1, none of $(jget "$f" expected) lost"
    else
        bad "reconnects $name (rc $RC)" "$WORK/away-$name.txt"
    fi
done
bench churn conn --broker "127.0.0.1:$OURS" --clients 20 --reconnect 0.3 --offline 0.1 --duration 2
n=$(jget "$WORK/churn.json" reconnects); c=$(jsub "$WORK/churn.json" connect_us count)
[ "$RC" -eq 0 ] && [ "${n:-0}" -ge 40 ] && [ "${c:-0}" -ge "$n" ] &&
    ok "conn --reconnect: 20 clients, $n reconnects, $c connect times recorded" || bad "conn churn (rc $RC)" "$WORK/churn.txt"
"$BENCH" pubsub --reconnect 1 > "$WORK/rc.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'needs --persistent' "$WORK/rc.txt" && ok "--reconnect without a persistent session refused" ||
    bad "--reconnect alone (rc $rc)" "$WORK/rc.txt"

# ---- QoS 0 window: a broker that stops reading holds the publisher back ----
for w in 400 0; do
    start_relay "hold$w" "$OURS" --stall-after 1000 --stall-ms 1000
    bench "hold$w" pubsub --broker "127.0.0.1:$RPORT" --qos 0 --qos0-window "$w" --rate 2000 --duration 3 --drain 3
    st=$(jsub "$WORK/hold$w.json" publisher_stall_ms max)
    if [ "$w" = 400 ]; then cond='s >= 500'; else cond='s < 100'; fi
    if [ "$RC" -eq 0 ] && awk -v s="${st:-x}" "BEGIN { exit !($cond) }"; then
        ok "QoS 0 window $w, broker stalls 1 s: longest publisher stall $st ms ($cond)"
    else
        bad "QoS 0 window $w: publisher stall ${st:-?} ms, want $cond (rc $RC)" "$WORK/hold$w.txt"
    fi
done

# ---- the relay: known drops, duplicates, swaps ----
relay_case() { # relay_case NAME QOS WANT_RC JSON_KEY COUNT_KEY RELAY_ARGS...
    local name=$1 q=$2 want=$3 key=$4 ckey=$5; shift 5
    start_relay "$name" "$OURS" "$@"
    bench "$name" pubsub --broker "127.0.0.1:$RPORT" --qos "$q" --count 2000 --drain 1
    local got want_n
    got=$(jget "$WORK/$name.json" "$key"); want_n=$(counts "$name" "$ckey")
    if [ "$RC" -eq "$want" ] && [ -n "$got" ] && [ "$got" = "$want_n" ] && [ "$want_n" -gt 0 ]; then
        ok "relay $name: $key $got = relay's $ckey $want_n, exit $RC"
    else
        bad "relay $name: $key ${got:-?} vs relay $ckey ${want_n:-?}, exit $RC (want $want)" "$WORK/$name.txt"
    fi
}
relay_case drop-q0 0 0 lost dropped --drop 50          # QoS 0 may lose: reported, not a violation
relay_case drop-q1 1 1 lost dropped --drop 50          # QoS 1 must not
relay_case dup-q0 0 1 duplicates duplicated --dup 40   # QoS 0 at most once
relay_case dup-q1 1 0 duplicates duplicated --dup 40   # QoS 1 may duplicate
relay_case swap-q0 0 1 out_of_order swapped --swap 37  # order is a MUST at every QoS

# ---- coordinated omission: a broker that stalls 1 s ----
start_relay stall "$OURS" --stall-after 1000 --stall-ms 1000
bench stall pubsub --broker "127.0.0.1:$RPORT" --qos 1 --inflight 10 --rate 1000 --duration 4 --drain 3
p90=$(jsub "$WORK/stall.json" latency_us p90); p99=$(jsub "$WORK/stall.json" latency_us p99)
raw99=$(jsub "$WORK/stall.json" latency_from_send_us p99); mx=$(jsub "$WORK/stall.json" latency_us max)
# 1000 of 4000 messages fall due during the stall, waiting 1000..0 ms: corrected p90 ~ 600 ms,
# p99 ~ 960 ms; counted from sending, only the 10 in flight see the stall.
if awk -v a="$p90" -v b="$p99" -v c="$raw99" -v m="$mx" 'BEGIN { exit !(a >= 450000 && a <= 950000 &&
        b >= 800000 && m >= 900000 && m <= 1600000 && c < 250000) }'; then
    ok "CO correction: stall 1 s -> p90 $p90 us, p99 $p99 us (from send: p99 $raw99 us)"
else
    bad "CO correction: p90 ${p90:-?} p99 ${p99:-?} max ${mx:-?} from-send p99 ${raw99:-?}" "$WORK/stall.txt"
fi

# ---- merge: two runs, one set of percentiles ----
timeout 60 "$BENCH" pubsub --broker "127.0.0.1:$OURS" --count 500 --rate 2000 --quiet --hist "$WORK/a.hist" > /dev/null
timeout 60 "$BENCH" pubsub --broker "127.0.0.1:$MPORT" --count 700 --rate 2000 --quiet --hist "$WORK/b.hist" > /dev/null
"$BENCH" merge "$WORK/a.hist" "$WORK/b.hist" --json "$WORK/m.json" > "$WORK/m.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(jget "$WORK/m.json" sent)" = 1200 ] && [ "$(jsub "$WORK/m.json" latency_us count)" = 1200 ] &&
    ok "merge: 500 + 700 messages, one histogram" || bad "merge (rc $rc)" "$WORK/m.txt"
printf 'mqtt-bench-hist 1\nhist ns sub 128 buckets 4608 total 2 min 1 max 1 sum 2 clamped 0\nb 1 1\nend\n' > "$WORK/bad.hist"
"$BENCH" merge "$WORK/bad.hist" > "$WORK/mb.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'bad.hist: line 4' "$WORK/mb.txt" && ok "merge: a corrupt file is named, exit 2" || bad "merge bad (rc $rc)" "$WORK/mb.txt"

# ---- p50 against a capture of the same run ----
if command -v tcpdump > /dev/null; then
    tcpdump -i lo -w "$WORK/cap.pcap" --time-stamp-precision=nano -U "tcp port $OURS" 2> "$WORK/tcpdump.err" &
    TD=$!
    for _ in $(seq 250); do grep -q listening "$WORK/tcpdump.err" && break; sleep 0.02; done
    bench cap pubsub --broker "127.0.0.1:$OURS" --subscribers 50 --qos 1 --rate 300 --count 900
    kill -INT "$TD"; wait "$TD"
    capline=$("$CAPLAT" "$WORK/cap.pcap" "$OURS")
    cap50=$(echo "$capline" | awk '{ print $4 }'); b50=$(jsub "$WORK/cap.json" latency_from_send_us p50)
    w50=$(jsub "$WORK/cap.json" send_to_wire_us p50); wn=$(jsub "$WORK/cap.json" send_to_wire_us count)
    # The publisher's own write(), up to where the capture stamps it (SO_TIMESTAMPING TX software).
    if awk -v n="${wn:-0}" -v w="${w50:-x}" 'BEGIN { exit !(n >= 100 && w > 0 && w < 1000) }'; then
        ok "send to the wire measured: p50 $w50 us over $wn writes"
    else
        bad "send_to_wire_us: p50 ${w50:-?} count ${wn:-?}" "$WORK/cap.txt"
    fi
    if awk -v a="$b50" -v b="$cap50" 'BEGIN { exit !(b > 0 && a / b >= 0.9 && a / b <= 1.1) }'; then
        ok "p50 agrees with the capture: bench $b50 us (of which to the wire $w50), capture $cap50 us ($capline)"
    else
        bad "p50: bench ${b50:-?} us, capture ${cap50:-?} us ($capline)" "$WORK/cap.txt"
    fi
else
    bad "tcpdump is not installed (DEPS_CHECK installs it)"
fi

echo "bench-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
