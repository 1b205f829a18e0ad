/*
 * MQTT 5.0 properties (section 2.2.2) across packets: the Property Length and
 * identifiers as Variable Byte Integers (minimal, MQTT-1.5.5-1), unknown
 * identifiers and identifiers not valid for the packet type (Malformed, 2.2.2.2),
 * every single-valued property given twice (a Protocol Error, each cited by the
 * section that says so), values cut short, and UTF-8 in string properties.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vectors.h"

/* Packet shapes around one property block: fixed header byte, the bytes before
 * the block, the bytes after it, and who sends it. */
typedef enum { K_CONNECT, K_WILL, K_CONNACK, K_PUBLISH, K_DISCONNECT_C, K_DISCONNECT_S, K_AUTH } kind;

static const struct {
    uint8_t first;
    const char *head, *tail;
    mqtt_side from;
} shapes[] = {
    [K_CONNECT] = {0x10, "00 04 'MQTT' 05 02 00 3c", "00 00", MQTT_FROM_CLIENT},
    [K_WILL] = {0x10, "00 04 'MQTT' 05 06 00 3c 00 00 00", "00 01 't' 00 00", MQTT_FROM_CLIENT},
    [K_CONNACK] = {0x20, "00 00", "", MQTT_FROM_SERVER},
    [K_PUBLISH] = {0x30, "00 01 't'", "", MQTT_FROM_CLIENT},
    [K_DISCONNECT_C] = {0xe0, "00", "", MQTT_FROM_CLIENT},
    [K_DISCONNECT_S] = {0xe0, "00", "", MQTT_FROM_SERVER},
    [K_AUTH] = {0xf0, "18", "", MQTT_FROM_SERVER},
};

/* Builds shape k around the property block `props`; returns the size and, in
 * *block_at, the offset of the block's first property. */
static size_t build(kind k, const char *props, uint8_t *out, size_t *block_at)
{
    uint8_t head[64], pr[128], tail[64];
    size_t nh = tv_hex(shapes[k].head, head, sizeof head);
    size_t np = tv_hex(props, pr, sizeof pr);
    size_t nt = tv_hex(shapes[k].tail, tail, sizeof tail);
    size_t rl = nh + 1 + np + nt;
    cr_assert(np < 128 && rl < 128);
    size_t n = 0;
    out[n++] = shapes[k].first;
    out[n++] = (uint8_t)rl;
    memcpy(out + n, head, nh);
    n += nh;
    out[n++] = (uint8_t)np;
    *block_at = n;
    memcpy(out + n, pr, np);
    n += np;
    memcpy(out + n, tail, nt);
    return n + nt;
}

typedef struct {
    kind k;
    const char *base; /* properties that must come first (e.g. a method) */
    const char *prop; /* the property given twice */
    const char *rule;
} dup_case;

static const dup_case dups[] = {
    {K_CONNECT, "", "11 00 00 00 01", "MQTT-3.1.2.11.2"},
    {K_CONNECT, "", "21 00 01", "MQTT-3.1.2.11.3"},
    {K_CONNECT, "", "27 00 00 00 01", "MQTT-3.1.2.11.4"},
    {K_CONNECT, "", "22 00 01", "MQTT-3.1.2.11.5"},
    {K_CONNECT, "", "19 01", "MQTT-3.1.2.11.6"},
    {K_CONNECT, "", "17 01", "MQTT-3.1.2.11.7"},
    {K_CONNECT, "", "15 00 01 'a'", "MQTT-3.1.2.11.9"},
    {K_CONNECT, "15 00 01 'm'", "16 00 01 'a'", "MQTT-3.1.2.11.10"},
    {K_WILL, "", "18 00 00 00 01", "MQTT-3.1.3.2.2"},
    {K_WILL, "", "01 01", "MQTT-3.1.3.2.3"},
    {K_WILL, "", "02 00 00 00 01", "MQTT-3.1.3.2.4"},
    {K_WILL, "", "03 00 01 'a'", "MQTT-3.1.3.2.5"},
    {K_WILL, "", "08 00 01 'a'", "MQTT-3.1.3.2.6"},
    {K_WILL, "", "09 00 01 'a'", "MQTT-3.1.3.2.7"},
    {K_CONNACK, "", "11 00 00 00 01", "MQTT-3.2.2.3.2"},
    {K_CONNACK, "", "21 00 01", "MQTT-3.2.2.3.3"},
    {K_CONNACK, "", "24 01", "MQTT-3.2.2.3.4"},
    {K_CONNACK, "", "25 01", "MQTT-3.2.2.3.5"},
    {K_CONNACK, "", "27 00 00 00 01", "MQTT-3.2.2.3.6"},
    {K_CONNACK, "", "12 00 01 'a'", "MQTT-3.2.2.3.7"},
    {K_CONNACK, "", "22 00 01", "MQTT-3.2.2.3.8"},
    {K_CONNACK, "", "1f 00 01 'a'", "MQTT-3.2.2.3.9"},
    {K_CONNACK, "", "28 01", "MQTT-3.2.2.3.11"},
    {K_CONNACK, "", "29 01", "MQTT-3.2.2.3.12"},
    {K_CONNACK, "", "2a 01", "MQTT-3.2.2.3.13"},
    {K_CONNACK, "", "13 00 01", "MQTT-3.2.2.3.14"},
    {K_CONNACK, "", "1a 00 01 'a'", "MQTT-3.2.2.3.15"},
    {K_CONNACK, "", "1c 00 01 'a'", "MQTT-3.2.2.3.16"},
    {K_CONNACK, "", "15 00 01 'a'", "MQTT-3.2.2.3.17"},
    {K_CONNACK, "15 00 01 'm'", "16 00 01 'a'", "MQTT-3.2.2.3.18"},
    {K_PUBLISH, "", "01 01", "MQTT-3.3.2.3.2"},
    {K_PUBLISH, "", "02 00 00 00 01", "MQTT-3.3.2.3.3"},
    {K_PUBLISH, "", "23 00 01", "MQTT-3.3.2.3.4"},
    {K_PUBLISH, "", "08 00 01 'a'", "MQTT-3.3.2.3.5"},
    {K_PUBLISH, "", "09 00 01 'a'", "MQTT-3.3.2.3.6"},
    {K_PUBLISH, "", "03 00 01 'a'", "MQTT-3.3.2.3.9"},
    {K_DISCONNECT_C, "", "11 00 00 00 01", "MQTT-3.14.2.2.2"},
    {K_DISCONNECT_S, "", "1f 00 01 'a'", "MQTT-3.14.2.2.3"},
    {K_DISCONNECT_S, "", "1c 00 01 'a'", "MQTT-3.14.2.2.5"},
    {K_AUTH, "", "15 00 01 'a'", "MQTT-3.15.2.2.2"},
    {K_AUTH, "15 00 01 'm'", "16 00 01 'a'", "MQTT-3.15.2.2.3"},
    {K_AUTH, "15 00 01 'm'", "1f 00 01 'a'", "MQTT-3.15.2.2.4"},
};

