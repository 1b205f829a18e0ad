/*
 * Scenario fields: the table of every name=value a scenario may write, which
 * packets accept it (to send and to expect), and the three things done with a
 * value: check it at parse time, set it into a packet being built, compare it
 * with a received packet. Only the codec's structs are touched: the bytes
 * themselves are produced and read by mqtt_encode / mqtt_decode.
 */
#include "conformance/src/conform.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT(t) (1u << (t))
#define P_ACKS (PT(MQTT_PUBACK) | PT(MQTT_PUBREC) | PT(MQTT_PUBREL) | PT(MQTT_PUBCOMP))
#define P_ALL 0xFFFEu
#define P_WITHPROPS (P_ALL & ~(PT(MQTT_PINGREQ) | PT(MQTT_PINGRESP)))

typedef struct {
    const char *name;
    conf_field_id id;
    int prop;
    conf_ftype type;
    unsigned send;   /* packet types that may carry it when sending */
    unsigned expect; /* packet types it may be matched on */
} field_def;

static const field_def fields[] = {
    {"client_id", F_CLIENT_ID, 0, FT_STR, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"clean", F_CLEAN, 0, FT_BOOL, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"keep_alive", F_KEEP_ALIVE, 0, FT_NUM, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"username", F_USERNAME, 0, FT_STR, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"password", F_PASSWORD, 0, FT_BIN, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"will_topic", F_WILL_TOPIC, 0, FT_STR, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"will_payload", F_WILL_PAYLOAD, 0, FT_BIN, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"will_qos", F_WILL_QOS, 0, FT_NUM, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"will_retain", F_WILL_RETAIN, 0, FT_BOOL, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"protocol_name", F_PROTOCOL_NAME, 0, FT_STR, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"protocol_level", F_PROTOCOL_LEVEL, 0, FT_NUM, PT(MQTT_CONNECT), PT(MQTT_CONNECT)},
    {"session_present", F_SESSION_PRESENT, 0, FT_BOOL, PT(MQTT_CONNACK), PT(MQTT_CONNACK)},
    {"reason_code", F_REASON_CODE, 0, FT_NUM, P_ACKS | PT(MQTT_CONNACK) | PT(MQTT_DISCONNECT) | PT(MQTT_AUTH),
     P_ACKS | PT(MQTT_CONNACK) | PT(MQTT_DISCONNECT) | PT(MQTT_AUTH)},
    {"topic", F_TOPIC, 0, FT_STR, PT(MQTT_PUBLISH), PT(MQTT_PUBLISH)},
    {"payload", F_PAYLOAD, 0, FT_BIN, PT(MQTT_PUBLISH), PT(MQTT_PUBLISH)},
    {"payload_length", F_PAYLOAD_LENGTH, 0, FT_NUM, 0, PT(MQTT_PUBLISH)},
    {"qos", F_QOS, 0, FT_NUM, PT(MQTT_PUBLISH) | PT(MQTT_SUBSCRIBE), PT(MQTT_PUBLISH) | PT(MQTT_SUBSCRIBE)},
    {"retain", F_RETAIN, 0, FT_BOOL, PT(MQTT_PUBLISH), PT(MQTT_PUBLISH)},
    {"dup", F_DUP, 0, FT_BOOL, PT(MQTT_PUBLISH), PT(MQTT_PUBLISH)},
    {"packet_id", F_PACKET_ID, 0, FT_NUM,
     PT(MQTT_PUBLISH) | P_ACKS | PT(MQTT_SUBSCRIBE) | PT(MQTT_UNSUBSCRIBE) | PT(MQTT_SUBACK) | PT(MQTT_UNSUBACK),
     PT(MQTT_PUBLISH) | P_ACKS | PT(MQTT_SUBACK) | PT(MQTT_UNSUBACK) | PT(MQTT_SUBSCRIBE) | PT(MQTT_UNSUBSCRIBE)},
    {"flags", F_FLAGS, 0, FT_NUM, 0, P_ALL},
    {"filter", F_FILTER, 0, FT_STR, PT(MQTT_SUBSCRIBE) | PT(MQTT_UNSUBSCRIBE), PT(MQTT_SUBSCRIBE) | PT(MQTT_UNSUBSCRIBE)},
    {"no_local", F_NO_LOCAL, 0, FT_BOOL, PT(MQTT_SUBSCRIBE), PT(MQTT_SUBSCRIBE)},
    {"retain_as_published", F_RAP, 0, FT_BOOL, PT(MQTT_SUBSCRIBE), PT(MQTT_SUBSCRIBE)},
    {"retain_handling", F_RH, 0, FT_NUM, PT(MQTT_SUBSCRIBE), PT(MQTT_SUBSCRIBE)},
    {"reason_codes", F_REASON_CODES, 0, FT_LIST, PT(MQTT_SUBACK) | PT(MQTT_UNSUBACK), PT(MQTT_SUBACK) | PT(MQTT_UNSUBACK)},
    {"user_property_count", F_USER_PROPERTY_COUNT, 0, FT_NUM, 0, P_WITHPROPS},
    {"subscription_identifier_count", F_SUBID_COUNT, 0, FT_NUM, 0, PT(MQTT_PUBLISH)},
};

typedef struct {
    const char *name;
    int prop;
    conf_ftype type;
    unsigned packets; /* where the spec allows it (send and expect) */
    bool will;        /* also a Will property */
} prop_def;

