/*
 * mqtt-sub: subscribes to topic filters and prints what arrives (-v, -N, -F),
 * until -C messages, -W seconds, -E (subscribed), --retained-only's first
 * live message, or SIGINT/SIGTERM; a drop-in for mosquitto_sub.
 *
 * Invariants: the filters of one run go in one SUBSCRIBE, each -U in its own
 * UNSUBSCRIBE, as mosquitto_sub; a message is printed at most once and only
 * after its handshake (QoS 2: on PUBREL). Once connected, a lost connection is
 * re-established every second (mosquitto_sub does the same), resubscribing;
 * if the very first connection fails, or the broker breaks the protocol, we
 * exit with an error instead of retrying forever.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "tools/src/client.h"
#include "tools/src/client_output.h"
#include "tools/src/client_session.h"

#define VERSION "0.1.0"
#define RC_DISCONNECT_WITH_WILL 0x04
#define RECONNECT_DELAY_MS 1000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

typedef struct {
    client_cfg cfg;
    client_session s;
    uint8_t sub_opts;
    bool process_messages;
    int msg_count;
    uint16_t last_mid;       /* last --remove-retained PUBLISH, 0 if none */
    int connack_result;
    bool connack_received;   /* a CONNACK arrived (refused or not) */
    bool ever_connected;     /* a CONNACK accepted the connection */
    bool disconnect_sent;
} sub_state;

