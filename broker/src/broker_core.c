/*
 * broker_core: lifecycle of the core and of connections, the byte feed, the
 * packet dispatcher, the dirty set the driver drains, and the timers.
 *
 * Invariants:
 *  - a connection is decoded with the codec of its own protocol level once
 *    CONNECT is accepted; before that only CONNECT decodes (MQTT-3.1.0-1);
 *  - packets are handled strictly in arrival order and nothing is read
 *    after the core decided to close (MQTT-3.1.4-5 / 5.0 MQTT-3.1.4-6);
 *  - only the input bytes of an incomplete packet are kept between feeds,
 *    so an idle connection holds no buffer at all;
 *  - next_deadline is a lower bound of every timer, refreshed by each tick.
 */
#include "broker/src/broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A connection that sends no CONNECT within this time is closed. */
#define CONNECT_TIMEOUT_MS 10000

void broker_options_default(broker_options *o)
{
    memset(o, 0, sizeof *o);
    o->allow_anonymous = true;
    o->max_keepalive = 65535;
    o->max_queued_messages = 1000;
    o->max_inflight_messages = 20;
    o->message_size_limit = 0;
    o->max_packet_size = 0;
    o->max_connect_size = 32768;
    o->max_topic_levels = 200;
    o->max_filter_length = 65535;
    o->sys_interval = 10;
    o->retain_available = true;
    o->max_qos = 2;
    o->max_topic_alias = 10;
    o->out_high_water = 256 * 1024;
    o->stall_ms = 1000;
}

broker_core *broker_core_new(const broker_options *opts, int64_t now)
{
    broker_core *core = broker_xcalloc(1, sizeof *core);
    core->opt = *opts;
    if (core->opt.max_qos > 2) core->opt.max_qos = 2;
    if (core->opt.out_high_water == 0) core->opt.out_high_water = 256 * 1024;
    core->started_at = core->now = now;
    core->next_deadline = now + 1000;
    broker_trie_init(&core->subs);
    broker_trie_init(&core->retained);
    core->rx_user_props = broker_xcalloc(BROKER_RX_USER_PROPS, sizeof *core->rx_user_props);
    core->rx_subids = broker_xcalloc(BROKER_RX_SUBIDS, sizeof *core->rx_subids);
    core->rx_subscriptions = broker_xcalloc(BROKER_RX_SUBSCRIPTIONS, sizeof *core->rx_subscriptions);
    for (size_t i = 0; i < BROKER_MAX_POLICIES; i++) core->policies[i].allow_anonymous = core->opt.allow_anonymous;
    core->pgen = 1;
    core->next_pid = 1;
    if (core->opt.sys_interval) {
        broker_sys_update(core, true);
        core->next_sys = now + (int64_t)core->opt.sys_interval * 1000;
    }
    return core;
}

static void free_conn(broker_conn *c)
{
    broker_core *core = c->core;
    if (c->dirty) {
        if (c->dirty_prev) c->dirty_prev->dirty_next = c->dirty_next;
        else core->dirty_head = c->dirty_next;
        if (c->dirty_next) c->dirty_next->dirty_prev = c->dirty_prev;
        else core->dirty_tail = c->dirty_prev;
    }
    if (c->prev) c->prev->next = c->next;
    else core->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    core->nconns--;
    broker_buf_free(&c->in);
    broker_buf_free(&c->out);
    free(c->waiters);
    free(c->identity);
    free(c);
}

void broker_core_free(broker_core *core)
{
    if (!core) return;
    core->shutting_down = true; /* no will is published from here on */
    core->opt.persistence = false; /* freeing is not ending: nothing more to journal */
    while (core->conns) {
        broker_conn *c = core->conns;
        broker_conn_detach(c, false);
        free_conn(c);
    }
    /* End the remaining (persistent) sessions; copy first, ending edits the map. */
    size_t n = 0;
    broker_session **all = broker_xmalloc((core->sessions.count + 1) * sizeof *all);
    for (size_t i = 0; i < core->sessions.cap; i++)
        if (core->sessions.slots[i].item) all[n++] = core->sessions.slots[i].item;
    for (size_t i = 0; i < n; i++) broker_session_end(core, all[i]);
    free(all);
    broker_map_free(&core->sessions);
    broker_trie_free(&core->subs);
    broker_trie_free(&core->retained);
    broker_levels_free(&core->levels);
    free(core->targets);
    free(core->resume);
    free(core->route_subids);
    free(core->rx_user_props);
    free(core->rx_subids);
    free(core->rx_subscriptions);
    broker_buf_free(&core->journal);
    broker_core_restore_done(core); /* frees what a restore left, publishes nothing: shutting down */
    free(core);
}

