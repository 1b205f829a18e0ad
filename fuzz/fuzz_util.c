/*
 * Invariants shared by the fuzz harnesses (see fuzz_util.h).
 *
 * Everything here checks the codec from the outside: views must lie inside
 * the bytes they were decoded from (DESIGN.md, 2), every rejection must name
 * its rule (DESIGN.md, 4), and decode/encode must agree. The canonical-form
 * oracle walks property blocks with its own small table rather than the
 * codec's, so a bug in the codec's table cannot hide itself.
 */
#include "fuzz/fuzz_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==FUZZ INVARIANT== %s:%d: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fz_decoder_init(fz_decoder *d, uint8_t selector)
{
    static const mqtt_version versions[4] = {MQTT_VERSION_UNKNOWN, MQTT_V31, MQTT_V311, MQTT_V5};
    static const uint32_t max_sizes[4] = {0, 0, 128, 4096};
    memset(&d->codec, 0, sizeof d->codec);
    d->codec.version = versions[selector & 3];
    d->codec.from = (selector & 4) ? MQTT_FROM_SERVER : MQTT_FROM_CLIENT;
    d->codec.max_packet_size = max_sizes[(selector >> 5) & 3];
    unsigned arrays = (selector >> 3) & 3;
    if (arrays == 2) return; /* no caller arrays: every repeated item is a LIMIT error */
    bool tiny = arrays == 1;
    d->codec.user_properties = d->user;
    d->codec.user_properties_cap = tiny ? 2 : FZ_USER_CAP;
    d->codec.subscription_identifiers = d->subid;
    d->codec.subscription_identifiers_cap = tiny ? 1 : FZ_SUBID_CAP;
    d->codec.subscriptions = d->subs;
    d->codec.subscriptions_cap = tiny ? 2 : FZ_SUBS_CAP;
}

void fz_decoder_after(fz_decoder *d, const mqtt_packet *pkt)
{
    if (pkt->type == MQTT_CONNECT && d->codec.version == MQTT_VERSION_UNKNOWN &&
        d->codec.from == MQTT_FROM_CLIENT)
        d->codec.version = (mqtt_version)pkt->connect.protocol_level;
}

mqtt_version fz_packet_version(const fz_decoder *d, const mqtt_packet *pkt)
{
    if (pkt->type == MQTT_CONNECT) return (mqtt_version)pkt->connect.protocol_level;
    return d->codec.version;
}