#define P_PUBWILL PT(MQTT_PUBLISH)
static const prop_def props[] = {
    {"payload_format_indicator", MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, FT_NUM, P_PUBWILL, true},
    {"message_expiry_interval", MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, FT_NUM, P_PUBWILL, true},
    {"content_type", MQTT_PROP_CONTENT_TYPE, FT_STR, P_PUBWILL, true},
    {"response_topic", MQTT_PROP_RESPONSE_TOPIC, FT_STR, P_PUBWILL, true},
    {"correlation_data", MQTT_PROP_CORRELATION_DATA, FT_BIN, P_PUBWILL, true},
    {"subscription_identifier", MQTT_PROP_SUBSCRIPTION_IDENTIFIER, FT_NUM,
     PT(MQTT_PUBLISH) | PT(MQTT_SUBSCRIBE), false},
    {"session_expiry_interval", MQTT_PROP_SESSION_EXPIRY_INTERVAL, FT_NUM,
     PT(MQTT_CONNECT) | PT(MQTT_CONNACK) | PT(MQTT_DISCONNECT), false},
    {"assigned_client_identifier", MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, FT_STR, PT(MQTT_CONNACK), false},
    {"server_keep_alive", MQTT_PROP_SERVER_KEEP_ALIVE, FT_NUM, PT(MQTT_CONNACK), false},
    {"authentication_method", MQTT_PROP_AUTHENTICATION_METHOD, FT_STR,
     PT(MQTT_CONNECT) | PT(MQTT_CONNACK) | PT(MQTT_AUTH), false},
    {"authentication_data", MQTT_PROP_AUTHENTICATION_DATA, FT_BIN,
     PT(MQTT_CONNECT) | PT(MQTT_CONNACK) | PT(MQTT_AUTH), false},
    {"request_problem_information", MQTT_PROP_REQUEST_PROBLEM_INFORMATION, FT_NUM, PT(MQTT_CONNECT), false},
    {"will_delay_interval", MQTT_PROP_WILL_DELAY_INTERVAL, FT_NUM, 0, true},
    {"request_response_information", MQTT_PROP_REQUEST_RESPONSE_INFORMATION, FT_NUM, PT(MQTT_CONNECT), false},
    {"response_information", MQTT_PROP_RESPONSE_INFORMATION, FT_STR, PT(MQTT_CONNACK), false},
    {"server_reference", MQTT_PROP_SERVER_REFERENCE, FT_STR, PT(MQTT_CONNACK) | PT(MQTT_DISCONNECT), false},
    {"reason_string", MQTT_PROP_REASON_STRING, FT_STR,
     PT(MQTT_CONNACK) | P_ACKS | PT(MQTT_SUBACK) | PT(MQTT_UNSUBACK) | PT(MQTT_DISCONNECT) | PT(MQTT_AUTH), false},
    {"receive_maximum", MQTT_PROP_RECEIVE_MAXIMUM, FT_NUM, PT(MQTT_CONNECT) | PT(MQTT_CONNACK), false},
    {"topic_alias_maximum", MQTT_PROP_TOPIC_ALIAS_MAXIMUM, FT_NUM, PT(MQTT_CONNECT) | PT(MQTT_CONNACK), false},
    {"topic_alias", MQTT_PROP_TOPIC_ALIAS, FT_NUM, PT(MQTT_PUBLISH), false},
    {"maximum_qos", MQTT_PROP_MAXIMUM_QOS, FT_NUM, PT(MQTT_CONNACK), false},
    {"retain_available", MQTT_PROP_RETAIN_AVAILABLE, FT_NUM, PT(MQTT_CONNACK), false},
    {"user_property", MQTT_PROP_USER_PROPERTY, FT_USERPROP, P_WITHPROPS, true},
    {"maximum_packet_size", MQTT_PROP_MAXIMUM_PACKET_SIZE, FT_NUM, PT(MQTT_CONNECT) | PT(MQTT_CONNACK), false},
    {"wildcard_subscription_available", MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, FT_NUM, PT(MQTT_CONNACK), false},
    {"subscription_identifier_available", MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, FT_NUM, PT(MQTT_CONNACK), false},
    {"shared_subscription_available", MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, FT_NUM, PT(MQTT_CONNACK), false},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool name_is(const char *want, const char *s, size_t n)
{
    return strlen(want) == n && memcmp(want, s, n) == 0;
}

int conf_field_lookup(const char *name, size_t n, mqtt_packet_type ptype, bool expect,
                      conf_field_id *id, int *prop)
{
    unsigned bit = PT(ptype);
    for (size_t i = 0; i < COUNT(fields); i++) {
        if (!name_is(fields[i].name, name, n)) continue;
        if (!((expect ? fields[i].expect : fields[i].send) & bit)) return -1;
        *id = fields[i].id;
        *prop = 0;
        return 0;
    }
    /* Will properties: "will_" + a property name (will_delay_interval is itself one). */
    if (ptype == MQTT_CONNECT && !expect && n > 5 && memcmp(name, "will_", 5) == 0) {
        for (size_t i = 0; i < COUNT(props); i++) {
            if (!props[i].will) continue;
            if (name_is(props[i].name, name + 5, n - 5) ||
                (props[i].prop == MQTT_PROP_WILL_DELAY_INTERVAL && name_is(props[i].name, name, n))) {
                *id = F_WILL_PROP;
                *prop = props[i].prop;
                return 0;
            }
        }
    }
    for (size_t i = 0; i < COUNT(props); i++) {
        if (!name_is(props[i].name, name, n)) continue;
        if (!(props[i].packets & bit)) return -1;
        *id = F_PROP;
        *prop = props[i].prop;
        return 0;
    }
    return -1;
}

static const prop_def *find_prop(int prop)
{
    for (size_t i = 0; i < COUNT(props); i++)
        if (props[i].prop == prop) return &props[i];
    return NULL;
}

conf_ftype conf_field_type(conf_field_id id, int prop)
{
    if (id == F_PROP || id == F_WILL_PROP) {
        const prop_def *p = find_prop(prop);
        return p ? p->type : FT_NUM;
    }
    for (size_t i = 0; i < COUNT(fields); i++)
        if (fields[i].id == id) return fields[i].type;
    return FT_NUM;
}

const char *conf_field_name(conf_field_id id, int prop)
{
    if (id == F_PROP || id == F_WILL_PROP) {
        const prop_def *p = find_prop(prop);
        if (!p) return "property";
        if (id == F_PROP) return p->name;
        static const char *const will_names[] = {
            "will_payload_format_indicator", "will_message_expiry_interval", "will_content_type",
            "will_response_topic", "will_correlation_data", "will_user_property"};
        switch (prop) {
        case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: return will_names[0];
        case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: return will_names[1];
        case MQTT_PROP_CONTENT_TYPE: return will_names[2];
        case MQTT_PROP_RESPONSE_TOPIC: return will_names[3];
        case MQTT_PROP_CORRELATION_DATA: return will_names[4];
        case MQTT_PROP_USER_PROPERTY: return will_names[5];
        default: return p->name;
        }
    }
    for (size_t i = 0; i < COUNT(fields); i++)
        if (fields[i].id == id) return fields[i].name;
    return "field";
}

/* ---- values ---- */

/* Parses a number (decimal or 0x hex) or a boolean word. */
static bool parse_num(const char *s, size_t n, bool allow_bool, uint64_t *out)
{
    if (allow_bool) {
        if (name_is("true", s, n) || name_is("yes", s, n)) { *out = 1; return true; }
        if (name_is("false", s, n) || name_is("no", s, n)) { *out = 0; return true; }
    }
    if (n == 0 || n > 20) return false;
    char tmp[24];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    int base = 10;
    const char *digits = tmp;
    if (n > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X')) { base = 16; digits = tmp + 2; }
    for (const char *c = digits; *c; c++)
        if (!(base == 16 ? isxdigit((unsigned char)*c) : isdigit((unsigned char)*c))) return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(digits, &end, base);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static uint64_t num_max(conf_field_id id, int prop)
{
    switch (id) {
    case F_CLEAN: case F_WILL_RETAIN: case F_SESSION_PRESENT: case F_RETAIN: case F_DUP:
    case F_NO_LOCAL: case F_RAP: return 1;
    case F_WILL_QOS: case F_QOS: case F_RH: return 3; /* 3 is accepted: the codec refuses it */
    case F_KEEP_ALIVE: case F_PACKET_ID: return 65535;
    case F_PROTOCOL_LEVEL: case F_REASON_CODE: return 255;
    case F_FLAGS: return 15;
    case F_PROP: case F_WILL_PROP:
        switch (prop) {
        case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
        case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: case MQTT_PROP_MAXIMUM_QOS:
        case MQTT_PROP_RETAIN_AVAILABLE: case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: return 255;
        case MQTT_PROP_SERVER_KEEP_ALIVE: case MQTT_PROP_RECEIVE_MAXIMUM:
        case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: case MQTT_PROP_TOPIC_ALIAS: return 65535;
        case MQTT_PROP_SUBSCRIPTION_IDENTIFIER: return 268435455;
        default: return UINT32_MAX;
        }
    default: return UINT32_MAX;
    }
}

/* Checks one comma-separated list of numbers 0..255. */
static bool parse_list(const char *s, size_t n, uint8_t *out, size_t cap, size_t *count)
{
    *count = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',') j++;
        uint64_t v;
        if (!parse_num(s + i, j - i, false, &v) || v > 255 || *count >= cap) return false;
        out[(*count)++] = (uint8_t)v;
        i = j + 1;
    }
    return true;
}

static const char *check_value(conf_field_id id, int prop, conf_vkind kind, const char *val,
                               size_t len, uint64_t fillnum)
{
    conf_ftype t = conf_field_type(id, prop);
    if (kind == VK_PRESENT || kind == VK_ABSENT)
        return (id == F_PROP || id == F_USERNAME || id == F_PASSWORD || id == F_WILL_TOPIC) ? NULL
               : "a value (present/absent is for properties, username, password and will_topic)";
    switch (t) {
    case FT_NUM: case FT_BOOL: {
        uint64_t v;
        if (kind != VK_WORD || !parse_num(val, len, t == FT_BOOL, &v))
            return t == FT_BOOL ? "0 or 1" : "a number";
        if (v > num_max(id, prop)) return "a smaller number";
        if (fillnum) return "a number";
        return NULL;
    }
    case FT_LIST: {
        uint8_t tmp[256];
        size_t c;
        if (kind != VK_WORD || !parse_list(val, len, tmp, sizeof tmp, &c))
            return "a list of reason codes like 0,1,0x80";
        return NULL;
    }
    case FT_USERPROP:
        if (kind == VK_HEX || kind == VK_FILL || !memchr(val, '=', len))
            return "\"name=value\"";
        return NULL;
    case FT_STR:
        if (kind == VK_HEX || kind == VK_FILL) return "text";
        return NULL;
    case FT_BIN:
        return NULL;
    }
    return NULL;
}

const char *conf_field_check(const conf_field *f)
{
    if (f->kind != VK_HEX && memchr(f->text, '$', f->len) && strstr(f->text, "${"))
        return NULL; /* checked when run, after substitution */
    if (f->op != OP_EQ && f->op != OP_NE) {
        conf_ftype t = conf_field_type(f->id, f->prop);
        if (t == FT_LIST) {
            /* reason_codes>=0x80: every code compares so (one number) */
            if (memchr(f->text, ',', f->len)) return "one number after <, <=, > or >= (each code is compared with it)";
        } else if (t != FT_NUM) {
            return "= or != (ordering compares numbers only)";
        }
    }
    return check_value(f->id, f->prop, f->kind, f->text, f->len, f->kind == VK_FILL ? f->num : 0);
}

/* ---- variables and substitution ---- */

void conf_vars_set(conf_vars *v, const char *name, const char *value, size_t len)
{
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->names[i], name) == 0) {
            free(v->values[i]);
            v->values[i] = strndup(value, len);
            return;
        }
    }
    if (v->count >= COUNT(v->names)) return;
    v->names[v->count] = strdup(name);
    v->values[v->count] = strndup(value, len);
    v->count++;
}

