#!/usr/bin/env bash
# Third-party brokers for the conformance tests, each on 127.0.0.1 on a free
# port with its own state directory. Source it, then:
#   peer_start NAME DIR    NAME: mosquitto-default, aedes or rabbitmq; sets
#                          PEER_PORT (its MQTT port), PEER_PID and PEER_LOG
#   peer_stop              stops it (and what it started: epmd for rabbitmq)
# Every wait is bounded and polls for the listening port, never a blind sleep.
#  - mosquitto-default: Debian's mosquitto 2.0 with Debian's shipped
#    /etc/mosquitto/mosquitto.conf, only its state and log paths moved into
#    DIR (and no pid file), the port given with -p: with no listener in the
#    file that is mosquitto's "local only" mode, 127.0.0.1 and anonymous
#    clients, exactly the package's default behaviour on another port.
#  - aedes: npm's aedes 1.x, installed (once) into build/npm, started by
#    aedes-server.mjs on a port the system picks (it prints it).
#  - rabbitmq: Debian's rabbitmq-server 3.10 with rabbitmq_mqtt enabled, its
#    own node name, mnesia, logs, plugins file, config, HOME (Erlang cookie),
#    epmd port, distribution, AMQP and MQTT ports.
#  - aedes-ws, rabbitmq-ws: the same brokers reached over WebSockets; they
#    also set PEER_URL (ws://127.0.0.1:PORT/PATH, what --broker gets):
#    aedes behind npm's `ws` server (aedes-ws-server.mjs), RabbitMQ's
#    rabbitmq_web_mqtt plugin (its default path /ws) next to its MQTT port,
#    and its TLS listener (PEER_WSS_URL, wss://localhost:PORT/ws, with a
#    certificate made here, PEER_CAFILE).

peers_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peers_root=$(cd "$peers_here/../../.." && pwd)

. "$peers_root/scripts/free_port.sh" # free_port (the shared picker)

# A free port (scripts/free_port.sh) into variable $1, not one of the ports
# named after $1 (already chosen for the same peer); 50 tries.
pick_port() {
    local var=$1 p _
    shift
    for _ in $(seq 1 50); do
        p=$(free_port) || return 1
        case " $* " in *" $p "*) continue ;; esac
        printf -v "$var" '%s' "$p"; return 0
    done
    echo "no free port found" >&2
    return 1
}

