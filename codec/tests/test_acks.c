/*
 * PUBACK, PUBREC, PUBREL, PUBCOMP (sections 3.4 to 3.7): the fixed remaining
 * length of 2 in 3.1 / 3.1.1, packet identifier 0, and in 5.0 the reason codes
 * each may carry (MQTT-3.4.2-1, -3.5.2-1, -3.6.2-1, -3.7.2-1), the omitted
 * reason code / property length forms, and their properties.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "vectors.h"

static const uint8_t first_byte[4] = {0x40, 0x50, 0x62, 0x70};
static const char *const fixed_rule[4] = {"MQTT-3.4.1", "MQTT-3.5.1", "MQTT-3.6.1", "MQTT-3.7.1"};
static const char *const reason_rule[4] = {"MQTT-3.4.2-1", "MQTT-3.5.2-1", "MQTT-3.6.2-1",
                                           "MQTT-3.7.2-1"};
static const char *const reason_string_rule[4] = {"MQTT-3.4.2.2.2", "MQTT-3.5.2.2.2",
                                                  "MQTT-3.6.2.2.2", "MQTT-3.7.2.2.2"};

Test(codec_acks, every_ack_311_decodes_from_both_sides)
{
    char hex[32];
    for (int i = 0; i < 4; i++) {
        snprintf(hex, sizeof hex, "%02x 02 12 34", first_byte[i]);
        mqtt_codec c = TV_C311;
        const mqtt_packet *p = TV_DECODE_OK(&c, hex);
        cr_assert_eq(p->type, (mqtt_packet_type)(MQTT_PUBACK + i));
        cr_assert_eq(p->ack.packet_id, 0x1234);
        cr_assert_eq(p->ack.reason_code, 0);
        c = TV_S31;
        TV_DECODE_OK(&c, hex);
    }
}

Test(codec_acks, remaining_length_other_than_2_is_malformed_in_311)
{
    char hex[32];
    for (int i = 0; i < 4; i++) {
        mqtt_codec c = TV_C311;
        snprintf(hex, sizeof hex, "%02x 03 00 01 00", first_byte[i]);
        TV_REJECT(&c, hex, MQTT_ERR_MALFORMED, fixed_rule[i], 1, 0x81);
        snprintf(hex, sizeof hex, "%02x 00", first_byte[i]);
        TV_REJECT(&c, hex, MQTT_ERR_MALFORMED, fixed_rule[i], 1, 0x81);
        c = TV_S31;
        snprintf(hex, sizeof hex, "%02x 04 00 01 00 00", first_byte[i]);
        TV_REJECT(&c, hex, MQTT_ERR_MALFORMED, fixed_rule[i], 1, 0x81);
    }
}

Test(codec_acks, packet_id_0_is_a_protocol_error)
{
    char hex[32];
    for (int i = 0; i < 4; i++) {
        snprintf(hex, sizeof hex, "%02x 02 00 00", first_byte[i]);
        mqtt_codec c = TV_C311;
        TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-2.3.1", 2, 0x82);
        c = TV_S5;
        TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 2, 0x82);
    }
}

Test(codec_acks, short_forms_5_decode_and_re_encode_shortest)
{
    /* Reason Code and Property Length may be omitted (3.4.2.1 and siblings). */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "40 02 00 01");
    cr_assert_eq(p->ack.reason_code, 0);
    p = TV_DECODE_OK(&c, "40 03 00 01 10");
    cr_assert_eq(p->ack.reason_code, 0x10);
    TV_DECODE_CANON(&c, "40 03 00 01 00", "40 02 00 01");
    TV_DECODE_CANON(&c, "40 04 00 01 00 00", "40 02 00 01");
    TV_DECODE_CANON(&c, "50 04 00 01 10 00", "50 03 00 01 10");
    TV_DECODE_CANON(&c, "62 03 00 01 00", "62 02 00 01");
    p = TV_DECODE_OK(&c, "62 03 00 01 92");
    cr_assert_eq(p->ack.reason_code, 0x92);
    c = TV_S5;
    TV_DECODE_OK(&c, "70 03 00 01 92");
    TV_DECODE_CANON(&c, "70 04 00 07 00 00", "70 02 00 07");
}

Test(codec_acks, properties_5_decode)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "40 08 00 01 80 04 1f 00 01 'x'");
    cr_assert_eq(p->ack.reason_code, 0x80);
    cr_assert(tv_eq(p->ack.properties.reason_string, "x"));
    /* Success with a property keeps its reason code byte. */
    p = TV_DECODE_OK(&c, "50 0b 00 01 00 07 26 00 01 'k' 00 01 'v'");
    cr_assert_eq(p->ack.properties.user_property_count, 1);
    c = TV_C5;
    TV_DECODE_OK(&c, "62 0f 00 02 92 0b 1f 00 02 'nf' 26 00 01 'a' 00 00");
    TV_DECODE_OK(&c, "70 08 00 02 00 04 1f 00 01 'y'");
}

/* Reason codes of 5.0 Tables 3-4 (PUBACK), 3-5 (PUBREC), 3-6 (PUBREL), 3-7 (PUBCOMP). */
static bool ack_code(int i, unsigned rc)
{
    static const uint8_t pub[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
    if (i >= 2) return rc == 0x00 || rc == 0x92;
    for (size_t k = 0; k < sizeof pub; k++)
        if (pub[k] == rc) return true;
    return false;
}

Test(codec_acks, only_the_reason_codes_of_each_ack_are_accepted)
{
    char hex[32];
    for (int i = 0; i < 4; i++) {
        for (unsigned rc = 0; rc < 256; rc++) {
            snprintf(hex, sizeof hex, "%02x 03 00 01 %02x", first_byte[i], rc);
            for (int side = 0; side < 2; side++) {
                mqtt_codec c = tv_codec(MQTT_V5, side ? MQTT_FROM_SERVER : MQTT_FROM_CLIENT);
                if (ack_code(i, rc)) {
                    const mqtt_packet *p = rc ? TV_DECODE_OK(&c, hex) : NULL;
                    if (p) cr_assert_eq(p->ack.reason_code, rc);
                } else {
                    TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, reason_rule[i], 4, 0x82);
                }
            }
        }
    }
}

Test(codec_acks, property_not_allowed_in_an_ack_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "40 06 00 01 00 02 01 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 6, 0x81);
    TV_REJECT(&c, "62 07 00 01 00 03 23 00 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 6, 0x81);
}

Test(codec_acks, reason_string_twice_is_a_protocol_error)
{
    char hex[96];
    for (int i = 0; i < 4; i++) {
        mqtt_codec c = TV_S5;
        snprintf(hex, sizeof hex, "%02x 0c 00 01 00 08 1f 00 01 'a' 1f 00 01 'b'", first_byte[i]);
        TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, reason_string_rule[i], 10, 0x82);
    }
}

Test(codec_acks, property_length_past_the_packet_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "40 04 00 01 00 05", MQTT_ERR_MALFORMED, "MQTT-2.2.2.1", 5, 0x81);
}

Test(codec_acks, bytes_after_the_properties_are_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "40 05 00 01 00 00 ff", MQTT_ERR_MALFORMED, "MQTT-2.2.2.1", 6, 0x81);
}
