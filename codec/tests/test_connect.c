/*
 * CONNECT in MQTT 3.1 (MQIsdp, level 3), 3.1.1 (level 4) and 5.0 (level 5):
 * byte-exact vectors from the layouts of sections 3.1 (some captured from
 * Debian's mosquitto_pub / mosquitto_sub 2.0.11), and every rule on the
 * Connect Flags, the protocol name and level, the payload fields and the
 * CONNECT and Will properties.
 *
 * Byte offsets in the rejecting vectors: 0 fixed header, 2 protocol name,
 * 8 level, 9 flags, 10 keep alive, 12 properties (5.0) or client id (3.1.1).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

/* ---- valid vectors -------------------------------------------------------- */

Test(codec_connect, minimal_311_decodes)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "10 0c 00 04 'MQTT' 04 02 00 3c 00 00");
    cr_assert_eq(p->type, MQTT_CONNECT);
    cr_assert(tv_eq(p->connect.protocol_name, "MQTT"));
    cr_assert_eq(p->connect.protocol_level, 4);
    cr_assert(p->connect.clean_start);
    cr_assert_eq(p->connect.keep_alive, 60);
    cr_assert_eq(p->connect.client_id.len, 0);
    cr_assert(!p->connect.will);
    cr_assert(!p->connect.has_username);
    cr_assert(!p->connect.has_password);
}

Test(codec_connect, mosquitto_sub_311_decodes)
{
    /* Captured from mosquitto_sub -V mqttv311 -i sub-mqttv311. */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 18 00 04 'MQTT' 04 02 00 3c 00 0c 'sub-mqttv311'");
    cr_assert(tv_eq(p->connect.client_id, "sub-mqttv311"));
}

Test(codec_connect, will_user_password_311_decodes)
{
    /* mosquitto_pub -q 2 -u user -P pass --will-topic w/t --will-payload bye
     * --will-qos 1 --will-retain: flags 0xee. */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "10 26 00 04 'MQTT' 04 ee 00 3c 00 04 'pub2'"
                                            " 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'");
    const mqtt_connect *k = &p->connect;
    cr_assert(tv_eq(k->client_id, "pub2"));
    cr_assert(k->will);
    cr_assert_eq(k->will_qos, 1);
    cr_assert(k->will_retain);
    cr_assert(tv_eq(k->will_topic, "w/t"));
    cr_assert(tv_eq(k->will_payload, "bye"));
    cr_assert(k->has_username && tv_eq(k->username, "user"));
    cr_assert(k->has_password && tv_eq(k->password, "pass"));
}

Test(codec_connect, will_qos2_without_retain_311_decodes)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 14 00 04 'MQTT' 04 14 ff ff 00 01 'c' 00 01 't' 00 02 00 ff");
    cr_assert(!p->connect.clean_start);
    cr_assert_eq(p->connect.keep_alive, 65535);
    cr_assert_eq(p->connect.will_qos, 2);
    cr_assert(!p->connect.will_retain);
    cr_assert_eq(p->connect.will_payload.len, 2);
    cr_assert_eq(p->connect.will_payload.ptr[1], 0xff);
}

Test(codec_connect, mosquitto_sub_31_decodes)
{
    /* mosquitto_sub -V mqttv31: protocol name MQIsdp, level 3. */
    mqtt_codec c = TV_C31;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 19 00 06 'MQIsdp' 03 02 00 3c 00 0b 'sub-mqttv31'");
    cr_assert(tv_eq(p->connect.protocol_name, "MQIsdp"));
    cr_assert_eq(p->connect.protocol_level, 3);
    cr_assert(tv_eq(p->connect.client_id, "sub-mqttv31"));
}

Test(codec_connect, will_user_password_31_decodes)
{
    mqtt_codec c = TV_C31;
    const mqtt_packet *p = TV_DECODE_OK(&c, "10 28 00 06 'MQIsdp' 03 ee 00 3c 00 04 'pub2'"
                                            " 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'");
    cr_assert(p->connect.will && p->connect.has_username && p->connect.has_password);
}

