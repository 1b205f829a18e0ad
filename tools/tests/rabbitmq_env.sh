# Sourced by the WebSocket tests: a private RabbitMQ node (Debian's
# rabbitmq-server 3.10) with the rabbitmq_web_mqtt plugin, all state in a
# directory of the caller, every port free and chosen here, its own epmd.
#   rmq_start DIR   sets RMQ_MQTT (plain MQTT port) and RMQ_WS (WebSocket port,
#                   path /ws), or returns 1 with the log's tail on stderr
#   rmq_stop        stops the node and its epmd (safe to call twice)
# Start is judged by the WebSocket port accepting connections (bounded, no
# blind sleep); on a loaded machine a node takes 10 to 60 seconds.

RMQ_PID="" RMQ_EPMD_PORT=""

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/free_port.sh" # free_port

rmq_start() {
    local dir=$1 amqp dist i
    mkdir -p "$dir/home" "$dir/log"
    amqp=$(free_port); dist=$(free_port); RMQ_MQTT=$(free_port); RMQ_WS=$(free_port)
    RMQ_EPMD_PORT=$(free_port)
    cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp
mqtt.listeners.tcp.default = 127.0.0.1:$RMQ_MQTT
web_mqtt.tcp.ip = 127.0.0.1
web_mqtt.tcp.port = $RMQ_WS
mqtt.allow_anonymous = true
loopback_users = none
CONF
    export HOME=$dir/home ERL_EPMD_PORT=$RMQ_EPMD_PORT
    export RABBITMQ_NODENAME=ws$$@localhost RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
    export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config RABBITMQ_PID_FILE=$dir/rabbitmq.pid
    export RABBITMQ_NODE_PORT=$amqp RABBITMQ_DIST_PORT=$dist
    /usr/lib/rabbitmq/bin/rabbitmq-plugins --offline enable rabbitmq_web_mqtt > "$dir/plugins.log" 2>&1 || {
        cat "$dir/plugins.log" >&2; return 1; }
    /usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/server.log" 2>&1 &
    RMQ_PID=$!
    for i in $(seq 1 240); do
        (exec 3<>"/dev/tcp/127.0.0.1/$RMQ_WS") 2>/dev/null && return 0
        kill -0 "$RMQ_PID" 2>/dev/null || break
        sleep 0.5
    done
    echo "rabbitmq: the web_mqtt port $RMQ_WS did not open within 120 s" >&2
    tail -20 "$dir/server.log" "$dir"/log/*.log >&2 2>/dev/null
    return 1
}

rmq_stop() {
    if [ -n "$RMQ_PID" ]; then
        # The start script runs beam.smp as its child: stop both.
        local beam
        beam=$(ps -o pid= --ppid "$RMQ_PID" 2>/dev/null)
        kill "$RMQ_PID" $beam 2>/dev/null
        wait "$RMQ_PID" 2>/dev/null
        local i
        for i in $(seq 1 100); do
            [ -n "$beam" ] && kill -0 $beam 2>/dev/null || break
            sleep 0.1
        done
        RMQ_PID=""
    fi
    # epmd refuses to stop while the node is registered: after the node.
    [ -n "$RMQ_EPMD_PORT" ] && epmd -port "$RMQ_EPMD_PORT" -kill > /dev/null 2>&1
    RMQ_EPMD_PORT=""
}
