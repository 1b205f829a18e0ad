/*
 * Fixed header: packet type, the reserved flag bits of every type (MQTT 3.1.1
 * section 2.2.2, 5.0 section 2.1.3), the Remaining Length (at most four bytes;
 * minimal in 5.0, MQTT-1.5.5-1), incremental framing, which side may send
 * which packet, and the decoder's limits (max_packet_size -> 0x95).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

/* A valid packet of each type with its correct flags, and who sends it. */
typedef struct {
    const char *hex;      /* valid packet; its first byte has the right flags */
    mqtt_side from;
    const char *rule311;  /* rule for wrong flags in 3.1 / 3.1.1 */
    const char *rule5;    /* rule for wrong flags in 5.0 */
} typed_vector;

static const typed_vector typed[] = {
    {"10 0c 00 04 'MQTT' 04 02 00 3c 00 00", MQTT_FROM_CLIENT, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"20 02 00 00", MQTT_FROM_SERVER, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"40 02 00 01", MQTT_FROM_CLIENT, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"50 02 00 01", MQTT_FROM_CLIENT, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"62 02 00 01", MQTT_FROM_CLIENT, "MQTT-3.6.1-1", "MQTT-3.6.1-1"},
    {"70 02 00 01", MQTT_FROM_CLIENT, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"82 06 00 01 00 01 'a' 00", MQTT_FROM_CLIENT, "MQTT-3.8.1-1", "MQTT-3.8.1-1"},
    {"90 03 00 01 00", MQTT_FROM_SERVER, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"a2 05 00 01 00 01 'a'", MQTT_FROM_CLIENT, "MQTT-3.10.1-1", "MQTT-3.10.1-1"},
    {"b0 02 00 01", MQTT_FROM_SERVER, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"c0 00", MQTT_FROM_CLIENT, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"d0 00", MQTT_FROM_SERVER, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {"e0 00", MQTT_FROM_CLIENT, "MQTT-3.14.1-1", "MQTT-3.14.1-1"},
};

/* The 5.0 forms of the same packets (acks keep the short form). */
static const char *typed5[] = {
    "10 0d 00 04 'MQTT' 05 02 00 3c 00 00 00",
    "20 03 00 00 00",
    "40 02 00 01",
    "50 02 00 01",
    "62 02 00 01",
    "70 02 00 01",
    "82 07 00 01 00 00 01 'a' 00",
    "90 04 00 01 00 00",
    "a2 06 00 01 00 00 01 'a'",
    "b0 04 00 01 00 00",
    "c0 00",
    "d0 00",
    "e0 00",
};

static void check_every_wrong_flag(mqtt_version v, const char *hex, mqtt_side from,
                                   const char *rule)
{
    uint8_t b[64];
    size_t n = tv_hex(hex, b, sizeof b);
    mqtt_codec c = tv_codec(v, from);
    uint8_t good = b[0] & 0x0F;
    for (uint8_t f = 0; f < 16; f++) {
        if (f == good) continue;
        b[0] = (uint8_t)((b[0] & 0xF0) | f);
        TV_REJECT_BYTES(&c, b, n, MQTT_ERR_MALFORMED, rule, 0, 0x81);
    }
}

Test(codec_fixed_header, every_type_decodes_with_its_flags_in_311)
{
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        mqtt_codec c = tv_codec(MQTT_V311, typed[i].from);
        TV_DECODE_OK(&c, typed[i].hex);
    }
}

Test(codec_fixed_header, every_type_decodes_with_its_flags_in_31)
{
    for (size_t i = 1; i < sizeof typed / sizeof typed[0]; i++) {
        mqtt_codec c = tv_codec(MQTT_V31, typed[i].from);
        TV_DECODE_OK(&c, typed[i].hex);
    }
}

Test(codec_fixed_header, every_type_decodes_with_its_flags_in_5)
{
    for (size_t i = 0; i < sizeof typed5 / sizeof typed5[0]; i++) {
        mqtt_codec c = tv_codec(MQTT_V5, typed[i].from);
        TV_DECODE_OK(&c, typed5[i]);
    }
    mqtt_codec c = TV_C5;
    TV_DECODE_OK(&c, "f0 00");
}

Test(codec_fixed_header, reserved_flags_of_every_type_are_malformed_in_311)
{
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++)
        check_every_wrong_flag(MQTT_V311, typed[i].hex, typed[i].from, typed[i].rule311);
}

Test(codec_fixed_header, reserved_flags_of_every_type_are_malformed_in_31)
{
    for (size_t i = 1; i < sizeof typed / sizeof typed[0]; i++)
        check_every_wrong_flag(MQTT_V31, typed[i].hex, typed[i].from, typed[i].rule311);
}

