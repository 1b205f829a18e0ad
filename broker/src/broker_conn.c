/*
 * broker_conn: what the core does to one connection: encode packets into
 * its output (always through mqtt_encode, never by hand), close it for a
 * reason with the right code, detach it from its session, and keep the
 * congestion state that throttles publishers.
 *
 * Invariants:
 *  - nothing is queued on a connection once it is closing, except the one
 *    DISCONNECT or CONNACK that explains why (sent before the state changes);
 *  - a server DISCONNECT is only sent after a successful CONNACK, and only
 *    in 5.0 (MQTT-3.14.0-1);
 *  - a congested connection (output above out_high_water) is never filled
 *    further: deliveries wait in its session queue. A connection is
 *    backlogged while congested or while that queue holds half of
 *    max_queued_messages (its client does not ack fast enough). Only what
 *    feeds nobody else waits for it: when a message reaches a backlogged
 *    subscriber and no other connected subscriber is keeping up, its
 *    publisher (fan-in: the slow one is all it feeds) is blocked on it (not read, and
 *    not even the rest of what it already sent is handled) until
 *    output and queue drain to half those marks, or until stall_ms have
 *    passed since this backlog first throttled someone (progress or not: a
 *    slow subscriber must not hold back what its publishers send to
 *    everyone else for longer): then it throttles nobody and its queue
 *    limit drops messages instead (counted). When the message also reached
 *    a subscriber that keeps up, the publisher is not held back at all: the
 *    slow one's queue absorbs, then its limit drops (counted), as a slow
 *    '#' subscriber must not stall a topic for everyone else.
 */
#include "broker/src/broker_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mqtt_properties *packet_props(mqtt_packet *pkt)
{
    switch (pkt->type) {
    case MQTT_CONNACK: return &pkt->connack.properties;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: return &pkt->ack.properties;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: return &pkt->suback.properties;
    case MQTT_DISCONNECT:
    case MQTT_AUTH: return &pkt->disconnect.properties;
    default: return NULL;
    }
}

/* Drops the Reason String and User Properties, which must not make a packet
 * exceed the client's Maximum Packet Size (MQTT-3.2.2-19/20, 3.4.2-2/3, ...).
 * Returns true if there was something to drop. */
static bool strip_optional(mqtt_packet *pkt)
{
    mqtt_properties *p = packet_props(pkt);
    if (!p) return false;
    bool had = MQTT_HAS_PROP(p, MQTT_PROP_REASON_STRING) || p->user_property_count;
    p->present &= ~MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    p->present &= ~MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
    p->user_property_count = 0;
    return had;
}

/* memory_limit on an outgoing message, as mosquitto's: when writing it would
 * take the broker above the limit, the message is dropped and its receiver
 * disconnected (once the current delivery is over: broker_core_resume), and
 * nothing more is written to it. Except into an empty output: a receiver
 * that keeps up always gets its next packet (else messages held for it could
 * never drain), so the limit may be passed by one packet per such receiver.
 * Control packets are not refused (small, and the DISCONNECT must go out);
 * no buffer grows past the limit by more than what one packet needs
 * (broker_buf_reserve_within). */
static bool publish_within_memory(broker_conn *c, size_t size)
{
    broker_core *core = c->core;
    if (!c->mem_refused && (broker_buf_pending(&c->out) == 0 || !broker_mem_over(core, broker_buf_growth(&c->out, size))))
        return true;
    if (!c->mem_refused) {
        c->mem_refused = true;
        core->nrefused++;
        broker_log_conn(c, BROKER_LOG_NOTICE, "LIMIT-memory_limit: a PUBLISH of %zu bytes to it would take the broker above "
                        "memory_limit %llu (%zu held): dropped, disconnecting it", size,
                        (unsigned long long)core->opt.memory_limit, broker_mem_held());
    }
    return false;
}

/* Deliveries stop at out_high_water (the session queue takes the rest), but
 * answers to what the client sends (acks, PINGRESP, SUBACK) are written
 * whatever its output holds: a client that sends and never reads would make
 * the broker hold them without bound. Answers written less bytes read (what
 * the client leaves unread, deliveries aside) past this many times
 * out_high_water: it is disconnected (after the packet in progress, as for
 * memory_limit). */
#define BROKER_UNREAD_FACTOR 16

static bool answers_read(broker_conn *c, size_t size)
{
    broker_core *core = c->core;
    if (c->unread_over) return false;
    if ((c->unread_answers + size) / BROKER_UNREAD_FACTOR <= core->opt.out_high_water) {
        c->unread_answers += size;
        return true;
    }
    c->unread_over = true;
    core->nrefused++;
    broker_log_conn(c, BROKER_LOG_NOTICE, "LIMIT-unread_output: %zu bytes of answers unread (more than %d x out_high_water %zu): "
                    "disconnecting it", c->unread_answers, BROKER_UNREAD_FACTOR, core->opt.out_high_water);
    return false;
}

