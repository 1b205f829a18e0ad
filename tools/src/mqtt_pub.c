/*
 * mqtt-pub: publishes one message (-m, -f, -s, -n), the same one several
 * times (--repeat), or one message per line of standard input (-l), then
 * disconnects; a drop-in for mosquitto_pub (same options, output, exit codes).
 *
 * Invariants: the process exits 0 only when every message was handed to the
 * broker (QoS 0) or acknowledged (QoS 1/2) and DISCONNECT was sent; a refused
 * CONNACK exits with its code, as mosquitto_pub; with -l, a line is never
 * dropped silently (empty lines are skipped on purpose, as documented).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "tools/src/client.h"
#include "tools/src/client_input.h"
#include "tools/src/client_session.h"

#define VERSION "0.1.0"

typedef enum { ST_CONNECTING, ST_CONNACK_RECVD, ST_WAITING, ST_NOHOPE, ST_DONE } pub_status;

typedef struct {
    client_cfg cfg;
    client_session s;
    pub_status status;
    int connack_result;
    bool disconnect_sent;
    bool first_publish;
    int publish_count;       /* completed publishes */
    bool ready_for_repeat;
    int64_t next_publish_ms;
    int error;               /* a publish that could not be sent */
    /* -l */
    client_lines lines;
    bool stdin_done;
    bool sent_any;
    uint16_t last_mid;       /* of the last line, once stdin is done */
    uint16_t last_completed;
    unsigned long lines_sent;
} pub_state;

static void print_usage(void)
{
    printf("mqtt-pub is a simple mqtt client that will publish a message on a single topic and exit.\n");
    printf("mqtt-pub version %s, compatible with mosquitto_pub.\n\n", VERSION);
    printf("Usage: mqtt-pub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}\n");
    printf("                {-f file | -l | -n | -m message | -s}\n");
    printf("                [-c] [-k keepalive] [-q qos] [-r] [--repeat N] [--repeat-delay time] [-x session-expiry]\n");
    printf("                [-i id] [-I id_prefix]\n");
    printf("                [-d] [--quiet]\n");
    printf("                [-M max_inflight]\n");
    printf("                [-u username [-P password]]\n");
    printf("                [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]\n");
    printf("                [-V protocol-version]\n");
    printf("                [--property command identifier value]\n");
    printf("                [-D command identifier value]\n");
    printf("                [{--cafile file | --capath dir} [--cert file] [--key file]\n");
    printf("                 [--insecure] [--tls-version version] [--tls-use-os-certs]]\n");
    printf("       mqtt-pub --help\n\n");
    printf(" -d : enable debug messages.\n");
    printf(" -c : disable clean session/enable persistent client mode\n");
    printf("      When this argument is used, the broker will be instructed not to clean existing sessions\n");
    printf("      for the same client id when the client connects, and sessions will never expire when the\n");
    printf("      client disconnects. MQTT v5 clients can change their session expiry interval with the -x\n");
    printf("      argument.\n");
    printf(" -D : Define MQTT v5 properties, e.g. -D publish user-property key value,\n");
    printf("      -D connect session-expiry-interval 60. Implies -V mqttv5.\n");
    printf(" -f : send the contents of a file as the message (any bytes).\n");
    printf(" -h : mqtt host to connect to. Defaults to localhost.\n");
    printf(" -i : id to use for this client. Defaults to an id assigned by the broker.\n");
    printf(" -I : define the client id as id_prefix appended with the process id. Useful for when the\n");
    printf("      broker is using the clientid_prefixes option.\n");
    printf(" -k : keep alive in seconds for this client. Defaults to 60.\n");
    printf(" -L : specify user, password, hostname, port and topic as a URL in the form:\n");
    printf("      mqtt(s)://[username[:password]@]host[:port]/topic (mqtts: TLS, port 8883)\n");
    printf("      or MQTT over WebSockets: ws(s)://[username[:password]@]host[:port][/path]\n");
    printf("      (wss: TLS; ports 80 and 443; the topic then comes from -t).\n");
    printf(" -l : read messages from stdin, sending a separate message for each line\n");
    printf("      (empty lines are skipped).\n");
    printf(" -m : message payload to send.\n");
    printf(" -M : the maximum inflight messages for QoS 1/2. Defaults to 20.\n");
    printf(" -n : send a null (zero length) message.\n");
    printf(" -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.\n");
    printf(" -P : provide a password\n");
    printf(" -q : quality of service level to use for all messages. Defaults to 0.\n");
    printf(" -r : message should be retained.\n");
    printf(" -s : read message from stdin, sending the entire input as a message.\n");
    printf(" -t : mqtt topic to publish to.\n");
    printf(" -u : provide a username\n");
    printf(" -V : specify the version of the MQTT protocol to use when connecting.\n");
    printf("      Can be mqttv5, mqttv311 or mqttv31 (or 5, 311, 31). Defaults to mqttv311.\n");
    printf(" -x : Set the session-expiry-interval property on the CONNECT packet. Applies to MQTT v5\n");
    printf("      clients only. Set to 0-4294967294 to specify the session will expire in that many\n");
    printf("      seconds after the client disconnects, or use -1, 4294967295, or \xe2\x88\x9e for a session\n");
    printf("      that does not expire. Defaults to -1 if -c is also given, or 0 if -c not given.\n");
    printf(" --help : display this message.\n");
    printf(" --quiet : don't print error messages.\n");
    printf(" --repeat : if publish mode is -f, -m, or -s, then repeat the publish N times.\n");
    printf(" --repeat-delay : if using --repeat, wait time seconds between publishes. Defaults to 0.\n");
    printf(" --version : print the version and exit.\n");
    printf(" --will-payload : payload for the client Will, which is sent by the broker in case of\n");
    printf("                  unexpected disconnection. If not given and will-topic is set, a zero\n");
    printf("                  length message will be sent.\n");
    printf(" --will-qos : QoS level for the client Will.\n");
    printf(" --will-retain : if given, make the client Will retained.\n");
    printf(" --will-topic : the topic on which to publish the client Will.\n");
    client_tls_usage();
    printf("\nExit status: 0 on success, the CONNACK code when the broker refused the connection,\n");
    printf("else a libmosquitto error number (7: connection lost, 8: TLS\n");
    printf("handshake failed, 19: keepalive timeout, 1: other).\n\n");
}