Test(codec_connect, connect_is_decoded_by_its_own_level)
{
    /* A server does not know the version before CONNECT. */
    mqtt_codec c = tv_codec(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT);
    const mqtt_packet *p = TV_DECODE_OK(&c, "10 0d 00 04 'MQTT' 05 02 00 3c 00 00 00");
    cr_assert_eq(p->connect.protocol_level, 5);
    c = TV_C311;
    TV_DECODE_OK(&c, "10 0d 00 04 'MQTT' 05 02 00 3c 00 00 00");
    c = TV_C5;
    TV_DECODE_OK(&c, "10 19 00 06 'MQIsdp' 03 02 00 3c 00 0b 'sub-mqttv31'");
}

Test(codec_connect, mosquitto_sub_5_decodes)
{
    /* mosquitto_sub -V 5: Receive Maximum 3. */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 1a 00 04 'MQTT' 05 02 00 3c 03 21 00 03 00 0a 'sub-mqttv5'");
    cr_assert(MQTT_HAS_PROP(&p->connect.properties, MQTT_PROP_RECEIVE_MAXIMUM));
    cr_assert_eq(p->connect.properties.receive_maximum, 3);
    cr_assert(tv_eq(p->connect.client_id, "sub-mqttv5"));
}

Test(codec_connect, session_expiry_and_user_property_5_decode)
{
    /* mosquitto_sub -D connect session-expiry-interval 100 -D connect user-property ck cv. */
    mqtt_codec c = TV_C5;
    /* Properties are re-encoded in ascending identifier order (their order has no
     * significance, 5.0 section 2.2.2.2). */
    const mqtt_packet *p = TV_DECODE_CANON(
        &c, "10 20 00 04 'MQTT' 05 02 00 3c 11 11 00 00 00 64 26 00 02 'ck' 00 02 'cv'"
            " 21 00 01 00 02 's5'",
        "10 20 00 04 'MQTT' 05 02 00 3c 11 11 00 00 00 64 21 00 01 26 00 02 'ck' 00 02 'cv'"
        " 00 02 's5'");
    const mqtt_properties *pr = &p->connect.properties;
    cr_assert_eq(pr->session_expiry_interval, 100);
    cr_assert_eq(pr->receive_maximum, 1);
    cr_assert_eq(pr->user_property_count, 1);
    cr_assert(tv_eq(pr->user_properties[0].name, "ck"));
    cr_assert(tv_eq(pr->user_properties[0].value, "cv"));
}

Test(codec_connect, will_properties_5_decode)
{
    /* mosquitto_pub -V 5 with -D connect maximum-packet-size 1000, request-problem-
     * information 0, request-response-information 1, topic-alias-maximum 5,
     * --will-topic w, -D will will-delay-interval 10, -D will user-property wk wv. */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_CANON(
        &c, "10 32 00 04 'MQTT' 05 06 00 3c 0f 27 00 00 03 e8 17 00 19 01 22 00 05 21 00 14"
            " 00 02 'p5' 0e 18 00 00 00 0a 26 00 02 'wk' 00 02 'wv' 00 01 'w' 00 00",
        "10 32 00 04 'MQTT' 05 06 00 3c 0f 17 00 19 01 21 00 14 22 00 05 27 00 00 03 e8"
        " 00 02 'p5' 0e 18 00 00 00 0a 26 00 02 'wk' 00 02 'wv' 00 01 'w' 00 00");
    const mqtt_connect *k = &p->connect;
    cr_assert_eq(k->properties.maximum_packet_size, 1000);
    cr_assert(MQTT_HAS_PROP(&k->properties, MQTT_PROP_REQUEST_PROBLEM_INFORMATION));
    cr_assert_eq(k->properties.request_problem_information, 0);
    cr_assert_eq(k->properties.request_response_information, 1);
    cr_assert_eq(k->properties.topic_alias_maximum, 5);
    cr_assert_eq(k->properties.receive_maximum, 20);
    cr_assert(k->will);
    cr_assert_eq(k->will_properties.will_delay_interval, 10);
    cr_assert_eq(k->will_properties.user_property_count, 1);
    cr_assert(tv_eq(k->will_properties.user_properties[0].value, "wv"));
    cr_assert(tv_eq(k->will_topic, "w"));
    cr_assert_eq(k->will_payload.len, 0);
}

Test(codec_connect, will_user_password_5_decodes)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 2b 00 04 'MQTT' 05 ee 00 3c 03 21 00 14 00 04 'pub2' 00"
                         " 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'");
    cr_assert(p->connect.will_retain);
    cr_assert(tv_eq(p->connect.password, "pass"));
}

