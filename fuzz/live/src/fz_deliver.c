/*
 * fz_deliver: PUBLISH deliveries compared between two runs (see fz_deliver.h).
 * First the session's facts from what the clients sent (identical in both
 * runs for every connection judged): topics left out, shared filters, Retain
 * As Published; then each judged connection's deliveries as a set of
 * (topic, payload) with the highest QoS and the RETAIN flags seen.
 * Views point into the runs' stream buffers.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz/live/src/fz_deliver.h"
#include "fuzz/live/src/fz_codec.h"

#include <mqtt/topic.h>
#include <stdio.h>
#include <string.h>

#define MAX_KEYS 128
#define MAX_TOPICS 64

typedef struct {
    mqtt_bytes topic, payload;
    uint8_t qos;       /* highest QoS it came at */
    uint8_t retain;    /* bit 0: came with RETAIN 0, bit 1: with RETAIN 1 */
} dkey;

typedef struct {
    dkey k[MAX_KEYS];
    int n;
    bool full;         /* more distinct messages than MAX_KEYS: not judged */
} dset;

typedef struct {
    const fz_buf *uncertain[2 * FZ_MAX_CONNS]; /* streams of connections not judged as sources */
    int nuncertain;
    mqtt_bytes shared[MAX_TOPICS], racy[MAX_TOPICS];
    int nshared, nracy;
    bool rap;          /* a 5.0 subscription with Retain As Published */
    bool skip;         /* the session cannot be judged at all */
} facts;