void conf_vars_free(conf_vars *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->names[i]);
        free(v->values[i]);
    }
    v->count = 0;
}

char *conf_subst(const char *text, size_t len, const char *ns, int vi, const conf_vars *vars,
                 size_t *outlen, char *err, size_t errlen)
{
    size_t cap = len + 64, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (size_t i = 0; i < len;) {
        const char *val = NULL;
        size_t vlen = 0, skip = 1;
        if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
            const char *end = memchr(text + i + 2, '}', len - i - 2);
            if (end) {
                size_t nl = (size_t)(end - (text + i + 2));
                const char *nm = text + i + 2;
                skip = nl + 3;
                if (name_is("ns", nm, nl)) val = ns;
                else if (name_is("version", nm, nl)) val = conf_vi_name(vi);
                else {
                    for (size_t k = 0; vars && k < vars->count; k++)
                        if (name_is(vars->names[k], nm, nl)) val = vars->values[k];
                }
                if (!val) {
                    snprintf(err, errlen, "variable ${%.*s} is not set (capture it first)", (int)nl, nm);
                    free(out);
                    return NULL;
                }
                vlen = strlen(val);
            }
        }
        if (!val) { val = text + i; vlen = 1; skip = 1; }
        if (n + vlen + 1 > cap) {
            cap = (n + vlen + 1) * 2;
            char *p = realloc(out, cap);
            if (!p) { free(out); return NULL; }
            out = p;
        }
        memcpy(out + n, val, vlen);
        n += vlen;
        i += skip;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* ---- building ---- */

void conf_build_free(conf_build *b)
{
    for (size_t i = 0; i < b->nstrs; i++) free(b->strs[i]);
    b->nstrs = 0;
}

static mqtt_properties *props_of(mqtt_packet *p)
{
    switch (p->type) {
    case MQTT_CONNECT: return &p->connect.properties;
    case MQTT_CONNACK: return &p->connack.properties;
    case MQTT_PUBLISH: return &p->publish.properties;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP: return &p->ack.properties;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE: return &p->subscribe.properties;
    case MQTT_SUBACK: case MQTT_UNSUBACK: return &p->suback.properties;
    case MQTT_DISCONNECT: case MQTT_AUTH: return &p->disconnect.properties;
    default: return NULL;
    }
}

/* Keeps a copy of the value alive for the packet's lifetime. */
static mqtt_bytes keep(conf_build *b, const char *val, size_t len)
{
    mqtt_bytes out = {NULL, 0};
    if (b->nstrs >= COUNT(b->strs)) return out;
    char *c = malloc(len + 1);
    if (!c) return out;
    memcpy(c, val, len);
    c[len] = '\0';
    b->strs[b->nstrs++] = c;
    out.ptr = (const uint8_t *)c;
    out.len = len;
    return out;
}

/* The bytes a value stands for: fill:N expands, others are as written. */
static mqtt_bytes value_bytes(conf_build *b, const conf_field *f, const char *val, size_t len)
{
    if (f->kind == VK_FILL && f->len == 0) { /* fill:N; fill:${var} arrives expanded */
        char *tmp = malloc(f->num ? f->num : 1);
        if (!tmp) return (mqtt_bytes){NULL, 0};
        memset(tmp, 'x', f->num);
        mqtt_bytes r = keep(b, tmp, f->num);
        free(tmp);
        return r;
    }
    return keep(b, val, len);
}

static void set_prop(conf_build *b, mqtt_properties *pr, mqtt_user_property *uparr, int prop,
                     uint64_t num, mqtt_bytes bytes)
{
    if (prop == MQTT_PROP_USER_PROPERTY) {
        if (pr->user_property_count >= 16) return;
        const uint8_t *eq = memchr(bytes.ptr, '=', bytes.len);
        size_t nl = eq ? (size_t)(eq - bytes.ptr) : bytes.len;
        mqtt_user_property *u = &uparr[pr->user_property_count++];
        u->name.ptr = bytes.ptr;
        u->name.len = nl;
        u->value.ptr = eq ? eq + 1 : bytes.ptr + bytes.len;
        u->value.len = eq ? bytes.len - nl - 1 : 0;
        pr->user_properties = uparr;
        return;
    }
    if (prop == MQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
        if (pr->subscription_identifier_count >= 16) return;
        b->subids[pr->subscription_identifier_count++] = (uint32_t)num;
        pr->subscription_identifiers = b->subids;
        return;
    }
    pr->present |= MQTT_PROP_BIT(prop);
    switch (prop) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: pr->payload_format_indicator = (uint8_t)num; break;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: pr->message_expiry_interval = (uint32_t)num; break;
    case MQTT_PROP_CONTENT_TYPE: pr->content_type = bytes; break;
    case MQTT_PROP_RESPONSE_TOPIC: pr->response_topic = bytes; break;
    case MQTT_PROP_CORRELATION_DATA: pr->correlation_data = bytes; break;
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL: pr->session_expiry_interval = (uint32_t)num; break;
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER: pr->assigned_client_identifier = bytes; break;
    case MQTT_PROP_SERVER_KEEP_ALIVE: pr->server_keep_alive = (uint16_t)num; break;
    case MQTT_PROP_AUTHENTICATION_METHOD: pr->authentication_method = bytes; break;
    case MQTT_PROP_AUTHENTICATION_DATA: pr->authentication_data = bytes; break;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION: pr->request_problem_information = (uint8_t)num; break;
    case MQTT_PROP_WILL_DELAY_INTERVAL: pr->will_delay_interval = (uint32_t)num; break;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: pr->request_response_information = (uint8_t)num; break;
    case MQTT_PROP_RESPONSE_INFORMATION: pr->response_information = bytes; break;
    case MQTT_PROP_SERVER_REFERENCE: pr->server_reference = bytes; break;
    case MQTT_PROP_REASON_STRING: pr->reason_string = bytes; break;
    case MQTT_PROP_RECEIVE_MAXIMUM: pr->receive_maximum = (uint16_t)num; break;
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: pr->topic_alias_maximum = (uint16_t)num; break;
    case MQTT_PROP_TOPIC_ALIAS: pr->topic_alias = (uint16_t)num; break;
    case MQTT_PROP_MAXIMUM_QOS: pr->maximum_qos = (uint8_t)num; break;
    case MQTT_PROP_RETAIN_AVAILABLE: pr->retain_available = (uint8_t)num; break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: pr->maximum_packet_size = (uint32_t)num; break;
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: pr->wildcard_subscription_available = (uint8_t)num; break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: pr->subscription_identifier_available = (uint8_t)num; break;
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: pr->shared_subscription_available = (uint8_t)num; break;
    default: break;
    }
}

