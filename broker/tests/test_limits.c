/*
 * Bounded CPU and memory per client (issue 14): a packet arriving in pieces
 * is framed (fixed header + Remaining Length) and decoded once, whole; the
 * bytes a client may send before its CONNACK are capped (max_connect_size).
 */
#include "broker/tests/tc.h"
#include "scripts/decode_count.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *encode(mqtt_version v, mqtt_packet *pkt, size_t *n)
{
    mqtt_codec codec = {.version = v, .from = MQTT_FROM_CLIENT};
    cr_assert_eq(mqtt_encoded_size(&codec, pkt, n, NULL), MQTT_OK);
    uint8_t *buf = malloc(*n);
    size_t written;
    cr_assert_eq(mqtt_encode(&codec, pkt, buf, *n, &written, NULL), MQTT_OK);
    return buf;
}

Test(broker_limits, a_packet_arriving_in_pieces_is_decoded_once)
{
    tc_broker *b = tc_new(NULL);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "big", 0);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    size_t payload_len = 1 << 20;
    char *payload = malloc(payload_len);
    memset(payload, 'x', payload_len);
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.topic = tc_str("big");
    p.publish.payload = (mqtt_bytes){(const uint8_t *)payload, payload_len};
    size_t n;
    uint8_t *bytes = encode(MQTT_V311, &p, &n);
    test_decoded_bytes = 0;
    for (size_t off = 0; off < n; off += 1024) tc_send_raw(pub, bytes + off, n - off < 1024 ? n - off : 1024);
    size_t work = test_decoded_bytes;
    /* Once for the fixed header, once whole: about 1x, never n^2/chunk. */
    cr_assert_lt(work, 3 * n, "decoded %zu bytes for one %zu-byte packet", work, n);
    tc_pkt *got = tc_recv(sub);
    cr_assert_not_null(got);
    cr_assert_eq(got->pkt.publish.payload.len, payload_len);
    free(bytes);
    free(payload);
    tc_free(b);
}

Test(broker_limits, bytes_before_connack_are_capped)
{
    broker_options o;
    tc_options(&o);
    cr_assert_eq(o.max_connect_size, 32768, "the documented default");
    o.max_connect_size = 4096;
    tc_broker *b = tc_new(&o);
    /* A CONNECT announcing 1 MiB is refused on its fixed header, not
     * buffered until the connect timeout. */
    tc_client *c = tc_open(b, MQTT_V5);
    static const uint8_t head[] = {0x10, 0x80, 0x80, 0x40, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0xFF, 0xFF};
    tc_send_raw(c, head, sizeof head);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "max_connect_size"));
    /* A normal CONNECT still gets in. */
    tc_connect(b, MQTT_V5, "ok", true);
    /* At the limit, in pieces: accepted. */
    tc_client *big = tc_open(b, MQTT_V311);
    char id[4000];
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    mqtt_packet p;
    tc_connect_init(&p, id, true);
    p.connect.protocol_level = MQTT_V311;
    size_t n;
    uint8_t *bytes = encode(MQTT_V311, &p, &n);
    cr_assert_leq(n, 4096);
    for (size_t off = 0; off < n; off += 100) tc_send_raw(big, bytes + off, n - off < 100 ? n - off : 100);
    cr_assert_eq(tc_expect(big, MQTT_CONNACK)->connack.reason_code, 0);
    free(bytes);
    tc_free(b);
}

static void deep_topic(char *buf, size_t levels)
{
    size_t n = 0;
    for (size_t i = 0; i < levels; i++) {
        if (i) buf[n++] = '/';
        buf[n++] = 'a';
    }
    buf[n] = '\0';
}

/* Topic levels and filter length are bounded (max_topic_levels, default
 * 200 as mosquitto's TOPIC_HIERARCHY_LIMIT; max_filter_length): a deep
 * filter is refused with 0x97 Quota exceeded (3.x 0x80), a deep topic's
 * PUBLISH acked 0x90 Topic Name invalid and dropped; nothing enters the
 * tries (4 MiB of deep filters grew memory by 267 MB before). */