Test(codec_properties, each_property_once_decodes)
{
    uint8_t b[256];
    char props[128];
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        snprintf(props, sizeof props, "%s %s", dups[i].base, dups[i].prop);
        size_t at;
        size_t n = build(dups[i].k, props, b, &at);
        mqtt_codec c = tv_codec(MQTT_V5, shapes[dups[i].k].from);
        TV_DECODE_BYTES_OK(&c, b, n);
    }
}

Test(codec_properties, each_single_valued_property_twice_is_a_protocol_error)
{
    uint8_t b[256], one[64];
    char props[160];
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        snprintf(props, sizeof props, "%s %s %s", dups[i].base, dups[i].prop, dups[i].prop);
        size_t at;
        size_t n = build(dups[i].k, props, b, &at);
        size_t second = at + tv_hex(dups[i].base, one, sizeof one) + tv_hex(dups[i].prop, one, sizeof one);
        mqtt_codec c = tv_codec(MQTT_V5, shapes[dups[i].k].from);
        TV_REJECT_BYTES(&c, b, n, MQTT_ERR_PROTOCOL, dups[i].rule, second, 0x82);
    }
}

Test(codec_properties, user_property_may_repeat_everywhere)
{
    uint8_t b[256];
    const char *two = "26 00 01 'a' 00 01 'b' 26 00 01 'a' 00 01 'c'";
    kind ks[] = {K_CONNECT, K_WILL, K_CONNACK, K_PUBLISH, K_DISCONNECT_C, K_DISCONNECT_S};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t at;
        size_t n = build(ks[i], two, b, &at);
        mqtt_codec c = tv_codec(MQTT_V5, shapes[ks[i]].from);
        TV_DECODE_BYTES_OK(&c, b, n);
    }
}

/* Value size of each defined property, from the table of 5.0 section 2.2.2.2. */
static const char *value_of(unsigned id)
{
    switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
        return "01";
    case 0x13: case 0x21: case 0x22: case 0x23:
        return "00 01";
    case 0x02: case 0x11: case 0x18: case 0x27:
        return "00 00 00 01";
    case 0x0B:
        return "01";
    case 0x03: case 0x08: case 0x12: case 0x15: case 0x1A: case 0x1C: case 0x1F: case 0x09:
    case 0x16:
        return "00 01 'a'";
    case 0x26:
        return "00 01 'a' 00 01 'b'";
    default:
        return NULL;
    }
}

Test(codec_properties, identifiers_not_valid_for_publish_are_malformed)
{
    /* 2.2.2.2: an Identifier which is not valid for its packet type (including one
     * that is not defined at all) makes a Malformed Packet. */
    static const uint8_t in_publish[] = {0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26};
    uint8_t b[256];
    char props[64];
    for (unsigned id = 0; id < 128; id++) {
        if (memchr(in_publish, (int)id, sizeof in_publish)) continue;
        const char *v = value_of(id);
        snprintf(props, sizeof props, "%02x %s", id, v ? v : "");
        size_t at;
        size_t n = build(K_PUBLISH, props, b, &at);
        mqtt_codec c = TV_S5;
        TV_REJECT_BYTES(&c, b, n, MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", at, 0x81);
    }
}

Test(codec_properties, two_byte_identifiers_are_unknown_or_not_minimal)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 06 00 01 't' 02 80 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.2", 6, 0x81);
    TV_REJECT(&c, "30 07 00 01 't' 03 81 00 01", MQTT_ERR_MALFORMED, "MQTT-1.5.5-1", 6, 0x81);
}