const char *conf_build_set(conf_build *b, int vi, const conf_field *f, const char *val, size_t len)
{
    const char *bad = check_value(f->id, f->prop, f->kind, val, len, 0);
    if (bad && f->kind != VK_FILL) return bad;
    conf_ftype t = conf_field_type(f->id, f->prop);
    uint64_t num = 0;
    mqtt_bytes bytes = {NULL, 0};
    if (t == FT_NUM || t == FT_BOOL) parse_num(val, len, t == FT_BOOL, &num);
    else bytes = value_bytes(b, f, val, len);
    mqtt_packet *p = &b->pkt;
    switch (f->id) {
    case F_CLIENT_ID: p->connect.client_id = bytes; break;
    case F_CLEAN: p->connect.clean_start = num != 0; break;
    case F_KEEP_ALIVE: p->connect.keep_alive = (uint16_t)num; break;
    case F_USERNAME:
        if (f->kind == VK_WORD && name_is("none", val, len)) p->connect.has_username = false;
        else { p->connect.has_username = true; p->connect.username = bytes; }
        break;
    case F_PASSWORD:
        if (f->kind == VK_WORD && name_is("none", val, len)) p->connect.has_password = false;
        else { p->connect.has_password = true; p->connect.password = bytes; }
        break;
    case F_WILL_TOPIC: p->connect.will = true; p->connect.will_topic = bytes; break;
    case F_WILL_PAYLOAD: p->connect.will_payload = bytes; break;
    case F_WILL_QOS: p->connect.will_qos = (uint8_t)num; break;
    case F_WILL_RETAIN: p->connect.will_retain = num != 0; break;
    case F_PROTOCOL_NAME: p->connect.protocol_name = bytes; break;
    case F_PROTOCOL_LEVEL: p->connect.protocol_level = (uint8_t)num; break;
    case F_REASON_CODE:
        if (p->type == MQTT_CONNACK) { p->connack.reason_code = (uint8_t)num; break; } /* 3.x: return code */
        if (vi != CONF_VI_5) break;
        if (p->type == MQTT_DISCONNECT || p->type == MQTT_AUTH) p->disconnect.reason_code = (uint8_t)num;
        else p->ack.reason_code = (uint8_t)num;
        break;
    case F_TOPIC: p->publish.topic = bytes; break;
    case F_PAYLOAD: p->publish.payload = bytes; break;
    case F_QOS:
        if (p->type == MQTT_PUBLISH) p->publish.qos = (uint8_t)num;
        else if (p->subscribe.count) b->subs[p->subscribe.count - 1].qos = (uint8_t)num;
        else return "a filter=... before its qos";
        break;
    case F_RETAIN: p->publish.retain = num != 0; break;
    case F_DUP: p->publish.dup = num != 0; break;
    case F_PACKET_ID:
        if (p->type == MQTT_PUBLISH) p->publish.packet_id = (uint16_t)num;
        else if (p->type == MQTT_SUBSCRIBE || p->type == MQTT_UNSUBSCRIBE) p->subscribe.packet_id = (uint16_t)num;
        else if (p->type == MQTT_SUBACK || p->type == MQTT_UNSUBACK) p->suback.packet_id = (uint16_t)num;
        else p->ack.packet_id = (uint16_t)num;
        break;
    /* Broker seat (client scenarios): what a server sends. */
    case F_SESSION_PRESENT: p->connack.session_present = num != 0; break;
    case F_REASON_CODES: {
        uint8_t codes[32];
        size_t nc = 0;
        if (!parse_list(val, len, codes, sizeof codes, &nc)) return "a list of reason codes like 0,1,0x80";
        p->suback.reason_codes = keep(b, (const char *)codes, nc);
        break;
    }
    case F_FILTER:
        if (p->subscribe.count >= COUNT(b->subs)) return "at most 32 filters";
        b->subs[p->subscribe.count] = (mqtt_subscription){.topic_filter = bytes};
        p->subscribe.count++;
        p->subscribe.subscriptions = b->subs;
        break;
    case F_NO_LOCAL: case F_RAP: case F_RH:
        if (!p->subscribe.count) return "a filter=... before its options";
        if (f->id == F_NO_LOCAL) b->subs[p->subscribe.count - 1].no_local = num != 0;
        else if (f->id == F_RAP) b->subs[p->subscribe.count - 1].retain_as_published = num != 0;
        else b->subs[p->subscribe.count - 1].retain_handling = (uint8_t)num;
        break;
    case F_PROP:
        if (vi == CONF_VI_5) set_prop(b, props_of(p), b->up, f->prop, num, bytes);
        break;
    case F_WILL_PROP:
        if (vi == CONF_VI_5) set_prop(b, &p->connect.will_properties, b->wup, f->prop, num, bytes);
        break;
    default:
        return "a field that can be sent";
    }
    return NULL;
}

