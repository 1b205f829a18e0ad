/*
 * The encoder: mqtt_packet -> bytes, in two steps (size, then write).
 *
 * Invariants:
 * - Sizing validates the packet with the same checks the decoder runs
 *   (properties.c, topic.c, names.c), so the encoder never produces bytes its
 *   own decoder rejects; writing happens only after sizing succeeded and the
 *   caller's buffer is large enough, so a failed call writes nothing.
 * - Output is canonical: shortest Variable Byte Integers, properties in
 *   ascending identifier order (User Properties in their given order), and
 *   5.0 acknowledgements in their shortest allowed form.
 */
#include <string.h>

#include "internal.h"

typedef struct {
    const mqtt_codec *c;
    mqtt_version v;
    mqtt_error *err;
} enc;

#define TRY(expr)                                   \
    do {                                            \
        mqtt_status s_ = (expr);                    \
        if (s_ != MQTT_OK) return s_;               \
    } while (0)

static mqtt_status refuse(enc *e, mqtt_status st, const char *rule, uint8_t reason, const char *message)
{
    return codec_fail(e->err, st, e->v, rule, 0, reason, message);
}

static mqtt_status refuse_malformed(enc *e, const char *rule, const char *message)
{
    return refuse(e, MQTT_ERR_MALFORMED, rule, RC_MALFORMED, message);
}

static mqtt_status refuse_protocol(enc *e, const char *rule, const char *message)
{
    return refuse(e, MQTT_ERR_PROTOCOL, rule, RC_PROTOCOL_ERROR, message);
}

/* Adds k bytes to a size, refusing a sum above the MQTT maximum remaining
 * length (3.1.1 MQTT-2.2.3, 5.0 MQTT-1.5.5) before making it: lengths come
 * from the caller and may be anything, so a sum must never wrap. */
static mqtt_status grow(enc *e, size_t *size, size_t k)
{
    if (*size > MQTT_MAX_REMAINING_LENGTH || k > MQTT_MAX_REMAINING_LENGTH - *size)
        return refuse_malformed(e, RULE(e->v, "MQTT-2.2.3", "MQTT-1.5.5"), "packet too large for MQTT");
    *size += k;
    return MQTT_OK;
}

/* Size of a length-prefixed field; refuses more than 65535 bytes. */
static mqtt_status field(enc *e, mqtt_bytes b, size_t *size)
{
    if (b.len > 65535) return refuse_malformed(e, RULE(e->v, "MQTT-1.5.3", "MQTT-1.5.4"), "string or binary field longer than 65535 bytes");
    return grow(e, size, 2 + b.len);
}

static mqtt_status utf8_field(enc *e, mqtt_bytes b, size_t *size, const char *message)
{
    TRY(field(e, b, size));
    const char *rule = utf8_rule(e->v, b, NULL);
    return rule ? refuse_malformed(e, rule, message) : MQTT_OK;
}

static bool props_empty(const mqtt_properties *p)
{
    /* Bit 0 names no property: ignored here as when writing (singles_of), so it
     * cannot turn a shortest-form acknowledgement into a long one. */
    uint64_t singles = p->present & ~(MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY) |
                                      MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER) | 1u);
    return singles == 0 && p->user_property_count == 0 && p->subscription_identifier_count == 0;
}

/* Present single-valued properties, in ascending id order, without the repeated ones. */
static uint64_t singles_of(const mqtt_properties *p)
{
    return p->present & ~(MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY) |
                          MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER) | 1u);
}

