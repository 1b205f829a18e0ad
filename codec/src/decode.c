/*
 * The decoder: bytes -> mqtt_packet, every rule checked (see codec.h).
 *
 * Invariants:
 * - Reads go through the reader `rd`, which knows two ends: the end of the
 *   packet (from the remaining length) and the end of the bytes available.
 *   Crossing the first is malformed; crossing only the second is "need more".
 *   So a partial buffer answers MQTT_NEED_MORE only while every complete field
 *   seen so far is valid, and nothing past `len` is ever read.
 * - Views point into the caller's buffer; repeated items go into the caller
 *   arrays of mqtt_codec. Nothing is allocated.
 * - Checks shared with the encoder live in properties.c, topic.c, names.c.
 */
#include <string.h>

#include "internal.h"

typedef struct {
    const uint8_t *buf;
    size_t pos;        /* next byte to read */
    size_t end;        /* end of the current packet (or property block) */
    size_t avail;      /* bytes available in buf */
    const mqtt_codec *c;
    mqtt_version v;    /* version whose rules apply */
    mqtt_error *err;
    size_t n_user;     /* user properties stored so far in c->user_properties */
    size_t n_subid;    /* subscription identifiers stored so far */
} rd;

#define TRY(expr)                                   \
    do {                                            \
        mqtt_status s_ = (expr);                    \
        if (s_ != MQTT_OK) return s_;               \
    } while (0)

static mqtt_status fail(rd *r, mqtt_status st, const char *rule, size_t at, uint8_t reason,
                        const char *message)
{
    return codec_fail(r->err, st, r->v, rule, at, reason, message);
}

static mqtt_status malformed(rd *r, const char *rule, size_t at, const char *message)
{
    return fail(r, MQTT_ERR_MALFORMED, rule, at, RC_MALFORMED, message);
}

static mqtt_status protocol(rd *r, const char *rule, size_t at, const char *message)
{
    return fail(r, MQTT_ERR_PROTOCOL, rule, at, RC_PROTOCOL_ERROR, message);
}

/* Rule for a field that runs past the remaining length. */
static const char *length_rule(mqtt_version v)
{
    return RULE(v, "MQTT-2.2.3", "MQTT-2.1.4");
}

/* Makes sure n bytes can be read at r->pos. */
static inline mqtt_status need(rd *r, size_t n)
{
    if (n > r->end - r->pos)
        return malformed(r, length_rule(r->v), r->pos, "field runs past the end of the packet");
    if (n > r->avail - r->pos) return MQTT_NEED_MORE;
    return MQTT_OK;
}

static inline mqtt_status read_u8(rd *r, uint8_t *out)
{
    TRY(need(r, 1));
    *out = r->buf[r->pos++];
    return MQTT_OK;
}

static inline mqtt_status read_u16(rd *r, uint16_t *out)
{
    TRY(need(r, 2));
    *out = (uint16_t)(r->buf[r->pos] << 8 | r->buf[r->pos + 1]);
    r->pos += 2;
    return MQTT_OK;
}

static inline mqtt_status read_u32(rd *r, uint32_t *out)
{
    TRY(need(r, 4));
    const uint8_t *b = r->buf + r->pos;
    *out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    r->pos += 4;
    return MQTT_OK;
}

/* A Variable Byte Integer (5.0 section 1.5.5): at most 4 bytes, minimal. */
static mqtt_status read_varint_long(rd *r, uint32_t *out)
{
    size_t start = r->pos;
    uint32_t value = 0;
    for (unsigned i = 0;; i++) {
        uint8_t b;
        TRY(read_u8(r, &b));
        value |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
        if (i == 3) return malformed(r, "MQTT-1.5.5", start, "Variable Byte Integer longer than 4 bytes");
    }
    if (r->pos - start > varint_size(value))
        return malformed(r, "MQTT-1.5.5-1", start, "Variable Byte Integer not in its shortest form");
    *out = value;
    return MQTT_OK;
}