# Polls (every 50 ms, at most $2 seconds) until 127.0.0.1:$1 listens; fails
# early when PEER_PID is gone.
wait_port() {
    local _ n=$(( $2 * 20 ))
    for _ in $(seq 1 "$n"); do
        ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1\b" && return 0
        kill -0 "$PEER_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

peer_mosquitto_default() {
    local dir=$1
    command -v mosquitto >/dev/null || { echo "mosquitto is not installed (apt-get install mosquitto)" >&2; return 1; }
    [ -r /etc/mosquitto/mosquitto.conf ] || { echo "no /etc/mosquitto/mosquitto.conf (Debian's mosquitto package)" >&2; return 1; }
    chmod 777 "$dir" # mosquitto drops root to its own user: it writes its state here
    # Debian's file, with the state, log and pid paths moved into DIR; conf.d
    # (local additions) is left out so the test sees the package's defaults.
    sed -e "s|^persistence_location .*|persistence_location $dir/|" -e "s|^log_dest file .*|log_dest file $dir/mosquitto.log|" \
        -e '/^pid_file /d' -e '/^include_dir /d' /etc/mosquitto/mosquitto.conf > "$dir/mosquitto.conf"
    chmod 644 "$dir/mosquitto.conf"
    PEER_LOG=$dir/mosquitto.log
    pick_port PEER_PORT || return 1
    mosquitto -c "$dir/mosquitto.conf" -p "$PEER_PORT" > "$dir/stdout.log" 2>&1 &
    PEER_PID=$!
    wait_port "$PEER_PORT" 10
}

peer_aedes() {
    local dir=$1 npm=$peers_root/build/npm _ server=${2:-aedes-server.mjs}
    command -v node >/dev/null || { echo "node is not installed (apt-get install nodejs)" >&2; return 1; }
    if [ ! -f "$npm/node_modules/aedes/package.json" ]; then
        command -v npm >/dev/null || { echo "npm is not installed (apt-get install npm)" >&2; return 1; }
        mkdir -p "$npm"
        timeout 300 npm install --prefix "$npm" --no-audit --no-fund --loglevel=error 'aedes@^1' >&2 ||
            { echo "npm install aedes failed" >&2; return 1; }
    fi
    if [ "$server" = aedes-ws-server.mjs ] && [ ! -f "$npm/node_modules/ws/package.json" ]; then
        timeout 300 npm install --prefix "$npm" --no-audit --no-fund --loglevel=error 'ws@^8' >&2 ||
            { echo "npm install ws failed" >&2; return 1; }
    fi
    PEER_LOG=$dir/aedes.log
    (cd "$dir" && exec node "$peers_here/$server" "$npm") > "$PEER_LOG" 2>&1 &
    PEER_PID=$!
    for _ in $(seq 1 200); do # it prints its port once it listens (at most 10 s)
        PEER_PORT=$(sed -n 's/^listening on 127.0.0.1://p' "$PEER_LOG")
        [ -n "$PEER_PORT" ] && [ "$server" = aedes-ws-server.mjs ] && PEER_URL=ws://127.0.0.1:$PEER_PORT/mqtt
        [ -n "$PEER_PORT" ] && return 0
        kill -0 "$PEER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "aedes did not start (log: $(cat "$PEER_LOG"))" >&2
    return 1
}

peer_rabbitmq() {
    local dir=$1 bin=/usr/lib/rabbitmq/bin ws=${2:-} plugins=rabbitmq_mqtt
    [ -x "$bin/rabbitmq-server" ] || { echo "rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2; return 1; }
    local amqp dist mqtt web webs
    pick_port amqp && pick_port dist "$amqp" && pick_port mqtt "$amqp" "$dist" &&
        pick_port PEER_EPMD "$amqp" "$dist" "$mqtt" && pick_port web "$amqp" "$dist" "$mqtt" "$PEER_EPMD" &&
        pick_port webs "$amqp" "$dist" "$mqtt" "$PEER_EPMD" "$web" || return 1
    mkdir -p "$dir/home"
    printf 'listeners.tcp.default = 127.0.0.1:%s\nmqtt.listeners.tcp.default = 127.0.0.1:%s\n' "$amqp" "$mqtt" \
        > "$dir/rabbitmq.conf"
    if [ -n "$ws" ]; then # rabbitmq_web_mqtt: MQTT over WebSockets on its own port, path /ws
        printf 'web_mqtt.tcp.ip = 127.0.0.1\nweb_mqtt.tcp.port = %s\n' "$web" >> "$dir/rabbitmq.conf"
        plugins="rabbitmq_mqtt rabbitmq_web_mqtt"
        # and over TLS (wss://), a certificate for localhost made here
        if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
            -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" > /dev/null 2>&1; then
            chmod 644 "$dir/key.pem"
            printf 'web_mqtt.ssl.ip = 127.0.0.1\nweb_mqtt.ssl.port = %s\nweb_mqtt.ssl.certfile = %s\nweb_mqtt.ssl.keyfile = %s\n' \
                "$webs" "$dir/cert.pem" "$dir/key.pem" >> "$dir/rabbitmq.conf"
        else webs=''; fi
    fi
    export HOME=$dir/home RABBITMQ_NODENAME=conform$$@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
        RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf RABBITMQ_DIST_PORT=$dist ERL_EPMD_PORT=$PEER_EPMD \
        RABBITMQ_PID_FILE=$dir/rabbitmq.pid ERL_CRASH_DUMP=$dir/erl_crash.dump
    # shellcheck disable=SC2086  # one word per plugin
    "$bin/rabbitmq-plugins" --offline enable $plugins > "$dir/plugins.log" 2>&1 ||
        { echo "rabbitmq-plugins --offline enable $plugins failed: $(cat "$dir/plugins.log")" >&2; return 1; }
    PEER_LOG=$dir/rabbitmq.log
    (cd "$dir" && exec setsid "$bin/rabbitmq-server") > "$PEER_LOG" 2>&1 &
    PEER_PID=$! PEER_PGID=$!
    PEER_PORT=$mqtt
    wait_port "$PEER_PORT" 90 || { echo "rabbitmq did not listen on $PEER_PORT within 90 s (log: $PEER_LOG)" >&2; return 1; }
    [ -n "$ws" ] || return 0
    wait_port "$web" 30 || { echo "rabbitmq_web_mqtt did not listen on $web (log: $PEER_LOG)" >&2; return 1; }
    PEER_URL=ws://127.0.0.1:$web/ws
    [ -n "$webs" ] && wait_port "$webs" 10 && PEER_WSS_URL=wss://localhost:$webs/ws PEER_CAFILE=$dir/cert.pem
    return 0
}

peer_start() {
    local name=$1 dir=$2
    mkdir -p "$dir"
    PEER_PID='' PEER_PGID='' PEER_EPMD='' PEER_PORT='' PEER_URL='' PEER_WSS_URL='' PEER_CAFILE=''
    case $name in
    mosquitto-default) peer_mosquitto_default "$dir" ;;
    aedes) peer_aedes "$dir" ;;
    aedes-ws) peer_aedes "$dir" aedes-ws-server.mjs ;;
    rabbitmq) peer_rabbitmq "$dir" ;;
    rabbitmq-ws) peer_rabbitmq "$dir" ws ;;
    *) echo "unknown peer $name" >&2; return 1 ;;
    esac
}

peer_stop() {
    local _
    if [ -n "${PEER_PGID:-}" ]; then kill -TERM -- "-$PEER_PGID" 2>/dev/null
    elif [ -n "${PEER_PID:-}" ]; then kill -TERM "$PEER_PID" 2>/dev/null; fi
    for _ in $(seq 1 200); do # at most 10 s, then SIGKILL
        [ -n "${PEER_PID:-}" ] && kill -0 "$PEER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -n "${PEER_PID:-}" ] && kill -0 "$PEER_PID" 2>/dev/null; then
        if [ -n "${PEER_PGID:-}" ]; then kill -KILL -- "-$PEER_PGID" 2>/dev/null; else kill -KILL "$PEER_PID" 2>/dev/null; fi
    fi
    [ -n "${PEER_PID:-}" ] && wait "$PEER_PID" 2>/dev/null
    # the epmd that rabbitmq's Erlang started on our own port
    [ -n "${PEER_EPMD:-}" ] && ERL_EPMD_PORT=$PEER_EPMD epmd -kill >/dev/null 2>&1
    PEER_PID='' PEER_PGID='' PEER_EPMD=''
}