/* Validates a property block for `ctx` and adds its size (with its length prefix) to *size. */
static mqtt_status props_size(enc *e, const mqtt_properties *p, unsigned ctx, size_t *size)
{
    if (e->v != MQTT_V5) {
        if (props_empty(p)) return MQTT_OK;
        return refuse_protocol(e, "LIMIT-not-in-version", "properties exist only in MQTT 5.0");
    }
    size_t n = 0;
    mqtt_status st;
    uint8_t reason;
    const char *message;
    mqtt_properties *mp = (mqtt_properties *)p; /* prop_slot only reads through it here */
    for (uint64_t bits = singles_of(p); bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        prop_type type = prop_type_of(id);
        const void *slot = prop_slot(mp, id);
        if (type == PT_NONE || !slot) return refuse_malformed(e, "MQTT-2.2.2.2", "unknown property identifier");
        const char *rule = prop_check(id, ctx, e->c->from, p, true, &st, &reason, &message);
        if (rule) return refuse(e, st, rule, reason, message);
        switch (type) {
        case PT_BYTE: TRY(grow(e, &n, 2)); break;
        case PT_U16: TRY(grow(e, &n, 3)); break;
        case PT_U32: TRY(grow(e, &n, 5)); break;
        default: TRY(grow(e, &n, 1)); TRY(field(e, *(const mqtt_bytes *)slot, &n)); break;
        }
    }
    if (p->user_property_count) {
        const char *rule = prop_check(MQTT_PROP_USER_PROPERTY, ctx, e->c->from, p, true, &st, &reason, &message);
        if (rule) return refuse(e, st, rule, reason, message);
        for (size_t i = 0; i < p->user_property_count; i++) {
            TRY(grow(e, &n, 1));
            TRY(field(e, p->user_properties[i].name, &n));
            TRY(field(e, p->user_properties[i].value, &n));
        }
    }
    if (p->subscription_identifier_count) {
        const char *rule =
            prop_check(MQTT_PROP_SUBSCRIPTION_IDENTIFIER, ctx, e->c->from, p, true, &st, &reason, &message);
        if (rule) return refuse(e, st, rule, reason, message);
        if (ctx != MQTT_PUBLISH && p->subscription_identifier_count > 1)
            return refuse_protocol(e, prop_section(MQTT_PROP_SUBSCRIPTION_IDENTIFIER, ctx),
                                   "more than one Subscription Identifier");
        for (size_t i = 0; i < p->subscription_identifier_count; i++)
            TRY(grow(e, &n, 1 + varint_size(p->subscription_identifiers[i])));
    }
    const char *rule = props_check_set(ctx, p, &message);
    if (rule) return refuse_protocol(e, rule, message);
    if (n > MQTT_MAX_REMAINING_LENGTH) return refuse_malformed(e, "MQTT-2.2.2.1", "properties too large");
    return grow(e, size, varint_size((uint32_t)n) + n);
}

static mqtt_status packet_id(enc *e, uint16_t id, mqtt_packet_type type)
{
    if (id != 0) return MQTT_OK;
    if (type == MQTT_PUBLISH || type == MQTT_SUBSCRIBE || type == MQTT_UNSUBSCRIBE)
        return refuse_protocol(e, RULE(e->v, "MQTT-2.3.1-1", e->c->from == MQTT_FROM_CLIENT ? "MQTT-2.2.1-3" : "MQTT-2.2.1-4"),
                               "Packet Identifier is 0");
    return refuse_protocol(e, RULE(e->v, "MQTT-2.3.1", "MQTT-2.2.1"), "Packet Identifier is 0");
}

static mqtt_status reason(enc *e, mqtt_packet_type type, uint8_t code)
{
    if (reason_allowed(type, e->c->from, code)) return MQTT_OK;
    return refuse_protocol(e, reason_rule(type), "reason code not allowed in this packet from this sender");
}

/* ---------------------------------------------------------------- sizes */

static mqtt_status connect_size(enc *e, const mqtt_connect *c, size_t *n)
{
    mqtt_bytes name = c->protocol_name;
    if (name.len == 0) name = e->v == MQTT_V31 ? (mqtt_bytes){(const uint8_t *)"MQIsdp", 6}
                                               : (mqtt_bytes){(const uint8_t *)"MQTT", 4};
    bool mqtt = name.len == 4 && memcmp(name.ptr, "MQTT", 4) == 0;
    bool mqisdp = name.len == 6 && memcmp(name.ptr, "MQIsdp", 6) == 0;
    if (!((mqisdp && e->v == MQTT_V31) || (mqtt && (e->v == MQTT_V311 || e->v == MQTT_V5))))
        return refuse(e, MQTT_ERR_UNSUPPORTED_VERSION, mqtt || mqisdp ? "MQTT-3.1.2-2" : "MQTT-3.1.2-1",
                      RC_UNSUPPORTED_VERSION, "protocol name and level do not match a supported version");
    mqtt_version v = e->v;
    if (c->will_qos > 2) return refuse_malformed(e, RULE(v, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), "Will QoS is 3");
    if (!c->will && c->will_qos) return refuse_malformed(e, RULE(v, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), "Will QoS is not 0 without a Will");
    if (!c->will && c->will_retain) return refuse_malformed(e, RULE(v, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), "Will Retain is set without a Will");
    if (v != MQTT_V5 && c->has_password && !c->has_username)
        return refuse_malformed(e, "MQTT-3.1.2-22", "Password without User Name");
    TRY(grow(e, n, 2 + name.len + 1 + 1 + 2));
    TRY(props_size(e, &c->properties, MQTT_CONNECT, n));
    TRY(utf8_field(e, c->client_id, n, "Client Identifier is not valid UTF-8 (or contains U+0000)"));
    if (c->will) {
        TRY(props_size(e, &c->will_properties, CTX_WILL, n));
        mqtt_status st;
        uint8_t rc;
        const char *message;
        const char *rule = will_topic_problem(v, c->will_topic, &st, &rc, &message);
        if (rule) return refuse(e, st, rule, rc, message);
        TRY(field(e, c->will_topic, n));
        TRY(field(e, c->will_payload, n));
    }
    if (c->has_username) TRY(utf8_field(e, c->username, n, "User Name is not valid UTF-8 (or contains U+0000)"));
    if (c->has_password) TRY(field(e, c->password, n));
    return MQTT_OK;
}