bool broker_send(broker_conn *c, mqtt_packet *pkt)
{
    broker_core *core = c->core;
    if (c->state == CONN_CLOSING) return false;
    mqtt_codec codec;
    broker_codec(c, &codec, MQTT_FROM_SERVER);
    size_t size = 0;
    mqtt_error err;
    mqtt_status st = mqtt_encoded_size(&codec, pkt, &size, &err);
    if (st != MQTT_OK && strip_optional(pkt)) st = mqtt_encoded_size(&codec, pkt, &size, &err);
    if (st != MQTT_OK) {
        char text[256];
        mqtt_format_error(&err, text, sizeof text);
        broker_log_conn(c, BROKER_LOG_NOTICE, "%s not sent: %s", mqtt_packet_type_name(pkt->type), text);
        return false;
    }
    if (pkt->type == MQTT_PUBLISH && !publish_within_memory(c, size)) return false;
    if (pkt->type != MQTT_PUBLISH && pkt->type != MQTT_DISCONNECT && pkt->type != MQTT_CONNACK && !answers_read(c, size))
        return false;
    uint8_t *dst = broker_buf_reserve_within(&c->out, size, core->opt.memory_limit);
    size_t written = 0;
    st = mqtt_encode(&codec, pkt, dst, size, &written, &err);
    if (st != MQTT_OK) { /* cannot happen after mqtt_encoded_size said OK */
        char text[256];
        mqtt_format_error(&err, text, sizeof text);
        broker_log_conn(c, BROKER_LOG_ERROR, "encoding %s failed: %s", mqtt_packet_type_name(pkt->type), text);
        return false;
    }
    c->out.len += written;
    core->stats.packets_sent++;
    if (pkt->type == MQTT_PUBLISH) core->stats.publish_sent++;
    broker_trace_packet(c, pkt, false);
    broker_mark_dirty(c);
    broker_conn_output_changed(c);
    return true;
}

void broker_send_ack(broker_conn *c, mqtt_packet_type type, uint16_t id, uint8_t reason,
                     const char *reason_string)
{
    mqtt_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = type;
    pkt.ack.packet_id = id;
    if (c->version == MQTT_V5) {
        pkt.ack.reason_code = reason;
        /* Reason strings on acks only when the client asked for problem
         * information (MQTT-3.1.2-29). */
        if (reason_string && c->request_problem_info) {
            pkt.ack.properties.present |= MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
            pkt.ack.properties.reason_string = (mqtt_bytes){(const uint8_t *)reason_string, strlen(reason_string)};
        }
    }
    broker_send(c, &pkt);
}

/* ------------------------------------------------------------ back-pressure */

/* Queue length from which a subscriber throttles its publishers. */
static size_t queue_high(const broker_core *core)
{
    uint32_t m = core->opt.max_queued_messages;
    return m ? (m + 1) / 2 : 1000;
}

bool broker_conn_backlogged(const broker_conn *c)
{
    return c->congested || (c->session && broker_session_live_queue(c->session) >= queue_high(c->core));
}

static void wake_waiters(broker_conn *c)
{
    for (size_t i = 0; i < c->nwaiters; i++) {
        broker_conn *w = c->waiters[i];
        w->blocked_on = NULL;
        /* It was not read while blocked: do not count that against its keep alive. */
        w->last_rx = c->core->now;
        broker_mark_dirty(w);
        /* What it sent after the message that blocked it is still buffered:
         * handled once the current call into the core ends. */
        broker_core *core = c->core;
        if (!w->resuming && broker_buf_pending(&w->in)) {
            if (core->nresume == core->resume_cap) {
                core->resume_cap = core->resume_cap ? core->resume_cap * 2 : 8;
                core->resume = broker_xrealloc(core->resume, core->resume_cap * sizeof *core->resume);
            }
            core->resume[core->nresume++] = w;
            w->resuming = true;
        }
    }
    c->nwaiters = 0;
}

/* How far behind a backlogged connection is (queued, then output bytes). */
static uint64_t backlog(const broker_conn *c)
{
    uint64_t queued = c->session ? broker_session_live_queue(c->session) : 0;
    return queued << 32 | (uint32_t)(broker_buf_pending(&c->out) > UINT32_MAX ? UINT32_MAX : broker_buf_pending(&c->out));
}

void broker_conn_note_backlog(broker_conn *sub)
{
    broker_core *core = sub->core;
    broker_conn *pub = core->cur_publisher;
    if (!pub || pub == sub || sub->stalled || sub->state != CONN_ACTIVE || !broker_conn_backlogged(sub)) return;
    /* Of several, the one least behind: the publisher waits for the first
     * recipient to catch up, not for the slowest (whose limit drops). */
    if (!core->throttle_on || backlog(sub) < backlog(core->throttle_on)) core->throttle_on = sub;
}

void broker_conn_throttle(broker_conn *sub)
{
    broker_core *core = sub->core;
    broker_conn *pub = core->cur_publisher;
    if (!pub || pub == sub || pub->blocked_on || sub->stalled || pub->state == CONN_CLOSING) return;
    if (sub->state != CONN_ACTIVE || !broker_conn_backlogged(sub)) return;
    if (sub->nwaiters == 0) sub->throttle_since = core->now; /* the stall clock starts now */
    pub->blocked_on = sub;
    if (sub->nwaiters == sub->waiters_cap) {
        sub->waiters_cap = sub->waiters_cap ? sub->waiters_cap * 2 : 4;
        sub->waiters = broker_xrealloc(sub->waiters, sub->waiters_cap * sizeof *sub->waiters);
    }
    sub->waiters[sub->nwaiters++] = pub;
    broker_mark_dirty(pub);
}