Test(codec_fixed_header, reserved_flags_of_every_type_are_malformed_in_5)
{
    for (size_t i = 0; i < sizeof typed5 / sizeof typed5[0]; i++)
        check_every_wrong_flag(MQTT_V5, typed5[i], typed[i].from, typed[i].rule5);
    check_every_wrong_flag(MQTT_V5, "f0 00", MQTT_FROM_CLIENT, "MQTT-3.15.1-1");
}

Test(codec_fixed_header, type_0_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "00 00", MQTT_ERR_MALFORMED, "MQTT-2.2.1", 0, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "00 00", MQTT_ERR_MALFORMED, "MQTT-2.1.2", 0, 0x81);
}

Test(codec_fixed_header, auth_is_malformed_before_5)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "f0 00", MQTT_ERR_MALFORMED, "MQTT-2.2.1", 0, 0x81);
    c = TV_S31;
    TV_REJECT(&c, "f0 00", MQTT_ERR_MALFORMED, "MQTT-2.2.1", 0, 0x81);
}

Test(codec_fixed_header, empty_buffer_needs_more)
{
    mqtt_codec c = TV_C311;
    mqtt_packet p;
    memset(&p, 0xEE, sizeof p);
    cr_assert_eq(mqtt_decode(&c, NULL, 0, &p, NULL), MQTT_NEED_MORE);
    cr_assert_eq(p.length, 0);
}

Test(codec_fixed_header, partial_remaining_length_needs_more_with_length_0)
{
    mqtt_codec c = TV_C311;
    uint8_t b[] = {0x30, 0xff, 0xff};
    mqtt_packet p;
    cr_assert_eq(mqtt_decode(&c, b, sizeof b, &p, NULL), MQTT_NEED_MORE);
    cr_assert_eq(p.length, 0);
}

Test(codec_fixed_header, largest_remaining_length_needs_more_with_whole_length)
{
    /* 0xFF 0xFF 0xFF 0x7F = 268,435,455, the largest 4-byte value (1.5.5 / 2.2.3). */
    mqtt_codec c = TV_C311;
    uint8_t b[] = {0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 'a'};
    mqtt_packet p;
    mqtt_error e;
    cr_assert_eq(mqtt_decode(&c, b, sizeof b, &p, &e), MQTT_NEED_MORE);
    cr_assert_eq(p.length, (size_t)268435455 + 5);
}

Test(codec_fixed_header, remaining_length_of_five_bytes_is_malformed_in_311)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "30 ff ff ff ff 01", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 1, 0x81);
    TV_REJECT(&c, "30 80 80 80 80 00", MQTT_ERR_MALFORMED, "MQTT-2.2.3", 1, 0x81);
}

Test(codec_fixed_header, remaining_length_of_five_bytes_is_malformed_in_5)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 ff ff ff ff 01", MQTT_ERR_MALFORMED, "MQTT-1.5.5", 1, 0x81);
}

Test(codec_fixed_header, non_minimal_remaining_length_is_accepted_in_311)
{
    /* 3.1.1 does not require the shortest form; the encoder writes it. */
    mqtt_codec c = TV_C311;
    TV_DECODE_CANON(&c, "c0 80 00", "c0 00");
    TV_DECODE_CANON(&c, "c0 80 80 80 00", "c0 00");
    TV_DECODE_CANON(&c, "40 82 00 00 01", "40 02 00 01");
}

Test(codec_fixed_header, non_minimal_remaining_length_is_malformed_in_5)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "c0 80 00", MQTT_ERR_MALFORMED, "MQTT-1.5.5-1", 1, 0x81);
    TV_REJECT(&c, "40 82 80 00 00 01", MQTT_ERR_MALFORMED, "MQTT-1.5.5-1", 1, 0x81);
}

Test(codec_fixed_header, two_byte_remaining_length_round_trips)
{
    /* PUBLISH q0, topic "t", 200-byte payload: remaining length 203 = c9 01. */
    uint8_t b[3 + 203];
    b[0] = 0x30;
    b[1] = 0xcb;
    b[2] = 0x01;
    b[3] = 0x00;
    b[4] = 0x01;
    b[5] = 't';
    memset(b + 6, 'x', 200);
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_BYTES_OK(&c, b, 206);
    cr_assert_eq(p->remaining_length, 203);
    cr_assert_eq(p->publish.payload.len, 200);
}

