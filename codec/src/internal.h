/*
 * libmqttcodec internals shared by the decoder and the encoder: the checks
 * both run (so the encoder never produces what the decoder rejects), the
 * property table, and the rule-id helpers.
 *
 * Invariant: every check returns NULL when the input is valid, else the rule
 * id it breaks (a static string) and, through the error helpers, a class and
 * a reason code. Nothing here allocates or touches I/O.
 */
#ifndef MQTT_INTERNAL_H
#define MQTT_INTERNAL_H

#include "mqtt/codec.h"
#include "mqtt/topic.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Picks the rule id of the spec in force: 3.1 and 3.1.1 share the 3.1.1 ids. */
static inline const char *rule_for(mqtt_version v, const char *id311, const char *id5)
{
    return v == MQTT_V5 ? id5 : id311;
}
#define RULE(v, id311, id5) rule_for((v), (id311), (id5))

/* MQTT 5 reason codes the codec reports. */
enum {
    RC_MALFORMED = 0x81,
    RC_PROTOCOL_ERROR = 0x82,
    RC_IMPLEMENTATION_SPECIFIC = 0x83,
    RC_UNSUPPORTED_VERSION = 0x84,
    RC_TOPIC_FILTER_INVALID = 0x8F,
    RC_TOPIC_NAME_INVALID = 0x90,
    RC_TOPIC_ALIAS_INVALID = 0x94,
    RC_PACKET_TOO_LARGE = 0x95
};

/* Fills *err (if not NULL) and returns status. */
mqtt_status codec_fail(mqtt_error *err, mqtt_status status, mqtt_version v, const char *rule,
                       size_t offset, uint8_t reason, const char *message);

/* Property contexts: bit (1 << packet type), plus the Will properties. */
#define CTX_WILL 0 /* packet type 0 is reserved, so bit 0 stands for the Will */
#define CTX(t) (1u << (t))

/* Value types of properties (section 2.2.2.2). */
typedef enum { PT_NONE, PT_BYTE, PT_U16, PT_U32, PT_VARINT, PT_UTF8, PT_BINARY, PT_PAIR } prop_type;

/* What the codec knows of each property id (properties.c): value type, the contexts
 * (CTX() bits) where it may appear, and where its single value lives in
 * mqtt_properties (0 for the repeated User Property and Subscription Identifier). */
typedef struct {
    uint8_t type;
    uint16_t contexts;
    uint16_t offset;
} prop_info;
#define PROP_ID_LIMIT 0x2B
extern const prop_info codec_props[PROP_ID_LIMIT];

static inline prop_type prop_type_of(unsigned id)
{
    return id < PROP_ID_LIMIT ? (prop_type)codec_props[id].type : PT_NONE;
}

static inline bool prop_allowed(unsigned id, unsigned ctx)
{
    return id < PROP_ID_LIMIT && (codec_props[id].contexts & CTX(ctx));
}

/* Where the single value of property `id` lives in *p (uint8_t, uint16_t, uint32_t or
 * mqtt_bytes, by prop_type_of); NULL for User Property and Subscription Identifier. */
static inline void *prop_slot(mqtt_properties *p, unsigned id)
{
    unsigned off = id < PROP_ID_LIMIT ? codec_props[id].offset : 0;
    return off ? (void *)((char *)p + off) : NULL;
}

/* Properties whose values the decoder must still check after reading them (ranges,
 * booleans, sender rules, wildcards); the other strings are checked as they are read. */
#define PROPS_VALUE_CHECKED                                                                    \
    (MQTT_PROP_BIT(0x01) | MQTT_PROP_BIT(0x08) | MQTT_PROP_BIT(0x0B) | MQTT_PROP_BIT(0x11) |    \
     MQTT_PROP_BIT(0x17) | MQTT_PROP_BIT(0x19) | MQTT_PROP_BIT(0x21) | MQTT_PROP_BIT(0x23) |    \
     MQTT_PROP_BIT(0x24) | MQTT_PROP_BIT(0x25) | MQTT_PROP_BIT(0x27) | MQTT_PROP_BIT(0x28) |    \
     MQTT_PROP_BIT(0x29) | MQTT_PROP_BIT(0x2A))

/*
 * Checks one property's identity and value: allowed in this context (ctx is a
 * packet type or CTX_WILL) sent by `from`, and in range. Returns NULL or the
 * rule broken, with *status and *reason set. Duplicates are the caller's job.
 */
const char *prop_check(unsigned id, unsigned ctx, mqtt_side from, const mqtt_properties *p,
                       bool check_strings, mqtt_status *status, uint8_t *reason, const char **message);
/* The spec section that defines property `id` in context `ctx` (for duplicates and ranges). */
const char *prop_section(unsigned id, unsigned ctx);

/* Checks what only makes sense across properties (e.g. auth data needs a method). */
const char *props_check_set(unsigned ctx, const mqtt_properties *p, const char **message);

/* Whether a reason code may be sent in this packet type by `from` (MQTT 5). */
bool reason_allowed(mqtt_packet_type type, mqtt_side from, uint8_t code);
/* Rule broken by a reason code not allowed in this packet type (MQTT 5). */
const char *reason_rule(mqtt_packet_type type);

