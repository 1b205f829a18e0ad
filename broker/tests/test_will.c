/*
 * Wills: published on abnormal close, protocol error and keep alive expiry,
 * not after DISCONNECT (unless 5.0 reason 0x04), with the Will's QoS and
 * RETAIN; 5.0 Will Delay Interval, cancelled by a reconnect, cut short by
 * the end of the session.
 */
#include "broker/tests/tc.h"

static tc_broker *b;
static tc_client *watch;
static void setup(void)
{
    b = tc_new(NULL);
    watch = tc_connect(b, MQTT_V5, "watch", true);
    tc_subscribe(watch, "will/#", 2);
}
static void teardown(void) { tc_free(b); }
TestSuite(broker_will, .init = setup, .fini = teardown);

static tc_client *with_will(mqtt_version v, const char *id, bool clean, uint8_t qos, bool retain, uint32_t delay,
                            uint32_t expiry)
{
    tc_client *c = tc_open(b, v);
    mqtt_packet p;
    tc_connect_init(&p, id, clean);
    p.connect.will = true;
    p.connect.will_topic = tc_str("will/t");
    p.connect.will_payload = tc_str(id);
    p.connect.will_qos = qos;
    p.connect.will_retain = retain;
    p.connect.keep_alive = 10;
    if (delay) {
        p.connect.will_properties.present = MQTT_PROP_BIT(MQTT_PROP_WILL_DELAY_INTERVAL);
        p.connect.will_properties.will_delay_interval = delay;
    }
    if (expiry) {
        p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
        p.connect.properties.session_expiry_interval = expiry;
    }
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0);
    return c;
}

/* 3.1.1 MQTT-3.1.2-8, 5.0 MQTT-3.1.2-8: the network connection fails. */
Test(broker_will, published_on_abnormal_close)
{
    tc_client *c = with_will(MQTT_V311, "w1", true, 1, false, 0, 0);
    tc_drop(c);
    mqtt_publish *p = tc_expect_publish(watch, "will/t", "w1");
    cr_assert_eq(p->qos, 1);
    cr_assert_not(p->retain);
}

/* 3.1.1 MQTT-3.1.2-10 / MQTT-3.14.4-3: DISCONNECT deletes the Will. */
Test(broker_will, not_published_after_disconnect)
{
    tc_client *c = with_will(MQTT_V311, "w2", true, 0, false, 0, 0);
    mqtt_packet d = {.type = MQTT_DISCONNECT};
    tc_send(c, &d);
    cr_assert(tc_closed(c));
    tc_drop(c);
    tc_expect_none(watch);
}

/* 5.0: DISCONNECT 0x04 "Disconnect with Will Message" publishes it. */
Test(broker_will, v5_disconnect_0x04_publishes)
{
    tc_client *c = with_will(MQTT_V5, "w3", true, 0, false, 0, 0);
    mqtt_packet d = {.type = MQTT_DISCONNECT};
    d.disconnect.reason_code = 0x04;
    tc_send(c, &d);
    tc_expect_publish(watch, "will/t", "w3");
}

/* 3.1.1 MQTT-3.1.2-17 / 5.0 MQTT-3.1.2-15: Will Retain -> retained message. */
Test(broker_will, will_retain_is_stored)
{
    tc_client *c = with_will(MQTT_V311, "w4", true, 0, true, 0, 0);
    tc_drop(c);
    tc_expect_publish(watch, "will/t", "w4");
    tc_client *late = tc_connect(b, MQTT_V311, "late", true);
    tc_subscribe(late, "will/t", 0);
    cr_assert(tc_expect_publish(late, "will/t", "w4")->retain);
}

Test(broker_will, published_on_protocol_error)
{
    tc_client *c = with_will(MQTT_V5, "w5", true, 0, false, 0, 0);
    mqtt_packet again;
    tc_connect_init(&again, "w5", true);
    tc_send(c, &again); /* MQTT-3.1.0-2 */
    tc_expect_closed(c, 0x82);
    tc_expect_publish(watch, "will/t", "w5");
}

Test(broker_will, published_on_keepalive_expiry)
{
    tc_client *c = with_will(MQTT_V311, "w6", true, 0, false, 0, 0);
    tc_advance(b, 15000);
    tc_expect_closed(c, -1);
    tc_expect_publish(watch, "will/t", "w6");
}