Test(codec_fixed_header, three_byte_remaining_length_round_trips)
{
    /* remaining length 16,384 = 80 80 01, the first 3-byte value. */
    static uint8_t b[4 + 16384];
    b[0] = 0x30;
    b[1] = 0x80;
    b[2] = 0x80;
    b[3] = 0x01;
    b[4] = 0x00;
    b[5] = 0x01;
    b[6] = 't';
    memset(b + 7, 'y', 16384 - 3);
    mqtt_codec c = TV_C5;
    c.max_packet_size = 0;
    /* Too big for the test helper's vectors; checked directly. */
    mqtt_packet p;
    mqtt_error e;
    b[7] = 0x00; /* property length 0 in 5.0 */
    cr_assert_eq(mqtt_decode(&c, b, sizeof b, &p, &e), MQTT_OK);
    cr_assert_eq(p.remaining_length, 16384);
    cr_assert_eq(p.length, sizeof b);
    cr_assert_eq(p.publish.payload.len, 16384 - 4);
    uint8_t out[4 + 16384];
    size_t w = 0;
    cr_assert_eq(mqtt_encode(&c, &p, out, sizeof out, &w, &e), MQTT_OK);
    cr_assert_eq(w, sizeof b);
    cr_assert(memcmp(out, b, sizeof b) == 0);
}

Test(codec_fixed_header, remaining_length_too_short_for_the_body_is_malformed)
{
    /* PUBACK needs its two-byte packet identifier: in 3.1.1 its remaining length is
     * exactly 2 (3.4.1); in 5.0 the identifier runs past the remaining length (2.1.4). */
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "40 01 00", MQTT_ERR_MALFORMED, "MQTT-3.4.1", 1, 0x81);
    c = TV_C5;
    TV_REJECT(&c, "40 01 00", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 2, 0x81);
    TV_REJECT(&c, "30 02 00 05", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 4, 0x81);
}

Test(codec_fixed_header, pingreq_with_a_body_is_malformed)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "c0 01 00", MQTT_ERR_MALFORMED, "MQTT-3.12.1", 2, 0x81);
    c = TV_S5;
    TV_REJECT(&c, "d0 01 00", MQTT_ERR_MALFORMED, "MQTT-3.13.1", 2, 0x81);
}

/* ---- which side sends what ---------------------------------------------- */
/* The direction of flow of each type is in the table of 3.1.1 section 2.2.1 and
 * 5.0 section 2.1.2; neither has a numbered statement for it. */

Test(codec_fixed_header, connack_from_a_client_is_a_protocol_error)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "20 02 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    c = TV_C5;
    TV_REJECT(&c, "20 03 00 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.1.2", 0, 0x82);
}

Test(codec_fixed_header, server_only_packets_from_a_client_are_protocol_errors)
{
    mqtt_codec c = TV_C311;
    TV_REJECT(&c, "90 03 00 01 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    TV_REJECT(&c, "b0 02 00 01", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    TV_REJECT(&c, "d0 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
}

Test(codec_fixed_header, wrong_side_packets_are_protocol_errors_in_5)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "90 04 00 01 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.1.2", 0, 0x82);
    TV_REJECT(&c, "d0 00", MQTT_ERR_PROTOCOL, "MQTT-2.1.2", 0, 0x82);
    c = TV_S5;
    TV_REJECT(&c, "82 07 00 01 00 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-2.1.2", 0, 0x82);
    TV_REJECT(&c, "c0 00", MQTT_ERR_PROTOCOL, "MQTT-2.1.2", 0, 0x82);
    c = TV_S31;
    TV_REJECT(&c, "c0 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
}