static bool eq(mqtt_bytes a, mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool valid(const fz_conn *k)
{
    return k->out_ok && k->out_parsed == k->out.len && !k->refused;
}

/* A source whose every packet both brokers processed alike. */
static bool certain(const fz_conn *a, const fz_conn *b)
{
    return valid(a) && valid(b) && !a->broker_closed && !b->broker_closed && a->client == b->client && a->out.len == b->out.len &&
           (a->out.len == 0 || memcmp(a->out.p, b->out.p, a->out.len) == 0);
}

/* A topic to leave out; more than the list holds: the session is not judged. */
static void add_topic(facts *fx, mqtt_bytes *list, int *n, mqtt_bytes t)
{
    if (*n < MAX_TOPICS) list[(*n)++] = t;
    else fx->skip = true;
}

/* What one client packet tells: shared filters, RAP, clock-dependent topics. */
static void note_sent(facts *fx, const mqtt_packet *p, mqtt_bytes alias[4])
{
    if (p->type == MQTT_SUBSCRIBE) {
        for (size_t i = 0; i < p->subscribe.count; i++) {
            mqtt_bytes share, flt;
            if (mqtt_shared_split(p->subscribe.subscriptions[i].topic_filter, &share, &flt)) add_topic(fx, fx->shared, &fx->nshared, flt);
            fx->rap |= p->subscribe.subscriptions[i].retain_as_published;
        }
    } else if (p->type == MQTT_CONNECT && p->connect.will) {
        add_topic(fx, fx->racy, &fx->nracy, p->connect.will_topic);
    } else if (p->type == MQTT_PUBLISH) {
        mqtt_bytes t = p->publish.topic;
        const mqtt_properties *pp = &p->publish.properties;
        if (MQTT_HAS_PROP(pp, MQTT_PROP_TOPIC_ALIAS) && pp->topic_alias < 4) {
            if (t.len) alias[pp->topic_alias] = t;
            else t = alias[pp->topic_alias];
        }
        if (p->publish.qos == 0 || MQTT_HAS_PROP(pp, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)) add_topic(fx, fx->racy, &fx->nracy, t);
    }
}

static void learn(facts *fx, const fz_conn *k)
{
    fz_arrays a;
    mqtt_bytes alias[4] = {{0}};
    mqtt_version v = k->version;
    for (size_t off = 0, idx = 0; off < k->out.len; idx++) {
        mqtt_codec codec = fz_codec_for(v, MQTT_FROM_CLIENT, &a, 0);
        mqtt_packet p;
        if (mqtt_decode(&codec, k->out.p + off, k->out.len - off, &p, NULL) != MQTT_OK) return;
        if (idx == 0 && p.type == MQTT_CONNECT) v = (mqtt_version)p.connect.protocol_level;
        note_sent(fx, &p, alias);
        off += p.length;
    }
}

static void session_facts(facts *fx, const fz_run *t, const fz_run *r)
{
    memset(fx, 0, sizeof *fx);
    fx->skip = t->nconn != r->nconn;
    for (size_t c = 0; c < t->nconn && !fx->skip; c++) {
        const fz_conn *a = &t->conn[c], *b = &r->conn[c];
        if (certain(a, b)) {
            learn(fx, a);
            continue;
        }
        fx->uncertain[fx->nuncertain++] = &a->out;
        fx->uncertain[fx->nuncertain++] = &b->out;
        /* A shared subscription we cannot decode may take messages from any member. */
        if (memmem(a->out.p, a->out.len, "$share", 6) || memmem(b->out.p, b->out.len, "$share", 6)) fx->skip = true;
    }
}

static bool comparable(const facts *fx, mqtt_bytes topic)
{
    for (int i = 0; i < fx->nshared; i++)
        if (mqtt_topic_matches(fx->shared[i], topic)) return false;
    for (int i = 0; i < fx->nracy; i++)
        if (eq(fx->racy[i], topic)) return false;
    for (int i = 0; i < fx->nuncertain; i++) {
        const fz_buf *b = fx->uncertain[i];
        if (b->len && memmem(b->p, b->len, topic.ptr, topic.len)) return false;
    }
    return true;
}

static void add_delivery(dset *d, const mqtt_publish *p, mqtt_bytes topic)
{
    for (int i = 0; i < d->n; i++) {
        dkey *k = &d->k[i];
        if (!eq(k->topic, topic) || !eq(k->payload, p->payload)) continue;
        if (p->qos > k->qos) k->qos = p->qos;
        k->retain |= (uint8_t)(p->retain ? 2 : 1);
        return;
    }
    if (d->n == MAX_KEYS) {
        d->full = true;
        return;
    }
    d->k[d->n++] = (dkey){topic, p->payload, p->qos, (uint8_t)(p->retain ? 2 : 1)};
}

/* The deliveries of connection k (topic aliases resolved), the comparable ones
 * into d when fx is given; calls each(p, topic, arg) for every PUBLISH. */
static void deliveries(const fz_conn *k, const facts *fx, dset *d,
                       void (*each)(const mqtt_publish *, mqtt_bytes, void *), void *arg)
{
    fz_arrays a;
    mqtt_bytes alias[64] = {{0}};
    mqtt_codec codec = fz_codec_for(k->version, MQTT_FROM_SERVER, &a, 0);
    if (d) d->n = 0, d->full = false;
    for (size_t off = 0; off < k->in.len;) {
        mqtt_packet p;
        if (mqtt_decode(&codec, k->in.p + off, k->in.len - off, &p, NULL) != MQTT_OK) return;
        off += p.length;
        if (p.type != MQTT_PUBLISH) continue;
        mqtt_bytes topic = p.publish.topic;
        const mqtt_properties *pp = &p.publish.properties;
        if (MQTT_HAS_PROP(pp, MQTT_PROP_TOPIC_ALIAS) && pp->topic_alias < 64) {
            if (topic.len) alias[pp->topic_alias] = topic;
            else topic = alias[pp->topic_alias];
        }
        if (each) each(&p.publish, topic, arg);
        if (d && topic.len && comparable(fx, topic)) add_delivery(d, &p.publish, topic);
    }
}

/* SUBACK codes of every connection, in order: equal in both runs means every
 * subscription was granted the same maximum QoS. */
static bool same_grants(const fz_run *t, const fz_run *r)
{
    for (size_t c = 0; c < t->nconn; c++) {
        const fz_conn *k[2] = {&t->conn[c], &r->conn[c]};
        uint8_t codes[2][64];
        size_t n[2] = {0, 0};
        for (int side = 0; side < 2; side++) {
            fz_arrays a;
            mqtt_codec codec = fz_codec_for(k[side]->version, MQTT_FROM_SERVER, &a, 0);
            for (size_t off = 0; off < k[side]->in.len;) {
                mqtt_packet p;
                if (mqtt_decode(&codec, k[side]->in.p + off, k[side]->in.len - off, &p, NULL) != MQTT_OK) break;
                off += p.length;
                for (size_t i = 0; p.type == MQTT_SUBACK && i < p.suback.reason_codes.len && n[side] < 64; i++)
                    codes[side][n[side]++] = p.suback.reason_codes.ptr[i];
            }
        }
        if (n[0] != n[1] || (n[0] && memcmp(codes[0], codes[1], n[0]) != 0)) return false;
    }
    return true;
}

static const dkey *find(const dset *d, const dkey *k)
{
    for (int i = 0; i < d->n; i++)
        if (eq(d->k[i].topic, k->topic) && eq(d->k[i].payload, k->payload)) return &d->k[i];
    return NULL;
}

/* Text of bytes for people: printable as is, the rest as \xHH, cut at 60. */
static void show(char *out, size_t cap, mqtt_bytes b)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < b.len && i < 60 && n + 5 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, b.ptr[i] >= 0x20 && b.ptr[i] < 0x7f && b.ptr[i] != '"' ? "%c" : "\\x%02x", b.ptr[i]);
}

/* The reference's deliveries on one connection as scenario steps (see fz_emit_mqs). */
typedef struct {
    char *out;
    size_t cap, n;
    const char *ns;
    char who;
} lines;

/* A quoted scenario string: the namespace as ${ns}, other bytes escaped. */
static void quoted(lines *l, mqtt_bytes b)
{
    size_t nl = strlen(l->ns);
    l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, "\"");
    for (size_t i = 0; i < b.len && l->n + 8 < l->cap;) {
        if (i + nl <= b.len && memcmp(b.ptr + i, l->ns, nl) == 0) {
            l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, "${ns}");
            i += nl;
            continue;
        }
        uint8_t c = b.ptr[i++];
        l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '$' ? "%c" : "\\x%02x", c);
    }
    l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, "\"");
}

