/*
 * pcap_check: a state machine per connection, fed by pcap_flow events.
 *
 * Invariants: in-flight packet ids are tracked per sender (the client's ids
 * and the server's ids are separate namespaces), one state byte per id,
 * allocated while the connection is open and freed when it closes; the
 * requested filters of each pending SUBSCRIBE are kept (copied) until its
 * SUBACK, and granted subscriptions until UNSUBACK or close. A check that
 * would need history the capture may lack is made only when the connection
 * is "complete": seen from its SYN, no gap or resync, session present 0.
 */
#include "pcaps/src/pcap_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rule in 3.1.1 (also used for 3.1) and in 5.0; NULL: not a rule of that version. */
typedef struct {
    const char *v4, *v5;
} rule_pair;

static const rule_pair R_FIRST_CONNECT = {"MQTT-3.1.0-1", "MQTT-3.1.0-1"};
static const rule_pair R_SECOND_CONNECT = {"MQTT-3.1.0-2", "MQTT-3.1.0-2"};
static const rule_pair R_CONNACK_FIRST = {"MQTT-3.2.0-1", "MQTT-3.2.0-1"};
static const rule_pair R_SECOND_CONNACK = {NULL, "MQTT-3.2.0-2"};
static const rule_pair R_AFTER_REFUSAL = {"MQTT-3.2.2-5", "MQTT-3.2.2-7"};
static const rule_pair R_AFTER_DISCONNECT = {"MQTT-3.14.4-1", "MQTT-3.14.4-1"};
static const rule_pair R_CLIENT_ID_REUSE = {"MQTT-2.3.1-2", "MQTT-2.2.1-3"};
static const rule_pair R_SERVER_ID_REUSE = {"MQTT-2.3.1-4", "MQTT-2.2.1-4"};
static const rule_pair R_ACK_ID = {"MQTT-2.3.1-6", "MQTT-2.2.1-5"};
static const rule_pair R_PUBCOMP_ID = {"MQTT-4.3.3-2", "MQTT-2.2.1-5"};
static const rule_pair R_SUBACK_ID = {"MQTT-3.8.4-2", "MQTT-3.8.4-2"};
static const rule_pair R_SUBACK_COUNT = {"MQTT-3.8.4-5", "MQTT-3.8.4-6"};
static const rule_pair R_UNSUBACK_ID = {"MQTT-3.10.4-4", "MQTT-3.10.4-5"};
static const rule_pair R_UNSUBACK_COUNT = {NULL, "MQTT-3.11.3-1"};
static const rule_pair R_QOS_GRANTED = {"MQTT-3.8.4-6", "MQTT-3.8.4-8"};
static const rule_pair R_KEEPALIVE = {"MQTT-3.1.2-24", "MQTT-3.1.2-22"};
static const rule_pair R_MAX_QOS = {NULL, "MQTT-3.2.2-11"};
static const rule_pair R_RETAIN_AVAILABLE = {NULL, "MQTT-3.2.2-14"};
static const rule_pair R_CLIENT_ALIAS = {NULL, "MQTT-3.3.2-9"};
static const rule_pair R_SERVER_ALIAS = {NULL, "MQTT-3.3.2-11"};
static const rule_pair R_CLIENT_RECEIVE_MAX = {NULL, "MQTT-3.3.4-7"};
static const rule_pair R_SERVER_RECEIVE_MAX = {NULL, "MQTT-3.3.4-9"};
static const rule_pair R_CLIENT_PACKET_SIZE = {NULL, "MQTT-3.2.2-15"};
static const rule_pair R_SERVER_PACKET_SIZE = {NULL, "MQTT-3.1.2-24"};

