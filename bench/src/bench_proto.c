/*
 * bench_proto: MQTT for a bench connection (bench_proto.h). Every packet is
 * built as an mqtt_packet and encoded by the codec; every packet received
 * was decoded by it (bench_conn.c).
 *
 * Receiving: each PUBLISH of this run is recorded in the subscriber's pair
 * table (loss, duplicates, order) and, unless sent during warm-up, in the
 * worker's histograms: from when it was due (corrected for coordinated
 * omission) and from when it was sent. At QoS 2 a PUBLISH whose packet id
 * still awaits PUBREL is the broker's retransmission of the same message,
 * which the receiver must acknowledge again but not deliver twice
 * (MQTT-4.3.3-2 in 3.1.1, MUST), so it is counted as `redelivered`, not as
 * a duplicate.
 */
#include "bench/src/bench_proto.h"

#include <stdio.h>
#include <string.h>

#include "bench/src/bench_conn.h"
#include "bench/src/bench_io.h"
#include "bench/src/bench_payload.h"
#include "bench/src/bench_track.h"

static mqtt_bytes view(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, s ? strlen(s) : 0};
}

static bool bit_get(const uint8_t *set, uint16_t id)
{
    return set[id >> 3] >> (id & 7) & 1;
}

static void bit_put(uint8_t *set, uint16_t id, bool on)
{
    if (on) set[id >> 3] = (uint8_t)(set[id >> 3] | 1u << (id & 7));
    else set[id >> 3] = (uint8_t)(set[id >> 3] & ~(1u << (id & 7)));
}

int bench_proto_connect(bench_conn *c)
{
    const bench_opts *o = c->w->run->o;
    mqtt_packet p = {.type = MQTT_CONNECT};
    /* A persistent session: the broker keeps the subscription and stores QoS 1
     * and 2 messages while the client is away (MQTT-3.1.2-5 in 3.1.1). */
    p.connect.clean_start = !(o->persistent && c->role == ROLE_SUB);
    if (!p.connect.clean_start && o->version == MQTT_V5) {
        p.connect.properties.present |= MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
        p.connect.properties.session_expiry_interval = o->session_expiry;
    }
    p.connect.keep_alive = o->keepalive;
    p.connect.client_id = view(c->client_id);
    p.connect.has_username = o->username != NULL;
    p.connect.username = view(o->username);
    p.connect.has_password = o->password != NULL;
    p.connect.password = view(o->password);
    c->state = CS_CONNACK;
    if (bench_conn_send(c, &p) != 0) return -1;
    return bench_conn_flush(c);
}

static int subscribe(bench_conn *c)
{
    const bench_opts *o = c->w->run->o;
    mqtt_subscription s = {.topic_filter = view(c->topic), .qos = (uint8_t)o->sub_qos};
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = &s;
    p.subscribe.count = 1;
    c->state = CS_SUBACK;
    return bench_conn_send(c, &p);
}

static void became_ready(bench_conn *c, int64_t now)
{
    c->state = CS_READY;
    if (!c->t_ready) atomic_fetch_add_explicit(&c->w->live.settled, 1, memory_order_relaxed);
    c->t_ready = now;
    bench_hist_record(&c->w->conn_lat, (uint64_t)(now - c->t_start));
    atomic_fetch_add_explicit(&c->w->live.connected, 1, memory_order_relaxed);
    const bench_opts *o = c->w->run->o;
    if (o->reconnect_every && (c->role == ROLE_SUB || c->role == ROLE_CONN) && !c->slow)
        c->leave_at = now + (int64_t)(o->reconnect_every * 1e9);
}

