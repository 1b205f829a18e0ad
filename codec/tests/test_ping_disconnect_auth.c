/*
 * PINGREQ, PINGRESP (3.12, 3.13), DISCONNECT (3.14) and AUTH (3.15, 5.0 only):
 * empty bodies in 3.x, the omitted reason code forms of 5.0, who may send
 * which Disconnect Reason Code (Table 3-10, MQTT-3.14.2-1), the Session Expiry
 * Interval a server may not send (MQTT-3.14.2-2), and the Authenticate Reason
 * Codes (MQTT-3.15.2-1) with the Authentication Method AUTH needs.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "vectors.h"

Test(codec_ping, pingreq_and_pingresp_decode_in_every_version)
{
    mqtt_version vs[] = {MQTT_V31, MQTT_V311, MQTT_V5};
    for (int i = 0; i < 3; i++) {
        mqtt_codec c = tv_codec(vs[i], MQTT_FROM_CLIENT);
        cr_assert_eq(TV_DECODE_OK(&c, "c0 00")->type, MQTT_PINGREQ);
        c = tv_codec(vs[i], MQTT_FROM_SERVER);
        cr_assert_eq(TV_DECODE_OK(&c, "d0 00")->type, MQTT_PINGRESP);
    }
}

Test(codec_ping, pingresp_with_a_body_is_malformed)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "d0 02 00 00", MQTT_ERR_MALFORMED, "MQTT-3.13.1", 2, 0x81);
}

/* ---- DISCONNECT ------------------------------------------------------------ */

Test(codec_disconnect, empty_disconnect_decodes_in_every_version)
{
    mqtt_codec c = TV_C31;
    TV_DECODE_OK(&c, "e0 00");
    c = TV_C311;
    cr_assert_eq(TV_DECODE_OK(&c, "e0 00")->disconnect.reason_code, 0);
    c = TV_C5;
    TV_DECODE_OK(&c, "e0 00");
}

Test(codec_disconnect, disconnect_with_a_body_is_malformed_in_311)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "e0 01 00", MQTT_ERR_MALFORMED, "MQTT-3.14.1", 2, 0x81);
}

Test(codec_disconnect, reason_and_properties_5_decode)
{
    mqtt_codec c = TV_C5;
    /* mosquitto_sub -V 5 ending with a Will: 0x04. */
    cr_assert_eq(TV_DECODE_OK(&c, "e0 01 04")->disconnect.reason_code, 4);
    /* mosquitto_pub -D disconnect reason-string bye */
    const mqtt_packet *p = TV_DECODE_OK(&c, "e0 08 00 06 1f 00 03 'bye'");
    cr_assert(tv_eq(p->disconnect.properties.reason_string, "bye"));
    TV_DECODE_CANON(&c, "e0 01 00", "e0 00");
    TV_DECODE_CANON(&c, "e0 02 00 00", "e0 00");
    p = TV_DECODE_OK(&c, "e0 07 00 05 11 00 00 00 0a");
    cr_assert_eq(p->disconnect.properties.session_expiry_interval, 10);
    c = TV_S5;
    p = TV_DECODE_OK(&c, "e0 08 9c 06 1c 00 03 'b:1'");
    cr_assert(tv_eq(p->disconnect.properties.server_reference, "b:1"));
}

/* Disconnect Reason Codes (5.0 Table 3-10): sent by the client (1), the server (2). */
static int disconnect_senders(unsigned rc)
{
    switch (rc) {
    case 0x00: case 0x80: case 0x81: case 0x82: case 0x83: case 0x8C: case 0x90: case 0x93:
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x98: case 0x99:
        return 3;
    case 0x04:
        return 1;
    case 0x87: case 0x89: case 0x8B: case 0x8D: case 0x8E: case 0x8F: case 0x9A: case 0x9B:
    case 0x9C: case 0x9D: case 0x9E: case 0x9F: case 0xA0: case 0xA1: case 0xA2:
        return 2;
    default:
        return 0;
    }
}

