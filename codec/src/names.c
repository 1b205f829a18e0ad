/*
 * Names of packet types, statuses, versions, properties and reason codes for
 * people and reports, plus the tables of which reason codes each MQTT 5.0
 * packet may carry and which side may send each packet type.
 *
 * Invariant: every function returns a static string, never NULL.
 */
#include "internal.h"

mqtt_status codec_fail(mqtt_error *err, mqtt_status status, mqtt_version v, const char *rule,
                       size_t offset, uint8_t reason, const char *message)
{
    if (err) {
        err->status = status;
        err->rule = rule;
        err->version = v == MQTT_V5 ? MQTT_V5 : MQTT_V311; /* 3.1 cites the 3.1.1 ids */
        err->offset = offset;
        err->reason_code = reason;
        err->message = message;
    }
    return status;
}

const char *mqtt_packet_type_name(mqtt_packet_type type)
{
    static const char *const names[16] = {
        "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"};
    return (unsigned)type < 16 ? names[type] : "UNKNOWN";
}

const char *mqtt_status_name(mqtt_status status)
{
    switch (status) {
    case MQTT_OK: return "ok";
    case MQTT_NEED_MORE: return "need more";
    case MQTT_ERR_MALFORMED: return "malformed";
    case MQTT_ERR_PROTOCOL: return "protocol error";
    case MQTT_ERR_LIMIT: return "limit";
    case MQTT_ERR_UNSUPPORTED_VERSION: return "unsupported version";
    }
    return "unknown";
}

const char *mqtt_version_name(mqtt_version version)
{
    switch (version) {
    case MQTT_V31: return "3.1";
    case MQTT_V311: return "3.1.1";
    case MQTT_V5: return "5.0";
    default: return "unknown";
    }
}

const char *mqtt_property_name(mqtt_property_id id)
{
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: return "Payload Format Indicator";
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: return "Message Expiry Interval";
    case MQTT_PROP_CONTENT_TYPE: return "Content Type";
    case MQTT_PROP_RESPONSE_TOPIC: return "Response Topic";
    case MQTT_PROP_CORRELATION_DATA: return "Correlation Data";
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER: return "Subscription Identifier";
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL: return "Session Expiry Interval";
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER: return "Assigned Client Identifier";
    case MQTT_PROP_SERVER_KEEP_ALIVE: return "Server Keep Alive";
    case MQTT_PROP_AUTHENTICATION_METHOD: return "Authentication Method";
    case MQTT_PROP_AUTHENTICATION_DATA: return "Authentication Data";
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION: return "Request Problem Information";
    case MQTT_PROP_WILL_DELAY_INTERVAL: return "Will Delay Interval";
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION: return "Request Response Information";
    case MQTT_PROP_RESPONSE_INFORMATION: return "Response Information";
    case MQTT_PROP_SERVER_REFERENCE: return "Server Reference";
    case MQTT_PROP_REASON_STRING: return "Reason String";
    case MQTT_PROP_RECEIVE_MAXIMUM: return "Receive Maximum";
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: return "Topic Alias Maximum";
    case MQTT_PROP_TOPIC_ALIAS: return "Topic Alias";
    case MQTT_PROP_MAXIMUM_QOS: return "Maximum QoS";
    case MQTT_PROP_RETAIN_AVAILABLE: return "Retain Available";
    case MQTT_PROP_USER_PROPERTY: return "User Property";
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: return "Maximum Packet Size";
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: return "Wildcard Subscription Available";
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: return "Subscription Identifier Available";
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: return "Shared Subscription Available";
    }
    return "unknown";
}

/* Reason codes (5.0 section 2.4) with the packets that may carry them and who sends them. */
#define P(t) (1u << (t))
#define C 1 /* client may send */
#define S 2 /* server may send */
typedef struct {
    uint8_t code;
    uint8_t senders;
    uint16_t packets;
    const char *name;
} reason_info;

