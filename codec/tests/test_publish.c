/*
 * PUBLISH (section 3.3): QoS 0/1/2, DUP, RETAIN, topic names, packet
 * identifiers and payloads in 3.1, 3.1.1 and 5.0, the 5.0 PUBLISH properties
 * (topic alias, subscription identifiers from the server only, ...), and every
 * rule: QoS 3 (MQTT-3.3.1-4), DUP on QoS 0 (MQTT-3.3.1-2), packet id 0,
 * wildcards in the topic name (MQTT-3.3.2-2), empty topic names.
 * Several vectors were captured from mosquitto_pub / mosquitto 2.0.11.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

/* ---- 3.1 / 3.1.1 ---------------------------------------------------------- */

static void check_hi(const mqtt_packet *p, uint8_t qos, uint16_t id, const char *topic)
{
    cr_assert_eq(p->type, MQTT_PUBLISH);
    cr_assert_eq(p->publish.qos, qos);
    cr_assert_eq(p->publish.packet_id, id);
    cr_assert(tv_eq(p->publish.topic, topic));
    cr_assert(tv_eq(p->publish.payload, "hi"));
}

Test(codec_publish, qos0_311_decodes)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 07 00 03 'a/b' 'hi'");
    check_hi(p, 0, 0, "a/b");
    cr_assert(!p->publish.retain && !p->publish.dup);
}

Test(codec_publish, qos1_retained_311_decodes)
{
    /* mosquitto_pub -q 1 -r -t a/b -m hi */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "33 09 00 03 'a/b' 00 01 'hi'");
    check_hi(p, 1, 1, "a/b");
    cr_assert(p->publish.retain);
}

Test(codec_publish, qos2_311_decodes_from_both_sides)
{
    mqtt_codec c = TV_C311;
    check_hi(TV_DECODE_OK(&c, "34 09 00 03 'x/y' 00 01 'hi'"), 2, 1, "x/y");
    c = TV_S311;
    check_hi(TV_DECODE_OK(&c, "34 09 00 03 'x/y' 00 03 'hi'"), 2, 3, "x/y");
}

Test(codec_publish, dup_on_qos1_and_qos2_decodes)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "3a 09 00 03 'a/b' 00 02 'hi'");
    cr_assert(p->publish.dup);
    p = TV_DECODE_OK(&c, "3d 09 00 03 'a/b' ff ff 'hi'");
    cr_assert(p->publish.dup && p->publish.retain);
    cr_assert_eq(p->publish.qos, 2);
    cr_assert_eq(p->publish.packet_id, 65535);
}

Test(codec_publish, empty_retained_payload_decodes)
{
    /* mosquitto_pub -r -n: clears a retained message. */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "31 05 00 03 'a/b'");
    cr_assert_eq(p->publish.payload.len, 0);
    cr_assert(p->publish.retain);
}

Test(codec_publish, binary_payload_is_not_checked)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 07 00 01 't' 00 ff c0 80");
    cr_assert_eq(p->publish.payload.len, 4);
    cr_assert_eq(p->publish.payload.ptr[1], 0xff);
}

Test(codec_publish, utf8_and_dollar_topics_decode)
{
    mqtt_codec c = TV_S311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 0b 00 09 'caf' c3 a9 2f e2 82 ac");
    cr_assert_eq(p->publish.topic.len, 9);
    TV_DECODE_OK(&c, "30 08 00 06 '$SYS/x'");
    TV_DECODE_OK(&c, "30 03 00 01 '/'");
    TV_DECODE_OK(&c, "30 05 00 03 ' / '");
}

Test(codec_publish, qos0_and_qos1_31_decode)
{
    mqtt_codec c = TV_C31;
    check_hi(TV_DECODE_OK(&c, "30 07 00 03 'a/b' 'hi'"), 0, 0, "a/b");
    check_hi(TV_DECODE_OK(&c, "33 09 00 03 'a/b' 00 01 'hi'"), 1, 1, "a/b");
    c = TV_S31;
    check_hi(TV_DECODE_OK(&c, "34 09 00 03 'x/y' 00 02 'hi'"), 2, 2, "x/y");
}