static mqtt_status connack_size(enc *e, const mqtt_connack *a, size_t *n)
{
    if (e->v == MQTT_V31 && a->session_present)
        return refuse_malformed(e, "MQTT-3.2.2.1", "MQTT 3.1 has no Session Present flag");
    if (e->v == MQTT_V5) TRY(reason(e, MQTT_CONNACK, a->reason_code));
    else if (a->reason_code > 5) return refuse_protocol(e, "MQTT-3.2.2.3", "CONNACK return code is reserved (above 5)");
    if (a->session_present && a->reason_code)
        return refuse_protocol(e, RULE(e->v, "MQTT-3.2.2-4", "MQTT-3.2.2-6"), "Session Present with a non-zero return code");
    TRY(grow(e, n, 2));
    return props_size(e, &a->properties, MQTT_CONNACK, n);
}

static mqtt_status publish_size(enc *e, const mqtt_publish *p, size_t *n)
{
    if (p->qos > 2) return refuse_malformed(e, "MQTT-3.3.1-4", "PUBLISH QoS is 3");
    if (p->dup && p->qos == 0) return refuse_malformed(e, "MQTT-3.3.1-2", "DUP is set on a QoS 0 PUBLISH");
    if (p->qos) TRY(packet_id(e, p->packet_id, MQTT_PUBLISH));
    /* Lengths first: the topic is scanned below, and may lie about its length. */
    if (p->topic.len > 65535) return refuse_malformed(e, RULE(e->v, "MQTT-1.5.3", "MQTT-1.5.4"), "Topic Name longer than 65535 bytes");
    if (!topic_name_plain(p->topic.ptr, p->topic.len)) {
        mqtt_status st;
        uint8_t rc;
        const char *message;
        bool alias = e->v == MQTT_V5 && MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS);
        const char *rule = topic_name_problem(e->v, p->topic, alias, &st, &rc, &message);
        if (rule) return refuse(e, st, rule, rc, message);
    }
    TRY(grow(e, n, 2 + (p->qos ? 2 : 0)));
    TRY(grow(e, n, p->topic.len));
    TRY(grow(e, n, p->payload.len));
    return props_size(e, &p->properties, MQTT_PUBLISH, n);
}

/* 5.0 acknowledgement body after the packet id: reason code and properties if needed. */
static mqtt_status tail_size(enc *e, mqtt_packet_type type, uint8_t code, const mqtt_properties *p, size_t *n)
{
    if (e->v != MQTT_V5) {
        if (code) return refuse_protocol(e, "LIMIT-not-in-version", "reason codes exist only in MQTT 5.0");
        return props_size(e, p, type, n);
    }
    TRY(reason(e, type, code));
    if (props_empty(p)) {
        /* Reason 0 without properties is omitted; AUTH needs its method with any other reason. */
        if (type == MQTT_AUTH && code) return refuse_protocol(e, "MQTT-3.15.2.2.2", "AUTH without Authentication Method");
        return code ? grow(e, n, 1) : MQTT_OK;
    }
    TRY(grow(e, n, 1));
    return props_size(e, p, type, n);
}

