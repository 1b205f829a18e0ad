/*
 * broker_session: the server side of an MQTT session: its subscriptions,
 * the messages on their way to the client (a FIFO queue, then the in-flight
 * window), incoming QoS 2 messages waiting for PUBREL, and the Will.
 *
 * Invariants:
 *  - messages leave the queue strictly in order, so per-topic order is kept
 *    (MQTT-4.6.0-5/6): a message is sent directly only when the queue is
 *    empty, the window has room and the connection is not congested;
 *  - in-flight entries count against the window until PUBACK, PUBCOMP or a
 *    PUBREC >= 0x80 (Receive Maximum, 5.0 MQTT-3.3.4-9), and are kept in
 *    send order for the re-send after a reconnect (MQTT-4.4.0-1);
 *  - QoS 0 messages are not kept for an offline client (as mosquitto,
 *    queue_qos0_messages false), and a full queue drops the new message;
 *  - a message past its Message Expiry Interval is never sent (5.0
 *    MQTT-3.3.2-5); one sent carries the interval left (MQTT-3.3.2-6).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

static bool session_eq(const void *item, const void *key)
{
    const broker_session *s = item;
    const mqtt_bytes *k = key;
    return s->client_id_len == k->len && (k->len == 0 || memcmp(s->client_id, k->ptr, k->len) == 0);
}

broker_session *broker_session_find(broker_core *core, const uint8_t *id, size_t len)
{
    mqtt_bytes k = {id, len};
    return broker_map_get(&core->sessions, broker_hash(id, len, 0), &k, session_eq);
}

broker_session *broker_session_new(broker_core *core, const uint8_t *id, size_t len)
{
    broker_session *s = broker_xcalloc(1, sizeof *s + len + 1);
    broker_mem_add(sizeof *s + len + 1);
    if (len) memcpy(s->client_id, id, len);
    s->client_id_len = (uint16_t)len;
    s->hash = broker_hash(id, len, 0);
    s->next_packet_id = 1;
    broker_map_put(&core->sessions, s->hash, s);
    core->nsessions++;
    return s;
}

void broker_delivery_free(broker_delivery *d)
{
    broker_msg_unref(d->msg);
    d->msg = NULL;
    if (d->nsubids > 1) free(d->subids.many);
    d->nsubids = 0;
}

void broker_session_end(broker_core *core, broker_session *s)
{
    broker_journal_session_end(core, s);
    while (s->nsubs) broker_sub_remove(core, s->subs[s->nsubs - 1]);
    free(s->subs);
    /* A will still waiting for its delay is published when the session ends
     * (5.0 MQTT-3.1.2-8). */
    if (s->will && s->will_at && !core->shutting_down) broker_session_publish_will(core, s);
    broker_msg_unref(s->will);
    for (size_t i = 0; i < s->ninflight; i++) broker_delivery_free(&s->inflight[i]);
    free(s->inflight);
    for (size_t i = 0; i < s->qlen; i++) broker_delivery_free(&s->queue[(s->qhead + i) % s->qcap]);
    free(s->queue);
    broker_mem_sub(sizeof *s + s->client_id_len + 1 + (size_t)s->qcap * sizeof *s->queue +
                   (size_t)s->inflight_cap * sizeof *s->inflight);
    for (size_t i = 0; i < s->nrx; i++) {
        if (s->rx[i].msg) broker_journal_rx_clean_done(core, s, s->rx[i].packet_id);
        broker_msg_unref(s->rx[i].msg);
    }
    free(s->rx);
    if (s->conn) s->conn->session = NULL;
    broker_map_remove(&core->sessions, s->hash, s);
    core->nsessions--;
    free(s->username);
    free(s);
}

void broker_session_schedule_expiry(broker_core *core, broker_session *s)
{
    if (s->expiry_interval == UINT32_MAX) {
        s->expires_at = 0; /* never (3.x persistent sessions, 5.0 0xFFFFFFFF) */
        return;
    }
    s->expires_at = core->now + (int64_t)s->expiry_interval * 1000;
    broker_note_deadline(core, s->expires_at);
}

/* ------------------------------------------------------------------ wills */