void broker_note_deadline(broker_core *core, int64_t at)
{
    if (at < core->next_deadline) core->next_deadline = at;
}

int64_t broker_core_next_deadline(const broker_core *core)
{
    return core->next_deadline;
}

void broker_mark_dirty(broker_conn *c)
{
    broker_core *core = c->core;
    if (c->dirty) return;
    c->dirty = true;
    c->dirty_next = NULL;
    c->dirty_prev = core->dirty_tail;
    if (core->dirty_tail) core->dirty_tail->dirty_next = c;
    else core->dirty_head = c;
    core->dirty_tail = c;
}

broker_conn *broker_core_next_dirty(broker_core *core)
{
    broker_conn *c = core->dirty_head;
    if (!c) return NULL;
    core->dirty_head = c->dirty_next;
    if (core->dirty_head) core->dirty_head->dirty_prev = NULL;
    else core->dirty_tail = NULL;
    c->dirty = false;
    c->dirty_next = c->dirty_prev = NULL;
    return c;
}

size_t broker_core_conn_count(const broker_core *core)
{
    return core->nconns;
}

void broker_core_stats(const broker_core *core, broker_stats *out)
{
    *out = core->stats;
    out->clients_connected = core->nconnected;
    out->sessions = core->nsessions;
    out->subscriptions = core->nsubscriptions;
    out->retained = core->nretained;
}

void broker_core_shutdown(broker_core *core, int64_t now)
{
    core->now = now;
    if (core->shutting_down) return;
    core->shutting_down = true;
    for (broker_conn *c = core->conns; c; c = c->next) {
        if (c->state == CONN_CLOSING) continue;
        broker_conn_fail(c, 0x8B, "MQTT-4.13", false, "server shutting down");
    }
}

/* ------------------------------------------------------------- connections */

broker_conn *broker_conn_open(broker_core *core, const char *peer, void *io, int64_t now)
{
    core->now = now;
    size_t n = strlen(peer ? peer : "");
    broker_conn *c = broker_xcalloc(1, sizeof *c + n + 1);
    c->core = core;
    c->io = io;
    memcpy(c->peer, peer ? peer : "", n);
    c->state = CONN_NEW;
    c->last_rx = now;
    c->throttle_since = now;
    c->client_receive_max = 65535;
    c->request_problem_info = true;
    c->next = core->conns;
    if (core->conns) core->conns->prev = c;
    core->conns = c;
    core->nconns++;
    broker_note_deadline(core, now + CONNECT_TIMEOUT_MS);
    if (core->shutting_down) broker_conn_fail(c, 0, "MQTT-4.13", false, "server shutting down");
    return c;
}

void *broker_conn_io(const broker_conn *c)
{
    return c->io;
}

const char *broker_conn_client_id(const broker_conn *c)
{
    return c->session ? c->session->client_id : "";
}

bool broker_conn_wants_read(const broker_conn *c)
{
    return c->state != CONN_CLOSING && !c->blocked_on;
}

bool broker_conn_should_close(const broker_conn *c)
{
    return c->state == CONN_CLOSING;
}

size_t broker_conn_output(const broker_conn *c, const uint8_t **data)
{
    *data = c->out.data ? c->out.data + c->out.off : NULL;
    return broker_buf_pending(&c->out);
}

void broker_conn_output_done(broker_conn *c, size_t n, int64_t now)
{
    broker_core *core = c->core;
    core->now = now;
    if (n > broker_buf_pending(&c->out)) n = broker_buf_pending(&c->out);
    if (n == 0) return;
    c->unread_answers = n < c->unread_answers ? c->unread_answers - n : 0;
    broker_buf_consume(&c->out, n);
    core->stats.bytes_sent += n;
    broker_conn_output_changed(c);
    /* Room again: send what waited in the session queue. */
    if (!c->congested && c->session && c->session->qlen && c->state == CONN_ACTIVE)
        broker_session_pump(core, c->session);
    broker_core_resume(core);
}

void broker_conn_close(broker_conn *c, int64_t now)
{
    c->core->now = now;
    if (c->state != CONN_CLOSING) {
        /* The network failed or the peer closed without DISCONNECT: the Will
         * is published (MQTT-3.1.2-8). */
        if (c->state == CONN_ACTIVE)
            broker_log_conn(c, BROKER_LOG_INFO, "connection closed by the peer without DISCONNECT");
        broker_conn_detach(c, true);
    }
    broker_core *core = c->core;
    size_t keep = 0; /* never resumed once freed */
    for (size_t i = 0; i < core->nresume; i++)
        if (core->resume[i] != c) core->resume[keep++] = core->resume[i];
    core->nresume = keep;
    free_conn(c);
    broker_core_resume(core);
}

