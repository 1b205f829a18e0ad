/*
 * Decoder and encoder agree on everything, not only on the vectors: every
 * single-bit flip of a set of valid packets (all types, all versions, both
 * sides) and a stream of pseudo-random packets are decoded against an
 * unreadable page, and
 *   - a rejection always names a rule, a reason code and an offset inside the
 *     input, with a status that is one of the error classes;
 *   - an accepted packet is one the encoder accepts too (same type and size
 *     semantics), and its encoding decodes and re-encodes to the same bytes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vectors.h"

typedef struct {
    mqtt_version v;
    mqtt_side from;
    const char *hex;
} seed;

static const seed seeds[] = {
    {MQTT_V311, MQTT_FROM_CLIENT, "10 26 00 04 'MQTT' 04 ee 00 3c 00 04 'pub2' 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'"},
    {MQTT_V31, MQTT_FROM_CLIENT, "10 19 00 06 'MQIsdp' 03 02 00 3c 00 0b 'sub-mqttv31'"},
    {MQTT_V5, MQTT_FROM_CLIENT, "10 32 00 04 'MQTT' 05 06 00 3c 0f 17 00 19 01 21 00 14 22 00 05 27 00 00 03 e8 00 02 'p5' 0e 18 00 00 00 0a 26 00 02 'wk' 00 02 'wv' 00 01 'w' 00 00"},
    {MQTT_V311, MQTT_FROM_SERVER, "20 02 01 00"},
    {MQTT_V5, MQTT_FROM_SERVER, "20 45 00 00 42 11 00 00 00 1e 12 00 03 'abc' 13 00 1e 15 00 02 'am' 16 00 01 'x' 1a 00 02 'ri' 1c 00 02 'sr' 1f 00 02 'ok' 21 00 05 22 00 04 24 01 25 00 26 00 01 'k' 00 01 'v' 27 00 00 10 00 28 01 29 00 2a 01"},
    {MQTT_V311, MQTT_FROM_CLIENT, "32 09 00 03 'a/b' 00 01 'hi'"},
    {MQTT_V5, MQTT_FROM_SERVER, "32 2d 00 03 'a/b' 00 01 23 01 01 02 00 00 00 3c 03 00 04 'text' 08 00 03 'r/t' 09 00 03 'abc' 0b 05 26 00 01 'k' 00 01 'v' 'hi'"},
    {MQTT_V5, MQTT_FROM_CLIENT, "30 07 00 00 03 23 00 01 'x'"},
    {MQTT_V311, MQTT_FROM_CLIENT, "40 02 00 01"},
    {MQTT_V5, MQTT_FROM_SERVER, "50 0b 00 01 00 07 26 00 01 'k' 00 01 'v'"},
    {MQTT_V5, MQTT_FROM_CLIENT, "62 03 00 01 92"},
    {MQTT_V5, MQTT_FROM_CLIENT, "70 08 00 02 00 04 1f 00 01 'y'"},
    {MQTT_V311, MQTT_FROM_CLIENT, "82 0e 00 01 00 03 'a/b' 02 00 03 'x/#' 02"},
    {MQTT_V5, MQTT_FROM_CLIENT, "82 16 00 01 00 00 0c '$share/g/a/#' 00 00 01 'c' 2e"},
    {MQTT_V5, MQTT_FROM_CLIENT, "82 0b 00 01 02 0b 05 00 03 'a/b' 01"},
    {MQTT_V311, MQTT_FROM_SERVER, "90 06 00 09 00 01 02 80"},
    {MQTT_V5, MQTT_FROM_SERVER, "90 08 00 01 04 1f 00 01 'x' 87"},
    {MQTT_V311, MQTT_FROM_CLIENT, "a2 0c 00 02 00 03 'a/b' 00 03 'c/#'"},
    {MQTT_V5, MQTT_FROM_CLIENT, "a2 0d 00 02 07 26 00 01 'k' 00 01 'v' 00 01 'c'"},
    {MQTT_V311, MQTT_FROM_SERVER, "b0 02 00 05"},
    {MQTT_V5, MQTT_FROM_SERVER, "b0 09 00 02 04 1f 00 01 'x' 11 8f"},
    {MQTT_V311, MQTT_FROM_CLIENT, "c0 00"},
    {MQTT_V5, MQTT_FROM_SERVER, "d0 00"},
    {MQTT_V5, MQTT_FROM_CLIENT, "e0 08 00 06 1f 00 03 'bye'"},
    {MQTT_V5, MQTT_FROM_SERVER, "e0 08 9c 06 1c 00 03 'b:1'"},
    {MQTT_V5, MQTT_FROM_SERVER, "f0 10 18 0e 15 00 05 'SCRAM' 16 00 03 01 02 03"},
};

/* Checks the invariants for one input; returns its status. */
static mqtt_status check_one(const mqtt_codec *c, const uint8_t *b, size_t len, const char *what)
{
    mqtt_packet p;
    mqtt_error e;
    memset(&e, 0, sizeof e);
    mqtt_status st = mqtt_decode(c, tv_at_guard(b, len), len, &p, &e);
    if (st == MQTT_NEED_MORE) return st;
    if (st != MQTT_OK) {
        cr_assert(st >= MQTT_ERR_MALFORMED && st <= MQTT_ERR_UNSUPPORTED_VERSION, "%s: status %d", what, st);
        cr_assert(e.status == st && e.rule && e.rule[0] && e.message && e.reason_code >= 0x80,
                  "%s: incomplete error (%s)", what, e.rule ? e.rule : "no rule");
        /* At most len: a field that would run past the end of the packet is reported
         * where it starts, which can be the end of what was received. */
        cr_assert(e.offset <= len, "%s: offset %zu past %zu bytes (%s)", what, e.offset, len, e.rule);
        return st;
    }
    /* Accepted: decode again from a normal buffer so the views stay valid. */
    static uint8_t copy[TV_MAX_BYTES];
    memcpy(copy, b, len);
    cr_assert_eq(mqtt_decode(c, copy, len, &p, &e), MQTT_OK);
    cr_assert(p.length <= len);
    size_t size;
    st = mqtt_encoded_size(c, &p, &size, &e);
    cr_assert_eq(st, MQTT_OK, "%s: the decoder accepts a %s the encoder refuses: %s %s (%s)", what,
                 mqtt_packet_type_name(p.type), mqtt_status_name(st), e.rule, e.message);
    static uint8_t enc1[TV_MAX_BYTES + 16], enc2[TV_MAX_BYTES + 16];
    size_t n1, n2;
    cr_assert_eq(mqtt_encode(c, &p, enc1, sizeof enc1, &n1, &e), MQTT_OK);
    cr_assert_eq(n1, size);
    mqtt_packet q;
    st = mqtt_decode(c, enc1, n1, &q, &e);
    cr_assert_eq(st, MQTT_OK, "%s: our own encoding is rejected: %s %s at %zu", what,
                 mqtt_status_name(st), e.rule, e.offset);
    cr_assert_eq(q.type, p.type);
    cr_assert_eq(mqtt_encode(c, &q, enc2, sizeof enc2, &n2, &e), MQTT_OK);
    cr_assert(n1 == n2 && memcmp(enc1, enc2, n1) == 0, "%s: re-encoding is not stable", what);
    return MQTT_OK;
}