static void print_usage(void)
{
    printf("mqtt-sub is a simple mqtt client that will subscribe to a set of topics and print all messages it receives.\n");
    printf("mqtt-sub version %s, compatible with mosquitto_sub.\n\n", VERSION);
    printf("Usage: mqtt-sub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL [-t topic]}\n");
    printf("                [-c] [-k keepalive] [-q qos] [-x session-expiry-interval]\n");
    printf("                [-C msg_count] [-E] [-R] [--retained-only] [--remove-retained] [-T filter_out] [-U topic ...]\n");
    printf("                [-F format]\n");
    printf("                [-W timeout_secs]\n");
    printf("                [-i id] [-I id_prefix]\n");
    printf("                [-d] [-N] [--quiet] [-v]\n");
    printf("                [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]\n");
    printf("                [-V protocol-version]\n");
    printf("                [-D command identifier value]\n");
    printf("                [{--cafile file | --capath dir} [--cert file] [--key file]\n");
    printf("                 [--insecure] [--tls-version version] [--tls-use-os-certs]]\n");
    printf("       mqtt-sub --help\n\n");
    printf(" -c : disable clean session/enable persistent client mode\n");
    printf("      When this argument is used, the broker will be instructed not to clean existing sessions\n");
    printf("      for the same client id when the client connects, and sessions will never expire when the\n");
    printf("      client disconnects. MQTT v5 clients can change their session expiry interval with the -x\n");
    printf("      argument.\n");
    printf(" -C : disconnect and exit after receiving the 'msg_count' messages.\n");
    printf(" -d : enable debug messages.\n");
    printf(" -D : Define MQTT v5 properties, e.g. -D subscribe subscription-identifier 5. Implies -V mqttv5.\n");
    printf(" -E : Exit once all subscriptions have been acknowledged by the broker.\n");
    printf(" -F : output format: %%t topic, %%p payload, %%x/%%X payload in hex, %%l length, %%q qos,\n");
    printf("      %%r retain, %%m message id, %%j/%%J JSON, %%I/%%U time, %%A %%C %%D %%E %%F %%P %%R %%S\n");
    printf("      MQTT v5 properties, @ strftime fields, \\n \\t ... escapes; as mosquitto_sub.\n");
    printf(" -h : mqtt host to connect to. Defaults to localhost.\n");
    printf(" -i : id to use for this client. Defaults to an id assigned by the broker.\n");
    printf(" -I : define the client id as id_prefix appended with the process id. Useful for when the\n");
    printf("      broker is using the clientid_prefixes option.\n");
    printf(" -k : keep alive in seconds for this client. Defaults to 60.\n");
    printf(" -L : specify user, password, hostname, port and topic as a URL in the form:\n");
    printf("      mqtt(s)://[username[:password]@]host[:port]/topic (mqtts: TLS, port 8883)\n");
    printf("      or MQTT over WebSockets: ws(s)://[username[:password]@]host[:port][/path]\n");
    printf("      (wss: TLS; ports 80 and 443; the topic then comes from -t).\n");
    printf(" -N : do not add an end of line character when printing the payload.\n");
    printf(" -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.\n");
    printf(" -P : provide a password\n");
    printf(" -q : quality of service level to use for the subscription. Defaults to 0.\n");
    printf(" -R : do not print stale messages (those with retain set).\n");
    printf(" -t : mqtt topic to subscribe to. May be repeated multiple times.\n");
    printf(" -T : topic string to filter out of results. May be repeated.\n");
    printf(" -u : provide a username\n");
    printf(" -U : unsubscribe from a topic. May be repeated.\n");
    printf(" -v : print published messages verbosely.\n");
    printf(" -V : specify the version of the MQTT protocol to use when connecting.\n");
    printf("      Can be mqttv5, mqttv311 or mqttv31 (or 5, 311, 31). Defaults to mqttv311.\n");
    printf(" -W : Specifies a timeout in seconds how long to process incoming MQTT messages.\n");
    printf(" -x : Set the session-expiry-interval property on the CONNECT packet. Applies to MQTT v5\n");
    printf("      clients only. Set to 0-4294967294 to specify the session will expire in that many\n");
    printf("      seconds after the client disconnects, or use -1, 4294967295, or \xe2\x88\x9e for a session\n");
    printf("      that does not expire. Defaults to -1 if -c is also given, or 0 if -c not given.\n");
    printf(" --help : display this message.\n");
    printf(" --pretty : print formatted output rather than minimised output when using the\n");
    printf("            JSON output format option.\n");
    printf(" --quiet : don't print error messages.\n");
    printf(" --random-filter : only print a percentage of received messages. Set to 100 to have all\n");
    printf("                   messages printed, 50.0 to have half of the messages received on average\n");
    printf("                   printed, and so on.\n");
    printf(" --retained-only : only handle messages with the retained flag set, and exit when the\n");
    printf("                   first non-retained message is received.\n");
    printf(" --remove-retained : send a message to the server to clear any received retained messages\n");
    printf("                     Use -T to filter out messages you do not want to be cleared.\n");
    printf(" --retain-as-published : (MQTT v5) keep the retain flag of messages as published.\n");
    printf(" --version : print the version and exit.\n");
    printf(" --will-payload : payload for the client Will, which is sent by the broker in case of\n");
    printf("                  unexpected disconnection. If not given and will-topic is set, a zero\n");
    printf("                  length message will be sent.\n");
    printf(" --will-qos : QoS level for the client Will.\n");
    printf(" --will-retain : if given, make the client Will retained.\n");
    printf(" --will-topic : the topic on which to publish the client Will.\n");
    client_tls_usage();
    printf("\nExit status: 0 on success, 27 when -W expired, the CONNACK code when the broker refused\n");
    printf("the connection, else a libmosquitto error number (7: connection lost,\n");
    printf("8: TLS handshake failed, 1: other).\n\n");
}

static void disconnect(sub_state *st, uint8_t reason)
{
    if (st->disconnect_sent) return;
    st->disconnect_sent = true;
    client_disconnect(&st->s, reason, &st->cfg.props[PROPS_DISCONNECT].p);
}

static void on_connack(client_session *s, void *ctx, int result)
{
    sub_state *st = ctx;
    st->connack_received = true;
    st->connack_result = result;
    if (result == 0) {
        st->ever_connected = true;
        if (st->cfg.topic_count)
            client_subscribe(s, st->cfg.topics, st->cfg.topic_count, st->cfg.qos, st->sub_opts,
                             &st->cfg.props[PROPS_SUBSCRIBE].p);
        for (int i = 0; i < st->cfg.unsub_topic_count; i++)
            client_unsubscribe(s, st->cfg.unsub_topics[i], &st->cfg.props[PROPS_UNSUBSCRIBE].p);
        return;
    }
    if (s->version == MQTT_V5) {
        if (result == 0x84)
            client_err(&st->cfg, "Connection error: %s. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n",
                       client_reason_string(result));
        else client_err(&st->cfg, "Connection error: %s\n", client_reason_string(result));
        disconnect(st, 0);
    } else {
        client_err(&st->cfg, "Connection error: %s\n", client_connack_string(result));
        st->disconnect_sent = true;
        client_session_drop(s);
    }
}

