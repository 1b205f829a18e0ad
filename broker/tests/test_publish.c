/*
 * PUBLISH in both directions: QoS 0/1/2 flows, delivery at the lower QoS,
 * QoS 2 exactly once, the in-flight window (Receive Maximum), ordering,
 * refusals with their reason codes, and packet size limits.
 */
#include "broker/tests/tc.h"

#include <stdio.h>
#include <string.h>

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_publish, .init = setup, .fini = teardown);

Test(broker_publish, qos0_round_trip)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_subscribe(sub, "a/b", 0);
    tc_publish(pub, "a/b", "zero", 0, false);
    tc_expect_none(pub); /* MQTT-3.3.4-1: no response to QoS 0 */
    mqtt_publish *p = tc_expect_publish(sub, "a/b", "zero");
    cr_assert_eq(p->qos, 0);
    cr_assert_not(p->dup); /* MQTT-3.3.1-2 */
}

/* MQTT-4.3.2-4: PUBACK with the packet id; the subscriber acks the broker's id. */
Test(broker_publish, qos1_round_trip)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_subscribe(sub, "a/b", 1);
    uint16_t id = tc_publish(pub, "a/b", "one", 1, false);
    cr_assert_eq(tc_expect(pub, MQTT_PUBACK)->ack.packet_id, id);
    mqtt_publish *p = tc_expect_publish(sub, "a/b", "one");
    cr_assert_eq(p->qos, 1);
    cr_assert_neq(p->packet_id, 0); /* MQTT-2.2.1-4 */
    tc_ack(sub, MQTT_PUBACK, p->packet_id);
    tc_expect_none(sub);
}

/* QoS 2 inbound: PUBREC, delivery on PUBREL, PUBCOMP (5.0 MQTT-4.3.3-8/-11);
 * outbound: PUBLISH, PUBREC -> PUBREL, PUBCOMP (MQTT-4.3.3-4/-5). */
Test(broker_publish, qos2_round_trip)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_subscribe(sub, "a/b", 2);
    uint16_t id = tc_publish(pub, "a/b", "two", 2, false);
    cr_assert_eq(tc_expect(pub, MQTT_PUBREC)->ack.packet_id, id);
    tc_expect_none(sub); /* held until PUBREL (Method A, as mosquitto) */
    tc_ack(pub, MQTT_PUBREL, id);
    cr_assert_eq(tc_expect(pub, MQTT_PUBCOMP)->ack.packet_id, id);
    mqtt_publish *p = tc_expect_publish(sub, "a/b", "two");
    cr_assert_eq(p->qos, 2);
    uint16_t out = p->packet_id;
    tc_ack(sub, MQTT_PUBREC, out);
    cr_assert_eq(tc_expect(sub, MQTT_PUBREL)->ack.packet_id, out);
    tc_ack(sub, MQTT_PUBCOMP, out);
    tc_expect_none(sub);
}

/* 3.1.1 MQTT-4.3.3-2 / 5.0 MQTT-4.3.3-10: a PUBLISH repeated before PUBREL
 * gets PUBREC again and is not delivered twice. */
Test(broker_publish, qos2_duplicate_not_redelivered)
{
    mqtt_version versions[] = {MQTT_V311, MQTT_V5};
    for (size_t v = 0; v < 2; v++) {
        tc_broker *nb = tc_new(NULL);
        tc_client *sub = tc_connect(nb, versions[v], "sub", true);
        tc_client *pub = tc_connect(nb, versions[v], "pub", true);
        tc_subscribe(sub, "q2", 2);
        mqtt_packet pkt = {.type = MQTT_PUBLISH};
        pkt.publish.topic = tc_str("q2");
        pkt.publish.payload = tc_str("once");
        pkt.publish.qos = 2;
        pkt.publish.packet_id = 77;
        tc_send(pub, &pkt);
        cr_assert_eq(tc_expect(pub, MQTT_PUBREC)->ack.packet_id, 77);
        pkt.publish.dup = true;
        tc_send(pub, &pkt);
        cr_assert_eq(tc_expect(pub, MQTT_PUBREC)->ack.packet_id, 77);
        tc_ack(pub, MQTT_PUBREL, 77);
        cr_assert_eq(tc_expect(pub, MQTT_PUBCOMP)->ack.packet_id, 77);
        tc_expect_publish(sub, "q2", "once");
        tc_expect_none(sub);
        /* After PUBCOMP the id is new again (MQTT-4.3.3-12). */
        pkt.publish.dup = false;
        pkt.publish.payload = tc_str("again");
        tc_send(pub, &pkt);
        tc_expect(pub, MQTT_PUBREC);
        tc_ack(pub, MQTT_PUBREL, 77);
        tc_expect(pub, MQTT_PUBCOMP);
        tc_expect(sub, MQTT_PUBLISH);
        tc_free(nb);
    }
}

