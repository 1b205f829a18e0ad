/*
 * Packets and errors as text: one line per packet for people, one JSON object
 * per packet for machines, one line per decode error.
 *
 * Invariants:
 * - snprintf semantics without snprintf: every writer appends through `out`,
 *   which stores a character only while it fits before the terminating NUL,
 *   counts every character, and the public functions return that count. The
 *   text never depends on cap, so a caller can size a buffer with cap 0.
 * - Pure like the rest of the library (DESIGN.md, 1): no libc call at all
 *   (not even a strlen the compiler would make of a loop), so no printf and
 *   no allocation; check_pure.sh proves it on the archive.
 * - Text for people never contains raw control characters or invalid UTF-8:
 *   strings are quoted and escaped, so a hostile topic cannot forge log lines
 *   or move a terminal's cursor. JSON strings are escaped per RFC 8259 and are
 *   always valid UTF-8; binary fields are lowercase hex.
 * - Only the union member selected by pkt->type is read, as in the encoder.
 */
#include <mqtt/codec.h>
#include <mqtt/format.h>

/* The buffer being filled: buf[0..cap), len characters produced so far. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} out;

/* Bytes of a payload or binary value shown on a line; the rest is "...". */
#define PREVIEW_TEXT 32u
#define PREVIEW_HEX 16u

static void put_c(out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void put_s(out *o, const char *s)
{
    while (*s)
        put_c(o, *s++);
}

static void put_u(out *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_c(o, tmp[--n]);
}

static void put_hex_byte(out *o, uint8_t b)
{
    static const char digits[] = "0123456789abcdef";
    put_c(o, digits[b >> 4]);
    put_c(o, digits[b & 15]);
}

/* "0x8e": reason codes and the like. */
static void put_code(out *o, uint8_t b)
{
    put_s(o, "0x");
    put_hex_byte(o, b);
}

static void put_hex(out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_hex_byte(o, p[i]);
}

static size_t finish(out *o)
{
    if (o->cap)
        o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) and its code point; 0 when
 * the bytes there are not one.
 */
static size_t utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t b = p[0];
    size_t len;
    uint32_t c;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* Code points shown escaped on a line although they are valid: C1 controls,
 * and the invisible formatting characters that reorder or hide text. */
static bool invisible(uint32_t cp)
{
    return cp < 0xA0 || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) ||
           cp == 0xFEFF;
}

/*
 * s as a quoted string for people, at most `max` bytes of it, then "..." after
 * the closing quote when cut. Printable ASCII and visible UTF-8 pass through;
 * quote and backslash are escaped; \n \r \t; any other byte is \xHH.
 */
static void put_text(out *o, mqtt_bytes s, size_t max)
{
    size_t n = s.len < max ? s.len : max;
    size_t i = 0;
    put_c(o, '"');
    while (i < n) {
        uint8_t b = s.ptr[i];
        uint32_t cp;
        size_t k;
        if (b == '"' || b == '\\') {
            put_c(o, '\\');
            put_c(o, (char)b);
        } else if (b == '\n') {
            put_s(o, "\\n");
        } else if (b == '\r') {
            put_s(o, "\\r");
        } else if (b == '\t') {
            put_s(o, "\\t");
        } else if (b >= 0x20 && b < 0x7F) {
            put_c(o, (char)b);
        } else if (b >= 0x80 && (k = utf8_seq(s.ptr + i, n - i, &cp)) != 0 && !invisible(cp)) {
            for (size_t j = 0; j < k; j++)
                put_c(o, (char)s.ptr[i + j]);
            i += k;
            continue;
        } else {
            put_s(o, "\\x");
            put_hex_byte(o, b);
        }
        i++;
    }
    put_c(o, '"');
    if (n < s.len)
        put_s(o, "...");
}

/* Binary for people: 0x and hex of at most `max` bytes, "..." when cut. */
static void put_bin(out *o, mqtt_bytes s, size_t max)
{
    put_s(o, "0x");
    put_hex(o, s.ptr, s.len < max ? s.len : max);
    if (s.len > max)
        put_s(o, "...");
}

/* Whether the first `max` bytes of s read as text (valid UTF-8, no controls
 * but tab and newlines): then a preview shows them as a string, else as hex. */