static mqtt_status subscribe_size(enc *e, const mqtt_subscribe *s, mqtt_packet_type type, size_t *n)
{
    TRY(packet_id(e, s->packet_id, type));
    bool sub = type == MQTT_SUBSCRIBE;
    if (s->count == 0)
        return refuse_protocol(e, sub ? RULE(e->v, "MQTT-3.8.3-3", "MQTT-3.8.3-2") : "MQTT-3.10.3-2",
                               "no Topic Filter");
    TRY(grow(e, n, 2));
    TRY(props_size(e, &s->properties, type, n));
    for (size_t i = 0; i < s->count; i++) {
        const mqtt_subscription *x = &s->subscriptions[i];
        if (x->topic_filter.len > 65535)
            return refuse_malformed(e, RULE(e->v, "MQTT-1.5.3", "MQTT-1.5.4"), "Topic Filter longer than 65535 bytes");
        mqtt_status st;
        uint8_t rc;
        const char *message;
        const char *rule = topic_filter_problem(e->v, x->topic_filter, &st, &rc, &message);
        if (rule) return refuse(e, st, rule, rc, message);
        TRY(grow(e, n, 2 + (sub ? 1 : 0)));
        TRY(grow(e, n, x->topic_filter.len));
        if (!sub) continue;
        if (x->qos > 2) {
            /* 3.1.1: malformed (MQTT-3-8.3-4); 5.0 3.8.3.1: "It is a Protocol Error if the
             * Maximum QoS field has the value 3". */
            if (e->v == MQTT_V5) return refuse_protocol(e, "MQTT-3.8.3.1", "Maximum QoS is 3");
            return refuse_malformed(e, "MQTT-3.8.3-4", "Maximum QoS is 3");
        }
        if (e->v != MQTT_V5) {
            if (x->no_local || x->retain_as_published || x->retain_handling)
                return refuse_malformed(e, "MQTT-3.8.3-4", "subscription options exist only in MQTT 5.0");
        } else {
            if (x->retain_handling > 2) return refuse_protocol(e, "MQTT-3.8.3.1", "Retain Handling is 3");
            if (x->no_local && mqtt_shared_split(x->topic_filter, NULL, NULL))
                return refuse_protocol(e, "MQTT-3.8.3-4", "No Local on a Shared Subscription");
        }
    }
    return MQTT_OK;
}

static mqtt_status suback_size(enc *e, const mqtt_suback *s, mqtt_packet_type type, size_t *n)
{
    TRY(packet_id(e, s->packet_id, type));
    TRY(grow(e, n, 2));
    TRY(props_size(e, &s->properties, type, n));
    if (type == MQTT_UNSUBACK && e->v != MQTT_V5) {
        if (s->reason_codes.len) return refuse_protocol(e, "LIMIT-not-in-version", "UNSUBACK reason codes exist only in MQTT 5.0");
        return MQTT_OK;
    }
    if (s->reason_codes.len == 0)
        return refuse_protocol(e, type == MQTT_SUBACK ? "MQTT-3.9.3" : "MQTT-3.11.3", "no reason code");
    TRY(grow(e, n, s->reason_codes.len)); /* before reading them: the length may lie */
    for (size_t i = 0; i < s->reason_codes.len; i++) {
        uint8_t code = s->reason_codes.ptr[i];
        bool ok = e->v == MQTT_V5 ? reason_allowed(type, MQTT_FROM_SERVER, code)
                                  : (code <= 2 || (code == 0x80 && e->v == MQTT_V311));
        if (!ok) return refuse_protocol(e, RULE(e->v, "MQTT-3.9.3-2", reason_rule(type)), "reason code not allowed");
    }
    return MQTT_OK;
}

/* Validates *pkt and computes the remaining length. */
static mqtt_status body_size(enc *e, const mqtt_packet *pkt, size_t *n)
{
    *n = 0;
    mqtt_packet_type t = pkt->type;
    switch (t) {
    case MQTT_CONNECT: return connect_size(e, &pkt->connect, n);
    case MQTT_CONNACK: return connack_size(e, &pkt->connack, n);
    case MQTT_PUBLISH: return publish_size(e, &pkt->publish, n);
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        TRY(packet_id(e, pkt->ack.packet_id, t));
        TRY(grow(e, n, 2));
        return tail_size(e, t, pkt->ack.reason_code, &pkt->ack.properties, n);
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: return subscribe_size(e, &pkt->subscribe, t, n);
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: return suback_size(e, &pkt->suback, t, n);
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: return MQTT_OK;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        return tail_size(e, t, pkt->disconnect.reason_code, &pkt->disconnect.properties, n);
    }
    return refuse_malformed(e, RULE(e->v, "MQTT-2.2.1", "MQTT-2.1.2"), "reserved packet type");
}