/* ------------------------------------------------------------------- feed */

void broker_codec(const broker_conn *c, mqtt_codec *codec, mqtt_side from)
{
    memset(codec, 0, sizeof *codec);
    codec->version = c->version;
    codec->from = from;
    if (from == MQTT_FROM_SERVER) {
        codec->max_packet_size = c->client_max_packet;
    } else {
        broker_core *core = c->core;
        codec->max_packet_size = core->opt.max_packet_size;
        codec->user_properties = core->rx_user_props;
        codec->user_properties_cap = BROKER_RX_USER_PROPS;
        codec->subscription_identifiers = core->rx_subids;
        codec->subscription_identifiers_cap = BROKER_RX_SUBIDS;
        codec->subscriptions = core->rx_subscriptions;
        codec->subscriptions_cap = BROKER_RX_SUBSCRIPTIONS;
    }
}

/* A packet the codec refused: close with the rule it names. */
static void decode_error(broker_conn *c, const mqtt_error *err)
{
    char text[256];
    snprintf(text, sizeof text, "%s at byte %zu: %s", mqtt_status_name(err->status), err->offset,
             err->message ? err->message : "");
    if (c->state == CONN_NEW) {
        if (err->status == MQTT_ERR_UNSUPPORTED_VERSION) {
            /* Reveal that this is an MQTT server (MQTT-3.1.2-2 in 3.1.1: return
             * code 0x01; 5.0 MQTT-3.1.2-2: reason 0x84), then close. */
            c->version = err->version == MQTT_V5 ? MQTT_V5 : MQTT_V311;
            broker_conn_refuse(c, c->version == MQTT_V5 ? 0x84 : 0x01, err->rule, "%s", text);
        } else {
            /* MQTT-3.1.4-1: close without CONNACK. */
            broker_conn_fail(c, 0, err->rule, false, "%s", text);
        }
        return;
    }
    broker_conn_fail(c, err->reason_code ? err->reason_code : 0x81, err->rule, true, "%s", text);
}

static void dispatch(broker_conn *c, const mqtt_packet *pkt)
{
    broker_core *core = c->core;
    core->stats.packets_received++;
    c->last_rx = core->now;
    broker_trace_packet(c, pkt, true);
    if (c->state == CONN_NEW) {
        if (pkt->type != MQTT_CONNECT) {
            broker_conn_fail(c, 0, "MQTT-3.1.0-1", false, "first packet is %s, not CONNECT",
                             mqtt_packet_type_name(pkt->type));
            return;
        }
        broker_handle_connect(c, &pkt->connect);
        return;
    }
    switch (pkt->type) {
    case MQTT_CONNECT:
        broker_conn_fail(c, 0x82, "MQTT-3.1.0-2", true, "second CONNECT on one connection");
        break;
    case MQTT_PUBLISH: broker_handle_publish(c, &pkt->publish); break;
    case MQTT_PUBACK: broker_handle_puback(c, &pkt->ack); break;
    case MQTT_PUBREC: broker_handle_pubrec(c, &pkt->ack); break;
    case MQTT_PUBREL: broker_handle_pubrel(c, &pkt->ack); break;
    case MQTT_PUBCOMP: broker_handle_pubcomp(c, &pkt->ack); break;
    case MQTT_SUBSCRIBE: broker_handle_subscribe(c, &pkt->subscribe); break;
    case MQTT_UNSUBSCRIBE: broker_handle_unsubscribe(c, &pkt->subscribe); break;
    case MQTT_PINGREQ: broker_handle_pingreq(c); break;
    case MQTT_DISCONNECT: broker_handle_disconnect(c, &pkt->disconnect); break;
    case MQTT_AUTH: broker_handle_auth(c, &pkt->disconnect); break;
    default:
        /* The codec refuses server-to-client packets from a client; keep a
         * defensive close rather than trusting that here. */
        broker_conn_fail(c, 0x82, "MQTT-4.8.0-1", true, "unexpected %s from a client",
                         mqtt_packet_type_name(pkt->type));
        break;
    }
}