Test(codec_fixed_header, client_only_packets_from_a_server_are_protocol_errors)
{
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "10 0c 00 04 'MQTT' 04 02 00 3c 00 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    TV_REJECT(&c, "82 06 00 01 00 01 'a' 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    TV_REJECT(&c, "a2 05 00 01 00 01 'a'", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    TV_REJECT(&c, "c0 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
}

Test(codec_fixed_header, disconnect_from_a_server_is_a_protocol_error_before_5)
{
    /* In 3.1.1 only the Client sends DISCONNECT (3.14). */
    mqtt_codec c = TV_S311;
    TV_REJECT(&c, "e0 00", MQTT_ERR_PROTOCOL, "MQTT-2.2.1", 0, 0x82);
    c = TV_S5;
    TV_DECODE_OK(&c, "e0 00");
}

Test(codec_fixed_header, both_sides_send_publish_and_acks)
{
    const char *both[] = {"30 03 00 01 't'", "40 02 00 01", "50 02 00 01", "62 02 00 01",
                          "70 02 00 01"};
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++) {
        mqtt_codec c = TV_C311;
        TV_DECODE_OK(&c, both[i]);
        c = TV_S311;
        TV_DECODE_OK(&c, both[i]);
    }
}

Test(codec_fixed_header, only_connect_before_the_version_is_known)
{
    mqtt_codec c = tv_codec(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT);
    TV_DECODE_OK(&c, "10 0c 00 04 'MQTT' 04 02 00 3c 00 00");
    TV_REJECT(&c, "c0 00", MQTT_ERR_PROTOCOL, "MQTT-3.1.0-1", 0, 0x82);
    TV_REJECT(&c, "30 03 00 01 't'", MQTT_ERR_PROTOCOL, "MQTT-3.1.0-1", 0, 0x82);
}

/* ---- limits -------------------------------------------------------------- */

Test(codec_fixed_header, packet_over_max_packet_size_is_a_limit_0x95)
{
    mqtt_codec c = TV_C5;
    c.max_packet_size = 10;
    /* 11 bytes: known too big as soon as the fixed header is complete. */
    TV_REJECT(&c, "30 09 00 01 't' 00 'hello'", MQTT_ERR_LIMIT, "MQTT-3.2.2-15", 0, 0x95);
    c = TV_S5;
    c.max_packet_size = 10;
    TV_REJECT(&c, "30 09 00 01 't' 00 'hello'", MQTT_ERR_LIMIT, "MQTT-3.1.2-24", 0, 0x95);
    c = TV_C311;
    c.max_packet_size = 10;
    TV_REJECT(&c, "30 09 00 01 't' 'hello!'", MQTT_ERR_LIMIT, "LIMIT-max-packet-size", 0, 0x95);
}

Test(codec_fixed_header, huge_declared_length_over_the_limit_is_refused_from_the_header)
{
    /* A peer announcing 268 MB is refused after 5 bytes, not buffered. */
    mqtt_codec c = TV_C311;
    c.max_packet_size = 1024;
    mqtt_packet p;
    mqtt_error e;
    uint8_t b[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
    cr_assert_eq(mqtt_decode(&c, b, sizeof b, &p, &e), MQTT_ERR_LIMIT);
    cr_assert_eq(e.reason_code, 0x95);
}

Test(codec_fixed_header, err_may_be_null)
{
    mqtt_codec c = TV_C311;
    uint8_t b[] = {0x36, 0x00};
    mqtt_packet p;
    cr_assert_eq(mqtt_decode(&c, b, sizeof b, &p, NULL), MQTT_ERR_MALFORMED);
}

Test(codec_fixed_header, back_to_back_packets_decode_one_at_a_time)
{
    /* A QoS 1 PUBLISH, a PINGREQ and a DISCONNECT in one buffer (3.1.1). */
    uint8_t b[32];
    size_t n = tv_hex("32 08 00 03 'a/b' 00 0a 'x' c0 00 e0 00", b, sizeof b);
    mqtt_codec c = TV_C311;
    mqtt_packet p;
    mqtt_error e;
    size_t at = 0;
    mqtt_packet_type seen[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mqtt_decode(&c, b + at, n - at, &p, &e), MQTT_OK);
        seen[i] = p.type;
        at += p.length;
    }
    cr_assert_eq(at, n);
    cr_assert_eq(seen[0], MQTT_PUBLISH);
    cr_assert_eq(seen[1], MQTT_PINGREQ);
    cr_assert_eq(seen[2], MQTT_DISCONNECT);
}

/* A prefix that already holds a broken field is rejected at once: the decoder
 * does not ask for more bytes of a packet that can no longer be valid. */
static void early(const mqtt_codec *c, const char *hex, mqtt_status st, const char *rule)
{
    uint8_t b[64];
    size_t n = tv_hex(hex, b, sizeof b);
    mqtt_packet p;
    mqtt_error e;
    mqtt_status got = mqtt_decode(c, tv_at_guard(b, n), n, &p, &e);
    cr_assert_eq(got, st, "%s: %s", hex, mqtt_status_name(got));
    cr_assert_str_eq(e.rule, rule, "%s", hex);
}

Test(codec_fixed_header, broken_prefixes_are_rejected_without_waiting_for_the_rest)
{
    mqtt_codec c = TV_C311;
    early(&c, "60", MQTT_ERR_MALFORMED, "MQTT-3.6.1-1");            /* 1 byte of a PUBREL */
    early(&c, "36 07", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4");         /* 2 of 9 bytes */
    early(&c, "30 80 80 80 80", MQTT_ERR_MALFORMED, "MQTT-2.2.3");  /* 5th length byte announced */
    early(&c, "10 0c 00 04 'MQTT' 04 03", MQTT_ERR_MALFORMED, "MQTT-3.1.2-3"); /* 10 of 14 */
    early(&c, "30 0c 00 03 'a/+'", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-2");          /* 7 of 14 */
    early(&c, "82 0e 00 01 00 03 'a/b' 03", MQTT_ERR_MALFORMED, "MQTT-3.8.3-4"); /* 10 of 16 */
    c = TV_C5;
    early(&c, "20", MQTT_ERR_PROTOCOL, "MQTT-2.1.2");               /* CONNACK from a client */
    early(&c, "82 0e 00 01 00 00 03 'a/b' 40", MQTT_ERR_MALFORMED, "MQTT-3.8.3-5");
    early(&c, "30 0c 00 01 't' 03 23 00 00", MQTT_ERR_PROTOCOL, "MQTT-3.3.2-8");
}
