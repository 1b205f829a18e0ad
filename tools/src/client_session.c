/*
 * The client connection of mqtt-pub and mqtt-sub (see client_session.h).
 *
 * Invariants:
 * - Every byte goes through the codec: packets are built as mqtt_packet and
 *   encoded, everything received is framed and decoded by mqtt_decode; a
 *   packet the codec rejects ends the connection with CERR_PROTOCOL and the
 *   codec's rule id in `detail`.
 * - No wait is unbounded: net_* calls carry deadlines, and run() never sleeps
 *   past the next keepalive duty (PINGREQ to send, or the deadline of the
 *   answer we wait for, MQTT-3.1.2-24 from the server's side).
 * - Packet identifiers come from one counter for PUBLISH, SUBSCRIBE and
 *   UNSUBSCRIBE (libmosquitto numbers QoS 0 messages too, and -d shows them).
 * - A QoS 2 message is delivered once, on PUBREL (MQTT-4.3.3), however many
 *   times the broker sends the PUBLISH before it.
 * - With TLS every byte goes through s->tls (net/tls.h): the handshake is
 *   stepped by run() like any other I/O, under the same deadline as the
 *   CONNACK, and CONNECT is sent only once it is done. Decrypted bytes that
 *   OpenSSL already holds are read before poll(2) is asked to wait again.
 */
#include "tools/src/client_session.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "net/tls.h"
#include "net/ws.h"

#define IN_CHUNK 65536

static void expect_ack(client_session *s, uint16_t mid);

static const char *cid(const client_session *s) { return s->id ? s->id : "(null)"; }

