/*
 * The decode/encode test helper shared by every codec test (see vectors.h).
 *
 * Invariants it checks on every vector, whatever the packet:
 *   - framing is incremental: a proper prefix of a valid packet is NEED_MORE,
 *     and a prefix of an invalid one is NEED_MORE or the very same error;
 *   - the decoder never reads buf[len]: each input is also decoded with its
 *     last byte right before a PROT_NONE page (a read past it is a SIGSEGV,
 *     which Criterion reports as a crash);
 *   - decode then encode reproduces the bytes, the size step agrees with the
 *     encode step, and a too-small buffer is left untouched;
 *   - a max_packet_size just under the packet's size is a limit (0x95) on
 *     both sides of the codec.
 */
#include "vectors.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static mqtt_user_property user_props[TV_USER_PROPERTIES];
static uint32_t sub_ids[TV_SUBSCRIPTION_IDS];
static mqtt_subscription subs[TV_SUBSCRIPTIONS];

static uint8_t vec[TV_MAX_BYTES];
static mqtt_packet last;

mqtt_codec tv_codec(mqtt_version version, mqtt_side from)
{
    mqtt_codec c;
    memset(&c, 0, sizeof c);
    c.version = version;
    c.from = from;
    c.user_properties = user_props;
    c.user_properties_cap = TV_USER_PROPERTIES;
    c.subscription_identifiers = sub_ids;
    c.subscription_identifiers_cap = TV_SUBSCRIPTION_IDS;
    c.subscriptions = subs;
    c.subscriptions_cap = TV_SUBSCRIPTIONS;
    return c;
}

