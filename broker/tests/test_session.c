/*
 * Sessions: Clean Session (3.x) and Clean Start + Session Expiry Interval
 * (5.0), Session Present, what survives a disconnect (subscriptions, queued
 * QoS 1/2, in-flight messages re-sent with DUP), the queue bound, message
 * expiry while queued.
 */
#include "broker/tests/tc.h"

#include <stdio.h>

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_session, .init = setup, .fini = teardown);

static mqtt_packet *reconnect(tc_client **out, mqtt_version v, const char *id, bool clean, uint32_t expiry)
{
    tc_client *c = tc_open(b, v);
    mqtt_packet p;
    tc_connect_init(&p, id, clean);
    if (expiry) {
        p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
        p.connect.properties.session_expiry_interval = expiry;
    }
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    *out = c;
    return ack;
}

/* 3.1.1 MQTT-3.1.2-4 (resume), MQTT-3.2.2-2 (Session Present 1). */
Test(broker_session, v311_persistent_session_keeps_subscriptions_and_queue)
{
    tc_client *c;
    cr_assert_not(reconnect(&c, MQTT_V311, "p", false, 0)->connack.session_present); /* MQTT-3.2.2-3 */
    tc_subscribe(c, "s/#", 2);
    tc_drop(c);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "s/1", "q1", 1, false);
    tc_publish_done(pub, "s/2", "q2", 2, false);
    tc_publish_done(pub, "s/0", "q0", 0, false); /* not kept for an offline client */
    cr_assert(reconnect(&c, MQTT_V311, "p", false, 0)->connack.session_present);
    tc_expect_publish(c, "s/1", "q1");
    tc_expect_publish(c, "s/2", "q2");
    tc_expect_none(c);
}

/* 3.1.1 MQTT-3.1.2-6: Clean Session 1 discards the previous session. */
Test(broker_session, v311_clean_session_discards)
{
    tc_client *c;
    reconnect(&c, MQTT_V311, "p", false, 0);
    tc_subscribe(c, "s", 1);
    tc_drop(c);
    cr_assert_not(reconnect(&c, MQTT_V311, "p", true, 0)->connack.session_present); /* MQTT-3.2.2-1 */
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "s", "x", 1, false);
    tc_expect_none(c);
    /* ... and a clean session is not kept after it ends either. */
    tc_drop(c);
    cr_assert_not(reconnect(&c, MQTT_V311, "p", false, 0)->connack.session_present);
}

/* MQTT-4.4.0-1, MQTT-3.3.1-1: unacknowledged PUBLISH re-sent with DUP and
 * the same id, PUBREL re-sent, in the original order. */
Test(broker_session, inflight_resent_with_dup_after_reconnect)
{
    tc_client *c;
    reconnect(&c, MQTT_V311, "r", false, 0);
    tc_subscribe(c, "r", 2);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "r", "a", 1, false);
    tc_publish_done(pub, "r", "b", 2, false);
    tc_publish_done(pub, "r", "c", 2, false);
    mqtt_publish *a = tc_expect_publish(c, "r", "a");
    uint16_t ida = a->packet_id;
    cr_assert_not(a->dup);
    uint16_t idb = tc_expect_publish(c, "r", "b")->packet_id;
    uint16_t idc = tc_expect_publish(c, "r", "c")->packet_id;
    tc_ack(c, MQTT_PUBREC, idb);
    cr_assert_eq(tc_expect(c, MQTT_PUBREL)->ack.packet_id, idb);
    tc_drop(c);
    cr_assert(reconnect(&c, MQTT_V311, "r", false, 0)->connack.session_present);
    mqtt_publish *ra = tc_expect_publish(c, "r", "a");
    cr_assert(ra->dup);
    cr_assert_eq(ra->packet_id, ida);
    cr_assert_eq(tc_expect(c, MQTT_PUBREL)->ack.packet_id, idb);
    mqtt_publish *rc = tc_expect_publish(c, "r", "c");
    cr_assert(rc->dup);
    cr_assert_eq(rc->packet_id, idc);
    tc_expect_none(c);
    tc_ack(c, MQTT_PUBACK, ida);
    tc_ack(c, MQTT_PUBCOMP, idb);
    tc_ack(c, MQTT_PUBREC, idc);
    tc_expect(c, MQTT_PUBREL);
    tc_ack(c, MQTT_PUBCOMP, idc);
    tc_drop(c);
    reconnect(&c, MQTT_V311, "r", false, 0);
    tc_expect_none(c); /* nothing left to re-send */
}

