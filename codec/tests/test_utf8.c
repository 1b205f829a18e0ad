/*
 * mqtt_utf8_check: MQTT UTF-8 Encoded Strings (3.1.1 section 1.5.3, 5.0
 * section 1.5.4): well-formed UTF-8 per RFC 3629 (MQTT-1.5.3-1 / MQTT-1.5.4-1:
 * no surrogates, no overlong forms, nothing above U+10FFFF, no stray or missing
 * continuation bytes), no U+0000 (MQTT-1.5.3-2 / MQTT-1.5.4-2), and U+FEFF kept
 * as a character (MQTT-1.5.3-3 / MQTT-1.5.4-3). Also the offset of the first
 * bad byte, and the 8-byte ASCII fast path around its edges.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

static mqtt_bytes B(const uint8_t *p, size_t n)
{
    mqtt_bytes b = {p, n};
    return b;
}

typedef struct {
    const char *hex;
    size_t bad_at; /* (size_t)-1: valid */
    int nul;       /* the rule is the U+0000 one */
} utf8_case;

#define OK ((size_t)-1)

static const utf8_case cases[] = {
    {"", OK, 0},
    {"'a/b'", OK, 0},
    {"7f", OK, 0},
    {"c2 80", OK, 0},                 /* U+0080, smallest 2-byte */
    {"df bf", OK, 0},                 /* U+07FF */
    {"e0 a0 80", OK, 0},              /* U+0800, smallest 3-byte */
    {"ed 9f bf", OK, 0},              /* U+D7FF, just below the surrogates */
    {"ee 80 80", OK, 0},              /* U+E000, just above them */
    {"ef bb bf", OK, 0},              /* U+FEFF, kept as a character */
    {"ef bf bf", OK, 0},              /* U+FFFF */
    {"f0 90 80 80", OK, 0},           /* U+10000, smallest 4-byte */
    {"f4 8f bf bf", OK, 0},           /* U+10FFFF, the largest */
    {"'caf' c3 a9 2f e2 82 ac", OK, 0},
    {"00", 0, 1},                     /* U+0000 */
    {"'abc' 00", 3, 1},
    {"'abcdefgh' 00", 8, 1},          /* NUL right after an 8-byte block */
    {"'abcdefg' 00 'ijklmnop'", 7, 1},/* NUL inside the first 8-byte block */
    {"c0 80", 0, 0},                  /* overlong U+0000 */
    {"c1 bf", 0, 0},                  /* overlong U+007F */
    {"e0 80 80", 0, 0},               /* overlong 3-byte */
    {"e0 9f bf", 0, 0},               /* overlong U+07FF */
    {"f0 80 80 80", 0, 0},            /* overlong 4-byte */
    {"f0 8f bf bf", 0, 0},            /* overlong U+FFFF */
    {"ed a0 80", 0, 0},               /* U+D800, first surrogate */
    {"ed bf bf", 0, 0},               /* U+DFFF, last surrogate */
    {"'x' ed b0 80", 1, 0},
    {"f4 90 80 80", 0, 0},            /* U+110000 */
    {"f5 80 80 80", 0, 0},            /* lead byte above F4 */
    {"ff", 0, 0},
    {"80", 0, 0},                     /* continuation without a lead */
    {"'ab' bf", 2, 0},
    {"c3", 0, 0},                     /* truncated 2-byte */
    {"e2 82", 0, 0},                  /* truncated 3-byte */
    {"f0 90 80", 0, 0},               /* truncated 4-byte */
    {"c3 28", 0, 0},                  /* bad continuation */
    {"e2 28 a1", 0, 0},
    {"f0 90 28 bc", 0, 0},
    {"'abcdefgh' c3 a9 'abcdefgh' ed a0 80", 18, 0},
    {"'abcdefghijklmnop' 80", 16, 0},
};

