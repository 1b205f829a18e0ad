/*
 * pcap-gen: writes a large capture of mixed MQTT traffic for `make bench-pcap`
 * (and for tests that need volume): 3.1.1 and 5.0 connections, QoS 0/1/2
 * exchanges with their acknowledgements, subscriptions, pings, payloads from
 * a few bytes to 16 KiB (so packets span several segments), and segments
 * that carry several packets. Packets are encoded by libmqttcodec and
 * written by pcap_writer, so the file is exactly what the reader must parse.
 *   pcap-gen OUT.pcap [MEGABYTES] [raw]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt/mqtt.h>

#include "pcaps/src/pcap_writer.h"

#define NCONN 64

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

typedef struct {
    pcap_writer_conn tcp;
    mqtt_version v;
    uint16_t next_id;
    uint8_t out[2][70000];   /* pending bytes per side, flushed as one send */
    size_t olen[2];
} conn;

static int64_t now_us = 1700000000000000;

static void put(conn *c, int side, const mqtt_packet *p)
{
    mqtt_codec codec = {.version = c->v, .from = side == PCAP_WRITER_CLIENT ? MQTT_FROM_CLIENT
                                                                            : MQTT_FROM_SERVER};
    size_t n;
    mqtt_error err;
    if (mqtt_encode(&codec, p, c->out[side] + c->olen[side], sizeof c->out[side] - c->olen[side],
                    &n, &err) != MQTT_OK) {
        fprintf(stderr, "pcap-gen: encode %s failed: %s %s\n", mqtt_packet_type_name(p->type),
                err.rule, err.message);
        exit(1);
    }
    c->olen[side] += n;
}

static void flush(pcap_writer *w, conn *c, int side)
{
    if (!c->olen[side])
        return;
    now_us += 1 + rnd(200);
    if (pcap_writer_send(w, &c->tcp, side, c->out[side], c->olen[side], now_us) != 0) {
        fprintf(stderr, "pcap-gen: write failed\n");
        exit(1);
    }
    c->olen[side] = 0;
}

static void start(pcap_writer *w, conn *c, int i)
{
    char ip[32];
    snprintf(ip, sizeof ip, "10.0.%d.%d", i / 200, i % 200 + 2);
    pcap_writer_conn_init_text(&c->tcp, ip, (uint16_t)(40000 + i), "10.0.255.1", 1883);
    c->v = i % 2 ? MQTT_V5 : MQTT_V311;
    c->next_id = 1;
    now_us += 10;
    pcap_writer_handshake(w, &c->tcp, now_us);
    char cid[32];
    snprintf(cid, sizeof cid, "bench-%d", i);
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.clean_start = true;
    p.connect.keep_alive = 60;
    p.connect.client_id = (mqtt_bytes){(const uint8_t *)cid, strlen(cid)};
    put(c, PCAP_WRITER_CLIENT, &p);
    flush(w, c, PCAP_WRITER_CLIENT);
    mqtt_packet a = {.type = MQTT_CONNACK};
    put(c, PCAP_WRITER_SERVER, &a);
    flush(w, c, PCAP_WRITER_SERVER);
    mqtt_subscription s = {.topic_filter = {(const uint8_t *)"bench/#", 7}, .qos = 2};
    mqtt_packet sub = {.type = MQTT_SUBSCRIBE};
    sub.subscribe.packet_id = c->next_id++;
    sub.subscribe.subscriptions = &s;
    sub.subscribe.count = 1;
    put(c, PCAP_WRITER_CLIENT, &sub);
    flush(w, c, PCAP_WRITER_CLIENT);
    uint8_t rc = 2;
    mqtt_packet sa = {.type = MQTT_SUBACK};
    sa.suback.packet_id = sub.subscribe.packet_id;
    sa.suback.reason_codes = (mqtt_bytes){&rc, 1};
    put(c, PCAP_WRITER_SERVER, &sa);
    flush(w, c, PCAP_WRITER_SERVER);
}

