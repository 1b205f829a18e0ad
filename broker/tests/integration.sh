#!/usr/bin/env bash
# Integration test of mqtt-broker with Debian's mosquitto_pub / mosquitto_sub
# (real third-party clients), MQTT 3.1.1 and 5.0:
#   QoS 0/1/2 round trips, retained messages (store, delete), wills (client
#   killed with SIGKILL), persistent sessions (-c -i id), user properties (-D),
#   garbage on the socket, memory_limit from a config file (and reloaded on
#   SIGHUP), clean shutdown on
#   SIGTERM and SIGINT with no leak
#   (the broker under test is the ASan build), configuration errors.
#
#   integration.sh BROKER_BINARY LINGER_CLIENT
#
# Starts its own broker on a free port (-p 0, port read from the
# "listening on" line). Synchronisation waits on conditions with deadlines
# (the broker's -v log showing a client's SUBACK, mosquitto_sub -C/-W), never
# on sleeps. Prints "N passed, M failed" and exits non-zero on any failure.
set -u
BROKER=${1:?usage: integration.sh BROKER_BINARY LINGER_CLIENT}
LINGER=${2:?usage: integration.sh BROKER_BINARY LINGER_CLIENT} # broker/tests/linger_client.c
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh"
command -v mosquitto_sub >/dev/null || { echo "mosquitto_sub not found (apt-get install mosquitto-clients)" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded, mosquitto_pub with a deadline
WORK=$(mktemp -d /tmp/broker-it.XXXXXX)
pass=0; fail=0
BPID=""
cleanup() {
    [ -n "$BPID" ] && kill -9 "$BPID" 2>/dev/null
    jobs -p | xargs -r kill -9 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

ok()   { pass=$((pass + 1)); echo "ok   - $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "       $2"; }

# wait_for TIMEOUT_S COMMAND...: polls COMMAND every 20 ms until it succeeds.
wait_for() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
    until "$@"; do
        [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
        sleep 0.02
    done
}

# start_broker [ARGS...]: starts the broker on a free port, sets BPID, PORT, LOG.
start_broker() {
    LOG=$WORK/broker.log
    : > "$WORK/broker.out"
    "$BROKER" -p 0 -v "$@" > "$WORK/broker.out" 2> "$LOG" &
    BPID=$!
    if ! wait_for 10 grep -q '^listening on ' "$WORK/broker.out"; then
        echo "broker did not start:"; cat "$LOG"; exit 1
    fi
    PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/broker.out" | head -n 1)
}

# stop_broker SIGNAL: stops it and checks the exit status and the ASan report.
stop_broker() {
    kill -"$1" "$BPID"
    local rc=0
    wait "$BPID" || rc=$?
    BPID=""
    if [ "$rc" -eq 0 ] && ! grep -q 'Sanitizer' "$LOG"; then
        ok "SIG$1: clean shutdown, exit 0, no leak or ASan report"
    else
        bad "SIG$1: clean shutdown" "exit $rc; $(grep -m3 -A3 'Sanitizer' "$LOG" | tr '\n' ' ')"
    fi
}

subscribed() { grep -q "client \"$1\" .*-> SUBACK" "$LOG"; }
connected()  { grep -q "client \"$1\" .*: connected" "$LOG"; }

# sub_bg ID OUTFILE ARGS...: a background mosquitto_sub, returned once its SUBACK was sent.
sub_bg() {
    local id=$1 out=$2; shift 2
    mosquitto_sub -p "$PORT" -i "$id" "$@" > "$out" 2>&1 &
    wait_for 10 subscribed "$id" || { bad "subscriber $id did not subscribe"; return 1; }
}

start_broker

# ---- QoS 0/1/2 round trips, 3.1.1 and 5.0 -------------------------------------
for V in mqttv311 mqttv5; do
    for Q in 0 1 2; do
        T="it/rt/$V/$Q"; out=$WORK/rt-$V-$Q
        sub_bg "rt-$V-$Q" "$out" -V "$V" -q "$Q" -t "$T" -C 1 -W 10 -F '%q %t %p' || continue
        spid=$!
        mosquitto_pub -p "$PORT" -V "$V" -q "$Q" -t "$T" -m "payload-$Q"
        wait "$spid"
        if [ "$(cat "$out")" = "$Q $T payload-$Q" ]; then ok "$V QoS $Q round trip"
        else bad "$V QoS $Q round trip" "got: $(cat "$out")"; fi
    done
done

# Delivery at the lower of publish and subscription QoS.
out=$WORK/downgrade
sub_bg down "$out" -q 1 -t it/down -C 1 -W 10 -F '%q' && spid=$! && {
    mosquitto_pub -p "$PORT" -q 2 -t it/down -m x
    wait "$spid"
    [ "$(cat "$out")" = 1 ] && ok "QoS 2 publish delivered at subscription QoS 1" || bad "QoS downgrade" "got: $(cat "$out")"
}

# ---- retained messages --------------------------------------------------------
for V in mqttv311 mqttv5; do
    mosquitto_pub -p "$PORT" -V "$V" -q 1 -r -t "it/ret/$V" -m first
    mosquitto_pub -p "$PORT" -V "$V" -q 1 -r -t "it/ret/$V" -m second
    got=$(mosquitto_sub -p "$PORT" -V "$V" -t "it/ret/$V" -C 1 -W 10 -F '%r %p' 2>&1)
    [ "$got" = "1 second" ] && ok "$V retained message replaced and sent on subscribe with RETAIN" \
                            || bad "$V retained" "got: $got"
    mosquitto_pub -p "$PORT" -V "$V" -q 1 -r -t "it/ret/$V" -n
    got=$(mosquitto_sub -p "$PORT" -V "$V" -t "it/ret/$V" -C 1 -W 1 -F '%r %p' 2>&1)
    [ "$got" = "Timed out" ] && ok "$V retained message deleted by an empty payload" \
                             || bad "$V retained delete" "got: $got"
done
# Live delivery of a retained publish: RETAIN 0 for an established 3.1.1 subscription.
out=$WORK/live
sub_bg live "$out" -t it/live -C 1 -W 10 -F '%r %p' && spid=$! && {
    mosquitto_pub -p "$PORT" -r -t it/live -m now
    wait "$spid"
    [ "$(cat "$out")" = "0 now" ] && ok "live delivery of a retained message has RETAIN 0" || bad "live retain" "got: $(cat "$out")"
    mosquitto_pub -p "$PORT" -r -t it/live -n
}

# ---- wills ----------------------------------------------------------------------
for V in mqttv311 mqttv5; do
    out=$WORK/will-$V
    sub_bg "watch-$V" "$out" -V "$V" -t "it/will/$V" -C 1 -W 10 -F '%t %p' || continue
    spid=$!
    mosquitto_sub -p "$PORT" -V "$V" -i "dying-$V" -t it/nothing --will-topic "it/will/$V" --will-payload "gone-$V" --will-qos 1 > /dev/null 2>&1 &
    dpid=$!
    wait_for 10 subscribed "dying-$V" || bad "will client did not connect"
    { kill -9 "$dpid"; wait "$dpid"; } 2>/dev/null
    wait "$spid"
    [ "$(cat "$out")" = "it/will/$V gone-$V" ] && ok "$V will published when the client is killed" \
                                               || bad "$V will" "got: $(cat "$out")"
done
# No will after a normal DISCONNECT (mosquitto_sub -E disconnects cleanly).
out=$WORK/nowill
sub_bg nowill-watch "$out" -t it/nowill -C 1 -W 2 -F '%p' && spid=$! && {
    bounded 30 "$MOSQ_SUB_BIN" -p "$PORT" -i polite -t it/x -E --will-topic it/nowill --will-payload bad > /dev/null 2>&1
    wait "$spid"
    [ "$(cat "$out")" = "Timed out" ] && ok "no will after DISCONNECT" || bad "will after DISCONNECT" "got: $(cat "$out")"
}

# ---- persistent sessions -------------------------------------------------------
for V in mqttv311 mqttv5; do
    x=(); [ "$V" = mqttv5 ] && x=(-x 600)
    id="persist-$V"
    bounded 30 "$MOSQ_SUB_BIN" -p "$PORT" -V "$V" -c "${x[@]}" -i "$id" -q 1 -t "it/persist/$V" -E > /dev/null 2>&1
    mosquitto_pub -p "$PORT" -V "$V" -q 1 -t "it/persist/$V" -m offline-1
    mosquitto_pub -p "$PORT" -V "$V" -q 2 -t "it/persist/$V" -m offline-2
    mosquitto_pub -p "$PORT" -V "$V" -q 0 -t "it/persist/$V" -m qos0-not-kept
    got=$(mosquitto_sub -p "$PORT" -V "$V" -c "${x[@]}" -i "$id" -q 1 -t "it/persist/$V" -C 2 -W 10 -F '%p' 2>&1 | tr '\n' ' ')
    [ "$got" = "offline-1 offline-2 " ] && ok "$V persistent session (-c -i): QoS 1/2 queued while offline, in order" \
                                         || bad "$V persistent session" "got: $got"
done
# Clean session discards it.
bounded 30 "$MOSQ_SUB_BIN" -p "$PORT" -c -i cleaned -q 1 -t it/cleaned -E > /dev/null 2>&1
mosquitto_sub -p "$PORT" -i cleaned -q 1 -t it/other -E > /dev/null 2>&1   # clean session 1
mosquitto_pub -p "$PORT" -q 1 -t it/cleaned -m lost
got=$(mosquitto_sub -p "$PORT" -c -i cleaned -q 1 -t it/unrelated -C 1 -W 1 -F '%p' 2>&1)
[ "$got" = "Timed out" ] && ok "clean session discards the stored session" || bad "clean session" "got: $got"

# ---- MQTT 5 properties ----------------------------------------------------------
out=$WORK/props
sub_bg props "$out" -V mqttv5 -t it/props -C 1 -W 10 -F '%P|%C|%R|%D|%F' && spid=$! && {
    mosquitto_pub -p "$PORT" -V mqttv5 -t it/props -m x \
        -D publish user-property k1 v1 -D publish user-property k2 v2 -D publish user-property k1 again \
        -D publish content-type text/plain -D publish response-topic it/reply \
        -D publish correlation-data 1234 -D publish payload-format-indicator 1
    wait "$spid"
    [ "$(cat "$out")" = "k1:v1 k2:v2 k1:again|text/plain|it/reply|1234|1" ] \
        && ok "5.0 user properties (-D, in order), content type, response topic, correlation data, payload format passed through" \
        || bad "5.0 properties" "got: $(cat "$out")"
}
# 3.1.1 subscriber of a 5.0 message gets it without properties.
out=$WORK/props311
sub_bg props311 "$out" -V mqttv311 -t it/props311 -C 1 -W 10 -F '%p' && spid=$! && {
    mosquitto_pub -p "$PORT" -V mqttv5 -t it/props311 -m plain -D publish user-property k v
    wait "$spid"
    [ "$(cat "$out")" = plain ] && ok "5.0 message delivered to a 3.1.1 subscriber" || bad "5.0 to 3.1.1" "got: $(cat "$out")"
}
# Subscription identifier.
out=$WORK/subid
sub_bg subid "$out" -V mqttv5 -t it/subid -D subscribe subscription-identifier 42 -C 1 -W 10 -F '%S' && spid=$! && {
    mosquitto_pub -p "$PORT" -V mqttv5 -t it/subid -m x
    wait "$spid"
    [ "$(cat "$out")" = 42 ] && ok "5.0 subscription identifier sent with the message" || bad "subscription identifier" "got: $(cat "$out")"
}

# ---- protocol errors and garbage ------------------------------------------------
# Subshells: the broker may close first, and SIGPIPE must not end this script.
( printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' > /dev/tcp/127.0.0.1/"$PORT" ) 2>/dev/null
( printf '\x10\xff\xff\xff\xff\x7f' > /dev/tcp/127.0.0.1/"$PORT" ) 2>/dev/null
( head -c 4096 /dev/urandom > /dev/tcp/127.0.0.1/"$PORT" ) 2>/dev/null
got=$(mosquitto_pub -p "$PORT" -t it/after -m x 2>&1 && echo alive)
[ "$got" = alive ] && kill -0 "$BPID" && ok "garbage and an HTTP request are refused, broker still serving" \
                   || bad "garbage input" "got: $got"
grep -q 'MQTT-3.1.0-1' "$LOG" && ok "log names the rule of a refused first packet" || bad "rule id in log"

# ---- $SYS -------------------------------------------------------------------------
got=$(mosquitto_sub -p "$PORT" -t '$SYS/broker/version' -C 1 -W 5 2>&1)
case "$got" in "mqtt-broker "*) ok "\$SYS/broker/version: $got" ;; *) bad "\$SYS version" "got: $got" ;; esac

stop_broker TERM

# ---- shutdown with clients connected, SIGINT ------------------------------------
start_broker
out=$WORK/shut
sub_bg shut "$out" -V mqttv5 -d -t it/shut -W 10 && spid=$! && {
    stop_broker INT
    wait "$spid"
    grep -q "Received DISCONNECT (139)" "$out" && ok "5.0 client gets DISCONNECT 0x8B (server shutting down) at shutdown" \
        || bad "DISCONNECT at shutdown" "$(cat "$out")"
}

# ---- DISCONNECT arrives, not a reset ------------------------------------------------
# A 5.0 client sends a malformed PUBLISH (QoS 3) followed by 2 MB more: the
# broker answers DISCONNECT 0x81 and closes. Closing with those bytes unread
# would send a TCP reset that can destroy the DISCONNECT; the broker shuts
# down its side and drains instead, so the client reads DISCONNECT, then EOF.
start_broker
ok_count=0
for i in 1 2 3 4 5; do
    out=$("$LINGER" "$PORT" 2>&1) && ok_count=$((ok_count + 1)) || last="$out"
done
[ $ok_count -eq 5 ] && ok "DISCONNECT 0x81 read before EOF, no reset (5 of 5)" || bad "DISCONNECT lost to a reset" "$ok_count of 5; ${last:-}"
stop_broker TERM

# ---- persistence fault: acknowledgements held while the journal cannot sync -------
# A shim preloaded into the broker (never a switch in the broker itself) makes
# fdatasync fail with EIO while $WORK/fault exists. A retained QoS 1 PUBLISH
# must not be acknowledged until its journal record is stored.
cat > "$WORK/failsync.c" <<'EOF_C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
int fdatasync(int fd)
{
    const char *f = getenv("FAULT_FILE");
    if (f && access(f, F_OK) == 0) { errno = EIO; return -1; }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
EOF_C
if cc -shared -fPIC -o "$WORK/failsync.so" "$WORK/failsync.c" -ldl 2>"$WORK/cc.err"; then
    mkdir -p "$WORK/pdir"
    printf 'persistence true\npersistence_location %s\n' "$WORK/pdir" > "$WORK/persist.conf"
    preload="$WORK/failsync.so"
    asan=$(ldd "$BROKER" | sed -n 's/^\s*\(libasan[^ ]*\) => \([^ ]*\).*/\2/p')
    [ -n "$asan" ] && preload="$asan:$preload"
    touch "$WORK/fault"
    FAULT_FILE="$WORK/fault" LD_PRELOAD="$preload" start_broker -c "$WORK/persist.conf"
    mosquitto_pub -p "$PORT" -i held-pub -q 1 -r -t it/held -m kept > "$WORK/held.out" 2>&1 &
    hpid=$!
    if wait_for 10 grep -q 'acknowledgements are held' "$LOG" && kill -0 $hpid 2>/dev/null; then
        ok "journal sync failing: the PUBACK is held (publisher still waiting)"
    else
        bad "journal sync failing: PUBACK sent anyway" "$(tail -3 "$LOG")"
    fi
    rm -f "$WORK/fault"
    if wait_for 10 sh -c "! kill -0 $hpid 2>/dev/null" && wait $hpid; then
        ok "journal writable again: the held PUBACK is sent"
    else
        kill -9 $hpid 2>/dev/null; bad "held PUBACK never sent after the fault cleared" "$(tail -3 "$LOG")"
    fi
    kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=""
    FAULT_FILE=/nonexistent LD_PRELOAD="$preload" start_broker -c "$WORK/persist.conf"
    got=$(mosquitto_sub -p "$PORT" -t it/held -C 1 -W 5 2>&1)
    [ "$got" = "kept" ] && ok "after SIGKILL the acknowledged retained message is back" || bad "acknowledged message lost" "$got"
    kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=""
else
    bad "cannot build the fdatasync shim" "$(cat "$WORK/cc.err")"
fi

# ---- another user with the same client id (issue 14) -------------------------------
# alice (ACL: a/#) leaves a persistent session X with queued QoS 1 messages; bob
# (ACL: b/#) connects as X with Clean Session 0. He must receive none of them.
# Ours ends alice's session (Session Present 0); Debian's mosquitto 2.0.11, run
# beside it with the same files, resumes it (Session Present 1) but filters
# every message through bob's ACL: neither leaks.
printf 'user alice\ntopic readwrite a/#\nuser bob\ntopic readwrite b/#\n' > "$WORK/two.acl"
rm -f "$WORK/two.pw"
mosquitto_passwd -c -b "$WORK/two.pw" alice apw 2>/dev/null && mosquitto_passwd -b "$WORK/two.pw" bob bpw 2>/dev/null
printf 'allow_anonymous false\npassword_file %s\nacl_file %s\n' "$WORK/two.pw" "$WORK/two.acl" > "$WORK/two.conf"
# probe_takeover PORT NAME: prints what bob received and his CONNACK.
probe_takeover() {
    mosquitto_sub -p "$1" -u alice -P apw -i X -c -q 1 -t 'a/#' -E > /dev/null 2>&1
    mosquitto_pub -p "$1" -u alice -P apw -i P -q 1 -t a/1 -m secret1 2>/dev/null
    mosquitto_pub -p "$1" -u alice -P apw -i P -q 1 -t a/2 -m secret2 2>/dev/null
    mosquitto_sub -p "$1" -u bob -P bpw -i X -c -q 1 -t 'b/#' -W 2 -v -d 2>&1 | grep -E 'CONNACK|secret' | sed "s/^/$2: /"
}
start_broker -c "$WORK/two.conf"
ours=$(probe_takeover "$PORT" ours)
stop_broker TERM
mport=$(free_port) || exit 1
printf 'listener %s 127.0.0.1\nuser root\npersistence false\n' "$mport" | cat - "$WORK/two.conf" > "$WORK/mosq-two.conf"
if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then
    MOSQ_BIN=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    "$MOSQ_BIN" -c "$WORK/mosq-two.conf" > "$WORK/mosq-two.log" 2>&1 &
    mpid=$!
    wait_for 10 sh -c "mosquitto_sub -p $mport -u bob -P bpw -t b/none -W 1 -E >/dev/null 2>&1" || true
    theirs=$(probe_takeover "$mport" mosquitto)
    [ -n "$theirs" ] || theirs="mosquitto: no answer ($(tail -n 2 "$WORK/mosq-two.log" | tr "\n" " "))"
    kill -TERM $mpid; wait $mpid 2>/dev/null
    echo "$theirs" | sed 's/^/       /'
fi
echo "$ours" | sed 's/^/       /'
if echo "$ours" | grep -q 'CONNACK (0)' && ! echo "$ours" | grep -q secret; then
    ok "another user with alice's client id gets none of her messages (ours: new session)"
else
    bad "another user's session leaked or refused" "$ours"
fi

# ---- memory_limit (issue 14): a PUBLISH that would exceed it is refused ---------
# From its fixed header, before its bytes are buffered: DISCONNECT 0x97 (151)
# to a 5.0 publisher; the broker goes on, and $SYS/broker/heap/current says
# what it holds.
printf 'listener 0 127.0.0.1\nallow_anonymous true\nmemory_limit 1000000\nsys_interval 1\n' > "$WORK/mem.conf"
start_broker -c "$WORK/mem.conf"
head -c 2000000 /dev/zero > "$WORK/big.bin"
# (mosquitto_pub exits after its QoS 0 PUBLISH without reading: the log says.)
got=$(bounded 30 "$MOSQ_PUB_BIN" -p "$PORT" -V mqttv5 -i big -t it/mem -f "$WORK/big.bin" -d 2>&1)
if grep -q 'client "big" .*LIMIT-memory_limit: packet of 2000013 bytes .*DISCONNECT 0x97' "$LOG"; then
    ok "memory_limit 1000000: a 2 MB PUBLISH is refused on its header (DISCONNECT 0x97), logged"
else
    bad "memory_limit" "$(echo "$got" | tail -n 3 | tr '\n' ' ') / $(grep -m1 memory_limit "$LOG")"
fi
heap=$(bounded 30 "$MOSQ_SUB_BIN" -p "$PORT" -t '$SYS/broker/heap/current' -C 1 -W 5 2>&1)
case "$heap" in
    ''|*[!0-9]*) bad "\$SYS/broker/heap/current" "got: $heap" ;;
    *) [ "$heap" -lt 1000000 ] && ok "\$SYS/broker/heap/current: $heap bytes, under the limit" \
           || bad "\$SYS heap/current over the limit" "$heap" ;;
esac
stop_broker TERM

# ---- memory_limit is reloaded on SIGHUP (mosquitto.conf(5): "Reloaded on reload signal")
printf 'listener 0 127.0.0.1\nallow_anonymous true\n' > "$WORK/memhup.conf"
start_broker -c "$WORK/memhup.conf"
bounded 30 "$MOSQ_PUB_BIN" -p "$PORT" -V mqttv5 -i big1 -t it/mem -f "$WORK/big.bin" > /dev/null 2>&1
wait_for 10 grep -q 'client "big1" .*PUBLISH' "$LOG" && ! grep -q 'client "big1" .*LIMIT-memory_limit' "$LOG" \
    && ok "no memory_limit: a 2 MB PUBLISH is accepted" || bad "no memory_limit" "$(grep -m2 'big1' "$LOG" | tr '\n' ' ')"
printf 'listener 0 127.0.0.1\nallow_anonymous true\nmemory_limit 1000000\n' > "$WORK/memhup.conf"
kill -HUP "$BPID"
if wait_for 10 grep -q 'reload: memory_limit 1000000 (was 0)' "$LOG"; then
    bounded 30 "$MOSQ_PUB_BIN" -p "$PORT" -V mqttv5 -i big2 -t it/mem -f "$WORK/big.bin" > /dev/null 2>&1
    wait_for 10 grep -q 'client "big2" .*LIMIT-memory_limit: packet of 2000013 bytes .*DISCONNECT 0x97' "$LOG" \
        && ok "SIGHUP: memory_limit 1000000 reloaded and in force (the next 2 MB PUBLISH is refused)" \
        || bad "SIGHUP memory_limit not in force" "$(grep -m2 'big2' "$LOG" | tr '\n' ' ')"
else
    bad "SIGHUP: memory_limit not reloaded" "$(grep -m2 'reload' "$LOG" | tr '\n' ' ')"
fi
printf 'listener 0 127.0.0.1\nmemory_limit 12\n' > "$WORK/memhup.conf"
kill -HUP "$BPID"
wait_for 10 grep -q 'reload: .*memhup.conf:2.*keeping the options loaded before' "$LOG" \
    && ok "SIGHUP with a broken configuration: error naming FILE:LINE, options kept" \
    || bad "SIGHUP broken configuration" "$(grep 'reload' "$LOG" | tail -n 1)"
stop_broker TERM

# ---- configuration errors --------------------------------------------------------
printf 'port 1\nbogus_option 3\n' > "$WORK/bad.conf"
msg=$("$BROKER" -c "$WORK/bad.conf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$msg" | grep -q "bad.conf:2: unknown option 'bogus_option'" \
    && ok "unknown config option: exit 1 and FILE:LINE message" || bad "config error" "rc=$rc: $msg"
msg=$("$BROKER" -c "$WORK/missing.conf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$msg" | grep -q "missing.conf: cannot open" && ok "missing config file: clear error" \
    || bad "missing config" "rc=$rc: $msg"
printf 'listener 0 127.0.0.1\nallow_anonymous true\nmax_qos 1\n' > "$WORK/good.conf"
"$BROKER" -c "$WORK/good.conf" > "$WORK/good.out" 2> "$WORK/good.err" &
gpid=$!
if wait_for 10 grep -q '^listening on 127.0.0.1:' "$WORK/good.out"; then
    gport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/good.out")
    got=$(bounded 30 "$MOSQ_SUB_BIN" -p "$gport" -V mqttv5 -q 2 -t it/q -E -d 2>&1 | grep "Subscribed")
    kill -TERM $gpid; wait $gpid
    [ "$got" = "Subscribed (mid: 1): 1" ] && ok "config file: listener 0 127.0.0.1 and max_qos 1 (QoS 2 granted as 1)" || bad "config file" "$got"
else
    kill -9 $gpid; bad "broker with config file did not start" "$(cat "$WORK/good.err")"
fi

echo "broker-integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