/* ---- matching ---- */

typedef struct {
    bool present;
    bool is_num;
    uint64_t num;
    mqtt_bytes bytes;
} got_value;

static got_value get_prop(const mqtt_properties *pr, int prop)
{
    got_value g = {.present = MQTT_HAS_PROP(pr, prop), .is_num = true};
    switch (prop) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: g.num = pr->payload_format_indicator; break;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: g.num = pr->message_expiry_interval; break;
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL: g.num = pr->session_expiry_interval; break;
    case MQTT_PROP_SERVER_KEEP_ALIVE: g.num = pr->server_keep_alive; break;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION: g.num = pr->request_problem_information; break;
    case MQTT_PROP_WILL_DELAY_INTERVAL: g.num = pr->will_delay_interval; break;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: g.num = pr->request_response_information; break;
    case MQTT_PROP_RECEIVE_MAXIMUM: g.num = pr->receive_maximum; break;
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: g.num = pr->topic_alias_maximum; break;
    case MQTT_PROP_TOPIC_ALIAS: g.num = pr->topic_alias; break;
    case MQTT_PROP_MAXIMUM_QOS: g.num = pr->maximum_qos; break;
    case MQTT_PROP_RETAIN_AVAILABLE: g.num = pr->retain_available; break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: g.num = pr->maximum_packet_size; break;
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: g.num = pr->wildcard_subscription_available; break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: g.num = pr->subscription_identifier_available; break;
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: g.num = pr->shared_subscription_available; break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
        g.present = pr->subscription_identifier_count > 0;
        g.num = g.present ? pr->subscription_identifiers[0] : 0;
        break;
    default:
        g.is_num = false;
        switch (prop) {
        case MQTT_PROP_CONTENT_TYPE: g.bytes = pr->content_type; break;
        case MQTT_PROP_RESPONSE_TOPIC: g.bytes = pr->response_topic; break;
        case MQTT_PROP_CORRELATION_DATA: g.bytes = pr->correlation_data; break;
        case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER: g.bytes = pr->assigned_client_identifier; break;
        case MQTT_PROP_AUTHENTICATION_METHOD: g.bytes = pr->authentication_method; break;
        case MQTT_PROP_AUTHENTICATION_DATA: g.bytes = pr->authentication_data; break;
        case MQTT_PROP_RESPONSE_INFORMATION: g.bytes = pr->response_information; break;
        case MQTT_PROP_SERVER_REFERENCE: g.bytes = pr->server_reference; break;
        case MQTT_PROP_REASON_STRING: g.bytes = pr->reason_string; break;
        case MQTT_PROP_USER_PROPERTY: g.present = pr->user_property_count > 0; break;
        default: break;
        }
    }
    return g;
}