Test(codec_connect, every_will_property_5_decodes)
{
    /* Will properties: 18 (delay), 01 (format), 02 (expiry), 03 (content type),
     * 08 (response topic), 09 (correlation data), 26 (user property). */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(
        &c, "10 3b 00 04 'MQTT' 05 06 00 00 00 00 01 'c'"
            " 25 01 01 02 00 00 01 00 03 00 04 'text' 08 00 03 'r/t' 09 00 02 01 02"
            " 18 00 00 00 05 26 00 01 'k' 00 01 'v'"
            " 00 01 't' 00 02 'hi'");
    const mqtt_properties *w = &p->connect.will_properties;
    cr_assert_eq(w->will_delay_interval, 5);
    cr_assert_eq(w->payload_format_indicator, 1);
    cr_assert_eq(w->message_expiry_interval, 256);
    cr_assert(tv_eq(w->content_type, "text"));
    cr_assert(tv_eq(w->response_topic, "r/t"));
    cr_assert_eq(w->correlation_data.len, 2);
    cr_assert_eq(w->user_property_count, 1);
    cr_assert_eq(p->connect.properties.present, 0);
}

Test(codec_connect, every_connect_property_5_decodes)
{
    /* 11 21 27 22 19 17 26 15 16: all nine CONNECT properties. */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(
        &c, "10 37 00 04 'MQTT' 05 02 00 0a"
            " 29 11 ff ff ff ff 15 00 05 'SCRAM' 16 00 03 01 02 03 17 01 19 01 21 00 0a"
            " 22 00 08 26 00 01 'a' 00 01 'b' 27 00 01 00 00"
            " 00 01 'c'");
    const mqtt_properties *pr = &p->connect.properties;
    cr_assert_eq(pr->session_expiry_interval, 0xffffffffu);
    cr_assert_eq(pr->receive_maximum, 10);
    cr_assert_eq(pr->maximum_packet_size, 65536);
    cr_assert_eq(pr->topic_alias_maximum, 8);
    cr_assert_eq(pr->request_response_information, 1);
    cr_assert_eq(pr->request_problem_information, 1);
    cr_assert(tv_eq(pr->authentication_method, "SCRAM"));
    cr_assert_eq(pr->authentication_data.len, 3);
}

Test(codec_connect, password_without_username_is_allowed_in_5)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 13 00 04 'MQTT' 05 42 00 3c 00 00 00 00 04 'pass'");
    cr_assert(!p->connect.has_username);
    cr_assert(p->connect.has_password);
}

Test(codec_connect, empty_will_topic_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 12 00 04 'MQTT' 04 06 00 3c 00 01 'c' 00 00 00 01 'x'", MQTT_ERR_PROTOCOL,
              "MQTT-4.7.3-1", 17, 0x82);
}

/* ---- Connect Flags -------------------------------------------------------- */

Test(codec_connect, reserved_flag_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 04 03 00 3c 00 00", MQTT_ERR_MALFORMED, "MQTT-3.1.2-3", 9,
              0x81);
    c = TV_C31;
    TV_REJECT(&c, "10 0e 00 06 'MQIsdp' 03 03 00 3c 00 00", MQTT_ERR_MALFORMED, "MQTT-3.1.2-3",
              11, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 05 03 00 3c 00 00 00", MQTT_ERR_MALFORMED, "MQTT-3.1.2-3",
              9, 0x81);
}

Test(codec_connect, will_qos_without_will_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 04 0a 00 3c 00 00", MQTT_ERR_MALFORMED, "MQTT-3.1.2-13",
              9, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 05 12 00 3c 00 00 00", MQTT_ERR_MALFORMED,
              "MQTT-3.1.2-11", 9, 0x81);
}

Test(codec_connect, will_retain_without_will_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 04 22 00 3c 00 00", MQTT_ERR_MALFORMED, "MQTT-3.1.2-15",
              9, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 05 22 00 3c 00 00 00", MQTT_ERR_MALFORMED,
              "MQTT-3.1.2-13", 9, 0x81);
}

Test(codec_connect, will_qos3_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 11 00 04 'MQTT' 04 1e 00 3c 00 00 00 01 't' 00 00", MQTT_ERR_MALFORMED,
              "MQTT-3.1.2-14", 9, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "10 13 00 04 'MQTT' 05 1e 00 3c 00 00 00 00 00 01 't' 00 00",
              MQTT_ERR_MALFORMED, "MQTT-3.1.2-12", 9, 0x81);
}