/* Decodes and handles the complete packets in buf; returns bytes consumed. */
static size_t process(broker_conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    /* A publisher blocked on a backlogged subscriber stops here: the rest of
     * its bytes wait in c->in (broker_core_resume), they are not dropped. */
    while (off < len && c->state != CONN_CLOSING && !c->blocked_on) {
        mqtt_codec codec;
        broker_codec(c, &codec, MQTT_FROM_CLIENT);
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, buf + off, len - off, &pkt, &err);
        if (st == MQTT_NEED_MORE) {
            c->in_need = pkt.length; /* framed: decoded again only once complete */
            break;
        }
        c->in_need = 0;
        if (st != MQTT_OK) {
            decode_error(c, &err);
            break;
        }
        dispatch(c, &pkt);
        off += pkt.length;
    }
    return off;
}

void broker_core_set_memory_limit(broker_core *core, uint64_t limit)
{
    core->opt.memory_limit = limit;
}

/* Receivers a delivery was refused to for memory_limit, and clients that
 * read none of their answers (broker_send), are disconnected here, after the delivery that found them: closing inside it
 * could end a session it is still walking. As mosquitto: "the individual
 * message will be dropped and the receiving client will be disconnected". */
static void fail_refused(broker_core *core)
{
    core->nrefused = 0;
    for (broker_conn *c = core->conns; c; c = c->next) {
        if (c->state == CONN_CLOSING) continue;
        if (c->mem_refused)
            broker_conn_fail(c, 0x97, "LIMIT-memory_limit", true, "a delivery to it was dropped at memory_limit %llu",
                             (unsigned long long)core->opt.memory_limit);
        else if (c->unread_over)
            broker_conn_fail(c, 0x97, "LIMIT-unread_output", true, "it reads none of its answers");
    }
}

void broker_core_resume(broker_core *core)
{
    /* Ends: each round closes at least one connection marked mem_refused,
     * and a connection is marked once. */
    while (core->nresume || core->nrefused) {
        if (core->nrefused) fail_refused(core);
        if (!core->nresume) continue;
        broker_conn *c = core->resume[--core->nresume];
        c->resuming = false;
        if (c->state == CONN_CLOSING || c->blocked_on) continue;
        size_t pending = broker_buf_pending(&c->in);
        if (!pending || (c->in_need && pending < c->in_need)) continue;
        size_t used = process(c, c->in.data + c->in.off, pending);
        if (c->state != CONN_CLOSING) broker_buf_consume(&c->in, used);
        else broker_buf_free(&c->in);
    }
}

/* Before its CONNECT is complete a client may hold at most max_connect_size
 * bytes in the broker: a real CONNECT is far smaller, and nobody has been
 * authenticated yet. False if c was closed for it. */
static bool connect_within_limit(broker_conn *c)
{
    uint32_t cap = c->core->opt.max_connect_size;
    if (c->state != CONN_NEW || cap == 0) return true;
    size_t held = c->in_need > broker_buf_pending(&c->in) ? c->in_need : broker_buf_pending(&c->in);
    if (held <= cap) return true;
    broker_conn_fail(c, 0, "LIMIT-max_connect_size", false, "CONNECT of %zu bytes or more, above max_connect_size %u",
                     held, (unsigned)cap);
    return false;
}

/* memory_limit (as mosquitto's: an incoming message that would exceed it is
 * dropped and its client disconnected): a packet whose fixed header says it
 * cannot fit is refused before its bytes are buffered. False if c was closed. */
static bool packet_within_memory(broker_conn *c)
{
    size_t pending = broker_buf_pending(&c->in);
    if (!c->in_need || c->in_need <= pending || !broker_mem_over(c->core, c->in_need - pending)) return true;
    if (pending && c->in.data[c->in.off] >> 4 == MQTT_PUBLISH) c->core->stats.publish_dropped++;
    broker_conn_fail(c, 0x97, "LIMIT-memory_limit", true, "packet of %zu bytes would take the broker above memory_limit %llu (%zu held)",
                     c->in_need, (unsigned long long)c->core->opt.memory_limit, broker_mem_held());
    return false;
}