/* Which side may send a packet type in a version: CONNECT, SUBSCRIBE, UNSUBSCRIBE and
 * PINGREQ come from clients; CONNACK, SUBACK, UNSUBACK and PINGRESP from servers; a 3.x
 * server never sends DISCONNECT (it just closes). Inline: it runs for every packet. */
static inline bool side_allowed(mqtt_version v, mqtt_packet_type type, mqtt_side from)
{
    enum { CLIENT_ONLY = 1 << 1 | 1 << 8 | 1 << 10 | 1 << 12, SERVER_ONLY = 1 << 2 | 1 << 9 | 1 << 11 | 1 << 13 };
    unsigned bit = 1u << type;
    if (from == MQTT_FROM_CLIENT) return !(SERVER_ONLY & bit);
    return !(CLIENT_ONLY & bit) && !(type == MQTT_DISCONNECT && v != MQTT_V5);
}

/* Required fixed-header flags for types other than PUBLISH, and the rule for them. */
static inline uint8_t required_flags(mqtt_packet_type t)
{
    return (t == MQTT_PUBREL || t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE) ? 0x2 : 0x0;
}
const char *flags_rule(mqtt_version v, mqtt_packet_type t);

/* UTF-8 / topic checks with class and reason (mqtt_utf8_check etc. give only the rule). */
const char *topic_name_problem(mqtt_version v, mqtt_bytes topic, bool alias_present,
                               mqtt_status *status, uint8_t *reason, const char **message);
/* The same for a Will Topic: its wildcard rule is the general one of 4.7, not PUBLISH's 3.3.2-2. */
const char *will_topic_problem(mqtt_version v, mqtt_bytes topic, mqtt_status *status,
                               uint8_t *reason, const char **message);
const char *topic_filter_problem(mqtt_version v, mqtt_bytes filter, mqtt_status *status,
                                 uint8_t *reason, const char **message);

/*
 * The common string: ASCII without NUL (and, for topic names, without '+' or '#'),
 * checked 16 (SSE2) or 8 (SWAR) bytes at a time with an overlapping last load. true
 * means valid; false means "take the full check", never "invalid". The SWAR zero-byte
 * test (x - 0x01..) & ~x & 0x80.. has no false negatives, only false positives after a
 * real match, which the full check then sorts out. Inline: it runs on every string.
 */
static inline __attribute__((always_inline)) bool ascii_plain(const uint8_t *p, size_t n, bool no_wildcards)
{
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i plus = _mm_set1_epi8('+'), hash = _mm_set1_epi8('#'), zero = _mm_setzero_si128();
        __m128i acc = zero;
        for (size_t i = 0;; i += 16) {
            if (i + 16 > n) i = n - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i hit = _mm_cmpeq_epi8(v, zero);
            if (no_wildcards)
                hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(v, plus), _mm_cmpeq_epi8(v, hash)));
            acc = _mm_or_si128(acc, _mm_or_si128(v, hit)); /* v's own top bit: not ASCII */
            if (i + 16 == n) break;
        }
        return _mm_movemask_epi8(acc) == 0;
    }
#endif
    if (n < 4) {
        for (size_t i = 0; i < n; i++) {
            uint8_t c = p[i];
            if (c == 0 || c >= 0x80 || (no_wildcards && (c == '+' || c == '#'))) return false;
        }
        return true;
    }
    if (n < 8) { /* two overlapping 4-byte words */
        const uint32_t ones4 = 0x01010101u;
        uint32_t bad = 0;
        for (size_t i = 0; i <= n - 4; i = (i == n - 4) ? n : n - 4) {
            uint32_t w;
            __builtin_memcpy(&w, p + i, 4);
            bad |= w | ((w - ones4) & ~w);
            if (no_wildcards) {
                uint32_t plus = w ^ (ones4 * '+'), hash = w ^ (ones4 * '#');
                bad |= ((plus - ones4) & ~plus) | ((hash - ones4) & ~hash);
            }
        }
        return (bad & 0x80808080u) == 0;
    }
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t bad = 0;
    for (size_t i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        bad |= w | ((w - ones) & ~w);
        if (no_wildcards) {
            uint64_t plus = w ^ (ones * '+'), hash = w ^ (ones * '#');
            bad |= ((plus - ones) & ~plus) | ((hash - ones) & ~hash);
        }
        if (i + 8 == n) break;
    }
    return (bad & highs) == 0;
}

/* A plain topic name: 1..65535 bytes of ASCII without NUL, '+' or '#'. */
static inline bool topic_name_plain(const uint8_t *p, size_t n)
{
    return n > 0 && n <= 65535 && ascii_plain(p, n, true);
}

/* mqtt_utf8_check with the plain case inline: NULL when valid, else the rule broken. */
static inline const char *utf8_rule(mqtt_version v, mqtt_bytes s, size_t *bad_at)
{
    return ascii_plain(s.ptr, s.len, false) ? NULL : mqtt_utf8_check(v, s, bad_at);
}

/* Bytes a Variable Byte Integer takes (1..4); v must be <= MQTT_MAX_REMAINING_LENGTH. */
static inline size_t varint_size(uint32_t v)
{
    return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

#endif