/* libmosquitto's debug lines, printed on stdout with -d. */
static void debug(const client_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void debug(const client_session *s, const char *fmt, ...)
{
    if (!s->cfg->debug) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void set_detail(client_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_detail(client_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
}

static uint16_t next_mid(client_session *s)
{
    if (++s->last_mid == 0) s->last_mid = 1;
    return s->last_mid;
}

static int send_timeout_ms(const client_session *s)
{
    return (s->keepalive > 0 ? s->keepalive : 60) * 1000;
}

/* Encodes and sends one packet. */
static int send_packet(client_session *s, const mqtt_packet *pkt)
{
    if (s->fd < 0) return CERR_NO_CONN;
    mqtt_error err;
    size_t size;
    mqtt_status st = mqtt_encoded_size(&s->enc, pkt, &size, &err);
    if (st != MQTT_OK) {
        char text[256];
        mqtt_format_error(&err, text, sizeof text);
        set_detail(s, "cannot encode %s: %s", mqtt_packet_type_name(pkt->type), text);
        return CERR_INVAL;
    }
    if (s->server_max_packet && size > s->server_max_packet) {
        set_detail(s, "%s of %zu bytes is over the broker's Maximum Packet Size %u",
                   mqtt_packet_type_name(pkt->type), size, s->server_max_packet);
        return CERR_OVERSIZE_PACKET;
    }
    if (size > s->out_cap) {
        uint8_t *n = realloc(s->out, size);
        if (!n) return CERR_NOMEM;
        s->out = n;
        s->out_cap = size;
    }
    size_t written;
    if (mqtt_encode(&s->enc, pkt, s->out, s->out_cap, &written, &err) != MQTT_OK) return CERR_INVAL;
    ssize_t n = s->ws    ? net_ws_send_all(s->ws, s->fd, s->tls, s->out, written, send_timeout_ms(s))
                : s->tls ? net_tls_send_all(s->tls, s->out, written, send_timeout_ms(s))
                         : net_send_all(s->fd, s->out, written, send_timeout_ms(s));
    if (n != (ssize_t)written) {
        if (n == NET_TIMEOUT) set_detail(s, "the broker stopped reading for %d seconds", send_timeout_ms(s) / 1000);
        else if (s->tls && !s->connected && !s->cfg->certfile)
            set_detail(s, "sending to the broker failed: %s (does the broker require a client certificate? "
                       "see --cert and --key)", strerror(errno));
        else set_detail(s, "sending to the broker failed: %s", strerror(errno));
        client_session_drop(s);
        return CERR_CONN_LOST;
    }
    s->last_out = net_now_ms();
    return 0;
}

static void free_incoming(client_session *s)
{
    for (size_t i = 0; i < s->n_incoming; i++) {
        free(s->incoming[i].packet);
        free(s->incoming[i].topic);
    }
    s->n_incoming = 0;
}

static void free_aliases(client_session *s)
{
    if (s->aliases)
        for (unsigned i = 0; i <= s->alias_max; i++) free(s->aliases[i]);
    free(s->aliases);
    s->aliases = NULL;
}

static int session_init(client_session *s, const client_cfg *cfg, client_callbacks cb, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->cb = cb;
    s->ctx = ctx;
    s->fd = -1;
    s->version = cfg->version;
    s->user_props_cap = 1024;
    s->user_props = calloc(s->user_props_cap, sizeof *s->user_props);
    if (cfg->id) s->id = strdup(cfg->id);
    const mqtt_properties *cp = &cfg->props[PROPS_CONNECT].p;
    if (MQTT_HAS_PROP(cp, MQTT_PROP_TOPIC_ALIAS_MAXIMUM) && cp->topic_alias_maximum) {
        s->alias_max = cp->topic_alias_maximum;
        s->aliases = calloc((size_t)s->alias_max + 1, sizeof *s->aliases);
    }
    if (!s->user_props || (cfg->id && !s->id) || (s->alias_max && !s->aliases)) return CERR_NOMEM;
    return 0;
}

/* The codec settings for each direction. */
static void set_codecs(client_session *s)
{
    s->enc = (mqtt_codec){.version = s->version, .from = MQTT_FROM_CLIENT};
    s->dec = (mqtt_codec){.version = s->version,
                          .from = MQTT_FROM_SERVER,
                          .user_properties = s->user_props,
                          .user_properties_cap = s->user_props_cap,
                          .subscription_identifiers = s->sub_ids,
                          .subscription_identifiers_cap = sizeof s->sub_ids / sizeof s->sub_ids[0]};
    const mqtt_properties *cp = &s->cfg->props[PROPS_CONNECT].p;
    if (MQTT_HAS_PROP(cp, MQTT_PROP_MAXIMUM_PACKET_SIZE)) s->dec.max_packet_size = cp->maximum_packet_size;
}

static mqtt_bytes view(const char *str)
{
    return (mqtt_bytes){(const uint8_t *)str, str ? strlen(str) : 0};
}

static int tls_step(client_session *s);
static int tls_failed(client_session *s, const char *err);
static int send_connect(client_session *s);

/*
 * MQTT over WebSockets: TLS (wss://) and the HTTP upgrade run here, blocking
 * within the CONNACK's deadline (the keepalive), then CONNECT goes out as
 * one binary frame; from then on every byte passes through s->ws.
 */
static int ws_open(client_session *s)
{
    const client_cfg *cfg = s->cfg;
    char err[400];
    int port = client_port(cfg);
    if (cfg->tls) {
        s->tls = net_tls_new(cfg->tls, s->fd, cfg->host, err, sizeof err);
        int rc = s->tls ? net_tls_connect(s->tls, send_timeout_ms(s), err, sizeof err) : -1;
        if (rc == NET_TIMEOUT) snprintf(err, sizeof err, "TLS handshake: no answer in time");
        if (rc != 0) return tls_failed(s, err);
    }
    s->ws = net_ws_connect(s->fd, s->tls, cfg->host, (uint16_t)port, cfg->ws_path, 0, send_timeout_ms(s), err,
                           sizeof err);
    if (!s->ws) {
        set_detail(s, "%s (ws%s://%s:%d%s)", err, cfg->tls ? "s" : "", cfg->host, port, cfg->ws_path);
        client_session_drop(s);
        return CERR_PROTOCOL;
    }
    return send_connect(s);
}

int client_session_connect(client_session *s)
{
    const client_cfg *cfg = s->cfg;
    char err[300];
    int port = client_port(cfg);
    s->detail[0] = '\0';
    s->disconnect_reason = -1;
    s->connected = false;
    s->ping_sent = 0;
    s->in_len = 0;
    s->keepalive = cfg->keepalive;
    s->server_receive_max = 65535;
    s->server_max_qos = 2;
    s->server_retain = true;
    s->server_max_packet = 0;
    s->server_alias_max = 0;
    s->n_outgoing = 0;
    if (cfg->clean_session) free_incoming(s);
    if (s->aliases)
        for (unsigned i = 0; i <= s->alias_max; i++) {
            free(s->aliases[i]);
            s->aliases[i] = NULL;
        }
    set_codecs(s);

    s->fd = net_connect(cfg->host, (uint16_t)port, send_timeout_ms(s), err, sizeof err);
    if (s->fd < 0) {
        snprintf(s->detail, sizeof s->detail, "%s", err);
        return strncmp(err, "resolve", 7) == 0 ? CERR_EAI : CERR_ERRNO;
    }
    if (cfg->ws_path) return ws_open(s);
    if (cfg->tls) {
        s->tls = net_tls_new(cfg->tls, s->fd, cfg->host, err, sizeof err);
        if (!s->tls) {
            set_detail(s, "%s", err);
            client_session_drop(s);
            return CERR_TLS;
        }
        /* Every step, the first included, is run()'s: so a handshake that fails, or a
         * broker that refuses us right after it, is reported by run() as libmosquitto's
         * loop reports it, however fast the broker answers. */
        s->handshaking = true;
        s->tls_want_write = true;
        s->last_out = net_now_ms(); /* the handshake has the CONNACK's deadline (keepalive_duty) */
        return 0;
    }
    return send_connect(s);
}

/* One step of the TLS handshake; CONNECT goes out when it is done. */
static int tls_step(client_session *s)
{
    char err[300];
    int rc = net_tls_handshake(s->tls, err, sizeof err);
    if (rc == NET_TLS_WANT_READ || rc == NET_TLS_WANT_WRITE) {
        s->tls_want_write = rc == NET_TLS_WANT_WRITE;
        return 0;
    }
    if (rc != 0) return tls_failed(s, err);
    s->handshaking = false;
    s->tls_want_write = false;
    return send_connect(s);
}

/* Says why the TLS handshake failed, with a hint, and drops the connection. */
static int tls_failed(client_session *s, const char *err)
{
    const char *why = strncmp(err, "TLS handshake: ", 15) == 0 ? err + 15 : err;
    const char *hint = "";
    if (strstr(why, "hostname mismatch") || strstr(why, "IP address mismatch"))
        hint = "; the certificate is not for this host name (--insecure skips this check)";
    else if (strstr(why, "certificate verify failed"))
        hint = "; the broker's certificate is not signed by a CA of --cafile/--capath";
    set_detail(s, "TLS handshake with %s:%d: %s%s", s->cfg->host, client_port(s->cfg), why, hint);
    client_session_drop(s);
    return CERR_TLS;
}

static int send_connect(client_session *s)
{
    const client_cfg *cfg = s->cfg;
    mqtt_packet pkt = {.type = MQTT_CONNECT};
    mqtt_connect *c = &pkt.connect;
    c->clean_start = cfg->clean_session;
    c->keep_alive = (uint16_t)cfg->keepalive;
    if (s->version == MQTT_V5) c->properties = cfg->props[PROPS_CONNECT].p;
    c->client_id = view(cfg->id);
    if (cfg->will_topic) {
        c->will = true;
        c->will_topic = view(cfg->will_topic);
        c->will_payload = (mqtt_bytes){(const uint8_t *)cfg->will_payload, cfg->will_payloadlen};
        c->will_qos = (uint8_t)cfg->will_qos;
        c->will_retain = cfg->will_retain;
        if (s->version == MQTT_V5) c->will_properties = cfg->props[PROPS_WILL].p;
    }
    if (cfg->username) {
        c->has_username = true;
        c->username = view(cfg->username);
    }
    if (cfg->password) {
        c->has_password = true;
        c->password = view(cfg->password);
    }
    debug(s, "Client %s sending CONNECT", cid(s));
    int rc = send_packet(s, &pkt);
    if (rc == CERR_INVAL) client_session_drop(s);
    return rc;
}

int client_session_open(client_session *s, const client_cfg *cfg, client_callbacks cb, void *ctx)
{
    int rc = session_init(s, cfg, cb, ctx);
    if (rc) return rc;
    return client_session_connect(s);
}

bool client_is_open(const client_session *s) { return s->fd >= 0; }
size_t client_inflight(const client_session *s) { return s->n_outgoing; }

bool client_can_send(const client_session *s)
{
    size_t max = s->cfg->max_inflight;
    if (s->server_receive_max < max) max = s->server_receive_max;
    return s->n_outgoing < max;
}

void client_session_drop(client_session *s)
{
    net_ws_free(s->ws);
    s->ws = NULL;
    net_tls_free(s->tls);
    s->tls = NULL;
    s->handshaking = false;
    s->tls_want_write = false;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->connected = false;
}

void client_session_close(client_session *s)
{
    client_session_drop(s);
    free_incoming(s);
    free(s->incoming);
    free(s->outgoing);
    free_aliases(s);
    free(s->in);
    free(s->out);
    free(s->user_props);
    free(s->id);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* ---- sending ---- */

int client_publish(client_session *s, const char *topic, const uint8_t *payload, size_t len, int qos,
                   bool retain, const mqtt_properties *props, uint16_t *mid_out)
{
    if (!s->connected) return CERR_NO_CONN;
    if (s->version == MQTT_V5) {
        if (qos > s->server_max_qos) return CERR_QOS_NOT_SUPPORTED;
        if (retain && !s->server_retain) return CERR_RETAIN_NOT_SUPPORTED;
    }
    uint16_t mid = next_mid(s);
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    mqtt_publish *p = &pkt.publish;
    p->qos = (uint8_t)qos;
    p->retain = retain;
    p->topic = view(topic);
    p->packet_id = qos ? mid : 0;
    p->payload = (mqtt_bytes){payload, len};
    if (props && s->version == MQTT_V5) p->properties = *props;
    if (qos > 0 && s->n_outgoing == s->cap_outgoing) {
        size_t cap = s->cap_outgoing ? s->cap_outgoing * 2 : 16;
        client_outgoing *n = realloc(s->outgoing, cap * sizeof *n);
        if (!n) return CERR_NOMEM;
        s->outgoing = n;
        s->cap_outgoing = cap;
    }
    debug(s, "Client %s sending PUBLISH (d0, q%d, r%d, m%u, '%s', ... (%zu bytes))", cid(s), qos, retain ? 1 : 0,
          mid, topic && *topic ? topic : "(null)", len);
    int rc = send_packet(s, &pkt);
    if (rc) return rc;
    if (mid_out) *mid_out = mid;
    if (qos == 0) {
        if (s->cb.on_publish) s->cb.on_publish(s, s->ctx, mid, 0, NULL);
    } else {
        s->outgoing[s->n_outgoing++] = (client_outgoing){mid, (uint8_t)qos, false};
    }
    return 0;
}

int client_subscribe(client_session *s, char *const *filters, int count, int qos, uint8_t options,
                     const mqtt_properties *props)
{
    if (!s->connected) return CERR_NO_CONN;
    mqtt_subscription *subs = calloc((size_t)count, sizeof *subs);
    if (!subs) return CERR_NOMEM;
    uint16_t mid = next_mid(s);
    for (int i = 0; i < count; i++) {
        subs[i].topic_filter = view(filters[i]);
        subs[i].qos = (uint8_t)qos;
        if (s->version == MQTT_V5) {
            subs[i].no_local = (options & 0x04) != 0;
            subs[i].retain_as_published = (options & 0x08) != 0;
            subs[i].retain_handling = (uint8_t)((options >> 4) & 0x03);
        }
        debug(s, "Client %s sending SUBSCRIBE (Mid: %u, Topic: %s, QoS: %d, Options: 0x%02x)", cid(s), mid,
              filters[i], qos, s->version == MQTT_V5 ? options : 0);
    }
    mqtt_packet pkt = {.type = MQTT_SUBSCRIBE};
    pkt.subscribe.packet_id = mid;
    expect_ack(s, mid);
    pkt.subscribe.subscriptions = subs;
    pkt.subscribe.count = (size_t)count;
    if (props && s->version == MQTT_V5) pkt.subscribe.properties = *props;
    int rc = send_packet(s, &pkt);
    free(subs);
    return rc;
}

int client_unsubscribe(client_session *s, const char *filter, const mqtt_properties *props)
{
    if (!s->connected) return CERR_NO_CONN;
    uint16_t mid = next_mid(s);
    mqtt_subscription sub = {.topic_filter = view(filter)};
    mqtt_packet pkt = {.type = MQTT_UNSUBSCRIBE};
    pkt.subscribe.packet_id = mid;
    expect_ack(s, mid);
    pkt.subscribe.subscriptions = &sub;
    pkt.subscribe.count = 1;
    if (props && s->version == MQTT_V5) pkt.subscribe.properties = *props;
    debug(s, "Client %s sending UNSUBSCRIBE (Mid: %u, Topic: %s)", cid(s), mid, filter);
    return send_packet(s, &pkt);
}

int client_disconnect(client_session *s, uint8_t reason, const mqtt_properties *props)
{
    if (s->fd < 0) return CERR_NO_CONN;
    mqtt_packet pkt = {.type = MQTT_DISCONNECT};
    if (s->version == MQTT_V5) {
        pkt.disconnect.reason_code = reason;
        if (props) pkt.disconnect.properties = *props;
    }
    debug(s, "Client %s sending DISCONNECT", cid(s));
    int rc = send_packet(s, &pkt);
    if (rc) return rc;
    /* Half-close and let the broker close first: closing with unread bytes
     * would reset the connection and could lose the DISCONNECT, which would
     * make the broker publish the Will (MQTT-3.1.2-10). With TLS, close_notify
     * first; what comes back is then read raw and thrown away. Over
     * WebSockets a close frame 1000 comes before both (RFC 6455 7.1.2). */
    if (s->ws) net_ws_shutdown(s->ws, s->fd, s->tls, 1000);
    if (s->tls) {
        net_tls_close(s->tls);
        s->tls = NULL;
    }
    shutdown(s->fd, SHUT_WR);
    int64_t deadline = net_now_ms() + 1000;
    char sink[4096];
    for (;;) {
        int64_t left = deadline - net_now_ms();
        if (left <= 0) break;
        ssize_t n = net_recv_some(s->fd, sink, sizeof sink, (int)left);
        if (n <= 0) break;
    }
    client_session_drop(s);
    return 0;
}

/* ---- receiving ---- */

static int send_ack(client_session *s, mqtt_packet_type type, uint16_t mid, uint8_t reason)
{
    mqtt_packet pkt = {.type = type};
    pkt.ack.packet_id = mid;
    if (s->version == MQTT_V5) pkt.ack.reason_code = reason;
    return send_packet(s, &pkt);
}

static client_outgoing *find_outgoing(client_session *s, uint16_t mid)
{
    for (size_t i = 0; i < s->n_outgoing; i++)
        if (s->outgoing[i].mid == mid) return &s->outgoing[i];
    return NULL;
}

static void complete_outgoing(client_session *s, client_outgoing *o, int reason, const mqtt_properties *props)
{
    uint16_t mid = o->mid;
    size_t i = (size_t)(o - s->outgoing);
    memmove(&s->outgoing[i], &s->outgoing[i + 1], (s->n_outgoing - i - 1) * sizeof *o);
    s->n_outgoing--;
    if (s->cb.on_publish) s->cb.on_publish(s, s->ctx, mid, reason, props);
}

static const mqtt_properties *props_or_null(const client_session *s, const mqtt_properties *p)
{
    return s->version == MQTT_V5 && !client_props_empty(p) ? p : NULL;
}

static void deliver(client_session *s, const mqtt_publish *p, mqtt_bytes topic)
{
    client_message m = {topic, p->payload, p->qos, p->retain, p->qos ? p->packet_id : 0,
                        props_or_null(s, &p->properties)};
    if (s->cb.on_message) s->cb.on_message(s, s->ctx, &m);
}

/* Resolves a 5.0 Topic Alias (MQTT-3.3.2-12 .. 3.3.2-18 from the receiver's side). */
static int resolve_topic(client_session *s, const mqtt_publish *p, mqtt_bytes *topic)
{
    *topic = p->topic;
    if (s->version != MQTT_V5 || !MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS)) return 0;
    uint16_t alias = p->properties.topic_alias;
    if (alias > s->alias_max) {
        set_detail(s, "the broker used Topic Alias %u, over our Topic Alias Maximum %u (MQTT-3.3.2-9)", alias,
                   s->alias_max);
        return CERR_PROTOCOL;
    }
    if (p->topic.len) {
        char *copy = strndup((const char *)p->topic.ptr, p->topic.len);
        if (!copy) return CERR_NOMEM;
        free(s->aliases[alias]);
        s->aliases[alias] = copy;
        return 0;
    }
    if (!s->aliases[alias]) {
        set_detail(s, "the broker used Topic Alias %u before setting it (MQTT-3.3.2-12)", alias);
        return CERR_PROTOCOL;
    }
    *topic = view(s->aliases[alias]);
    return 0;
}

static int handle_publish(client_session *s, const mqtt_packet *pkt, const uint8_t *raw)
{
    const mqtt_publish *p = &pkt->publish;
    mqtt_bytes topic;
    int rc = resolve_topic(s, p, &topic);
    if (rc) return rc;
    debug(s, "Client %s received PUBLISH (d%d, q%d, r%d, m%u, '%.*s', ... (%zu bytes))", cid(s), p->dup ? 1 : 0,
          p->qos, p->retain ? 1 : 0, p->qos ? p->packet_id : 0, (int)topic.len, (const char *)topic.ptr,
          p->payload.len);
    if (p->qos == 0) {
        deliver(s, p, topic);
        return 0;
    }
    if (p->qos == 1) {
        debug(s, "Client %s sending PUBACK (m%u, rc%d)", cid(s), p->packet_id, 0);
        rc = send_ack(s, MQTT_PUBACK, p->packet_id, 0);
        if (rc) return rc;
        deliver(s, p, topic);
        return 0;
    }
    /* QoS 2: keep it until PUBREL; a resent PUBLISH with the same id is the same message. */
    bool held = false;
    for (size_t i = 0; i < s->n_incoming; i++)
        if (s->incoming[i].mid == p->packet_id) held = true;
    if (!held) {
        if (s->n_incoming == s->cap_incoming) {
            size_t cap = s->cap_incoming ? s->cap_incoming * 2 : 8;
            client_incoming *n = realloc(s->incoming, cap * sizeof *n);
            if (!n) return CERR_NOMEM;
            s->incoming = n;
            s->cap_incoming = cap;
        }
        client_incoming *in = &s->incoming[s->n_incoming];
        in->mid = p->packet_id;
        in->len = pkt->length;
        in->packet = malloc(pkt->length);
        in->topic = strndup(topic.len ? (const char *)topic.ptr : "", topic.len);
        if (!in->packet || !in->topic) {
            free(in->packet);
            free(in->topic);
            return CERR_NOMEM;
        }
        memcpy(in->packet, raw, pkt->length);
        s->n_incoming++;
    }
    debug(s, "Client %s sending PUBREC (m%u, rc%d)", cid(s), p->packet_id, 0);
    return send_ack(s, MQTT_PUBREC, p->packet_id, 0);
}

static int handle_pubrel(client_session *s, uint16_t mid)
{
    debug(s, "Client %s received PUBREL (Mid: %u)", cid(s), mid);
    debug(s, "Client %s sending PUBCOMP (m%u)", cid(s), mid);
    int rc = send_ack(s, MQTT_PUBCOMP, mid, 0);
    if (rc) return rc;
    for (size_t i = 0; i < s->n_incoming; i++) {
        if (s->incoming[i].mid != mid) continue;
        client_incoming in = s->incoming[i];
        memmove(&s->incoming[i], &s->incoming[i + 1], (s->n_incoming - i - 1) * sizeof in);
        s->n_incoming--;
        mqtt_packet stored;
        if (mqtt_decode(&s->dec, in.packet, in.len, &stored, NULL) == MQTT_OK)
            deliver(s, &stored.publish, view(in.topic));
        free(in.packet);
        free(in.topic);
        break;
    }
    return 0;
}

/* SUBSCRIBE and UNSUBSCRIBE ids in flight: their SUBACK/UNSUBACK must carry
 * one of them (3.1.1 MQTT-2.3.1-7, 5.0 MQTT-2.2.1-6). */
static void expect_ack(client_session *s, uint16_t mid)
{
    if (s->n_acks_due < sizeof s->acks_due / sizeof s->acks_due[0]) s->acks_due[s->n_acks_due++] = mid;
}

/* Takes mid off the ids in flight; false when it was not there. */
static bool take_ack(client_session *s, uint16_t mid)
{
    for (size_t i = 0; i < s->n_acks_due; i++)
        if (s->acks_due[i] == mid) {
            s->acks_due[i] = s->acks_due[--s->n_acks_due];
            return true;
        }
    return false;
}

static void handle_connack(client_session *s, const mqtt_connack *c)
{
    const mqtt_properties *p = &c->properties;
    if (s->version == MQTT_V5) {
        if (MQTT_HAS_PROP(p, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER)) {
            char *id = strndup((const char *)p->assigned_client_identifier.ptr, p->assigned_client_identifier.len);
            if (id) {
                free(s->id);
                s->id = id;
            }
        }
        if (MQTT_HAS_PROP(p, MQTT_PROP_SERVER_KEEP_ALIVE)) s->keepalive = p->server_keep_alive;
        if (MQTT_HAS_PROP(p, MQTT_PROP_RECEIVE_MAXIMUM)) s->server_receive_max = p->receive_maximum;
        if (MQTT_HAS_PROP(p, MQTT_PROP_MAXIMUM_QOS)) s->server_max_qos = p->maximum_qos;
        if (MQTT_HAS_PROP(p, MQTT_PROP_RETAIN_AVAILABLE)) s->server_retain = p->retain_available;
        if (MQTT_HAS_PROP(p, MQTT_PROP_MAXIMUM_PACKET_SIZE)) s->server_max_packet = p->maximum_packet_size;
        if (MQTT_HAS_PROP(p, MQTT_PROP_TOPIC_ALIAS_MAXIMUM)) s->server_alias_max = p->topic_alias_maximum;
    }
    debug(s, "Client %s received CONNACK (%d)", cid(s), c->reason_code);
    s->connected = c->reason_code == 0;
    if (s->cb.on_connack) s->cb.on_connack(s, s->ctx, c->reason_code);
}

/*
 * PUBACK ends a QoS 1 flow, PUBCOMP a QoS 2 flow after PUBREC. Any other
 * answer for a message in flight is a protocol violation: a QoS 2 PUBLISH
 * stays unacknowledged until its PUBREC (3.1.1 MQTT-4.3.3-1, 5.0
 * MQTT-4.3.3-3, MUST), its PUBREL until the PUBCOMP (3.1.1 MQTT-4.3.3-1,
 * 5.0 MQTT-4.3.3-5), a QoS 1 PUBLISH until its PUBACK (3.1.1 MQTT-4.3.2-1,
 * 5.0 MQTT-4.3.2-3). Waiting on would only end at the keepalive (RabbitMQ
 * 3.10 answers a QoS 2 PUBLISH with PUBACK), so the connection ends now
 * (3.1.1 MQTT-4.8.0-1, MUST close; 5.0 section 4.13.1, Protocol Error).
 * An ack for an identifier not in flight is ignored, as libmosquitto does.
 */
static int handle_puback_pubcomp(client_session *s, const mqtt_ack *ack, mqtt_packet_type type)
{
    const char *name = mqtt_packet_type_name(type);
    bool v5 = s->version == MQTT_V5;
    debug(s, "Client %s received %s (Mid: %u, RC:%d)", cid(s), name, ack->packet_id, ack->reason_code);
    client_outgoing *o = find_outgoing(s, ack->packet_id);
    if (!o) return 0;
    bool expected = type == MQTT_PUBACK ? o->qos == 1 : o->qos == 2 && o->got_pubrec;
    if (expected) {
        complete_outgoing(s, o, ack->reason_code, props_or_null(s, &ack->properties));
        return 0;
    }
    const char *awaiting = o->qos == 1 ? "PUBACK" : o->got_pubrec ? "PUBCOMP" : "PUBREC";
    const char *rule = o->qos == 1 ? (v5 ? "MQTT-4.3.2-3" : "MQTT-4.3.2-1")
                       : o->got_pubrec ? (v5 ? "MQTT-4.3.3-5" : "MQTT-4.3.3-1")
                                       : (v5 ? "MQTT-4.3.3-3" : "MQTT-4.3.3-1");
    set_detail(s, "the broker sent %s for the QoS %d PUBLISH (Mid: %u) awaiting %s (%s: a QoS %d message is "
               "unacknowledged until its %s)", name, o->qos, ack->packet_id, awaiting, rule, o->qos, awaiting);
    return CERR_PROTOCOL;
}

static int handle_packet(client_session *s, const mqtt_packet *pkt, const uint8_t *raw)
{
    if (!s->connected && pkt->type != MQTT_CONNACK && pkt->type != MQTT_DISCONNECT) {
        set_detail(s, "the broker sent %s before CONNACK (MQTT-3.2.0-1)", mqtt_packet_type_name(pkt->type));
        return CERR_PROTOCOL;
    }
    switch (pkt->type) {
    case MQTT_CONNACK:
        if (s->connected) {
            set_detail(s, "the broker sent a second CONNACK");
            return CERR_PROTOCOL;
        }
        if (s->version == MQTT_V5 && pkt->connack.reason_code == 0 && pkt->connack.session_present &&
            s->cfg->clean_session) {
            /* no Session State here (Clean Start 1), yet the server says there is one */
            set_detail(s, "the broker sent Session Present 1 to a Clean Start 1 connection (MQTT-3.2.2-4: the "
                       "Client MUST close the Network Connection)");
            return CERR_PROTOCOL;
        }
        handle_connack(s, &pkt->connack);
        return 0;
    case MQTT_PUBLISH: return handle_publish(s, pkt, raw);
    case MQTT_PUBACK:
    case MQTT_PUBCOMP: return handle_puback_pubcomp(s, &pkt->ack, pkt->type);
    case MQTT_PUBREC: {
        debug(s, "Client %s received PUBREC (Mid: %u)", cid(s), pkt->ack.packet_id);
        client_outgoing *o = find_outgoing(s, pkt->ack.packet_id);
        if (!o || o->qos != 2) {
            debug(s, "Warning: Received PUBREC from %s for an unknown packet identifier %u.", cid(s),
                  pkt->ack.packet_id);
            debug(s, "Client %s sending PUBREL (m%u)", cid(s), pkt->ack.packet_id);
            return send_ack(s, MQTT_PUBREL, pkt->ack.packet_id, 0x92);
        }
        if (pkt->ack.reason_code >= 0x80) { /* refused: the flow ends here (MQTT-4.3.3) */
            complete_outgoing(s, o, pkt->ack.reason_code, props_or_null(s, &pkt->ack.properties));
            return 0;
        }
        o->got_pubrec = true;
        debug(s, "Client %s sending PUBREL (m%u)", cid(s), pkt->ack.packet_id);
        return send_ack(s, MQTT_PUBREL, pkt->ack.packet_id, 0);
    }
    case MQTT_PUBREL: return handle_pubrel(s, pkt->ack.packet_id);
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        if (!take_ack(s, pkt->suback.packet_id)) {
            set_detail(s, "the broker sent %s for packet id %u, which no SUBSCRIBE or UNSUBSCRIBE in flight has (%s)",
                       mqtt_packet_type_name(pkt->type), pkt->suback.packet_id,
                       s->version == MQTT_V5 ? "MQTT-2.2.1-6" : "MQTT-2.3.1-7");
            return CERR_PROTOCOL;
        }
        if (pkt->type == MQTT_UNSUBACK) {
            debug(s, "Client %s received UNSUBACK", cid(s));
            if (s->cb.on_unsubscribe) s->cb.on_unsubscribe(s, s->ctx, pkt->suback.packet_id);
            return 0;
        }
        debug(s, "Client %s received SUBACK", cid(s));
        if (s->cb.on_subscribe) s->cb.on_subscribe(s, s->ctx, pkt->suback.packet_id, pkt->suback.reason_codes);
        return 0;
    case MQTT_PINGRESP:
        debug(s, "Client %s received PINGRESP", cid(s));
        s->ping_sent = 0;
        return 0;
    case MQTT_DISCONNECT:
        debug(s, "Received DISCONNECT (%d)", pkt->disconnect.reason_code);
        s->disconnect_reason = pkt->disconnect.reason_code;
        set_detail(s, "the broker sent DISCONNECT: %s (%d)", client_reason_string(pkt->disconnect.reason_code),
                   pkt->disconnect.reason_code);
        client_session_drop(s);
        return CERR_CONN_LOST;
    default:
        set_detail(s, "the broker sent %s, which a client does not accept", mqtt_packet_type_name(pkt->type));
        return CERR_PROTOCOL;
    }
}

/* Decodes and handles every whole packet in s->in. */
static int drain_input(client_session *s)
{
    size_t off = 0;
    int rc = 0;
    while (s->fd >= 0 && off < s->in_len) {
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&s->dec, s->in + off, s->in_len - off, &pkt, &err);
        if (st == MQTT_NEED_MORE) {
            if (pkt.length > s->in_cap) { /* room for the whole packet */
                uint8_t *n = realloc(s->in, pkt.length);
                if (!n) return CERR_NOMEM;
                s->in = n;
                s->in_cap = pkt.length;
            }
            break;
        }
        if (st == MQTT_ERR_LIMIT && err.rule && !strcmp(err.rule, "LIMIT-user-properties") &&
            s->user_props_cap < 65536) {
            mqtt_user_property *n = realloc(s->user_props, s->user_props_cap * 2 * sizeof *n);
            if (!n) return CERR_NOMEM;
            s->user_props = n;
            s->user_props_cap *= 2;
            set_codecs(s);
            continue;
        }
        if (st != MQTT_OK) {
            char text[256];
            mqtt_format_error(&err, text, sizeof text);
            set_detail(s, "bad packet from the broker: %s", text);
            client_session_drop(s);
            rc = CERR_PROTOCOL;
            break;
        }
        s->last_in = net_now_ms();
        rc = handle_packet(s, &pkt, s->in + off);
        off += pkt.length;
        if (rc) {
            client_session_drop(s);
            break;
        }
    }
    if (off) {
        memmove(s->in, s->in + off, s->in_len - off);
        s->in_len -= off;
    }
    return rc;
}

/* Sends PINGREQ when due; fails when the broker did not answer in time. */
static int keepalive_duty(client_session *s, int64_t now, int64_t *next)
{
    *next = -1;
    if (s->fd < 0 || s->keepalive <= 0) return 0;
    int64_t ka = (int64_t)s->keepalive * 1000;
    if (!s->connected || s->ping_sent) {
        int64_t deadline = (s->connected ? s->ping_sent : s->last_out) + ka;
        if (now >= deadline) {
            set_detail(s, "no answer from the broker within %d seconds (%s)", s->keepalive,
                       s->connected ? "PINGRESP" : s->handshaking ? "TLS handshake" : "CONNACK");
            client_session_drop(s);
            return CERR_KEEPALIVE;
        }
        *next = deadline;
        return 0;
    }
    int64_t due = (s->last_out < s->last_in ? s->last_out : s->last_in) + ka;
    if (now >= due) {
        debug(s, "Client %s sending PINGREQ", cid(s));
        mqtt_packet pkt = {.type = MQTT_PINGREQ};
        int rc = send_packet(s, &pkt);
        if (rc) return rc;
        s->ping_sent = s->last_out;
        *next = s->ping_sent + ka;
        return 0;
    }
    *next = due;
    return 0;
}

/* What the broker sent, decrypted with TLS: the count, 0 when it closed,
 * -1 on an error (err filled), NET_TIMEOUT when nothing is there yet. */
static ssize_t recv_bytes(client_session *s, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
    if (s->ws) return net_ws_recv_some(s->ws, s->fd, s->tls, buf, cap, 0, err, errlen);
    if (!s->tls) {
        ssize_t n = net_recv_some(s->fd, buf, cap, 0);
        if (n == -1) snprintf(err, errlen, "%s", strerror(errno));
        return n;
    }
    ssize_t n = net_tls_read(s->tls, buf, cap, err, errlen);
    s->tls_want_write = n == NET_TLS_WANT_WRITE;
    if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) return NET_TIMEOUT;
    if (n < 0 && !err[0]) snprintf(err, errlen, "TLS read failed");
    return n < 0 ? -1 : n;
}

int client_session_run(client_session *s, int timeout_ms, int extra_fd, bool *extra_ready)
{
    if (extra_ready) *extra_ready = false;
    if (s->fd < 0) return CERR_NO_CONN;
    int64_t now = net_now_ms();
    int64_t next;
    int rc = keepalive_duty(s, now, &next);
    if (rc) return rc;
    int wait = timeout_ms;
    if (next >= 0) {
        int64_t until = next - now;
        if (until < 0) until = 0;
        if (wait < 0 || until < wait) wait = (int)until;
    }
    /* Bytes OpenSSL decrypted, or the WebSocket unframed, already: poll(2) does not see them. */
    bool pending = (s->tls && !s->handshaking && net_tls_pending(s->tls) > 0) || (s->ws && net_ws_readable(s->ws) > 0);
    if (pending) wait = 0;
    short events = s->handshaking ? (s->tls_want_write ? POLLOUT : POLLIN) : POLLIN | (s->tls_want_write ? POLLOUT : 0);
    struct pollfd fds[2] = {{.fd = s->fd, .events = events}, {.fd = extra_fd, .events = POLLIN}};
    int n = poll(fds, extra_fd >= 0 ? 2 : 1, wait);
    if (n < 0) return errno == EINTR ? 0 : CERR_ERRNO;
    if (extra_fd >= 0 && extra_ready && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) *extra_ready = true;
    if (s->handshaking) {
        if (fds[0].revents) {
            rc = tls_step(s);
            if (rc) return rc;
        }
    } else if (pending || (fds[0].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR))) {
        if (s->in_cap - s->in_len < IN_CHUNK) {
            uint8_t *b = realloc(s->in, s->in_len + IN_CHUNK);
            if (!b) return CERR_NOMEM;
            s->in = b;
            s->in_cap = s->in_len + IN_CHUNK;
        }
        char err[300] = "";
        ssize_t got = recv_bytes(s, s->in + s->in_len, s->in_cap - s->in_len, err, sizeof err);
        if (got == 0 || got == -1) {
            if (s->detail[0]) {
                /* keep the first explanation */
            } else if (got == 0) {
                set_detail(s, "the broker closed the connection");
            } else {
                set_detail(s, "reading from the broker failed: %s", err);
            }
            client_session_drop(s);
            return CERR_CONN_LOST;
        }
        if (got > 0) {
            s->in_len += (size_t)got;
            rc = drain_input(s);
            if (rc) return rc;
        }
    }
    if (s->fd >= 0) {
        now = net_now_ms();
        rc = keepalive_duty(s, now, &next);
    }
    return rc;
}