static bool looks_like_text(mqtt_bytes s, size_t max)
{
    size_t n = s.len < max ? s.len : max;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_seq(s.ptr + i, n - i, &cp);
        if (k == 0)
            return i + 4 > n && n < s.len; /* a sequence cut by the preview */
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
            (cp >= 0x80 && cp < 0xA0))
            return false;
        i += k;
    }
    return true;
}

/* "64B" and, when non-empty, a short preview of the bytes. */
static void put_payload(out *o, mqtt_bytes p)
{
    put_u(o, p.len);
    put_c(o, 'B');
    if (p.len == 0)
        return;
    put_c(o, ' ');
    if (looks_like_text(p, PREVIEW_TEXT))
        put_text(o, p, PREVIEW_TEXT);
    else
        put_bin(o, p, PREVIEW_HEX);
}

/* A JSON string (RFC 8259, section 7). Bytes that are not UTF-8 become
 * U+FFFD so the document stays valid; decoded strings never have any. */
static void put_json_str(out *o, mqtt_bytes s)
{
    size_t i = 0;
    put_c(o, '"');
    while (i < s.len) {
        uint8_t b = s.ptr[i];
        uint32_t cp;
        size_t k;
        switch (b) {
        case '"': put_s(o, "\\\""); break;
        case '\\': put_s(o, "\\\\"); break;
        case '\b': put_s(o, "\\b"); break;
        case '\f': put_s(o, "\\f"); break;
        case '\n': put_s(o, "\\n"); break;
        case '\r': put_s(o, "\\r"); break;
        case '\t': put_s(o, "\\t"); break;
        default:
            if (b < 0x20) {
                put_s(o, "\\u00");
                put_hex_byte(o, b);
            } else if (b < 0x80) {
                put_c(o, (char)b);
            } else if ((k = utf8_seq(s.ptr + i, s.len - i, &cp)) != 0) {
                for (size_t j = 0; j < k; j++)
                    put_c(o, (char)s.ptr[i + j]);
                i += k;
                continue;
            } else {
                put_s(o, "\\ufffd");
            }
        }
        i++;
    }
    put_c(o, '"');
}

/* A JSON string of a name from the codec (ASCII). Escaped a character at a
 * time rather than measured first: a length loop would become a strlen call. */
static void put_json_cstr(out *o, const char *s)
{
    put_c(o, '"');
    for (; *s; s++) {
        unsigned char b = (unsigned char)*s;
        if (b == '"' || b == '\\') {
            put_c(o, '\\');
            put_c(o, (char)b);
        } else if (b < 0x20 || b >= 0x80) {
            put_s(o, "\\u00");
            put_hex_byte(o, b);
        } else {
            put_c(o, (char)b);
        }
    }
    put_c(o, '"');
}

static void put_json_hex(out *o, mqtt_bytes s)
{
    put_c(o, '"');
    put_hex(o, s.ptr, s.len);
    put_c(o, '"');
}

/* ,"key": every key follows an opening member written by hand. */
static void put_key(out *o, const char *key)
{
    put_c(o, ',');
    put_c(o, '"');
    put_s(o, key);
    put_s(o, "\":");
}

static void put_bool(out *o, bool v)
{
    put_s(o, v ? "true" : "false");
}

/* ---------------------------------------------------------------------- */
/* Properties                                                              */

typedef enum { P_BYTE, P_U16, P_U32, P_VARINT, P_UTF8, P_BIN, P_PAIR } prop_kind;

/* All 27 properties in identifier order: the short name on a line and the
 * JSON key. Subscription Identifier and User Property repeat (arrays). */