static mqtt_status prepare(const mqtt_codec *c, const mqtt_packet *pkt, enc *e, size_t *rl, size_t *total)
{
    e->c = c;
    e->v = c->version;
    mqtt_packet_type t = pkt->type;
    if (t == MQTT_CONNECT && pkt->connect.protocol_level) e->v = (mqtt_version)pkt->connect.protocol_level;
    if (t == MQTT_CONNECT && e->v != MQTT_V31 && e->v != MQTT_V311 && e->v != MQTT_V5)
        return refuse(e, MQTT_ERR_UNSUPPORTED_VERSION, "MQTT-3.1.2-2", RC_UNSUPPORTED_VERSION, "unsupported protocol level");
    if (e->v == MQTT_VERSION_UNKNOWN)
        return refuse_protocol(e, "MQTT-3.1.0-1", "protocol version unknown: the first packet must be CONNECT");
    if ((unsigned)t == 0 || (unsigned)t > 15 || (t == MQTT_AUTH && e->v != MQTT_V5))
        return refuse_malformed(e, RULE(e->v, "MQTT-2.2.1", "MQTT-2.1.2"), "reserved packet type");
    if (!side_allowed(e->v, t, c->from))
        return refuse_protocol(e, RULE(e->v, "MQTT-2.2.1", "MQTT-2.1.2"), "this side may not send this packet type");
    TRY(body_size(e, pkt, rl));
    if (*rl > MQTT_MAX_REMAINING_LENGTH)
        return refuse_malformed(e, RULE(e->v, "MQTT-2.2.3", "MQTT-1.5.5"), "packet too large for MQTT");
    *total = 1 + varint_size((uint32_t)*rl) + *rl;
    if (c->max_packet_size && *total > c->max_packet_size)
        return refuse(e, MQTT_ERR_LIMIT,
                      e->v == MQTT_V5 ? (c->from == MQTT_FROM_CLIENT ? "MQTT-3.2.2-15" : "MQTT-3.1.2-24")
                                      : "LIMIT-max-packet-size",
                      RC_PACKET_TOO_LARGE, "packet larger than the maximum packet size");
    return MQTT_OK;
}

mqtt_status mqtt_encoded_size(const mqtt_codec *codec, const mqtt_packet *pkt, size_t *size, mqtt_error *err)
{
    enc e = {.err = err};
    size_t rl, total;
    TRY(prepare(codec, pkt, &e, &rl, &total));
    *size = total;
    return MQTT_OK;
}

/* ---------------------------------------------------------------- writing */

