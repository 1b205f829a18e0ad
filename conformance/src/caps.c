/*
 * The capability probe: before the suite, one short connection per protocol
 * version asks the broker what it supports, the way a client learns it:
 * - the CONNACK to a CONNECT of that version: accepted, or refused as a
 *   version it does not speak (3.x return code 0x01, 5.0 reason code 0x84,
 *   or a 3.1.1-form CONNACK 0x01 answering a 5.0 CONNECT);
 * - in 5.0, the CONNACK's announcements (section 3.2.2.3): Maximum QoS,
 *   Retain Available, Wildcard/Subscription Identifier/Shared Subscription
 *   Available, Topic Alias Maximum, Receive Maximum, Maximum Packet Size,
 *   Server Keep Alive (absent means the property's default);
 * - the QoS granted to a QoS 2 subscription (a server may grant less,
 *   section 3.8.4: recorded for the reports; runs that subscribe adapt by
 *   themselves, engine_handshake.c).
 * What it learns goes into conf_engine_result.caps for every report, and
 * runs of a version the broker refuses, or needing what it announced absent,
 * are `skip` with that announcement as the reason (conf_caps_apply).
 */
#include "conformance/src/engine_int.h"

#include "net/net.h"
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void derive(conf_caps *c, bool connack5);

typedef struct {
    conf_bconn b;          /* TCP, TLS over it, WebSockets over either (engine_ws.c) */
    int timeout_ms;
    uint8_t in[512];
    size_t got;
} pconn;

static void pclose_(pconn *p)
{
    conf_bconn_close(&p->b);
}

static bool popen_(pconn *p, const conf_engine_cfg *cfg, char *why, size_t cap)
{
    int stage;
    char err[300];
    if (conf_bconn_open(&p->b, cfg, p->timeout_ms, &stage, err, sizeof err) == 0) return true;
    snprintf(why, cap, "%s%.180s", stage == 1 ? "TLS: " : "", err);
    return false;
}

static bool psend(pconn *p, int vi, const mqtt_packet *pkt)
{
    mqtt_codec codec = {.version = conf_vi_version(vi), .from = MQTT_FROM_CLIENT};
    uint8_t buf[256];
    size_t n = 0;
    if (mqtt_encode(&codec, pkt, buf, sizeof buf, &n, NULL) != MQTT_OK) return false;
    return conf_bconn_send(&p->b, buf, n, p->timeout_ms) == (ssize_t)n;
}

/* Reads one packet decoded as version vi into *out (views into p->in, valid
 * until the next call). Returns 1; 0 when the broker closed or reset the
 * connection before any byte; PROBE_TIMEOUT when nothing came in time; -1 for
 * bytes that do not decode in that version (the raw bytes stay in p->in). */
enum { PROBE_TIMEOUT = -2 };
static int precv(pconn *p, int vi, mqtt_packet *out)
{
    mqtt_codec codec = {.version = conf_vi_version(vi), .from = MQTT_FROM_SERVER};
    int64_t deadline = net_now_ms() + p->timeout_ms;
    p->got = 0;
    for (;;) {
        if (p->got) {
            mqtt_status s = mqtt_decode(&codec, p->in, p->got, out, NULL);
            if (s == MQTT_OK) return 1;
            if (s != MQTT_NEED_MORE || p->got == sizeof p->in) return -1;
        }
        int left = (int)(deadline - net_now_ms());
        if (left <= 0) return p->got ? -1 : PROBE_TIMEOUT;
        ssize_t k = conf_bconn_recv(&p->b, p->in + p->got, sizeof p->in - p->got, left);
        if (k == NET_TIMEOUT) return p->got ? -1 : PROBE_TIMEOUT;
        if (k <= 0) return p->got ? -1 : 0; /* closed, or reset */
        p->got += (size_t)k;
    }
}

static void connect_packet(const conf_engine_cfg *cfg, int vi, char *id, size_t idcap, mqtt_packet *p)
{
    *p = (mqtt_packet){.type = MQTT_CONNECT};
    snprintf(id, idcap, "cprobe%d%c", (int)(getpid() % 100000), "ab5"[vi]);
    p->connect.client_id = (mqtt_bytes){(const uint8_t *)id, strlen(id)};
    p->connect.clean_start = true;
    p->connect.keep_alive = 30;
    if (cfg->username) {
        p->connect.has_username = true;
        p->connect.username = (mqtt_bytes){(const uint8_t *)cfg->username, strlen(cfg->username)};
    }
    if (cfg->password) {
        p->connect.has_password = true;
        p->connect.password = (mqtt_bytes){(const uint8_t *)cfg->password, strlen(cfg->password)};
    }
}

