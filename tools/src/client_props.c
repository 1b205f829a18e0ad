/*
 * -D / --property: MQTT 5 properties by command and name, as mosquitto's
 * clients take them ("-D publish user-property k v", "-D connect
 * session-expiry-interval 60"), stored per command as the codec's
 * mqtt_properties so CONNECT, PUBLISH, SUBSCRIBE ... carry them unchanged.
 *
 * Invariants: names, commands and the command/property table follow MQTT 5.0
 * section 2.2.2.2 (the same table libmosquitto checks); the order of checks
 * and the messages are mosquitto's. Numbers are parsed strictly (mosquitto
 * 2.0.11 used atol, which turned "abc" into 0; later versions reject it too).
 * String and binary values are views into argv.
 */
#include "tools/src/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { T_BYTE, T_INT16, T_INT32, T_VARINT, T_BINARY, T_STRING, T_PAIR } prop_type;

/* Commands as libmosquitto numbers them in its property table. */
enum {
    C_CONNECT = 1 << 0,
    C_CONNACK = 1 << 1,
    C_PUBLISH = 1 << 2,
    C_PUBACK = 1 << 3,
    C_PUBREC = 1 << 4,
    C_PUBREL = 1 << 5,
    C_PUBCOMP = 1 << 6,
    C_SUBSCRIBE = 1 << 7,
    C_SUBACK = 1 << 8,
    C_UNSUBSCRIBE = 1 << 9,
    C_UNSUBACK = 1 << 10,
    C_DISCONNECT = 1 << 11,
    C_AUTH = 1 << 12,
    C_WILL = 1 << 13
};

static const struct {
    const char *name;
    unsigned cmd;
} commands[] = {
    {"connect", C_CONNECT},   {"connack", C_CONNACK},         {"publish", C_PUBLISH},
    {"puback", C_PUBACK},     {"pubrec", C_PUBREC},           {"pubrel", C_PUBREL},
    {"pubcomp", C_PUBCOMP},   {"subscribe", C_SUBSCRIBE},     {"unsubscribe", C_UNSUBSCRIBE},
    {"disconnect", C_DISCONNECT}, {"auth", C_AUTH},           {"will", C_WILL},
};

#define ALL_CMDS 0x3fffu