/* Property ids and lengths are almost always one byte: that case inline. */
static inline mqtt_status read_varint(rd *r, uint32_t *out)
{
    if (r->pos < r->end && r->pos < r->avail && r->buf[r->pos] < 0x80) {
        *out = r->buf[r->pos++];
        return MQTT_OK;
    }
    return read_varint_long(r, out);
}

/* Two-byte length then bytes (Binary Data). */
static inline mqtt_status read_bin(rd *r, mqtt_bytes *out)
{
    uint16_t n;
    TRY(read_u16(r, &n));
    TRY(need(r, n));
    out->ptr = r->buf + r->pos;
    out->len = n;
    r->pos += n;
    return MQTT_OK;
}

/* A UTF-8 Encoded String: length-prefixed and well-formed (MQTT-1.5.3-1/2, MQTT-1.5.4-1/2). */
static inline mqtt_status read_utf8(rd *r, mqtt_bytes *out, const char *message)
{
    TRY(read_bin(r, out));
    size_t bad;
    const char *rule = utf8_rule(r->v, *out, &bad);
    if (rule) return malformed(r, rule, (size_t)(out->ptr - r->buf) + bad, message);
    return MQTT_OK;
}

/* One string of a UTF-8 String Pair: its own statement covers both strings (MQTT-1.5.7-1). */
static mqtt_status read_pair_string(rd *r, mqtt_bytes *out, const char *message)
{
    TRY(read_bin(r, out));
    size_t bad;
    if (utf8_rule(r->v, *out, &bad)) return malformed(r, "MQTT-1.5.7-1", (size_t)(out->ptr - r->buf) + bad, message);
    return MQTT_OK;
}

/* ---------------------------------------------------------------- properties */

static mqtt_status read_props(rd *r, unsigned ctx, mqtt_properties *p)
{
    p->present = 0;
    p->user_property_count = 0;
    p->subscription_identifier_count = 0;
    p->user_properties = r->c->user_properties ? r->c->user_properties + r->n_user : NULL;
    p->subscription_identifiers =
        r->c->subscription_identifiers ? r->c->subscription_identifiers + r->n_subid : NULL;

    size_t block = r->pos;
    uint32_t plen;
    TRY(read_varint(r, &plen));
    if (plen > r->end - r->pos)
        return malformed(r, "MQTT-2.2.2.1", block, "Property Length runs past the end of the packet");
    size_t packet_end = r->end;
    r->end = r->pos + plen;
    uint32_t at[0x2B];

    while (r->pos < r->end) {
        size_t here = r->pos;
        uint32_t id;
        TRY(read_varint(r, &id));
        prop_type type = prop_type_of(id);
        if (type == PT_NONE) return malformed(r, "MQTT-2.2.2.2", here, "unknown property identifier");
        bool repeats = id == MQTT_PROP_USER_PROPERTY ||
                       (id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER && ctx == MQTT_PUBLISH);
        if ((p->present & MQTT_PROP_BIT(id)) && !repeats)
            return protocol(r, prop_section(id, ctx), here, "property appears more than once");
        void *slot = prop_slot(p, id);
        switch (type) {
        case PT_BYTE: TRY(read_u8(r, slot)); break;
        case PT_U16: TRY(read_u16(r, slot)); break;
        case PT_U32: TRY(read_u32(r, slot)); break;
        case PT_UTF8: TRY(read_utf8(r, slot, "string property is not valid UTF-8 (or contains U+0000)")); break;
        case PT_BINARY: TRY(read_bin(r, slot)); break;
        case PT_VARINT: {
            uint32_t value;
            TRY(read_varint(r, &value));
            if (r->n_subid >= r->c->subscription_identifiers_cap)
                return fail(r, MQTT_ERR_LIMIT, "LIMIT-subscription-identifiers", here,
                            RC_IMPLEMENTATION_SPECIFIC, "more Subscription Identifiers than the caller array holds");
            r->c->subscription_identifiers[r->n_subid++] = value;
            p->subscription_identifier_count++;
            break;
        }
        case PT_PAIR: {
            mqtt_user_property up;
            TRY(read_pair_string(r, &up.name, "User Property name is not valid UTF-8 (or contains U+0000)"));
            TRY(read_pair_string(r, &up.value, "User Property value is not valid UTF-8 (or contains U+0000)"));
            if (r->n_user >= r->c->user_properties_cap)
                return fail(r, MQTT_ERR_LIMIT, "LIMIT-user-properties", here, RC_IMPLEMENTATION_SPECIFIC,
                            "more User Properties than the caller array holds");
            r->c->user_properties[r->n_user++] = up;
            p->user_property_count++;
            break;
        }
        case PT_NONE: break;
        }
        p->present |= MQTT_PROP_BIT(id);
        at[id] = (uint32_t)here;
    }
    r->end = packet_end;

    /* Identity and range checks, shared with the encoder; only where there is something
     * left to check (a property not allowed here, or one with a value rule). */
    for (uint64_t bits = p->present; bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        if (prop_allowed(id, ctx) && !(PROPS_VALUE_CHECKED & MQTT_PROP_BIT(id))) continue;
        mqtt_status st;
        uint8_t reason;
        const char *message;
        const char *rule = prop_check(id, ctx, r->c->from, p, false, &st, &reason, &message);
        if (rule) return fail(r, st, rule, at[id], reason, message);
    }
    const char *message;
    const char *rule = props_check_set(ctx, p, &message);
    if (rule) return protocol(r, rule, block, message);
    return MQTT_OK;
}

