/*
 * tc: implementation of the core test harness (see tc.h). The fake clock
 * starts at 1,000,000 ms so that "time 0" is never special.
 */
#include "broker/tests/tc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mqtt_bytes tc_str(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

bool tc_bytes_is(mqtt_bytes b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

static void capture_log(void *ctx, broker_log_level level, const char *line)
{
    (void)level;
    tc_broker *b = ctx;
    size_t n = strlen(line);
    if (b->log_len + n + 2 > b->log_cap) {
        b->log_cap = (b->log_len + n + 2) * 2;
        b->log = realloc(b->log, b->log_cap);
    }
    memcpy(b->log + b->log_len, line, n);
    b->log_len += n;
    b->log[b->log_len++] = '\n';
    b->log[b->log_len] = '\0';
    if (getenv("TC_LOG")) fprintf(stderr, "log: %s\n", line);
}

void tc_options(broker_options *o)
{
    broker_options_default(o);
    o->sys_interval = 0;
}

/* Brokers alive: once none is, every byte counted for memory_limit
 * (broker_mem_held, one count per process) must have been given back. */
static int live_brokers;

tc_broker *tc_new(const broker_options *opts)
{
    tc_broker *b = calloc(1, sizeof *b);
    live_brokers++;
    broker_options o;
    if (opts) o = *opts;
    else tc_options(&o);
    o.log = capture_log;
    o.log_ctx = b;
    o.trace_packets = getenv("TC_LOG") != NULL;
    b->now = 1000000;
    b->core = broker_core_new(&o, b->now);
    return b;
}

static void client_free(tc_client *c)
{
    for (size_t i = 0; i < TC_SLOTS; i++) free(c->slots[i].bytes);
    free(c->in);
    free(c);
}

void tc_free(tc_broker *b)
{
    broker_core_free(b->core); /* frees the connections still open */
    /* Fails the tests that free their broker in their body; in a suite's
     * .fini Criterion only prints it. */
    if (--live_brokers == 0)
        cr_assert_eq(broker_mem_held(), 0, "memory accounting: %zu bytes counted and never given back", broker_mem_held());
    for (size_t i = 0; i < b->nclients; i++) client_free(b->clients[i]);
    free(b->clients);
    free(b->log);
    free(b);
}

void tc_advance(tc_broker *b, int64_t ms)
{
    b->now += ms;
    broker_core_tick(b->core, b->now);
}

bool tc_log_has(const tc_broker *b, const char *needle)
{
    return b->log && strstr(b->log, needle) != NULL;
}

tc_client *tc_open(tc_broker *b, mqtt_version v)
{
    tc_client *c = calloc(1, sizeof *c);
    c->b = b;
    c->version = v;
    c->next_id = 1;
    c->conn = broker_conn_open(b->core, "127.0.0.1:1", c, b->now);
    b->clients = realloc(b->clients, (b->nclients + 1) * sizeof *b->clients);
    b->clients[b->nclients++] = c;
    return c;
}

void tc_send_raw(tc_client *c, const void *bytes, size_t n)
{
    cr_assert(c->conn, "send on a closed connection");
    broker_conn_feed(c->conn, bytes, n, c->b->now);
}

void tc_send(tc_client *c, mqtt_packet *pkt)
{
    mqtt_codec codec = {.version = c->version, .from = MQTT_FROM_CLIENT};
    if (pkt->type == MQTT_CONNECT && pkt->connect.protocol_level == 0) pkt->connect.protocol_level = (uint8_t)c->version;
    size_t size;
    mqtt_error err;
    mqtt_status st = mqtt_encoded_size(&codec, pkt, &size, &err);
    cr_assert_eq(st, MQTT_OK, "test packet %s does not encode: %s %s", mqtt_packet_type_name(pkt->type),
                 err.rule, err.message);
    uint8_t *buf = malloc(size);
    size_t written;
    st = mqtt_encode(&codec, pkt, buf, size, &written, &err);
    cr_assert_eq(st, MQTT_OK);
    tc_send_raw(c, buf, written);
    free(buf);
}

/* Moves what the core queued for c into c->in. */
static void pull(tc_client *c)
{
    if (!c->conn) return;
    const uint8_t *data;
    size_t n = broker_conn_output(c->conn, &data);
    if (n == 0) return;
    if (c->in_len + n > c->in_cap) {
        c->in_cap = (c->in_len + n) * 2;
        c->in = realloc(c->in, c->in_cap);
    }
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    broker_conn_output_done(c->conn, n, c->b->now);
}

tc_pkt *tc_recv(tc_client *c)
{
    pull(c);
    if (c->in_len == 0) return NULL;
    tc_pkt *s = &c->slots[c->next_slot];
    c->next_slot = (c->next_slot + 1) % TC_SLOTS;
    mqtt_codec codec = {.version = c->version,
                        .from = MQTT_FROM_SERVER,
                        .user_properties = s->props,
                        .user_properties_cap = 64,
                        .subscription_identifiers = s->subids,
                        .subscription_identifiers_cap = 16,
                        .subscriptions = s->subs,
                        .subscriptions_cap = 16};
    mqtt_packet probe;
    mqtt_error err;
    mqtt_status st = mqtt_decode(&codec, c->in, c->in_len, &probe, &err);
    cr_assert_eq(st, MQTT_OK, "broker sent bytes that do not decode (%d): %s %s", st,
                 st >= MQTT_ERR_MALFORMED ? err.rule : "", st >= MQTT_ERR_MALFORMED ? err.message : "need more");
    size_t len = probe.length;
    free(s->bytes);
    s->bytes = malloc(len);
    memcpy(s->bytes, c->in, len);
    memmove(c->in, c->in + len, c->in_len - len);
    c->in_len -= len;
    st = mqtt_decode(&codec, s->bytes, len, &s->pkt, &err);
    cr_assert_eq(st, MQTT_OK);
    return s;
}

mqtt_packet *tc_expect(tc_client *c, mqtt_packet_type type)
{
    tc_pkt *p = tc_recv(c);
    cr_assert(p, "expected %s, got nothing", mqtt_packet_type_name(type));
    if (p->pkt.type != type) {
        char line[256];
        mqtt_format_line(&p->pkt, c->version, line, sizeof line);
        cr_assert_fail("expected %s, got %s", mqtt_packet_type_name(type), line);
    }
    return &p->pkt;
}

void tc_expect_none(tc_client *c)
{
    tc_pkt *p = tc_recv(c);
    if (p) {
        char line[256];
        mqtt_format_line(&p->pkt, c->version, line, sizeof line);
        cr_assert_fail("expected nothing, got %s", line);
    }
}

bool tc_closed(tc_client *c)
{
    pull(c);
    return c->conn && broker_conn_should_close(c->conn);
}

void tc_expect_closed(tc_client *c, int reason)
{
    if (reason >= 0) {
        mqtt_packet *d = tc_expect(c, MQTT_DISCONNECT);
        cr_assert_eq(d->disconnect.reason_code, reason, "DISCONNECT reason 0x%02X, expected 0x%02X",
                     d->disconnect.reason_code, reason);
    }
    tc_expect_none(c);
    cr_assert(tc_closed(c), "connection not closed");
}

void tc_drop(tc_client *c)
{
    if (!c->conn) return;
    broker_conn_close(c->conn, c->b->now);
    c->conn = NULL;
}

void tc_connect_init(mqtt_packet *pkt, const char *id, bool clean)
{
    memset(pkt, 0, sizeof *pkt);
    pkt->type = MQTT_CONNECT;
    pkt->connect.client_id = tc_str(id);
    pkt->connect.clean_start = clean;
}

mqtt_packet *tc_connect_pkt(tc_client *c, mqtt_packet *connect)
{
    connect->type = MQTT_CONNECT;
    tc_send(c, connect);
    return tc_expect(c, MQTT_CONNACK);
}

tc_client *tc_connect(tc_broker *b, mqtt_version v, const char *id, bool clean)
{
    tc_client *c = tc_open(b, v);
    mqtt_packet pkt;
    tc_connect_init(&pkt, id, clean);
    mqtt_packet *ack = tc_connect_pkt(c, &pkt);
    cr_assert_eq(ack->connack.reason_code, 0, "CONNACK 0x%02X for \"%s\"", ack->connack.reason_code, id);
    return c;
}

void tc_subscribe_expect(tc_client *c, const char *filter, uint8_t qos, uint8_t expect)
{
    mqtt_subscription sub = {.topic_filter = tc_str(filter), .qos = qos};
    mqtt_packet pkt = {.type = MQTT_SUBSCRIBE};
    pkt.subscribe.packet_id = c->next_id++;
    pkt.subscribe.subscriptions = &sub;
    pkt.subscribe.count = 1;
    tc_send(c, &pkt);
    mqtt_packet *ack = tc_expect(c, MQTT_SUBACK);
    cr_assert_eq(ack->suback.packet_id, pkt.subscribe.packet_id, "SUBACK id (MQTT-3.8.4-2)");
    cr_assert_eq(ack->suback.reason_codes.len, 1);
    cr_assert_eq(ack->suback.reason_codes.ptr[0], expect, "SUBACK code 0x%02X, expected 0x%02X",
                 ack->suback.reason_codes.ptr[0], expect);
}

void tc_subscribe(tc_client *c, const char *filter, uint8_t qos)
{
    tc_subscribe_expect(c, filter, qos, qos);
}

uint16_t tc_publish(tc_client *c, const char *topic, const char *payload, uint8_t qos, bool retain)
{
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str(topic);
    pkt.publish.payload = tc_str(payload);
    pkt.publish.qos = qos;
    pkt.publish.retain = retain;
    if (qos) pkt.publish.packet_id = c->next_id++;
    tc_send(c, &pkt);
    return pkt.publish.packet_id;
}

void tc_ack(tc_client *c, mqtt_packet_type type, uint16_t id)
{
    mqtt_packet pkt = {.type = type};
    pkt.ack.packet_id = id;
    tc_send(c, &pkt);
}

void tc_publish_done(tc_client *c, const char *topic, const char *payload, uint8_t qos, bool retain)
{
    uint16_t id = tc_publish(c, topic, payload, qos, retain);
    if (qos == 1) {
        cr_assert_eq(tc_expect(c, MQTT_PUBACK)->ack.packet_id, id);
    } else if (qos == 2) {
        cr_assert_eq(tc_expect(c, MQTT_PUBREC)->ack.packet_id, id);
        tc_ack(c, MQTT_PUBREL, id);
        cr_assert_eq(tc_expect(c, MQTT_PUBCOMP)->ack.packet_id, id);
    }
}

mqtt_publish *tc_expect_publish(tc_client *c, const char *topic, const char *payload)
{
    mqtt_packet *p = tc_expect(c, MQTT_PUBLISH);
    cr_assert(tc_bytes_is(p->publish.topic, topic), "PUBLISH topic \"%.*s\", expected \"%s\"",
              (int)p->publish.topic.len, (const char *)p->publish.topic.ptr, topic);
    if (payload)
        cr_assert(tc_bytes_is(p->publish.payload, payload), "PUBLISH payload \"%.*s\", expected \"%s\"",
                  (int)p->publish.payload.len, (const char *)p->publish.payload.ptr, payload);
    return &p->publish;
}