const char *const pcap_check_rules[] = {
    "4", "MQTT-3.1.0-1", "5", "MQTT-3.1.0-1", "4", "MQTT-3.1.0-2", "5", "MQTT-3.1.0-2",
    "4", "MQTT-3.2.0-1", "5", "MQTT-3.2.0-1", "5", "MQTT-3.2.0-2",
    "4", "MQTT-3.2.2-5", "5", "MQTT-3.2.2-7", "4", "MQTT-3.14.4-1", "5", "MQTT-3.14.4-1",
    "4", "MQTT-2.3.1-2", "5", "MQTT-2.2.1-3", "4", "MQTT-2.3.1-4", "5", "MQTT-2.2.1-4",
    "4", "MQTT-2.3.1-6", "5", "MQTT-2.2.1-5", "4", "MQTT-4.3.3-2",
    "4", "MQTT-3.8.4-2", "5", "MQTT-3.8.4-2", "4", "MQTT-3.8.4-5", "5", "MQTT-3.8.4-6",
    "4", "MQTT-3.10.4-4", "5", "MQTT-3.10.4-5", "5", "MQTT-3.11.3-1",
    "4", "MQTT-3.8.4-6", "5", "MQTT-3.8.4-8", "4", "MQTT-3.1.2-24", "5", "MQTT-3.1.2-22",
    "5", "MQTT-3.2.2-11", "5", "MQTT-3.2.2-14", "5", "MQTT-3.3.2-9", "5", "MQTT-3.3.2-11",
    "5", "MQTT-3.3.4-7", "5", "MQTT-3.3.4-9", "5", "MQTT-3.2.2-15", "5", "MQTT-3.1.2-24",
    NULL};

/* State of one packet id of one sender. */
enum { ID_FREE = 0, ID_PUB1, ID_PUB2_REC, ID_PUB2_COMP, ID_SUB, ID_UNSUB };

typedef struct {
    char *filter;
    uint8_t qos;             /* requested (pending) or granted */
} sub_entry;

typedef struct {
    uint16_t id;
    bool unsub;
    size_t count;
    sub_entry *filters;      /* requested filters, copied */
} pending_sub;

typedef struct {
    bool used;
    bool client_connect;     /* CONNECT seen */
    bool connack;            /* CONNACK seen */
    bool refused;
    bool fresh_session;      /* CONNACK with session present 0 */
    bool lossy;              /* a gap or resync: history incomplete */
    bool disconnected[2];    /* DISCONNECT sent by side */
    mqtt_version version;
    uint16_t keep_alive;     /* effective, seconds */
    int64_t last_client_ns;
    uint8_t *ids[2];         /* 65536 states per sender, lazily allocated */
    uint32_t inflight[2];    /* QoS>0 PUBLISH in flight per sender (Receive Maximum) */
    /* 5.0 limits: what the server announced (CONNACK) and the client (CONNECT). */
    uint8_t max_qos;
    bool retain_available;
    uint16_t receive_max[2];  /* limit on what side [s] may have in flight */
    uint16_t alias_max[2];    /* largest Topic Alias side [s] may send */
    uint32_t packet_max[2];   /* largest packet side [s] may send (0 = none) */
    pending_sub *pending;
    size_t npending;
    sub_entry *subs;
    size_t nsubs;
    bool subs_known;          /* every subscription of this session was seen */
} cstate;

struct pcap_checker {
    pcap_violation_fn fn;
    void *ctx;
    cstate *conns;           /* by connection id */
    size_t nconns;
    uint64_t packets;
};

pcap_checker *pcap_checker_new(pcap_violation_fn fn, void *ctx)
{
    pcap_checker *k = calloc(1, sizeof *k);
    if (k) {
        k->fn = fn;
        k->ctx = ctx;
    }
    return k;
}

uint64_t pcap_checker_packets(const pcap_checker *k)
{
    return k->packets;
}

static void free_state(cstate *c)
{
    free(c->ids[0]);
    free(c->ids[1]);
    for (size_t i = 0; i < c->npending; i++) {
        for (size_t j = 0; j < c->pending[i].count; j++)
            free(c->pending[i].filters[j].filter);
        free(c->pending[i].filters);
    }
    free(c->pending);
    for (size_t i = 0; i < c->nsubs; i++)
        free(c->subs[i].filter);
    free(c->subs);
    memset(c, 0, sizeof *c);
}