/* Properties where the packet may end before them (acks, DISCONNECT, AUTH in 5.0). */
static void no_props(mqtt_properties *p)
{
    p->present = 0;
    p->user_property_count = 0;
    p->subscription_identifier_count = 0;
    p->user_properties = NULL;
    p->subscription_identifiers = NULL;
}

/* The packet must end exactly here. */
static mqtt_status at_end(rd *r, const char *rule)
{
    if (r->pos != r->end) return malformed(r, rule, r->pos, "unexpected bytes after the last field");
    return MQTT_OK;
}

static mqtt_status check_reason(rd *r, mqtt_packet_type type, uint8_t code, size_t at)
{
    if (reason_allowed(type, r->c->from, code)) return MQTT_OK;
    return protocol(r, reason_rule(type), at, "reason code not allowed in this packet from this sender");
}

/* ---------------------------------------------------------------- packets */

static mqtt_status decode_connect(rd *r, mqtt_connect *c, const mqtt_codec *codec)
{
    size_t at = r->pos;
    TRY(read_bin(r, &c->protocol_name));
    TRY(read_u8(r, &c->protocol_level));
    bool mqtt = c->protocol_name.len == 4 && memcmp(c->protocol_name.ptr, "MQTT", 4) == 0;
    bool mqisdp = c->protocol_name.len == 6 && memcmp(c->protocol_name.ptr, "MQIsdp", 6) == 0;
    mqtt_version v = (mqtt_version)c->protocol_level;
    /* Rules of the level the client asked for when we speak it, else of the codec's. */
    if ((mqisdp && v == MQTT_V31) || (mqtt && (v == MQTT_V311 || v == MQTT_V5))) {
        r->v = v;
    } else {
        /* A level-5 CONNECT with a wrong name still expects a 5.0 answer (5.0 MQTT-3.1.2-1). */
        r->v = (v == MQTT_V5 || codec->version == MQTT_V5) ? MQTT_V5 : MQTT_V311;
        if (!mqtt && !mqisdp)
            return fail(r, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-1", at, RC_UNSUPPORTED_VERSION,
                        "protocol name is neither \"MQTT\" nor \"MQIsdp\"");
        return fail(r, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-2", at + c->protocol_name.len + 2,
                    RC_UNSUPPORTED_VERSION, "protocol level not supported for this protocol name");
    }
    size_t flags_at = r->pos;
    uint8_t flags;
    TRY(read_u8(r, &flags));
    if (flags & 0x01) return malformed(r, "MQTT-3.1.2-3", flags_at, "CONNECT reserved flag is not 0");
    c->clean_start = flags & 0x02;
    c->will = flags & 0x04;
    c->will_qos = (flags >> 3) & 0x03;
    c->will_retain = flags & 0x20;
    c->has_password = flags & 0x40;
    c->has_username = flags & 0x80;
    if (!c->will && c->will_qos != 0)
        return malformed(r, RULE(v, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), flags_at, "Will QoS is not 0 without a Will");
    if (c->will_qos == 3)
        return malformed(r, RULE(v, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), flags_at, "Will QoS is 3");
    if (!c->will && c->will_retain)
        return malformed(r, RULE(v, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), flags_at, "Will Retain is set without a Will");
    if (v != MQTT_V5 && c->has_password && !c->has_username)
        return malformed(r, "MQTT-3.1.2-22", flags_at, "Password flag set without User Name flag");
    TRY(read_u16(r, &c->keep_alive));
    if (v == MQTT_V5) TRY(read_props(r, MQTT_CONNECT, &c->properties));
    else no_props(&c->properties);

    TRY(read_utf8(r, &c->client_id, "Client Identifier is not valid UTF-8 (or contains U+0000)"));
    if (c->will) {
        if (v == MQTT_V5) TRY(read_props(r, CTX_WILL, &c->will_properties));
        else no_props(&c->will_properties);
        size_t topic_at = r->pos + 2;
        TRY(read_bin(r, &c->will_topic));
        mqtt_status st;
        uint8_t reason;
        const char *message;
        const char *rule = will_topic_problem(v, c->will_topic, &st, &reason, &message);
        if (rule) return fail(r, st, rule, topic_at, reason, message);
        TRY(read_bin(r, &c->will_payload));
    } else {
        no_props(&c->will_properties);
        c->will_topic = c->will_payload = (mqtt_bytes){NULL, 0};
    }
    c->username = c->password = (mqtt_bytes){NULL, 0};
    if (c->has_username) TRY(read_utf8(r, &c->username, "User Name is not valid UTF-8 (or contains U+0000)"));
    if (c->has_password) TRY(read_bin(r, &c->password));
    return at_end(r, "MQTT-3.1.3-1");
}