static void disconnect(pub_state *st)
{
    if (st->disconnect_sent) return;
    st->disconnect_sent = true;
    client_disconnect(&st->s, 0, &st->cfg.props[PROPS_DISCONNECT].p);
}

/* mosquitto_pub's words for a publish that could not be sent. */
static void publish_error(pub_state *st, int rc)
{
    switch (rc) {
    case CERR_INVAL: client_err(&st->cfg, "Error: Invalid input. Does your topic contain '+' or '#'?\n"); break;
    case CERR_NOMEM: client_err(&st->cfg, "Error: Out of memory when trying to publish message.\n"); break;
    case CERR_NO_CONN: client_err(&st->cfg, "Error: Client not connected when trying to publish.\n"); break;
    case CERR_PROTOCOL: client_err(&st->cfg, "Error: Protocol error when communicating with broker.\n"); break;
    case CERR_PAYLOAD_SIZE: client_err(&st->cfg, "Error: Message payload is too large.\n"); break;
    case CERR_QOS_NOT_SUPPORTED:
        client_err(&st->cfg, "Error: Message QoS not supported on broker, try a lower QoS.\n");
        break;
    default: client_err(&st->cfg, "Error: %s\n", client_strerror(rc)); break;
    }
    if (st->s.detail[0] && rc != CERR_QOS_NOT_SUPPORTED) client_err(&st->cfg, "Error: %s.\n", st->s.detail);
}

static int my_publish(pub_state *st, const uint8_t *payload, size_t len, uint16_t *mid)
{
    st->ready_for_repeat = false;
    /* With a Topic Alias, only the first PUBLISH carries the topic (MQTT-3.3.2-12). */
    const char *topic = st->cfg.topic;
    if (st->cfg.version == MQTT_V5 && st->cfg.have_topic_alias && !st->first_publish) topic = "";
    st->first_publish = false;
    int rc = client_publish(&st->s, topic, payload, len, st->cfg.qos, st->cfg.retain,
                            &st->cfg.props[PROPS_PUBLISH].p, mid);
    if (rc && rc != CERR_CONN_LOST) {
        publish_error(st, rc);
        st->error = rc;
        disconnect(st);
    }
    return rc;
}

