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
prop_type prop_type_of(unsigned id);

/*
 * Checks one property's identity and value: allowed in this context (ctx is a
 * packet type or CTX_WILL) sent by `from`, and in range. Returns NULL or the
 * rule broken, with *status and *reason set. Duplicates are the caller's job.
 */
const char *prop_check(unsigned id, unsigned ctx, mqtt_side from, const mqtt_properties *p,
                       bool check_strings, mqtt_status *status, uint8_t *reason, const char **message);
/* The spec section that defines property `id` in context `ctx` (for duplicates and ranges). */
const char *prop_section(unsigned id, unsigned ctx);
/* Where the single value of property `id` lives in *p (uint8_t, uint16_t, uint32_t or
 * mqtt_bytes, by prop_type_of); NULL for User Property and Subscription Identifier. */
void *prop_slot(mqtt_properties *p, unsigned id);

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
 * The common topic name: ASCII without NUL, '+' or '#', 1..65535 bytes, checked 16 (SSE2)
 * or 8 (SWAR) bytes at a time with an overlapping last load. false means "take the full
 * check" (topic_name_problem), never "invalid". The SWAR zero-byte test
 * (x - 0x01..) & ~x & 0x80.. has no false negatives, only false positives after a real
 * match, which the full check then sorts out.
 */
static inline bool topic_name_plain(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 65535) return false;
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i plus = _mm_set1_epi8('+'), hash = _mm_set1_epi8('#'), zero = _mm_setzero_si128();
        __m128i acc = zero;
        for (size_t i = 0;; i += 16) {
            if (i + 16 > n) i = n - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, plus),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, hash), _mm_cmpeq_epi8(v, zero)));
            acc = _mm_or_si128(acc, _mm_or_si128(v, hit)); /* v's own top bit: not ASCII */
            if (i + 16 == n) break;
        }
        return _mm_movemask_epi8(acc) == 0;
    }
#endif
    if (n < 8) {
        for (size_t i = 0; i < n; i++) {
            uint8_t c = p[i];
            if (c == 0 || c >= 0x80 || c == '+' || c == '#') return false;
        }
        return true;
    }
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t bad = 0;
    for (size_t i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        uint64_t w, plus, hash;
        __builtin_memcpy(&w, p + i, 8);
        plus = w ^ (ones * '+');
        hash = w ^ (ones * '#');
        bad |= w | ((w - ones) & ~w) | ((plus - ones) & ~plus) | ((hash - ones) & ~hash);
        if (i + 8 == n) break;
    }
    return (bad & highs) == 0;
}

/* Bytes a Variable Byte Integer takes (1..4); v must be <= MQTT_MAX_REMAINING_LENGTH. */
static inline size_t varint_size(uint32_t v)
{
    return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

#endif