Test(codec_disconnect, only_disconnect_reason_codes_of_the_sender_are_accepted)
{
    char hex[16];
    for (unsigned rc = 1; rc < 256; rc++) {
        snprintf(hex, sizeof hex, "e0 01 %02x", rc);
        for (int side = 1; side <= 2; side++) {
            mqtt_codec c = tv_codec(MQTT_V5, side == 1 ? MQTT_FROM_CLIENT : MQTT_FROM_SERVER);
            if (disconnect_senders(rc) & side)
                cr_assert_eq(TV_DECODE_OK(&c, hex)->disconnect.reason_code, rc);
            else
                TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-3.14.2-1", 2, 0x82);
        }
    }
}

Test(codec_disconnect, session_expiry_from_the_server_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "e0 07 00 05 11 00 00 00 0a", MQTT_ERR_PROTOCOL, "MQTT-3.14.2-2", 4, 0x82);
}

Test(codec_disconnect, connect_property_in_disconnect_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "e0 05 00 03 21 00 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 4, 0x81);
}

Test(codec_disconnect, reason_string_twice_is_a_protocol_error)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "e0 0a 00 08 1f 00 01 'a' 1f 00 01 'b'", MQTT_ERR_PROTOCOL, "MQTT-3.14.2.2.3",
              8, 0x82);
}

/* ---- AUTH ------------------------------------------------------------------- */

Test(codec_auth, success_without_body_decodes)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "f0 00");
    cr_assert_eq(p->type, MQTT_AUTH);
    cr_assert_eq(p->disconnect.reason_code, 0);
    c = TV_C5;
    TV_DECODE_OK(&c, "f0 00");
}

Test(codec_auth, continue_with_method_and_data_decodes)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "f0 10 18 0e 15 00 05 'SCRAM' 16 00 03 01 02 03");
    cr_assert_eq(p->disconnect.reason_code, 0x18);
    cr_assert(tv_eq(p->disconnect.properties.authentication_method, "SCRAM"));
    cr_assert_eq(p->disconnect.properties.authentication_data.len, 3);
    c = TV_C5;
    p = TV_DECODE_OK(&c, "f0 09 19 07 15 00 04 'PLAN'");
    cr_assert_eq(p->disconnect.reason_code, 0x19);
    TV_DECODE_OK(&c, "f0 12 18 10 15 00 01 'M' 1f 00 02 'ok' 26 00 01 'k' 00 01 'v'");
}

Test(codec_auth, reauthenticate_from_the_server_is_a_protocol_error)
{
    /* 0x19 Re-authenticate is sent by the Client only (Table 3-11). */
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "f0 09 19 07 15 00 04 'PLAN'", MQTT_ERR_PROTOCOL, "MQTT-3.15.2-1", 2, 0x82);
}

Test(codec_auth, other_reason_codes_are_protocol_errors)
{
    mqtt_codec c = TV_C5;
    char hex[32];
    for (unsigned rc = 1; rc < 256; rc++) {
        if (rc == 0x18 || rc == 0x19) continue;
        snprintf(hex, sizeof hex, "f0 06 %02x 04 15 00 01 'M'", rc);
        TV_REJECT(&c, hex, MQTT_ERR_PROTOCOL, "MQTT-3.15.2-1", 2, 0x82);
    }
}

Test(codec_auth, missing_authentication_method_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "f0 01 18", MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.2", 3, 0x82);
    TV_REJECT(&c, "f0 02 18 00", MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.2", 3, 0x82);
    TV_REJECT(&c, "f0 06 18 04 16 00 01 'x'", MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.3", 3, 0x82);
}

Test(codec_auth, method_twice_is_a_protocol_error)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "f0 0a 18 08 15 00 01 'a' 15 00 01 'b'", MQTT_ERR_PROTOCOL, "MQTT-3.15.2.2.2",
              8, 0x82);
}

Test(codec_auth, session_expiry_in_auth_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "f0 0b 18 09 15 00 01 'M' 11 00 00 00 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2",
              8, 0x81);
}