static mqtt_status decode_connack(rd *r, mqtt_connack *a)
{
    if (r->v != MQTT_V5 && r->end - r->pos != 2)
        return malformed(r, "MQTT-3.2.1", 1, "CONNACK remaining length is not 2");
    size_t at = r->pos;
    uint8_t flags;
    TRY(read_u8(r, &flags));
    /* 3.1 has no Session Present flag: the whole byte is reserved. */
    uint8_t reserved = r->v == MQTT_V31 ? 0xFF : 0xFE;
    if (flags & reserved)
        return malformed(r, RULE(r->v, "MQTT-3.2.2.1", "MQTT-3.2.2-1"), at, "CONNACK reserved flags are not 0");
    a->session_present = flags & 0x01;
    size_t rc_at = r->pos;
    TRY(read_u8(r, &a->reason_code));
    if (r->v == MQTT_V5) {
        TRY(check_reason(r, MQTT_CONNACK, a->reason_code, rc_at));
        TRY(read_props(r, MQTT_CONNACK, &a->properties));
    } else {
        no_props(&a->properties);
        if (a->reason_code > 5)
            return protocol(r, "MQTT-3.2.2.3", rc_at, "CONNACK return code is reserved (above 5)");
    }
    if (a->session_present && a->reason_code != 0)
        return protocol(r, RULE(r->v, "MQTT-3.2.2-4", "MQTT-3.2.2-6"), at,
                        "Session Present is set with a non-zero return code");
    return at_end(r, RULE(r->v, "MQTT-3.2.1", "MQTT-3.2.2"));
}

/* A Packet Identifier of 0 (cold path of decode_packet_id). */
static mqtt_status packet_id_zero(rd *r, mqtt_packet_type type, size_t at)
{
    const char *rule;
    if (type == MQTT_PUBLISH || type == MQTT_SUBSCRIBE || type == MQTT_UNSUBSCRIBE)
        rule = RULE(r->v, "MQTT-2.3.1-1",
                    r->c->from == MQTT_FROM_CLIENT ? "MQTT-2.2.1-3" : "MQTT-2.2.1-4");
    else
        rule = RULE(r->v, "MQTT-2.3.1", "MQTT-2.2.1");
    return protocol(r, rule, at, "Packet Identifier is 0");
}

