/*
 * broker_persist: the persistent state of the core as bytes (sans-I/O; the
 * files are written by broker_store.c): a journal of changes, appended as
 * they happen, and a snapshot of everything, written from time to time.
 *
 * File: "MQBPERS1", kind (1 snapshot, 2 journal), generation (u64), then
 * records: u32 body length, u8 type, body, u32 CRC-32 of type and body. A
 * snapshot ends with R_END (the number of records and bytes before it), so
 * one cut at a record boundary is told from a whole one. All
 * integers big-endian; strings and binaries are u32 length + bytes. A
 * journal belongs to the snapshot of the same generation.
 *
 * Messages are written once per generation (R_MSG with an id) and referred
 * to by id, so a message delivered to a thousand sessions is stored once.
 *
 * Invariants: nothing is journaled while restoring; only persistent
 * sessions and their QoS 1/2 deliveries are journaled (QoS 0 and clean
 * sessions do not survive a restart anyway, as in mosquitto); $SYS retained
 * messages are never stored (the broker makes them); a reader stops at the
 * first record that is truncated, fails its CRC, is unknown or does not fit
 * the state (a session or message it names is missing) and reports its
 * offset, keeping everything before it.
 */
#include "broker/src/broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "MQBPERS1"
#define HEADER_LEN 17

enum {
    R_MSG = 1,
    R_RETAIN = 2,
    R_RETAIN_DEL = 3,
    R_SESSION = 4,
    R_SESSION_END = 5,
    R_SUB = 6,
    R_UNSUB = 7,
    R_QUEUE = 8,
    R_INFLIGHT = 9,
    R_PUBREL = 10,
    R_DONE = 11,
    R_DROP = 12,
    R_RX = 13,
    R_RX_DONE = 14,
    R_INFLIGHT_SNAP = 15,
    R_RXC = 16,      /* QoS 2 PUBREC'd for a clean session: client id, packet id, message */
    R_RXC_DONE = 17, /* ... released (PUBREL) or dropped with its session */
    R_END = 18,      /* last record of a snapshot: records before it (u64), its own offset (u64) */
};

/* A QoS 2 message a clean session's client handed over (PUBREC sent) but
 * did not release before a crash. The client will never send PUBREL for it
 * (its session is gone), and the broker owned it from PUBREC on: it is
 * delivered when the restore ends. */
struct broker_orphan {
    struct broker_orphan *next;
    broker_msg *msg;
    uint16_t packet_id;
    size_t id_len;
    char id[];
};

/* ------------------------------------------------------------------ CRC */