void pcap_checker_free(pcap_checker *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nconns; i++)
        free_state(&k->conns[i]);
    free(k->conns);
    free(k);
}

static cstate *state_of(pcap_checker *k, unsigned id)
{
    if (id >= k->nconns) {
        size_t n = k->nconns ? k->nconns : 16;
        while (n <= id)
            n *= 2;
        cstate *c = realloc(k->conns, n * sizeof *c);
        if (!c)
            return NULL;
        memset(c + k->nconns, 0, (n - k->nconns) * sizeof *c);
        k->conns = c;
        k->nconns = n;
    }
    return &k->conns[id];
}

static void flag(pcap_checker *k, const cstate *c, const pcap_event *ev, mqtt_side by,
                 rule_pair r, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void flag(pcap_checker *k, const cstate *c, const pcap_event *ev, mqtt_side by,
                 rule_pair r, const char *fmt, ...)
{
    bool v5 = c->version == MQTT_V5;
    const char *rule = v5 ? r.v5 : r.v4;
    if (!rule)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pcap_violation v = {.ev = ev, .by = by, .rule = rule,
                        .version = v5 ? MQTT_V5 : MQTT_V311,
                        .what = ev->pkt ? mqtt_packet_type_name(ev->pkt->type) : "stream",
                        .message = msg};
    k->fn(k->ctx, &v);
}

static uint8_t *ids_of(cstate *c, int side)
{
    if (!c->ids[side])
        c->ids[side] = calloc(65536, 1);
    return c->ids[side];
}

static bool complete(const cstate *c, const pcap_event *ev)
{
    return ev->conn->syn_seen && !c->lossy && c->fresh_session;
}

static const char *id_state_name(uint8_t s)
{
    switch (s) {
    case ID_PUB1: return "a QoS 1 PUBLISH awaiting PUBACK";
    case ID_PUB2_REC: return "a QoS 2 PUBLISH awaiting PUBREC";
    case ID_PUB2_COMP: return "a QoS 2 exchange awaiting PUBCOMP";
    case ID_SUB: return "a SUBSCRIBE awaiting SUBACK";
    case ID_UNSUB: return "an UNSUBSCRIBE awaiting UNSUBACK";
    default: return "nothing";
    }
}

static char *dup_bytes(mqtt_bytes b)
{
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.ptr, b.len);
        s[b.len] = '\0';
    }
    return s;
}

/* A new packet id from `side`: it must not be in flight already. */
static void take_id(pcap_checker *k, cstate *c, const pcap_event *ev, int side, uint16_t id,
                    uint8_t state, bool dup_resend)
{
    uint8_t *ids = ids_of(c, side);
    if (!ids)
        return;
    if (ids[id] != ID_FREE) {
        bool resend = dup_resend && ids[id] == state;
        if (!resend)
            flag(k, c, ev, (mqtt_side)side,
                 side == MQTT_FROM_CLIENT ? R_CLIENT_ID_REUSE : R_SERVER_ID_REUSE,
                 "packet id %u reused while %s still uses it", id, id_state_name(ids[id]));
        else
            return; /* a retransmission: same exchange */
    }
    if ((state == ID_PUB1 || state == ID_PUB2_REC) && ids[id] == ID_FREE)
        c->inflight[side]++;
    ids[id] = state;
}

static void release_pub(cstate *c, int side, uint16_t id)
{
    if (c->ids[side]) {
        c->ids[side][id] = ID_FREE;
        if (c->inflight[side])
            c->inflight[side]--;
    }
}