static int on_connack(bench_conn *c, const mqtt_connack *a)
{
    if (c->state != CS_CONNACK) {
        bench_conn_fail(c, BE_PROTOCOL, "a second CONNACK");
        return -1;
    }
    if (a->reason_code != 0) {
        bench_conn_fail(c, BE_CONNACK, "CONNACK refused 0x%02x (%s)", a->reason_code,
                        c->w->run->o->version == MQTT_V5 ? mqtt_reason_name(MQTT_CONNACK, a->reason_code)
                                                         : mqtt_connack_return_name(a->reason_code));
        return -1;
    }
    /* 5.0: never more QoS 1/2 PUBLISH in flight than the server's Receive
     * Maximum (MQTT-3.3.4-7, MUST); absent means 65535. */
    c->window = c->w->run->o->inflight;
    if (MQTT_HAS_PROP(&a->properties, MQTT_PROP_RECEIVE_MAXIMUM) && a->properties.receive_maximum < c->window)
        c->window = a->properties.receive_maximum;
    if (c->role == ROLE_SUB && c->reconnects && c->w->run->o->persistent) {
        /* Back with a persistent session: it must still be there (MQTT-3.2.2-2
         * in 3.1.1, MUST), subscription included. If not, count it, subscribe again. */
        if (a->session_present) {
            became_ready(c, bench_now());
            return 0;
        }
        bench_error(c->w, BE_SESSION, "%s: CONNACK Session Present 0 after a reconnect", c->client_id);
    }
    if (c->role == ROLE_SUB) return subscribe(c);
    if (c->role == ROLE_PUB) bench_io_tx_on(c);
    became_ready(c, bench_now());
    return 0;
}

static int on_suback(bench_conn *c, const mqtt_suback *a)
{
    if (c->state != CS_SUBACK || a->packet_id != 1 || a->reason_codes.len != 1) {
        bench_conn_fail(c, BE_PROTOCOL, "unexpected SUBACK (id %u, %zu codes)", a->packet_id,
                        a->reason_codes.len);
        return -1;
    }
    uint8_t rc = a->reason_codes.ptr[0];
    if (rc >= 0x80) {
        bench_conn_fail(c, BE_SUBACK, "SUBSCRIBE %s refused 0x%02x", c->topic, rc);
        return -1;
    }
    c->granted = rc;
    became_ready(c, bench_now());
    if (c->slow) bench_conn_pause(c); /* from now on it never reads */
    return 0;
}

/* Records one message of this run in the pair table and histograms. A
 * retained message sent because of the subscription (RETAIN 1 on delivery,
 * MQTT-3.3.1-8 in 3.1.1) is bound by no order across topics. */
static void record(bench_conn *c, const bench_stamp *s, int64_t t_rx, bool retained)
{
    bench_worker *w = c->w;
    track_result tr = bench_track_add(c->track, s->run_id, s->pub, s->seq);
    if (tr == TRACK_REJECT) {
        w->foreign++;
        return;
    }
    c->received++;
    if (tr == TRACK_DUP) {
        w->dup_seen++;
        return;
    }
    if (tr == TRACK_OOO && retained) bench_track_unorder(c->track, s->run_id, s->pub);
    else if (tr == TRACK_OOO) w->ooo_seen++;
    atomic_fetch_add_explicit(&w->live.received, 1, memory_order_relaxed);
    /* Throughput: deliveries inside the measured window, whenever sent. */
    if (atomic_load_explicit(&w->run->phase, memory_order_relaxed) == PH_RUN &&
        bench_now() >= atomic_load_explicit(&w->run->t_measure, memory_order_relaxed))
        w->received_measured++;
    if (s->flags & BENCH_PF_WARMUP) return;
    bench_hist_record(&w->lat, (uint64_t)(t_rx > s->due ? t_rx - s->due : 0));
    bench_hist_record(&w->lat_sent, (uint64_t)(t_rx > s->sent ? t_rx - s->sent : 0));
}

static int ack(bench_conn *c, mqtt_packet_type type, uint16_t id)
{
    mqtt_packet p = {.type = type};
    p.ack.packet_id = id;
    return bench_conn_send(c, &p);
}