bool fz_bytes_eq(mqtt_bytes a, mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---------------------------------------------------------------- errors */

void fz_check_error(mqtt_status st, const mqtt_error *err, size_t len)
{
    FZ_ASSERT(st == MQTT_ERR_MALFORMED || st == MQTT_ERR_PROTOCOL || st == MQTT_ERR_LIMIT ||
                  st == MQTT_ERR_UNSUPPORTED_VERSION,
              "unexpected status %d", (int)st);
    FZ_ASSERT(err->status == st, "err.status %d but returned %d", (int)err->status, (int)st);
    FZ_ASSERT(err->rule != NULL, "error without a rule id (status %s)", mqtt_status_name(st));
    FZ_ASSERT(strncmp(err->rule, "MQTT-", 5) == 0 || strncmp(err->rule, "LIMIT-", 6) == 0,
              "rule id \"%s\" starts with neither MQTT- nor LIMIT-", err->rule);
    FZ_ASSERT(strlen(err->rule) > 6, "rule id \"%s\" names nothing", err->rule);
    FZ_ASSERT(err->message != NULL && err->message[0] != '\0', "error %s without a message", err->rule);
    FZ_ASSERT(err->reason_code >= 0x80, "error %s with reason code 0x%02x (not an error code)", err->rule,
              err->reason_code);
    FZ_ASSERT(err->version == MQTT_VERSION_UNKNOWN || err->version == MQTT_V31 || err->version == MQTT_V311 ||
                  err->version == MQTT_V5,
              "error %s with version %d", err->rule, (int)err->version);
    FZ_ASSERT(err->offset <= len, "error %s at offset %zu beyond the %zu bytes given", err->rule, err->offset,
              len);
}

void fz_check_need_more(const mqtt_packet *pkt, size_t len)
{
    FZ_ASSERT(pkt->length == 0 || pkt->length > len, "NEED_MORE with length %zu but %zu bytes available",
              pkt->length, len);
}

/* ---------------------------------------------------------------- views */

typedef struct {
    const uint8_t *lo, *hi; /* the packet's bytes */
    mqtt_version v;
} span;

static void in_span(const span *s, mqtt_bytes b, const char *what)
{
    if (b.len == 0 && b.ptr == NULL) return;
    FZ_ASSERT(b.ptr != NULL, "%s: NULL view of %zu bytes", what, b.len);
    uintptr_t p = (uintptr_t)b.ptr, lo = (uintptr_t)s->lo, hi = (uintptr_t)s->hi;
    FZ_ASSERT(p >= lo && p <= hi && b.len <= hi - p, "%s: view [%+td, +%zu) outside the packet's %td bytes", what,
              (const uint8_t *)b.ptr - s->lo, b.len, s->hi - s->lo);
}

static void utf8_in_span(const span *s, mqtt_bytes b, const char *what)
{
    in_span(s, b, what);
    const char *rule = mqtt_utf8_check(s->v, b, NULL);
    FZ_ASSERT(rule == NULL, "%s: decoded string fails mqtt_utf8_check (%s)", what, rule);
}

static void check_props(const span *s, const fz_decoder *d, const mqtt_properties *p, const char *what)
{
    if (s->v != MQTT_V5) {
        FZ_ASSERT(p->present == 0 && p->user_property_count == 0 && p->subscription_identifier_count == 0,
                  "%s: properties outside MQTT 5.0", what);
        return;
    }
    FZ_ASSERT((p->present & ~(((uint64_t)1 << 0x2B) - 1)) == 0 && !(p->present & 1),
              "%s: present bits 0x%llx name no property", what, (unsigned long long)p->present);
    static const struct {
        unsigned id;
        size_t off;
        bool utf8;
    } strs[] = {
        {MQTT_PROP_CONTENT_TYPE, offsetof(mqtt_properties, content_type), true},
        {MQTT_PROP_RESPONSE_TOPIC, offsetof(mqtt_properties, response_topic), true},
        {MQTT_PROP_CORRELATION_DATA, offsetof(mqtt_properties, correlation_data), false},
        {MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, offsetof(mqtt_properties, assigned_client_identifier), true},
        {MQTT_PROP_AUTHENTICATION_METHOD, offsetof(mqtt_properties, authentication_method), true},
        {MQTT_PROP_AUTHENTICATION_DATA, offsetof(mqtt_properties, authentication_data), false},
        {MQTT_PROP_RESPONSE_INFORMATION, offsetof(mqtt_properties, response_information), true},
        {MQTT_PROP_SERVER_REFERENCE, offsetof(mqtt_properties, server_reference), true},
        {MQTT_PROP_REASON_STRING, offsetof(mqtt_properties, reason_string), true},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (!MQTT_HAS_PROP(p, strs[i].id)) continue;
        mqtt_bytes b;
        memcpy(&b, (const char *)p + strs[i].off, sizeof b);
        if (strs[i].utf8) utf8_in_span(s, b, mqtt_property_name((mqtt_property_id)strs[i].id));
        else in_span(s, b, mqtt_property_name((mqtt_property_id)strs[i].id));
    }
    if (MQTT_HAS_PROP(p, MQTT_PROP_RESPONSE_TOPIC))
        FZ_ASSERT(mqtt_topic_name_check(MQTT_V5, p->response_topic) == NULL, "%s: Response Topic is no topic name",
                  what);

    FZ_ASSERT((p->user_property_count != 0) == MQTT_HAS_PROP(p, MQTT_PROP_USER_PROPERTY),
              "%s: %zu User Properties but present bit %d", what, p->user_property_count,
              (int)MQTT_HAS_PROP(p, MQTT_PROP_USER_PROPERTY));
    if (p->user_property_count) {
        const mqtt_user_property *a = d->codec.user_properties;
        FZ_ASSERT(a && p->user_properties >= a &&
                      p->user_properties + p->user_property_count <= a + d->codec.user_properties_cap,
                  "%s: %zu User Properties outside the caller array", what, p->user_property_count);
        for (size_t i = 0; i < p->user_property_count; i++) {
            utf8_in_span(s, p->user_properties[i].name, "User Property name");
            utf8_in_span(s, p->user_properties[i].value, "User Property value");
        }
    }
    FZ_ASSERT((p->subscription_identifier_count != 0) == MQTT_HAS_PROP(p, MQTT_PROP_SUBSCRIPTION_IDENTIFIER),
              "%s: %zu Subscription Identifiers but present bit %d", what, p->subscription_identifier_count,
              (int)MQTT_HAS_PROP(p, MQTT_PROP_SUBSCRIPTION_IDENTIFIER));
    if (p->subscription_identifier_count) {
        const uint32_t *a = d->codec.subscription_identifiers;
        FZ_ASSERT(a && p->subscription_identifiers >= a &&
                      p->subscription_identifiers + p->subscription_identifier_count <=
                          a + d->codec.subscription_identifiers_cap,
                  "%s: Subscription Identifiers outside the caller array", what);
        for (size_t i = 0; i < p->subscription_identifier_count; i++)
            FZ_ASSERT(p->subscription_identifiers[i] >= 1 &&
                          p->subscription_identifiers[i] <= MQTT_MAX_REMAINING_LENGTH,
                      "%s: Subscription Identifier %u out of range", what, p->subscription_identifiers[i]);
    }
}

void fz_check_packet(const fz_decoder *d, const mqtt_packet *pkt, const uint8_t *buf, size_t len)
{
    FZ_ASSERT(pkt->length >= 2 && pkt->length <= len, "packet length %zu with %zu bytes given", pkt->length, len);
    FZ_ASSERT(pkt->type == (mqtt_packet_type)(buf[0] >> 4) && pkt->flags == (buf[0] & 0x0F),
              "type/flags %d/%x but first byte 0x%02x", (int)pkt->type, pkt->flags, buf[0]);
    size_t hdr = pkt->length - pkt->remaining_length;
    FZ_ASSERT(hdr >= 2 && hdr <= 5 && pkt->remaining_length < pkt->length,
              "remaining length %u inconsistent with length %zu", pkt->remaining_length, pkt->length);
    if (d->codec.max_packet_size)
        FZ_ASSERT(pkt->length <= d->codec.max_packet_size, "packet of %zu bytes over the maximum %u", pkt->length,
                  d->codec.max_packet_size);
    span s = {buf, buf + pkt->length, fz_packet_version(d, pkt)};
    FZ_ASSERT(s.v == MQTT_V31 || s.v == MQTT_V311 || s.v == MQTT_V5, "packet decoded under version %d", (int)s.v);
    if (pkt->type == MQTT_AUTH) FZ_ASSERT(s.v == MQTT_V5, "AUTH decoded under version %d", (int)s.v);

    switch (pkt->type) {
    case MQTT_CONNECT: {
        const mqtt_connect *c = &pkt->connect;
        in_span(&s, c->protocol_name, "protocol name");
        FZ_ASSERT(c->protocol_level == 3 || c->protocol_level == 4 || c->protocol_level == 5,
                  "CONNECT level %u accepted", c->protocol_level);
        check_props(&s, d, &c->properties, "CONNECT properties");
        utf8_in_span(&s, c->client_id, "Client Identifier");
        FZ_ASSERT(c->will_qos <= 2, "Will QoS %u", c->will_qos);
        if (c->will) {
            check_props(&s, d, &c->will_properties, "Will properties");
            in_span(&s, c->will_topic, "Will Topic");
            FZ_ASSERT(mqtt_topic_name_check(s.v, c->will_topic) == NULL, "Will Topic is no valid topic name");
            in_span(&s, c->will_payload, "Will Payload");
        } else {
            FZ_ASSERT(!c->will_qos && !c->will_retain, "Will QoS/Retain without a Will");
            FZ_ASSERT(c->will_properties.present == 0, "Will properties without a Will");
        }
        if (c->has_username) utf8_in_span(&s, c->username, "User Name");
        if (c->has_password) in_span(&s, c->password, "Password");
        break;
    }
    case MQTT_CONNACK: check_props(&s, d, &pkt->connack.properties, "CONNACK properties"); break;
    case MQTT_PUBLISH: {
        const mqtt_publish *p = &pkt->publish;
        FZ_ASSERT(p->qos <= 2, "PUBLISH QoS %u", p->qos);
        FZ_ASSERT((p->packet_id != 0) == (p->qos > 0), "PUBLISH QoS %u with packet id %u", p->qos, p->packet_id);
        check_props(&s, d, &p->properties, "PUBLISH properties");
        in_span(&s, p->topic, "Topic Name");
        if (p->topic.len)
            FZ_ASSERT(mqtt_topic_name_check(s.v, p->topic) == NULL, "Topic Name fails mqtt_topic_name_check");
        else
            FZ_ASSERT(s.v == MQTT_V5 && MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS),
                      "empty Topic Name without a Topic Alias");
        in_span(&s, p->payload, "Payload");
        if (p->payload.ptr)
            FZ_ASSERT(p->payload.ptr + p->payload.len == s.hi, "Payload does not end the packet");
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        FZ_ASSERT(pkt->ack.packet_id != 0, "acknowledgement with packet id 0");
        if (s.v != MQTT_V5) FZ_ASSERT(pkt->ack.reason_code == 0, "3.x acknowledgement with a reason code");
        check_props(&s, d, &pkt->ack.properties, "acknowledgement properties");
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        const mqtt_subscribe *sb = &pkt->subscribe;
        FZ_ASSERT(sb->packet_id != 0, "SUBSCRIBE/UNSUBSCRIBE with packet id 0");
        check_props(&s, d, &sb->properties, "SUBSCRIBE properties");
        FZ_ASSERT(sb->count >= 1 && sb->count <= d->codec.subscriptions_cap && sb->subscriptions == d->codec.subscriptions,
                  "%zu topic filters (capacity %zu) or outside the caller array", sb->count,
                  d->codec.subscriptions_cap);
        for (size_t i = 0; i < sb->count; i++) {
            const mqtt_subscription *x = &sb->subscriptions[i];
            in_span(&s, x->topic_filter, "Topic Filter");
            const char *rule = mqtt_topic_filter_check(s.v, x->topic_filter);
            FZ_ASSERT(rule == NULL, "decoded Topic Filter fails mqtt_topic_filter_check (%s)", rule);
            FZ_ASSERT(x->qos <= 2 && x->retain_handling <= 2, "subscription options qos %u rh %u", x->qos,
                      x->retain_handling);
            if (s.v != MQTT_V5 || pkt->type == MQTT_UNSUBSCRIBE)
                FZ_ASSERT(!x->no_local && !x->retain_as_published && !x->retain_handling,
                          "5.0 subscription options outside a 5.0 SUBSCRIBE");
            if (pkt->type == MQTT_UNSUBSCRIBE) FZ_ASSERT(x->qos == 0, "UNSUBSCRIBE entry with a QoS");
        }
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        FZ_ASSERT(pkt->suback.packet_id != 0, "SUBACK/UNSUBACK with packet id 0");
        check_props(&s, d, &pkt->suback.properties, "SUBACK properties");
        in_span(&s, pkt->suback.reason_codes, "reason codes");
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: FZ_ASSERT(pkt->remaining_length == 0, "PING with a body"); break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (s.v != MQTT_V5) FZ_ASSERT(pkt->disconnect.reason_code == 0, "3.x DISCONNECT with a reason code");
        check_props(&s, d, &pkt->disconnect.properties, "DISCONNECT/AUTH properties");
        break;
    default: FZ_ASSERT(0, "decoded reserved packet type %d", (int)pkt->type);
    }
}

/* ---------------------------------------------------------------- equality */

#define EQ(field) \
    FZ_ASSERT(a->field == b->field, "%s: %s differs: %llu vs %llu", what, #field, \
              (unsigned long long)a->field, (unsigned long long)b->field)
#define EQB(field) FZ_ASSERT(fz_bytes_eq(a->field, b->field), "%s: %s differs", what, #field)

static void props_equal(const mqtt_properties *a, const mqtt_properties *b, const char *what)
{
    EQ(present);
    uint64_t bits = a->present;
#define IF(id, field) \
    if (bits & MQTT_PROP_BIT(id)) EQ(field)
#define IFB(id, field) \
    if (bits & MQTT_PROP_BIT(id)) EQB(field)
    IF(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, payload_format_indicator);
    IF(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, message_expiry_interval);
    IFB(MQTT_PROP_CONTENT_TYPE, content_type);
    IFB(MQTT_PROP_RESPONSE_TOPIC, response_topic);
    IFB(MQTT_PROP_CORRELATION_DATA, correlation_data);
    IF(MQTT_PROP_SESSION_EXPIRY_INTERVAL, session_expiry_interval);
    IFB(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, assigned_client_identifier);
    IF(MQTT_PROP_SERVER_KEEP_ALIVE, server_keep_alive);
    IFB(MQTT_PROP_AUTHENTICATION_METHOD, authentication_method);
    IFB(MQTT_PROP_AUTHENTICATION_DATA, authentication_data);
    IF(MQTT_PROP_REQUEST_PROBLEM_INFORMATION, request_problem_information);
    IF(MQTT_PROP_WILL_DELAY_INTERVAL, will_delay_interval);
    IF(MQTT_PROP_REQUEST_RESPONSE_INFORMATION, request_response_information);
    IFB(MQTT_PROP_RESPONSE_INFORMATION, response_information);
    IFB(MQTT_PROP_SERVER_REFERENCE, server_reference);
    IFB(MQTT_PROP_REASON_STRING, reason_string);
    IF(MQTT_PROP_RECEIVE_MAXIMUM, receive_maximum);
    IF(MQTT_PROP_TOPIC_ALIAS_MAXIMUM, topic_alias_maximum);
    IF(MQTT_PROP_TOPIC_ALIAS, topic_alias);
    IF(MQTT_PROP_MAXIMUM_QOS, maximum_qos);
    IF(MQTT_PROP_RETAIN_AVAILABLE, retain_available);
    IF(MQTT_PROP_MAXIMUM_PACKET_SIZE, maximum_packet_size);
    IF(MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, wildcard_subscription_available);
    IF(MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, subscription_identifier_available);
    IF(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, shared_subscription_available);
#undef IF
#undef IFB
    EQ(user_property_count);
    for (size_t i = 0; i < a->user_property_count; i++) {
        EQB(user_properties[i].name);
        EQB(user_properties[i].value);
    }
    EQ(subscription_identifier_count);
    for (size_t i = 0; i < a->subscription_identifier_count; i++) EQ(subscription_identifiers[i]);
}

void fz_assert_equal(const mqtt_packet *a, const mqtt_packet *b, mqtt_version v, bool compare_lengths,
                     const char *what)
{
    EQ(type);
    EQ(flags);
    if (compare_lengths) {
        EQ(remaining_length);
        EQ(length);
    }
    switch (a->type) {
    case MQTT_CONNECT:
        EQB(connect.protocol_name);
        EQ(connect.protocol_level);
        EQ(connect.clean_start);
        EQ(connect.keep_alive);
        props_equal(&a->connect.properties, &b->connect.properties, what);
        EQB(connect.client_id);
        EQ(connect.will);
        EQ(connect.will_qos);
        EQ(connect.will_retain);
        if (a->connect.will) {
            props_equal(&a->connect.will_properties, &b->connect.will_properties, what);
            EQB(connect.will_topic);
            EQB(connect.will_payload);
        }
        EQ(connect.has_username);
        if (a->connect.has_username) EQB(connect.username);
        EQ(connect.has_password);
        if (a->connect.has_password) EQB(connect.password);
        break;
    case MQTT_CONNACK:
        EQ(connack.session_present);
        EQ(connack.reason_code);
        props_equal(&a->connack.properties, &b->connack.properties, what);
        break;
    case MQTT_PUBLISH:
        EQ(publish.qos);
        EQ(publish.dup);
        EQ(publish.retain);
        EQB(publish.topic);
        EQ(publish.packet_id);
        props_equal(&a->publish.properties, &b->publish.properties, what);
        EQB(publish.payload);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        EQ(ack.packet_id);
        EQ(ack.reason_code);
        props_equal(&a->ack.properties, &b->ack.properties, what);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        EQ(subscribe.packet_id);
        props_equal(&a->subscribe.properties, &b->subscribe.properties, what);
        EQ(subscribe.count);
        for (size_t i = 0; i < a->subscribe.count; i++) {
            EQB(subscribe.subscriptions[i].topic_filter);
            EQ(subscribe.subscriptions[i].qos);
            EQ(subscribe.subscriptions[i].no_local);
            EQ(subscribe.subscriptions[i].retain_as_published);
            EQ(subscribe.subscriptions[i].retain_handling);
        }
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        EQ(suback.packet_id);
        props_equal(&a->suback.properties, &b->suback.properties, what);
        EQB(suback.reason_codes);
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        EQ(disconnect.reason_code);
        props_equal(&a->disconnect.properties, &b->disconnect.properties, what);
        break;
    }
    (void)v;
}

/* ---------------------------------------------------------------- canonical form */

/* Value kinds of MQTT 5.0 properties (section 2.2.2.2), written out independently of the codec. */
enum { K_NONE, K_BYTE, K_U16, K_U32, K_VARINT, K_STR, K_PAIR };
static int kind_of(unsigned id)
{
    switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A: return K_BYTE;
    case 0x13: case 0x21: case 0x22: case 0x23: return K_U16;
    case 0x02: case 0x11: case 0x18: case 0x27: return K_U32;
    case 0x0B: return K_VARINT;
    case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C: case 0x1F: return K_STR;
    case 0x26: return K_PAIR;
    default: return K_NONE;
    }
}