static const struct {
    const char *name;
    mqtt_property_id id;
    prop_type type;
    unsigned allowed; /* commands the property may appear in */
} props[] = {
    {"payload-format-indicator", MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, T_BYTE, C_PUBLISH | C_WILL},
    {"message-expiry-interval", MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, T_INT32, C_PUBLISH | C_WILL},
    {"content-type", MQTT_PROP_CONTENT_TYPE, T_STRING, C_PUBLISH | C_WILL},
    {"response-topic", MQTT_PROP_RESPONSE_TOPIC, T_STRING, C_PUBLISH | C_WILL},
    {"correlation-data", MQTT_PROP_CORRELATION_DATA, T_BINARY, C_PUBLISH | C_WILL},
    {"subscription-identifier", MQTT_PROP_SUBSCRIPTION_IDENTIFIER, T_VARINT, C_PUBLISH | C_SUBSCRIBE},
    {"session-expiry-interval", MQTT_PROP_SESSION_EXPIRY_INTERVAL, T_INT32, C_CONNECT | C_CONNACK | C_DISCONNECT},
    {"assigned-client-identifier", MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, T_STRING, C_CONNACK},
    {"server-keep-alive", MQTT_PROP_SERVER_KEEP_ALIVE, T_INT16, C_CONNACK},
    {"authentication-method", MQTT_PROP_AUTHENTICATION_METHOD, T_STRING, C_CONNECT | C_CONNACK | C_AUTH},
    {"authentication-data", MQTT_PROP_AUTHENTICATION_DATA, T_BINARY, C_CONNECT | C_CONNACK | C_AUTH},
    {"request-problem-information", MQTT_PROP_REQUEST_PROBLEM_INFORMATION, T_BYTE, C_CONNECT},
    {"will-delay-interval", MQTT_PROP_WILL_DELAY_INTERVAL, T_INT32, C_WILL},
    {"request-response-information", MQTT_PROP_REQUEST_RESPONSE_INFORMATION, T_BYTE, C_CONNECT},
    {"response-information", MQTT_PROP_RESPONSE_INFORMATION, T_STRING, C_CONNACK},
    {"server-reference", MQTT_PROP_SERVER_REFERENCE, T_STRING, C_CONNACK | C_DISCONNECT},
    {"reason-string", MQTT_PROP_REASON_STRING, T_STRING,
     C_CONNACK | C_PUBACK | C_PUBREC | C_PUBREL | C_PUBCOMP | C_SUBACK | C_UNSUBACK | C_DISCONNECT | C_AUTH},
    {"receive-maximum", MQTT_PROP_RECEIVE_MAXIMUM, T_INT16, C_CONNECT | C_CONNACK},
    {"topic-alias-maximum", MQTT_PROP_TOPIC_ALIAS_MAXIMUM, T_INT16, C_CONNECT | C_CONNACK},
    {"topic-alias", MQTT_PROP_TOPIC_ALIAS, T_INT16, C_PUBLISH},
    {"maximum-qos", MQTT_PROP_MAXIMUM_QOS, T_BYTE, C_CONNACK},
    {"retain-available", MQTT_PROP_RETAIN_AVAILABLE, T_BYTE, C_CONNACK},
    {"user-property", MQTT_PROP_USER_PROPERTY, T_PAIR, ALL_CMDS},
    {"maximum-packet-size", MQTT_PROP_MAXIMUM_PACKET_SIZE, T_INT32, C_CONNECT | C_CONNACK},
    {"wildcard-subscription-available", MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, T_BYTE, C_CONNACK},
    {"subscription-identifier-available", MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, T_BYTE, C_CONNACK},
    {"shared-subscription-available", MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, T_BYTE, C_CONNACK},
};

static const char *const set_names[PROPS_COUNT] = {"CONNECT", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE",
                                                   "DISCONNECT", "Will"};

bool client_props_empty(const mqtt_properties *p)
{
    return p->present == 0 && p->user_property_count == 0 && p->subscription_identifier_count == 0;
}

static mqtt_bytes view(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

static int add_user(client_props *set, const char *key, const char *value)
{
    if (set->p.user_property_count == set->users_cap) {
        size_t cap = set->users_cap ? set->users_cap * 2 : 4;
        mqtt_user_property *n = realloc(set->users, cap * sizeof *n);
        if (!n) return -1;
        set->users = n;
        set->users_cap = cap;
    }
    set->users[set->p.user_property_count++] = (mqtt_user_property){view(key), view(value)};
    set->p.user_properties = set->users;
    return 0;
}

/* Marks `id` present; a second time is a duplicate (reported by client_props_check). */
static void mark(client_props *set, mqtt_property_id id)
{
    if (MQTT_HAS_PROP(&set->p, id)) set->duplicate = true;
    set->p.present |= MQTT_PROP_BIT(id);
}

static void store_int(client_props *set, mqtt_property_id id, uint32_t v)
{
    mqtt_properties *p = &set->p;
    mark(set, id);
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: p->payload_format_indicator = (uint8_t)v; break;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION: p->request_problem_information = (uint8_t)v; break;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: p->request_response_information = (uint8_t)v; break;
    case MQTT_PROP_MAXIMUM_QOS: p->maximum_qos = (uint8_t)v; break;
    case MQTT_PROP_RETAIN_AVAILABLE: p->retain_available = (uint8_t)v; break;
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: p->wildcard_subscription_available = (uint8_t)v; break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: p->subscription_identifier_available = (uint8_t)v; break;
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: p->shared_subscription_available = (uint8_t)v; break;
    case MQTT_PROP_SERVER_KEEP_ALIVE: p->server_keep_alive = (uint16_t)v; break;
    case MQTT_PROP_RECEIVE_MAXIMUM: p->receive_maximum = (uint16_t)v; break;
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: p->topic_alias_maximum = (uint16_t)v; break;
    case MQTT_PROP_TOPIC_ALIAS: p->topic_alias = (uint16_t)v; break;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: p->message_expiry_interval = v; break;
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL: p->session_expiry_interval = v; break;
    case MQTT_PROP_WILL_DELAY_INTERVAL: p->will_delay_interval = v; break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: p->maximum_packet_size = v; break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
        if (p->subscription_identifier_count) set->duplicate = true;
        set->subid = v;
        p->subscription_identifiers = &set->subid;
        p->subscription_identifier_count = 1;
        break;
    default: break;
    }
}