static const struct {
    uint8_t id;
    uint8_t kind;
    const char *abbr;
    const char *key;
} PROPS[] = {
    {MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, P_BYTE, "pfi", "payload_format_indicator"},
    {MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, P_U32, "mei", "message_expiry_interval"},
    {MQTT_PROP_CONTENT_TYPE, P_UTF8, "ct", "content_type"},
    {MQTT_PROP_RESPONSE_TOPIC, P_UTF8, "rt", "response_topic"},
    {MQTT_PROP_CORRELATION_DATA, P_BIN, "cd", "correlation_data"},
    {MQTT_PROP_SUBSCRIPTION_IDENTIFIER, P_VARINT, "sid", "subscription_identifiers"},
    {MQTT_PROP_SESSION_EXPIRY_INTERVAL, P_U32, "sei", "session_expiry_interval"},
    {MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, P_UTF8, "aci", "assigned_client_identifier"},
    {MQTT_PROP_SERVER_KEEP_ALIVE, P_U16, "ska", "server_keep_alive"},
    {MQTT_PROP_AUTHENTICATION_METHOD, P_UTF8, "am", "authentication_method"},
    {MQTT_PROP_AUTHENTICATION_DATA, P_BIN, "ad", "authentication_data"},
    {MQTT_PROP_REQUEST_PROBLEM_INFORMATION, P_BYTE, "rpi", "request_problem_information"},
    {MQTT_PROP_WILL_DELAY_INTERVAL, P_U32, "wdi", "will_delay_interval"},
    {MQTT_PROP_REQUEST_RESPONSE_INFORMATION, P_BYTE, "rri", "request_response_information"},
    {MQTT_PROP_RESPONSE_INFORMATION, P_UTF8, "ri", "response_information"},
    {MQTT_PROP_SERVER_REFERENCE, P_UTF8, "sr", "server_reference"},
    {MQTT_PROP_REASON_STRING, P_UTF8, "rs", "reason_string"},
    {MQTT_PROP_RECEIVE_MAXIMUM, P_U16, "rm", "receive_maximum"},
    {MQTT_PROP_TOPIC_ALIAS_MAXIMUM, P_U16, "tam", "topic_alias_maximum"},
    {MQTT_PROP_TOPIC_ALIAS, P_U16, "ta", "topic_alias"},
    {MQTT_PROP_MAXIMUM_QOS, P_BYTE, "mq", "maximum_qos"},
    {MQTT_PROP_RETAIN_AVAILABLE, P_BYTE, "ra", "retain_available"},
    {MQTT_PROP_USER_PROPERTY, P_PAIR, "up", "user_properties"},
    {MQTT_PROP_MAXIMUM_PACKET_SIZE, P_U32, "mps", "maximum_packet_size"},
    {MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, P_BYTE, "wsa", "wildcard_subscription_available"},
    {MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, P_BYTE, "sia", "subscription_identifier_available"},
    {MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, P_BYTE, "ssa", "shared_subscription_available"},
};
#define NPROPS (sizeof PROPS / sizeof PROPS[0])

/* Whether property `id` is in *p. The repeating ones are present when their
 * count is non-zero (the encoder ignores their bits, so do we). */
static bool prop_present(const mqtt_properties *p, uint8_t id)
{
    if (id == MQTT_PROP_USER_PROPERTY)
        return p->user_property_count > 0;
    if (id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER)
        return p->subscription_identifier_count > 0;
    return MQTT_HAS_PROP(p, id);
}

/* The value of a numeric property. */
static uint32_t prop_num(const mqtt_properties *p, uint8_t id)
{
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: return p->payload_format_indicator;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: return p->message_expiry_interval;
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL: return p->session_expiry_interval;
    case MQTT_PROP_SERVER_KEEP_ALIVE: return p->server_keep_alive;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION: return p->request_problem_information;
    case MQTT_PROP_WILL_DELAY_INTERVAL: return p->will_delay_interval;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: return p->request_response_information;
    case MQTT_PROP_RECEIVE_MAXIMUM: return p->receive_maximum;
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: return p->topic_alias_maximum;
    case MQTT_PROP_TOPIC_ALIAS: return p->topic_alias;
    case MQTT_PROP_MAXIMUM_QOS: return p->maximum_qos;
    case MQTT_PROP_RETAIN_AVAILABLE: return p->retain_available;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: return p->maximum_packet_size;
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: return p->wildcard_subscription_available;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: return p->subscription_identifier_available;
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: return p->shared_subscription_available;
    default: return 0;
    }
}

