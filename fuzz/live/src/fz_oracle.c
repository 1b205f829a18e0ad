/*
 * fz_oracle: specification checks on recorded answers (see fz_oracle.h).
 * Everything here reads the run; views point into its stream buffers.
 */
#include "fuzz/live/src/fz_oracle.h"
#include "fuzz/live/src/fz_codec.h"

#include <mqtt/format.h>
#include <mqtt/topic.h>
#include <stdio.h>
#include <string.h>

#define MAX_FILTERS 96

/* What one connection said about itself in its CONNECT, and its client's filters. */
typedef struct {
    bool known;            /* its first packet was a valid CONNECT */
    bool trusted;          /* everything it sent decoded, and its session began in this run */
    mqtt_bytes client_id;
    uint32_t max_packet_size;
    uint16_t topic_alias_max;
} conn_info;

typedef struct {
    conn_info conn[FZ_MAX_CONNS];
    mqtt_bytes filter[MAX_FILTERS];
    int filter_conn[MAX_FILTERS];
    size_t nfilters;
} model;

static void note_packet(model *m, size_t c, const mqtt_packet *p, size_t idx)
{
    conn_info *ci = &m->conn[c];
    if (idx == 0 && p->type == MQTT_CONNECT) {
        ci->known = true;
        ci->client_id = p->connect.client_id;
        const mqtt_properties *pr = &p->connect.properties;
        if (MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE)) ci->max_packet_size = pr->maximum_packet_size;
        if (MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM)) ci->topic_alias_max = pr->topic_alias_maximum;
    }
    if (p->type != MQTT_SUBSCRIBE) return;
    for (size_t i = 0; i < p->subscribe.count && m->nfilters < MAX_FILTERS; i++) {
        m->filter_conn[m->nfilters] = (int)c;
        m->filter[m->nfilters++] = p->subscribe.subscriptions[i].topic_filter;
    }
}