static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    if (!crc_table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* --------------------------------------------------------------- writer */

typedef struct {
    broker_buf *b;
    size_t start; /* of the current record */
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (n == 0) return;
    memcpy(broker_buf_reserve(w->b, n), p, n);
    w->b->len += n;
}

static void put_u8(writer *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_u16(writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static void put_bytes(writer *w, const void *p, size_t n)
{
    put_u32(w, (uint32_t)n);
    put(w, p, n);
}

static void put_str(writer *w, const char *s)
{
    put_bytes(w, s, s ? strlen(s) : 0);
}

static void begin(writer *w, uint8_t type)
{
    w->start = w->b->len;
    put_u32(w, 0);
    put_u8(w, type);
}

static void end(writer *w)
{
    uint8_t *rec = w->b->data + w->start;
    size_t body = w->b->len - w->start - 5;
    rec[0] = (uint8_t)(body >> 24);
    rec[1] = (uint8_t)(body >> 16);
    rec[2] = (uint8_t)(body >> 8);
    rec[3] = (uint8_t)body;
    uint32_t crc = crc32_of(rec + 4, body + 1);
    put_u32(w, crc);
}

static void header(broker_buf *b, int kind, uint64_t gen)
{
    writer w = {b, 0};
    put(&w, MAGIC, 8);
    put_u8(&w, (uint8_t)kind);
    put_u64(&w, gen);
}

size_t broker_core_journal_header(uint64_t generation, uint8_t *out, size_t cap)
{
    if (cap < HEADER_LEN) return 0;
    broker_buf b = {0};
    header(&b, 2, generation);
    memcpy(out, b.data + b.off, HEADER_LEN);
    broker_buf_free(&b);
    return HEADER_LEN;
}

static bool is_sys_topic(mqtt_bytes t)
{
    return t.len >= 4 && memcmp(t.ptr, "$SYS", 4) == 0 && (t.len == 4 || t.ptr[4] == '/');
}

/* Writes m once per generation; returns its id. */
static uint64_t emit_msg(broker_core *core, writer *w, broker_msg *m, uint32_t gen)
{
    if (m->pgen == gen && m->pid) return m->pid;
    m->pid = core->next_pid++;
    m->pgen = gen;
    begin(w, R_MSG);
    put_u64(w, m->pid);
    put_u8(w, m->qos);
    uint8_t flags = (uint8_t)((m->retain ? 1 : 0) | (m->has_pfi ? 2 : 0) | (m->has_expiry ? 4 : 0) |
                              (m->has_content_type ? 8 : 0) | (m->has_response_topic ? 16 : 0) |
                              (m->has_correlation_data ? 32 : 0));
    put_u8(w, flags);
    put_u8(w, m->pfi);
    uint32_t left = 0;
    if (m->has_expiry) {
        int64_t ms = m->expiry_at - core->now;
        left = ms <= 0 ? 1 : (uint32_t)((ms + 999) / 1000);
    }
    put_u32(w, left);
    put_bytes(w, m->topic.ptr, m->topic.len);
    put_bytes(w, m->payload.ptr, m->payload.len);
    put_bytes(w, m->content_type.ptr, m->content_type.len);
    put_bytes(w, m->response_topic.ptr, m->response_topic.len);
    put_bytes(w, m->correlation_data.ptr, m->correlation_data.len);
    put_u32(w, (uint32_t)m->user_prop_count);
    for (size_t i = 0; i < m->user_prop_count; i++) {
        put_bytes(w, m->user_props[i].name.ptr, m->user_props[i].name.len);
        put_bytes(w, m->user_props[i].value.ptr, m->user_props[i].value.len);
    }
    end(w);
    return m->pid;
}

static void put_subids(writer *w, const broker_delivery *d)
{
    put_u16(w, d->nsubids);
    const uint32_t *ids = d->nsubids > 1 ? d->subids.many : &d->subids.one;
    for (size_t i = 0; i < d->nsubids; i++) put_u32(w, ids[i]);
}

static void write_session(writer *w, const broker_session *s)
{
    begin(w, R_SESSION);
    put_bytes(w, s->client_id, s->client_id_len);
    put_u32(w, s->expiry_interval);
    put_u8(w, s->username ? 1 : 0);
    put_str(w, s->username);
    put_u8(w, s->policy);
    end(w);
}

static void write_sub(writer *w, const broker_session *s, const broker_sub *sub)
{
    begin(w, R_SUB);
    put_bytes(w, s->client_id, s->client_id_len);
    put_bytes(w, sub->filter, sub->filter_len);
    put_u8(w, sub->qos);
    put_u8(w, (uint8_t)((sub->no_local ? 1 : 0) | (sub->rap ? 2 : 0)));
    put_u8(w, sub->rh);
    put_u32(w, sub->subid);
    end(w);
}

static void write_queue(broker_core *core, writer *w, const broker_session *s, const broker_delivery *d, uint32_t gen)
{
    uint64_t id = emit_msg(core, w, d->msg, gen);
    begin(w, R_QUEUE);
    put_bytes(w, s->client_id, s->client_id_len);
    put_u64(w, id);
    put_u8(w, d->qos);
    put_u8(w, d->retain ? 1 : 0);
    put_subids(w, d);
    end(w);
}

/* ------------------------------------------------------------ journal */

static bool journaling(const broker_core *core)
{
    return core->opt.persistence && !core->restoring;
}

static writer jw(broker_core *core)
{
    return (writer){&core->journal, 0};
}

void broker_journal_session(broker_core *core, broker_session *s)
{
    if (!journaling(core) || !s->persistent) return;
    writer w = jw(core);
    write_session(&w, s);
    s->journaled = true;
}

void broker_journal_session_end(broker_core *core, broker_session *s)
{
    if (!s->journaled) return;
    s->journaled = false;
    if (!journaling(core)) return;
    writer w = jw(core);
    begin(&w, R_SESSION_END);
    put_bytes(&w, s->client_id, s->client_id_len);
    end(&w);
}

void broker_journal_sub(broker_core *core, broker_session *s, const broker_sub *sub)
{
    if (!journaling(core) || !s->journaled) return;
    writer w = jw(core);
    write_sub(&w, s, sub);
}

void broker_journal_unsub(broker_core *core, broker_session *s, const broker_sub *sub)
{
    if (!journaling(core) || !s->journaled) return;
    writer w = jw(core);
    begin(&w, R_UNSUB);
    put_bytes(&w, s->client_id, s->client_id_len);
    put_bytes(&w, sub->filter, sub->filter_len);
    end(&w);
}

void broker_journal_queue(broker_core *core, broker_session *s, const broker_delivery *d)
{
    if (!journaling(core) || !s->journaled || d->qos == 0) return;
    writer w = jw(core);
    write_queue(core, &w, s, d, core->pgen);
}

void broker_journal_inflight(broker_core *core, broker_session *s, const broker_delivery *d)
{
    if (!journaling(core) || !s->journaled || d->qos == 0) return;
    writer w = jw(core);
    begin(&w, R_INFLIGHT);
    put_bytes(&w, s->client_id, s->client_id_len);
    put_u64(&w, d->msg->pid);
    put_u16(&w, d->packet_id);
    end(&w);
}

void broker_journal_drop(broker_core *core, broker_session *s, const broker_msg *m)
{
    if (!journaling(core) || !s->journaled) return;
    writer w = jw(core);
    begin(&w, R_DROP);
    put_bytes(&w, s->client_id, s->client_id_len);
    put_u64(&w, m->pid);
    end(&w);
}

static void journal_id(broker_core *core, broker_session *s, uint8_t type, uint16_t packet_id)
{
    if (!journaling(core) || !s->journaled) return;
    writer w = jw(core);
    begin(&w, type);
    put_bytes(&w, s->client_id, s->client_id_len);
    put_u16(&w, packet_id);
    end(&w);
}

void broker_journal_pubrel(broker_core *core, broker_session *s, uint16_t packet_id)
{
    journal_id(core, s, R_PUBREL, packet_id);
}

void broker_journal_done(broker_core *core, broker_session *s, uint16_t packet_id)
{
    journal_id(core, s, R_DONE, packet_id);
}

void broker_journal_rx_done(broker_core *core, broker_session *s, uint16_t packet_id)
{
    journal_id(core, s, R_RX_DONE, packet_id);
    broker_journal_rx_clean_done(core, s, packet_id);
}

static void write_rx(broker_core *core, writer *w, const broker_session *s, uint16_t packet_id, broker_msg *m,
                     uint32_t gen)
{
    uint64_t id = m ? emit_msg(core, w, m, gen) : 0;
    begin(w, R_RX);
    put_bytes(w, s->client_id, s->client_id_len);
    put_u16(w, packet_id);
    put_u64(w, id);
    end(w);
}

static void write_rxc(broker_core *core, writer *w, const broker_session *s, uint16_t packet_id, broker_msg *m,
                      uint32_t gen)
{
    uint64_t id = emit_msg(core, w, m, gen);
    begin(w, R_RXC);
    put_bytes(w, s->client_id, s->client_id_len);
    put_u16(w, packet_id);
    put_u64(w, id);
    end(w);
}

void broker_journal_rx(broker_core *core, broker_session *s, uint16_t packet_id, broker_msg *m)
{
    if (!journaling(core)) return;
    writer w = jw(core);
    if (s->journaled) write_rx(core, &w, s, packet_id, m, core->pgen);
    else if (m) write_rxc(core, &w, s, packet_id, m, core->pgen); /* PUBREC: the broker owns it now */
}

void broker_journal_rx_clean_done(broker_core *core, broker_session *s, uint16_t packet_id)
{
    if (!journaling(core) || s->journaled) return;
    writer w = jw(core);
    begin(&w, R_RXC_DONE);
    put_bytes(&w, s->client_id, s->client_id_len);
    put_u16(&w, packet_id);
    end(&w);
}

void broker_journal_retain(broker_core *core, broker_msg *m)
{
    if (!journaling(core) || is_sys_topic(m->topic)) return;
    writer w = jw(core);
    if (m->payload.len == 0) {
        begin(&w, R_RETAIN_DEL);
        put_bytes(&w, m->topic.ptr, m->topic.len);
        end(&w);
        return;
    }
    uint64_t id = emit_msg(core, &w, m, core->pgen);
    begin(&w, R_RETAIN);
    put_u64(&w, id);
    end(&w);
}

size_t broker_core_journal(const broker_core *core, const uint8_t **data)
{
    *data = core->journal.data ? core->journal.data + core->journal.off : NULL;
    return broker_buf_pending(&core->journal);
}

void broker_core_journal_done(broker_core *core)
{
    broker_buf_free(&core->journal); /* idle: hold no buffer */
}

/* ------------------------------------------------------------ snapshot */

static void snap_retained(broker_core *core, writer *w, broker_node *n, uint32_t gen)
{
    if (n->retained && !is_sys_topic(n->retained->topic)) {
        uint64_t id = emit_msg(core, w, n->retained, gen);
        begin(w, R_RETAIN);
        put_u64(w, id);
        end(w);
    }
    for (broker_node *c = n->first_child; c; c = c->next_sibling) snap_retained(core, w, c, gen);
}

void broker_core_snapshot(broker_core *core, uint64_t generation, uint8_t **data, size_t *len)
{
    uint32_t gen = (uint32_t)generation;
    if (gen == 0 || gen == core->pgen) gen = core->pgen + 1; /* messages must be written again */
    broker_buf b = {0};
    header(&b, 1, generation);
    writer w = {&b, 0};
    if (core->retained.root) snap_retained(core, &w, core->retained.root, gen);
    for (size_t i = 0; i < core->sessions.cap; i++) {
        broker_session *s = core->sessions.slots[i].item;
        if (s && !s->persistent) {
            for (size_t k = 0; k < s->nrx; k++)
                if (s->rx[k].msg) write_rxc(core, &w, s, s->rx[k].packet_id, s->rx[k].msg, gen);
        }
        if (!s || !s->persistent) continue;
        write_session(&w, s);
        s->journaled = true;
        for (size_t k = 0; k < s->nsubs; k++) write_sub(&w, s, s->subs[k]);
        for (size_t k = 0; k < s->ninflight; k++) {
            const broker_delivery *d = &s->inflight[k];
            uint64_t id = d->msg ? emit_msg(core, &w, d->msg, gen) : 0;
            begin(&w, R_INFLIGHT_SNAP);
            put_bytes(&w, s->client_id, s->client_id_len);
            put_u64(&w, id);
            put_u16(&w, d->packet_id);
            put_u8(&w, d->qos);
            put_u8(&w, d->state);
            put_u8(&w, (uint8_t)((d->retain ? 1 : 0) | (d->sent ? 2 : 0)));
            put_subids(&w, d);
            end(&w);
        }
        for (size_t k = 0; k < s->qlen; k++) {
            const broker_delivery *d = &s->queue[(s->qhead + k) % s->qcap];
            if (d->qos) write_queue(core, &w, s, d, gen);
        }
        for (size_t k = 0; k < s->nrx; k++) write_rx(core, &w, s, s->rx[k].packet_id, s->rx[k].msg, gen);
    }
    size_t records = 0;
    for (size_t off = HEADER_LEN; off < b.len; records++)
        off += 9 + ((size_t)b.data[off] << 24 | (size_t)b.data[off + 1] << 16 | (size_t)b.data[off + 2] << 8 |
                    b.data[off + 3]);
    size_t end_at = b.len;
    begin(&w, R_END);
    put_u64(&w, records);
    put_u64(&w, end_at);
    end(&w);
    core->pgen = gen;
    broker_core_journal_done(core); /* everything journaled so far is in the snapshot */
    *len = broker_buf_pending(&b);
    *data = broker_xmalloc(*len ? *len : 1);
    memcpy(*data, b.data + b.off, *len);
    broker_buf_free(&b);
}

/* -------------------------------------------------------------- reader */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} reader;

static bool need(reader *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint8_t get_u8(reader *r)
{
    if (!need(r, 1)) return 0;
    return r->p[r->off++];
}

static uint16_t get_u16(reader *r)
{
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return v;
}

static uint32_t get_u32(reader *r)
{
    if (!need(r, 4)) return 0;
    const uint8_t *p = r->p + r->off;
    r->off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(reader *r)
{
    uint64_t hi = get_u32(r);
    return hi << 32 | get_u32(r);
}

static mqtt_bytes get_bytes(reader *r)
{
    uint32_t n = get_u32(r);
    if (!need(r, n)) return (mqtt_bytes){NULL, 0};
    mqtt_bytes b = {r->p + r->off, n};
    r->off += n;
    return b;
}

static bool msg_eq(const void *item, const void *key)
{
    return ((const broker_msg *)item)->pid == *(const uint64_t *)key;
}

static broker_msg *find_msg(broker_core *core, uint64_t id)
{
    return broker_map_get(&core->restore_msgs, broker_hash(&id, sizeof id, 3), &id, msg_eq);
}

typedef struct {
    broker_core *core;
    const char *why;
    char whybuf[120];
} applier;

static bool bad(applier *a, const char *why)
{
    a->why = why;
    return false;
}

static bool read_msg(applier *a, reader *r)
{
    broker_core *core = a->core;
    uint64_t id = get_u64(r);
    uint8_t qos = get_u8(r);
    uint8_t flags = get_u8(r);
    uint8_t pfi = get_u8(r);
    uint32_t left = get_u32(r);
    mqtt_bytes topic = get_bytes(r), payload = get_bytes(r), ct = get_bytes(r), rt = get_bytes(r),
               cd = get_bytes(r);
    uint32_t nprops = get_u32(r);
    if (r->bad) return bad(a, "truncated message");
    if (id == 0 || qos > 2 || topic.len == 0 || topic.len > 65535) return bad(a, "invalid message");
    if (nprops > (r->len - r->off) / 8) return bad(a, "invalid user property count");
    mqtt_user_property *up = nprops ? broker_xmalloc(nprops * sizeof *up) : NULL;
    for (uint32_t i = 0; i < nprops; i++) {
        up[i].name = get_bytes(r);
        up[i].value = get_bytes(r);
    }
    if (r->bad) {
        free(up);
        return bad(a, "truncated user properties");
    }
    mqtt_properties pr;
    memset(&pr, 0, sizeof pr);
    if (flags & 2) {
        pr.present |= MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
        pr.payload_format_indicator = pfi;
    }
    if (flags & 4) {
        pr.present |= MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
        pr.message_expiry_interval = left;
    }
    if (flags & 8) {
        pr.present |= MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE);
        pr.content_type = ct;
    }
    if (flags & 16) {
        pr.present |= MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
        pr.response_topic = rt;
    }
    if (flags & 32) {
        pr.present |= MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA);
        pr.correlation_data = cd;
    }
    pr.user_properties = up;
    pr.user_property_count = nprops;
    broker_msg *m = broker_msg_new(topic, payload, qos, flags & 1, &pr, core->now);
    free(up);
    m->pid = id;
    m->pgen = 0;
    if (id >= core->next_pid) core->next_pid = id + 1;
    uint32_t h = broker_hash(&id, sizeof id, 3);
    broker_msg *old = find_msg(core, id);
    if (old) {
        broker_map_remove(&core->restore_msgs, h, old);
        broker_msg_unref(old);
    }
    broker_map_put(&core->restore_msgs, h, m); /* the index holds this reference */
    return true;
}

static broker_session *get_session(applier *a, reader *r)
{
    mqtt_bytes id = get_bytes(r);
    if (r->bad) return NULL;
    broker_session *s = broker_session_find(a->core, id.ptr, id.len);
    if (!s) {
        snprintf(a->whybuf, sizeof a->whybuf, "session \"%.*s\" not defined before", (int)(id.len > 64 ? 64 : id.len),
                 (const char *)id.ptr);
        a->why = a->whybuf;
    }
    return s;
}

static broker_msg *get_msg(applier *a, reader *r)
{
    uint64_t id = get_u64(r);
    if (r->bad) return NULL;
    broker_msg *m = find_msg(a->core, id);
    if (!m) {
        snprintf(a->whybuf, sizeof a->whybuf, "message %llu not defined before", (unsigned long long)id);
        a->why = a->whybuf;
    }
    return m;
}

static bool read_subids(reader *r, broker_delivery *d)
{
    uint16_t n = get_u16(r);
    if (r->bad || (size_t)n * 4 > r->len - r->off) return false;
    d->nsubids = n;
    if (n == 1) {
        d->subids.one = get_u32(r);
    } else if (n > 1) {
        d->subids.many = broker_xmalloc(n * sizeof *d->subids.many);
        for (size_t i = 0; i < n; i++) d->subids.many[i] = get_u32(r);
    }
    return true;
}

/* A retained message (by id). */
static bool apply_retain(applier *a, reader *r)
{
    broker_core *core = a->core;
    broker_msg *m = get_msg(a, r);
    if (!m) return false;
    if (m->payload.len == 0) return bad(a, "retained message with an empty payload");
    broker_retain_store(core, m);
    return true;
}

/* A retained message deleted. */
static bool apply_retain_del(applier *a, reader *r)
{
    broker_core *core = a->core;
    mqtt_bytes topic = get_bytes(r);
    if (r->bad || topic.len == 0) return bad(a, "invalid topic");
    broker_msg *m = broker_msg_new(topic, (mqtt_bytes){NULL, 0}, 0, true, NULL, core->now);
    broker_retain_store(core, m);
    broker_msg_unref(m);
    return true;
}

/* A persistent session created or changed. */
static bool apply_session(applier *a, reader *r)
{
    broker_core *core = a->core;
    mqtt_bytes id = get_bytes(r);
    uint32_t expiry = get_u32(r);
    uint8_t has_user = get_u8(r);
    mqtt_bytes user = get_bytes(r);
    uint8_t policy = get_u8(r);
    if (r->bad) return bad(a, "truncated session");
    if (id.len > 65535 || expiry == 0 || has_user > 1 || policy >= BROKER_MAX_POLICIES ||
        memchr(user.ptr ? (const void *)user.ptr : "", 0, user.len))
        return bad(a, "invalid session");
    broker_session *s = broker_session_find(core, id.ptr, id.len);
    if (!s) s = broker_session_new(core, id.ptr, id.len);
    s->expiry_interval = expiry;
    s->persistent = true;
    s->journaled = true;
    s->policy = policy;
    free(s->username);
    s->username = NULL;
    if (has_user) {
        s->username = broker_xmalloc(user.len + 1);
        if (user.len) memcpy(s->username, user.ptr, user.len);
        s->username[user.len] = '\0';
    }
    broker_session_schedule_expiry(core, s);
    return true;
}

/* A session ended. */
static bool apply_session_end(applier *a, reader *r)
{
    broker_core *core = a->core;
    broker_session *s = get_session(a, r);
    if (!s) return false;
    broker_session_end(core, s);
    return true;
}

/* A subscription added or changed. */
static bool apply_sub(applier *a, reader *r)
{
    broker_core *core = a->core;
    broker_session *s = get_session(a, r);
    mqtt_bytes f = get_bytes(r);
    uint8_t qos = get_u8(r), flags = get_u8(r), rh = get_u8(r);
    uint32_t subid = get_u32(r);
    if (!s) return false;
    if (r->bad) return bad(a, "truncated subscription");
    if (qos > 2 || rh > 2 || mqtt_topic_filter_check(MQTT_V5, f)) return bad(a, "invalid subscription");
    broker_sub *sub = broker_session_find_sub(s, f.ptr, f.len);
    if (!sub) sub = broker_sub_add(core, s, f);
    sub->qos = qos;
    sub->no_local = flags & 1;
    sub->rap = (flags & 2) != 0;
    sub->rh = rh;
    sub->subid = subid;
    return true;
}

/* A subscription removed. */
static bool apply_unsub(applier *a, reader *r)
{
    broker_core *core = a->core;
    broker_session *s = get_session(a, r);
    mqtt_bytes f = get_bytes(r);
    if (!s) return false;
    if (r->bad) return bad(a, "truncated unsubscription");
    broker_sub *sub = broker_session_find_sub(s, f.ptr, f.len);
    if (sub) broker_sub_remove(core, sub);
    return true;
}

/* A queued delivery, or an in-flight one (snapshot). */
static bool apply_delivery(applier *a, reader *r, uint8_t type)
{
    broker_core *core = a->core;
    broker_session *s = get_session(a, r);
    if (!s) return false;
    uint64_t id = get_u64(r);
    broker_delivery d;
    memset(&d, 0, sizeof d);
    bool inflight = type == R_INFLIGHT_SNAP;
    if (inflight) d.packet_id = get_u16(r);
    d.qos = get_u8(r);
    if (inflight) d.state = get_u8(r);
    uint8_t flags = get_u8(r);
    d.retain = flags & 1;
    d.sent = (flags & 2) != 0;
    if (r->bad || !read_subids(r, &d)) return bad(a, "truncated delivery");
    bool ok = d.qos >= 1 && d.qos <= 2;
    if (inflight)
        ok = ok && d.packet_id && d.state >= DLV_WAIT_PUBACK && d.state <= DLV_WAIT_PUBCOMP &&
             (d.state == DLV_WAIT_PUBACK) == (d.qos == 1) && !broker_session_find_inflight(s, d.packet_id) &&
             (id != 0 || d.state == DLV_WAIT_PUBCOMP);
    if (ok && (id || !inflight)) {
        d.msg = find_msg(core, id);
        if (!d.msg) {
            snprintf(a->whybuf, sizeof a->whybuf, "message %llu not defined before", (unsigned long long)id);
            a->why = a->whybuf;
        } else {
            broker_msg_ref(d.msg);
        }
        ok = d.msg != NULL;
    }
    if (!ok) {
        broker_delivery_free(&d);
        if (!a->why) a->why = "invalid delivery";
        return false;
    }
    if (d.state == DLV_WAIT_PUBCOMP && d.msg) {
        broker_msg_unref(d.msg);
        d.msg = NULL;
    }
    broker_session_restore_push(s, &d, inflight);
    return true;
}

/* A queued delivery sent: now in flight. */
static bool apply_inflight(applier *a, reader *r)
{
    broker_session *s = get_session(a, r);
    uint64_t id = get_u64(r);
    uint16_t pid = get_u16(r);
    if (!s) return false;
    if (r->bad || pid == 0) return bad(a, "invalid in-flight record");
    if (broker_session_find_inflight(s, pid)) return bad(a, "packet id already in flight");
    if (!broker_session_restore_send(s, id, pid)) return bad(a, "no queued delivery of that message");
    return true;
}

/* A queued delivery dropped. */
static bool apply_drop(applier *a, reader *r)
{
    broker_session *s = get_session(a, r);
    uint64_t id = get_u64(r);
    if (!s) return false;
    if (r->bad) return bad(a, "truncated drop");
    broker_session_restore_drop(s, id); /* may have been moved already */
    return true;
}

/* PUBREL sent, a delivery done, or an incoming QoS 2 released. */
static bool apply_ack(applier *a, reader *r, uint8_t type)
{
    broker_session *s = get_session(a, r);
    uint16_t pid = get_u16(r);
    if (!s) return false;
    if (r->bad) return bad(a, "truncated record");
    if (type == R_RX_DONE) {
        broker_rx_qos2 *rx = broker_session_find_rx(s, pid);
        if (rx) broker_session_remove_rx(s, rx);
        return true;
    }
    broker_delivery *d = broker_session_find_inflight(s, pid);
    if (!d) return true; /* e.g. acked twice */
    if (type == R_DONE) {
        broker_session_remove_inflight(s, d);
    } else if (d->state == DLV_WAIT_PUBREC) {
        d->state = DLV_WAIT_PUBCOMP;
        broker_msg_unref(d->msg);
        d->msg = NULL;
    }
    return true;
}

/* An incoming QoS 2 message awaiting PUBREL. */
static bool apply_rx(applier *a, reader *r)
{
    broker_core *core = a->core;
    broker_session *s = get_session(a, r);
    uint16_t pid = get_u16(r);
    uint64_t id = get_u64(r);
    if (!s) return false;
    if (r->bad || pid == 0) return bad(a, "invalid QoS 2 record");
    broker_msg *m = NULL;
    if (id) {
        m = find_msg(core, id);
        if (!m) return bad(a, "QoS 2 message not defined before");
    }
    if (broker_session_find_rx(s, pid)) return true;
    if (s->nrx == s->rx_cap) {
        s->rx_cap = s->rx_cap ? s->rx_cap * 2 : 4;
        s->rx = broker_xrealloc(s->rx, s->rx_cap * sizeof *s->rx);
    }
    s->rx[s->nrx++] = (broker_rx_qos2){pid, m ? broker_msg_ref(m) : NULL};
    return true;
}

/* A clean session's QoS 2 message PUBREC'd. */
static bool apply_rxc(applier *a, reader *r)
{
    broker_core *core = a->core;
    mqtt_bytes cid = get_bytes(r);
    uint16_t pid = get_u16(r);
    broker_msg *m = get_msg(a, r);
    if (r->bad) return bad(a, "truncated QoS 2 record");
    if (!m) return false;
    struct broker_orphan *o = broker_xmalloc(sizeof *o + cid.len + 1);
    o->msg = broker_msg_ref(m);
    o->packet_id = pid;
    o->id_len = cid.len;
    if (cid.len) memcpy(o->id, cid.ptr, cid.len);
    o->id[cid.len] = '\0';
    o->next = core->orphans;
    core->orphans = o;
    return true;
}

/* ... released or dropped. */
static bool apply_rxc_done(applier *a, reader *r)
{
    broker_core *core = a->core;
    mqtt_bytes cid = get_bytes(r);
    uint16_t pid = get_u16(r);
    if (r->bad) return bad(a, "truncated QoS 2 record");
    for (struct broker_orphan **pp = &core->orphans; *pp; pp = &(*pp)->next) {
        struct broker_orphan *o = *pp;
        if (o->packet_id == pid && o->id_len == cid.len && memcmp(o->id, cid.ptr, cid.len) == 0) {
            *pp = o->next;
            broker_msg_unref(o->msg);
            free(o);
            break;
        }
    }
    return true;
}

static bool apply(applier *a, uint8_t type, reader *r)
{
    switch (type) {
    case R_MSG: return read_msg(a, r);
    case R_RETAIN: return apply_retain(a, r);
    case R_RETAIN_DEL: return apply_retain_del(a, r);
    case R_SESSION: return apply_session(a, r);
    case R_SESSION_END: return apply_session_end(a, r);
    case R_SUB: return apply_sub(a, r);
    case R_UNSUB: return apply_unsub(a, r);
    case R_QUEUE:
    case R_INFLIGHT_SNAP: return apply_delivery(a, r, type);
    case R_INFLIGHT: return apply_inflight(a, r);
    case R_DROP: return apply_drop(a, r);
    case R_PUBREL:
    case R_DONE:
    case R_RX_DONE: return apply_ack(a, r, type);
    case R_RX: return apply_rx(a, r);
    case R_RXC: return apply_rxc(a, r);
    case R_RXC_DONE: return apply_rxc_done(a, r);
    default: return bad(a, "unknown record type");
    }
}

int broker_core_restore(broker_core *core, const uint8_t *data, size_t len, int64_t now, broker_restore_info *info)
{
    memset(info, 0, sizeof *info);
    core->now = now;
    core->restoring = true;
    if (len < HEADER_LEN || memcmp(data, MAGIC, 8) != 0 || (data[8] != 1 && data[8] != 2)) {
        snprintf(info->why, sizeof info->why, "%s", len < HEADER_LEN ? "file shorter than its header" : "not a mqtt-broker persistence file (bad magic)");
        info->bad_offset = 0;
        return -1;
    }
    reader hr = {data, len, 9, false};
    info->kind = data[8];
    info->generation = get_u64(&hr);
    size_t off = HEADER_LEN;
    applier a = {core, NULL, ""};
    while (off < len) {
        if (len - off < 9) {
            snprintf(info->why, sizeof info->why, "truncated record (%zu bytes left)", len - off);
            info->bad_offset = off;
            return -1;
        }
        const uint8_t *rec = data + off;
        size_t body = (size_t)rec[0] << 24 | (size_t)rec[1] << 16 | (size_t)rec[2] << 8 | rec[3];
        if (body > len - off - 9) {
            snprintf(info->why, sizeof info->why, "truncated record (length %zu, %zu bytes left)", body, len - off - 9);
            info->bad_offset = off;
            return -1;
        }
        uint32_t crc = (uint32_t)rec[5 + body] << 24 | (uint32_t)rec[6 + body] << 16 | (uint32_t)rec[7 + body] << 8 |
                       rec[8 + body];
        if (crc32_of(rec + 4, body + 1) != crc) {
            snprintf(info->why, sizeof info->why, "checksum mismatch");
            info->bad_offset = off;
            return -1;
        }
        reader r = {rec + 5, body, 0, false};
        if (rec[4] == R_END) {
            uint64_t nrec = get_u64(&r), at = get_u64(&r);
            if (info->kind != 1 || r.bad || r.off != r.len || nrec != info->records || at != off ||
                off + 9 + body != len) {
                snprintf(info->why, sizeof info->why, "end record does not match the snapshot");
                info->bad_offset = off;
                return -1;
            }
            info->records++;
            return 0;
        }
        a.why = NULL;
        bool ok = apply(&a, rec[4], &r);
        if (ok && r.off != r.len) {
            ok = false;
            a.why = "record longer than its contents";
        }
        if (!ok) {
            snprintf(info->why, sizeof info->why, "record type %u: %s", rec[4], a.why ? a.why : "truncated");
            info->bad_offset = off;
            return -1;
        }
        info->records++;
        off += 9 + body;
    }
    if (info->kind == 1) {
        /* Every record was whole, but the file stops early: a snapshot
         * cut at a record boundary (or at its header). */
        snprintf(info->why, sizeof info->why, "snapshot without its end record (cut short)");
        info->bad_offset = len;
        return -1;
    }
    return 0;
}

void broker_core_restore_done(broker_core *core)
{
    /* Oldest first: the list was built newest first. */
    struct broker_orphan *rev = NULL;
    while (core->orphans) {
        struct broker_orphan *o = core->orphans;
        core->orphans = o->next;
        o->next = rev;
        rev = o;
    }
    size_t n = 0;
    while (rev) {
        struct broker_orphan *o = rev;
        rev = o->next;
        if (!core->shutting_down) {
            broker_publish_msg(core, o->msg, NULL);
            n++;
        }
        broker_msg_unref(o->msg);
        free(o);
    }
    if (n) broker_log(core, BROKER_LOG_NOTICE, "persistence: %zu QoS 2 message%s of clean sessions acknowledged "
                      "(PUBREC) before the restart, not released: delivered now", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < core->restore_msgs.cap; i++) {
        broker_msg *m = core->restore_msgs.slots[i].item;
        if (m) broker_msg_unref(m);
    }
    broker_map_free(&core->restore_msgs);
    core->restore_msgs = (broker_map){0};
    core->restoring = false;
}