static const mqtt_properties *cprops_of(const mqtt_packet *p)
{
    return props_of((mqtt_packet *)p);
}

/* Fields of the packets only a client sends (CONNECT, SUBSCRIBE,
 * UNSUBSCRIBE), matched by broker-seat scenarios; SUBSCRIBE fields name its
 * first subscription. */
static got_value client_field(const mqtt_packet *p, conf_field_id id, int prop, int vi)
{
    got_value g = {.present = true, .is_num = true};
    const mqtt_connect *c = &p->connect;
    const mqtt_subscription *s0 = p->subscribe.count ? &p->subscribe.subscriptions[0] : NULL;
    bool str = true;
    switch (id) {
    case F_CLIENT_ID: g.bytes = c->client_id; break;
    case F_USERNAME: g.bytes = c->username; g.present = c->has_username; break;
    case F_PASSWORD: g.bytes = c->password; g.present = c->has_password; break;
    case F_WILL_TOPIC: g.bytes = c->will_topic; g.present = c->will; break;
    case F_WILL_PAYLOAD: g.bytes = c->will_payload; g.present = c->will; break;
    case F_PROTOCOL_NAME: g.bytes = c->protocol_name; break;
    case F_FILTER: g.bytes = s0 ? s0->topic_filter : (mqtt_bytes){NULL, 0}; g.present = s0 != NULL; break;
    default: str = false; break;
    }
    if (str) { g.is_num = false; return g; }
    switch (id) {
    case F_CLEAN: g.num = c->clean_start; break;
    case F_KEEP_ALIVE: g.num = c->keep_alive; break;
    case F_WILL_QOS: g.num = c->will_qos; break;
    case F_WILL_RETAIN: g.num = c->will_retain; break;
    case F_PROTOCOL_LEVEL: g.num = c->protocol_level; break;
    case F_PACKET_ID: g.num = p->subscribe.packet_id; break;
    case F_FLAGS: g.num = p->flags; break;
    case F_QOS: g.num = s0 ? s0->qos : 0; g.present = s0 != NULL; break;
    case F_NO_LOCAL: g.num = s0 ? s0->no_local : 0; g.present = s0 != NULL; break;
    case F_RAP: g.num = s0 ? s0->retain_as_published : 0; g.present = s0 != NULL; break;
    case F_RH: g.num = s0 ? s0->retain_handling : 0; g.present = s0 != NULL; break;
    case F_USER_PROPERTY_COUNT: {
        const mqtt_properties *pr = p->type == MQTT_CONNECT ? &c->properties : &p->subscribe.properties;
        g.num = vi == CONF_VI_5 ? pr->user_property_count : 0;
        break;
    }
    case F_PROP:
        if (vi != CONF_VI_5) { g.present = false; g.is_num = conf_field_type(id, prop) == FT_NUM; break; }
        g = get_prop(p->type == MQTT_CONNECT ? &c->properties : &p->subscribe.properties, prop);
        break;
    default: g.present = false; break;
    }
    return g;
}