static void expect_line(const mqtt_publish *p, mqtt_bytes topic, void *arg)
{
    lines *l = arg;
    size_t start = l->n;
    if (l->n + 200 + 2 * (topic.len + p->payload.len) > l->cap) {
        l->n = l->cap; /* does not fit: the caller leaves the list out */
        return;
    }
    l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, "%c expect PUBLISH topic=", l->who);
    quoted(l, topic);
    l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, " payload=");
    quoted(l, p->payload);
    l->n += (size_t)snprintf(l->out + l->n, l->cap - l->n, " qos=%u within 2s unordered\n", p->qos);
    if (l->n >= l->cap) l->out[start] = 0, l->n = l->cap;
}

static int differ(fz_finding *f, const fz_conn *k, size_t c, const char *rule, const char *kind, const char *what)
{
    memset(f, 0, sizeof *f);
    f->cls = FZ_DIFF;
    f->conn = (int)c;
    f->client = k->client;
    f->before = -1;
    f->code = -1;
    f->packet_type = MQTT_PUBLISH;
    f->delivery = true;
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    snprintf(f->what, sizeof f->what, "client %c (connection %zu): %s", 'a' + k->client, c + 1, what);
    snprintf(f->sig, sizeof f->sig, "diff %s delivery %s", rule, kind);
    return 1;
}

/* The first difference between the sets of connection c, as a finding. */
static int compare_sets(const dset *t, const dset *r, const fz_conn *k, size_t c, bool qos, bool retain,
                        fz_finding *f)
{
    bool v5 = k->version == MQTT_V5;
    const char *deliver = v5 ? "MQTT-3.3.4-2" : "MQTT-3.3.5-1";
    char what[260], topic[90], payload[50];
    for (int pass = 0; pass < 2; pass++) {
        const dset *a = pass ? t : r, *b = pass ? r : t;
        for (int i = 0; i < a->n; i++) {
            const dkey *x = &a->k[i], *y = find(b, x);
            show(topic, sizeof topic, x->topic);
            show(payload, sizeof payload, x->payload);
            if (!y && !pass) {
                snprintf(what, sizeof what, "no PUBLISH on '%s' payload \"%s\"; the reference delivered it (QoS %u)", topic, payload, x->qos);
                return differ(f, k, c, deliver, "missing", what);
            }
            if (!y) {
                snprintf(what, sizeof what, "PUBLISH on '%s' payload \"%s\" (QoS %u); the reference did not deliver it", topic, payload, x->qos);
                return differ(f, k, c, "MQTT-4.7.3-4", "extra", what);
            }
            if (pass && qos && x->qos != y->qos) {
                snprintf(what, sizeof what, "PUBLISH on '%s' payload \"%s\" at QoS %u; the reference delivered it at QoS %u", topic, payload, x->qos, y->qos);
                return differ(f, k, c, deliver, "qos", what);
            }
            if (pass && retain && x->retain != y->retain) {
                snprintf(what, sizeof what, "PUBLISH on '%s' payload \"%s\" with RETAIN %s; the reference sent RETAIN %s", topic, payload,
                         x->retain == 3 ? "0 and 1" : x->retain == 2 ? "1" : "0", y->retain == 3 ? "0 and 1" : y->retain == 2 ? "1" : "0");
                return differ(f, k, c, v5 ? "MQTT-3.3.1-12" : "MQTT-3.3.1-9", "retain", what);
            }
        }
    }
    return 0;
}

int fz_deliver_diff(const fz_run *target, const fz_run *ref, const char *ns, fz_finding *f)
{
    static facts fx;
    static dset a, b;
    session_facts(&fx, target, ref);
    if (fx.skip) return 0;
    bool qos = same_grants(target, ref);
    for (size_t c = 0; c < target->nconn; c++) {
        const fz_conn *t = &target->conn[c], *r = &ref->conn[c];
        if (!certain(t, r) || !t->synced || !r->synced) continue; /* the same client's same bytes */
        deliveries(t, &fx, &a, NULL, NULL);
        deliveries(r, &fx, &b, NULL, NULL);
        if (a.full || b.full) continue;
        if (!compare_sets(&a, &b, t, c, qos, t->version != MQTT_V5 || !fx.rap, f)) continue;
        /* The reference's deliveries, then nothing more: the scenario's check. */
        lines l = {.out = f->expect, .cap = sizeof f->expect, .ns = ns, .who = (char)('a' + t->client)};
        deliveries(r, &fx, NULL, expect_line, &l);
        if (l.n < l.cap) snprintf(f->expect + l.n, l.cap - l.n, "%c expect nothing for 1s\n", l.who);
        else f->expect[0] = 0;
        return 1;
    }
    return 0;
}