static const reason_info REASONS[] = {
    {0x00, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_PUBREL) | P(MQTT_PUBCOMP) |
                      P(MQTT_UNSUBACK) | P(MQTT_AUTH), "Success"},
    {0x00, C | S, P(MQTT_DISCONNECT), "Normal disconnection"},
    {0x00, S, P(MQTT_SUBACK), "Granted QoS 0"},
    {0x01, S, P(MQTT_SUBACK), "Granted QoS 1"},
    {0x02, S, P(MQTT_SUBACK), "Granted QoS 2"},
    {0x04, C, P(MQTT_DISCONNECT), "Disconnect with Will Message"},
    {0x10, C | S, P(MQTT_PUBACK) | P(MQTT_PUBREC), "No matching subscribers"},
    {0x11, S, P(MQTT_UNSUBACK), "No subscription existed"},
    {0x18, C | S, P(MQTT_AUTH), "Continue authentication"},
    {0x19, C, P(MQTT_AUTH), "Re-authenticate"},
    {0x80, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_SUBACK) | P(MQTT_UNSUBACK) |
                      P(MQTT_DISCONNECT), "Unspecified error"},
    {0x81, C | S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Malformed Packet"},
    {0x82, C | S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Protocol Error"},
    {0x83, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_SUBACK) | P(MQTT_UNSUBACK) |
                      P(MQTT_DISCONNECT), "Implementation specific error"},
    {0x84, S, P(MQTT_CONNACK), "Unsupported Protocol Version"},
    {0x85, S, P(MQTT_CONNACK), "Client Identifier not valid"},
    {0x86, S, P(MQTT_CONNACK), "Bad User Name or Password"},
    {0x87, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_SUBACK) | P(MQTT_UNSUBACK),
     "Not authorized"},
    {0x87, S, P(MQTT_DISCONNECT), "Not authorized"}, /* Table 3-10: Server only */
    {0x88, S, P(MQTT_CONNACK), "Server unavailable"},
    {0x89, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Server busy"},
    {0x8A, S, P(MQTT_CONNACK), "Banned"},
    {0x8B, S, P(MQTT_DISCONNECT), "Server shutting down"},
    {0x8C, S, P(MQTT_CONNACK), "Bad authentication method"},
    {0x8C, C | S, P(MQTT_DISCONNECT), "Bad authentication method"},
    {0x8D, S, P(MQTT_DISCONNECT), "Keep Alive timeout"},
    {0x8E, S, P(MQTT_DISCONNECT), "Session taken over"},
    {0x8F, S, P(MQTT_SUBACK) | P(MQTT_UNSUBACK) | P(MQTT_DISCONNECT), "Topic Filter invalid"},
    {0x90, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_DISCONNECT), "Topic Name invalid"},
    {0x91, C | S, P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_SUBACK) | P(MQTT_UNSUBACK), "Packet Identifier in use"},
    {0x92, C | S, P(MQTT_PUBREL) | P(MQTT_PUBCOMP), "Packet Identifier not found"},
    {0x93, C | S, P(MQTT_DISCONNECT), "Receive Maximum exceeded"},
    {0x94, C | S, P(MQTT_DISCONNECT), "Topic Alias invalid"},
    {0x95, C | S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Packet too large"},
    {0x96, C | S, P(MQTT_DISCONNECT), "Message rate too high"},
    {0x97, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_SUBACK) | P(MQTT_DISCONNECT),
     "Quota exceeded"},
    {0x98, C | S, P(MQTT_DISCONNECT), "Administrative action"},
    {0x99, C | S, P(MQTT_CONNACK) | P(MQTT_PUBACK) | P(MQTT_PUBREC) | P(MQTT_DISCONNECT), "Payload format invalid"},
    {0x9A, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Retain not supported"},
    {0x9B, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "QoS not supported"},
    {0x9C, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Use another server"},
    {0x9D, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Server moved"},
    {0x9E, S, P(MQTT_SUBACK) | P(MQTT_DISCONNECT), "Shared Subscriptions not supported"},
    {0x9F, S, P(MQTT_CONNACK) | P(MQTT_DISCONNECT), "Connection rate exceeded"},
    {0xA0, S, P(MQTT_DISCONNECT), "Maximum connect time"},
    {0xA1, S, P(MQTT_SUBACK) | P(MQTT_DISCONNECT), "Subscription Identifiers not supported"},
    {0xA2, S, P(MQTT_SUBACK) | P(MQTT_DISCONNECT), "Wildcard Subscriptions not supported"},
};

static const reason_info *find_reason(mqtt_packet_type type, uint8_t code)
{
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++)
        if (REASONS[i].code == code && (REASONS[i].packets & P(type))) return &REASONS[i];
    return NULL;
}

bool reason_allowed(mqtt_packet_type type, mqtt_side from, uint8_t code)
{
    /* Fast path for the common case. */
    if (code == 0x00 && type != MQTT_SUBACK) return true;
    const reason_info *r = find_reason(type, code);
    return r && (r->senders & (from == MQTT_FROM_CLIENT ? C : S));
}

const char *reason_rule(mqtt_packet_type type)
{
    switch (type) {
    case MQTT_CONNACK: return "MQTT-3.2.2-8";
    case MQTT_PUBACK: return "MQTT-3.4.2-1";
    case MQTT_PUBREC: return "MQTT-3.5.2-1";
    case MQTT_PUBREL: return "MQTT-3.6.2-1";
    case MQTT_PUBCOMP: return "MQTT-3.7.2-1";
    case MQTT_SUBACK: return "MQTT-3.9.3-2";
    case MQTT_UNSUBACK: return "MQTT-3.11.3-2";
    case MQTT_DISCONNECT: return "MQTT-3.14.2-1";
    case MQTT_AUTH: return "MQTT-3.15.2-1";
    default: return "MQTT-2.4";
    }
}

const char *mqtt_reason_name(mqtt_packet_type type, uint8_t code)
{
    const reason_info *r = find_reason(type, code);
    if (r) return r->name;
    /* Outside its packet, a code still has its general name. */
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++)
        if (REASONS[i].code == code && code != 0x00 && code > 0x02) return REASONS[i].name;
    return code == 0x00 ? "Success" : "unknown";
}

const char *mqtt_connack_return_name(uint8_t code)
{
    switch (code) {
    case 0: return "Connection Accepted";
    case 1: return "Connection Refused, unacceptable protocol version";
    case 2: return "Connection Refused, identifier rejected";
    case 3: return "Connection Refused, Server unavailable";
    case 4: return "Connection Refused, bad user name or password";
    case 5: return "Connection Refused, not authorized";
    default: return "unknown";
    }
}

const char *flags_rule(mqtt_version v, mqtt_packet_type t)
{
    switch (t) {
    case MQTT_PUBREL: return "MQTT-3.6.1-1";
    case MQTT_SUBSCRIBE: return "MQTT-3.8.1-1";
    case MQTT_UNSUBSCRIBE: return "MQTT-3.10.1-1";
    case MQTT_DISCONNECT: return "MQTT-3.14.1-1";
    case MQTT_AUTH: return "MQTT-3.15.1-1";
    default: return RULE(v, "MQTT-2.2.2-2", "MQTT-2.1.3-1");
    }
}