static void on_message(client_session *s, void *ctx, const client_message *m)
{
    sub_state *st = ctx;
    if (!st->process_messages) return;
    if (st->cfg.retained_only && !m->retain) {
        st->process_messages = false;
        if (st->last_mid == 0) disconnect(st, 0);
        return;
    }
    if (m->retain && st->cfg.no_retain) return;
    for (int i = 0; i < st->cfg.filter_out_count; i++) {
        mqtt_bytes f = {(const uint8_t *)st->cfg.filter_outs[i], strlen(st->cfg.filter_outs[i])};
        if (mqtt_topic_matches(f, m->topic)) return;
    }
    if (st->cfg.remove_retained && m->retain) {
        char *topic = strndup((const char *)m->topic.ptr, m->topic.len);
        if (topic) client_publish(s, topic, NULL, 0, 1, true, NULL, &st->last_mid);
        free(topic);
    }
    client_print_message(stdout, &st->cfg, m);
    if (ferror(stdout)) disconnect(st, 0);
    if (st->cfg.msg_count > 0 && ++st->msg_count == st->cfg.msg_count) {
        st->process_messages = false;
        if (st->last_mid == 0) disconnect(st, 0);
    }
}

static void on_publish(client_session *s, void *ctx, uint16_t mid, int reason, const mqtt_properties *props)
{
    (void)s, (void)reason, (void)props;
    sub_state *st = ctx;
    /* --remove-retained: leave once the last clearing message is acknowledged. */
    if (!st->process_messages && (mid == st->last_mid || st->last_mid == 0)) disconnect(st, 0);
}

static void on_subscribe(client_session *s, void *ctx, uint16_t mid, mqtt_bytes codes)
{
    (void)s;
    sub_state *st = ctx;
    bool print = st->cfg.debug && !st->cfg.quiet;
    bool some_allowed = false;
    if (print) printf("Subscribed (mid: %u): ", mid);
    for (size_t i = 0; i < codes.len; i++) {
        if (print) printf(i ? ", %d" : "%d", codes.ptr[i]);
        if (codes.ptr[i] < 128) some_allowed = true;
    }
    if (print) printf("\n");
    if (!some_allowed) {
        disconnect(st, 0);
        client_err(&st->cfg, "All subscription requests were denied.\n");
    }
    if (st->cfg.exit_after_sub) disconnect(st, 0);
}