static void on_publish(pcap_checker *k, cstate *c, const pcap_event *ev, int side)
{
    const mqtt_publish *p = &ev->pkt->publish;
    const mqtt_properties *pr = &p->properties;
    bool v5 = c->version == MQTT_V5;
    if (v5 && MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS) && pr->topic_alias > c->alias_max[side])
        flag(k, c, ev, (mqtt_side)side,
             side == MQTT_FROM_CLIENT ? R_CLIENT_ALIAS : R_SERVER_ALIAS,
             "Topic Alias %u above the Topic Alias Maximum %u the %s announced", pr->topic_alias,
             c->alias_max[side], side == MQTT_FROM_CLIENT ? "server" : "client");
    if (side == MQTT_FROM_CLIENT && v5 && c->connack) {
        if (p->qos > c->max_qos)
            flag(k, c, ev, MQTT_FROM_CLIENT, R_MAX_QOS,
                 "PUBLISH QoS %u above the server's Maximum QoS %u", p->qos, c->max_qos);
        if (p->retain && !c->retain_available)
            flag(k, c, ev, MQTT_FROM_CLIENT, R_RETAIN_AVAILABLE,
                 "PUBLISH with RETAIN although the server announced Retain Available 0");
    }
    if (p->qos > 0) {
        uint8_t *ids = ids_of(c, side);
        bool fresh = ids && ids[p->packet_id] == ID_FREE;
        if (v5 && fresh && c->inflight[side] >= c->receive_max[side])
            flag(k, c, ev, (mqtt_side)side,
                 side == MQTT_FROM_CLIENT ? R_CLIENT_RECEIVE_MAX : R_SERVER_RECEIVE_MAX,
                 "%u QoS>0 PUBLISH already unacknowledged: Receive Maximum is %u",
                 c->inflight[side], c->receive_max[side]);
        take_id(k, c, ev, side, p->packet_id, p->qos == 1 ? ID_PUB1 : ID_PUB2_REC, p->dup);
    }
    /* Delivered QoS is at most the granted QoS of the matching subscriptions. */
    if (side == MQTT_FROM_SERVER && c->subs_known && complete(c, ev)) {
        int best = -1;
        for (size_t i = 0; i < c->nsubs; i++) {
            mqtt_bytes f = {(const uint8_t *)c->subs[i].filter, strlen(c->subs[i].filter)};
            mqtt_bytes share, inner;
            if (mqtt_shared_split(f, &share, &inner))
                f = inner;
            if (mqtt_topic_matches(f, p->topic) && (int)c->subs[i].qos > best)
                best = c->subs[i].qos;
        }
        if (best >= 0 && p->qos > best)
            flag(k, c, ev, MQTT_FROM_SERVER, R_QOS_GRANTED,
                 "delivered at QoS %u but the matching subscriptions were granted at most QoS %d",
                 p->qos, best);
    }
}

/* An acknowledgement of a PUBLISH flow. `owner` is the side whose id it is. */
static void on_pub_ack(pcap_checker *k, cstate *c, const pcap_event *ev, int side)
{
    const mqtt_ack *a = &ev->pkt->ack;
    mqtt_packet_type t = ev->pkt->type;
    int owner = t == MQTT_PUBREL ? side : !side; /* PUBREL: the sender's own id */
    uint8_t *ids = ids_of(c, owner);
    if (!ids)
        return;
    uint8_t st = ids[a->packet_id];
    bool v5 = c->version == MQTT_V5;
    uint8_t want = t == MQTT_PUBACK ? ID_PUB1 : t == MQTT_PUBREC ? ID_PUB2_REC : ID_PUB2_COMP;
    if (st == want) {
        if (t == MQTT_PUBACK || t == MQTT_PUBCOMP || (t == MQTT_PUBREC && v5 && a->reason_code >= 0x80))
            release_pub(c, owner, a->packet_id);
        else if (t == MQTT_PUBREC)
            ids[a->packet_id] = ID_PUB2_COMP;
        return;
    }
    if (t == MQTT_PUBREL && st == ID_PUB2_COMP)
        return; /* a repeated PUBREL: allowed */
    /* 5.0: "Packet Identifier not found" answers are the legitimate reply to an unknown id. */
    if (v5 && a->reason_code == 0x92)
        return;
    if (!complete(c, ev))
        return;
    flag(k, c, ev, (mqtt_side)side, t == MQTT_PUBCOMP ? R_PUBCOMP_ID : R_ACK_ID,
         "%s for packet id %u, which has %s", mqtt_packet_type_name(t), a->packet_id,
         st == ID_FREE ? "nothing in flight" : id_state_name(st));
}