/* The value of a string or binary property. */
static mqtt_bytes prop_bytes(const mqtt_properties *p, uint8_t id)
{
    switch (id) {
    case MQTT_PROP_CONTENT_TYPE: return p->content_type;
    case MQTT_PROP_RESPONSE_TOPIC: return p->response_topic;
    case MQTT_PROP_CORRELATION_DATA: return p->correlation_data;
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER: return p->assigned_client_identifier;
    case MQTT_PROP_AUTHENTICATION_METHOD: return p->authentication_method;
    case MQTT_PROP_AUTHENTICATION_DATA: return p->authentication_data;
    case MQTT_PROP_RESPONSE_INFORMATION: return p->response_information;
    case MQTT_PROP_SERVER_REFERENCE: return p->server_reference;
    case MQTT_PROP_REASON_STRING: return p->reason_string;
    default: return (mqtt_bytes){0, 0};
    }
}

/* " props{sei=60 up["k"="v"]}" on a line; nothing when there are none or the
 * version has no properties. */
static void line_props(out *o, const mqtt_properties *p, mqtt_version v)
{
    bool first = true;
    if (v != MQTT_V5)
        return;
    for (size_t i = 0; i < NPROPS; i++) {
        uint8_t id = PROPS[i].id;
        if (!prop_present(p, id))
            continue;
        put_s(o, first ? " props{" : " ");
        first = false;
        put_s(o, PROPS[i].abbr);
        if (PROPS[i].kind != P_PAIR)
            put_c(o, '='); /* up["k"="v" ...] */
        switch (PROPS[i].kind) {
        case P_UTF8: put_text(o, prop_bytes(p, id), (size_t)-1); break;
        case P_BIN: put_bin(o, prop_bytes(p, id), PREVIEW_HEX); break;
        case P_VARINT:
            for (size_t k = 0; k < p->subscription_identifier_count; k++) {
                if (k)
                    put_c(o, ',');
                put_u(o, p->subscription_identifiers[k]);
            }
            break;
        case P_PAIR:
            put_c(o, '[');
            for (size_t k = 0; k < p->user_property_count; k++) {
                if (k)
                    put_c(o, ' ');
                put_text(o, p->user_properties[k].name, (size_t)-1);
                put_c(o, '=');
                put_text(o, p->user_properties[k].value, (size_t)-1);
            }
            put_c(o, ']');
            break;
        default: put_u(o, prop_num(p, id)); break;
        }
    }
    if (!first)
        put_c(o, '}');
}

/* ,"properties":{...} in JSON, for 5.0 packets only. */
static void json_props(out *o, const mqtt_properties *p, mqtt_version v, const char *key)
{
    bool first = true;
    if (v != MQTT_V5)
        return;
    put_key(o, key);
    put_c(o, '{');
    for (size_t i = 0; i < NPROPS; i++) {
        uint8_t id = PROPS[i].id;
        if (!prop_present(p, id))
            continue;
        if (!first)
            put_c(o, ',');
        first = false;
        put_c(o, '"');
        put_s(o, PROPS[i].key);
        put_s(o, "\":");
        switch (PROPS[i].kind) {
        case P_UTF8: put_json_str(o, prop_bytes(p, id)); break;
        case P_BIN: put_json_hex(o, prop_bytes(p, id)); break;
        case P_VARINT:
            put_c(o, '[');
            for (size_t k = 0; k < p->subscription_identifier_count; k++) {
                if (k)
                    put_c(o, ',');
                put_u(o, p->subscription_identifiers[k]);
            }
            put_c(o, ']');
            break;
        case P_PAIR:
            put_c(o, '[');
            for (size_t k = 0; k < p->user_property_count; k++) {
                put_s(o, k ? ",[" : "[");
                put_json_str(o, p->user_properties[k].name);
                put_c(o, ',');
                put_json_str(o, p->user_properties[k].value);
                put_c(o, ']');
            }
            put_c(o, ']');
            break;
        default: put_u(o, prop_num(p, id)); break;
        }
    }
    put_c(o, '}');
}

/* ---------------------------------------------------------------------- */
/* One line per packet                                                     */

static bool known_type(mqtt_packet_type t)
{
    return t >= MQTT_CONNECT && t <= MQTT_AUTH;
}

/* " rc=0x8e (Session taken over)"; 3.x CONNACK return codes have their own names. */
static void line_reason(out *o, mqtt_packet_type t, uint8_t code, mqtt_version v)
{
    put_s(o, " rc=");
    put_code(o, code);
    put_s(o, " (");
    put_s(o, t == MQTT_CONNACK && v != MQTT_V5 ? mqtt_connack_return_name(code)
                                               : mqtt_reason_name(t, code));
    put_c(o, ')');
}