static inline mqtt_status decode_packet_id(rd *r, uint16_t *id, mqtt_packet_type type)
{
    TRY(read_u16(r, id));
    return *id ? MQTT_OK : packet_id_zero(r, type, r->pos - 2);
}

static mqtt_status decode_publish(rd *r, mqtt_publish *p, uint8_t flags)
{
    p->qos = (flags >> 1) & 0x03;
    p->dup = flags & 0x08;
    p->retain = flags & 0x01;
    if (p->qos == 3) return malformed(r, "MQTT-3.3.1-4", 0, "PUBLISH QoS is 3");
    if (p->dup && p->qos == 0) return malformed(r, "MQTT-3.3.1-2", 0, "DUP is set on a QoS 0 PUBLISH");
    size_t topic_at = r->pos + 2;
    TRY(read_bin(r, &p->topic));
    p->packet_id = 0;
    if (p->qos > 0) TRY(decode_packet_id(r, &p->packet_id, MQTT_PUBLISH));
    if (r->v == MQTT_V5) TRY(read_props(r, MQTT_PUBLISH, &p->properties));
    else no_props(&p->properties);
    if (!topic_name_plain(p->topic.ptr, p->topic.len)) {
        mqtt_status st;
        uint8_t reason;
        const char *message;
        const char *rule = topic_name_problem(r->v, p->topic,
                                              MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS), &st,
                                              &reason, &message);
        if (rule) return fail(r, st, rule, topic_at, reason, message);
    }
    TRY(need(r, r->end - r->pos));
    p->payload.ptr = r->buf + r->pos;
    p->payload.len = r->end - r->pos;
    r->pos = r->end;
    return MQTT_OK;
}

static mqtt_status decode_ack(rd *r, mqtt_ack *a, mqtt_packet_type type)
{
    if (r->v != MQTT_V5 && r->end - r->pos != 2) {
        static const char *const rules[] = {"MQTT-3.4.1", "MQTT-3.5.1", "MQTT-3.6.1", "MQTT-3.7.1"};
        return malformed(r, rules[type - MQTT_PUBACK], 1, "acknowledgement remaining length is not 2");
    }
    TRY(decode_packet_id(r, &a->packet_id, type));
    a->reason_code = 0;
    no_props(&a->properties);
    if (r->v != MQTT_V5 || r->pos == r->end) return MQTT_OK;
    size_t rc_at = r->pos;
    TRY(read_u8(r, &a->reason_code));
    TRY(check_reason(r, type, a->reason_code, rc_at));
    if (r->pos == r->end) return MQTT_OK;
    TRY(read_props(r, type, &a->properties));
    return at_end(r, "MQTT-2.2.2.1");
}

static mqtt_status decode_subscribe(rd *r, mqtt_subscribe *s, mqtt_packet_type type)
{
    TRY(decode_packet_id(r, &s->packet_id, type));
    if (r->v == MQTT_V5) TRY(read_props(r, type, &s->properties));
    else no_props(&s->properties);
    s->subscriptions = r->c->subscriptions;
    s->count = 0;
    bool sub = type == MQTT_SUBSCRIBE;
    if (r->pos == r->end) {
        const char *rule = sub ? RULE(r->v, "MQTT-3.8.3-3", "MQTT-3.8.3-2") : "MQTT-3.10.3-2";
        return protocol(r, rule, r->pos, sub ? "SUBSCRIBE has no Topic Filter" : "UNSUBSCRIBE has no Topic Filter");
    }
    while (r->pos < r->end) {
        size_t at = r->pos;
        mqtt_subscription e = {0};
        TRY(read_bin(r, &e.topic_filter));
        mqtt_status st;
        uint8_t reason;
        const char *message;
        const char *rule = topic_filter_problem(r->v, e.topic_filter, &st, &reason, &message);
        if (rule) return fail(r, st, rule, at + 2, reason, message);
        if (sub) {
            size_t opt_at = r->pos;
            uint8_t o;
            TRY(read_u8(r, &o));
            e.qos = o & 0x03;
            if (r->v == MQTT_V5) {
                e.no_local = o & 0x04;
                e.retain_as_published = o & 0x08;
                e.retain_handling = (o >> 4) & 0x03;
                if (o & 0xC0) return malformed(r, "MQTT-3.8.3-5", opt_at, "Subscription Options reserved bits are not 0");
                if (e.qos == 3) return protocol(r, "MQTT-3.8.3.1", opt_at, "Maximum QoS is 3");
                if (e.retain_handling == 3) return protocol(r, "MQTT-3.8.3.1", opt_at, "Retain Handling is 3");
                if (e.no_local && mqtt_shared_split(e.topic_filter, NULL, NULL))
                    return protocol(r, "MQTT-3.8.3-4", opt_at, "No Local is set on a Shared Subscription");
            } else if ((o & 0xFC) || e.qos == 3) {
                return malformed(r, "MQTT-3.8.3-4", opt_at, "requested QoS byte has reserved bits set or QoS 3");
            }
        }
        if (s->count >= r->c->subscriptions_cap)
            return fail(r, MQTT_ERR_LIMIT, "LIMIT-subscriptions", at, RC_IMPLEMENTATION_SPECIFIC,
                        "more Topic Filters than the caller array holds");
        r->c->subscriptions[s->count++] = e;
    }
    return MQTT_OK;
}