Test(codec_connect, password_without_username_is_malformed_in_3x)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 12 00 04 'MQTT' 04 42 00 3c 00 00 00 04 'pass'", MQTT_ERR_MALFORMED,
              "MQTT-3.1.2-22", 9, 0x81);
    c = TV_C31;
    TV_REJECT(&c, "10 14 00 06 'MQIsdp' 03 42 00 3c 00 00 00 04 'pass'", MQTT_ERR_MALFORMED,
              "MQTT-3.1.2-22", 11, 0x81);
}

/* ---- protocol name and level ---------------------------------------------- */

Test(codec_connect, unsupported_level_is_unsupported_version)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 06 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
              "MQTT-3.1.2-2", 8, 0x84);
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 03 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
              "MQTT-3.1.2-2", 8, 0x84);
    TV_REJECT(&c, "10 0e 00 06 'MQIsdp' 04 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
              "MQTT-3.1.2-2", 10, 0x84);
}

Test(codec_connect, unknown_protocol_name_is_unsupported_version)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0c 00 04 'MQTX' 04 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
              "MQTT-3.1.2-1", 2, 0x84);
    TV_REJECT(&c, "10 0c 00 04 'mqtt' 04 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
              "MQTT-3.1.2-1", 2, 0x84);
}

Test(codec_connect, wrong_name_at_level_5_is_judged_by_5_0_rules)
{
    /* A server must answer a level-5 client in the 5.0 format (CONNACK 0x84, 5.0
     * MQTT-3.1.2-1), so the error says which spec it comes from. */
    mqtt_codec c = {.version = MQTT_VERSION_UNKNOWN, .from = MQTT_FROM_CLIENT};
    mqtt_error e = TV_REJECT(&c, "10 0d 00 04 'MQTX' 05 02 00 3c 00 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
                             "MQTT-3.1.2-1", 2, 0x84);
    cr_assert_eq(e.version, MQTT_V5);
    e = TV_REJECT(&c, "10 0c 00 04 'MQTX' 04 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
                  "MQTT-3.1.2-1", 2, 0x84);
    cr_assert_eq(e.version, MQTT_V311);
}

/* ---- payload --------------------------------------------------------------- */

Test(codec_connect, missing_client_id_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0a 00 04 'MQTT' 04 02 00 3c", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 12, 0x81);
}

Test(codec_connect, missing_username_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 04 82 00 3c 00 01 'c'", MQTT_ERR_MALFORMED,
              "MQTT-2.2.3", 15, 0x81);
}

Test(codec_connect, missing_password_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 11 00 04 'MQTT' 04 c2 00 3c 00 01 'c' 00 02 'us'", MQTT_ERR_MALFORMED,
              "MQTT-2.2.3", 19, 0x81);
}

Test(codec_connect, missing_will_fields_are_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 04 06 00 3c 00 01 'c'", MQTT_ERR_MALFORMED, "MQTT-2.2.3",
              15, 0x81);
}

Test(codec_connect, bytes_after_the_payload_are_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0d 00 04 'MQTT' 04 02 00 3c 00 00 ff", MQTT_ERR_MALFORMED, "MQTT-3.1.3-1",
              14, 0x81);
}

Test(codec_connect, string_longer_than_the_packet_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0e 00 04 'MQTT' 04 02 00 3c 00 05 'ab'", MQTT_ERR_MALFORMED, "MQTT-2.2.3",
              14, 0x81);
}

Test(codec_connect, client_id_with_an_overlong_nul_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 0e 00 04 'MQTT' 04 02 00 3c 00 02 c0 80", MQTT_ERR_MALFORMED,
              "MQTT-1.5.3-1", 14, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "10 0f 00 04 'MQTT' 05 02 00 3c 00 00 02 c0 80", MQTT_ERR_MALFORMED,
              "MQTT-1.5.4-1", 15, 0x81);
}

Test(codec_connect, username_with_u0000_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 11 00 04 'MQTT' 04 82 00 3c 00 01 'c' 00 02 'a' 00", MQTT_ERR_MALFORMED,
              "MQTT-1.5.3-2", 18, 0x81);
}