static void line_connect(out *o, const mqtt_connect *c, mqtt_version v)
{
    /* CONNECT speaks its own version whatever the connection's is. */
    mqtt_version cv = c->protocol_level ? (mqtt_version)c->protocol_level : v;
    put_s(o, " v");
    put_u(o, c->protocol_level ? c->protocol_level : (uint8_t)v);
    put_s(o, " id=");
    put_text(o, c->client_id, (size_t)-1);
    put_s(o, " clean=");
    put_u(o, c->clean_start);
    put_s(o, " ka=");
    put_u(o, c->keep_alive);
    line_props(o, &c->properties, cv);
    if (c->will) {
        put_s(o, " will(q");
        put_u(o, c->will_qos);
        put_s(o, " r");
        put_u(o, c->will_retain);
        line_props(o, &c->will_properties, cv);
        put_s(o, " topic=");
        put_text(o, c->will_topic, (size_t)-1);
        put_c(o, ' ');
        put_payload(o, c->will_payload);
        put_c(o, ')');
    }
    if (c->has_username) {
        put_s(o, " user=");
        put_text(o, c->username, (size_t)-1);
    }
    if (c->has_password)
        put_s(o, " pass"); /* never the secret itself: lines end up in logs */
}

static void line_subscribe(out *o, const mqtt_packet *pkt, mqtt_version v)
{
    const mqtt_subscribe *s = &pkt->subscribe;
    put_s(o, " id=");
    put_u(o, s->packet_id);
    line_props(o, &s->properties, v);
    put_s(o, " [");
    for (size_t i = 0; i < s->count; i++) {
        const mqtt_subscription *e = &s->subscriptions[i];
        if (i)
            put_s(o, ", ");
        put_text(o, e->topic_filter, (size_t)-1);
        if (pkt->type != MQTT_SUBSCRIBE)
            continue;
        put_s(o, " q");
        put_u(o, e->qos);
        if (v == MQTT_V5) {
            if (e->no_local)
                put_s(o, " nl");
            if (e->retain_as_published)
                put_s(o, " rap");
            put_s(o, " rh");
            put_u(o, e->retain_handling);
        }
    }
    put_c(o, ']');
}

static void line_suback(out *o, const mqtt_packet *pkt, mqtt_version v)
{
    const mqtt_suback *s = &pkt->suback;
    put_s(o, " id=");
    put_u(o, s->packet_id);
    line_props(o, &s->properties, v);
    /* A 3.x UNSUBACK has no payload: no list rather than an empty one. */
    if (pkt->type == MQTT_UNSUBACK && v != MQTT_V5)
        return;
    put_s(o, " [");
    for (size_t i = 0; i < s->reason_codes.len; i++) {
        if (i)
            put_s(o, ", ");
        put_code(o, s->reason_codes.ptr[i]);
    }
    put_c(o, ']');
}