static got_value get_field(const mqtt_packet *p, int vi, conf_field_id id, int prop)
{
    got_value g = {.present = true, .is_num = true};
    if (p->type == MQTT_CONNECT || p->type == MQTT_SUBSCRIBE || p->type == MQTT_UNSUBSCRIBE)
        return client_field(p, id, prop, vi);
    const mqtt_properties *pr = cprops_of(p);
    switch (id) {
    case F_SESSION_PRESENT: g.num = p->connack.session_present; break;
    case F_REASON_CODE:
        if (p->type == MQTT_CONNACK) g.num = p->connack.reason_code;
        else if (p->type == MQTT_DISCONNECT || p->type == MQTT_AUTH) g.num = p->disconnect.reason_code;
        else g.num = p->ack.reason_code;
        break;
    case F_TOPIC: g.is_num = false; g.bytes = p->publish.topic; break;
    case F_PAYLOAD: g.is_num = false; g.bytes = p->publish.payload; break;
    case F_PAYLOAD_LENGTH: g.num = p->publish.payload.len; break;
    case F_QOS: g.num = p->publish.qos; break;
    case F_RETAIN: g.num = p->publish.retain; break;
    case F_DUP: g.num = p->publish.dup; break;
    case F_PACKET_ID:
        if (p->type == MQTT_PUBLISH) g.num = p->publish.packet_id;
        else if (p->type == MQTT_SUBACK || p->type == MQTT_UNSUBACK) g.num = p->suback.packet_id;
        else g.num = p->ack.packet_id;
        break;
    case F_FLAGS: g.num = p->flags; break;
    case F_REASON_CODES: g.is_num = false; g.bytes = p->suback.reason_codes; break;
    case F_USER_PROPERTY_COUNT: g.num = pr && vi == CONF_VI_5 ? pr->user_property_count : 0; break;
    case F_SUBID_COUNT: g.num = vi == CONF_VI_5 ? pr->subscription_identifier_count : 0; break;
    case F_PROP:
        if (!pr || vi != CONF_VI_5) { g.present = false; g.is_num = conf_field_type(id, prop) == FT_NUM; break; }
        g = get_prop(pr, prop);
        break;
    default: g.present = false; break;
    }
    return g;
}

static const char *op_text(conf_op op)
{
    static const char *const t[] = {"", "!= ", "< ", "<= ", "> ", ">= "};
    return t[op];
}

static bool cmp_num(uint64_t got, conf_op op, uint64_t want)
{
    switch (op) {
    case OP_EQ: return got == want;
    case OP_NE: return got != want;
    case OP_LT: return got < want;
    case OP_LE: return got <= want;
    case OP_GT: return got > want;
    case OP_GE: return got >= want;
    }
    return false;
}

