#!/usr/bin/env bash
# mqtt-pub / mqtt-sub against Debian's mosquitto_pub / mosquitto_sub.
#   check_cli.sh ABIN FAKE_BROKER
# ABIN holds the sanitized mqtt-pub, mqtt-sub and mqtt-broker (all required).
#
# Part 1, comparisons: each case is a short script of subscriber and publisher
# command lines. It runs once with mosquitto_sub + mosquitto_pub, once with
# mqtt-sub + mqtt-pub and, for the interop cases, with the mixed pairs
# (mqtt-pub -> broker -> mosquitto_sub, mosquitto_pub -> broker -> mqtt-sub);
# each run gets a fresh broker: Debian's mosquitto on a free port with a
# generated config, then our mqtt-broker. Everything the clients print
# (stdout, stderr, exit codes) must be the same bytes, after masking what
# legitimately varies (clock, broker-assigned ids, program names).
# Part 2, bad input and bad peers (a scripted fake broker): clear message,
# the exit code mosquitto's clients give, no hang.
#
# Synchronisation is by condition with a deadline: a publisher starts only
# once the broker's log shows the SUBACK to that subscriber's client id.
set -u

ABIN=${1:?usage: check_cli.sh ABIN FAKE_BROKER}
FAKE=${2:?usage: check_cli.sh ABIN FAKE_BROKER}
OUR_PUB=$ABIN/mqtt-pub
OUR_SUB=$ABIN/mqtt-sub
OUR_BROKER=$ABIN/mqtt-broker
MOSQ_PUB=$(command -v mosquitto_pub)
MOSQ_SUB=$(command -v mosquitto_sub)
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port
for f in "$OUR_PUB" "$OUR_SUB" "$OUR_BROKER" "$FAKE" "$MOSQ_PUB" "$MOSQ_SUB" "$MOSQUITTO"; do
    [ -x "$f" ] || { echo "check_cli: missing $f"; echo "tools-cli: 0 passed, 1 failed"; exit 1; }
done

WORK=$(mktemp -d /tmp/tools-cli.XXXXXX)
export XDG_CONFIG_HOME=$WORK/xdg HOME=$WORK/home TZ=UTC LC_ALL=C
mkdir -p "$XDG_CONFIG_HOME" "$HOME"
PASSED=0
FAILED=0
FAILED_NAMES=""
BPID=""
BPORT=""
BLOG=""
BKIND=""
BSTARTS=0

