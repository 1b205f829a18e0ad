#!/usr/bin/env bash
# Starts Debian's mosquitto on 127.0.0.1 on a free port with a generated
# config, for the conformance tests. Source it, then:
#   mosq_start DIR [LINE...]   sets MOSQ_PORT and MOSQ_PID (log in DIR/mosquitto.log);
#                              the LINEs are added to the config (e.g. certfile,
#                              keyfile: they apply to its one listener)
#   mosq_stop
# Never uses 1883. Config and log live in DIR, readable by the mosquitto user
# (the config also says `user root` when we are root, so no privilege drop).
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port, wait_listening

mosq_start() {
    local dir=$1 tries=0
    shift
    command -v mosquitto >/dev/null || { echo "mosquitto is not installed (apt-get install mosquitto)" >&2; return 1; }
    mkdir -p "$dir"
    chmod 755 "$dir"
    while [ $tries -lt 20 ]; do
        tries=$((tries + 1))
        MOSQ_PORT=$(free_port) || return 1
        {
            echo "listener $MOSQ_PORT 127.0.0.1"
            echo "allow_anonymous true"
            echo "persistence false"
            echo "max_queued_messages 1000"
            echo "max_packet_size 1048576"     # so the limit is tested both ways
            [ "$(id -u)" = 0 ] && echo "user root"
            echo "log_dest stdout"
            echo "log_type error"
            echo "log_type warning"
            [ $# -gt 0 ] && printf '%s\n' "$@"
        } > "$dir/mosquitto.conf"
        chmod 644 "$dir/mosquitto.conf"
        mosquitto -c "$dir/mosquitto.conf" > "$dir/mosquitto.log" 2>&1 &
        MOSQ_PID=$!
        # its listening socket, not a log line; a lost bind race retries
        wait_listening "$MOSQ_PORT" "$MOSQ_PID" && return 0
        kill "$MOSQ_PID" 2>/dev/null; wait "$MOSQ_PID" 2>/dev/null
    done
    echo "could not start mosquitto on a free port (see $dir/mosquitto.log)" >&2
    return 1
}

mosq_stop() {
    [ -n "${MOSQ_PID:-}" ] || return 0
    kill "$MOSQ_PID" 2>/dev/null
    wait "$MOSQ_PID" 2>/dev/null
    MOSQ_PID=
}