Test(codec_connect, will_topic_with_a_wildcard_is_rejected)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "10 14 00 04 'MQTT' 04 06 00 3c 00 01 'c' 00 03 'a/#' 00 00",
              MQTT_ERR_PROTOCOL, "MQTT-4.7.1-1", 17, 0x90);
    c = TV_C5;
    TV_REJECT(&c, "10 16 00 04 'MQTT' 05 06 00 3c 00 00 01 'c' 00 00 03 'a/+' 00 00",
              MQTT_ERR_PROTOCOL, "MQTT-4.7.0-1", 19, 0x90);
}

/* ---- CONNECT and Will properties (5.0) ------------------------------------ */

Test(codec_connect, property_not_allowed_in_connect_is_malformed)
{
    /* 5.0 2.2.2.2: an Identifier not valid for its packet type is a Malformed Packet.
     * Payload Format Indicator (0x01) belongs to PUBLISH and the Will. */
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 0f 00 04 'MQTT' 05 02 00 3c 02 01 01 00 00", MQTT_ERR_MALFORMED,
              "MQTT-2.2.2.2", 13, 0x81);
    /* Will Delay Interval (0x18) belongs to the Will, not to CONNECT. */
    TV_REJECT(&c, "10 12 00 04 'MQTT' 05 02 00 3c 05 18 00 00 00 01 00 00", MQTT_ERR_MALFORMED,
              "MQTT-2.2.2.2", 13, 0x81);
}

Test(codec_connect, receive_maximum_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 10 00 04 'MQTT' 05 02 00 3c 03 21 00 00 00 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.1.2.11.3", 13, 0x82);
}

Test(codec_connect, maximum_packet_size_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 12 00 04 'MQTT' 05 02 00 3c 05 27 00 00 00 00 00 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.1.2.11.4", 13, 0x82);
}

Test(codec_connect, request_information_booleans_above_1_are_protocol_errors)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 0f 00 04 'MQTT' 05 02 00 3c 02 19 02 00 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.1.2.11.6", 13, 0x82);
    TV_REJECT(&c, "10 0f 00 04 'MQTT' 05 02 00 3c 02 17 02 00 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.1.2.11.7", 13, 0x82);
}

Test(codec_connect, authentication_data_without_method_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 12 00 04 'MQTT' 05 02 00 3c 05 16 00 02 'xy' 00 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.1.2.11.10", 12, 0x82);
}

Test(codec_connect, duplicate_session_expiry_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 17 00 04 'MQTT' 05 02 00 3c 0a 11 00 00 00 01 11 00 00 00 02 00 00",
              MQTT_ERR_PROTOCOL, "MQTT-3.1.2.11.2", 18, 0x82);
}

Test(codec_connect, connect_property_in_the_will_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 18 00 04 'MQTT' 05 06 00 3c 00 00 00 05 11 00 00 00 01 00 01 't' 00 00",
              MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 16, 0x81);
}

Test(codec_connect, will_response_topic_with_a_wildcard_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 19 00 04 'MQTT' 05 06 00 3c 00 00 00 06 08 00 03 'a/#' 00 01 't' 00 00",
              MQTT_ERR_PROTOCOL, "MQTT-3.3.2-14", 16, 0x82);
}

Test(codec_connect, will_payload_format_2_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 15 00 04 'MQTT' 05 06 00 3c 00 00 00 02 01 02 00 01 't' 00 00",
              MQTT_ERR_PROTOCOL, "MQTT-3.1.3.2.3", 16, 0x82);
}

Test(codec_connect, more_user_properties_than_the_caller_array_is_a_limit)
{
    mqtt_codec c = TV_C5;
    mqtt_user_property one[1];
    c.user_properties = one;
    c.user_properties_cap = 1;
    TV_REJECT(&c, "10 19 00 04 'MQTT' 05 02 00 3c 0c 26 00 01 'a' 00 00 26 00 01 'b' 00 00 00 00",
              MQTT_ERR_LIMIT, "LIMIT-user-properties", 19, 0x83);
    c.user_properties = NULL;
    c.user_properties_cap = 0;
    TV_REJECT(&c, "10 13 00 04 'MQTT' 05 02 00 3c 06 26 00 01 'a' 00 00 00 00",
              MQTT_ERR_LIMIT, "LIMIT-user-properties", 13, 0x83);
}

Test(codec_connect, property_length_past_the_packet_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "10 0f 00 04 'MQTT' 05 02 00 3c 09 17 01 00 00", MQTT_ERR_MALFORMED,
              "MQTT-2.2.2.1", 12, 0x81);
}