#define GET(props, id, field) (MQTT_HAS_PROP(props, id) ? (int64_t)(props)->field : -1)

static void read_announcements(conf_caps *c, const mqtt_properties *pr)
{
    c->max_qos = GET(pr, MQTT_PROP_MAXIMUM_QOS, maximum_qos);
    c->retain_available = GET(pr, MQTT_PROP_RETAIN_AVAILABLE, retain_available);
    c->wildcard_available = GET(pr, MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, wildcard_subscription_available);
    c->subid_available = GET(pr, MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, subscription_identifier_available);
    c->shared_available = GET(pr, MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, shared_subscription_available);
    c->topic_alias_max = GET(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM, topic_alias_maximum);
    c->receive_max = GET(pr, MQTT_PROP_RECEIVE_MAXIMUM, receive_maximum);
    c->max_packet_size = GET(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE, maximum_packet_size);
    c->server_keep_alive = GET(pr, MQTT_PROP_SERVER_KEEP_ALIVE, server_keep_alive);
}

/* The CONNACK (or what came instead) says whether version vi is spoken. */
static bool judge_connack(conf_caps *c, int vi, int rc, const mqtt_packet *ack, const pconn *p)
{
    const char *vn = conf_vi_name(vi);
    /* 20 02 00 01: a 3.1.1 CONNACK "unacceptable protocol version" (no 5.0 CONNACK has code 0x01) */
    if (vi == CONF_VI_5 && rc != 0 && p->got == 4 && p->in[0] == 0x20 && p->in[1] == 0x02 && p->in[3] == 0x01) {
        snprintf(c->note, sizeof c->note, "%s not supported by this broker (it answered a 5.0 CONNECT with a "
                 "3.1.1 CONNACK 0x01, unacceptable protocol version)", vn);
        c->supported = false;
        return false;
    }
    if (rc == 0) {
        snprintf(c->note, sizeof c->note, "closed the connection without a CONNACK to a %s CONNECT", vn);
        c->supported = false;
        return false;
    }
    if (rc == PROBE_TIMEOUT) {
        /* a slow broker is no refusal: the runs go ahead and show what happens */
        snprintf(c->note, sizeof c->note, "no CONNACK to a %s CONNECT within %.1fs: nothing learnt", vn,
                 p->timeout_ms / 1000.0);
        return false;
    }
    if (rc < 0) {
        snprintf(c->note, sizeof c->note, "%s not supported by this broker (its answer to a %s CONNECT does not "
                 "decode as a %s CONNACK)", vn, vn, vn);
        c->supported = false;
        return false;
    }
    uint8_t code = ack->connack.reason_code;
    if ((vi != CONF_VI_5 && code == 0x01) || (vi == CONF_VI_5 && code == 0x84)) {
        snprintf(c->note, sizeof c->note, "%s not supported by this broker (CONNACK 0x%02x, unsupported protocol "
                 "version)", vn, code);
        c->supported = false;
        return false;
    }
    c->supported = true;
    if (code != 0) {
        snprintf(c->note, sizeof c->note, "the probe's CONNECT was refused with 0x%02x: nothing more learnt", code);
        return false;
    }
    if (vi == CONF_VI_5) read_announcements(c, &ack->connack.properties);
    return true;
}

/* Subscribes at QoS 2 to the probe's own topic: the QoS the SUBACK grants. */
static void probe_granted(conf_caps *c, pconn *p, int vi, const char *id)
{
    mqtt_subscription sub = {.qos = 2};
    char topic[64];
    snprintf(topic, sizeof topic, "%s/probe", id);
    sub.topic_filter = (mqtt_bytes){(const uint8_t *)topic, strlen(topic)};
    mqtt_packet s = {.type = MQTT_SUBSCRIBE};
    s.subscribe.packet_id = 1;
    s.subscribe.subscriptions = &sub;
    s.subscribe.count = 1;
    mqtt_packet ack;
    if (!psend(p, vi, &s) || precv(p, vi, &ack) != 1 || ack.type != MQTT_SUBACK || ack.suback.reason_codes.len != 1)
        return;
    c->granted_qos2 = ack.suback.reason_codes.ptr[0];
    mqtt_packet d = {.type = MQTT_DISCONNECT};
    psend(p, vi, &d);
}