void broker_session_publish_will(broker_core *core, broker_session *s)
{
    broker_msg *will = s->will;
    s->will = NULL;
    s->will_at = 0;
    if (!will) return;
    if (will->has_expiry) will->expiry_at += core->now; /* relative until now (handle_connect.c) */
    if (!core->shutting_down && !broker_auth_will(core, s, will->topic)) {
        broker_log(core, BROKER_LOG_NOTICE, "client \"%s\": Will on \"%.*s\" not published: not allowed by the ACL",
                   s->client_id, (int)will->topic.len, (const char *)will->topic.ptr);
    } else if (!core->shutting_down) {
        broker_log(core, BROKER_LOG_INFO, "client \"%s\": publishing its Will on \"%.*s\"", s->client_id,
                   (int)will->topic.len, (const char *)will->topic.ptr);
        core->stats.publish_received++;
        broker_publish_msg(core, will, s);
    }
    broker_msg_unref(will);
}

void broker_session_will_on_close(broker_core *core, broker_session *s, bool publish)
{
    if (!s->will) return;
    if (!publish) {
        /* DISCONNECT (0x00 in 5.0) deletes the Will (3.1.1 MQTT-3.1.2-10 /
         * MQTT-3.14.4-3, 5.0 MQTT-3.1.2-10 / MQTT-3.14.4-3). */
        broker_msg_unref(s->will);
        s->will = NULL;
        s->will_at = 0;
        return;
    }
    if (s->will_delay == 0 || !s->persistent) {
        broker_session_publish_will(core, s); /* 3.1.1 MQTT-3.1.2-8 */
        return;
    }
    /* 5.0 Will Delay Interval: published when it elapses or the session ends,
     * whichever is first, unless the client reconnects (MQTT-3.1.3-9). */
    s->will_at = core->now + (int64_t)s->will_delay * 1000;
    broker_note_deadline(core, s->will_at);
}

/* ------------------------------------------------------------ in-flight */

size_t broker_session_window(const broker_session *s)
{
    const broker_conn *c = s->conn;
    size_t w = c && c->core->opt.max_inflight_messages ? c->core->opt.max_inflight_messages : 65535;
    if (c && c->version == MQTT_V5 && c->client_receive_max < w) w = c->client_receive_max;
    return w;
}

broker_delivery *broker_session_find_inflight(broker_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->ninflight; i++)
        if (s->inflight[i].packet_id == id) return &s->inflight[i];
    return NULL;
}

void broker_session_remove_inflight(broker_session *s, broker_delivery *d)
{
    size_t i = (size_t)(d - s->inflight);
    broker_delivery_free(d);
    /* Keep send order for the re-send after a reconnect (MQTT-4.6.0-1 mirrors it). */
    memmove(&s->inflight[i], &s->inflight[i + 1], (s->ninflight - i - 1) * sizeof *d);
    s->ninflight--;
}

static uint16_t next_packet_id(broker_session *s)
{
    for (;;) {
        uint16_t id = s->next_packet_id++;
        if (s->next_packet_id == 0) s->next_packet_id = 1;
        if (id == 0) continue;
        if (!broker_session_find_inflight(s, id)) return id; /* unused (MQTT-2.2.1-4) */
    }
}

broker_rx_qos2 *broker_session_find_rx(broker_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->nrx; i++)
        if (s->rx[i].packet_id == id) return &s->rx[i];
    return NULL;
}

void broker_session_remove_rx(broker_session *s, broker_rx_qos2 *rx)
{
    size_t i = (size_t)(rx - s->rx);
    broker_msg_unref(rx->msg);
    memmove(&s->rx[i], &s->rx[i + 1], (s->nrx - i - 1) * sizeof *rx);
    s->nrx--;
}

/* ------------------------------------------------------------ sending */

static const uint32_t *delivery_subids(const broker_delivery *d)
{
    return d->nsubids > 1 ? d->subids.many : &d->subids.one;
}

static broker_alias_out *find_alias_out(broker_conn *c, mqtt_bytes topic, uint32_t hash)
{
    for (size_t i = 0; i < c->nalias_out; i++) {
        broker_alias_out *a = &c->alias_out[i];
        if (a->hash == hash && a->len == topic.len && memcmp(a->topic, topic.ptr, topic.len) == 0) return a;
    }
    return NULL;
}

