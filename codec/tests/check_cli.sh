#!/usr/bin/env bash
# Checks the mqtt-codec CLI end to end: good, invalid, truncated and usage-error
# inputs, asserting stdout, stderr and the exit status (0 valid, 1 invalid,
# 2 usage, 3 truncated), and that garbage never crashes it (the binary given
# is the ASan + UBSan build, so a crash or an undefined behaviour is a failure).
#   check_cli.sh path/to/mqtt-codec
# Prints "N passed, N failed" and exits non-zero when anything failed.
set -u
BIN=${1:?usage: check_cli.sh path/to/mqtt-codec}
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bounded.sh" # bounded: a deadline on every run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# run NAME WANT_RC STDIN_FILE ARGS... : runs one case, then expectations
# (out_is, out_has, err_has, out_empty) refine it and end closes it.
run() {
    name=$1 want=$2 input=$3
    shift 3
    bounded 30 "$BIN" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    why=""
    [ "$rc" = "$want" ] || why="exit status $rc, expected $want"
    if grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
        why="${why:+$why; }sanitizer report"
    fi
}
out_is() {
    [ "$(cat "$tmp/out")" = "$1" ] || why="${why:+$why; }stdout is not: $1"
}
out_has() {
    grep -qF -- "$1" "$tmp/out" || why="${why:+$why; }stdout lacks: $1"
}
err_has() {
    grep -qF -- "$1" "$tmp/err" || why="${why:+$why; }stderr lacks: $1"
}
out_empty() {
    [ ! -s "$tmp/out" ] || why="${why:+$why; }stdout is not empty"
}
end() {
    if [ -z "$why" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: $why"
        sed 's/^/  stdout: /' "$tmp/out" | head -n 20
        sed 's/^/  stderr: /' "$tmp/err" | head -n 20
    fi
}

empty=$tmp/empty
: >"$empty"
# stdin FILE TEXT: a file holding TEXT (printf escapes allowed), for stdin.
stdin() { printf "$2" >"$tmp/$1"; echo "$tmp/$1"; }

# ---- Valid input: exit 0, one line per packet ----------------------------

run publish-311-from-args 0 "$empty" decode --protocol 3.1.1 32 09 00 03 61 2f 62 00 0a 68 69
out_is '0: PUBLISH q1 id=10 r=0 topic="a/b" 2B "hi"'
end

run hex-case-and-spacing-ignored 0 "$empty" decode --protocol=3.1.1 '3209 0003' '612F62000A6869'
out_is '0: PUBLISH q1 id=10 r=0 topic="a/b" 2B "hi"'
end

# A captured client stream: CONNECT (3.1.1) sets the version for what follows.
in=$(stdin client-stream '10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 63 31\n30 07 00 03 61 2f 62 68 69\ne0 00\n')
run client-stream-follows-connect-version 0 "$in" decode
out_is '0: CONNECT v4 id="c1" clean=1 ka=60
16: PUBLISH q0 r=0 topic="a/b" 2B "hi"
25: DISCONNECT'
end

# A 5.0 CONNECT switches to 5.0: the DISCONNECT then carries a reason code.
run v5-connect-then-disconnect 0 "$empty" decode 10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63 e0 01 04
out_is '0: CONNECT v5 id="c" clean=1 ka=60
16: DISCONNECT rc=0x04 (Disconnect with Will Message)'
end

run v5-server-stream 0 "$empty" decode --protocol 5.0 --from server \
    20 03 00 00 00 40 03 00 0a 10 90 05 00 01 00 01 80 d0 00 e0 01 8e
out_is '0: CONNACK sp=0 rc=0x00 (Success)
5: PUBACK id=10 rc=0x10 (No matching subscribers)
10: SUBACK id=1 [0x01, 0x80]
17: PINGRESP
19: DISCONNECT rc=0x8e (Session taken over)'
end

run v5-subscribe-options 0 "$empty" decode --protocol 5.0 82 09 00 01 00 00 03 61 2f 23 2d
out_is '0: SUBSCRIBE id=1 ["a/#" q1 nl rap rh2]'
end

run v5-publish-properties 0 "$empty" decode --protocol 5.0 \
    32 16 00 03 61 2f 62 00 0a 0c 02 00 00 00 3c 26 00 01 6b 00 01 76 68 69
out_is '0: PUBLISH q1 id=10 r=0 topic="a/b" props{mei=60 up["k"="v"]} 2B "hi"'
end

run json-output 0 "$empty" decode --json --protocol 3.1.1 32 09 00 03 61 2f 62 00 0a 68 69 c0 00
out_is '{"offset":0,"type":"PUBLISH","version":"3.1.1","flags":2,"remaining_length":9,"length":11,"qos":1,"dup":false,"retain":false,"topic":"a/b","packet_id":10,"payload":"6869","payload_length":2,"payload_text":"hi"}
{"offset":11,"type":"PINGREQ","version":"3.1.1","flags":0,"remaining_length":0,"length":2}'
end

printf '\x32\x09\x00\x03\x61\x2f\x62\x00\x0a\x68\x69' >"$tmp/bin-publish"
run binary-stdin 0 "$tmp/bin-publish" decode --binary --protocol 3.1.1
out_is '0: PUBLISH q1 id=10 r=0 topic="a/b" 2B "hi"'
end

run mqtt-31-connect 0 "$empty" decode 10 10 00 06 4d 51 49 73 64 70 03 00 00 0a 00 02 63 31
out_is '0: CONNECT v3 id="c1" clean=0 ka=10'
end

# A topic longer than the CLI's first line buffer (4 KiB): printed whole.
long=$(printf '61%.0s' $(seq 1 5000))
run long-topic-printed-whole 0 "$empty" decode --protocol 3.1.1 30 8a 27 13 88 "$long"
out_has "topic=\"$(printf 'a%.0s' $(seq 1 5000))\" 0B"
end

run help 0 "$empty" --help
out_has 'usage: mqtt-codec decode'
end

run decode-help 0 "$empty" decode --help
out_has '--max-packet-size N'
end

# ---- Invalid packets: exit 1, class, rule, offset and reason named -----------

run qos3-is-malformed 1 "$empty" decode --protocol 3.1.1 36 09 00 03 61 2f 62 00 0a 68 69
out_empty
err_has 'invalid PUBLISH at offset 0 (MQTT 3.1.1, from client): malformed MQTT-3.3.1-4 at 0'
err_has '(reason 0x81 Malformed Packet)'
end

run packets-before-the-error-are-printed 1 "$empty" decode --protocol 5.0 c0 00 36 09 00 03 61 2f 62 00 0a 68 69
out_is '0: PINGREQ'
err_has 'invalid PUBLISH at offset 2 (MQTT 5.0, from client): malformed MQTT-3.3.1-4 at 2'
end

run connack-from-client-is-refused 1 "$empty" decode --protocol 3.1.1 --from client 20 02 00 00
err_has 'invalid CONNACK at offset 0'
err_has 'protocol error'
end

run no-version-before-connect-gives-a-hint 1 "$empty" decode 30 07 00 03 61 2f 62 68 69
err_has 'hint: no protocol version is known before a CONNECT'
end

run max-packet-size-is-a-limit 1 "$empty" decode --protocol 3.1.1 --max-packet-size 10 32 09 00 03 61 2f 62 00 0a 68 69
err_has 'invalid PUBLISH at offset 0'
err_has 'limit '
err_has '(reason 0x95 Packet too large)'
end

run json-error-object 1 "$empty" decode --json --protocol 3.1.1 36 09 00 03 61 2f 62 00 0a 68 69
out_has '{"offset":0,"error":{"class":"malformed","rule":"MQTT-3.3.1-4","version":"3.1.1","at":0,"reason_code":129,"message":'
end

# ---- Truncated input: exit 3 ------------------------------------------------

run truncated-body 3 "$empty" decode --protocol 3.1.1 32 09 00 03
out_empty
err_has 'input ends inside a packet: PUBLISH at offset 0 is 11 bytes, the input has 4 of them'
end

run truncated-fixed-header 3 "$empty" decode --protocol 3.1.1 32
err_has 'input ends inside the fixed header of the packet at offset 0 (1 byte)'
end

run truncated-after-valid-packets 3 "$empty" decode --protocol 3.1.1 c0 00 c0
out_is '0: PINGREQ'
err_has 'at offset 2'
end

# ---- Usage errors: exit 2 ------------------------------------------------------

run no-command 2 "$empty"
err_has 'missing command'
end

run unknown-command 2 "$empty" frobnicate
err_has "unknown command 'frobnicate'"
end

run unknown-option 2 "$empty" decode --bogus 00
err_has "unknown option '--bogus'"
end

run bad-protocol 2 "$empty" decode --protocol 4.0 c0 00
err_has "--protocol must be 3.1, 3.1.1 or 5.0, not '4.0'"
end

run bad-from 2 "$empty" decode --from broker c0 00
err_has "--from must be client or server, not 'broker'"
end

run option-without-value 2 "$empty" decode --protocol
err_has "option '--protocol' needs a value"
end

run bad-max-packet-size 2 "$empty" decode --max-packet-size 12k c0 00
err_has "--max-packet-size must be a number"
end

run non-hex-argument-names-position 2 "$empty" decode --protocol 3.1.1 c0 3g
out_empty
err_has "'g' at argument 2, column 2 is not a hex digit"
end

run odd-hex-digits-names-position 2 "$empty" decode --protocol 3.1.1 c0 0 0 1
err_has 'odd number of hex digits: the digit at argument 4, column 1 has no pair'
end

in=$(stdin bad-stdin '32 09\n00 0x\n')
run non-hex-stdin-names-line-and-column 2 "$in" decode --protocol 3.1.1
err_has "'x' at standard input line 2, column 5 is not a hex digit"
end

run empty-input 2 "$empty" decode --protocol 3.1.1
err_has 'no bytes to decode'
end

run binary-with-arguments 2 "$empty" decode --binary c0 00
err_has '--binary reads standard input'
end

# ---- Garbage never crashes: every outcome is 0, 1 or 3 ----------------------------

garbage_ok=1
for seed in $(seq 1 40); do
    LC_ALL=C awk -v s="$seed" 'BEGIN { srand(s); n = 1 + int(rand() * 64);
        for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' >"$tmp/garbage"
    for proto in 3.1.1 5.0; do
        bounded 30 "$BIN" decode --binary --protocol "$proto" <"$tmp/garbage" >/dev/null 2>"$tmp/err"
        rc=$?
        if { [ "$rc" != 0 ] && [ "$rc" != 1 ] && [ "$rc" != 3 ]; } ||
            grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
            garbage_ok=0
            echo "FAIL garbage seed $seed protocol $proto: exit $rc"
            head -n 20 "$tmp/err"
        fi
    done
done
if [ "$garbage_ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