void conf_caps_probe(const conf_engine_cfg *cfg, int vi, conf_caps *c)
{
    *c = (conf_caps){.probed = true, .supported = true, .max_qos = -1, .retain_available = -1,
                     .wildcard_available = -1, .subid_available = -1, .shared_available = -1,
                     .topic_alias_max = -1, .receive_max = -1, .max_packet_size = -1, .server_keep_alive = -1,
                     .granted_qos2 = -1};
    pconn p = {.b = {.fd = -1}, .timeout_ms = (int)(3000 * (cfg->time_scale > 0 ? cfg->time_scale : 1))};
    char why[200], id[32];
    if (!popen_(&p, cfg, why, sizeof why)) {
        snprintf(c->note, sizeof c->note, "the probe could not connect: %s", why);
        c->probed = false;
        return;
    }
    mqtt_packet conn, ack;
    connect_packet(cfg, vi, id, sizeof id, &conn);
    int rc = psend(&p, vi, &conn) ? precv(&p, vi, &ack) : 0;
    if (rc == 1 && ack.type != MQTT_CONNACK) rc = -1;
    bool accepted = judge_connack(c, vi, rc, &ack, &p);
    if (accepted) probe_granted(c, &p, vi, id);
    pclose_(&p);
    derive(c, accepted && vi == CONF_VI_5);
}

/* One capability the announcements rule out, with the announcement. */
static void lack(conf_caps *c, int cap, const char *fmt, int64_t v)
{
    c->lacks |= 1u << cap;
    snprintf(c->lacks_why[cap], sizeof c->lacks_why[cap], fmt, (long long)v);
}

/* What the announcements rule out. connack5: a 5.0 CONNACK 0x00 was read,
 * so absent properties mean their defaults (section 3.2.2.3). */
static void derive(conf_caps *c, bool connack5)
{
    c->lacks = 0;
    if (c->max_qos == 0) lack(c, CAP_QOS1, "broker announced Maximum QoS %lld", c->max_qos);
    if (c->max_qos == 0 || c->max_qos == 1) lack(c, CAP_QOS2, "broker announced Maximum QoS %lld", c->max_qos);
    if (c->retain_available == 0) lack(c, CAP_RETAIN, "broker announced Retain Available %lld", 0);
    if (c->wildcard_available == 0) lack(c, CAP_WILDCARDS, "broker announced Wildcard Subscription Available %lld", 0);
    if (c->subid_available == 0) lack(c, CAP_SUBID, "broker announced Subscription Identifiers Available %lld", 0);
    if (c->shared_available == 0) lack(c, CAP_SHARED, "broker announced Shared Subscription Available %lld", 0);
    /* The server might grant a lower QoS (3.1.1 and 5.0 section 3.8.4): a
     * scenario that asks for the exact grant cannot judge such a broker. */
    if (c->granted_qos2 == 0 || c->granted_qos2 == 1)
        lack(c, CAP_GRANTS_QOS2, "broker granted QoS %lld to the probe's QoS 2 subscription (section 3.8.4 allows less)",
             c->granted_qos2);
    if (!connack5) return;
    /* absent means 0: the client MUST NOT send Topic Aliases (5.0 MQTT-3.2.2-18) */
    if (c->topic_alias_max <= 0)
        lack(c, CAP_TOPIC_ALIAS, "broker announced Topic Alias Maximum %lld (absent: 0)",
             c->topic_alias_max < 0 ? 0 : c->topic_alias_max);
    if (c->max_packet_size < 0)
        lack(c, CAP_MAX_PACKET, "broker announced no Maximum Packet Size%.0lld", 0);
    /* a Server Keep Alive replaces the client's value (MQTT-3.1.2-21): its timers cannot be tested */
    if (c->server_keep_alive >= 0)
        lack(c, CAP_CLIENT_KEEP_ALIVE, "broker announced Server Keep Alive %lld", c->server_keep_alive);
}

void conf_caps_apply(const conf_caps caps[CONF_NVERSIONS], conf_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        conf_run *r = &runs[i];
        const conf_caps *c = &caps[r->vi];
        if (r->verdict != V_PENDING || !c->probed) continue;
        char why[512] = "";
        if (!c->supported) {
            snprintf(why, sizeof why, "%s", c->note);
        } else if (r->sc->needs & c->lacks) {
            size_t o = 0;
            for (int k = 0; k < CAP_COUNT && o < sizeof why; k++)
                if (r->sc->needs & c->lacks & (1u << k))
                    o += (size_t)snprintf(why + o, sizeof why - o, "%s%s", o ? "; " : "", c->lacks_why[k]);
        }
        if (!why[0]) continue;
        r->verdict = V_SKIP;
        free(r->message);
        r->message = strdup(why);
    }
}