/* 5.0 Will Delay Interval: published when it elapses. */
Test(broker_will, v5_will_delay)
{
    tc_client *c = with_will(MQTT_V5, "w7", false, 0, false, 5, 100);
    tc_drop(c);
    tc_expect_none(watch);
    tc_advance(b, 4000);
    tc_expect_none(watch);
    tc_advance(b, 1000);
    tc_expect_publish(watch, "will/t", "w7");
}

/* 5.0 MQTT-3.1.3-9: a reconnect within the delay cancels the Will. */
Test(broker_will, v5_will_delay_cancelled_by_reconnect)
{
    tc_client *c = with_will(MQTT_V5, "w8", false, 0, false, 5, 100);
    tc_drop(c);
    tc_advance(b, 2000);
    tc_client *again = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "w8", false);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    p.connect.properties.session_expiry_interval = 100;
    cr_assert(tc_connect_pkt(again, &p)->connack.session_present);
    tc_advance(b, 10000);
    tc_expect_none(watch);
}

/* 5.0 MQTT-3.1.2-8: the session ends before the delay: published then. */
Test(broker_will, v5_will_published_when_session_ends_first)
{
    tc_client *c = with_will(MQTT_V5, "w9", false, 0, false, 60, 3);
    tc_drop(c);
    tc_advance(b, 2000);
    tc_expect_none(watch);
    tc_advance(b, 1000);
    tc_expect_publish(watch, "will/t", "w9");
}

/* Session Expiry 0: the session ends with the connection, so does the delay. */
Test(broker_will, v5_will_delay_without_session_expiry_is_immediate)
{
    tc_client *c = with_will(MQTT_V5, "w10", true, 0, false, 30, 0);
    tc_drop(c);
    tc_expect_publish(watch, "will/t", "w10");
}

/* A clean start reconnect ends the old session: its pending Will goes out. */
Test(broker_will, v5_clean_start_publishes_pending_will)
{
    tc_client *c = with_will(MQTT_V5, "w11", false, 0, false, 30, 100);
    tc_drop(c);
    tc_expect_none(watch);
    tc_connect(b, MQTT_V5, "w11", true);
    tc_expect_publish(watch, "will/t", "w11");
}

/* 5.0 takeover: the old connection closes; its Will (delay 0) is published. */
Test(broker_will, takeover_publishes_old_will)
{
    with_will(MQTT_V5, "w12", true, 0, false, 0, 0);
    tc_connect(b, MQTT_V5, "w12", true);
    tc_expect_publish(watch, "will/t", "w12");
}

/* 5.0 Will properties are carried (user property, content type). */
Test(broker_will, v5_will_properties_forwarded)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "w13", true);
    mqtt_user_property up = {tc_str("k"), tc_str("v")};
    p.connect.will = true;
    p.connect.will_topic = tc_str("will/props");
    p.connect.will_payload = tc_str("bye");
    p.connect.will_properties.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE);
    p.connect.will_properties.content_type = tc_str("text/plain");
    p.connect.will_properties.user_properties = &up;
    p.connect.will_properties.user_property_count = 1;
    tc_connect_pkt(c, &p);
    tc_drop(c);
    mqtt_publish *w = tc_expect_publish(watch, "will/props", "bye");
    cr_assert(tc_bytes_is(w->properties.content_type, "text/plain"));
    cr_assert_eq(w->properties.user_property_count, 1);
    cr_assert(tc_bytes_is(w->properties.user_properties[0].name, "k"));
}

/* The Will's Message Expiry Interval runs from its publication. */
Test(broker_will, v5_will_message_expiry_counts_from_publication)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "w14", true);
    p.connect.will = true;
    p.connect.will_topic = tc_str("will/exp");
    p.connect.will_payload = tc_str("bye");
    p.connect.will_retain = true;
    p.connect.will_properties.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.connect.will_properties.message_expiry_interval = 10;
    tc_connect_pkt(c, &p);
    tc_advance(b, 60000);
    tc_send(c, &(mqtt_packet){.type = MQTT_PINGREQ});
    tc_drop(c);
    mqtt_publish *w = tc_expect_publish(watch, "will/exp", "bye");
    cr_assert_eq(w->properties.message_expiry_interval, 10);
    tc_advance(b, 4000);
    tc_client *late = tc_connect(b, MQTT_V5, "late", true);
    tc_subscribe(late, "will/exp", 0);
    cr_assert_eq(tc_expect_publish(late, "will/exp", "bye")->properties.message_expiry_interval, 6);
}
