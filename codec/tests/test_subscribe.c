/*
 * SUBSCRIBE and SUBACK (sections 3.8 and 3.9): topic filters with '+' and '#'
 * (3.1.1 MQTT-4.7.1-2/-3, 5.0 MQTT-4.7.1-1/-2), $share/{name}/{filter}
 * (MQTT-4.8.2-1/-2, 5.0 only), the requested QoS byte (3.1.1 MQTT-3-8.3-4,
 * cited as MQTT-3.8.3-4) and the 5.0 Subscription Options (MQTT-3.8.3-4/-5,
 * section 3.8.3.1), the Subscription Identifier, empty payloads, the caller's
 * subscription array, and the SUBACK return / reason codes (MQTT-3.9.3-2).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vectors.h"

Test(codec_subscribe, two_filters_311_decode)
{
    /* mosquitto_sub -V mqttv311 -t a/b -t 'x/#' -q 2 (the same bytes in 3.1). */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "82 0e 00 01 00 03 'a/b' 02 00 03 'x/#' 02");
    const mqtt_subscribe *s = &p->subscribe;
    cr_assert_eq(s->packet_id, 1);
    cr_assert_eq(s->count, 2);
    cr_assert(tv_eq(s->subscriptions[0].topic_filter, "a/b"));
    cr_assert(tv_eq(s->subscriptions[1].topic_filter, "x/#"));
    cr_assert_eq(s->subscriptions[1].qos, 2);
    c = TV_C31;
    TV_DECODE_OK(&c, "82 0e 00 01 00 03 'a/b' 02 00 03 'x/#' 02");
}

Test(codec_subscribe, two_filters_5_decode)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "82 0f 00 01 00 00 03 'a/b' 02 00 03 'x/#' 02");
    cr_assert_eq(p->subscribe.count, 2);
}

Test(codec_subscribe, subscription_identifier_5_decodes)
{
    /* mosquitto_sub -V 5 -q 1 -D subscribe subscription-identifier 5 */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "82 0b 00 01 02 0b 05 00 03 'a/b' 01");
    cr_assert_eq(p->subscribe.properties.subscription_identifier_count, 1);
    cr_assert_eq(p->subscribe.properties.subscription_identifiers[0], 5);
}

Test(codec_subscribe, shared_subscription_5_decodes)
{
    /* mosquitto_sub -V 5 -t '$share/g/a/#' -t c */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "82 16 00 01 00 00 0c '$share/g/a/#' 00 00 01 'c' 00");
    cr_assert(tv_eq(p->subscribe.subscriptions[0].topic_filter, "$share/g/a/#"));
}

Test(codec_subscribe, subscription_options_5_decode)
{
    /* 0x2e: Retain Handling 2, Retain As Published, No Local, QoS 2. */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "82 09 00 01 00 00 03 'a/b' 2e");
    const mqtt_subscription *e = &p->subscribe.subscriptions[0];
    cr_assert_eq(e->qos, 2);
    cr_assert(e->no_local);
    cr_assert(e->retain_as_published);
    cr_assert_eq(e->retain_handling, 2);
    p = TV_DECODE_OK(&c, "82 09 00 01 00 00 03 'a/b' 11");
    cr_assert_eq(p->subscribe.subscriptions[0].retain_handling, 1);
    cr_assert_eq(p->subscribe.subscriptions[0].qos, 1);
}

Test(codec_subscribe, every_wildcard_placement_the_spec_allows_decodes)
{
    static const char *const ok[] = {"#", "+", "+/+", "/+", "+/#", "a/+/b", "a/#", "/#",
                                     "sport/tennis/+", "$SYS/#", "+/tennis/#", "a//b", "/"};
    char hex[128];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        snprintf(hex, sizeof hex, "82 %02zx 00 01 00 %02zx '%s' 01", n + 5, n, ok[i]);
        mqtt_codec c = TV_C311;
        TV_DECODE_OK(&c, hex);
        snprintf(hex, sizeof hex, "82 %02zx 00 01 00 00 %02zx '%s' 01", n + 6, n, ok[i]);
        c = TV_C5;
        TV_DECODE_OK(&c, hex);
    }
}

Test(codec_subscribe, share_prefix_is_a_plain_filter_in_311)
{
    mqtt_codec c = TV_C311;
    TV_DECODE_OK(&c, "82 0e 00 01 00 09 '$share//a' 00");
    TV_DECODE_OK(&c, "82 0d 00 01 00 08 '$share/g' 00");
}

/* ---- rejections ------------------------------------------------------------ */