Test(codec_publish, longest_topic_decodes)
{
    /* 65,535 bytes, the most a UTF-8 string can hold (MQTT-4.7.3-3). */
    static uint8_t pkt[4 + 2 + 65535];
    pkt[0] = 0x30;
    pkt[1] = 0x81; /* remaining length 65537 = 81 80 04 */
    pkt[2] = 0x80;
    pkt[3] = 0x04;
    pkt[4] = 0xff;
    pkt[5] = 0xff;
    memset(pkt + 6, 'a', 65535);
    mqtt_codec c = TV_C311;
    mqtt_packet p;
    mqtt_error e;
    cr_assert_eq(mqtt_decode(&c, pkt, sizeof pkt, &p, &e), MQTT_OK);
    cr_assert_eq(p.publish.topic.len, 65535);
    cr_assert_eq(p.publish.payload.len, 0);
    static uint8_t out[sizeof pkt];
    size_t w;
    cr_assert_eq(mqtt_encode(&c, &p, out, sizeof out, &w, &e), MQTT_OK);
    cr_assert_eq(w, sizeof pkt);
    cr_assert(memcmp(out, pkt, sizeof pkt) == 0);
}

/* ---- 5.0 ------------------------------------------------------------------ */

Test(codec_publish, qos0_and_qos1_5_decode)
{
    /* mosquitto 2.0.11 forwarding to a 5.0 subscriber. */
    mqtt_codec c = TV_S5;
    check_hi(TV_DECODE_OK(&c, "30 08 00 03 'a/b' 00 'hi'"), 0, 0, "a/b");
    check_hi(TV_DECODE_OK(&c, "33 0a 00 03 'a/b' 00 01 00 'hi'"), 1, 1, "a/b");
}

Test(codec_publish, properties_from_mosquitto_pub_5_decode)
{
    /* mosquitto_pub -V 5 -q 1 -D publish user-property k v -D publish content-type text
     * -D publish message-expiry-interval 60 -D publish response-topic r/t
     * -D publish correlation-data abc -D publish payload-format-indicator 1 */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_CANON(
        &c,
        "32 2b 00 03 'a/b' 00 01 21 26 00 01 'k' 00 01 'v' 03 00 04 'text' 02 00 00 00 3c"
        " 08 00 03 'r/t' 09 00 03 'abc' 01 01 'hi'",
        "32 2b 00 03 'a/b' 00 01 21 01 01 02 00 00 00 3c 03 00 04 'text' 08 00 03 'r/t'"
        " 09 00 03 'abc' 26 00 01 'k' 00 01 'v' 'hi'");
    const mqtt_properties *pr = &p->publish.properties;
    check_hi(p, 1, 1, "a/b");
    cr_assert_eq(pr->payload_format_indicator, 1);
    cr_assert_eq(pr->message_expiry_interval, 60);
    cr_assert(tv_eq(pr->content_type, "text"));
    cr_assert(tv_eq(pr->response_topic, "r/t"));
    cr_assert(tv_eq(pr->correlation_data, "abc"));
    cr_assert_eq(pr->user_property_count, 1);
    cr_assert_eq(pr->subscription_identifier_count, 0);
}

Test(codec_publish, subscription_identifier_from_the_server_5_decodes)
{
    /* The same message forwarded by mosquitto to a subscriber with identifier 5. */
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_CANON(
        &c,
        "32 2d 00 03 'a/b' 00 01 23 0b 05 26 00 01 'k' 00 01 'v' 03 00 04 'text'"
        " 08 00 03 'r/t' 09 00 03 'abc' 01 01 02 00 00 00 3c 'hi'",
        "32 2d 00 03 'a/b' 00 01 23 01 01 02 00 00 00 3c 03 00 04 'text' 08 00 03 'r/t'"
        " 09 00 03 'abc' 0b 05 26 00 01 'k' 00 01 'v' 'hi'");
    cr_assert_eq(p->publish.properties.subscription_identifier_count, 1);
    cr_assert_eq(p->publish.properties.subscription_identifiers[0], 5);
}