Test(codec_properties, property_length_not_minimal_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 05 00 01 't' 80 00", MQTT_ERR_MALFORMED, "MQTT-1.5.5-1", 5, 0x81);
    TV_REJECT(&c, "30 08 00 01 't' ff ff ff ff 01", MQTT_ERR_MALFORMED, "MQTT-1.5.5", 5, 0x81);
}

Test(codec_properties, property_length_past_the_packet_is_malformed)
{
    mqtt_codec c = TV_C5;
    TV_REJECT(&c, "30 05 00 01 't' 05 01", MQTT_ERR_MALFORMED, "MQTT-2.2.2.1", 5, 0x81);
}

Test(codec_properties, value_past_the_property_block_is_malformed)
{
    mqtt_codec c = TV_C5;
    /* A Four Byte Integer with one byte left in the block (and two in the packet). */
    TV_REJECT(&c, "30 07 00 01 't' 02 02 00 'x'", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 7, 0x81);
    TV_REJECT(&c, "30 08 00 01 't' 04 03 00 05 'a'", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 9, 0x81);
    TV_REJECT(&c, "30 0a 00 01 't' 06 26 00 01 'k' 00 05", MQTT_ERR_MALFORMED, "MQTT-2.1.4", 12,
              0x81);
}

Test(codec_properties, subscription_identifier_not_minimal_is_malformed)
{
    mqtt_codec c = TV_S5;
    TV_REJECT(&c, "30 07 00 01 't' 03 0b 81 00", MQTT_ERR_MALFORMED, "MQTT-1.5.5-1", 7, 0x81);
}

Test(codec_properties, ill_formed_strings_in_properties_are_malformed)
{
    mqtt_codec c = TV_C5;
    /* Reason String with U+0000; User Property name with a lone continuation byte;
     * Content Type with a surrogate. Offsets are those of the offending byte. */
    TV_REJECT(&c, "e0 07 00 05 1f 00 02 'a' 00", MQTT_ERR_MALFORMED, "MQTT-1.5.4-2", 8, 0x81);
    TV_REJECT(&c, "30 0c 00 01 't' 08 26 00 02 'a' 80 00 01 'v'", MQTT_ERR_MALFORMED,
              "MQTT-1.5.7-1", 10, 0x81);
    TV_REJECT(&c, "30 0c 00 01 't' 08 26 00 01 'a' 00 02 'v' 00", MQTT_ERR_MALFORMED,
              "MQTT-1.5.7-1", 13, 0x81);
    TV_REJECT(&c, "30 09 00 01 't' 05 03 00 02 ed b0", MQTT_ERR_MALFORMED, "MQTT-1.5.4-1", 9,
              0x81);
}

Test(codec_properties, binary_properties_are_not_checked_as_utf8)
{
    mqtt_codec c = TV_C5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 0a 00 01 't' 06 09 00 03 00 ff c0");
    cr_assert_eq(p->publish.properties.correlation_data.len, 3);
}

Test(codec_properties, largest_values_decode)
{
    mqtt_codec c = TV_S5;
    const mqtt_packet *p = TV_DECODE_OK(&c, "20 0d 00 00 0a 11 ff ff ff ff 27 ff ff ff ff");
    cr_assert_eq(p->connack.properties.session_expiry_interval, 0xffffffffu);
    cr_assert_eq(p->connack.properties.maximum_packet_size, 0xffffffffu);
    p = TV_DECODE_OK(&c, "20 0c 00 00 09 13 ff ff 21 ff ff 22 ff ff");
    cr_assert_eq(p->connack.properties.server_keep_alive, 65535);
    cr_assert_eq(p->connack.properties.receive_maximum, 65535);
    cr_assert_eq(p->connack.properties.topic_alias_maximum, 65535);
}

Test(codec_properties, properties_of_one_packet_share_the_caller_arrays_in_order)
{
    /* CONNECT user properties and Will user properties land in one array. */
    mqtt_codec c = TV_C5;
    const mqtt_packet *p =
        TV_DECODE_OK(&c, "10 21 00 04 'MQTT' 05 06 00 3c 07 26 00 01 'a' 00 01 '1' 00 00"
                         " 07 26 00 01 'b' 00 01 '2' 00 01 't' 00 00");
    const mqtt_connect *k = &p->connect;
    cr_assert_eq(k->properties.user_property_count, 1);
    cr_assert_eq(k->will_properties.user_property_count, 1);
    cr_assert(tv_eq(k->properties.user_properties[0].name, "a"));
    cr_assert(tv_eq(k->will_properties.user_properties[0].name, "b"));
    cr_assert_eq(k->will_properties.user_properties, k->properties.user_properties + 1);
}