/* Bytes as a short printable quote for messages. */
static void quote(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (cap < 8) { if (cap) out[0] = '\0'; return; }
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < cap; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        if (i + 1 < n && o + 6 >= cap) { out[o++] = '.'; out[o++] = '.'; break; }
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* A Payload Format Indicator of 0 is what its absence means (5.0 section
 * 3.3.2.3.2: "0 (0x00) Byte Indicates that the Payload is unspecified bytes,
 * which is equivalent to not sending a Payload Format Indicator"): absent and
 * 0 are the same message, whichever a broker forwards. Returns true when f
 * (`absent`) matches a present 0; fills in an absent one as 0 for values. */
static bool pfi_default(const conf_field *f, got_value *g)
{
    if (f->id != F_PROP || f->prop != MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) return false;
    if (f->kind == VK_ABSENT) return g->present && g->num == 0;
    if (!g->present && f->kind != VK_PRESENT) *g = (got_value){.present = true, .is_num = true, .num = 0};
    return false;
}

const char *conf_match(const mqtt_packet *p, int vi, const conf_field *f, const char *val,
                       size_t len, size_t *up_from, char *buf, size_t cap)
{
    const char *name = conf_field_name(f->id, f->prop);
    conf_ftype t = conf_field_type(f->id, f->prop);
    const mqtt_properties *pr = cprops_of(p);

    if (f->id == F_PROP && f->prop == MQTT_PROP_USER_PROPERTY && f->kind != VK_PRESENT &&
        f->kind != VK_ABSENT) {
        const char *eq = memchr(val, '=', len);
        size_t nl = eq ? (size_t)(eq - val) : len;
        size_t vl = eq ? len - nl - 1 : 0;
        /* `=` looks from *up_from on (order kept, MQTT-3.3.2-18); `!=` anywhere. */
        size_t from = f->op == OP_EQ && up_from ? *up_from : 0;
        bool found = false, anywhere = false;
        for (size_t i = 0; pr && vi == CONF_VI_5 && i < pr->user_property_count; i++) {
            const mqtt_user_property *u = &pr->user_properties[i];
            if (u->name.len == nl && u->value.len == vl && memcmp(u->name.ptr, val, nl) == 0 &&
                (vl == 0 || memcmp(u->value.ptr, eq + 1, vl) == 0)) {
                anywhere = true;
                if (i >= from && !found) {
                    found = true;
                    if (f->op == OP_EQ && up_from) *up_from = i + 1;
                }
            }
        }
        if (found == (f->op == OP_EQ)) return NULL;
        snprintf(buf, cap, "user property \"%.*s\" %s", (int)len, val,
                 found ? "is present, expected absent"
                 : anywhere ? "is out of order (user properties must keep the order they were sent in)"
                            : "is missing");
        return buf;
    }
    if (f->id == F_PROP && f->prop == MQTT_PROP_SUBSCRIPTION_IDENTIFIER && f->kind == VK_WORD) {
        uint64_t want = 0;
        if (!parse_num(val, len, false, &want)) { snprintf(buf, cap, "%s: not a number", name); return buf; }
        bool found = false;
        for (size_t i = 0; pr && vi == CONF_VI_5 && i < pr->subscription_identifier_count; i++)
            if (pr->subscription_identifiers[i] == want) found = true;
        if (found == (f->op == OP_EQ)) return NULL;
        snprintf(buf, cap, "subscription identifier %" PRIu64 " %s", want,
                 found ? "is present, expected absent" : "is missing");
        return buf;
    }

    got_value g = get_field(p, vi, f->id, f->prop);
    if (pfi_default(f, &g)) return NULL;
    if (f->kind == VK_PRESENT || f->kind == VK_ABSENT) {
        bool want = f->kind == VK_PRESENT;
        if (g.present == want) return NULL;
        snprintf(buf, cap, "%s is %s, expected %s", name, g.present ? "present" : "absent",
                 want ? "present" : "absent");
        return buf;
    }
    if (!g.present) {
        snprintf(buf, cap, "%s is absent, expected %s%.*s", name, op_text(f->op), (int)len, val);
        return buf;
    }
    if (t == FT_LIST) {
        uint8_t want[256];
        size_t n = 0;
        if (!parse_list(val, len, want, sizeof want, &n)) { snprintf(buf, cap, "%s: bad list", name); return buf; }
        bool ok;
        if (f->op == OP_EQ || f->op == OP_NE) {
            bool same = n == g.bytes.len && memcmp(want, g.bytes.ptr, n) == 0;
            ok = same == (f->op == OP_EQ);
        } else {
            ok = g.bytes.len > 0 && n == 1;
            for (size_t i = 0; ok && i < g.bytes.len; i++) ok = cmp_num(g.bytes.ptr[i], f->op, want[0]);
        }
        if (ok) return NULL;
        size_t o = (size_t)snprintf(buf, cap, "%s are ", name);
        for (size_t i = 0; i < g.bytes.len && o < cap; i++)
            o += (size_t)snprintf(buf + o, cap - o, "%s0x%02X", i ? "," : "", g.bytes.ptr[i]);
        if (o < cap) snprintf(buf + o, cap - o, ", expected %s%.*s", op_text(f->op), (int)len, val);
        return buf;
    }
    if (t == FT_NUM || t == FT_BOOL) {
        uint64_t want = 0;
        if (!parse_num(val, len, t == FT_BOOL, &want)) {
            snprintf(buf, cap, "%s: \"%.*s\" is not a number", name, (int)len, val);
            return buf;
        }
        if (cmp_num(g.num, f->op, want)) return NULL;
        if (f->id == F_REASON_CODE && vi == CONF_VI_5)
            snprintf(buf, cap, "%s is 0x%02" PRIX64 " (%s), expected %s0x%02" PRIX64 " (%s)", name, g.num,
                     mqtt_reason_name(p->type, (uint8_t)g.num), op_text(f->op), want,
                     mqtt_reason_name(p->type, (uint8_t)want));
        else if (f->id == F_REASON_CODE && p->type == MQTT_CONNACK)
            snprintf(buf, cap, "return code is %" PRIu64 " (%s), expected %s%" PRIu64, g.num,
                     mqtt_connack_return_name((uint8_t)g.num), op_text(f->op), want);
        else
            snprintf(buf, cap, "%s is %" PRIu64 ", expected %s%" PRIu64, name, g.num, op_text(f->op), want);
        return buf;
    }
    /* text and binary */
    const uint8_t *wp = (const uint8_t *)val;
    size_t wl = len;
    char *fill = NULL;
    if (f->kind == VK_FILL && f->len == 0) {
        fill = malloc(f->num ? f->num : 1);
        if (!fill) return "out of memory";
        memset(fill, 'x', f->num);
        wp = (const uint8_t *)fill;
        wl = f->num;
    }
    bool same = wl == g.bytes.len && (wl == 0 || memcmp(wp, g.bytes.ptr, wl) == 0);
    char a[96], b[96];
    quote(a, sizeof a, g.bytes.ptr, g.bytes.len);
    quote(b, sizeof b, wp, wl);
    free(fill);
    if (same == (f->op == OP_EQ)) return NULL;
    snprintf(buf, cap, "%s is %s (%zu bytes), expected %s%s", name, a, g.bytes.len, op_text(f->op), b);
    return buf;
}

bool conf_field_text(const mqtt_packet *p, conf_field_id id, int prop, char *buf, size_t cap)
{
    got_value g = get_field(p, CONF_VI_5, id, prop);
    if (id == F_PROP && prop == MQTT_PROP_USER_PROPERTY) {
        const mqtt_properties *pr = cprops_of(p);
        if (!pr || !pr->user_property_count) return false;
        snprintf(buf, cap, "%.*s=%.*s", (int)pr->user_properties[0].name.len,
                 (const char *)pr->user_properties[0].name.ptr, (int)pr->user_properties[0].value.len,
                 (const char *)pr->user_properties[0].value.ptr);
        return true;
    }
    if (!g.present) return false;
    if (g.is_num) snprintf(buf, cap, "%" PRIu64, g.num);
    else snprintf(buf, cap, "%.*s", (int)g.bytes.len, (const char *)g.bytes.ptr);
    return true;
}