cleanup() {
    stop_broker
    jobs -p | while read -r p; do kill "$p" 2>/dev/null; done
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "check_cli: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
ko() {
    FAILED=$((FAILED + 1)); FAILED_NAMES="$FAILED_NAMES $1"; echo "FAIL $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /' | head -40
    return 0
}

# wait_until SECONDS CMD...: polls CMD every 20 ms until it succeeds or the deadline passes.
wait_until() {
    local limit=$1; shift
    local end=$(($(date +%s%N) / 1000000 + limit * 1000))
    until "$@"; do
        [ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
        sleep 0.02
    done
}

# ---- brokers --------------------------------------------------------------

mosq_running() { grep -q "mosquitto version .* running" "$BLOG" 2>/dev/null || ! kill -0 "$BPID" 2>/dev/null; }

# start_mosquitto [CONFIG LINES...]: Debian's mosquitto on a free port.
start_mosquitto() {
    local attempt conf=$WORK/mosquitto.conf
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        BPORT=${FIXED_PORT:-$(free_port)} || exit 1
        BSTARTS=$((BSTARTS + 1))
        BLOG=$WORK/broker.$BSTARTS.log # a new file each time: old lines must not satisfy a wait
        {
            # Started as root, mosquitto drops to user mosquitto, which cannot read our files.
            [ "$(id -u)" = 0 ] && echo "user root"
            echo "listener $BPORT 127.0.0.1"
            echo "allow_anonymous true"
            echo "persistence false"
            echo "log_dest file $BLOG"
            echo "log_type all"
            printf '%s\n' "$@"
        } > "$conf"
        "$MOSQUITTO" -c "$conf" > "$WORK/mosquitto.out" 2>&1 &
        BPID=$!
        BKIND=mosquitto
        wait_until 10 mosq_running
        if kill -0 "$BPID" 2>/dev/null && grep -q "running" "$BLOG"; then return 0; fi
        wait "$BPID" 2>/dev/null
    done
    echo "check_cli: cannot start mosquitto" >&2
    cat "$WORK/mosquitto.out" >&2
    exit 1
}

ours_running() { grep -q "^listening on" "$BLOG" 2>/dev/null || ! kill -0 "$BPID" 2>/dev/null; }

start_ours() {
    BSTARTS=$((BSTARTS + 1))
    BLOG=$WORK/ourbroker.$BSTARTS.log
    "$OUR_BROKER" -p "${FIXED_PORT:-0}" -v > "$BLOG" 2>&1 &
    BPID=$!
    BKIND=ours
    wait_until 10 ours_running
    BPORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$BLOG" | head -n 1)
    [ -n "$BPORT" ] || { echo "check_cli: mqtt-broker did not start" >&2; cat "$BLOG" >&2; exit 1; }
}

stop_broker() {
    if [ -n "$BPID" ]; then
        kill "$BPID" 2>/dev/null
        wait "$BPID" 2>/dev/null
        BPID=""
    fi
}

# A new broker of the same kind on the same port (clients reconnect to it).
restart_broker() {
    local kind=$BKIND
    stop_broker
    if [ "$kind" = mosquitto ]; then FIXED_PORT=$BPORT start_mosquitto; else FIXED_PORT=$BPORT start_ours; fi
}

# How many SUBACKs the broker has sent to client id $1 (from its log).
suback_count() {
    if [ "$BKIND" = mosquitto ]; then
        grep -c "Sending SUBACK to $1\$" "$BLOG"
    else
        grep -c "client \"$1\" .*-> SUBACK" "$BLOG"
    fi
}

# ---- the case language ------------------------------------------------------
# Inside a case: $SUB and $PUB are the tools of this run, $BPORT the broker.
#   sub ID ARGS...        start a subscriber with client id ID, wait for its SUBACK
#   sub_nowait ID ARGS... start a subscriber without waiting
#   sub_end ID            wait for it to exit (20 s at most), record its output
#   sub_kill ID SIGNAL    send it a signal
#   pub ARGS...           run a publisher, record its output
#   pub_in FILE ARGS...   same, with standard input from FILE
# The transcript of the run is $T.

declare -A SPID
sub_start() {
    local id=$1; shift
    "$SUB" -p "$BPORT" -i "$id" "$@" > "$RUN/sub.$id.out" 2> "$RUN/sub.$id.err" &
    SPID[$id]=$!
}
sub_nowait() { sub_start "$@"; }
subscribed() { [ "$(suback_count "$1")" -gt "$2" ] || ! kill -0 "${SPID[$1]}" 2>/dev/null; }
sub() {
    local id=$1 before
    before=$(suback_count "$id")
    sub_start "$@"
    wait_until 10 subscribed "$id" "$before" || echo "sub $id: no SUBACK within 10 s" >> "$T"
}
sub_kill() { kill "-$2" "${SPID[$1]}" 2>/dev/null; }
sub_gone() { ! kill -0 "${SPID[$1]}" 2>/dev/null; }
sub_end() {
    local id=$1 rc
    if ! wait_until 20 sub_gone "$id"; then
        echo "sub $id: still running after 20 s (hang)" >> "$T"
        kill -9 "${SPID[$id]}" 2>/dev/null
    fi
    wait "${SPID[$id]}" 2>/dev/null
    rc=$?
    {
        echo "--- sub $id exit $rc"
        cat "$RUN/sub.$id.out"
        echo "--- sub $id stderr"
        cat "$RUN/sub.$id.err"
    } >> "$T"
}
record_pub() {
    {
        echo "--- pub exit $1"
        cat "$RUN/pub.out"
        echo "--- pub stderr"
        cat "$RUN/pub.err"
    } >> "$T"
}
pub() {
    # A publisher gets 30 s: a hang shows in the transcript as exit 124, named by its case.
    timeout 30 "$PUB" -p "$BPORT" "$@" > "$RUN/pub.out" 2> "$RUN/pub.err" < /dev/null
    record_pub $?
}
pub_in() {
    local file=$1; shift
    timeout 30 "$PUB" -p "$BPORT" "$@" > "$RUN/pub.out" 2> "$RUN/pub.err" < "$file"
    record_pub $?
}

# What may differ between runs: the clock, ids the broker or libmosquitto make up, program names.
normalize() {
    sed -E -e 's/mosquitto_(pub|sub)/\1/g; s/mqtt-(pub|sub)/\1/g' \
        -e 's/auto-[0-9A-Fa-f-]+/auto-ID/g; s/mosq-[A-Za-z0-9]{18}/mosq-ID/g' \
        -e 's/"tst":[[:space:]]*"[^"]*"/"tst":"TIME"/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}/ISOTIME/g' \
        -e 's/[0-9]{10}\.[0-9]{9}/UNIXTIME/g; s/<[0-9]{9}>/<NS>/g; s/<[0-9]{4}-[0-9]{2}>/<YM>/g' "$1"
}

TOOLSETS_ALL="mosq ours xpub xsub"
# run_case NAME FLAGS FUNCTION: FLAGS "x" adds the mixed pairs, "m" runs on mosquitto only,
# "a" uses an anonymous-refusing mosquitto, "l" a mosquitto with an ACL (write only to allowed/#).
run_case() {
    local name=$1 flags=$2 fn=$3 broker toolsets ts base
    # ONLY="case names" runs just those (for development).
    [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && return
    for broker in mosquitto ours; do
        if [ "$broker" = ours ]; then
            [[ $flags == *m* || $flags == *a* || $flags == *l* ]] && continue
        fi
        toolsets="mosq ours"
        [[ $flags == *x* ]] && toolsets=$TOOLSETS_ALL
        base=""
        for ts in $toolsets; do
            case $ts in
            mosq) SUB=$MOSQ_SUB PUB=$MOSQ_PUB ;;
            ours) SUB=$OUR_SUB PUB=$OUR_PUB ;;
            xpub) SUB=$MOSQ_SUB PUB=$OUR_PUB ;;
            xsub) SUB=$OUR_SUB PUB=$MOSQ_PUB ;;
            esac
            RUN=$WORK/$name.$broker.$ts
            T=$RUN/transcript
            mkdir -p "$RUN"
            : > "$T"
            if [ "$broker" = mosquitto ]; then
                if [[ $flags == *a* ]]; then start_mosquitto "allow_anonymous false"
                elif [[ $flags == *l* ]]; then start_mosquitto "acl_file $WORK/acl"
                else start_mosquitto; fi
            else
                start_ours
            fi
            "$fn"
            stop_broker
            normalize "$T" > "$T.norm"
            if [ -z "$base" ]; then
                base=$T.norm
            elif cmp -s "$base" "$T.norm"; then
                ok "$name [$broker: $ts = mosq]"
            else
                ko "$name [$broker: $ts = mosq]" "$(diff -a -u "$base" "$T.norm" | cat -A | cut -c1-160 | head -30)"
            fi
        done
    done
}