/* Waits until `deadline` (monotonic ms) unless a signal or -W comes first. */
static void pause_until(int64_t deadline, int64_t w_deadline)
{
    for (;;) {
        int64_t now = net_now_ms();
        int64_t end = deadline;
        if (w_deadline >= 0 && w_deadline < end) end = w_deadline;
        if (got_signal || now >= end) return;
        struct timespec ts = {(time_t)((end - now) / 1000), (long)((end - now) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int run(sub_state *st, bool *timed_out)
{
    int64_t w_deadline = st->cfg.timeout ? net_now_ms() + (int64_t)st->cfg.timeout * 1000 : -1;
    for (;;) {
        if (got_signal || (w_deadline >= 0 && net_now_ms() >= w_deadline)) {
            if (!got_signal) *timed_out = true;
            if (st->connack_received && client_is_open(&st->s)) {
                st->process_messages = false;
                disconnect(st, RC_DISCONNECT_WITH_WILL);
            }
            return 0;
        }
        int timeout = -1;
        if (w_deadline >= 0) {
            int64_t left = w_deadline - net_now_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        int rc = client_session_run(&st->s, timeout, -1, NULL);
        if (client_is_open(&st->s)) {
            if (rc && rc != CERR_ERRNO) return rc;
            continue;
        }
        if (st->disconnect_sent) return 0;
        /* A broker that breaks the protocol will do it again: stop. */
        if (!st->ever_connected || rc == CERR_PROTOCOL) return rc ? rc : CERR_CONN_LOST;
        /* Connected before: try again every second, as mosquitto_sub. */
        while (!client_is_open(&st->s)) {
            pause_until(net_now_ms() + RECONNECT_DELAY_MS, w_deadline);
            if (got_signal || (w_deadline >= 0 && net_now_ms() >= w_deadline)) break;
            client_session_connect(&st->s);
        }
    }
}

int main(int argc, char **argv)
{
    sub_state st;
    memset(&st, 0, sizeof st);
    st.process_messages = true;
    int rc = client_cfg_load(&st.cfg, CLIENT_SUB, argc, argv);
    if (rc) {
        if (rc == CLIENT_CFG_HELP) print_usage();
        else if (rc == CLIENT_CFG_VERSION) printf("mqtt-sub version %s, compatible with mosquitto_sub.\n", VERSION);
        else fprintf(stderr, "\nUse 'mqtt-sub --help' to see usage.\n");
        client_cfg_free(&st.cfg);
        return 1;
    }
    if (st.cfg.no_retain && st.cfg.retained_only) {
        fprintf(stderr, "\nError: Combining '-R' and '--retained-only' makes no sense.\n");
        client_cfg_free(&st.cfg);
        return 1;
    }
    if (client_id_generate(&st.cfg)) {
        client_err(&st.cfg, "Error: Out of memory.\n");
        client_cfg_free(&st.cfg);
        return 1;
    }
    if (st.cfg.version == MQTT_V5) {
        if (st.cfg.no_retain) st.sub_opts |= 0x20;           /* Retain Handling 2: send none */
        if (st.cfg.retain_as_published) st.sub_opts |= 0x08; /* Retain As Published */
        /* With -C below 20, as libmosquitto: the broker sends no more than we will print. */
        mqtt_properties *cp = &st.cfg.props[PROPS_CONNECT].p;
        if (st.cfg.msg_count > 0 && st.cfg.msg_count < 20 && !MQTT_HAS_PROP(cp, MQTT_PROP_RECEIVE_MAXIMUM)) {
            cp->present |= MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
            cp->receive_maximum = (uint16_t)st.cfg.msg_count;
        }
    }
    if (client_tls_setup(&st.cfg)) {
        client_cfg_free(&st.cfg);
        return 1;
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    client_callbacks cb = {.on_connack = on_connack,
                           .on_message = on_message,
                           .on_publish = on_publish,
                           .on_subscribe = on_subscribe};
    rc = client_session_open(&st.s, &st.cfg, cb, &st);
    if (rc) {
        if (rc == CERR_TLS) client_err(&st.cfg, "Error: %s\n", client_strerror(rc));
        client_err(&st.cfg, rc == CERR_TLS ? "Error: %s.\n" : "Error: %s\n",
                   st.s.detail[0] ? st.s.detail : client_strerror(rc));
        client_session_close(&st.s);
        client_cfg_free(&st.cfg);
        return rc == CERR_TLS ? rc : 1; /* a failed handshake: 8, as mosquitto_sub */
    }
    bool timed_out = false;
    rc = run(&st, &timed_out);
    fflush(stdout);
    if (st.cfg.msg_count > 0 && rc == CERR_NO_CONN) rc = 0;
    int result;
    if (timed_out) {
        client_err(&st.cfg, "Timed out\n");
        result = CERR_TIMEOUT;
    } else {
        if (rc) {
            client_err(&st.cfg, "Error: %s\n", client_strerror(rc));
            if (st.s.detail[0]) client_err(&st.cfg, "Error: %s.\n", st.s.detail);
        }
        result = st.connack_result ? st.connack_result : rc;
    }
    client_session_close(&st.s);
    client_cfg_free(&st.cfg);
    return result;
}