/* max_queued_messages bounds an offline session's queue: newer messages dropped. */
Test(broker_session, queue_is_bounded)
{
    broker_options o;
    tc_options(&o);
    o.max_queued_messages = 3;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_open(nb, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "q", false);
    tc_connect_pkt(c, &p);
    tc_subscribe(c, "q", 1);
    tc_drop(c);
    tc_client *pub = tc_connect(nb, MQTT_V311, "pub", true);
    for (int i = 0; i < 5; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        tc_publish_done(pub, "q", m, 1, false);
    }
    c = tc_open(nb, MQTT_V311);
    tc_connect_init(&p, "q", false);
    tc_connect_pkt(c, &p);
    tc_expect_publish(c, "q", "m0");
    tc_expect_publish(c, "q", "m1");
    tc_expect_publish(c, "q", "m2");
    tc_expect_none(c);
    broker_stats st;
    broker_core_stats(nb->core, &st);
    cr_assert_eq(st.publish_dropped, 2);
    tc_free(nb);
}

/* 5.0 MQTT-3.1.2-23, MQTT-4.1.0-2: the session lives for its expiry interval. */
Test(broker_session, v5_session_expiry_interval)
{
    tc_client *c;
    reconnect(&c, MQTT_V5, "e", true, 10);
    tc_subscribe(c, "e", 1);
    tc_drop(c);
    tc_advance(b, 9000);
    cr_assert(reconnect(&c, MQTT_V5, "e", false, 10)->connack.session_present); /* MQTT-3.2.2-3 */
    tc_drop(c);
    tc_advance(b, 10000);
    cr_assert_not(reconnect(&c, MQTT_V5, "e", false, 10)->connack.session_present);
}

/* 5.0: Session Expiry Interval absent (0): the session ends with the connection. */
Test(broker_session, v5_no_expiry_means_session_ends)
{
    tc_client *c;
    reconnect(&c, MQTT_V5, "z", false, 0);
    tc_subscribe(c, "z", 1);
    tc_drop(c);
    cr_assert_not(reconnect(&c, MQTT_V5, "z", false, 0)->connack.session_present);
}

/* 5.0 MQTT-3.2.2-2: Clean Start 1 gives Session Present 0 and a new session. */
Test(broker_session, v5_clean_start_discards)
{
    tc_client *c;
    reconnect(&c, MQTT_V5, "cs", false, 100);
    tc_subscribe(c, "cs", 1);
    tc_drop(c);
    cr_assert_not(reconnect(&c, MQTT_V5, "cs", true, 100)->connack.session_present);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish_done(pub, "cs", "x", 1, false);
    tc_expect_none(c);
}

/* 5.0 DISCONNECT may set a Session Expiry Interval, but not from 0. */
Test(broker_session, v5_disconnect_changes_expiry)
{
    tc_client *c;
    reconnect(&c, MQTT_V5, "d", false, 5);
    tc_subscribe(c, "d", 1);
    mqtt_packet d = {.type = MQTT_DISCONNECT};
    d.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    d.disconnect.properties.session_expiry_interval = 0;
    tc_send(c, &d);
    cr_assert(tc_closed(c));
    cr_assert_not(reconnect(&c, MQTT_V5, "d", false, 0)->connack.session_present);
    /* From 0 to non-zero is a Protocol Error (5.0 3.14.2.2.2). */
    d.disconnect.properties.session_expiry_interval = 60;
    tc_send(c, &d);
    tc_expect_closed(c, 0x82);
}

/* 5.0 MQTT-3.3.2-5/-6: queued messages expire; those sent carry the rest. */
Test(broker_session, v5_message_expiry_while_queued)
{
    tc_client *c;
    reconnect(&c, MQTT_V5, "x", false, 100);
    tc_subscribe(c, "x", 1);
    tc_drop(c);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str("x");
    pkt.publish.qos = 1;
    pkt.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    pkt.publish.payload = tc_str("short");
    pkt.publish.packet_id = 1;
    pkt.publish.properties.message_expiry_interval = 2;
    tc_send(pub, &pkt);
    pkt.publish.payload = tc_str("long");
    pkt.publish.packet_id = 2;
    pkt.publish.properties.message_expiry_interval = 10;
    tc_send(pub, &pkt);
    tc_advance(b, 3000);
    reconnect(&c, MQTT_V5, "x", false, 100);
    mqtt_publish *p = tc_expect_publish(c, "x", "long");
    cr_assert(MQTT_HAS_PROP(&p->properties, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL));
    cr_assert_eq(p->properties.message_expiry_interval, 7);
    tc_expect_none(c);
}

/* A session resumed by a 5.0 client after a 3.1.1 one keeps its queue. */
Test(broker_session, resume_across_protocol_versions)
{
    tc_client *c;
    reconnect(&c, MQTT_V311, "v", false, 0);
    tc_subscribe(c, "v", 1);
    tc_drop(c);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "v", "m", 1, false);
    cr_assert(reconnect(&c, MQTT_V5, "v", false, 100)->connack.session_present);
    tc_expect_publish(c, "v", "m");
}