Test(codec_publish, several_subscription_identifiers_decode)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "30 0e 00 01 't' 0a 0b 01 0b 80 01 0b ff ff ff 7f");
    const mqtt_properties *pr = &p->publish.properties;
    cr_assert_eq(pr->subscription_identifier_count, 3);
    cr_assert_eq(pr->subscription_identifiers[0], 1);
    cr_assert_eq(pr->subscription_identifiers[1], 128);
    cr_assert_eq(pr->subscription_identifiers[2], 268435455);
}

Test(codec_publish, user_properties_keep_their_order)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "30 12 00 01 't' 0e 26 00 01 'a' 00 01 '1' 26 00 01 'a' 00 01 '2'");
    const mqtt_properties *pr = &p->publish.properties;
    cr_assert_eq(pr->user_property_count, 2);
    cr_assert(tv_eq(pr->user_properties[0].value, "1"));
    cr_assert(tv_eq(pr->user_properties[1].value, "2"));
}

Test(codec_publish, empty_topic_with_a_topic_alias_decodes)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 07 00 00 03 23 00 01 'x'");
    cr_assert_eq(p->publish.topic.len, 0);
    cr_assert_eq(p->publish.properties.topic_alias, 1);
    p = TV_DECODE_OK(&c, "30 0a 00 03 'a/b' 03 23 00 01 'x'");
    cr_assert(tv_eq(p->publish.topic, "a/b"));
}

/* ---- rejections ------------------------------------------------------------ */

Test(codec_publish, qos3_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "36 07 00 03 'a/b' 00 01", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4", 0, 0x81);
    TV_REJECT(&c, "3f 07 00 03 'a/b' 00 01", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4", 0, 0x81);
    c = TV_S31;
    TV_REJECT(&c, "36 07 00 03 'a/b' 00 01", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4", 0, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "36 08 00 03 'a/b' 00 01 00", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4", 0, 0x81);
}

Test(codec_publish, dup_on_qos0_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "38 05 00 03 'a/b'", MQTT_ERR_MALFORMED, "MQTT-3.3.1-2", 0, 0x81);
    c = TV_S5;
    TV_REJECT(&c, "39 06 00 03 'a/b' 00", MQTT_ERR_MALFORMED, "MQTT-3.3.1-2", 0, 0x81);
}

Test(codec_publish, packet_id_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "32 07 00 03 'a/b' 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.3.1-1", 7, 0x82);
    c = TV_S31;
    TV_REJECT(&c, "34 07 00 03 'a/b' 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.3.1-1", 7, 0x82);
    c = TV_C5;
    TV_REJECT(&c, "32 08 00 03 'a/b' 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1-3", 7, 0x82);
    c = TV_S5;
    TV_REJECT(&c, "32 08 00 03 'a/b' 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1-4", 7, 0x82);
}

Test(codec_publish, wildcard_in_the_topic_name_is_rejected)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "30 05 00 03 'a/+'", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2", 4, 0x90);
    TV_REJECT(&c, "30 03 00 01 '#'", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2", 4, 0x90);
    c = TV_C5;
    TV_REJECT(&c, "30 06 00 03 'a/#' 00", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2", 4, 0x90);
    TV_REJECT(&c, "30 07 00 04 'sp+t' 00", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2", 4, 0x90);
}

Test(codec_publish, empty_topic_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "30 02 00 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1", 4, 0x82);
    c = TV_C5; /* no Topic Alias to stand for it */
    TV_REJECT(&c, "30 03 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1", 4, 0x82);
}

Test(codec_publish, ill_formed_topic_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "30 06 00 04 'a' ed a0 80", MQTT_ERR_MALFORMED, "MQTT-1.5.3-1", 4, 0x81);
    TV_REJECT(&c, "30 05 00 03 'a' 00 'b'", MQTT_ERR_MALFORMED, "MQTT-1.5.3-2", 4, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "30 06 00 03 'a' c0 80 00", MQTT_ERR_MALFORMED, "MQTT-1.5.4-1", 4, 0x81);
}