size_t mqtt_format_line(const mqtt_packet *pkt, mqtt_version version, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    put_s(&o, mqtt_packet_type_name(pkt->type));
    if (!known_type(pkt->type)) {
        put_c(&o, '(');
        put_u(&o, (unsigned)pkt->type);
        put_c(&o, ')');
        return finish(&o);
    }
    switch (pkt->type) {
    case MQTT_CONNECT:
        line_connect(&o, &pkt->connect, version);
        break;
    case MQTT_CONNACK:
        put_s(&o, " sp=");
        put_u(&o, pkt->connack.session_present);
        line_reason(&o, MQTT_CONNACK, pkt->connack.reason_code, version);
        line_props(&o, &pkt->connack.properties, version);
        break;
    case MQTT_PUBLISH: {
        const mqtt_publish *p = &pkt->publish;
        put_s(&o, " q");
        put_u(&o, p->qos);
        if (p->dup)
            put_s(&o, " dup");
        if (p->qos > 0) {
            put_s(&o, " id=");
            put_u(&o, p->packet_id);
        }
        put_s(&o, " r=");
        put_u(&o, p->retain);
        put_s(&o, " topic=");
        put_text(&o, p->topic, (size_t)-1);
        line_props(&o, &p->properties, version);
        put_c(&o, ' ');
        put_payload(&o, p->payload);
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        put_s(&o, " id=");
        put_u(&o, pkt->ack.packet_id);
        if (version == MQTT_V5) {
            line_reason(&o, pkt->type, pkt->ack.reason_code, version);
            line_props(&o, &pkt->ack.properties, version);
        }
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        line_subscribe(&o, pkt, version);
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        line_suback(&o, pkt, version);
        break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (version == MQTT_V5 || pkt->type == MQTT_AUTH) {
            line_reason(&o, pkt->type, pkt->disconnect.reason_code, version);
            line_props(&o, &pkt->disconnect.properties, MQTT_V5);
        }
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        break;
    }
    return finish(&o);
}

/* ---------------------------------------------------------------------- */
/* One JSON object per packet                                              */

static void json_uint(out *o, const char *key, uint64_t v)
{
    put_key(o, key);
    put_u(o, v);
}

static void json_flag(out *o, const char *key, bool v)
{
    put_key(o, key);
    put_bool(o, v);
}

static void json_text(out *o, const char *key, mqtt_bytes s)
{
    put_key(o, key);
    put_json_str(o, s);
}

/* ,"reason_code":142,"reason":"Session taken over" */
static void json_reason(out *o, mqtt_packet_type t, uint8_t code, mqtt_version v)
{
    json_uint(o, "reason_code", code);
    put_key(o, "reason");
    put_json_cstr(o, t == MQTT_CONNACK && v != MQTT_V5 ? mqtt_connack_return_name(code)
                                                       : mqtt_reason_name(t, code));
}

/* ,"payload":"<hex>","payload_length":N and, when it is UTF-8 text,
 * ,"payload_text":"..." so a reader need not decode the hex. */
static void json_payload(out *o, mqtt_bytes p)
{
    bool text = true;
    for (size_t i = 0; i < p.len && text;) {
        uint32_t cp;
        size_t k = utf8_seq(p.ptr + i, p.len - i, &cp);
        text = k != 0;
        i += k;
    }
    put_key(o, "payload");
    put_json_hex(o, p);
    json_uint(o, "payload_length", p.len);
    if (text && p.len > 0)
        json_text(o, "payload_text", p);
}

static void json_connect(out *o, const mqtt_connect *c, mqtt_version v)
{
    mqtt_version cv = c->protocol_level ? (mqtt_version)c->protocol_level : v;
    json_text(o, "protocol_name", c->protocol_name);
    json_uint(o, "protocol_level", c->protocol_level);
    json_flag(o, "clean_start", c->clean_start);
    json_uint(o, "keep_alive", c->keep_alive);
    json_props(o, &c->properties, cv, "properties");
    json_text(o, "client_id", c->client_id);
    if (c->will) {
        put_key(o, "will");
        put_c(o, '{');
        put_s(o, "\"qos\":");
        put_u(o, c->will_qos);
        json_flag(o, "retain", c->will_retain);
        json_props(o, &c->will_properties, cv, "properties");
        json_text(o, "topic", c->will_topic);
        json_payload(o, c->will_payload);
        put_c(o, '}');
    }
    if (c->has_username)
        json_text(o, "username", c->username);
    /* Like the line format, never the password itself: these lines end up in logs. */
    if (c->has_password) {
        put_key(o, "password_length");
        put_u(o, c->password.len);
    }
}

static void json_subscribe(out *o, const mqtt_packet *pkt, mqtt_version v)
{
    const mqtt_subscribe *s = &pkt->subscribe;
    json_uint(o, "packet_id", s->packet_id);
    json_props(o, &s->properties, v, "properties");
    if (pkt->type == MQTT_UNSUBSCRIBE) {
        put_key(o, "topic_filters");
        put_c(o, '[');
        for (size_t i = 0; i < s->count; i++) {
            if (i)
                put_c(o, ',');
            put_json_str(o, s->subscriptions[i].topic_filter);
        }
        put_c(o, ']');
        return;
    }
    put_key(o, "subscriptions");
    put_c(o, '[');
    for (size_t i = 0; i < s->count; i++) {
        const mqtt_subscription *e = &s->subscriptions[i];
        put_s(o, i ? ",{" : "{");
        put_s(o, "\"topic_filter\":");
        put_json_str(o, e->topic_filter);
        json_uint(o, "qos", e->qos);
        if (v == MQTT_V5) {
            json_flag(o, "no_local", e->no_local);
            json_flag(o, "retain_as_published", e->retain_as_published);
            json_uint(o, "retain_handling", e->retain_handling);
        }
        put_c(o, '}');
    }
    put_c(o, ']');
}

size_t mqtt_format_json(const mqtt_packet *pkt, mqtt_version version, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    put_s(&o, "{\"type\":");
    put_json_cstr(&o, mqtt_packet_type_name(pkt->type));
    if (!known_type(pkt->type)) {
        json_uint(&o, "type_code", (unsigned)pkt->type);
        put_c(&o, '}');
        return finish(&o);
    }
    put_key(&o, "version");
    put_json_cstr(&o, mqtt_version_name(version));
    /* Wire facts exist only for decoded packets (length is 0 on a built one). */
    if (pkt->length) {
        json_uint(&o, "flags", pkt->flags);
        json_uint(&o, "remaining_length", pkt->remaining_length);
        json_uint(&o, "length", pkt->length);
    }
    switch (pkt->type) {
    case MQTT_CONNECT:
        json_connect(&o, &pkt->connect, version);
        break;
    case MQTT_CONNACK:
        json_flag(&o, "session_present", pkt->connack.session_present);
        json_reason(&o, MQTT_CONNACK, pkt->connack.reason_code, version);
        json_props(&o, &pkt->connack.properties, version, "properties");
        break;
    case MQTT_PUBLISH: {
        const mqtt_publish *p = &pkt->publish;
        json_uint(&o, "qos", p->qos);
        json_flag(&o, "dup", p->dup);
        json_flag(&o, "retain", p->retain);
        json_text(&o, "topic", p->topic);
        if (p->qos > 0)
            json_uint(&o, "packet_id", p->packet_id);
        json_props(&o, &p->properties, version, "properties");
        json_payload(&o, p->payload);
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        json_uint(&o, "packet_id", pkt->ack.packet_id);
        if (version == MQTT_V5) {
            json_reason(&o, pkt->type, pkt->ack.reason_code, version);
            json_props(&o, &pkt->ack.properties, version, "properties");
        }
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        json_subscribe(&o, pkt, version);
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        json_uint(&o, "packet_id", pkt->suback.packet_id);
        json_props(&o, &pkt->suback.properties, version, "properties");
        if (pkt->type == MQTT_SUBACK || version == MQTT_V5) {
            put_key(&o, "reason_codes");
            put_c(&o, '[');
            for (size_t i = 0; i < pkt->suback.reason_codes.len; i++) {
                if (i)
                    put_c(&o, ',');
                put_u(&o, pkt->suback.reason_codes.ptr[i]);
            }
            put_c(&o, ']');
        }
        break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (version == MQTT_V5 || pkt->type == MQTT_AUTH) {
            json_reason(&o, pkt->type, pkt->disconnect.reason_code, version);
            json_props(&o, &pkt->disconnect.properties, MQTT_V5, "properties");
        }
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        break;
    }
    put_c(&o, '}');
    return finish(&o);
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

size_t mqtt_format_error(const mqtt_error *err, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    /* The reason a receiver sends goes in a DISCONNECT, or in the CONNACK for
     * what only a CONNACK can say (0x84 Unsupported Protocol Version). */
    const char *reason = mqtt_reason_name(MQTT_DISCONNECT, err->reason_code);
    if (str_eq(reason, "unknown"))
        reason = mqtt_reason_name(MQTT_CONNACK, err->reason_code);
    put_s(&o, mqtt_status_name(err->status));
    put_c(&o, ' ');
    put_s(&o, err->rule ? err->rule : "(no rule)");
    put_s(&o, " at ");
    put_u(&o, err->offset);
    if (err->message) {
        put_s(&o, ": ");
        put_s(&o, err->message);
    }
    put_s(&o, " (reason ");
    put_code(&o, err->reason_code);
    put_c(&o, ' ');
    put_s(&o, reason);
    put_c(&o, ')');
    return finish(&o);
}
