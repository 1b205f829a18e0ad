/*
 * mqtt_peek_header: the fixed header alone (type, flags, Remaining Length,
 * sizes) for framing a stream, whatever the packet's body holds. Checks the
 * Remaining Length as the decoder does (at most four bytes: MQTT-2.2.3 in
 * 3.1.1, MQTT-1.5.5 in 5.0; shortest form in 5.0 only, MQTT-1.5.5-1, a MUST),
 * answers "need more" on every proper prefix of the header, and agrees with
 * mqtt_decode on the size of every packet the decoder frames.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <mqtt/mqtt.h>

static mqtt_status peek(mqtt_version v, const uint8_t *b, size_t n, mqtt_header *h, mqtt_error *e)
{
    memset(e, 0, sizeof *e);
    return mqtt_peek_header(v, b, n, h, e);
}

Test(codec_peek, sizes_of_a_whole_and_a_partial_packet)
{
    /* PUBLISH QoS 1, remaining length 321 (two bytes: c1 02), only 4 bytes given. */
    const uint8_t b[] = {0x32, 0xc1, 0x02, 0x00};
    mqtt_header h;
    mqtt_error e;
    cr_assert_eq(peek(MQTT_V311, b, sizeof b, &h, &e), MQTT_OK);
    cr_assert_eq(h.type, MQTT_PUBLISH);
    cr_assert_eq(h.flags, 0x2);
    cr_assert_eq(h.remaining_length, 321);
    cr_assert_eq(h.header_length, 3);
    cr_assert_eq(h.length, 324);
}

Test(codec_peek, every_proper_prefix_of_the_header_needs_more)
{
    const uint8_t b[] = {0x10, 0xff, 0xff, 0xff, 0x7f}; /* the largest Remaining Length */
    mqtt_header h;
    mqtt_error e;
    for (size_t n = 0; n < sizeof b; n++) {
        cr_assert_eq(peek(MQTT_V5, b, n, &h, &e), MQTT_NEED_MORE, "prefix of %zu bytes", n);
        cr_assert_eq(h.length, 0);
        cr_assert_eq(h.type, n ? MQTT_CONNECT : 0, "the type is told from the first byte on");
    }
    cr_assert_eq(peek(MQTT_V5, b, sizeof b, &h, &e), MQTT_OK);
    cr_assert_eq(h.remaining_length, 268435455);
    cr_assert_eq(h.header_length, 5);
    cr_assert_eq(h.length, 268435460);
}

Test(codec_peek, five_length_bytes_are_malformed)
{
    const uint8_t b[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
    mqtt_header h;
    mqtt_error e;
    cr_assert_eq(peek(MQTT_V311, b, sizeof b, &h, &e), MQTT_ERR_MALFORMED);
    cr_assert_str_eq(e.rule, "MQTT-2.2.3");
    cr_assert_eq(e.offset, 1);
    cr_assert_eq(h.type, MQTT_PUBLISH, "type and flags are still told");
    cr_assert_eq(peek(MQTT_V5, b, sizeof b, &h, &e), MQTT_ERR_MALFORMED);
    cr_assert_str_eq(e.rule, "MQTT-1.5.5");
    cr_assert_eq(mqtt_peek_header(MQTT_V5, b, sizeof b, &h, NULL), MQTT_ERR_MALFORMED, "err may be NULL");
}

Test(codec_peek, longer_form_only_malformed_in_v5)
{
    const uint8_t b[] = {0xc0, 0x80, 0x00}; /* PINGREQ, remaining length 0 in two bytes */
    mqtt_header h;
    mqtt_error e;
    cr_assert_eq(peek(MQTT_V5, b, sizeof b, &h, &e), MQTT_ERR_MALFORMED);
    cr_assert_str_eq(e.rule, "MQTT-1.5.5-1");
    cr_assert_eq(peek(MQTT_V311, b, sizeof b, &h, &e), MQTT_OK);
    cr_assert_eq(h.length, 3);
    cr_assert_eq(peek(MQTT_VERSION_UNKNOWN, b, sizeof b, &h, &e), MQTT_OK, "lenient before the version is known");
}

Test(codec_peek, the_body_is_not_judged)
{
    /* A reserved type with wrong flags and a body the decoder rejects: still framed. */
    const uint8_t b[] = {0x0f, 0x02, 0xff, 0xff, 0x20};
    mqtt_header h;
    mqtt_error e;
    cr_assert_eq(peek(MQTT_V311, b, sizeof b, &h, &e), MQTT_OK);
    cr_assert_eq(h.type, 0);
    cr_assert_eq(h.flags, 0xf);
    cr_assert_eq(h.length, 4, "the next packet starts at byte 4");
}

/* The same size as mqtt_decode for packets of every type it accepts. */
Test(codec_peek, agrees_with_decode)
{
    static const uint8_t pkts[][16] = {
        {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00},
        {0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i'},
        {0x40, 0x02, 0x00, 0x01},
        {0xc0, 0x00},
        {0xe0, 0x00},
    };
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
        mqtt_codec c = {.version = i == 0 ? MQTT_VERSION_UNKNOWN : MQTT_V311, .from = MQTT_FROM_CLIENT};
        mqtt_packet p;
        mqtt_header h;
        mqtt_error e;
        cr_assert_eq(mqtt_decode(&c, pkts[i], sizeof pkts[i], &p, NULL), MQTT_OK, "packet %zu", i);
        cr_assert_eq(peek(MQTT_V311, pkts[i], sizeof pkts[i], &h, &e), MQTT_OK);
        cr_assert_eq(h.length, p.length, "packet %zu", i);
        cr_assert_eq(h.remaining_length, p.remaining_length);
        cr_assert_eq(h.type, p.type);
    }
}

/* A rejected CONNECT still tells the level the client asked for, once read
 * (documented in codec.h): pcap readers learn a stream's version from it. */
Test(codec_peek, rejected_connect_tells_its_level)
{
    /* 5.0 CONNECT with the reserved flag set (MQTT-3.1.2-3) */
    const uint8_t bad[] = {0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x03, 0x00, 0x3c, 0x00, 0x00, 0x00};
    mqtt_codec c = {.version = MQTT_VERSION_UNKNOWN, .from = MQTT_FROM_CLIENT};
    mqtt_packet p;
    memset(&p, 0xee, sizeof p);
    mqtt_error e;
    cr_assert_eq(mqtt_decode(&c, bad, sizeof bad, &p, &e), MQTT_ERR_MALFORMED);
    cr_assert_str_eq(e.rule, "MQTT-3.1.2-3");
    cr_assert_eq(p.type, MQTT_CONNECT);
    cr_assert_eq(p.connect.protocol_level, 5);
    /* Cut inside the protocol name: the level was never read. */
    const uint8_t cut[] = {0x10, 0x03, 0x00, 0x04, 'M'};
    memset(&p, 0xee, sizeof p);
    cr_assert_neq(mqtt_decode(&c, cut, sizeof cut, &p, &e), MQTT_OK);
    cr_assert_eq(p.connect.protocol_level, 0);
}