/* Encodes the PUBLISH of d for the session's connection. */
static bool send_publish(broker_core *core, broker_conn *c, const broker_delivery *d, bool dup)
{
    const broker_msg *m = d->msg;
    mqtt_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = MQTT_PUBLISH;
    mqtt_publish *p = &pkt.publish;
    p->qos = d->qos;
    p->dup = dup && d->qos > 0; /* never on QoS 0 (MQTT-3.3.1-2) */
    p->retain = d->retain;
    p->packet_id = d->qos ? d->packet_id : 0;
    p->topic = m->topic;
    p->payload = m->payload;
    uint16_t new_alias = 0;
    uint32_t topic_hash = 0;
    if (c->version == MQTT_V5) {
        mqtt_properties *pr = &p->properties;
        /* Forwarded unaltered: MQTT-3.3.2-4, -15, -16, -17, -18, -20. */
        if (m->has_pfi) {
            pr->present |= MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
            pr->payload_format_indicator = m->pfi;
        }
        if (m->has_expiry) {
            int64_t left = (m->expiry_at - core->now + 999) / 1000;
            if (left < 1) left = 1;
            pr->present |= MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
            pr->message_expiry_interval = (uint32_t)left; /* MQTT-3.3.2-6 */
        }
        if (m->has_content_type) {
            pr->present |= MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE);
            pr->content_type = m->content_type;
        }
        if (m->has_response_topic) {
            pr->present |= MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC);
            pr->response_topic = m->response_topic;
        }
        if (m->has_correlation_data) {
            pr->present |= MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA);
            pr->correlation_data = m->correlation_data;
        }
        pr->user_properties = m->user_props;
        pr->user_property_count = m->user_prop_count;
        if (d->nsubids) {
            /* All matching identifiers in the one copy (MQTT-3.3.4-3/4). */
            pr->subscription_identifiers = delivery_subids(d);
            pr->subscription_identifier_count = d->nsubids;
        }
        /* Topic aliases towards the client, never above its Topic Alias
         * Maximum (MQTT-3.1.2-26/27, MQTT-3.3.2-11): a topic gets the next
         * free alias while there is one; aliases are never reassigned. */
        if (c->client_alias_max && m->topic.len) {
            topic_hash = broker_hash(m->topic.ptr, m->topic.len, 7);
            broker_alias_out *a = c->alias_out ? find_alias_out(c, m->topic, topic_hash) : NULL;
            if (a) {
                pr->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
                pr->topic_alias = (uint16_t)(a - c->alias_out + 1);
                p->topic = (mqtt_bytes){NULL, 0};
            } else {
                size_t limit = c->client_alias_max < BROKER_MAX_ALIAS_OUT ? c->client_alias_max : BROKER_MAX_ALIAS_OUT;
                if (c->nalias_out < limit) {
                    new_alias = (uint16_t)(c->nalias_out + 1);
                    pr->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
                    pr->topic_alias = new_alias;
                }
            }
        }
    }
    if (!broker_send(c, &pkt)) return false;
    if (new_alias) {
        if (!c->alias_out) c->alias_out = broker_xcalloc(BROKER_MAX_ALIAS_OUT, sizeof *c->alias_out);
        broker_alias_out *a = &c->alias_out[c->nalias_out++];
        a->topic = broker_xmalloc(m->topic.len);
        memcpy(a->topic, m->topic.ptr, m->topic.len);
        a->len = m->topic.len;
        a->hash = topic_hash;
    }
    return true;
}

/* Sends d now (takes ownership of it): QoS 0 is done once written, QoS 1/2
 * enter the in-flight window. */
/* Whether s's user may read m now. The ACL in force when a message is sent
 * decides (it may have been reloaded since it was queued); a message it
 * refuses is dropped, counted and logged. */
static bool readable_now(broker_core *core, broker_session *s, const broker_msg *m)
{
    if (broker_auth_read(core, s, m->topic)) return true;
    core->stats.publish_dropped++;
    broker_log(core, BROKER_LOG_INFO, "client \"%s\": message on \"%.*s\" not readable by user \"%s\": dropped",
               s->client_id, (int)(m->topic.len > 200 ? 200 : m->topic.len), (const char *)m->topic.ptr,
               s->username ? s->username : "(anonymous)");
    return false;
}

