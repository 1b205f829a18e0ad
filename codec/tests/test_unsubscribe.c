/*
 * UNSUBSCRIBE and UNSUBACK (sections 3.10 and 3.11): topic filters, empty
 * payloads (MQTT-3.10.3-2), the fixed 3.1.1 UNSUBACK (remaining length 2, no
 * payload) and the 5.0 Unsubscribe Reason Codes (MQTT-3.11.3-2).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "vectors.h"

Test(codec_unsubscribe, one_and_two_filters_311_decode)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "a2 07 00 01 00 03 'a/b'");
    cr_assert_eq(p->type, MQTT_UNSUBSCRIBE);
    cr_assert_eq(p->subscribe.count, 1);
    cr_assert(tv_eq(p->subscribe.subscriptions[0].topic_filter, "a/b"));
    p = TV_DECODE_OK(&c, "a2 0c 00 02 00 03 'a/b' 00 03 'c/#'");
    cr_assert_eq(p->subscribe.count, 2);
    c = TV_C31;
    TV_DECODE_OK(&c, "a2 0c 00 02 00 03 'a/b' 00 03 'c/#'");
}

Test(codec_unsubscribe, filters_5_decode)
{
    /* mosquitto_sub -V 5 -U c */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "a2 06 00 02 00 00 01 'c'");
    cr_assert_eq(p->subscribe.packet_id, 2);
    p = TV_DECODE_OK(&c, "a2 0d 00 02 07 26 00 01 'k' 00 01 'v' 00 01 'c'");
    cr_assert_eq(p->subscribe.properties.user_property_count, 1);
    TV_DECODE_OK(&c, "a2 0f 00 02 00 00 0a '$share/g/#'");
}

Test(codec_unsubscribe, empty_payload_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "a2 02 00 01", MQTT_ERR_PROTOCOL, "MQTT-3.10.3-2", 4, 0x82);
    c = TV_C5;
    TV_REJECT(&c, "a2 03 00 01 00", MQTT_ERR_PROTOCOL, "MQTT-3.10.3-2", 5, 0x82);
}

Test(codec_unsubscribe, bad_filters_are_rejected)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "a2 06 00 01 00 02 'a#'", MQTT_ERR_PROTOCOL, "MQTT-4.7.1-2", 6, 0x8f);
    TV_REJECT(&c, "a2 04 00 01 00 00", MQTT_ERR_PROTOCOL, "MQTT-4.7.3-1", 6, 0x82);
    TV_REJECT(&c, "a2 05 00 01 00 01 00", MQTT_ERR_MALFORMED, "MQTT-1.5.3-2", 6, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "a2 0c 00 01 00 00 07 '$share/'", MQTT_ERR_PROTOCOL, "MQTT-4.8.2-1", 7, 0x8f);
}

Test(codec_unsubscribe, packet_id_0_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "a2 05 00 00 00 01 'a'", MQTT_ERR_PROTOCOL, "MQTT-2.3.1-1", 2, 0x82);
}

Test(codec_unsubscribe, subscription_identifier_in_unsubscribe_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "a2 08 00 01 02 0b 01 00 01 'a'", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 5, 0x81);
}

Test(codec_unsubscribe, filter_past_the_end_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "a2 05 00 01 00 05 'a'", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 6, 0x81);
}

Test(codec_unsubscribe, more_filters_than_the_caller_array_is_a_limit)
{
    mqtt_codec c = TV_C311;
    c.subscriptions = NULL;
    c.subscriptions_cap = 0;
    TV_REJECT(&c, "a2 05 00 01 00 01 'a'", MQTT_ERR_LIMIT, "LIMIT-subscriptions", 4, 0x83);
}

/* ---- UNSUBACK -------------------------------------------------------------- */

Test(codec_unsuback, unsuback_311_decodes)
{
    mqtt_codec c = TV_S311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "b0 02 00 05");
    cr_assert_eq(p->suback.packet_id, 5);
    cr_assert_eq(p->suback.reason_codes.len, 0);
    c = TV_S31;
    TV_DECODE_OK(&c, "b0 02 00 05");
}

Test(codec_unsuback, remaining_length_other_than_2_is_malformed_in_311)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "b0 03 00 01 00", MQTT_ERR_MALFORMED, "MQTT-3.11.1", 1, 0x81);
    TV_REJECT(&c, "b0 01 00", MQTT_ERR_MALFORMED, "MQTT-3.11.1", 1, 0x81);
}

Test(codec_unsuback, unsuback_5_decodes)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "b0 04 00 02 00 00"); /* mosquitto */
    cr_assert_eq(p->suback.reason_codes.len, 1);
    p = TV_DECODE_OK(&c, "b0 09 00 02 04 1f 00 01 'x' 11 8f");
    cr_assert_eq(p->suback.reason_codes.ptr[1], 0x8f);
    TV_REJECT(&c, "b0 0c 00 01 08 1f 00 01 'a' 1f 00 01 'b' 00", MQTT_ERR_PROTOCOL,
              "MQTT-3.11.2.1.2", 9, 0x82);
}

Test(codec_unsuback, empty_payload_is_a_protocol_error_in_5)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "b0 03 00 01 00", MQTT_ERR_PROTOCOL, "MQTT-3.11.3", 5, 0x82);
}

/* Unsubscribe Reason Codes, 5.0 Table 3-9. */
static bool unsuback_code(unsigned rc)
{
    static const uint8_t ok[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
    for (size_t i = 0; i < sizeof ok; i++)
        if (ok[i] == rc) return true;
    return false;
}

Test(codec_unsuback, only_unsubscribe_reason_codes_are_accepted_in_5)
{
    mqtt_codec c = TV_S5;
    char hex[32];
    for (unsigned rc = 0; rc < 256; rc++) {
        snprintf(hex, sizeof hex, "b0 04 00 01 00 %02x", rc);
        if (unsuback_code(rc))
            cr_assert_eq(TV_DECODE_OK(&c, hex)->suback.reason_codes.ptr[0], rc);
        else
            TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-3.11.3-2", 5, 0x82);
    }
}