static void store_bytes(client_props *set, mqtt_property_id id, mqtt_bytes v)
{
    mqtt_properties *p = &set->p;
    mark(set, id);
    switch (id) {
    case MQTT_PROP_CONTENT_TYPE: p->content_type = v; break;
    case MQTT_PROP_RESPONSE_TOPIC: p->response_topic = v; break;
    case MQTT_PROP_CORRELATION_DATA: p->correlation_data = v; break;
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER: p->assigned_client_identifier = v; break;
    case MQTT_PROP_AUTHENTICATION_METHOD: p->authentication_method = v; break;
    case MQTT_PROP_AUTHENTICATION_DATA: p->authentication_data = v; break;
    case MQTT_PROP_RESPONSE_INFORMATION: p->response_information = v; break;
    case MQTT_PROP_SERVER_REFERENCE: p->server_reference = v; break;
    case MQTT_PROP_REASON_STRING: p->reason_string = v; break;
    default: break;
    }
}

void client_props_set_session_expiry(client_cfg *cfg, uint32_t seconds)
{
    store_int(&cfg->props[PROPS_CONNECT], MQTT_PROP_SESSION_EXPIRY_INTERVAL, seconds);
}

int client_props_parse(client_cfg *cfg, int argc, char **argv, int *idx)
{
    /* *idx points at the command word. */
    if (*idx + 2 > argc - 1) {
        fprintf(stderr, "Error: --property argument given but not enough arguments specified.\n\n");
        return 1;
    }
    const char *cmdname = argv[*idx];
    unsigned cmd = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcasecmp(cmdname, commands[i].name)) cmd = commands[i].cmd;
    if (!cmd) {
        fprintf(stderr, "Error: Invalid command %s given in --property argument.\n\n", cmdname);
        return 1;
    }
    const char *propname = argv[*idx + 1];
    size_t pi = sizeof props / sizeof props[0];
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (!strcasecmp(propname, props[i].name)) pi = i;
    if (pi == sizeof props / sizeof props[0]) {
        fprintf(stderr, "Error: Invalid property name %s given in --property argument.\n\n", propname);
        return 1;
    }
    if (!(props[pi].allowed & cmd)) {
        fprintf(stderr, "Error: %s property not allowed for %s in --property argument.\n\n", propname, cmdname);
        return 1;
    }
    const char *key = NULL, *value;
    if (props[pi].type == T_PAIR) {
        if (*idx + 3 > argc - 1) {
            fprintf(stderr, "Error: --property argument given but not enough arguments specified.\n\n");
            return 1;
        }
        key = argv[*idx + 2];
        value = argv[*idx + 3];
        *idx += 3;
    } else {
        value = argv[*idx + 2];
        *idx += 2;
    }

    client_props_cmd set;
    switch (cmd) {
    case C_CONNECT: set = PROPS_CONNECT; break;
    case C_PUBLISH:
        if (props[pi].id == MQTT_PROP_TOPIC_ALIAS) cfg->have_topic_alias = true;
        if (props[pi].id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
            fprintf(stderr, "Error: %s property not supported for %s in --property argument.\n\n", propname, cmdname);
            return 1;
        }
        set = PROPS_PUBLISH;
        break;
    case C_SUBSCRIBE: set = PROPS_SUBSCRIBE; break;
    case C_UNSUBSCRIBE: set = PROPS_UNSUBSCRIBE; break;
    case C_DISCONNECT: set = PROPS_DISCONNECT; break;
    case C_WILL: set = PROPS_WILL; break;
    default: /* properties of packets only a server sends, or AUTH */
        fprintf(stderr, "Error: %s property not supported for %s in --property argument.\n\n", propname, cmdname);
        return 1;
    }
    client_props *dst = &cfg->props[set];
    cfg->have_props = true;

    long long max;
    switch (props[pi].type) {
    case T_BYTE: max = UINT8_MAX; goto number;
    case T_INT16: max = UINT16_MAX; goto number;
    case T_INT32: max = UINT32_MAX; goto number;
    case T_VARINT:
        max = UINT32_MAX;
    number: {
        char *end;
        long long v = strtoll(value, &end, 0);
        if (end == value || *end != '\0') {
            fprintf(stderr, "Error: Property value '%s' not a number.\n\n", value);
            return 1;
        }
        if (v < 0 || v > max) {
            fprintf(stderr, "Error: Property value (%lld) out of range for property %s.\n\n", v, propname);
            return 1;
        }
        store_int(dst, props[pi].id, (uint32_t)v);
        return 0;
    }
    case T_BINARY:
        if (strlen(value) > UINT16_MAX) {
            fprintf(stderr, "Error: Property value too long for property %s.\n\n", propname);
            return 1;
        }
        store_bytes(dst, props[pi].id, view(value));
        return 0;
    case T_STRING:
        if (strlen(value) > UINT16_MAX || mqtt_utf8_check(MQTT_V5, view(value), NULL)) {
            fprintf(stderr, "Error: Property value for %s is not a valid MQTT string.\n\n", propname);
            return 1;
        }
        store_bytes(dst, props[pi].id, view(value));
        return 0;
    case T_PAIR:
        if (strlen(key) > UINT16_MAX || strlen(value) > UINT16_MAX ||
            mqtt_utf8_check(MQTT_V5, view(key), NULL) || mqtt_utf8_check(MQTT_V5, view(value), NULL)) {
            fprintf(stderr, "Error: Property value for %s is not a valid MQTT string.\n\n", propname);
            return 1;
        }
        if (add_user(dst, key, value)) {
            fprintf(stderr, "Error: Out of memory.\n");
            return 1;
        }
        dst->p.present |= MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY); /* may repeat */
        return 0;
    }
    return 1;
}

