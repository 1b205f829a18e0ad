/*
 * Test helpers for pcaps/: build captures in memory with pcap_writer and the
 * codec, run them through pcap_flow, and render the events as one compact
 * string ("OPEN|C>S CONNECT|S>C CONNACK|C>S BAD MQTT-3.3.1-4|CLOSE") that
 * tests compare against what the case requires.
 */
#ifndef PCAP_TEST_HELPERS_H
#define PCAP_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt/mqtt.h>

#include "pcaps/src/pcap_flow.h"
#include "pcaps/src/pcap_reader.h"
#include "pcaps/src/pcap_writer.h"

/* A capture being written into memory. */
typedef struct {
    char *buf;
    size_t len;
    FILE *fp;
    pcap_writer *w;
    int64_t t;
} mem_cap;

static inline void cap_open(mem_cap *m, pcap_writer_link link)
{
    memset(m, 0, sizeof *m);
    m->fp = open_memstream(&m->buf, &m->len);
    cr_assert(m->fp);
    char err[256];
    m->w = pcap_writer_open_stream(m->fp, link, err, sizeof err);
    cr_assert(m->w, "%s", err);
    m->t = 1700000000000000;
}

static inline void cap_close(mem_cap *m)
{
    cr_assert_eq(pcap_writer_close(m->w), 0);
}

static inline void cap_free(mem_cap *m)
{
    free(m->buf);
}

/* Encodes pkt for version v into out (returns its length). */
static inline size_t enc(mqtt_version v, mqtt_side from, const mqtt_packet *pkt, uint8_t *out,
                         size_t cap)
{
    mqtt_codec codec = {.version = v, .from = from};
    size_t n = 0;
    mqtt_error err;
    mqtt_status st = mqtt_encode(&codec, pkt, out, cap, &n, &err);
    cr_assert_eq(st, MQTT_OK, "encode %s: %s", mqtt_packet_type_name(pkt->type),
                 st ? err.message : "");
    return n;
}

static inline size_t enc_connect(mqtt_version v, const char *id, uint8_t *out, size_t cap)
{
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.clean_start = true;
    p.connect.keep_alive = 60;
    p.connect.client_id = (mqtt_bytes){(const uint8_t *)id, strlen(id)};
    return enc(v, MQTT_FROM_CLIENT, &p, out, cap);
}

static inline size_t enc_connack(mqtt_version v, uint8_t rc, uint8_t *out, size_t cap)
{
    mqtt_packet p = {.type = MQTT_CONNACK};
    p.connack.reason_code = rc;
    return enc(v, MQTT_FROM_SERVER, &p, out, cap);
}

static inline size_t enc_publish(mqtt_version v, mqtt_side from, uint8_t qos, uint16_t id,
                                 const char *topic, const void *payload, size_t plen,
                                 uint8_t *out, size_t cap)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.qos = qos;
    p.publish.packet_id = id;
    p.publish.topic = (mqtt_bytes){(const uint8_t *)topic, strlen(topic)};
    p.publish.payload = (mqtt_bytes){payload, plen};
    return enc(v, from, &p, out, cap);
}

static inline size_t enc_ack(mqtt_version v, mqtt_side from, mqtt_packet_type t, uint16_t id,
                             uint8_t *out, size_t cap)
{
    mqtt_packet p = {.type = t};
    p.ack.packet_id = id;
    return enc(v, from, &p, out, cap);
}

static inline size_t enc_simple(mqtt_version v, mqtt_side from, mqtt_packet_type t, uint8_t *out,
                                size_t cap)
{
    mqtt_packet p = {.type = t};
    return enc(v, from, &p, out, cap);
}

/* Event rendering. */
typedef struct {
    char text[8192];
    size_t len;
    unsigned conns;
} ev_log;

static inline void ev_add(ev_log *l, const char *fmt, const char *a, unsigned long long n)
{
    int k = snprintf(l->text + l->len, sizeof l->text - l->len, "%s", l->len ? "|" : "");
    l->len += (size_t)k;
    k = snprintf(l->text + l->len, sizeof l->text - l->len, fmt, a, n);
    if (k > 0)
        l->len += (size_t)k < sizeof l->text - l->len ? (size_t)k : sizeof l->text - l->len - 1;
}

static inline void ev_collect(void *ctx, const pcap_event *ev)
{
    ev_log *l = ctx;
    const char *dir = pcap_dir_name(ev->from);
    char tmp[200];
    switch (ev->kind) {
    case PCAP_EV_OPEN:
        l->conns++;
        ev_add(l, "OPEN%s%.0llu", ev->conn->midstream ? " midstream" : "", 0);
        break;
    case PCAP_EV_PACKET:
        snprintf(tmp, sizeof tmp, "%s %s", dir, mqtt_packet_type_name(ev->pkt->type));
        if (ev->pkt->type == MQTT_PUBLISH)
            ev_add(l, "%s %llu", tmp, ev->pkt->publish.payload.len);
        else
            ev_add(l, "%s%.0llu", tmp, 0);
        break;
    case PCAP_EV_BAD:
        snprintf(tmp, sizeof tmp, "%s BAD %s", dir, ev->err->rule);
        ev_add(l, "%s%.0llu", tmp, 0);
        break;
    case PCAP_EV_GAP:
        snprintf(tmp, sizeof tmp, "%s GAP", dir);
        ev_add(l, "%s %llu", tmp, ev->bytes);
        break;
    case PCAP_EV_RESYNC:
        snprintf(tmp, sizeof tmp, "%s RESYNC", dir);
        ev_add(l, "%s %llu", tmp, ev->bytes);
        break;
    case PCAP_EV_NOTE:
        break;
    case PCAP_EV_CLOSE:
        ev_add(l, "CLOSE%s%.0llu", "", 0);
        break;
    }
}

/* Runs the flow over a capture in memory; returns pcap_flow_run's status. */
static inline int run_flow(const void *buf, size_t len, const uint16_t *ports, size_t nports,
                           ev_log *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    char e[512];
    pcap_reader *r = pcap_reader_open_memory(buf, len, "mem.pcap", e, sizeof e);
    if (!r) {
        size_t k = strlen(e) < errlen ? strlen(e) : errlen - 1;
        memcpy(err, e, k);
        err[k] = '\0';
        return -2;
    }
    static const uint16_t p1883[] = {1883};
    pcap_flow_options o = {.ports = ports ? ports : p1883, .nports = ports ? nports : 1};
    int rc = pcap_flow_run(r, &o, ev_collect, l, NULL, err, errlen);
    pcap_reader_close(r);
    return rc;
}

/* Every event of a capture in memory (port 1883) to fn; the run must succeed. */
static inline void flow_each(const mem_cap *m, pcap_event_fn fn, void *ctx)
{
    char e[512];
    pcap_reader *r = pcap_reader_open_memory(m->buf, m->len, "mem.pcap", e, sizeof e);
    cr_assert(r, "%s", e);
    static const uint16_t p1883[] = {1883};
    pcap_flow_options o = {.ports = p1883, .nports = 1};
    cr_assert_eq(pcap_flow_run(r, &o, fn, ctx, NULL, e, sizeof e), 0, "%s", e);
    pcap_reader_close(r);
}

static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

#endif