static void ack(conn *c, int side, mqtt_packet_type t, uint16_t id)
{
    mqtt_packet a = {.type = t};
    a.ack.packet_id = id;
    put(c, side, &a);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pcap-gen OUT.pcap [MEGABYTES] [raw]\n");
        return 2;
    }
    uint64_t target = (uint64_t)((argc > 2 ? atof(argv[2]) : 100.0) * 1000000);
    char err[256];
    pcap_writer *w = pcap_writer_open(argv[1], argc > 3 && strcmp(argv[3], "raw") == 0
                                                   ? PCAP_WRITER_RAW : PCAP_WRITER_ETHERNET,
                                      err, sizeof err);
    if (!w) {
        fprintf(stderr, "pcap-gen: %s\n", err);
        return 1;
    }
    static conn conns[NCONN];
    static uint8_t payload[16384];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    for (int i = 0; i < NCONN; i++)
        start(w, &conns[i], i);
    uint64_t packets = 0;
    while (pcap_writer_bytes(w) < target) {
        conn *c = &conns[rnd(NCONN)];
        int burst = 1 + (int)rnd(4); /* several packets per segment */
        int from = rnd(2) ? PCAP_WRITER_CLIENT : PCAP_WRITER_SERVER;
        for (int b = 0; b < burst; b++) {
            uint32_t kind = rnd(100);
            if (kind < 3) {
                flush(w, c, from);
                flush(w, c, !from);
                mqtt_packet p = {.type = MQTT_PINGREQ};
                put(c, PCAP_WRITER_CLIENT, &p);
                flush(w, c, PCAP_WRITER_CLIENT);
                mqtt_packet q = {.type = MQTT_PINGRESP};
                put(c, PCAP_WRITER_SERVER, &q);
                flush(w, c, PCAP_WRITER_SERVER);
                packets += 2;
                continue;
            }
            char topic[64];
            snprintf(topic, sizeof topic, "bench/sensor/%u/value", rnd(1000));
            uint32_t size = kind < 90 ? 8 + rnd(200) : kind < 98 ? 1000 + rnd(3000) : 16000;
            mqtt_packet p = {.type = MQTT_PUBLISH};
            p.publish.qos = (uint8_t)rnd(3);
            p.publish.topic = (mqtt_bytes){(const uint8_t *)topic, strlen(topic)};
            p.publish.payload = (mqtt_bytes){payload, size};
            if (p.publish.qos) {
                p.publish.packet_id = c->next_id++;
                if (c->next_id == 0)
                    c->next_id = 1;
            }
            put(c, from, &p);
            packets++;
            if (p.publish.qos == 1) {
                ack(c, !from, MQTT_PUBACK, p.publish.packet_id);
                packets++;
            } else if (p.publish.qos == 2) {
                ack(c, !from, MQTT_PUBREC, p.publish.packet_id);
                flush(w, c, from);
                flush(w, c, !from);
                ack(c, from, MQTT_PUBREL, p.publish.packet_id);
                flush(w, c, from);
                ack(c, !from, MQTT_PUBCOMP, p.publish.packet_id);
                packets += 3;
            }
            if (c->olen[0] > 40000 || c->olen[1] > 40000)
                break;
        }
        flush(w, c, from);
        flush(w, c, !from);
    }
    for (int i = 0; i < NCONN; i++) {
        mqtt_packet d = {.type = MQTT_DISCONNECT};
        put(&conns[i], PCAP_WRITER_CLIENT, &d);
        flush(w, &conns[i], PCAP_WRITER_CLIENT);
        pcap_writer_fin(w, &conns[i].tcp, PCAP_WRITER_CLIENT, ++now_us);
        packets++;
    }
    uint64_t bytes = pcap_writer_bytes(w);
    if (pcap_writer_close(w) != 0) {
        fprintf(stderr, "pcap-gen: writing %s failed\n", argv[1]);
        return 1;
    }
    printf("pcap-gen: %s: %llu bytes, %llu MQTT packets in %d connections\n", argv[1],
           (unsigned long long)bytes, (unsigned long long)packets, NCONN);
    return 0;
}