Test(broker_limits, topic_levels_and_filter_length_are_bounded)
{
    broker_options o;
    tc_options(&o);
    cr_assert_eq(o.max_topic_levels, 200);
    o.max_filter_length = 300;
    tc_broker *b = tc_new(&o);
    static char deep[1024], ok[1024];
    deep_topic(deep, 201);
    deep_topic(ok, 150);
    tc_client *c5 = tc_connect(b, MQTT_V5, "s5", true);
    tc_subscribe_expect(c5, deep, 0, 0x97);
    tc_subscribe_expect(c5, ok, 0, 0x00);
    char longf[400];
    memset(longf, 'x', 350);
    longf[350] = '\0';
    tc_subscribe_expect(c5, longf, 0, 0x97);
    tc_client *c3 = tc_connect(b, MQTT_V311, "s3", true);
    tc_subscribe_expect(c3, deep, 1, 0x80);
    cr_assert(tc_log_has(b, "max_topic_levels"));
    cr_assert(tc_log_has(b, "max_filter_length"));
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    uint16_t id = tc_publish(pub, deep, "x", 1, true);
    mqtt_packet *ack = tc_expect(pub, MQTT_PUBACK);
    cr_assert_eq(ack->ack.packet_id, id);
    cr_assert_eq(ack->ack.reason_code, 0x90);
    tc_publish_done(pub, ok, "fine", 1, false);
    tc_expect_publish(c5, ok, "fine");
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_eq(st.retained, 0, "the deep retained topic was not stored");
    tc_free(b);
}

/* A SUBSCRIBE is decoded into an array of 4096 filters (BROKER_RX_SUBSCRIPTIONS):
 * 4096 get their SUBACK; more is refused as an implementation limit (5.0
 * DISCONNECT 0x83, 3.x close), logged with the rule LIMIT-subscriptions. */
Test(broker_limits, subscribe_holds_at_most_4096_filters)
{
    tc_broker *b = tc_new(NULL);
    for (int v = 0; v < 2; v++) {
        mqtt_version ver = v ? MQTT_V5 : MQTT_V311;
        for (size_t count = 4096; count <= 4097; count++) {
            tc_client *c = tc_connect(b, ver, count == 4096 ? "ok" : "over", true);
            mqtt_subscription *subs = calloc(count, sizeof *subs);
            for (size_t i = 0; i < count; i++) subs[i].topic_filter = tc_str("f/+");
            mqtt_packet p;
            memset(&p, 0, sizeof p);
            p.type = MQTT_SUBSCRIBE;
            p.subscribe.packet_id = 1;
            p.subscribe.subscriptions = subs;
            p.subscribe.count = count;
            tc_send(c, &p);
            if (count == 4096) {
                mqtt_packet *ack = tc_expect(c, MQTT_SUBACK);
                cr_assert_eq(ack->suback.reason_codes.len, 4096);
            } else {
                tc_expect_closed(c, v ? 0x83 : -1);
            }
            free(subs);
        }
    }
    cr_assert(tc_log_has(b, "LIMIT-subscriptions"));
    tc_free(b);
}

/* Fan-in at QoS 0 (issue 14: 50 publishers, 1 subscriber, about 85 % of the
 * messages dropped where mosquitto drops none): a publisher whose message
 * finds the subscriber backlogged is not read further, even inside what one
 * socket read brought (here 2,000 messages per read); the rest of its bytes
 * wait until the subscriber drains. Nothing is dropped while the subscriber
 * makes progress. */
Test(broker_limits, fan_in_pauses_publishers_instead_of_dropping)
{
    tc_broker *b = tc_new(NULL);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "fan/#", 0);
    enum { PUBS = 5, EACH = 2000 };
    char payload[200];
    memset(payload, 'x', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    for (int k = 0; k < PUBS; k++) {
        char id[16], topic[16];
        snprintf(id, sizeof id, "pub%d", k);
        snprintf(topic, sizeof topic, "fan/%d", k);
        tc_client *pub = tc_connect(b, MQTT_V311, id, true);
        mqtt_packet p;
        memset(&p, 0, sizeof p);
        p.type = MQTT_PUBLISH;
        p.publish.topic = tc_str(topic);
        p.publish.payload = tc_str(payload);
        size_t n;
        uint8_t *one = encode(MQTT_V311, &p, &n);
        uint8_t *batch = malloc(n * EACH);
        for (int i = 0; i < EACH; i++) memcpy(batch + (size_t)i * n, one, n);
        tc_send_raw(pub, batch, n * EACH); /* one read's worth */
        free(one);
        free(batch);
    }
    int got = 0;
    for (tc_pkt *r; (r = tc_recv(sub));) got += r->pkt.type == MQTT_PUBLISH;
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_eq(st.publish_dropped, 0, "%llu dropped", (unsigned long long)st.publish_dropped);
    cr_assert_eq(got, PUBS * EACH, "delivered %d of %d", got, PUBS * EACH);
    tc_free(b);
}