/* 3.1.1 MQTT-3.8.4-6 / 5.0 MQTT-3.8.4-8: delivered at the lower QoS. */
Test(broker_publish, delivered_at_lower_of_publish_and_subscription_qos)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_client *subs[3];
    for (int q = 0; q < 3; q++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", q);
        subs[q] = tc_connect(b, MQTT_V311, id, true);
        tc_subscribe(subs[q], "lvl", (uint8_t)q);
    }
    for (int pq = 0; pq < 3; pq++) {
        tc_publish_done(pub, "lvl", "m", (uint8_t)pq, false);
        for (int sq = 0; sq < 3; sq++) {
            mqtt_publish *p = tc_expect_publish(subs[sq], "lvl", "m");
            cr_assert_eq(p->qos, pq < sq ? pq : sq, "publish %d sub %d", pq, sq);
            if (p->qos == 1) tc_ack(subs[sq], MQTT_PUBACK, p->packet_id);
            if (p->qos == 2) {
                tc_ack(subs[sq], MQTT_PUBREC, p->packet_id);
                tc_expect(subs[sq], MQTT_PUBREL);
                tc_ack(subs[sq], MQTT_PUBCOMP, p->packet_id);
            }
        }
    }
}

/* The in-flight window: max_inflight_messages unacknowledged QoS 1 at once;
 * the rest waits, in order (MQTT-4.6.0-5/6), until PUBACKs. */
Test(broker_publish, inflight_window_then_in_order)
{
    broker_options o;
    tc_options(&o);
    o.max_inflight_messages = 2;
    tc_broker *nb = tc_new(&o);
    tc_client *sub = tc_connect(nb, MQTT_V311, "sub", true);
    tc_client *pub = tc_connect(nb, MQTT_V311, "pub", true);
    tc_subscribe(sub, "w", 1);
    for (int i = 0; i < 5; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        tc_publish_done(pub, "w", m, 1, false);
    }
    uint16_t id0 = tc_expect_publish(sub, "w", "m0")->packet_id;
    uint16_t id1 = tc_expect_publish(sub, "w", "m1")->packet_id;
    tc_expect_none(sub);
    tc_ack(sub, MQTT_PUBACK, id1);
    uint16_t id2 = tc_expect_publish(sub, "w", "m2")->packet_id;
    tc_expect_none(sub);
    tc_ack(sub, MQTT_PUBACK, id0);
    tc_ack(sub, MQTT_PUBACK, id2);
    tc_expect_publish(sub, "w", "m3");
    tc_expect_publish(sub, "w", "m4");
    tc_free(nb);
}

/* 5.0 MQTT-3.3.4-9: never more than the client's Receive Maximum. */
Test(broker_publish, v5_client_receive_maximum_respected)
{
    tc_client *sub = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "rm", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    p.connect.properties.receive_maximum = 1;
    tc_connect_pkt(sub, &p);
    tc_subscribe(sub, "rm", 2);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish_done(pub, "rm", "a", 2, false);
    tc_publish_done(pub, "rm", "b", 1, false);
    tc_publish_done(pub, "rm", "c", 0, false);
    uint16_t id = tc_expect_publish(sub, "rm", "a")->packet_id;
    tc_expect_none(sub);
    tc_ack(sub, MQTT_PUBREC, id);
    tc_expect(sub, MQTT_PUBREL);
    tc_expect_none(sub); /* PUBREL still counts against the quota */
    tc_ack(sub, MQTT_PUBCOMP, id);
    id = tc_expect_publish(sub, "rm", "b")->packet_id;
    tc_expect_publish(sub, "rm", "c"); /* QoS 0 needs no quota; order kept */
    tc_ack(sub, MQTT_PUBACK, id);
    tc_expect_none(sub);
}