/* Reads a Variable Byte Integer at *p (< end); false if it does not fit. */
static bool varint(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (*p >= end) return false;
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool skip_str(const uint8_t **p, const uint8_t *end)
{
    if (end - *p < 2) return false;
    size_t n = (size_t)((*p)[0] << 8 | (*p)[1]);
    if ((size_t)(end - *p) - 2 < n) return false;
    *p += 2 + n;
    return true;
}

/*
 * Walks the property block at *p: true if its identifiers never decrease;
 * *p is left after the block. Sets *ok false if the block does not parse
 * (which would mean the decoder accepted something broken).
 */
static bool props_sorted(const uint8_t **p, const uint8_t *end, bool *ok)
{
    uint32_t len;
    if (!varint(p, end, &len) || (size_t)(end - *p) < len) return *ok = false;
    const uint8_t *q = *p, *bend = *p + len;
    *p = bend;
    unsigned last = 0;
    bool sorted = true;
    while (q < bend) {
        uint32_t id, dummy;
        if (!varint(&q, bend, &id)) return *ok = false;
        if (id < last) sorted = false;
        last = id;
        switch (kind_of(id)) {
        case K_BYTE: q += 1; break;
        case K_U16: q += 2; break;
        case K_U32: q += 4; break;
        case K_VARINT:
            if (!varint(&q, bend, &dummy)) return *ok = false;
            break;
        case K_STR:
            if (!skip_str(&q, bend)) return *ok = false;
            break;
        case K_PAIR:
            if (!skip_str(&q, bend) || !skip_str(&q, bend)) return *ok = false;
            break;
        default: return *ok = false;
        }
        if (q > bend) return *ok = false;
    }
    return sorted;
}

static bool props_empty(const mqtt_properties *p)
{
    return p->present == 0 && p->user_property_count == 0 && p->subscription_identifier_count == 0;
}

static size_t varint_len(uint32_t v)
{
    return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

bool fz_is_canonical(mqtt_version v, const mqtt_packet *pkt, const uint8_t *bytes)
{
    size_t hdr = pkt->length - pkt->remaining_length;
    if (hdr != 1 + varint_len(pkt->remaining_length)) return false;
    if (v != MQTT_V5) return true;

    const uint8_t *body = bytes + hdr, *end = bytes + pkt->length, *p;
    uint32_t rl = pkt->remaining_length;
    bool ok = true, sorted = true;
    switch (pkt->type) {
    case MQTT_CONNECT: {
        const mqtt_connect *c = &pkt->connect;
        p = body + 2 + c->protocol_name.len + 4;
        sorted = props_sorted(&p, end, &ok);
        if (c->will && ok) {
            p += 2 + c->client_id.len;
            sorted = props_sorted(&p, end, &ok) && sorted;
        }
        break;
    }
    case MQTT_CONNACK:
        p = body + 2;
        sorted = props_sorted(&p, end, &ok);
        break;
    case MQTT_PUBLISH:
        p = body + 2 + pkt->publish.topic.len + (pkt->publish.qos ? 2 : 0);
        sorted = props_sorted(&p, end, &ok);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        if (props_empty(&pkt->ack.properties)) return rl == (pkt->ack.reason_code ? 3u : 2u);
        p = body + 3;
        sorted = props_sorted(&p, end, &ok);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        p = body + 2;
        sorted = props_sorted(&p, end, &ok);
        break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (props_empty(&pkt->disconnect.properties)) return rl == (pkt->disconnect.reason_code ? 1u : 0u);
        p = body + 1;
        sorted = props_sorted(&p, end, &ok);
        break;
    default: return true;
    }
    FZ_ASSERT(ok, "accepted %s whose property block does not parse", mqtt_packet_type_name(pkt->type));
    return sorted;
}