# ---- part 1: the same command lines, the same output -------------------------

case_plain() {
    sub s1 -t 'c/#' -C 3 -W 10
    pub -t c/1 -m one
    pub -t c/2 -n
    pub -t c/3 -m three
    pub -t c/4 -m "four with spaces"
    sub_end s1
}

case_verbose_and_no_eol() {
    sub s1 -t 'v/#' -C 3 -W 10 -v
    sub s2 -t 'v/#' -C 3 -W 10 -N
    sub s3 -t 'v/#' -C 3 -W 10 -N -v
    pub -t v/1 -m one
    pub -t v/2 -n
    pub -t v/3 -m three
    sub_end s1
    sub_end s2
    sub_end s3
}

FMT_ALL='%t|%p|%q|%r|%m|%l|%x|%X|%%|%10t|%-10t|%.2t|%5.1t|%20p|%-20p|%020p|%08x|%3x|%-8X|%05l|%-5l|%3q|%5r|%05m|%3p|%-p|%A|%C|%D|%E|%F|%P|%R|%S|\t\\\e@@\0.'
case_format() {
    pub -t f/r -m retained-msg -r -q 1
    sub s1 -t 'f/#' -C 3 -W 10 -q 2 -F "$FMT_ALL"
    sub s2 -t 'f/#' -C 3 -W 10 -q 2 -N -F '[%t:%p]'
    pub -t f/1 -m "q1 message" -q 1
    pub -t f/2 -m "q2" -q 2
    sub_end s1
    sub_end s2
}

case_time_formats() {
    sub s1 -t 'tf/#' -C 1 -W 10 -F '%I|%U|<@Y-@m>|<@N>|@@|%20I|%.4I'
    pub -t tf/1 -m x
    sub_end s1
}

case_json() {
    printf '\x00\x01binary\xff' > "$RUN/bin"
    sub s1 -t 'j/#' -C 5 -W 10 -q 1 -F '%j'
    sub s2 -t 'j/#' -C 5 -W 10 -q 1 -F '%J'
    sub s3 -t 'j/#' -C 5 -W 10 -q 1 -F '%J' --pretty
    sub s4 -t 'j/#' -C 5 -W 10 -q 1 -F '%j' --pretty
    pub -t j/obj -m '{"a": [1, 2.5, "x", {"b": null}], "c": true, "d": "\u00e9"}' -q 1
    pub -t j/num -m '[1e10, -0, 0.1, 3.141592653589793]'
    pub -t j/text -m 'not "json" \ at all'
    pub -t j/bin -f "$RUN/bin"
    pub -t j/empty -n
    sub_end s1
    sub_end s2
    sub_end s3
    sub_end s4
}