static void on_subscribe(pcap_checker *k, cstate *c, const pcap_event *ev)
{
    const mqtt_subscribe *s = &ev->pkt->subscribe;
    bool unsub = ev->pkt->type == MQTT_UNSUBSCRIBE;
    take_id(k, c, ev, MQTT_FROM_CLIENT, s->packet_id, unsub ? ID_UNSUB : ID_SUB, false);
    pending_sub *np = realloc(c->pending, (c->npending + 1) * sizeof *np);
    if (!np)
        return;
    c->pending = np;
    pending_sub *p = &c->pending[c->npending];
    p->id = s->packet_id;
    p->unsub = unsub;
    p->count = 0;
    p->filters = calloc(s->count ? s->count : 1, sizeof *p->filters);
    if (!p->filters)
        return;
    for (size_t i = 0; i < s->count; i++) {
        p->filters[i].filter = dup_bytes(s->subscriptions[i].topic_filter);
        p->filters[i].qos = s->subscriptions[i].qos;
        if (p->filters[i].filter)
            p->count++;
    }
    c->npending++;
}

static void drop_sub(cstate *c, const char *filter)
{
    for (size_t i = 0; i < c->nsubs; i++)
        if (strcmp(c->subs[i].filter, filter) == 0) {
            free(c->subs[i].filter);
            c->subs[i] = c->subs[--c->nsubs];
            return;
        }
}

static void on_suback(pcap_checker *k, cstate *c, const pcap_event *ev)
{
    const mqtt_suback *a = &ev->pkt->suback;
    bool unsub = ev->pkt->type == MQTT_UNSUBACK;
    bool v5 = c->version == MQTT_V5;
    size_t i;
    for (i = 0; i < c->npending; i++)
        if (c->pending[i].id == a->packet_id && c->pending[i].unsub == unsub)
            break;
    if (i == c->npending) {
        if (complete(c, ev))
            flag(k, c, ev, MQTT_FROM_SERVER, unsub ? R_UNSUBACK_ID : R_SUBACK_ID,
                 "%s for packet id %u, which has no %s in flight", unsub ? "UNSUBACK" : "SUBACK",
                 a->packet_id, unsub ? "UNSUBSCRIBE" : "SUBSCRIBE");
        return;
    }
    pending_sub p = c->pending[i];
    c->pending[i] = c->pending[--c->npending];
    if (c->ids[MQTT_FROM_CLIENT])
        c->ids[MQTT_FROM_CLIENT][a->packet_id] = ID_FREE;
    bool counted = !unsub || v5;
    if (counted && a->reason_codes.len != p.count)
        flag(k, c, ev, MQTT_FROM_SERVER, unsub ? R_UNSUBACK_COUNT : R_SUBACK_COUNT,
             "%zu reason codes for %zu topic filters", a->reason_codes.len, p.count);
    for (size_t j = 0; j < p.count; j++) {
        if (unsub) {
            drop_sub(c, p.filters[j].filter);
        } else if (j < a->reason_codes.len && a->reason_codes.ptr[j] <= 2) {
            drop_sub(c, p.filters[j].filter);
            sub_entry *ns = realloc(c->subs, (c->nsubs + 1) * sizeof *ns);
            if (ns) {
                c->subs = ns;
                c->subs[c->nsubs].filter = p.filters[j].filter;
                c->subs[c->nsubs].qos = a->reason_codes.ptr[j];
                c->nsubs++;
                p.filters[j].filter = NULL;
            }
        }
        free(p.filters[j].filter);
    }
    free(p.filters);
}