static void inflight_push(broker_session *s, const broker_delivery *d)
{
    if (s->ninflight == s->inflight_cap) {
        uint32_t ncap = s->inflight_cap ? s->inflight_cap * 2 : 4;
        s->inflight = broker_xrealloc(s->inflight, ncap * sizeof *s->inflight);
        broker_mem_add((size_t)(ncap - s->inflight_cap) * sizeof *s->inflight);
        s->inflight_cap = ncap;
    }
    s->inflight[s->ninflight++] = *d;
}

static void count_drop(broker_core *core, broker_session *s, const broker_msg *msg, const char *why);

static void send_now(broker_core *core, broker_session *s, broker_delivery *d)
{
    broker_conn *c = s->conn;
    if (!readable_now(core, s, d->msg)) {
        if (d->qos) broker_journal_drop(core, s, d->msg);
        broker_delivery_free(d);
        return;
    }
    if (broker_msg_expired(d->msg, core->now)) {
        core->stats.publish_dropped++; /* MQTT-3.3.2-5 */
        if (d->qos) broker_journal_drop(core, s, d->msg);
        broker_delivery_free(d);
        return;
    }
    if (d->qos == 0) {
        if (!send_publish(core, c, d, false) && c->mem_refused) count_drop(core, s, d->msg, "memory_limit reached");
        broker_delivery_free(d);
        return;
    }
    d->packet_id = next_packet_id(s);
    d->state = d->qos == 1 ? DLV_WAIT_PUBACK : DLV_WAIT_PUBREC;
    bool sent = send_publish(core, c, d, false);
    if (!sent && c->mem_refused) {
        /* memory_limit: its receiver is being disconnected; the session
         * keeps the message in flight, unsent, for its next connection
         * (mosquitto keeps it in the client's message list too). */
        broker_journal_inflight(core, s, d);
        inflight_push(s, d);
        return;
    }
    if (!sent) {
        /* Too large for this client: dropped as if delivered (MQTT-3.1.2-25). */
        core->stats.publish_dropped++;
        broker_journal_drop(core, s, d->msg);
        broker_delivery_free(d);
        return;
    }
    d->sent = true;
    broker_journal_inflight(core, s, d);
    inflight_push(s, d);
}