/* Copies n bytes; short copies in 16-byte steps inline, since a libc call costs more
 * than the copy for the small topics and payloads that dominate MQTT traffic. */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n > 256) {
        memcpy(dst, src, n);
    } else if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16) __builtin_memcpy(dst + i, src + i, 16);
        __builtin_memcpy(dst + n - 16, src + n - 16, 16); /* overlapping tail */
    } else if (n >= 8) {
        __builtin_memcpy(dst, src, 8);
        __builtin_memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        __builtin_memcpy(dst, src, 4);
        __builtin_memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

static inline uint8_t *put_u16(uint8_t *w, uint16_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static inline uint8_t *put_u32(uint8_t *w, uint32_t v)
{
    w[0] = (uint8_t)(v >> 24);
    w[1] = (uint8_t)(v >> 16);
    w[2] = (uint8_t)(v >> 8);
    w[3] = (uint8_t)v;
    return w + 4;
}

static inline uint8_t *put_varint(uint8_t *w, uint32_t v)
{
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        *w++ = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return w;
}

static inline uint8_t *put_bytes(uint8_t *w, mqtt_bytes b)
{
    w = put_u16(w, (uint16_t)b.len);
    copy_bytes(w, b.ptr, b.len);
    return w + b.len;
}

/* Size of a validated property block's contents (without its length prefix). */
static size_t props_body_size(const mqtt_properties *p)
{
    size_t n = 0;
    mqtt_properties *mp = (mqtt_properties *)p;
    for (uint64_t bits = singles_of(p); bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        switch (prop_type_of(id)) {
        case PT_BYTE: n += 2; break;
        case PT_U16: n += 3; break;
        case PT_U32: n += 5; break;
        default: n += 3 + ((const mqtt_bytes *)prop_slot(mp, id))->len; break;
        }
    }
    for (size_t i = 0; i < p->user_property_count; i++)
        n += 5 + p->user_properties[i].name.len + p->user_properties[i].value.len;
    for (size_t i = 0; i < p->subscription_identifier_count; i++)
        n += 1 + varint_size(p->subscription_identifiers[i]);
    return n;
}

static uint8_t *put_props(uint8_t *w, mqtt_version v, const mqtt_properties *p)
{
    if (v != MQTT_V5) return w;
    w = put_varint(w, (uint32_t)props_body_size(p));
    mqtt_properties *mp = (mqtt_properties *)p;
    /* Ascending id order; the repeated ones at their own id's place. */
    uint64_t bits = singles_of(p);
    if (p->user_property_count) bits |= MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
    if (p->subscription_identifier_count) bits |= MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER);
    for (; bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        if (id == MQTT_PROP_USER_PROPERTY) {
            for (size_t i = 0; i < p->user_property_count; i++) {
                *w++ = MQTT_PROP_USER_PROPERTY;
                w = put_bytes(w, p->user_properties[i].name);
                w = put_bytes(w, p->user_properties[i].value);
            }
            continue;
        }
        if (id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
            for (size_t i = 0; i < p->subscription_identifier_count; i++) {
                *w++ = MQTT_PROP_SUBSCRIPTION_IDENTIFIER;
                w = put_varint(w, p->subscription_identifiers[i]);
            }
            continue;
        }
        *w++ = (uint8_t)id;
        const void *slot = prop_slot(mp, id);
        switch (prop_type_of(id)) {
        case PT_BYTE: *w++ = *(const uint8_t *)slot; break;
        case PT_U16: w = put_u16(w, *(const uint16_t *)slot); break;
        case PT_U32: w = put_u32(w, *(const uint32_t *)slot); break;
        default: w = put_bytes(w, *(const mqtt_bytes *)slot); break;
        }
    }
    return w;
}

static uint8_t *put_tail(uint8_t *w, mqtt_version v, mqtt_packet_type type, uint8_t code, const mqtt_properties *p)
{
    if (v != MQTT_V5) return w;
    (void)type;
    if (props_empty(p)) {
        if (code) *w++ = code;
        return w;
    }
    *w++ = code;
    return put_props(w, v, p);
}

static uint8_t *put_connect(uint8_t *w, mqtt_version v, const mqtt_connect *c)
{
    mqtt_bytes name = c->protocol_name;
    if (name.len == 0) name = v == MQTT_V31 ? (mqtt_bytes){(const uint8_t *)"MQIsdp", 6}
                                            : (mqtt_bytes){(const uint8_t *)"MQTT", 4};
    w = put_bytes(w, name);
    *w++ = (uint8_t)v;
    uint8_t flags = (uint8_t)((c->clean_start ? 0x02 : 0) | (c->will ? 0x04 | c->will_qos << 3 : 0) |
                              (c->will && c->will_retain ? 0x20 : 0) | (c->has_password ? 0x40 : 0) |
                              (c->has_username ? 0x80 : 0));
    *w++ = flags;
    w = put_u16(w, c->keep_alive);
    w = put_props(w, v, &c->properties);
    w = put_bytes(w, c->client_id);
    if (c->will) {
        w = put_props(w, v, &c->will_properties);
        w = put_bytes(w, c->will_topic);
        w = put_bytes(w, c->will_payload);
    }
    if (c->has_username) w = put_bytes(w, c->username);
    if (c->has_password) w = put_bytes(w, c->password);
    return w;
}

/* The general path: any packet, every check. */
static __attribute__((noinline)) mqtt_status encode_any(const mqtt_codec *codec, const mqtt_packet *pkt,
                                                        uint8_t *buf, size_t cap, size_t *written,
                                                        mqtt_error *err)
{
    enc e = {.err = err};
    size_t rl, total;
    *written = 0;
    TRY(prepare(codec, pkt, &e, &rl, &total));
    if (cap < total) {
        *written = total;
        return refuse(&e, MQTT_ERR_LIMIT, "LIMIT-buffer", RC_IMPLEMENTATION_SPECIFIC, "output buffer too small");
    }
    mqtt_version v = e.v;
    mqtt_packet_type t = pkt->type;
    uint8_t flags = required_flags(t);
    if (t == MQTT_PUBLISH)
        flags = (uint8_t)((pkt->publish.dup ? 0x08 : 0) | pkt->publish.qos << 1 | (pkt->publish.retain ? 1 : 0));
    uint8_t *w = buf;
    *w++ = (uint8_t)(t << 4 | flags);
    w = put_varint(w, (uint32_t)rl);
    switch (t) {
    case MQTT_CONNECT: w = put_connect(w, v, &pkt->connect); break;
    case MQTT_CONNACK:
        *w++ = pkt->connack.session_present ? 1 : 0;
        *w++ = pkt->connack.reason_code;
        w = put_props(w, v, &pkt->connack.properties);
        break;
    case MQTT_PUBLISH: {
        const mqtt_publish *p = &pkt->publish;
        w = put_bytes(w, p->topic);
        if (p->qos) w = put_u16(w, p->packet_id);
        w = put_props(w, v, &p->properties);
        copy_bytes(w, p->payload.ptr, p->payload.len);
        w += p->payload.len;
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        w = put_u16(w, pkt->ack.packet_id);
        w = put_tail(w, v, t, pkt->ack.reason_code, &pkt->ack.properties);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        const mqtt_subscribe *s = &pkt->subscribe;
        w = put_u16(w, s->packet_id);
        w = put_props(w, v, &s->properties);
        for (size_t i = 0; i < s->count; i++) {
            const mqtt_subscription *x = &s->subscriptions[i];
            w = put_bytes(w, x->topic_filter);
            if (t == MQTT_SUBSCRIBE)
                *w++ = (uint8_t)(x->qos | (x->no_local ? 0x04 : 0) | (x->retain_as_published ? 0x08 : 0) |
                                 x->retain_handling << 4);
        }
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        w = put_u16(w, pkt->suback.packet_id);
        w = put_props(w, v, &pkt->suback.properties);
        if (pkt->suback.reason_codes.len) memcpy(w, pkt->suback.reason_codes.ptr, pkt->suback.reason_codes.len);
        w += pkt->suback.reason_codes.len;
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH: w = put_tail(w, v, t, pkt->disconnect.reason_code, &pkt->disconnect.properties); break;
    }
    *written = (size_t)(w - buf);
    return MQTT_OK;
}

/*
 * A 3.x PUBLISH with a plain ASCII topic and no properties: the hot path. It writes
 * only what publish_size would accept and returns false on anything else (errors
 * included), which then takes the general path.
 */
static inline bool publish_fast(const mqtt_codec *codec, const mqtt_publish *p, uint8_t *buf, size_t cap,
                                size_t *written)
{
    if (p->qos > 2 || (p->dup && p->qos == 0) || (p->qos && p->packet_id == 0) ||
        !props_empty(&p->properties) || !topic_name_plain(p->topic.ptr, p->topic.len))
        return false;
    /* Each part below the maximum first, so that the sum cannot wrap. */
    if (p->topic.len > 65535 || p->payload.len > MQTT_MAX_REMAINING_LENGTH) return false;
    size_t rl = 2 + p->topic.len + (p->qos ? 2 : 0) + p->payload.len;
    if (rl > MQTT_MAX_REMAINING_LENGTH) return false;
    size_t total = 1 + varint_size((uint32_t)rl) + rl;
    if (total > cap || (codec->max_packet_size && total > codec->max_packet_size)) return false;
    uint8_t *w = buf;
    *w++ = (uint8_t)(MQTT_PUBLISH << 4 | (p->dup ? 0x08 : 0) | p->qos << 1 | (p->retain ? 1 : 0));
    w = put_varint(w, (uint32_t)rl);
    w = put_bytes(w, p->topic);
    if (p->qos) w = put_u16(w, p->packet_id);
    copy_bytes(w, p->payload.ptr, p->payload.len);
    *written = total;
    return true;
}

mqtt_status mqtt_encode(const mqtt_codec *codec, const mqtt_packet *pkt, uint8_t *buf, size_t cap,
                        size_t *written, mqtt_error *err)
{
    if (pkt->type == MQTT_PUBLISH && (codec->version == MQTT_V311 || codec->version == MQTT_V31) &&
        publish_fast(codec, &pkt->publish, buf, cap, written))
        return MQTT_OK;
    return encode_any(codec, pkt, buf, cap, written, err);
}