static void on_connect(pcap_checker *k, cstate *c, const pcap_event *ev)
{
    const mqtt_connect *cn = &ev->pkt->connect;
    if (c->client_connect) {
        flag(k, c, ev, MQTT_FROM_CLIENT, R_SECOND_CONNECT, "a second CONNECT on one connection");
        return;
    }
    c->client_connect = true;
    c->version = (mqtt_version)cn->protocol_level;
    c->keep_alive = cn->keep_alive;
    const mqtt_properties *pr = &cn->properties;
    /* What the client accepts, i.e. limits on the server's sending. */
    c->receive_max[MQTT_FROM_SERVER] =
        MQTT_HAS_PROP(pr, MQTT_PROP_RECEIVE_MAXIMUM) ? pr->receive_maximum : 65535;
    c->alias_max[MQTT_FROM_SERVER] =
        MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM) ? pr->topic_alias_maximum : 0;
    c->packet_max[MQTT_FROM_SERVER] =
        MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE) ? pr->maximum_packet_size : 0;
}

static void on_connack(pcap_checker *k, cstate *c, const pcap_event *ev)
{
    const mqtt_connack *a = &ev->pkt->connack;
    if (c->connack) {
        flag(k, c, ev, MQTT_FROM_SERVER, R_SECOND_CONNACK, "a second CONNACK on one connection");
        return;
    }
    c->connack = true;
    bool v5 = c->version == MQTT_V5;
    c->refused = v5 ? a->reason_code >= 0x80 : a->reason_code != 0;
    c->fresh_session = !a->session_present;
    c->subs_known = !a->session_present;
    const mqtt_properties *pr = &a->properties;
    c->max_qos = MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_QOS) ? pr->maximum_qos : 2;
    c->retain_available = MQTT_HAS_PROP(pr, MQTT_PROP_RETAIN_AVAILABLE) ? pr->retain_available : 1;
    c->receive_max[MQTT_FROM_CLIENT] =
        MQTT_HAS_PROP(pr, MQTT_PROP_RECEIVE_MAXIMUM) ? pr->receive_maximum : 65535;
    c->alias_max[MQTT_FROM_CLIENT] =
        MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM) ? pr->topic_alias_maximum : 0;
    c->packet_max[MQTT_FROM_CLIENT] =
        MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE) ? pr->maximum_packet_size : 0;
    if (v5 && MQTT_HAS_PROP(pr, MQTT_PROP_SERVER_KEEP_ALIVE))
        c->keep_alive = pr->server_keep_alive;
}

static void init_state(cstate *c, const pcap_event *ev)
{
    memset(c, 0, sizeof *c);
    c->used = true;
    c->version = ev->conn->version;
    c->max_qos = 2;
    c->retain_available = true;
    c->receive_max[0] = c->receive_max[1] = 65535;
    c->lossy = ev->conn->midstream;
    c->last_client_ns = -1;
}