static mqtt_status decode_suback(rd *r, mqtt_suback *s, mqtt_packet_type type)
{
    if (type == MQTT_UNSUBACK && r->v != MQTT_V5 && r->end - r->pos != 2)
        return malformed(r, "MQTT-3.11.1", 1, "UNSUBACK remaining length is not 2");
    TRY(decode_packet_id(r, &s->packet_id, type));
    if (r->v == MQTT_V5) TRY(read_props(r, type, &s->properties));
    else no_props(&s->properties);
    s->reason_codes = (mqtt_bytes){NULL, 0};
    if (type == MQTT_UNSUBACK && r->v != MQTT_V5) return MQTT_OK;
    if (r->pos == r->end)
        return protocol(r, type == MQTT_SUBACK ? "MQTT-3.9.3" : "MQTT-3.11.3", r->pos,
                        "acknowledgement carries no reason code");
    TRY(need(r, r->end - r->pos));
    s->reason_codes = (mqtt_bytes){r->buf + r->pos, r->end - r->pos};
    for (size_t i = 0; i < s->reason_codes.len; i++) {
        uint8_t code = s->reason_codes.ptr[i];
        bool ok = r->v == MQTT_V5 ? reason_allowed(type, MQTT_FROM_SERVER, code)
                                  : (code <= 2 || (code == 0x80 && r->v == MQTT_V311));
        if (!ok)
            return protocol(r, RULE(r->v, "MQTT-3.9.3-2", reason_rule(type)), r->pos + i,
                            "reason code not allowed in this acknowledgement");
    }
    r->pos = r->end;
    return MQTT_OK;
}

/* DISCONNECT and AUTH: in 5.0 reason code and properties may be omitted. */
static mqtt_status decode_disconnect(rd *r, mqtt_disconnect *d, mqtt_packet_type type)
{
    d->reason_code = 0;
    no_props(&d->properties);
    if (r->v != MQTT_V5 || r->pos == r->end) return MQTT_OK;
    size_t rc_at = r->pos;
    TRY(read_u8(r, &d->reason_code));
    TRY(check_reason(r, type, d->reason_code, rc_at));
    if (r->pos == r->end) {
        if (type == MQTT_AUTH)
            return protocol(r, "MQTT-3.15.2.2.2", r->pos, "AUTH without Authentication Method");
        return MQTT_OK;
    }
    TRY(read_props(r, type, &d->properties));
    return at_end(r, "MQTT-2.2.2.1");
}

/*
 * Fast path for the most common packet: a whole 3.x PUBLISH with a plain ASCII topic.
 * It accepts only what decode_publish would accept and returns false on anything
 * unusual (errors included), which then takes the general path: so every rejection
 * is still reported in one place, with its rule.
 */
