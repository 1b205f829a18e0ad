/*
 * CONNACK (section 3.2 of both specifications): 3.1 / 3.1.1 return codes and
 * the fixed remaining length of 2, the Session Present flag and its reserved
 * bits, and in 5.0 the Connect Reason Codes (Table 3-1, MQTT-3.2.2-8) and all
 * seventeen CONNACK properties with their ranges.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "vectors.h"

Test(codec_connack, accepted_311_decodes)
{
    /* What mosquitto 2.0.11 answers every 3.1.1 CONNECT with. */
    mqtt_codec c = TV_S311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "20 02 00 00");
    cr_assert(!p->connack.session_present);
    cr_assert_eq(p->connack.reason_code, 0);
    p = TV_DECODE_OK(&c, "20 02 01 00");
    cr_assert(p->connack.session_present);
}

Test(codec_connack, every_return_code_of_311_decodes)
{
    mqtt_codec c = TV_S311;
    char hex[16];
    for (unsigned rc = 0; rc <= 5; rc++) {
        snprintf(hex, sizeof hex, "20 02 00 %02x", rc);
        const mqtt_packet *p = TV_DECODE_OK(&c, hex);
        cr_assert_eq(p->connack.reason_code, rc);
    }
}

Test(codec_connack, reserved_return_code_is_a_protocol_error_in_311)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "20 02 00 06", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3", 3, 0x82);
    TV_REJECT(&c, "20 02 00 ff", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3", 3, 0x82);
}

Test(codec_connack, session_present_with_a_refusal_is_a_protocol_error)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "20 02 01 05", MQTT_ERR_PROTOCOL, "MQTT-3.2.2-4", 2, 0x82);
    c = TV_S5;
    TV_REJECT(&c, "20 03 01 80 00", MQTT_ERR_PROTOCOL, "MQTT-3.2.2-6", 2, 0x82);
}

Test(codec_connack, reserved_acknowledge_flags_are_malformed)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "20 02 02 00", MQTT_ERR_MALFORMED, "MQTT-3.2.2.1", 2, 0x81);
    TV_REJECT(&c, "20 02 80 00", MQTT_ERR_MALFORMED, "MQTT-3.2.2.1", 2, 0x81);
    c = TV_S5;
    TV_REJECT(&c, "20 03 02 00 00", MQTT_ERR_MALFORMED, "MQTT-3.2.2-1", 2, 0x81);
}

Test(codec_connack, remaining_length_other_than_2_is_malformed_in_311)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "20 03 00 00 00", MQTT_ERR_MALFORMED, "MQTT-3.2.1", 1, 0x81);
    TV_REJECT(&c, "20 01 00", MQTT_ERR_MALFORMED, "MQTT-3.2.1", 1, 0x81);
    TV_REJECT(&c, "20 00", MQTT_ERR_MALFORMED, "MQTT-3.2.1", 1, 0x81);
}

Test(codec_connack, connack_31_has_no_session_present)
{
    /* In 3.1 the first byte is reserved ("Topic Name Compression Response"). */
    mqtt_codec c = TV_S31;
    const mqtt_packet *p = TV_DECODE_OK(&c, "20 02 00 00");
    cr_assert(!p->connack.session_present);
    p = TV_DECODE_OK(&c, "20 02 00 05");
    cr_assert_eq(p->connack.reason_code, 5);
    TV_REJECT(&c, "20 02 01 00", MQTT_ERR_MALFORMED, "MQTT-3.2.2.1", 2, 0x81);
}

Test(codec_connack, minimal_5_decodes)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "20 03 00 00 00");
    cr_assert_eq(p->connack.properties.present, 0);
    p = TV_DECODE_OK(&c, "20 03 01 00 00");
    cr_assert(p->connack.session_present);
}

Test(codec_connack, mosquitto_5_decodes)
{
    /* mosquitto 2.0.11: Topic Alias Maximum 10, Receive Maximum 20, re-encoded in
     * ascending property order. */
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_CANON(&c, "20 09 00 00 06 22 00 0a 21 00 14",
                                           "20 09 00 00 06 21 00 14 22 00 0a");
    cr_assert_eq(p->connack.properties.topic_alias_maximum, 10);
    cr_assert_eq(p->connack.properties.receive_maximum, 20);
}