mqtt_bytes tv_str(const char *s)
{
    mqtt_bytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

int tv_eq(mqtt_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t tv_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    const char *p = hex;
    while (*p) {
        if (*p == ' ' || *p == '\n' || *p == '\t') {
            p++;
        } else if (*p == '\'') {
            const char *q = strchr(p + 1, '\'');
            cr_assert(q != NULL, "vector %s: unterminated quote", hex);
            for (p++; p < q; p++) {
                cr_assert(n < cap, "vector longer than %zu bytes", cap);
                out[n++] = (uint8_t)*p;
            }
            p++;
        } else {
            int hi = hexval(p[0]), lo = p[1] ? hexval(p[1]) : -1;
            cr_assert(hi >= 0 && lo >= 0, "vector %s: bad hex at \"%.8s\"", hex, p);
            cr_assert(n < cap, "vector longer than %zu bytes", cap);
            out[n++] = (uint8_t)(hi << 4 | lo);
            p += 2;
        }
    }
    return n;
}

/* ---- the unreadable page ------------------------------------------------- */

static uint8_t *guard_end;     /* first byte of a PROT_NONE page: decoder input ends here */
static uint8_t *out_guard_end; /* same, for encoder output: writing past cap faults */

static uint8_t *guarded_region(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t readable = (2 * TV_MAX_BYTES + page - 1) / page * page + page;
    uint8_t *base = mmap(NULL, readable + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(base != MAP_FAILED, "mmap failed");
    cr_assert(mprotect(base + readable, page, PROT_NONE) == 0, "mprotect failed");
    return base + readable;
}

static void guard_init(void)
{
    if (guard_end) return;
    guard_end = guarded_region();
    out_guard_end = guarded_region();
}

/* Copies bytes so that the last one sits right before the unreadable page. */
static const uint8_t *against_guard(const uint8_t *bytes, size_t len)
{
    guard_init();
    uint8_t *dst = guard_end - len;
    if (len) memcpy(dst, bytes, len);
    return dst;
}

const uint8_t *tv_at_guard(const uint8_t *bytes, size_t len)
{
    cr_assert(len <= 2 * TV_MAX_BYTES);
    return against_guard(bytes, len);
}

/* ---- helpers ------------------------------------------------------------- */

/* Bytes of the fixed header of a valid packet (type byte + remaining length). */
static size_t header_size(const uint8_t *b, size_t len)
{
    size_t i = 1;
    while (i < len && i < 5 && (b[i] & 0x80)) i++;
    return i + 1;
}

static mqtt_version rule_version(const mqtt_codec *codec)
{
    return codec->version == MQTT_V5 ? MQTT_V5 : MQTT_V311; /* 3.1 and "unknown" cite 3.1.1 */
}

static int same_error(const mqtt_error *a, const mqtt_error *b)
{
    return a->status == b->status && a->rule && b->rule && strcmp(a->rule, b->rule) == 0 &&
           a->offset == b->offset && a->reason_code == b->reason_code;
}

static void check_reencode(const char *where, const mqtt_codec *codec, const mqtt_packet *pkt,
                           const uint8_t *expect, size_t len)
{
    mqtt_error err;
    memset(&err, 0, sizeof err);
    size_t size = 0;
    mqtt_status st = mqtt_encoded_size(codec, pkt, &size, &err);
    cr_assert_eq(st, MQTT_OK, "%s: mqtt_encoded_size: %s %s: %s", where, mqtt_status_name(st),
                 err.rule ? err.rule : "-", err.message ? err.message : "-");
    cr_assert_eq(size, len, "%s: mqtt_encoded_size says %zu, expected %zu", where, size, len);

    /* The output ends right before an unreadable page: no write past cap. */
    guard_init();
    uint8_t *out = out_guard_end - len;
    size_t written = 0;
    st = mqtt_encode(codec, pkt, out, len, &written, &err);
    cr_assert_eq(st, MQTT_OK, "%s: mqtt_encode: %s %s", where, mqtt_status_name(st),
                 err.rule ? err.rule : "-");
    cr_assert_eq(written, len, "%s: mqtt_encode wrote %zu, expected %zu", where, written, len);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(out[i], expect[i], "%s: re-encoding differs at byte %zu: %02x, expected %02x",
                     where, i, out[i], expect[i]);

    /* One byte too small: MQTT_ERR_LIMIT "LIMIT-buffer", nothing written. */
    out = out_guard_end - len - 1;
    memset(out, 0xA5, len + 1);
    written = 0;
    st = mqtt_encode(codec, pkt, out + 1, len - 1, &written, &err);
    cr_assert_eq(st, MQTT_ERR_LIMIT, "%s: encode into %zu bytes: %s", where, len - 1,
                 mqtt_status_name(st));
    cr_assert_str_eq(err.rule, "LIMIT-buffer", "%s", where);
    cr_assert_eq(written, len, "%s: too-small encode reports %zu needed, expected %zu", where,
                 written, len);
    for (size_t i = 0; i < len + 1; i++)
        cr_assert_eq(out[i], 0xA5, "%s: too-small encode wrote byte %zu", where, i);

    /* The encoder honours max_packet_size too (0x95). */
    if (len > 2) {
        mqtt_codec small = *codec;
        small.max_packet_size = (uint32_t)len - 1;
        st = mqtt_encoded_size(&small, pkt, &size, &err);
        cr_assert_eq(st, MQTT_ERR_LIMIT, "%s: encode over max_packet_size: %s", where,
                     mqtt_status_name(st));
        cr_assert_eq(err.reason_code, 0x95, "%s: encode over max_packet_size: reason %02x",
                     where, err.reason_code);
        small.max_packet_size = (uint32_t)len;
        st = mqtt_encoded_size(&small, pkt, &size, &err);
        cr_assert_eq(st, MQTT_OK, "%s: encode at max_packet_size: %s", where, mqtt_status_name(st));
    }
}

static const mqtt_packet *tv_decode_bytes_canon(const char *file, int line, const mqtt_codec *codec,
                                         const uint8_t *bytes, size_t len, const uint8_t *canon,
                                         size_t canon_len)
{
    char where[256];
    snprintf(where, sizeof where, "%s:%d (%zu-byte vector)", file, line, len);
    cr_assert(len > 0 && len <= TV_MAX_BYTES, "%s: bad vector length", where);

    mqtt_packet pkt;
    mqtt_error err;

    /* Every proper prefix is NEED_MORE, also against the unreadable page. */
    size_t hdr = header_size(bytes, len);
    for (size_t k = 0; k < len; k++) {
        memset(&err, 0, sizeof err);
        memset(&pkt, 0xEE, sizeof pkt);
        const uint8_t *at = against_guard(bytes, k);
        mqtt_status st = mqtt_decode(codec, at, k, &pkt, &err);
        cr_assert_eq(st, MQTT_NEED_MORE, "%s: prefix of %zu bytes: %s %s at %zu: %s", where, k,
                     mqtt_status_name(st), err.rule ? err.rule : "-", err.offset,
                     err.message ? err.message : "-");
        size_t want = k >= hdr ? len : 0;
        cr_assert_eq(pkt.length, want, "%s: prefix of %zu bytes: length %zu, expected %zu", where,
                     k, pkt.length, want);
    }

    /* The whole packet, followed by another one: only this one is consumed. */
    static uint8_t two[TV_MAX_BYTES + 2];
    memcpy(two, bytes, len);
    two[len] = 0xC0; /* PINGREQ */
    two[len + 1] = 0x00;
    memset(&err, 0, sizeof err);
    mqtt_status st = mqtt_decode(codec, two, len + 2, &pkt, &err);
    cr_assert_eq(st, MQTT_OK, "%s: with a packet after it: %s %s at %zu: %s", where,
                 mqtt_status_name(st), err.rule ? err.rule : "-", err.offset,
                 err.message ? err.message : "-");
    cr_assert_eq(pkt.length, len, "%s: with a packet after it: length %zu", where, pkt.length);

    /* max_packet_size one under the size is a limit; at the size it is fine. */
    if (len > 2) {
        mqtt_codec small = *codec;
        small.max_packet_size = (uint32_t)len - 1;
        st = mqtt_decode(&small, bytes, len, &pkt, &err);
        cr_assert_eq(st, MQTT_ERR_LIMIT, "%s: over max_packet_size: %s", where,
                     mqtt_status_name(st));
        cr_assert_eq(err.reason_code, 0x95, "%s: over max_packet_size: reason %02x", where,
                     err.reason_code);
        small.max_packet_size = (uint32_t)len;
        st = mqtt_decode(&small, bytes, len, &pkt, &err);
        cr_assert_eq(st, MQTT_OK, "%s: at max_packet_size: %s", where, mqtt_status_name(st));
    }

    /* The packet itself, from the static copy the caller's views point into. */
    memcpy(vec, bytes, len);
    memset(&err, 0, sizeof err);
    const uint8_t *at = against_guard(vec, len);
    st = mqtt_decode(codec, at, len, &pkt, &err);
    cr_assert_eq(st, MQTT_OK, "%s: against the unreadable page: %s %s at %zu: %s", where,
                 mqtt_status_name(st), err.rule ? err.rule : "-", err.offset,
                 err.message ? err.message : "-");
    memset(&last, 0, sizeof last);
    st = mqtt_decode(codec, vec, len, &last, &err);
    cr_assert_eq(st, MQTT_OK, "%s: %s %s at %zu: %s", where, mqtt_status_name(st),
                 err.rule ? err.rule : "-", err.offset, err.message ? err.message : "-");
    cr_assert_eq(last.length, len, "%s: length %zu, expected %zu", where, last.length, len);
    cr_assert_eq(last.type, (mqtt_packet_type)(bytes[0] >> 4), "%s: type %d", where, last.type);
    cr_assert_eq(last.flags, bytes[0] & 0x0F, "%s: flags %x", where, last.flags);
    cr_assert_eq(last.remaining_length, len - hdr, "%s: remaining length %u", where,
                 last.remaining_length);

    if (canon)
        check_reencode(where, codec, &last, canon, canon_len);
    else
        check_reencode(where, codec, &last, bytes, len);
    return &last;
}

const mqtt_packet *tv_decode_bytes_ok(const char *file, int line, const mqtt_codec *codec,
                                      const uint8_t *bytes, size_t len)
{
    return tv_decode_bytes_canon(file, line, codec, bytes, len, NULL, 0);
}

const mqtt_packet *tv_decode_ok(const char *file, int line, const mqtt_codec *codec,
                                const char *hex, const char *canonical_hex)
{
    static uint8_t b[TV_MAX_BYTES], c[TV_MAX_BYTES];
    size_t n = tv_hex(hex, b, sizeof b);
    if (!canonical_hex) return tv_decode_bytes_canon(file, line, codec, b, n, NULL, 0);
    size_t m = tv_hex(canonical_hex, c, sizeof c);
    return tv_decode_bytes_canon(file, line, codec, b, n, c, m);
}

mqtt_error tv_reject_bytes(const char *file, int line, const mqtt_codec *codec,
                           const uint8_t *bytes, size_t len, mqtt_status status,
                           const char *rule, size_t offset, uint8_t reason)
{
    char where[256];
    snprintf(where, sizeof where, "%s:%d (%zu-byte vector)", file, line, len);
    cr_assert(len > 0 && len <= TV_MAX_BYTES, "%s: bad vector length", where);

    mqtt_packet pkt;
    mqtt_error err, e2;
    memset(&err, 0, sizeof err);
    mqtt_status st = mqtt_decode(codec, bytes, len, &pkt, &err);
    cr_assert_eq(st, status, "%s: status %s (%s at %zu: %s), expected %s", where,
                 mqtt_status_name(st), err.rule ? err.rule : "-", err.offset,
                 err.message ? err.message : "-", mqtt_status_name(status));
    cr_assert_eq(err.status, status, "%s: err.status %d", where, err.status);
    cr_assert(err.rule != NULL, "%s: no rule id", where);
    cr_assert_str_eq(err.rule, rule, "%s: rule %s, expected %s (%s)", where, err.rule, rule,
                     err.message ? err.message : "-");
    cr_assert_eq(err.offset, offset, "%s: offset %zu, expected %zu (%s)", where, err.offset,
                 offset, err.rule);
    cr_assert_eq(err.reason_code, reason, "%s: reason 0x%02x, expected 0x%02x (%s)", where,
                 err.reason_code, reason, err.rule);
    cr_assert(err.message != NULL && err.message[0] != '\0', "%s: no message", where);
    if (strncmp(rule, "MQTT-", 5) == 0 && bytes[0] >> 4 != MQTT_CONNECT)
        cr_assert_eq(err.version, rule_version(codec), "%s: err.version %d", where, err.version);

    /* Against the unreadable page: the same answer. */
    memset(&e2, 0, sizeof e2);
    st = mqtt_decode(codec, against_guard(bytes, len), len, &pkt, &e2);
    cr_assert(st == status && same_error(&e2, &err), "%s: against the unreadable page: %s %s",
              where, mqtt_status_name(st), e2.rule ? e2.rule : "-");

    /* Every proper prefix: NEED_MORE, or already the same error. */
    for (size_t k = 0; k < len; k++) {
        memset(&e2, 0, sizeof e2);
        st = mqtt_decode(codec, against_guard(bytes, k), k, &pkt, &e2);
        if (st == MQTT_NEED_MORE) continue;
        cr_assert(st == status && same_error(&e2, &err),
                  "%s: prefix of %zu bytes: %s %s at %zu, expected NEED_MORE or %s at %zu", where,
                  k, mqtt_status_name(st), e2.rule ? e2.rule : "-", e2.offset, rule, offset);
    }
    return err;
}

mqtt_error tv_reject(const char *file, int line, const mqtt_codec *codec, const char *hex,
                     mqtt_status status, const char *rule, size_t offset, uint8_t reason)
{
    static uint8_t b[TV_MAX_BYTES];
    size_t n = tv_hex(hex, b, sizeof b);
    return tv_reject_bytes(file, line, codec, b, n, status, rule, offset, reason);
}

void tv_encode_ok(const char *file, int line, const mqtt_codec *codec, const mqtt_packet *pkt,
                  const char *hex)
{
    static uint8_t b[TV_MAX_BYTES];
    char where[256];
    snprintf(where, sizeof where, "%s:%d (encode)", file, line);
    size_t n = tv_hex(hex, b, sizeof b);
    check_reencode(where, codec, pkt, b, n);
    /* And the bytes decode (with every check above) and re-encode the same. */
    tv_decode_bytes_canon(file, line, codec, b, n, NULL, 0);
}

void tv_encode_refused(const char *file, int line, const mqtt_codec *codec,
                       const mqtt_packet *pkt, mqtt_status status, const char *rule)
{
    mqtt_error err;
    memset(&err, 0, sizeof err);
    size_t size = 12345;
    mqtt_status st = mqtt_encoded_size(codec, pkt, &size, &err);
    cr_assert_eq(st, status, "%s:%d: mqtt_encoded_size: %s (%s), expected %s", file, line,
                 mqtt_status_name(st), st == MQTT_OK ? "-" : err.rule, mqtt_status_name(status));
    cr_assert(err.rule != NULL, "%s:%d: no rule id", file, line);
    cr_assert_str_eq(err.rule, rule, "%s:%d: rule %s, expected %s (%s)", file, line, err.rule,
                     rule, err.message ? err.message : "-");

    uint8_t out[512];
    memset(out, 0xA5, sizeof out);
    size_t written = 0;
    memset(&err, 0, sizeof err);
    st = mqtt_encode(codec, pkt, out, sizeof out, &written, &err);
    cr_assert_eq(st, status, "%s:%d: mqtt_encode: %s, expected %s", file, line,
                 mqtt_status_name(st), mqtt_status_name(status));
    cr_assert(err.rule != NULL && strcmp(err.rule, rule) == 0, "%s:%d: mqtt_encode rule %s",
              file, line, err.rule ? err.rule : "(null)");
    for (size_t i = 0; i < sizeof out; i++)
        cr_assert_eq(out[i], 0xA5, "%s:%d: refused encode wrote byte %zu", file, line, i);
}