Test(codec_publish, topic_past_the_end_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "30 03 00 05 'a'", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 4, 0x81);
    TV_REJECT(&c, "30 01 00", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 2, 0x81);
}

Test(codec_publish, missing_packet_id_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "32 05 00 03 'a/b'", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 7, 0x81);
    TV_REJECT(&c, "32 06 00 03 'a/b' 01", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 7, 0x81);
}

Test(codec_publish, missing_property_length_is_malformed_in_5)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 05 00 03 'a/b'", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 7, 0x81);
}

Test(codec_publish, topic_alias_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 09 00 03 'a/b' 03 23 00 00", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-8", 8, 0x94);
}

Test(codec_publish, topic_alias_twice_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 0a 00 01 't' 06 23 00 01 23 00 02", MQTT_ERR_PROTOCOL, "MQTT-3.3.2.3.4", 9,
              0x82);
}

Test(codec_publish, subscription_identifier_from_a_client_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 06 00 01 't' 02 0b 01", MQTT_ERR_PROTOCOL, "MQTT-3.3.4-6", 6, 0x82);
}

Test(codec_publish, subscription_identifier_0_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "30 06 00 01 't' 02 0b 00", MQTT_ERR_PROTOCOL, "MQTT-3.3.2.3.8", 6, 0x82);
}

Test(codec_publish, payload_format_indicator_2_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 06 00 01 't' 02 01 02", MQTT_ERR_PROTOCOL, "MQTT-3.3.2.3.2", 6, 0x82);
}

Test(codec_publish, connect_property_in_publish_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 09 00 01 't' 05 11 00 00 00 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 6, 0x81);
}

Test(codec_publish, content_type_twice_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 0c 00 01 't' 08 03 00 01 'a' 03 00 01 'b'", MQTT_ERR_PROTOCOL,
              "MQTT-3.3.2.3.9", 10, 0x82);
}

Test(codec_publish, response_topic_with_a_wildcard_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 0a 00 01 't' 06 08 00 03 'a/#'", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-14", 6,
              0x82);
    TV_REJECT(&c, "30 0a 00 01 't' 06 08 00 03 '+/a'", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-14", 6,
              0x82);
}

Test(codec_publish, empty_response_topic_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 07 00 01 't' 03 08 00 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1", 6, 0x82);
}

Test(codec_publish, ill_formed_response_topic_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 08 00 01 't' 04 08 00 01 ff", MQTT_ERR_MALFORMED, "MQTT-1.5.4-1", 9, 0x81);
}

Test(codec_publish, more_user_properties_than_the_caller_array_is_a_limit)
{
    mqtt_codec c = TV_C5;
    mqtt_user_property one[1];
    c.user_properties = one;
    c.user_properties_cap = 1;
    TV_REJECT(&c, "30 12 00 01 't' 0e 26 00 01 'a' 00 01 '1' 26 00 01 'a' 00 01 '2'",
              MQTT_ERR_LIMIT, "LIMIT-user-properties", 13, 0x83);
}

Test(codec_publish, more_subscription_identifiers_than_the_caller_array_is_a_limit)
{
    mqtt_codec c = TV_S5;
    uint32_t one[1];
    c.subscription_identifiers = one;
    c.subscription_identifiers_cap = 1;
    TV_REJECT(&c, "30 08 00 01 't' 04 0b 01 0b 02", MQTT_ERR_LIMIT,
              "LIMIT-subscription-identifiers", 8, 0x83);
    c.subscription_identifiers = NULL;
    c.subscription_identifiers_cap = 0;
    TV_REJECT(&c, "30 06 00 01 't' 02 0b 01", MQTT_ERR_LIMIT, "LIMIT-subscription-identifiers",
              6, 0x83);
}