Test(codec_consistency, every_bit_flip_of_the_seeds)
{
    uint8_t b[512];
    char what[128];
    size_t accepted = 0, rejected = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t n = tv_hex(seeds[i].hex, b, sizeof b);
        mqtt_codec c = tv_codec(seeds[i].v, seeds[i].from);
        cr_assert_eq(check_one(&c, b, n, "seed"), MQTT_OK, "seed %zu is not valid", i);
        for (size_t k = 0; k < n; k++) {
            for (int bit = 0; bit < 8; bit++) {
                b[k] ^= (uint8_t)(1u << bit);
                snprintf(what, sizeof what, "seed %zu, byte %zu bit %d", i, k, bit);
                mqtt_status st = check_one(&c, b, n, what);
                accepted += st == MQTT_OK;
                rejected += st >= MQTT_ERR_MALFORMED;
                b[k] ^= (uint8_t)(1u << bit);
            }
        }
    }
    /* Both outcomes occur: the flips do exercise the checks. */
    cr_assert(accepted > 100 && rejected > 1000, "%zu accepted, %zu rejected", accepted, rejected);
}

Test(codec_consistency, every_truncation_and_extension_of_the_remaining_length)
{
    uint8_t b[512];
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        tv_hex(seeds[i].hex, b, sizeof b);
        mqtt_codec c = tv_codec(seeds[i].v, seeds[i].from);
        if (b[1] & 0x80) continue;
        uint8_t rl = b[1];
        for (unsigned r = 0; r < rl; r++) { /* shorter remaining length, same bytes */
            b[1] = (uint8_t)r;
            check_one(&c, b, r + 2, "shorter remaining length");
        }
        b[1] = rl;
    }
}

/* xorshift: deterministic, so a failure reproduces. */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

Test(codec_consistency, pseudo_random_packets)
{
    uint32_t s = 0x2545F491u;
    uint8_t b[64];
    char what[64];
    mqtt_version vs[] = {MQTT_V31, MQTT_V311, MQTT_V5, MQTT_VERSION_UNKNOWN};
    for (int iter = 0; iter < 30000; iter++) {
        size_t len = 2 + rnd(&s) % 40;
        for (size_t k = 0; k < len; k++) b[k] = (uint8_t)rnd(&s);
        b[1] = (uint8_t)(len - 2); /* mostly whole packets, so bodies get parsed */
        /* Bias the bodies toward small lengths and known property ids. */
        for (size_t k = 2; k < len; k++)
            if (rnd(&s) % 3 == 0) b[k] = (uint8_t)(rnd(&s) % 8);
        mqtt_codec c = tv_codec(vs[rnd(&s) % 4], rnd(&s) % 2 ? MQTT_FROM_SERVER : MQTT_FROM_CLIENT);
        snprintf(what, sizeof what, "random packet %d", iter);
        check_one(&c, b, len, what);
    }
}