/* Values the specification forbids, as mosquitto_property_check_all rejects them. */
static bool values_ok(const mqtt_properties *p)
{
    if (MQTT_HAS_PROP(p, MQTT_PROP_RECEIVE_MAXIMUM) && p->receive_maximum == 0) return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_MAXIMUM_PACKET_SIZE) && p->maximum_packet_size == 0) return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_TOPIC_ALIAS) && p->topic_alias == 0) return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_REQUEST_PROBLEM_INFORMATION) && p->request_problem_information > 1) return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_REQUEST_RESPONSE_INFORMATION) && p->request_response_information > 1)
        return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) && p->payload_format_indicator > 1) return false;
    if (p->subscription_identifier_count && p->subscription_identifiers[0] == 0) return false;
    if (p->subscription_identifier_count && p->subscription_identifiers[0] > 268435455u) return false;
    if (MQTT_HAS_PROP(p, MQTT_PROP_RESPONSE_TOPIC) && mqtt_topic_name_check(MQTT_V5, p->response_topic))
        return false;
    return true;
}

int client_props_check(const client_cfg *cfg)
{
    for (int i = 0; i < PROPS_COUNT; i++) {
        const client_props *set = &cfg->props[i];
        const char *problem = NULL;
        if (set->duplicate) problem = client_strerror(CERR_DUPLICATE_PROPERTY);
        else if (!values_ok(&set->p)) problem = client_strerror(CERR_PROTOCOL);
        if (problem) {
            client_err(cfg, "Error in %s properties: %s\n", set_names[i], problem);
            return 1;
        }
    }
    return 0;
}

void client_props_free(client_cfg *cfg)
{
    for (int i = 0; i < PROPS_COUNT; i++) {
        free(cfg->props[i].users);
        cfg->props[i].users = NULL;
    }
}