static void publish_message(pub_state *st)
{
    uint16_t mid;
    if (st->cfg.pub_mode == MSGMODE_NULL) my_publish(st, NULL, 0, &mid);
    else my_publish(st, st->cfg.message, st->cfg.msglen, &mid);
}

static void on_connack(client_session *s, void *ctx, int result)
{
    pub_state *st = ctx;
    st->connack_result = result;
    if (result == 0) {
        st->first_publish = true;
        if (st->cfg.pub_mode == MSGMODE_STDIN_LINE) st->status = ST_CONNACK_RECVD;
        else publish_message(st);
        return;
    }
    if (s->version == MQTT_V5) {
        if (result == 0x84)
            client_err(&st->cfg, "Connection error: %s. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n",
                       client_reason_string(result));
        else client_err(&st->cfg, "Connection error: %s\n", client_reason_string(result));
    } else {
        client_err(&st->cfg, "Connection error: %s\n", client_connack_string(result));
    }
    st->status = ST_NOHOPE;
    client_session_drop(s); /* the broker closes too (MQTT-3.2.2-5); no need to wait for it */
}

static void on_publish(client_session *s, void *ctx, uint16_t mid, int reason, const mqtt_properties *props)
{
    (void)s;
    pub_state *st = ctx;
    if (reason > 127) {
        client_err(&st->cfg, "Warning: Publish %u failed: %s.\n", mid, client_reason_string(reason));
        if (props && MQTT_HAS_PROP(props, MQTT_PROP_REASON_STRING))
            client_err(&st->cfg, "%.*s\n", (int)props->reason_string.len, (const char *)props->reason_string.ptr);
    }
    st->publish_count++;
    st->last_completed = mid;
    if (st->cfg.pub_mode == MSGMODE_STDIN_LINE) {
        if (st->stdin_done && mid == st->last_mid && client_inflight(&st->s) == 0) disconnect(st);
    } else if (st->publish_count < st->cfg.repeat_count) {
        st->ready_for_repeat = true;
        st->next_publish_ms = net_now_ms() + st->cfg.repeat_delay_us / 1000;
    } else {
        disconnect(st);
    }
}

/* -l: publishes the lines read so far, as many as the in-flight window allows. */
static int publish_lines(pub_state *st)
{
    const uint8_t *line;
    size_t len;
    while (!st->disconnect_sent && client_is_open(&st->s) && (st->cfg.qos == 0 || client_can_send(&st->s)) &&
           client_lines_next(&st->lines, &line, &len)) {
        if (len == 0) continue; /* empty lines are skipped */
        uint16_t mid;
        int rc = my_publish(st, line, len, &mid);
        if (rc) return rc;
        st->sent_any = true;
        st->last_mid = mid;
        st->lines_sent = st->lines.lines;
    }
    if (client_lines_overlong(&st->lines)) {
        client_err(&st->cfg, "Error: line %lu of standard input is longer than %u bytes, the largest message.\n",
                   st->lines.lines + 1, CLIENT_MAX_PAYLOAD);
        st->error = CERR_PAYLOAD_SIZE;
        disconnect(st);
        return CERR_PAYLOAD_SIZE;
    }
    if (st->lines.eof && st->lines.start == st->lines.len && !st->stdin_done) {
        st->stdin_done = true;
        if (!st->sent_any || (client_inflight(&st->s) == 0 && st->last_completed == st->last_mid)) disconnect(st);
        else st->status = ST_WAITING;
    }
    return 0;
}

static bool want_stdin(const pub_state *st)
{
    return st->cfg.pub_mode == MSGMODE_STDIN_LINE && st->status == ST_CONNACK_RECVD && !st->lines.eof &&
           !st->disconnect_sent && (st->cfg.qos == 0 || client_can_send(&st->s));
}