static int on_publish(bench_conn *c, const mqtt_publish *pub, int64_t t_rx)
{
    /* 3.1.1 section 3.8.4: the Server may send matching PUBLISH packets
     * before the SUBACK (retained messages, typically). */
    if (c->role != ROLE_SUB || (c->state != CS_READY && c->state != CS_SUBACK)) {
        bench_conn_fail(c, BE_PROTOCOL, "PUBLISH to a client that subscribed to nothing");
        return -1;
    }
    if (pub->qos == 2) {
        if (bit_get(c->qos2_ids, pub->packet_id)) {
            c->redelivered++;
            return ack(c, MQTT_PUBREC, pub->packet_id);
        }
        bit_put(c->qos2_ids, pub->packet_id, true);
    }
    bench_stamp s;
    const bench_run *r = c->w->run;
    bool ours = bench_stamp_read(pub->payload.ptr, pub->payload.len, &s);
    if (ours && r->o->mode == BENCH_PUBSUB && s.run_id != r->run_id) ours = false;
    if (ours && !!(s.flags & BENCH_PF_REALTIME) != r->rate_clock_real) ours = false;
    if (ours) record(c, &s, t_rx, pub->retain);
    else c->w->foreign++;
    if (pub->qos == 1) return ack(c, MQTT_PUBACK, pub->packet_id);
    if (pub->qos == 2) return ack(c, MQTT_PUBREC, pub->packet_id);
    return 0;
}

/* PUBACK, PUBREC, PUBCOMP for a publisher; PUBREL for a subscriber. */
static int on_ack(bench_conn *c, mqtt_packet_type type, const mqtt_ack *a)
{
    if (type == MQTT_PUBREL) {
        if (!c->qos2_ids || !bit_get(c->qos2_ids, a->packet_id)) {
            /* An unknown id is still completed (5.0 would say 0x92), and counted. */
            c->w->errors[BE_PROTOCOL]++;
        } else {
            bit_put(c->qos2_ids, a->packet_id, false);
        }
        return ack(c, MQTT_PUBCOMP, a->packet_id);
    }
    if (!c->ids || !bit_get(c->ids, a->packet_id)) {
        bench_conn_fail(c, BE_PROTOCOL, "%s for packet id %u, which is not in flight",
                        mqtt_packet_type_name(type), a->packet_id);
        return -1;
    }
    bool refused = a->reason_code >= 0x80;
    if (type == MQTT_PUBREC && !refused) return ack(c, MQTT_PUBREL, a->packet_id);
    if (refused)
        bench_error(c->w, BE_PUBREFUSED, "%s: %s refused 0x%02x (%s)", c->client_id,
                    mqtt_packet_type_name(type), a->reason_code, mqtt_reason_name(type, a->reason_code));
    else c->acked++;
    bit_put(c->ids, a->packet_id, false);
    c->inflight--;
    atomic_fetch_sub_explicit(&c->w->live.inflight, 1, memory_order_relaxed);
    return 0;
}

int bench_proto_ping(bench_conn *c)
{
    if (c->ping_n == BENCH_PINGS) return 0; /* enough in flight: the next answers say as much */
    c->ping_seq[(c->ping_head + c->ping_n++) % BENCH_PINGS] = c->seq;
    c->ping_mark = c->seq;
    mqtt_packet p = {.type = MQTT_PINGREQ};
    return bench_conn_send(c, &p);
}

void bench_proto_flushed(bench_conn *c)
{
    if (c->flushed || c->role != ROLE_PUB) return;
    c->flushed = true;
    atomic_fetch_add_explicit(&c->w->live.pubs_flushed, 1, memory_order_relaxed);
}

/* The broker has read every packet sent before the oldest PINGREQ in flight. */
static int on_pingresp(bench_conn *c)
{
    if (!c->ping_n) {
        bench_conn_fail(c, BE_PROTOCOL, "PINGRESP without a PINGREQ");
        return -1;
    }
    c->confirmed = c->ping_seq[c->ping_head];
    c->ping_head = (c->ping_head + 1) % BENCH_PINGS;
    c->ping_n--;
    if (c->final_ping && c->confirmed == c->seq) bench_proto_flushed(c);
    return 0;
}

int bench_proto_handle(bench_conn *c, const mqtt_packet *p, int64_t t_rx)
{
    switch (p->type) {
    case MQTT_CONNACK: return on_connack(c, &p->connack);
    case MQTT_SUBACK: return on_suback(c, &p->suback);
    case MQTT_PUBLISH: return on_publish(c, &p->publish, t_rx);
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
        return on_ack(c, p->type, &p->ack);
    case MQTT_PINGRESP: return on_pingresp(c);
    case MQTT_DISCONNECT:
        bench_conn_fail(c, BE_DISCONNECT, "broker sent DISCONNECT 0x%02x (%s)", p->disconnect.reason_code,
                        mqtt_reason_name(MQTT_DISCONNECT, p->disconnect.reason_code));
        return -1;
    default:
        bench_conn_fail(c, BE_PROTOCOL, "unexpected %s from the broker", mqtt_packet_type_name(p->type));
        return -1;
    }
}