case_v5_properties() {
    sub s1 -t 'p5/#' -C 2 -W 10 -V 5 -F '%t|%C|%R|%D|%F|%P|%A|%E'
    sub s2 -t 'p5/#' -C 2 -W 10 -V 5 -F '%j'
    # Ascending property ids: both publishers then send the same order (see README, %j).
    pub -t p5/1 -m props -V 5 -D publish payload-format-indicator 1 -D publish content-type text/x \
        -D publish response-topic r/t -D publish correlation-data cd1 \
        -D publish user-property k1 v1 -D publish user-property k2 v2
    pub -t p5/2 -m none -V 5
    sub_end s1
    sub_end s2
}

# mosquitto forwards the Subscription Identifier before the publisher's properties; mqtt-sub
# prints them in that fixed order (the codec does not report wire order), so only against mosquitto.
case_v5_subscription_identifier() {
    sub s1 -t 'si/#' -C 2 -W 10 -V 5 -F '%j|%S' -D subscribe subscription-identifier 7
    pub -t si/1 -m props -V 5 -D publish payload-format-indicator 1 -D publish content-type text/x \
        -D publish user-property k1 v1
    pub -t si/2 -m none -V 5
    sub_end s1
}

case_retained() {
    pub -t r/a -m A -r -q 1
    pub -t r/b -m B -r
    sub s1 -t 'r/#' -C 3 -W 10 -F '%t %p %r'
    sub s2 -t 'r/#' -C 1 -W 10 -R -v
    sub s3 -t 'r/#' -C 1 -W 10 -R -v -V 5
    sub s4 -t 'r/#' -W 10 --retained-only -v
    pub -t r/live -m live
    sub_end s1
    sub_end s2
    sub_end s3
    sub_end s4
    pub -t r/a -n -r
    sub s5 -t 'r/#' -C 1 -W 10 -v
    pub -t r/c -m after-delete
    sub_end s5
}

case_filter_out() {
    sub s1 -t 'a/#' -T a/skip -T 'a/+/deep' -C 2 -W 10 -v
    pub -t a/skip -m 1
    pub -t a/x/deep -m 2
    pub -t a/x -m 3
    pub -t a/y -m 4
    sub_end s1
}

case_unsubscribe() {
    sub s1 -c -q 1 -t 'u/#' -E
    sub_end s1
    sub s1 -c -q 1 -t v -U 'u/#' -E -d
    sub_end s1
    pub -q 1 -t u/1 -m gone
    pub -q 1 -t v -m kept
    sub s1 -c -q 1 -t v -C 1 -W 10 -v
    sub_end s1
}

case_exit_after_subscribe() {
    sub s1 -E -d -q 2 -t x -t 'y/+' -U z
    sub_end s1
    sub s2 -E -d -q 1 -t x -V 5 -R -D subscribe user-property a b
    sub_end s2
}

case_persistent_session() {
    sub P -c -q 2 -t 'p/#' -E
    sub_end P
    pub -t p/1 -m q1msg -q 1
    pub -t p/2 -m q2msg -q 2
    sub P -c -q 2 -t 'p/#' -C 2 -W 10 -d -v
    sub_end P
    sub P5 -c -q 2 -t 'p5/#' -E -V 5
    sub_end P5
    pub -t p5/1 -m one -q 1
    pub -t p5/2 -m two -q 2
    sub P5 -c -q 2 -t 'p5/#' -C 2 -W 10 -V 5 -d -v
    sub_end P5
}

case_qos_debug() {
    sub S -q 2 -C 3 -W 10 -d -v -t 'q/#'
    pub -d -i P0 -q 0 -t q/0 -m zero
    pub -d -i P1 -q 1 -t q/1 -m one
    pub -d -i P2 -q 2 -t q/2 -m two -r
    sub_end S
    pub -t q/2 -n -r
}

case_versions() {
    local v
    for v in 31 311 5 mqttv31 mqttv311 mqttv5; do
        sub "S$v" -V "$v" -q 1 -C 1 -W 10 -d -t "ver/$v"
        pub -V "$v" -d -i "P$v" -q 1 -t "ver/$v" -m "version $v"
        sub_end "S$v"
    done
    sub S -V 5 -E -d -t x
    sub_end S
    pub -V 5 -d -t x -m no-id
    pub -V 31 -d -t x -m random-id
    pub -V 311 -d -t x -m empty-id
}