Test(codec_subscribe, empty_payload_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 02 00 01", MQTT_ERR_PROTOCOL, "MQTT-3.8.3-3", 4, 0x82);
    c = TV_C5;
    TV_REJECT(&c, "82 03 00 01 00", MQTT_ERR_PROTOCOL, "MQTT-3.8.3-2", 5, 0x82);
}

Test(codec_subscribe, qos3_or_reserved_bits_are_malformed_in_311)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 08 00 01 00 03 'a/b' 03", MQTT_ERR_MALFORMED, "MQTT-3.8.3-4", 9, 0x81);
    TV_REJECT(&c, "82 08 00 01 00 03 'a/b' 04", MQTT_ERR_MALFORMED, "MQTT-3.8.3-4", 9, 0x81);
    TV_REJECT(&c, "82 08 00 01 00 03 'a/b' 80", MQTT_ERR_MALFORMED, "MQTT-3.8.3-4", 9, 0x81);
    c = TV_C31;
    TV_REJECT(&c, "82 08 00 01 00 03 'a/b' 03", MQTT_ERR_MALFORMED, "MQTT-3.8.3-4", 9, 0x81);
}

Test(codec_subscribe, reserved_option_bits_are_malformed_in_5)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 09 00 01 00 00 03 'a/b' 40", MQTT_ERR_MALFORMED, "MQTT-3.8.3-5", 10, 0x81);
    TV_REJECT(&c, "82 09 00 01 00 00 03 'a/b' 81", MQTT_ERR_MALFORMED, "MQTT-3.8.3-5", 10, 0x81);
}

Test(codec_subscribe, maximum_qos_3_is_a_protocol_error_in_5)
{
    /* 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3." */
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 09 00 01 00 00 03 'a/b' 03", MQTT_ERR_PROTOCOL, "MQTT-3.8.3.1", 10, 0x82);
}

Test(codec_subscribe, retain_handling_3_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 09 00 01 00 00 03 'a/b' 30", MQTT_ERR_PROTOCOL, "MQTT-3.8.3.1", 10, 0x82);
}

Test(codec_subscribe, no_local_on_a_shared_subscription_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 10 00 01 00 00 0a '$share/g/a' 04", MQTT_ERR_PROTOCOL, "MQTT-3.8.3-4", 17,
              0x82);
}

Test(codec_subscribe, misplaced_hash_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 0a 00 01 00 05 'a/#/b' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2", 6, 0x8f);
    TV_REJECT(&c, "82 07 00 01 00 02 'a#' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2", 6, 0x8f);
    c = TV_C5;
    TV_REJECT(&c, "82 0b 00 01 00 00 05 'a/#/b' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-1", 7, 0x8f);
    TV_REJECT(&c, "82 08 00 01 00 00 02 '##' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-1", 7, 0x8f);
}

Test(codec_subscribe, misplaced_plus_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 09 00 01 00 04 'a/b+' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-3", 6, 0x8f);
    TV_REJECT(&c, "82 09 00 01 00 04 '+a/b' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-3", 6, 0x8f);
    c = TV_C5;
    TV_REJECT(&c, "82 0a 00 01 00 00 04 'a/++' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2", 7, 0x8f);
}

Test(codec_subscribe, empty_filter_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 05 00 01 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1", 6, 0x82);
}

Test(codec_subscribe, bad_shared_subscriptions_are_protocol_errors)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 0f 00 01 00 00 09 '$share//a' 00", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-1", 7,
              0x8f);
    TV_REJECT(&c, "82 0e 00 01 00 00 08 '$share/g' 00", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-2", 7,
              0x8f);
    TV_REJECT(&c, "82 0f 00 01 00 00 09 '$share/g/' 00", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-2", 7,
              0x8f);
    TV_REJECT(&c, "82 11 00 01 00 00 0b '$share/g+/a' 00", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-2", 7,
              0x8f);
    TV_REJECT(&c, "82 10 00 01 00 00 0a '$share/#/a' 00", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-2", 7,
              0x8f);
    TV_REJECT(&c, "82 11 00 01 00 00 0b '$share/g/a+' 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2", 7,
              0x8f);
}

Test(codec_subscribe, ill_formed_filter_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 07 00 01 00 02 c0 af 00", MQTT_ERR_MALFORMED, "MQTT-1.5.3-1", 6, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "82 08 00 01 00 00 02 'a' 00 00", MQTT_ERR_MALFORMED, "MQTT-1.5.4-2", 7, 0x81);
}

Test(codec_subscribe, missing_options_byte_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 07 00 01 00 03 'a/b'", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 9, 0x81);
}