static bool same_id(mqtt_bytes a, mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Decodes what connection c sent: its CONNECT and its SUBSCRIBE filters. */
static void learn_conn(model *m, const fz_run *run, size_t c)
{
    const fz_conn *k = &run->conn[c];
    fz_arrays a;
    mqtt_version v = k->version;
    size_t off = 0;
    m->conn[c].trusted = true;
    for (size_t idx = 0; off < k->out.len; idx++) {
        mqtt_codec codec = fz_codec_for(v, MQTT_FROM_CLIENT, &a, 0);
        mqtt_packet p;
        if (mqtt_decode(&codec, k->out.p + off, k->out.len - off, &p, NULL) != MQTT_OK) {
            m->conn[c].trusted = false;
            return;
        }
        if (p.type == MQTT_CONNECT) v = (mqtt_version)p.connect.protocol_level;
        note_packet(m, c, &p, idx);
        off += p.length;
    }
}

/* A CONNACK with Session Present for a client id not connected earlier in this
 * run: the broker kept a session (subscriptions) from before; not judged. */
static void inherited(model *m, const fz_run *run, size_t c)
{
    const fz_conn *k = &run->conn[c];
    if (k->in.len < 4 || k->in.p[0] != 0x20 || !(k->in.p[2] & 1)) return;
    for (size_t i = 0; i < c; i++)
        if (m->conn[i].known && same_id(m->conn[i].client_id, m->conn[c].client_id)) return;
    m->conn[c].trusted = false;
}

/* Did client c (by client id: a takeover keeps the subscriptions) subscribe to a
 * filter matching topic? -1: cannot tell (some of its connections did not decode). */
static int subscribed(const model *m, const fz_run *run, size_t c, mqtt_bytes topic)
{
    const conn_info *me = &m->conn[c];
    for (size_t i = 0; i < run->nconn; i++) {
        const conn_info *o = &m->conn[i];
        bool mine = i == c || (me->client_id.len && o->known && same_id(o->client_id, me->client_id));
        if (mine && !o->trusted) return -1;
    }
    for (size_t f = 0; f < m->nfilters; f++) {
        const conn_info *o = &m->conn[m->filter_conn[f]];
        bool mine = (size_t)m->filter_conn[f] == c || (me->client_id.len && same_id(o->client_id, me->client_id));
        mqtt_bytes share, flt = m->filter[f];
        if (mqtt_shared_split(m->filter[f], &share, &flt) && !mine) continue;
        if (mine && mqtt_topic_matches(flt, topic)) return 1;
    }
    return 0;
}

static int fail(fz_finding *f, const fz_run *run, size_t c, const char *rule, uint8_t type, int before,
                const char *fmt, const char *arg)
{
    memset(f, 0, sizeof *f);
    f->cls = FZ_SPEC;
    f->conn = (int)c;
    f->client = run->conn[c].client;
    f->packet_type = type;
    f->before = before;
    f->code = -1;
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(f->what, sizeof f->what, "client %c (connection %zu): %s", 'a' + f->client, c + 1, msg);
    snprintf(f->sig, sizeof f->sig, "spec %s %s", rule, mqtt_packet_type_name((mqtt_packet_type)type));
    return 1;
}

static bool connack_code_ok(mqtt_version v, uint8_t rc)
{
    static const uint8_t v5[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f};
    if (v != MQTT_V5) return rc <= 5;
    for (size_t i = 0; i < sizeof v5; i++)
        if (v5[i] == rc) return true;
    return false;
}

typedef struct {
    mqtt_bytes alias[64]; /* topic of each alias the broker set on this connection */
} conn_state;

/* Checks one decoded broker packet (the idx-th on connection c). */
static int check_packet(const model *m, const fz_run *run, size_t c, const mqtt_packet *p, int idx,
                        conn_state *cs, fz_finding *f)
{
    const fz_conn *k = &run->conn[c];
    const char *name = mqtt_packet_type_name(p->type);
    if (idx == 0 && p->type != MQTT_CONNACK && !(k->version == MQTT_V5 && p->type == MQTT_AUTH))
        return fail(f, run, c, "MQTT-3.2.0-1", (uint8_t)p->type, idx, "first packet from the broker is %s, not CONNACK", name);
    if (p->type == MQTT_CONNACK && !connack_code_ok(k->version, p->connack.reason_code)) {
        char code[16];
        snprintf(code, sizeof code, "0x%02x", p->connack.reason_code);
        fail(f, run, c, k->version == MQTT_V5 ? "MQTT-3.2.2-8" : "MQTT-3.2.2-6", MQTT_CONNACK, idx,
             "CONNACK with reason code %s, not defined for CONNACK", code);
        f->code = p->connack.reason_code;
        return 1;
    }
    if (p->type != MQTT_PUBLISH) return 0;
    mqtt_bytes topic = p->publish.topic;
    const mqtt_properties *pr = &p->publish.properties;
    if (MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS)) {
        uint16_t a = pr->topic_alias;
        if (a > m->conn[c].topic_alias_max)
            return fail(f, run, c, "MQTT-3.1.2-27", MQTT_PUBLISH, idx, "%s", "Topic Alias above the client's Topic Alias Maximum");
        if (a < 64 && topic.len) cs->alias[a] = topic;
        else if (a < 64) topic = cs->alias[a];
    }
    if (!topic.len || !m->conn[c].known) return 0;
    if (subscribed(m, run, c, topic) == 0) {
        char t[96];
        snprintf(t, sizeof t, "%.*s", (int)(topic.len < 80 ? topic.len : 80), (const char *)topic.ptr);
        return fail(f, run, c, "MQTT-4.7.3-4", MQTT_PUBLISH, idx, "PUBLISH on '%s' but no subscription of this client matches it", t);
    }
    return 0;
}

static int check_conn(const model *m, const fz_run *run, size_t c, fz_finding *f)
{
    const fz_conn *k = &run->conn[c];
    fz_arrays a;
    mqtt_codec codec = fz_codec_for(k->version, MQTT_FROM_SERVER, &a, 0);
    codec.max_packet_size = m->conn[c].max_packet_size;
    static conn_state cs;
    memset(&cs, 0, sizeof cs);
    size_t off = 0;
    for (int idx = 0; off < k->in.len; idx++) {
        mqtt_packet p;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, k->in.p + off, k->in.len - off, &p, &err);
        if (st == MQTT_NEED_MORE) return 0; /* cut by our own close */
        if (st != MQTT_OK) {
            char line[200];
            mqtt_format_error(&err, line, sizeof line);
            fail(f, run, c, err.rule, k->in.p[off] >> 4, idx, "broker sent bytes that do not decode: %s", line);
            f->undecodable = true;
            return 1;
        }
        if (check_packet(m, run, c, &p, idx, &cs, f)) return 1;
        off += p.length;
    }
    return 0;
}

int fz_oracle_spec(const fz_session *s, const fz_run *run, fz_finding *f)
{
    static model m;
    memset(&m, 0, sizeof m);
    (void)s;
    for (size_t c = 0; c < run->nconn; c++) learn_conn(&m, run, c);
    for (size_t c = 0; c < run->nconn; c++) inherited(&m, run, c);
    for (size_t c = 0; c < run->nconn; c++)
        if (m.conn[c].known && check_conn(&m, run, c, f)) return 1;
    return 0;
}