/* max_queued_bytes, mosquitto's meaning: payload bytes queued per session
 * above those in flight; with max_queued_messages, the first limit reached
 * drops (counted). */
Test(broker_limits, max_queued_bytes_bounds_an_offline_queue)
{
    broker_options o;
    tc_options(&o);
    o.max_queued_bytes = 1000;
    tc_broker *b = tc_new(&o);
    tc_client *sub = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "offline", false);
    tc_connect_pkt(sub, &p);
    tc_subscribe(sub, "q", 1);
    tc_drop(sub);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    char payload[101];
    memset(payload, 'b', 100);
    payload[100] = '\0';
    for (int i = 0; i < 25; i++) tc_publish_done(pub, "q", payload, 1, false);
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_eq(st.publish_dropped, 15);
    cr_assert(tc_log_has(b, "dropped (1 so far)") && tc_log_has(b, "dropped (8 so far)"), "drops are logged");
    tc_client *back = tc_open(b, MQTT_V311);
    tc_connect_init(&p, "offline", false);
    tc_connect_pkt(back, &p);
    int got = 0;
    for (tc_pkt *r; (r = tc_recv(back));) {
        if (r->pkt.type != MQTT_PUBLISH) continue;
        got++;
        tc_ack(back, MQTT_PUBACK, r->pkt.publish.packet_id);
    }
    cr_assert_eq(got, 10, "%d of the 10 that fit in 1000 bytes", got);
    tc_free(b);
}

/* One slow '#' subscriber must not stall a publisher's traffic to everyone
 * else (issue 14: it stopped it for about 5 s, then for stall_ms; mosquitto
 * is unaffected). A message that a connected subscriber keeps up with does
 * not hold its publisher back: the slow one's queue absorbs what it can,
 * then its queue limit drops (counted), and it still gets what was queued.
 * Where the slow one is all a publisher feeds, it is throttled instead
 * (fan_in_pauses_publishers_instead_of_dropping, stall_ms bounds it). */
Test(broker_limits, a_slow_subscriber_does_not_stall_the_others)
{
    broker_options o;
    tc_options(&o);
    o.out_high_water = 4096;
    o.max_queued_messages = 100;
    tc_broker *b = tc_new(&o);
    tc_client *slow = tc_connect(b, MQTT_V311, "slow", true);
    tc_subscribe(slow, "#", 0);
    tc_client *fast = tc_connect(b, MQTT_V311, "fast", true);
    tc_subscribe(fast, "t", 0);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    char payload[512];
    memset(payload, 'x', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    int got = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert(broker_conn_wants_read(pub->conn), "publisher held back at message %d by the slow subscriber", i);
        tc_publish(pub, "t", payload, 0, false);
        while (tc_recv(fast)) got++; /* fast keeps up, slow reads nothing */
    }
    cr_assert_eq(got, 1000, "the reading subscriber got %d of 1000", got);
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_gt(st.publish_dropped, 800, "the slow one's drops are counted (%llu)", (unsigned long long)st.publish_dropped);
    cr_assert(tc_log_has(b, "client \"slow\": queue full"));
    int slow_got = 0;
    while (tc_recv(slow)) slow_got++;
    cr_assert_eq(slow_got + st.publish_dropped, 1000, "slow: %d delivered + %llu dropped", slow_got,
                 (unsigned long long)st.publish_dropped);
    tc_free(b);
}

/* When every recipient is behind, the publisher waits for the one least
 * behind (fewest queued, then fewest output bytes): a reader that catches
 * up releases it, the slow one does not hold it for stall_ms. */