case_stdin_lines() {
    { printf 'one\ntwo\r\n'; head -c 3000 /dev/zero | tr '\0' a; printf '\nlast-without-newline'; } > "$RUN/lines"
    sub s1 -t 'l/#' -C 8 -W 10 -q 1 -F '%t %l %.10p'
    # -d only at QoS 0: with acknowledgements, mosquitto_pub's two threads order the lines differently each run.
    pub_in "$RUN/lines" -t l/0 -l -d -i L
    pub_in "$RUN/lines" -t l/1 -l -q 1
    sub_end s1
}

head -c 70000 /dev/urandom > "$WORK/rand"
printf '\x00nul\x00\n\xff' > "$WORK/small"
case_binary_payloads() {
    sub s1 -t 'b/#' -C 3 -W 10 -N -q 1
    sub s2 -t 'b/#' -C 3 -W 10 -F '%l %.8x' -q 1
    pub -t b/file -f "$WORK/rand" -q 1
    pub_in "$WORK/small" -t b/stdin -s -q 1
    pub -t b/empty -f /dev/null -q 1
    sub_end s1
    sub_end s2
    cmp -s "$WORK/rand" <(head -c 70000 "$RUN/sub.s1.out") && echo "random file intact" >> "$T"
}

case_repeat() {
    sub s1 -t 'rp/#' -C 6 -W 10 -v
    pub -t rp/1 -m again --repeat 3 --repeat-delay 0.05 -d -i R
    # With a Topic Alias, only the first PUBLISH carries the topic.
    pub -t rp/alias -m aliased --repeat 3 -V 5 -D publish topic-alias 1 -d -i A
    sub_end s1
}

case_will() {
    sub W -t 'w/#' -C 2 -W 10 -v
    sub victim -t dummy --will-topic w/1 --will-payload bye --will-qos 1
    sub_kill victim 9
    wait "${SPID[victim]}" 2>/dev/null
    sub victim5 -t dummy -V 5 --will-topic w/2 --will-payload bye5 -W 1
    sub_end victim5
    sub_end W
}

case_url() {
    sub s1 -L "mqtt://127.0.0.1:$BPORT/url/#" -C 1 -W 10 -v
    pub -L "mqtt://127.0.0.1:$BPORT/url/t" -m via-url
    sub_end s1
}

case_timeout() {
    sub s1 -t nothing -C 5 -W 1 -v
    sub_end s1
}

case_keepalive() {
    sub K -t k -k 5 -W 6 -d
    sub_end K
}

printf 'topic read #\ntopic write allowed/#\n' > "$WORK/acl"
case_publish_denied() {
    sub s1 -t '#' -C 1 -W 10 -v
    pub -t denied/x -m x -q 1 -d -i p1 -V 5
    pub -t denied/x -m x -q 2 -d -i p2 -V 5
    pub -t allowed/x -m ok -q 2 -d -i p3 -V 5
    sub_end s1
}

case_reconnect() {
    sub R -t rc -q 1 -C 2 -W 30 -v
    pub -t rc -m before -q 1
    restart_broker
    wait_until 15 subscribed R 0 || echo "sub R did not resubscribe within 15 s" >> "$T"
    pub -t rc -m after -q 1
    sub_end R
}

case_refused() {
    pub -t a -m x
    pub -t a -m x -V 5
    pub -t a -m x -V 31 -i x31
    sub_nowait R3 -t a
    sub_end R3
    sub_nowait R5 -t a -V 5 -d
    sub_end R5
}

case_remove_retained() {
    pub -t x/1 -m one -r
    pub -t x/2 -m two -r
    # (no -C: mosquitto_sub 2.0.11 then never exits, see README)
    sub s1 -t 'x/#' --remove-retained -W 1 -v
    sub_end s1
    sub s2 -t 'x/#' -C 1 -W 10 -v
    pub -t x/3 -m live
    sub_end s2
}

run_case plain "x" case_plain
run_case verbose-and-no-eol "" case_verbose_and_no_eol
run_case format-specifiers "x" case_format
run_case time-formats "" case_time_formats
run_case json "" case_json
run_case v5-properties "x" case_v5_properties
run_case v5-subscription-identifier "m" case_v5_subscription_identifier
run_case retained "" case_retained
run_case filter-out "" case_filter_out
run_case unsubscribe "" case_unsubscribe
run_case exit-after-subscribe "" case_exit_after_subscribe
run_case persistent-session "x" case_persistent_session
run_case qos-debug "x" case_qos_debug
run_case versions "" case_versions
run_case stdin-lines "x" case_stdin_lines
run_case binary-payloads "x" case_binary_payloads
run_case repeat "" case_repeat
run_case will "" case_will
run_case url "" case_url
run_case timeout "" case_timeout
run_case keepalive "m" case_keepalive
run_case refused "a" case_refused
run_case reconnect "" case_reconnect
run_case publish-denied "l" case_publish_denied
run_case remove-retained "" case_remove_retained

