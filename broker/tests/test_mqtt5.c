/*
 * MQTT 5 features: topic aliases both ways, properties passed through
 * unaltered, Request Problem Information, 3.1.1 subscribers of 5.0
 * messages, AUTH.
 */
#include "broker/tests/tc.h"

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_mqtt5, .init = setup, .fini = teardown);

static void publish_alias(tc_client *c, const char *topic, uint16_t alias, const char *payload)
{
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str(topic);
    pkt.publish.payload = tc_str(payload);
    pkt.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
    pkt.publish.properties.topic_alias = alias;
    tc_send(c, &pkt);
}

/* MQTT-3.3.2-12: aliases up to the announced maximum are accepted. */
Test(broker_mqtt5, inbound_topic_alias)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "al/#", 0);
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    publish_alias(c, "al/one", 10, "first");
    tc_expect_publish(sub, "al/one", "first");
    publish_alias(c, "", 10, "second");
    tc_expect_publish(sub, "al/one", "second");
    publish_alias(c, "al/two", 10, "remapped");
    publish_alias(c, "", 10, "third");
    tc_expect_publish(sub, "al/two", "remapped");
    tc_expect_publish(sub, "al/two", "third");
}

/* MQTT-3.3.2-9: above Topic Alias Maximum (10) -> 0x94. */
Test(broker_mqtt5, inbound_topic_alias_above_maximum)
{
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    publish_alias(c, "x", 11, "p");
    tc_expect_closed(c, 0x94);
    cr_assert(tc_log_has(b, "MQTT-3.3.2-9"));
}

Test(broker_mqtt5, inbound_topic_alias_unknown_is_protocol_error)
{
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    publish_alias(c, "", 3, "p");
    tc_expect_closed(c, 0x82);
}

/* MQTT-3.3.2-7: aliases do not survive the connection. */
Test(broker_mqtt5, inbound_topic_alias_not_carried_to_next_connection)
{
    tc_client *c;
    mqtt_packet p;
    c = tc_open(b, MQTT_V5);
    tc_connect_init(&p, "c", false);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    p.connect.properties.session_expiry_interval = 60;
    tc_connect_pkt(c, &p);
    publish_alias(c, "t", 1, "p");
    tc_drop(c);
    c = tc_open(b, MQTT_V5);
    tc_connect_pkt(c, &p);
    publish_alias(c, "", 1, "p");
    tc_expect_closed(c, 0x82);
}

/* MQTT-3.3.2-11, MQTT-3.1.2-26: outbound aliases within the client's maximum. */
Test(broker_mqtt5, outbound_topic_alias)
{
    tc_client *sub = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "sub", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
    p.connect.properties.topic_alias_maximum = 2;
    tc_connect_pkt(sub, &p);
    tc_subscribe(sub, "oa/+", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    const char *topics[] = {"oa/a", "oa/b", "oa/c", "oa/a", "oa/b", "oa/c"};
    uint16_t alias_of[3] = {0};
    for (int i = 0; i < 6; i++) {
        tc_publish(pub, topics[i], "x", 0, false);
        mqtt_packet *got = tc_expect(sub, MQTT_PUBLISH);
        const mqtt_properties *pr = &got->publish.properties;
        int t = i % 3;
        bool has = MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS);
        if (has) cr_assert(pr->topic_alias >= 1 && pr->topic_alias <= 2);
        if (i < 3) {
            cr_assert(tc_bytes_is(got->publish.topic, topics[i]), "first use carries the topic");
            if (has) alias_of[t] = pr->topic_alias;
        } else if (alias_of[t]) {
            cr_assert(has && pr->topic_alias == alias_of[t]);
            cr_assert_eq(got->publish.topic.len, 0, "topic replaced by its alias");
        } else {
            cr_assert(tc_bytes_is(got->publish.topic, topics[i]));
        }
    }
    cr_assert(alias_of[0] && alias_of[1] && !alias_of[2], "two aliases for a maximum of 2");
}

/* MQTT-3.1.2-27: no Topic Alias Maximum -> no aliases sent. */
Test(broker_mqtt5, no_outbound_alias_without_maximum)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "n", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    for (int i = 0; i < 2; i++) {
        tc_publish(pub, "n", "x", 0, false);
        cr_assert_not(MQTT_HAS_PROP(&tc_expect_publish(sub, "n", "x")->properties, MQTT_PROP_TOPIC_ALIAS));
    }
}