void broker_conn_check_release(broker_conn *c)
{
    bool drained = !c->congested && (!c->session || broker_session_live_queue(c->session) <= queue_high(c->core) / 2);
    if (drained) c->stalled = false;
    if (c->nwaiters && (drained || c->stalled)) wake_waiters(c);
}

void broker_conn_output_changed(broker_conn *c)
{
    size_t pending = broker_buf_pending(&c->out);
    size_t high = c->core->opt.out_high_water;
    if (!c->congested) {
        if (pending > high) c->congested = true;
    } else if (pending <= high / 2) {
        c->congested = false;
    }
    broker_conn_check_release(c);
}

/* ------------------------------------------------------------------ close */

void broker_conn_detach(broker_conn *c, bool publish_will)
{
    broker_core *core = c->core;
    if (c->state == CONN_CLOSING) return;
    bool was_active = c->state == CONN_ACTIVE;
    c->state = CONN_CLOSING;
    broker_mark_dirty(c);
    if (c->blocked_on) {
        broker_conn *s = c->blocked_on;
        for (size_t i = 0; i < s->nwaiters; i++) {
            if (s->waiters[i] == c) {
                s->waiters[i] = s->waiters[--s->nwaiters];
                break;
            }
        }
        c->blocked_on = NULL;
    }
    wake_waiters(c);
    if (c->alias_in) {
        for (size_t i = 0; i < core->opt.max_topic_alias; i++) free(c->alias_in[i].topic);
        free(c->alias_in);
        c->alias_in = NULL;
    }
    if (c->alias_out) {
        for (size_t i = 0; i < c->nalias_out; i++) free(c->alias_out[i].topic);
        free(c->alias_out);
        c->alias_out = NULL;
        c->nalias_out = 0;
    }
    if (was_active) core->nconnected--;
    broker_session *s = c->session;
    if (!s) return;
    s->conn = NULL;
    c->session = NULL;
    broker_session_will_on_close(core, s, publish_will && !core->shutting_down);
    if (!s->persistent) {
        broker_session_end(core, s);
    } else {
        broker_session_drop_qos0(s);
        broker_session_schedule_expiry(core, s);
    }
}

static void vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, cap, fmt, ap);
    if (n < 0) buf[0] = '\0';
}

void broker_conn_fail(broker_conn *c, uint8_t reason, const char *rule, bool will, const char *fmt, ...)
{
    if (c->state == CONN_CLOSING) return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vformat(why, sizeof why, fmt, ap);
    va_end(ap);
    bool send_disconnect = c->state == CONN_ACTIVE && c->version == MQTT_V5 && reason;
    if (send_disconnect)
        broker_log_conn(c, reason == 0x8B ? BROKER_LOG_INFO : BROKER_LOG_NOTICE,
                        "%s: %s; closing with DISCONNECT 0x%02X (%s)", rule, why, reason,
                        mqtt_reason_name(MQTT_DISCONNECT, reason));
    else
        broker_log_conn(c, BROKER_LOG_NOTICE, "%s: %s; closing", rule, why);
    if (send_disconnect) {
        mqtt_packet pkt;
        memset(&pkt, 0, sizeof pkt);
        pkt.type = MQTT_DISCONNECT;
        pkt.disconnect.reason_code = reason;
        /* A Reason String is allowed on DISCONNECT whatever Request Problem
         * Information says (MQTT-3.1.2-29); dropped if too large. */
        pkt.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
        pkt.disconnect.properties.reason_string = (mqtt_bytes){(const uint8_t *)why, strlen(why)};
        broker_send(c, &pkt);
    }
    broker_conn_detach(c, will);
}

void broker_conn_refuse(broker_conn *c, uint8_t code, const char *rule, const char *fmt, ...)
{
    if (c->state == CONN_CLOSING) return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vformat(why, sizeof why, fmt, ap);
    va_end(ap);
    bool v5 = c->version == MQTT_V5;
    broker_log_conn(c, BROKER_LOG_NOTICE, "%s: %s; CONNACK 0x%02X (%s), closing", rule, why, code,
                    v5 ? mqtt_reason_name(MQTT_CONNACK, code) : mqtt_connack_return_name(code));
    mqtt_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = MQTT_CONNACK;
    /* Session Present is 0 with a refusal (3.1.1 MQTT-3.2.2-4, 5.0 MQTT-3.2.2-6). */
    pkt.connack.session_present = false;
    pkt.connack.reason_code = code;
    if (v5) {
        pkt.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
        pkt.connack.properties.reason_string = (mqtt_bytes){(const uint8_t *)why, strlen(why)};
    }
    broker_send(c, &pkt);
    broker_conn_detach(c, false); /* the Will of a refused CONNECT is never stored */
}