/* A free packet id for publisher c (the window keeps fewer than 65535 in flight). */
static uint16_t next_id(bench_conn *c)
{
    do {
        c->next_id = (uint16_t)(c->next_id + 1u);
    } while (c->next_id == 0 || bit_get(c->ids, c->next_id));
    return c->next_id;
}

/* Fills the worker's scratch payload for the next message and returns its size. */
static size_t fill_payload(bench_conn *c, int64_t due, int64_t now)
{
    bench_worker *w = c->w;
    const bench_opts *o = w->run->o;
    size_t len = o->payload_min;
    if (o->payload_max > o->payload_min) {
        w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
        len += (size_t)(w->rng % (o->payload_max - o->payload_min + 1));
    }
    bench_stamp s = {.run_id = w->run->run_id, .pub = (uint32_t)c->index, .seq = c->seq,
                     .due = due + w->run->clock_offset, .sent = now + w->run->clock_offset};
    if (w->run->rate_clock_real) s.flags |= BENCH_PF_REALTIME;
    if (now < atomic_load_explicit(&w->run->t_measure, memory_order_relaxed)) s.flags |= BENCH_PF_WARMUP;
    bench_stamp_write(w->scratch, &s);
    return len;
}

/* The publish topic with each %n replaced by the message's sequence number
 * (setup kept the pattern short enough for buf). */
static mqtt_bytes topic_of(const bench_conn *c, char *buf, size_t cap)
{
    if (!c->topic_n) return view(c->topic);
    size_t n = 0;
    for (const char *p = c->topic; *p && n + 21 < cap; p++) {
        if (p[0] == '%' && p[1] == 'n') {
            n += (size_t)snprintf(buf + n, cap - n, "%llu", (unsigned long long)c->seq);
            p++;
        } else {
            buf[n++] = *p;
        }
    }
    return (mqtt_bytes){(const uint8_t *)buf, n};
}

/* due and the send time are monotonic; the stamp adds the payload clock's offset. */
int bench_proto_publish(bench_conn *c, int64_t due)
{
    const bench_opts *o = c->w->run->o;
    int64_t now = bench_now();
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.qos = (uint8_t)o->qos;
    p.publish.retain = o->retain;
    char topic[BENCH_TOPIC_MAX];
    p.publish.topic = topic_of(c, topic, sizeof topic);
    p.publish.payload = (mqtt_bytes){c->w->scratch, fill_payload(c, due, now)};
    if (o->qos > 0) {
        p.publish.packet_id = next_id(c);
        bit_put(c->ids, p.publish.packet_id, true);
        c->inflight++;
        atomic_fetch_add_explicit(&c->w->live.inflight, 1, memory_order_relaxed);
    }
    if (bench_conn_send(c, &p) != 0) return -1;
    /* The payload ends the packet: remember where its stamp is, so the
     * flush can set the send time again right before the write. */
    c->stamp_len = c->out.len;
    c->stamp_pos = c->out.len - p.publish.payload.len;
    c->seq++;
    c->sent++;
    c->w->last_send = now;
    if (now >= atomic_load_explicit(&c->w->run->t_measure, memory_order_relaxed)) c->w->sent_measured++;
    atomic_fetch_add_explicit(&c->w->live.sent, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->w->live.expected, c->fanout, memory_order_relaxed);
    /* QoS 0 has no acks: a marker every quarter window tells how far the broker read. */
    if (o->qos == 0 && c->window0 && c->seq - c->ping_mark >= c->window0 / 4) return bench_proto_ping(c);
    return 0;
}

void bench_proto_disconnect(bench_conn *c)
{
    if (c->state != CS_READY) return;
    mqtt_packet p = {.type = MQTT_DISCONNECT};
    if (bench_conn_send(c, &p) == 0) bench_conn_flush(c);
}