# ---- part 2: bad input, bad peers ---------------------------------------------
if [ -n "${ONLY:-}" ]; then
    echo "tools-cli: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit
fi

# expect NAME WANT_RC PATTERN CMD...: CMD exits WANT_RC within 30 s and its stderr matches PATTERN.
expect() {
    local name=$1 want=$2 pattern=$3; shift 3
    local out=$WORK/expect.out err=$WORK/expect.err rc
    timeout 30 "$@" > "$out" 2> "$err" < /dev/null
    rc=$?
    if [ "$rc" != "$want" ]; then
        ko "$name" "exit $rc, wanted $want; stderr: $(cat "$err")"
    elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$err"; then
        ko "$name" "stderr does not match /$pattern/: $(cat "$err")"
    else
        ok "$name"
    fi
}

# same_stderr NAME ARGS...: mosquitto's and our tool (pub or sub, from ARGS[0]) exit the same way
# with the same stderr (program names masked).
same_error() {
    local name=$1 tool=$2; shift 2
    local m o rm ro
    if [ "$tool" = pub ]; then m=$MOSQ_PUB; o=$OUR_PUB; else m=$MOSQ_SUB; o=$OUR_SUB; fi
    timeout 30 "$m" "$@" > /dev/null 2> "$WORK/m.err" < /dev/null; rm=$?
    timeout 30 "$o" "$@" > /dev/null 2> "$WORK/o.err" < /dev/null; ro=$?
    if [ "$rm" != "$ro" ]; then
        ko "$name" "exit $ro, mosquitto's $rm; stderr: $(cat "$WORK/o.err")"
    elif ! cmp -s <(normalize "$WORK/m.err") <(normalize "$WORK/o.err"); then
        ko "$name" "$(diff -u <(normalize "$WORK/m.err") <(normalize "$WORK/o.err"))"
    else
        ok "$name"
    fi
}

# A fake broker for one connection; FPORT is its port.
fake() {
    coproc FAKEP { exec "$FAKE" "$1"; }
    FPID=$FAKEP_PID
    read -r -t 10 FPORT <&"${FAKEP[0]}" || { echo "check_cli: fake broker did not start" >&2; exit 1; }
}
fake_done() { wait "$FPID" 2>/dev/null; }

# same_rc NAME PATTERN TOOL ARGS...: exits as mosquitto's tool does; our stderr matches PATTERN.
same_rc() {
    local name=$1 pattern=$2 tool=$3; shift 3
    local m o rm ro
    if [ "$tool" = pub ]; then m=$MOSQ_PUB; o=$OUR_PUB; else m=$MOSQ_SUB; o=$OUR_SUB; fi
    timeout 30 "$m" "$@" > /dev/null 2> "$WORK/m.err" < /dev/null; rm=$?
    timeout 30 "$o" "$@" > /dev/null 2> "$WORK/o.err" < /dev/null; ro=$?
    if [ "$rm" != "$ro" ]; then
        ko "$name" "exit $ro, mosquitto's $rm; stderr: $(cat "$WORK/o.err")"
    elif ! grep -qE -- "$pattern" "$WORK/o.err"; then
        ko "$name" "stderr does not match /$pattern/: $(cat "$WORK/o.err")"
    else
        ok "$name"
    fi
}