void broker_conn_feed(broker_conn *c, const uint8_t *data, size_t len, int64_t now)
{
    broker_core *core = c->core;
    core->now = now;
    core->stats.bytes_received += len;
    if (c->state == CONN_CLOSING || len == 0) return;
    if (broker_buf_pending(&c->in) == 0) {
        /* Zero copy: decode straight from the caller's bytes, keep the rest. */
        size_t used = process(c, data, len);
        if (c->state != CONN_CLOSING && used < len) {
            memcpy(broker_buf_reserve_within(&c->in, len - used, core->opt.memory_limit), data + used, len - used);
            c->in.len += len - used;
        }
    } else {
        memcpy(broker_buf_reserve_within(&c->in, len, core->opt.memory_limit), data, len);
        c->in.len += len;
        /* Framing first: a packet still incomplete is not decoded again (a
         * 255 MiB PUBLISH read in 64 KiB pieces would cost O(n^2)). */
        if (!c->in_need || broker_buf_pending(&c->in) >= c->in_need) {
            size_t used = process(c, c->in.data + c->in.off, broker_buf_pending(&c->in));
            if (c->state != CONN_CLOSING) broker_buf_consume(&c->in, used);
        }
    }
    if (c->state != CONN_CLOSING && connect_within_limit(c)) packet_within_memory(c);
    if (c->state == CONN_CLOSING) broker_buf_free(&c->in);
    broker_core_resume(core);
}

/* ------------------------------------------------------------------ timers */

static void tick_conns(broker_core *core, int64_t now, int64_t *next)
{
    for (broker_conn *c = core->conns; c; c = c->next) {
        if (c->state == CONN_NEW) {
            int64_t due = c->last_rx + CONNECT_TIMEOUT_MS;
            if (now >= due) broker_conn_fail(c, 0, "MQTT-3.1.0-1", false, "no CONNECT within %d s",
                                              CONNECT_TIMEOUT_MS / 1000);
            else if (due < *next) *next = due;
            continue;
        }
        if (c->state != CONN_ACTIVE) continue;
        if (c->keepalive && !c->blocked_on) {
            /* One and a half times the Keep Alive (3.1.1 MQTT-3.1.2-24, 5.0 MQTT-3.1.2-22). */
            int64_t due = c->last_rx + (int64_t)c->keepalive * 1500;
            if (now >= due) {
                broker_conn_fail(c, 0x8D, c->version == MQTT_V5 ? "MQTT-3.1.2-22" : "MQTT-3.1.2-24", true,
                                 "no packet for 1.5 x keep alive (%u s)", (unsigned)c->keepalive);
                continue;
            }
            if (due < *next) *next = due;
        }
        if (c->nwaiters && !c->stalled) {
            /* Per backlog, progress or not: a slow subscriber must not hold
             * back what its publishers send to everyone else for longer. */
            int64_t due = c->throttle_since + core->opt.stall_ms;
            if (now >= due) {
                /* It reads or acks nothing: stop holding its publishers
                 * back; its queue limit drops messages instead. */
                c->stalled = true;
                broker_log_conn(c, BROKER_LOG_WARNING, "backlogged for %u ms: no longer throttling its publishers, its queue limit drops",
                                (unsigned)core->opt.stall_ms);
                broker_conn_check_release(c);
            } else if (due < *next) {
                *next = due;
            }
        }
    }
}

static void tick_sessions(broker_core *core, int64_t now, int64_t *next)
{
    broker_session **ending = NULL;
    size_t nending = 0;
    for (size_t i = 0; i < core->sessions.cap; i++) {
        broker_session *s = core->sessions.slots[i].item;
        if (!s) continue;
        if (s->will_at) {
            if (now >= s->will_at) broker_session_publish_will(core, s); /* 5.0 Will Delay Interval */
            else if (s->will_at < *next) *next = s->will_at;
        }
        if (!s->conn && s->expires_at) {
            if (now >= s->expires_at) {
                ending = broker_xrealloc(ending, (nending + 1) * sizeof *ending);
                ending[nending++] = s;
            } else if (s->expires_at < *next) {
                *next = s->expires_at;
            }
        }
    }
    for (size_t i = 0; i < nending; i++) {
        broker_log(core, BROKER_LOG_INFO, "session \"%s\" expired", ending[i]->client_id);
        broker_session_end(core, ending[i]); /* publishes a will still pending (MQTT-3.1.2-8) */
    }
    free(ending);
}

int64_t broker_core_tick(broker_core *core, int64_t now)
{
    core->now = now;
    int64_t next = now + 1000;
    tick_conns(core, now, &next);
    tick_sessions(core, now, &next);
    if (core->opt.sys_interval && !core->shutting_down) {
        if (now >= core->next_sys) {
            broker_sys_update(core, false);
            while (core->next_sys <= now) core->next_sys += (int64_t)core->opt.sys_interval * 1000;
        }
        if (core->next_sys < next) next = core->next_sys;
    }
    broker_core_resume(core);
    core->next_deadline = next;
    return next;
}