Test(codec_subscribe, packet_id_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "82 06 00 00 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-2.3.1-1", 2, 0x82);
    c = TV_C5;
    TV_REJECT(&c, "82 07 00 00 00 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1-3", 2, 0x82);
}

Test(codec_subscribe, subscription_identifier_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 09 00 01 02 0b 00 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-3.8.2.1.2", 5,
              0x82);
}

Test(codec_subscribe, two_subscription_identifiers_are_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 0b 00 01 04 0b 01 0b 02 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-3.8.2.1.2",
              7, 0x82);
}

Test(codec_subscribe, subscription_identifier_of_five_bytes_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 0d 00 01 06 0b ff ff ff ff 01 00 01 'a' 00", MQTT_ERR_MALFORMED,
              "MQTT-1.5.5", 6, 0x81);
}

Test(codec_subscribe, publish_property_in_subscribe_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "82 09 00 01 02 01 01 00 01 'a' 00", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 5,
              0x81);
}

Test(codec_subscribe, more_filters_than_the_caller_array_is_a_limit)
{
    mqtt_codec c = TV_C311;
    mqtt_subscription one[1];
    c.subscriptions = one;
    c.subscriptions_cap = 1;
    TV_DECODE_OK(&c, "82 06 00 01 00 01 'a' 00");
    TV_REJECT(&c, "82 0a 00 01 00 01 'a' 00 00 01 'b' 00", MQTT_ERR_LIMIT, "LIMIT-subscriptions",
              8, 0x83);
}

/* ---- SUBACK ---------------------------------------------------------------- */

Test(codec_suback, return_codes_311_decode)
{
    mqtt_codec c = TV_S311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "90 04 00 01 02 02"); /* mosquitto */
    cr_assert_eq(p->suback.packet_id, 1);
    cr_assert_eq(p->suback.reason_codes.len, 2);
    p = TV_DECODE_OK(&c, "90 06 00 09 00 01 02 80");
    cr_assert_eq(p->suback.reason_codes.ptr[3], 0x80);
}

Test(codec_suback, failure_code_is_new_in_311)
{
    /* MQTT 3.1 SUBACK carries granted QoS only; 0x80 arrived with 3.1.1. */
    mqtt_codec c = TV_S31;
    TV_DECODE_OK(&c, "90 05 00 01 00 01 02");
    TV_REJECT(&c, "90 03 00 01 80", MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2", 4, 0x82);
}

Test(codec_suback, reserved_return_code_is_a_protocol_error_in_311)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "90 04 00 01 00 03", MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2", 5, 0x82);
    TV_REJECT(&c, "90 03 00 01 81", MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2", 4, 0x82);
}

Test(codec_suback, empty_payload_is_a_protocol_error)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "90 02 00 01", MQTT_ERR_PROTOCOL, "MQTT-3.9.3", 4, 0x82);
    c = TV_S5;
    TV_REJECT(&c, "90 03 00 01 00", MQTT_ERR_PROTOCOL, "MQTT-3.9.3", 5, 0x82);
}

Test(codec_suback, packet_id_0_is_a_protocol_error)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "90 03 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.3.1", 2, 0x82);
}

Test(codec_suback, reason_string_5_decodes)
{
    mqtt_codec c = TV_S5;
    TV_DECODE_OK(&c, "90 05 00 01 00 02 02"); /* mosquitto */
    const mqtt_packet *p = TV_DECODE_OK(&c, "90 08 00 01 04 1f 00 01 'x' 87");
    cr_assert(tv_eq(p->suback.properties.reason_string, "x"));
    cr_assert_eq(p->suback.reason_codes.ptr[0], 0x87);
    TV_REJECT(&c, "90 0c 00 01 08 1f 00 01 'a' 1f 00 01 'b' 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.9.2.1.2", 9, 0x82);
}

/* Subscribe Reason Codes, 5.0 Table 3-8. */
static bool suback_code(unsigned rc)
{
    static const uint8_t ok[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
    for (size_t i = 0; i < sizeof ok; i++)
        if (ok[i] == rc) return true;
    return false;
}

Test(codec_suback, only_subscribe_reason_codes_are_accepted_in_5)
{
    mqtt_codec c = TV_S5;
    char hex[32];
    for (unsigned rc = 0; rc < 256; rc++) {
        snprintf(hex, sizeof hex, "90 05 00 01 00 00 %02x", rc);
        if (suback_code(rc))
            cr_assert_eq(TV_DECODE_OK(&c, hex)->suback.reason_codes.ptr[1], rc);
        else
            TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-3.9.3-2", 6, 0x82);
    }
}