static void on_packet(pcap_checker *k, cstate *c, const pcap_event *ev)
{
    const mqtt_packet *pkt = ev->pkt;
    int side = ev->from;
    int64_t now = ev->ts_sec * 1000000000 + ev->ts_nsec;
    k->packets++;
    if (c->version == MQTT_VERSION_UNKNOWN || ev->conn->version_guessed)
        c->version = ev->version;
    if (c->disconnected[side])
        flag(k, c, ev, (mqtt_side)side, R_AFTER_DISCONNECT,
             "%s sent after its own DISCONNECT", mqtt_packet_type_name(pkt->type));
    if (c->packet_max[side] && pkt->length > c->packet_max[side])
        flag(k, c, ev, (mqtt_side)side,
             side == MQTT_FROM_CLIENT ? R_CLIENT_PACKET_SIZE : R_SERVER_PACKET_SIZE,
             "packet of %zu bytes above the Maximum Packet Size %u the %s announced",
             pkt->length, c->packet_max[side], side == MQTT_FROM_CLIENT ? "server" : "client");
    if (side == MQTT_FROM_CLIENT) {
        if (!c->client_connect && pkt->type != MQTT_CONNECT && ev->conn->syn_seen &&
            !c->lossy)
            flag(k, c, ev, MQTT_FROM_CLIENT, R_FIRST_CONNECT,
                 "the client's first packet is %s, not CONNECT", mqtt_packet_type_name(pkt->type));
        /* Keep alive: a client silent for 1.5 x keep alive must have been disconnected. */
        if (c->keep_alive && c->last_client_ns >= 0 && !c->refused &&
            now - c->last_client_ns > (int64_t)c->keep_alive * 1500000000 + 500000000)
            flag(k, c, ev, MQTT_FROM_SERVER, R_KEEPALIVE,
                 "the client was silent for %.1f s with keep alive %u s and the server did not "
                 "close the connection",
                 (double)(now - c->last_client_ns) / 1e9, c->keep_alive);
        c->last_client_ns = now;
    } else {
        bool early = !c->connack && pkt->type != MQTT_CONNACK &&
                     !(c->version == MQTT_V5 && pkt->type == MQTT_AUTH);
        if (early && ev->conn->syn_seen && !c->lossy)
            flag(k, c, ev, MQTT_FROM_SERVER, R_CONNACK_FIRST, "%s sent before CONNACK",
                 mqtt_packet_type_name(pkt->type));
        if (c->refused)
            flag(k, c, ev, MQTT_FROM_SERVER, R_AFTER_REFUSAL,
                 "%s sent after a CONNACK refusing the connection (the server must close it)",
                 mqtt_packet_type_name(pkt->type));
    }
    switch (pkt->type) {
    case MQTT_CONNECT:
        on_connect(k, c, ev);
        c->last_client_ns = now;
        break;
    case MQTT_CONNACK:
        on_connack(k, c, ev);
        break;
    case MQTT_PUBLISH:
        on_publish(k, c, ev, side);
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
        on_pub_ack(k, c, ev, side);
        break;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE:
        on_subscribe(k, c, ev);
        break;
    case MQTT_SUBACK: case MQTT_UNSUBACK:
        on_suback(k, c, ev);
        break;
    case MQTT_DISCONNECT:
        c->disconnected[side] = true;
        break;
    default:
        break;
    }
}

void pcap_checker_event(pcap_checker *k, const pcap_event *ev)
{
    cstate *c = state_of(k, ev->conn->id);
    if (!c)
        return;
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        free_state(c);
        init_state(c, ev);
        break;
    case PCAP_EV_PACKET:
        if (c->used)
            on_packet(k, c, ev);
        break;
    case PCAP_EV_BAD: {
        if (!c->used)
            break;
        char msg[300];
        snprintf(msg, sizeof msg, "%s: %s (byte %zu of the packet)",
                 mqtt_status_name(ev->err->status), ev->err->message, ev->err->offset);
        /* Name the packet the codec rejected (its first byte tells the type),
         * so that a rejected CONNECT reads differently from a rejected PUBLISH. */
        mqtt_header h;
        const char *what = "undecodable";
        if (ev->raw_len > 0) {
            mqtt_peek_header(MQTT_VERSION_UNKNOWN, ev->raw, ev->raw_len, &h, NULL);
            what = mqtt_packet_type_name(h.type);
        }
        pcap_violation v = {.ev = ev, .by = ev->from, .rule = ev->err->rule,
                            .version = ev->err->version ? ev->err->version : ev->version,
                            .what = what, .message = msg};
        k->fn(k->ctx, &v);
        break;
    }
    case PCAP_EV_GAP:
    case PCAP_EV_RESYNC:
        c->lossy = true;
        break;
    case PCAP_EV_NOTE:
        break;
    case PCAP_EV_CLOSE:
        free_state(c);
        break;
    }
}