/* 5.0 MQTT-4.4.0-2: PUBREC >= 0x80 ends the delivery, no PUBREL. */
Test(broker_publish, v5_pubrec_error_ends_delivery)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_subscribe(sub, "e", 2);
    tc_publish_done(pub, "e", "x", 2, false);
    uint16_t id = tc_expect_publish(sub, "e", "x")->packet_id;
    mqtt_packet rec = {.type = MQTT_PUBREC};
    rec.ack.packet_id = id;
    rec.ack.reason_code = 0x80;
    tc_send(sub, &rec);
    tc_expect_none(sub);
}

Test(broker_publish, v5_pubrel_unknown_id_gets_pubcomp_0x92)
{
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    tc_ack(c, MQTT_PUBREL, 999);
    mqtt_packet *comp = tc_expect(c, MQTT_PUBCOMP);
    cr_assert_eq(comp->ack.packet_id, 999);
    cr_assert_eq(comp->ack.reason_code, 0x92);
}

/* mosquitto's choice: PUBACK 0x10 No matching subscribers. */
Test(broker_publish, v5_puback_no_matching_subscribers)
{
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish(pub, "nobody", "x", 1, false);
    cr_assert_eq(tc_expect(pub, MQTT_PUBACK)->ack.reason_code, 0x10);
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "nobody", 0);
    tc_publish(pub, "nobody", "x", 1, false);
    cr_assert_eq(tc_expect(pub, MQTT_PUBACK)->ack.reason_code, 0x00);
}

Test(broker_publish, sys_topics_cannot_be_published)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "$SYS/#", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish(pub, "$SYS/broker/fake", "x", 1, false);
    mqtt_packet *ack = tc_expect(pub, MQTT_PUBACK);
    cr_assert_eq(ack->ack.reason_code, 0x87);
    cr_assert(MQTT_HAS_PROP(&ack->ack.properties, MQTT_PROP_REASON_STRING));
    tc_expect_none(sub);
}

/* mosquitto's message_size_limit: acked with 0x83, not delivered. */
Test(broker_publish, message_size_limit_drops_with_0x83)
{
    broker_options o;
    tc_options(&o);
    o.message_size_limit = 4;
    tc_broker *nb = tc_new(&o);
    tc_client *sub = tc_connect(nb, MQTT_V5, "sub", true);
    tc_subscribe(sub, "big", 0);
    tc_client *pub = tc_connect(nb, MQTT_V5, "pub", true);
    tc_publish(pub, "big", "12345", 1, false);
    cr_assert_eq(tc_expect(pub, MQTT_PUBACK)->ack.reason_code, 0x83);
    tc_publish(pub, "big", "1234", 0, false);
    tc_expect_publish(sub, "big", "1234");
    tc_expect_none(sub);
    tc_free(nb);
}

/* MQTT-3.2.2-11 (server side): QoS above Maximum QoS -> DISCONNECT 0x9B;
 * SUBSCRIBE at QoS 2 still accepted, granted 1 (MQTT-3.2.2-10). */
Test(broker_publish, qos_above_max_qos)
{
    broker_options o;
    tc_options(&o);
    o.max_qos = 1;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_connect(nb, MQTT_V5, "c", true);
    tc_subscribe_expect(c, "x", 2, 1);
    tc_publish(c, "x", "too high", 2, false);
    tc_expect_closed(c, 0x9B);
    cr_assert(tc_log_has(nb, "MQTT-3.2.2-11"));
    tc_client *old = tc_connect(nb, MQTT_V311, "old", true);
    tc_publish(old, "x", "too high", 2, false);
    tc_expect_closed(old, -1);
    tc_free(nb);
}