/* MQTT-3.3.2-4, -15, -16, -17, -18, -20: forwarded unaltered, in order. */
Test(broker_mqtt5, properties_passed_through)
{
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "pp", 1);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    mqtt_user_property ups[3] = {{tc_str("b"), tc_str("2")}, {tc_str("a"), tc_str("1")}, {tc_str("b"), tc_str("3")}};
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str("pp");
    pkt.publish.payload = tc_str("{}");
    pkt.publish.qos = 1;
    pkt.publish.packet_id = 1;
    mqtt_properties *pr = &pkt.publish.properties;
    pr->present = MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) | MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
                  MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) | MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA);
    pr->payload_format_indicator = 1;
    pr->content_type = tc_str("application/json");
    pr->response_topic = tc_str("reply/here");
    pr->correlation_data = (mqtt_bytes){(const uint8_t *)"\x00\x01\xff", 3};
    pr->user_properties = ups;
    pr->user_property_count = 3;
    tc_send(pub, &pkt);
    const mqtt_properties *got = &tc_expect_publish(sub, "pp", "{}")->properties;
    cr_assert(MQTT_HAS_PROP(got, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) && got->payload_format_indicator == 1);
    cr_assert(tc_bytes_is(got->content_type, "application/json"));
    cr_assert(tc_bytes_is(got->response_topic, "reply/here"));
    cr_assert_eq(got->correlation_data.len, 3);
    cr_assert_eq(got->correlation_data.ptr[2], 0xff);
    cr_assert_eq(got->user_property_count, 3);
    const char *names[] = {"b", "a", "b"}, *values[] = {"2", "1", "3"};
    for (int i = 0; i < 3; i++) {
        cr_assert(tc_bytes_is(got->user_properties[i].name, names[i]));
        cr_assert(tc_bytes_is(got->user_properties[i].value, values[i]));
    }
    cr_assert_not(MQTT_HAS_PROP(got, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL));
}

/* A 5.0 message reaches a 3.1.1 subscriber without properties. */
Test(broker_mqtt5, v5_message_to_v311_subscriber)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "old", true);
    tc_subscribe(sub, "mix", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    mqtt_user_property up = {tc_str("k"), tc_str("v")};
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str("mix");
    pkt.publish.payload = tc_str("p");
    pkt.publish.properties.user_properties = &up;
    pkt.publish.properties.user_property_count = 1;
    tc_send(pub, &pkt);
    tc_expect_publish(sub, "mix", "p");
}

/* MQTT-3.1.2-29: Request Problem Information 0: no Reason String on acks,
 * still on DISCONNECT. */
Test(broker_mqtt5, request_problem_information)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "rpi", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_REQUEST_PROBLEM_INFORMATION);
    p.connect.properties.request_problem_information = 0;
    tc_connect_pkt(c, &p);
    tc_publish(c, "$SYS/x", "no", 1, false);
    mqtt_packet *ack = tc_expect(c, MQTT_PUBACK);
    cr_assert_eq(ack->ack.reason_code, 0x87);
    cr_assert_not(MQTT_HAS_PROP(&ack->ack.properties, MQTT_PROP_REASON_STRING));
    mqtt_packet again;
    tc_connect_init(&again, "rpi", true);
    tc_send(c, &again);
    mqtt_packet *d = tc_expect(c, MQTT_DISCONNECT);
    cr_assert_eq(d->disconnect.reason_code, 0x82);
    cr_assert(MQTT_HAS_PROP(&d->disconnect.properties, MQTT_PROP_REASON_STRING));
}

/* The reason string is dropped, not the packet, when it would not fit the
 * client's Maximum Packet Size (MQTT-3.14.2-3). */
Test(broker_mqtt5, reason_string_dropped_when_too_large)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "tiny", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.maximum_packet_size = 16;
    tc_connect_pkt(c, &p);
    mqtt_packet again;
    tc_connect_init(&again, "tiny", true);
    tc_send(c, &again);
    mqtt_packet *d = tc_expect(c, MQTT_DISCONNECT);
    cr_assert_eq(d->disconnect.reason_code, 0x82);
    cr_assert_not(MQTT_HAS_PROP(&d->disconnect.properties, MQTT_PROP_REASON_STRING));
}

/* AUTH without an Authentication Method: Protocol Error. */
Test(broker_mqtt5, auth_is_protocol_error)
{
    tc_client *c = tc_connect(b, MQTT_V5, "a", true);
    mqtt_packet auth = {.type = MQTT_AUTH};
    auth.disconnect.reason_code = 0x18;
    auth.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD);
    auth.disconnect.properties.authentication_method = tc_str("x");
    tc_send(c, &auth);
    tc_expect_closed(c, 0x82);
}

/* 0x8B on shutdown for 5.0 clients; 3.1.1 ones are just closed. */
Test(broker_mqtt5, shutdown_disconnects_with_0x8b)
{
    tc_client *c5 = tc_connect(b, MQTT_V5, "c5", true);
    tc_client *c3 = tc_connect(b, MQTT_V311, "c3", true);
    tc_client *fresh = tc_open(b, MQTT_V5);
    broker_core_shutdown(b->core, b->now);
    tc_expect_closed(c5, 0x8B);
    tc_expect_closed(c3, -1);
    tc_expect_closed(fresh, -1);
    tc_client *late = tc_open(b, MQTT_V5);
    tc_expect_closed(late, -1);
}
