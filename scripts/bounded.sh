# bounded.sh: deadlines for the foreground client runs of the shell suites.
# Source it, then `bounded SECONDS COMMAND...`; it also makes `mosquitto_pub`
# bounded (30 s) and sets MOSQ_PUB_BIN / MOSQ_SUB_BIN for direct, bounded use.
#
# Every foreground client run has a deadline: a broker that never answers fails
# the check that ran it, with the command named, instead of hanging the suite.
MOSQ_PUB_BIN=$(command -v mosquitto_pub) MOSQ_SUB_BIN=$(command -v mosquitto_sub)
bounded() { # SECONDS COMMAND...
    local s=$1 rc; shift
    timeout "$s" "$@"; rc=$?
    [ "$rc" -eq 124 ] && echo "TIMEOUT: no answer within ${s}s: ${*##*/}" >&2
    return "$rc"
}
mosquitto_pub() { bounded 30 "$MOSQ_PUB_BIN" "$@"; }