Test(codec_connack, all_seventeen_properties_5_decode)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(
        &c, "20 45 00 00 42"
            " 11 00 00 00 1e 12 00 03 'abc' 13 00 1e 15 00 02 'am' 16 00 01 'x'"
            " 1a 00 02 'ri' 1c 00 02 'sr' 1f 00 02 'ok' 21 00 05 22 00 04 24 01 25 00"
            " 26 00 01 'k' 00 01 'v' 27 00 00 10 00 28 01 29 00 2a 01");
    const mqtt_properties *pr = &p->connack.properties;
    cr_assert_eq(pr->session_expiry_interval, 30);
    cr_assert(tv_eq(pr->assigned_client_identifier, "abc"));
    cr_assert_eq(pr->server_keep_alive, 30);
    cr_assert(tv_eq(pr->authentication_method, "am"));
    cr_assert(tv_eq(pr->authentication_data, "x"));
    cr_assert(tv_eq(pr->response_information, "ri"));
    cr_assert(tv_eq(pr->server_reference, "sr"));
    cr_assert(tv_eq(pr->reason_string, "ok"));
    cr_assert_eq(pr->receive_maximum, 5);
    cr_assert_eq(pr->topic_alias_maximum, 4);
    cr_assert_eq(pr->maximum_qos, 1);
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_RETAIN_AVAILABLE));
    cr_assert_eq(pr->retain_available, 0);
    cr_assert_eq(pr->user_property_count, 1);
    cr_assert_eq(pr->maximum_packet_size, 4096);
    cr_assert_eq(pr->wildcard_subscription_available, 1);
    cr_assert_eq(pr->subscription_identifier_available, 0);
    cr_assert_eq(pr->shared_subscription_available, 1);
}

/* Connect Reason Codes, Table 3-1 of 5.0. */
static bool connack_code(unsigned rc)
{
    static const uint8_t ok[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
    for (size_t i = 0; i < sizeof ok; i++)
        if (ok[i] == rc) return true;
    return false;
}

Test(codec_connack, only_connect_reason_codes_are_accepted_in_5)
{
    mqtt_codec c = TV_S5;
    char hex[32];
    for (unsigned rc = 0; rc < 256; rc++) {
        snprintf(hex, sizeof hex, "20 03 00 %02x 00", rc);
        if (connack_code(rc)) {
            const mqtt_packet *p = TV_DECODE_OK(&c, hex);
            cr_assert_eq(p->connack.reason_code, rc);
        } else {
            TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-3.2.2-8", 3, 0x82);
        }
    }
}

Test(codec_connack, missing_property_length_is_malformed_in_5)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 02 00 00", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 4, 0x81);
}

Test(codec_connack, maximum_qos_above_1_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 05 00 00 02 24 02", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.4", 5, 0x82);
    const mqtt_packet *p = TV_DECODE_OK(&c, "20 05 00 00 02 24 00");
    cr_assert_eq(p->connack.properties.maximum_qos, 0);
}

Test(codec_connack, boolean_properties_above_1_are_protocol_errors)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 05 00 00 02 25 02", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.5", 5, 0x82);
    TV_REJECT(&c, "20 05 00 00 02 28 02", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.11", 5, 0x82);
    TV_REJECT(&c, "20 05 00 00 02 29 ff", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.12", 5, 0x82);
    TV_REJECT(&c, "20 05 00 00 02 2a 02", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.13", 5, 0x82);
}

Test(codec_connack, receive_maximum_0_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 06 00 00 03 21 00 00", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.3", 5, 0x82);
}

Test(codec_connack, maximum_packet_size_0_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 08 00 00 05 27 00 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.6", 5, 0x82);
}

Test(codec_connack, authentication_data_without_method_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 07 00 00 04 16 00 01 'x'", MQTT_ERR_PROTOCOL, "MQTT-3.2.2.3.18", 4, 0x82);
}

Test(codec_connack, reason_string_twice_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 0b 00 00 08 1f 00 01 'a' 1f 00 01 'b'", MQTT_ERR_PROTOCOL,
              "MQTT-3.2.2.3.9", 9, 0x82);
}

Test(codec_connack, connect_only_property_is_malformed)
{
    /* Request Problem Information (0x17) is valid only in CONNECT (2.2.2.2). */
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 05 00 00 02 17 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 5, 0x81);
}

Test(codec_connack, bytes_after_the_properties_are_malformed)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "20 04 00 00 00 00", MQTT_ERR_MALFORMED, "MQTT-3.2.2", 5, 0x81);
}