static int run(pub_state *st)
{
    for (;;) {
        int timeout = -1;
        if (st->ready_for_repeat) {
            int64_t left = st->next_publish_ms - net_now_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        bool stdin_ready = false;
        int rc = client_session_run(&st->s, timeout, want_stdin(st) ? STDIN_FILENO : -1, &stdin_ready);
        if (!client_is_open(&st->s)) {
            if (st->disconnect_sent) return st->error;
            if (st->status == ST_NOHOPE) return st->s.version == MQTT_V5 ? CERR_PROTOCOL : CERR_CONN_REFUSED;
            return rc ? rc : CERR_CONN_LOST;
        }
        if (rc) return rc;
        if (st->cfg.pub_mode == MSGMODE_STDIN_LINE && st->status != ST_CONNECTING) {
            if (stdin_ready && client_lines_fill(&st->lines) < 0) {
                client_err(&st->cfg, "Error: Unable to read standard input.\n");
                st->error = CERR_ERRNO;
                disconnect(st);
                continue;
            }
            rc = publish_lines(st);
            if (rc && rc != CERR_PAYLOAD_SIZE) return rc;
        }
        if (st->ready_for_repeat && net_now_ms() >= st->next_publish_ms) publish_message(st);
    }
}

int main(int argc, char **argv)
{
    pub_state st;
    memset(&st, 0, sizeof st);
    client_lines_init(&st.lines, STDIN_FILENO);
    int rc = client_cfg_load(&st.cfg, CLIENT_PUB, argc, argv);
    if (rc) {
        if (rc == CLIENT_CFG_HELP) print_usage();
        else if (rc == CLIENT_CFG_VERSION) printf("mqtt-pub version %s, compatible with mosquitto_pub.\n", VERSION);
        else fprintf(stderr, "\nUse 'mqtt-pub --help' to see usage.\n");
        client_cfg_free(&st.cfg);
        return 1;
    }
    if (st.cfg.pub_mode == MSGMODE_STDIN_FILE) {
        if (client_load_stdin(&st.cfg)) {
            client_err(&st.cfg, "Error loading input from stdin.\n");
            goto fail;
        }
    } else if (st.cfg.file_input) {
        if (client_load_file(&st.cfg, st.cfg.file_input)) {
            client_err(&st.cfg, "Error loading input file \"%s\".\n", st.cfg.file_input);
            goto fail;
        }
    }
    if (!st.cfg.topic || st.cfg.pub_mode == MSGMODE_NONE) {
        fprintf(stderr, "Error: Both topic and message must be supplied.\n");
        print_usage();
        goto fail;
    }
    if (client_id_generate(&st.cfg)) {
        client_err(&st.cfg, "Error: Out of memory.\n");
        goto fail;
    }
    if (client_tls_setup(&st.cfg)) goto fail;
    signal(SIGPIPE, SIG_IGN);

    client_callbacks cb = {.on_connack = on_connack, .on_publish = on_publish};
    rc = client_session_open(&st.s, &st.cfg, cb, &st);
    if (rc) {
        if (rc == CERR_EAI || rc == CERR_ERRNO) client_err(&st.cfg, "Error: %s\n", st.s.detail);
        else publish_error(&st, rc);
        client_session_close(&st.s);
        client_lines_free(&st.lines);
        client_cfg_free(&st.cfg);
        return rc == CERR_TLS ? rc : 1; /* a failed handshake: 8, as mosquitto_pub */
    }
    rc = run(&st);
    if (rc && rc != st.error) {
        client_err(&st.cfg, "Error: %s\n", client_strerror(rc));
        if (st.s.detail[0] && st.status != ST_NOHOPE) client_err(&st.cfg, "Error: %s.\n", st.s.detail);
        if (st.cfg.pub_mode == MSGMODE_STDIN_LINE && st.status != ST_NOHOPE && st.status != ST_CONNECTING)
            client_err(&st.cfg,
                       "Error: lines up to %lu of standard input were sent, %zu of them not acknowledged; "
                       "input after them was not sent.\n",
                       st.lines_sent, client_inflight(&st.s));
    }
    client_session_close(&st.s);
    client_lines_free(&st.lines);
    int connack = st.connack_result;
    client_cfg_free(&st.cfg);
    return connack ? connack : rc;
fail:
    client_lines_free(&st.lines);
    client_cfg_free(&st.cfg);
    return 1;
}