/* MQTT-3.2.2-14 (server side): RETAIN when retain is not available -> 0x9A. */
Test(broker_publish, retain_not_available)
{
    broker_options o;
    tc_options(&o);
    o.retain_available = false;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_connect(nb, MQTT_V5, "c", true);
    tc_publish(c, "x", "r", 0, true);
    tc_expect_closed(c, 0x9A);
    tc_free(nb);
}

/* 5.0 MQTT-3.3.4-7: more open QoS 2 messages than Receive Maximum -> 0x93. */
Test(broker_publish, receive_maximum_exceeded)
{
    broker_options o;
    tc_options(&o);
    o.max_inflight_messages = 2;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_connect(nb, MQTT_V5, "c", true);
    tc_publish(c, "x", "1", 2, false);
    tc_publish(c, "x", "2", 2, false);
    tc_expect(c, MQTT_PUBREC);
    tc_expect(c, MQTT_PUBREC);
    tc_publish(c, "x", "3", 2, false);
    tc_expect_closed(c, 0x93);
    tc_free(nb);
}

/* 5.0 MQTT-3.2.2-15 / codec limit: larger than max_packet_size -> 0x95. */
Test(broker_publish, packet_larger_than_maximum_packet_size)
{
    broker_options o;
    tc_options(&o);
    o.max_packet_size = 64;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_connect(nb, MQTT_V5, "c", true);
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tc_publish(c, "x", big, 0, false);
    tc_expect_closed(c, 0x95);
    tc_free(nb);
}

/* 5.0 MQTT-3.1.2-24/25: nothing larger than the client's Maximum Packet Size
 * is sent; the message is dropped as if delivered and the next one flows. */
Test(broker_publish, v5_client_maximum_packet_size_respected)
{
    tc_client *sub = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "small", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.maximum_packet_size = 40;
    tc_connect_pkt(sub, &p);
    tc_subscribe(sub, "m", 1);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish_done(pub, "m", "this payload makes the packet larger than forty bytes", 1, false);
    tc_publish_done(pub, "m", "fits", 1, false);
    mqtt_publish *got = tc_expect_publish(sub, "m", "fits");
    tc_ack(sub, MQTT_PUBACK, got->packet_id);
    tc_expect_none(sub);
}

/* Order per topic from one publisher (MQTT-4.6.0-5/6), mixed QoS. */
Test(broker_publish, order_preserved_across_qos)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_subscribe(sub, "o", 2);
    const char *msgs[] = {"0", "1", "2", "3", "4", "5"};
    for (int i = 0; i < 6; i++) tc_publish_done(pub, "o", msgs[i], (uint8_t)(i % 2), false);
    for (int i = 0; i < 6; i++) {
        mqtt_publish *p = tc_expect_publish(sub, "o", msgs[i]);
        if (p->qos) tc_ack(sub, MQTT_PUBACK, p->packet_id);
    }
}

/* PUBACK for an id not in flight is ignored, nothing breaks. */
Test(broker_publish, unknown_puback_ignored)
{
    tc_client *c = tc_connect(b, MQTT_V311, "c", true);
    tc_ack(c, MQTT_PUBACK, 4242);
    tc_ack(c, MQTT_PUBCOMP, 4243);
    tc_expect_none(c);
    cr_assert_not(tc_closed(c));
}

/* A malformed packet after CONNECT: 5.0 DISCONNECT 0x81 naming the rule. */
Test(broker_publish, malformed_publish_qos3_closes_with_0x81)
{
    tc_client *c = tc_connect(b, MQTT_V5, "bad", true);
    static const uint8_t qos3[] = {0x36, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00};
    tc_send_raw(c, qos3, sizeof qos3);
    tc_expect_closed(c, 0x81);
    cr_assert(tc_log_has(b, "client \"bad\""));
    cr_assert(tc_log_has(b, "MQTT-3.3.1-4"));
}