Test(codec_utf8, table_of_well_and_ill_formed_strings)
{
    uint8_t b[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = tv_hex(cases[i].hex, b, sizeof b);
        for (int v = 0; v < 2; v++) {
            mqtt_version ver = v ? MQTT_V5 : MQTT_V311;
            size_t at = 12345;
            const char *rule = mqtt_utf8_check(ver, B(b, n), &at);
            if (cases[i].bad_at == OK) {
                cr_assert_null(rule, "case %zu (%s): %s", i, cases[i].hex, rule);
                continue;
            }
            const char *want = cases[i].nul ? (v ? "MQTT-1.5.4-2" : "MQTT-1.5.3-2")
                                            : (v ? "MQTT-1.5.4-1" : "MQTT-1.5.3-1");
            cr_assert_not_null(rule, "case %zu (%s) accepted", i, cases[i].hex);
            cr_assert_str_eq(rule, want, "case %zu (%s)", i, cases[i].hex);
            cr_assert_eq(at, cases[i].bad_at, "case %zu (%s): bad_at %zu", i, cases[i].hex, at);
        }
    }
}

Test(codec_utf8, mqtt_31_uses_the_311_rules)
{
    const uint8_t nul[] = {'a', 0};
    cr_assert_str_eq(mqtt_utf8_check(MQTT_V31, B(nul, 2), NULL), "MQTT-1.5.3-2");
}

Test(codec_utf8, bad_at_may_be_null)
{
    const uint8_t bad[] = {0xc0, 0x80};
    cr_assert_str_eq(mqtt_utf8_check(MQTT_V5, B(bad, 2), NULL), "MQTT-1.5.4-1");
    cr_assert_null(mqtt_utf8_check(MQTT_V5, B(NULL, 0), NULL));
}

Test(codec_utf8, every_code_point_boundary_of_each_length)
{
    /* Encode every code point at a length boundary and check the verdict. */
    static const uint32_t cps[] = {0x1, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDBFF,
                                   0xDC00, 0xDFFF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        uint32_t cp = cps[i];
        uint8_t b[4];
        size_t n;
        if (cp < 0x80) { b[0] = (uint8_t)cp; n = 1; }
        else if (cp < 0x800) { b[0] = (uint8_t)(0xC0 | cp >> 6); b[1] = (uint8_t)(0x80 | (cp & 0x3F)); n = 2; }
        else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xE0 | cp >> 12);
            b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            b[0] = (uint8_t)(0xF0 | cp >> 18);
            b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 4;
        }
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        const char *rule = mqtt_utf8_check(MQTT_V5, B(b, n), NULL);
        if (surrogate)
            cr_assert_str_eq(rule ? rule : "(valid)", "MQTT-1.5.4-1", "U+%04X", cp);
        else
            cr_assert_null(rule, "U+%04X rejected: %s", cp, rule);
    }
}

Test(codec_utf8, long_ascii_with_a_late_error_is_found)
{
    uint8_t b[1000];
    memset(b, 'z', sizeof b);
    cr_assert_null(mqtt_utf8_check(MQTT_V5, B(b, sizeof b), NULL));
    for (size_t k = 990; k < 1000; k++) {
        memset(b, 'z', sizeof b);
        b[k] = 0;
        size_t at = 0;
        cr_assert_str_eq(mqtt_utf8_check(MQTT_V5, B(b, sizeof b), &at), "MQTT-1.5.4-2");
        cr_assert_eq(at, k);
        b[k] = 0xff;
        cr_assert_str_eq(mqtt_utf8_check(MQTT_V311, B(b, sizeof b), &at), "MQTT-1.5.3-1");
        cr_assert_eq(at, k);
    }
}

Test(codec_utf8, check_reads_only_its_bytes)
{
    /* The string ends right before an unreadable page: the 8-byte fast path must
     * not peek past it. Decoding a PUBLISH whose topic is the whole tail checks
     * it through the decoder's guard as well. */
    mqtt_codec c = TV_C311;
    TV_DECODE_OK(&c, "30 0c 00 0a 'abcdefghi/'");
    TV_DECODE_OK(&c, "30 0b 00 09 'abcdefghi'");
    TV_DECODE_OK(&c, "30 11 00 0f 'abcdefghijklmn/'");
}