static inline bool publish_fast(const uint8_t *buf, size_t hdr, size_t total, uint8_t flags,
                                mqtt_publish *p)
{
    uint8_t qos = (flags >> 1) & 0x03;
    if (qos == 3 || (flags & 0x08 && qos == 0)) return false;
    size_t rl = total - hdr;
    size_t id_len = qos ? 2 : 0;
    if (rl < 2 + id_len) return false;
    const uint8_t *b = buf + hdr;
    size_t tlen = (size_t)b[0] << 8 | b[1];
    if (tlen > rl - 2 - id_len || !topic_name_plain(b + 2, tlen)) return false;
    uint16_t id = 0;
    if (qos) {
        id = (uint16_t)(b[2 + tlen] << 8 | b[3 + tlen]);
        if (id == 0) return false;
    }
    p->qos = qos;
    p->dup = flags & 0x08;
    p->retain = flags & 0x01;
    p->topic.ptr = b + 2;
    p->topic.len = tlen;
    p->packet_id = id;
    no_props(&p->properties);
    size_t head = 2 + tlen + id_len;
    p->payload.ptr = b + head;
    p->payload.len = rl - head;
    return true;
}

/* ---------------------------------------------------------------- entry */

/* The Remaining Length behind the first byte: at most 4 bytes, and in 5.0 in
 * its shortest form (MQTT-1.5.5-1). On MQTT_OK sets *rl and *hdr_len (the
 * fixed header's size, 2..5); "need more" while the buffer ends inside it. */
static mqtt_status read_remaining_length(rd *r, uint32_t *rl, size_t *hdr_len)
{
    uint32_t v = 0;
    size_t i = 1;
    for (;;) {
        if (i >= r->avail) return MQTT_NEED_MORE;
        uint8_t b = r->buf[i];
        v |= (uint32_t)(b & 0x7F) << (7 * (i - 1));
        i++;
        if (!(b & 0x80)) break;
        if (i == 5) return malformed(r, RULE(r->v, "MQTT-2.2.3", "MQTT-1.5.5"), 1, "Remaining Length longer than 4 bytes");
    }
    if (r->v == MQTT_V5 && i - 1 > varint_size(v))
        return malformed(r, "MQTT-1.5.5-1", 1, "Remaining Length not in its shortest form");
    *rl = v;
    *hdr_len = i;
    return MQTT_OK;
}

mqtt_status mqtt_peek_header(mqtt_version version, const uint8_t *buf, size_t len, mqtt_header *hdr,
                             mqtt_error *err)
{
    *hdr = (mqtt_header){0};
    if (len == 0) return MQTT_NEED_MORE;
    rd r = {.buf = buf, .pos = 0, .end = len, .avail = len, .v = version, .err = err};
    /* Type and flags are told from the first byte on, whatever follows. */
    hdr->type = (mqtt_packet_type)(buf[0] >> 4);
    hdr->flags = buf[0] & 0x0F;
    uint32_t rl;
    size_t n;
    TRY(read_remaining_length(&r, &rl, &n));
    hdr->remaining_length = rl;
    hdr->header_length = n;
    hdr->length = n + rl;
    return MQTT_OK;
}