static void queue_push(broker_session *s, const broker_delivery *d)
{
    if (s->qlen == s->qcap) {
        size_t ncap = s->qcap ? s->qcap * 2 : 8;
        broker_delivery *nq = broker_xmalloc(ncap * sizeof *nq);
        broker_mem_add((ncap - s->qcap) * sizeof *nq);
        for (size_t i = 0; i < s->qlen; i++) nq[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = nq;
        s->qcap = ncap;
        s->qhead = 0;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = *d;
    s->qlen++;
    if (d->stored) s->qstored++;
    else if (d->msg) s->qbytes += d->msg->payload.len;
}

static broker_delivery queue_pop(broker_session *s)
{
    broker_delivery d = s->queue[s->qhead];
    s->qhead = (s->qhead + 1) % s->qcap;
    if (d.stored) s->qstored--;
    else if (d.msg) s->qbytes -= d.msg->payload.len;
    if (--s->qlen == 0) {
        broker_mem_sub((size_t)s->qcap * sizeof *s->queue);
        free(s->queue); /* an idle session holds no queue */
        s->queue = NULL;
        s->qcap = s->qhead = 0;
    }
    return d;
}

/* A live delivery to s dropped (queue limits, memory_limit): every drop is
 * counted ($SYS); the log says so at 1, 2, 4, 8, ... so a flood of drops
 * cannot flood the log. */
static void count_drop(broker_core *core, broker_session *s, const broker_msg *msg, const char *why)
{
    core->stats.publish_dropped++;
    s->dropped++;
    bool milestone = (s->dropped & (s->dropped - 1)) == 0;
    broker_log(core, milestone ? BROKER_LOG_NOTICE : BROKER_LOG_DEBUG,
               "client \"%s\": %s (%u messages, %llu bytes queued), message on \"%.*s\" dropped (%llu so far)",
               s->client_id, why, (unsigned)broker_session_live_queue(s), (unsigned long long)s->qbytes,
               (int)(msg->topic.len > 200 ? 200 : msg->topic.len), (const char *)msg->topic.ptr,
               (unsigned long long)s->dropped);
}

/* One delivery to s: sent now if nothing waits and the window and the
 * output allow, else queued (live messages within max_queued_messages,
 * counted drops above it; stored ones always). */
static void deliver(broker_core *core, broker_session *s, broker_msg *msg, uint8_t qos, bool retain,
                    const uint32_t *subids, size_t nsubids, bool stored)
{
    broker_conn *c = s->conn && s->conn->state == CONN_ACTIVE ? s->conn : NULL;
    if (!c && qos == 0) return; /* QoS 0 is not queued for offline clients */
    if (!stored && broker_mem_over(core, 0)) {
        /* Above the limit already (session and queue arrays are counted
         * after they grow): dropped, and a connected receiver disconnected
         * as when its output cannot grow (broker_send). */
        count_drop(core, s, msg, "memory_limit reached");
        if (c && !c->mem_refused) {
            c->mem_refused = true;
            core->nrefused++;
        }
        return;
    }
    broker_delivery d;
    memset(&d, 0, sizeof d);
    d.msg = broker_msg_ref(msg);
    d.qos = qos;
    d.retain = retain;
    d.stored = stored;
    if (nsubids > 65535) nsubids = 65535;
    d.nsubids = (uint16_t)nsubids;
    if (nsubids == 1) {
        d.subids.one = subids[0];
    } else if (nsubids > 1) {
        d.subids.many = broker_xmalloc(nsubids * sizeof *subids);
        memcpy(d.subids.many, subids, nsubids * sizeof *subids);
    }
    if (c && s->qlen == 0 && !c->congested && (qos == 0 || s->ninflight < broker_session_window(s))) {
        if (qos) broker_journal_queue(core, s, &d);
        send_now(core, s, &d);
        return;
    }
    const broker_options *o = &core->opt;
    bool full = !stored && ((o->max_queued_messages && broker_session_live_queue(s) >= o->max_queued_messages) ||
                            (o->max_queued_bytes && s->qbytes + msg->payload.len > o->max_queued_bytes));
    if (full) {
        count_drop(core, s, msg, "queue full");
        broker_delivery_free(&d);
        return;
    }
    if (qos) broker_journal_queue(core, s, &d);
    queue_push(s, &d);
}

void broker_session_deliver(broker_core *core, broker_session *s, broker_msg *msg, uint8_t qos,
                            bool retain, const uint32_t *subids, size_t nsubids)
{
    deliver(core, s, msg, qos, retain, subids, nsubids, false);
}

void broker_session_deliver_retained(broker_core *core, broker_session *s, broker_msg *msg, uint8_t qos,
                                     const uint32_t *subids, size_t nsubids)
{
    deliver(core, s, msg, qos, true, subids, nsubids, true);
}

void broker_session_pump(broker_core *core, broker_session *s)
{
    broker_conn *c = s->conn;
    if (!c || c->state != CONN_ACTIVE) return;
    size_t window = broker_session_window(s);
    while (s->qlen && !c->congested && !c->mem_refused && c->state == CONN_ACTIVE) {
        broker_delivery *front = &s->queue[s->qhead];
        if (broker_msg_expired(front->msg, core->now)) {
            broker_delivery d = queue_pop(s);
            core->stats.publish_dropped++;
            if (d.qos) broker_journal_drop(core, s, d.msg);
            broker_delivery_free(&d);
            continue;
        }
        if (front->qos > 0 && s->ninflight >= window) break;
        /* memory_limit: what is queued waits (it is counted already) until
         * the output drains, rather than costing its receiver the
         * connection; msg->alloc bounds the packet from above. */
        if (broker_buf_pending(&c->out) && broker_mem_over(core, broker_buf_growth(&c->out, front->msg->alloc))) break;
        broker_delivery d = queue_pop(s);
        send_now(core, s, &d);
    }
    broker_conn_check_release(c);
}

void broker_session_resend(broker_core *core, broker_session *s)
{
    broker_conn *c = s->conn;
    for (size_t i = 0; i < s->ninflight && c->state == CONN_ACTIVE; i++) {
        broker_delivery *d = &s->inflight[i];
        if (d->state == DLV_WAIT_PUBCOMP) {
            broker_send_ack(c, MQTT_PUBREL, d->packet_id, 0, NULL);
        } else if (!readable_now(core, s, d->msg)) {
            broker_journal_done(core, s, d->packet_id);
            broker_session_remove_inflight(s, d);
            i--;
        } else if (!send_publish(core, c, d, d->sent)) {
            if (c->mem_refused) break; /* kept for the next connection: this one is being disconnected */
            /* Too large for the new connection's Maximum Packet Size. */
            core->stats.publish_dropped++;
            broker_journal_done(core, s, d->packet_id);
            broker_session_remove_inflight(s, d);
            i--;
        }
    }
}

void broker_session_restore_push(broker_session *s, const broker_delivery *d, bool inflight)
{
    if (!inflight) {
        queue_push(s, d);
        return;
    }
    inflight_push(s, d);
}

/* Takes the first queued delivery of message pid out of the queue. */
static bool queue_take(broker_session *s, uint64_t pid, broker_delivery *out)
{
    size_t n = s->qlen;
    bool found = false;
    if (n && s->queue[s->qhead].msg && s->queue[s->qhead].msg->pid == pid) { /* the usual case: FIFO */
        *out = queue_pop(s);
        return true;
    }
    /* Rotate the whole ring once, keeping order, leaving out the one found. */
    for (size_t i = 0; i < n; i++) {
        broker_delivery d = queue_pop(s);
        if (!found && d.msg && d.msg->pid == pid) {
            *out = d;
            found = true;
        } else {
            queue_push(s, &d);
        }
    }
    return found;
}

bool broker_session_restore_send(broker_session *s, uint64_t pid, uint16_t packet_id)
{
    broker_delivery d;
    if (!queue_take(s, pid, &d)) return false;
    d.packet_id = packet_id;
    d.state = d.qos == 1 ? DLV_WAIT_PUBACK : DLV_WAIT_PUBREC;
    d.sent = true;
    broker_session_restore_push(s, &d, true);
    return true;
}

bool broker_session_restore_drop(broker_session *s, uint64_t pid)
{
    broker_delivery d;
    if (!queue_take(s, pid, &d)) return false;
    broker_delivery_free(&d);
    return true;
}

void broker_session_drop_qos0(broker_session *s)
{
    size_t n = s->qlen;
    for (size_t i = 0; i < n; i++) {
        broker_delivery d = queue_pop(s);
        if (d.qos == 0) broker_delivery_free(&d);
        else queue_push(s, &d);
    }
}

/* ---------------------------------------------------------- subscriptions */

broker_sub *broker_session_find_sub(broker_session *s, const uint8_t *filter, size_t len)
{
    for (size_t i = 0; i < s->nsubs; i++) {
        broker_sub *sub = s->subs[i];
        if (sub->filter_len == len && memcmp(sub->filter, filter, len) == 0) return sub;
    }
    return NULL;
}

void broker_sub_remove(broker_core *core, broker_sub *sub)
{
    broker_session *s = sub->session;
    for (size_t i = 0; i < s->nsubs; i++) {
        if (s->subs[i] == sub) {
            s->subs[i] = s->subs[--s->nsubs];
            break;
        }
    }
    broker_node *node = sub->node;
    if (sub->share) {
        broker_share *sh = sub->share;
        for (size_t i = 0; i < sh->count; i++) {
            if (sh->members[i] == sub) {
                memmove(&sh->members[i], &sh->members[i + 1], (sh->count - i - 1) * sizeof *sh->members);
                sh->count--;
                break;
            }
        }
        if (sh->count == 0) {
            broker_share **pp = &node->shares;
            while (*pp != sh) pp = &(*pp)->next;
            *pp = sh->next;
            free(sh->members);
            free(sh);
        } else if (sh->next_pick >= sh->count) {
            sh->next_pick = 0;
        }
    } else {
        for (uint32_t i = 0; i < node->nsubs; i++) {
            if (node->subs[i] == sub) {
                node->subs[i] = node->subs[--node->nsubs];
                break;
            }
        }
    }
    broker_trie_prune(&core->subs, node);
    core->nsubscriptions--;
    free(sub);
}