# Options and arguments: the same messages and exit codes as mosquitto's clients.
same_error "unknown option (pub)" pub --bogus
same_error "unknown option (sub)" sub -t a --bogus
same_error "sub option given to pub" pub -t a -m x -v
same_error "missing topic (sub)" sub -p 1
same_error "missing topic and message (pub)" pub -p 1 -m x
same_error "QoS 3 (pub)" pub -t a -m x -q 3
same_error "QoS 3 (sub)" sub -t a -q 3
same_error "will QoS 3" pub -t a -m x --will-topic w --will-qos 3
same_error "publish topic with wildcard" pub -t 'a/#' -m x
same_error "bad subscription filter" sub -t 'a/#/b'
same_error "bad filter-out" sub -t a -T 'a+'
same_error "two message sources" pub -t a -m x -n
same_error "missing option value" pub -t
same_error "bad protocol version" sub -t a -V 6
same_error "keepalive too small" sub -t a -k 4
same_error "persistent session without id" sub -t a -c
same_error "infinite session without id" sub -t a -V 5 -c
same_error "-R with --retained-only" sub -t a -R --retained-only
same_error "format: bad specifier" sub -t a -F '%Z'
same_error "format: incomplete" sub -t a -F 'x%'
same_error "format: bad escape" sub -t a -F '\q'
same_error "will payload without topic" sub -t a --will-payload x
same_error "property not allowed" pub -t a -m x -D publish session-expiry-interval 5
same_error "property out of range" pub -t a -m x -D publish payload-format-indicator 300
same_error "property value forbidden" pub -t a -m x -D connect receive-maximum 0
same_error "property twice" pub -t a -m x -D publish content-type a -D publish content-type b
same_error "-x not a number" sub -t a -x abc
same_error "URL without topic" pub -L mqtt://localhost:1883 -m x
same_error "empty standard input with -s" pub -t a -s
expect "unknown property name says which" 1 "Invalid property name foo" "$OUR_PUB" -t a -m x -D publish foo 1
expect "unreadable file" 1 'Unable to open file "/nonexistent/f": No such file' "$OUR_PUB" -t a -f /nonexistent/f
expect "directory as file" 1 'Unable to read file "/tmp": Is a directory' "$OUR_PUB" -t a -f /tmp
expect "help (sub)" 1 "" "$OUR_SUB" --help
expect "help (pub)" 1 "" "$OUR_PUB" --help
head -n 1 "$WORK/expect.out" | grep -q "^mqtt-pub is a simple mqtt client" && ok "help text" || ko "help text"
expect "properties then -V 311" 1 "need MQTT v5" "$OUR_PUB" -t a -m x -D publish user-property k v -V 311

# Unreachable brokers.
same_rc "connection refused (pub)" "^Error: connect 127.0.0.1:1: Connection refused$" pub -h 127.0.0.1 -p 1 -t a -m x
same_rc "connection refused (sub)" "^Error: connect 127.0.0.1:1: Connection refused$" sub -h 127.0.0.1 -p 1 -t a
same_rc "unknown host (pub)" "nonexistent.invalid" pub -h nonexistent.invalid -t a -m x
same_rc "unknown host (sub)" "nonexistent.invalid" sub -h nonexistent.invalid -t a
expect "--quiet silences errors" 1 "" "$OUR_PUB" --quiet -h 127.0.0.1 -p 1 -t a -m x
[ -s "$WORK/expect.err" ] && ko "--quiet prints nothing" "$(cat "$WORK/expect.err")" || ok "--quiet prints nothing"

# Bad peers (fake broker): what mosquitto's clients say, or better where they hang.
for tool in mosq ours; do
    [ $tool = mosq ] && P=$MOSQ_PUB || P=$OUR_PUB
    fake close-on-publish
    expect "broker closes mid-publish, QoS 1 ($tool)" 7 "The connection was lost" "$P" -p "$FPORT" -t a -m x -q 1
    fake_done
    fake close-before-connack
    expect "broker closes before CONNACK ($tool)" 7 "The connection was lost" "$P" -p "$FPORT" -t a -m x
    fake_done
    fake refuse:5
    expect "CONNACK refused, 3.1.1 ($tool)" 5 "^Connection error: Connection Refused: not authorised.$" "$P" -p "$FPORT" -t a -m x
    fake_done
    fake refuse:2
    expect "CONNACK refused, 3.1 ($tool)" 2 "Connection Refused: identifier rejected." "$P" -p "$FPORT" -t a -m x -V 31 -i x
    fake_done
    fake refuse:0x86
    expect "CONNACK refused, 5.0 ($tool)" 134 "^Connection error: Bad User Name or Password$" "$P" -p "$FPORT" -t a -m x -V 5
    fake_done
    fake refuse:0x84
    expect "CONNACK unsupported version ($tool)" 132 "Try connecting to an MQTT v5 broker" "$P" -p "$FPORT" -t a -m x -V 5
    fake_done
    [ $tool = mosq ] && S=$MOSQ_SUB || S=$OUR_SUB
    fake refuse:4
    expect "CONNACK refused, sub ($tool)" 4 "bad user name or password" "$S" -p "$FPORT" -t a
    fake_done
    fake deny-subscribe
    expect "all subscriptions denied ($tool)" 0 "^All subscription requests were denied.$" "$S" -p "$FPORT" -t a -t b
    fake_done