/* The general path: any packet, any state, every error. */
static __attribute__((noinline)) mqtt_status decode_any(const mqtt_codec *codec, const uint8_t *buf,
                                                        size_t len, mqtt_packet *pkt, mqtt_error *err)
{
    pkt->length = 0;
    if (len == 0) return MQTT_NEED_MORE;
    rd r = {.buf = buf, .pos = 0, .end = len, .avail = len, .c = codec, .v = codec->version, .err = err};
    mqtt_packet_type type = (mqtt_packet_type)(buf[0] >> 4);
    uint8_t flags = buf[0] & 0x0F;
    pkt->type = type;
    pkt->flags = flags;

    if (type == 0 || (type == MQTT_AUTH && r.v != MQTT_V5))
        return malformed(&r, RULE(r.v, "MQTT-2.2.1", "MQTT-2.1.2"), 0, "reserved packet type");
    if (r.v == MQTT_VERSION_UNKNOWN && type != MQTT_CONNECT)
        return protocol(&r, "MQTT-3.1.0-1", 0, "the first packet must be CONNECT");
    if (type == MQTT_CONNECT && r.v == MQTT_VERSION_UNKNOWN) r.v = MQTT_V311;
    if (!side_allowed(r.v, type, codec->from))
        return protocol(&r, RULE(r.v, "MQTT-2.2.1", "MQTT-2.1.2"), 0,
                        codec->from == MQTT_FROM_CLIENT ? "packet type only a server may send"
                                                        : "packet type only a client may send");
    if (type != MQTT_PUBLISH && flags != required_flags(type))
        return malformed(&r, flags_rule(r.v, type), 0, "fixed header flags are not the required value");

    uint32_t rl;
    size_t i;
    TRY(read_remaining_length(&r, &rl, &i));
    size_t total = i + rl;
    pkt->remaining_length = rl;
    pkt->length = total;
    if (codec->max_packet_size && total > codec->max_packet_size)
        return fail(&r, MQTT_ERR_LIMIT,
                    r.v == MQTT_V5 ? (codec->from == MQTT_FROM_CLIENT ? "MQTT-3.2.2-15" : "MQTT-3.1.2-24")
                                   : "LIMIT-max-packet-size",
                    0, RC_PACKET_TOO_LARGE, "packet larger than the maximum packet size");
    r.pos = i;
    r.end = total;
    r.avail = len < total ? len : total;

    mqtt_status st;
    /* Documented: a rejected CONNECT still tells the level once it was read (else 0). */
    if (type == MQTT_CONNECT) pkt->connect.protocol_level = 0;
    switch (type) {
    case MQTT_CONNECT: st = decode_connect(&r, &pkt->connect, codec); break;
    case MQTT_CONNACK: st = decode_connack(&r, &pkt->connack); break;
    case MQTT_PUBLISH: st = decode_publish(&r, &pkt->publish, flags); break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: st = decode_ack(&r, &pkt->ack, type); break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: st = decode_subscribe(&r, &pkt->subscribe, type); break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: st = decode_suback(&r, &pkt->suback, type); break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        st = at_end(&r, type == MQTT_PINGREQ ? "MQTT-3.12.1" : "MQTT-3.13.1");
        break;
    case MQTT_DISCONNECT:
        st = r.v == MQTT_V5 ? decode_disconnect(&r, &pkt->disconnect, type) : at_end(&r, "MQTT-3.14.1");
        if (r.v != MQTT_V5) {
            pkt->disconnect.reason_code = 0;
            no_props(&pkt->disconnect.properties);
        }
        break;
    case MQTT_AUTH: st = decode_disconnect(&r, &pkt->disconnect, type); break;
    default: st = malformed(&r, "MQTT-2.2.1", 0, "reserved packet type"); break;
    }
    if (st != MQTT_OK) return st;
    if (len < total) return MQTT_NEED_MORE;
    return MQTT_OK;
}

mqtt_status mqtt_decode(const mqtt_codec *codec, const uint8_t *buf, size_t len, mqtt_packet *pkt,
                        mqtt_error *err)
{
    /* A whole 3.x PUBLISH with a 1- or 2-byte Remaining Length: the hot path of every
     * broker and tool. Anything it does not accept goes the general way. */
    if (len >= 2 && (buf[0] >> 4) == MQTT_PUBLISH &&
        (codec->version == MQTT_V311 || codec->version == MQTT_V31)) {
        size_t rl = buf[1], hdr = 2;
        if (rl & 0x80) {
            if (len < 3 || (buf[2] & 0x80)) goto general;
            rl = (rl & 0x7F) | (size_t)buf[2] << 7;
            hdr = 3;
        }
        size_t total = hdr + rl;
        if (len >= total && (!codec->max_packet_size || total <= codec->max_packet_size) &&
            publish_fast(buf, hdr, total, buf[0] & 0x0F, &pkt->publish)) {
            pkt->type = MQTT_PUBLISH;
            pkt->flags = buf[0] & 0x0F;
            pkt->remaining_length = (uint32_t)rl;
            pkt->length = total;
            return MQTT_OK;
        }
    }
general:
    return decode_any(codec, buf, len, pkt, err);
}