Test(broker_limits, a_throttled_publisher_waits_for_the_reader_not_the_slowest)
{
    broker_options o;
    tc_options(&o);
    o.out_high_water = 4096;
    o.max_queued_messages = 100;
    tc_broker *b = tc_new(&o);
    tc_client *slow = tc_connect(b, MQTT_V311, "slow", true);
    tc_subscribe(slow, "#", 0);
    tc_client *reader = tc_connect(b, MQTT_V311, "reader", true);
    tc_subscribe(reader, "t", 0);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    char payload[512];
    memset(payload, 'x', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    int got = 0, throttled = 0;
    /* The slow one falls behind first (the reader keeps up meanwhile). */
    for (int i = 0; i < 30; i++) {
        tc_publish(pub, "t", payload, 0, false);
        while (tc_recv(reader)) got++;
    }
    for (int i = 30; i < 1000; i++) {
        tc_publish(pub, "t", payload, 0, false);
        if (broker_conn_wants_read(pub->conn)) continue;
        throttled++; /* the reader fell behind too: it catches up now */
        while (tc_recv(reader)) got++;
        cr_assert(broker_conn_wants_read(pub->conn), "still held back by the slow one after the reader caught up (message %d)", i);
    }
    while (tc_recv(reader)) got++;
    cr_assert_gt(throttled, 0, "the reader never fell behind: the case is not exercised");
    cr_assert_eq(got, 1000, "the reader got %d of 1000", got);
    tc_free(b);
}

/* max_packet_size has mosquitto's documented default in force without any
 * configuration ("no limit": the protocol's maximum, Remaining Length
 * 268,435,455 plus a 5-byte fixed header; 0 in the options), not announced
 * in CONNACK (mosquitto does not either, and a 5.0 client assumes it), and
 * a Remaining Length beyond what 4 bytes can say is malformed (MQTT-1.5.5-1
 * / 2.2.3); a value set is announced and enforced. */
Test(broker_limits, max_packet_size_defaults_to_the_protocol_maximum)
{
    broker_options o;
    broker_options_default(&o);
    cr_assert_eq(o.max_packet_size, 0, "default %u: the protocol maximum", (unsigned)o.max_packet_size);
    tc_broker *b = tc_new(NULL);
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "mps", true);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    cr_assert_not(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_MAXIMUM_PACKET_SIZE),
                  "the protocol maximum is not announced");
    static const uint8_t too_long[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    tc_send_raw(c, too_long, sizeof too_long);
    cr_assert(tc_closed(c), "a fifth Remaining Length byte is refused");
    tc_free(b);
    /* Configured below it: announced and enforced (0x95). */
    o.max_packet_size = 1000;
    o.sys_interval = 0;
    b = tc_new(&o);
    c = tc_open(b, MQTT_V5);
    tc_connect_init(&p, "mps", true);
    ack = tc_connect_pkt(c, &p);
    cr_assert(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_MAXIMUM_PACKET_SIZE));
    cr_assert_eq(ack->connack.properties.maximum_packet_size, 1000);
    tc_free(b);
}

/* Issue 14, the differential fuzz oracle's "SUBACK missing before a later
 * PINGRESP": a SUBACK or UNSUBACK larger than the client's Maximum Packet
 * Size is not sent (5.0 MQTT-3.1.2-24, MUST NOT; the Reason String and User
 * Properties are dropped first), logged, and the
 * connection goes on. mosquitto 2.0.11 sends it anyway (a 39-byte SUBACK to
 * a client announcing 30 bytes): the difference is its violation. */
Test(broker_limits, an_ack_above_the_clients_maximum_packet_size_is_not_sent)
{
    tc_broker *b = tc_new(NULL);
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "mps", true);
    p.connect.properties.present |= MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.maximum_packet_size = 30;
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0);
    static char names[34][2];
    mqtt_subscription subs[34];
    memset(subs, 0, sizeof subs);
    for (int i = 0; i < 34; i++) {
        names[i][0] = (char)('A' + i);
        subs[i].topic_filter = (mqtt_bytes){(const uint8_t *)names[i], 1};
    }
    mqtt_packet s = {.type = MQTT_SUBSCRIBE};
    s.subscribe.packet_id = 1;
    s.subscribe.subscriptions = subs;
    s.subscribe.count = 34; /* SUBACK: 2 + 2 + 1 + 34 = 39 bytes */
    tc_send(c, &s);
    mqtt_packet ping = {.type = MQTT_PINGREQ};
    tc_send(c, &ping);
    tc_expect(c, MQTT_PINGRESP);
    cr_assert(tc_log_has(b, "SUBACK not sent") && tc_log_has(b, "MQTT-3.1.2-24"));
    mqtt_packet u = {.type = MQTT_UNSUBSCRIBE};
    u.subscribe.packet_id = 2;
    u.subscribe.subscriptions = subs;
    u.subscribe.count = 34;
    tc_send(c, &u);
    tc_send(c, &ping);
    tc_expect(c, MQTT_PINGRESP);
    cr_assert(tc_log_has(b, "UNSUBACK not sent"));
    /* One that fits is answered. */
    s.subscribe.packet_id = 3;
    s.subscribe.count = 2;
    tc_send(c, &s);
    cr_assert_eq(tc_expect(c, MQTT_SUBACK)->suback.reason_codes.len, 2);
    tc_free(b);
}