done
fake close-before-connack
expect "sub: broker closes before CONNACK" 7 "The connection was lost" "$OUR_SUB" -p "$FPORT" -t a
fake_done
fake garbage
expect "broker sends garbage" 2 "MQTT-2" "$OUR_PUB" -p "$FPORT" -t a -m x -q 1
fake_done
fake garbage
expect "sub: broker sends garbage" 2 "MQTT-2" "$OUR_SUB" -p "$FPORT" -t a
fake_done
fake disconnect:0x8E
expect "broker sends DISCONNECT" 7 "Session taken over" "$OUR_PUB" -p "$FPORT" -t a -m x -q 1 -V 5
fake_done
# A wrong ack for a QoS 2 PUBLISH is a protocol error at once (3.1.1
# MQTT-4.3.3-1, 5.0 MQTT-4.3.3-3), not a wait for the keepalive (60 s).
for v in 311 5; do
    [ $v = 5 ] && rule=MQTT-4.3.3-3 || rule=MQTT-4.3.3-1
    fake qos2-puback
    start=$(date +%s)
    expect "QoS 2 answered with PUBACK, $v: protocol error" 2 "sent PUBACK for the QoS 2 PUBLISH .*awaiting PUBREC \\($rule" \
        "$OUR_PUB" -p "$FPORT" -t a -m x -q 2 -V $v
    [ $(($(date +%s) - start)) -le 5 ] && ok "QoS 2 answered with PUBACK, $v: fails at once" ||
        ko "QoS 2 answered with PUBACK, $v: fails at once" "took $(($(date +%s) - start)) s"
    kill "$FPID" 2>/dev/null; fake_done
done
fake qos2-pubcomp
expect "QoS 2 answered with PUBCOMP before PUBREC: protocol error" 2 "sent PUBCOMP for the QoS 2 PUBLISH .*awaiting PUBREC \\(MQTT-4.3.3-1" \
    "$OUR_PUB" -p "$FPORT" -t a -m x -q 2
kill "$FPID" 2>/dev/null; fake_done
fake silent
start=$(date +%s)
expect "silent broker: keepalive timeout" 19 "no answer from the broker within 5 seconds" "$OUR_PUB" -p "$FPORT" -t a -m x -k 5
[ $(($(date +%s) - start)) -le 8 ] && ok "silent broker gives up within the keepalive" || ko "silent broker gives up within the keepalive"
kill "$FPID" 2>/dev/null; fake_done
fake silent
expect "sub: -W before CONNACK" 27 "^Timed out$" "$OUR_SUB" -p "$FPORT" -t a -W 1
kill "$FPID" 2>/dev/null; fake_done
fake ack-then-close:2
printf 'l1\nl2\nl3\nl4\nl5\n' > "$WORK/five"
timeout 30 "$OUR_PUB" -p "$FPORT" -t a -l -q 1 < "$WORK/five" > /dev/null 2> "$WORK/l.err"
rc=$?
if [ $rc = 7 ] && grep -q "standard input were sent" "$WORK/l.err"; then ok "-l: connection lost is reported with the lines"; \
    else ko "-l: connection lost is reported with the lines" "exit $rc: $(cat "$WORK/l.err")"; fi
fake_done

# Large inputs through a real broker: nothing lost, nothing changed.
start_mosquitto
seq 1 3000 | sed 's/^/line /' > "$WORK/many"
printf 'a\n\n\nb\n\n' >> "$WORK/many"
SUB=$OUR_SUB RUN=$WORK T=$WORK/lines.t
sub bulk -t bulk -q 1 -C 3002 -W 30
timeout 60 "$OUR_PUB" -p "$BPORT" -t bulk -q 1 -l < "$WORK/many" 2> "$WORK/bulk.err"
prc=$?
wait_until 30 sub_gone bulk
if [ $prc = 0 ] && cmp -s <(grep -v '^$' "$WORK/many") "$RUN/sub.bulk.out"; then
    ok "-l: 3000 lines at QoS 1 arrive in order, empty lines skipped"
else
    ko "-l: 3000 lines at QoS 1 arrive in order, empty lines skipped" \
       "pub exit $prc $(cat "$WORK/bulk.err"); $(wc -l < "$RUN/sub.bulk.out") lines received"
fi
head -c 300000 /dev/urandom > "$WORK/big"
sub big -t big -C 2 -N -W 30
timeout 30 "$OUR_PUB" -p "$BPORT" -t big -f "$WORK/big" -q 2
timeout 30 "$OUR_PUB" -p "$BPORT" -t big -s -q 1 < "$WORK/big"
wait_until 30 sub_gone big
if cmp -s <(cat "$WORK/big" "$WORK/big") "$RUN/sub.big.out"; then ok "-f and -s: 300 KB of random bytes arrive exactly"
else ko "-f and -s: 300 KB of random bytes arrive exactly" "$(wc -c < "$RUN/sub.big.out") bytes received"; fi
stop_broker

echo "tools-cli: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || echo "failed:$FAILED_NAMES"
[ "$FAILED" -eq 0 ]
