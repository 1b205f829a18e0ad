/*
 * MQTT 5.0 properties: which exist, their types, where each may appear, the
 * value ranges, and the spec section that defines each use (section 2.2.2.2
 * and the property subsections of each packet).
 *
 * Both the decoder (as it reads each property) and the encoder (before it
 * writes) run prop_check, so the two can never disagree. Rule ids of the form
 * "MQTT-3.1.2.11.3" name the section whose "It is a Protocol Error ..."
 * sentence applies: those sentences have no numbered statement of their own.
 */
#include <stddef.h>

#include "internal.h"

#define CONNECT_ CTX(MQTT_CONNECT)
#define CONNACK_ CTX(MQTT_CONNACK)
#define PUBLISH_ CTX(MQTT_PUBLISH)
#define ACKS_ (CTX(MQTT_PUBACK) | CTX(MQTT_PUBREC) | CTX(MQTT_PUBREL) | CTX(MQTT_PUBCOMP))
#define SUBSCRIBE_ CTX(MQTT_SUBSCRIBE)
#define SUBACK_ CTX(MQTT_SUBACK)
#define UNSUBSCRIBE_ CTX(MQTT_UNSUBSCRIBE)
#define UNSUBACK_ CTX(MQTT_UNSUBACK)
#define DISCONNECT_ CTX(MQTT_DISCONNECT)
#define AUTH_ CTX(MQTT_AUTH)
#define WILL_ CTX(CTX_WILL)

#define F(field) (uint16_t) offsetof(mqtt_properties, field)

const prop_info codec_props[PROP_ID_LIMIT] = {
    [MQTT_PROP_PAYLOAD_FORMAT_INDICATOR] = {PT_BYTE, PUBLISH_ | WILL_, F(payload_format_indicator)},
    [MQTT_PROP_MESSAGE_EXPIRY_INTERVAL] = {PT_U32, PUBLISH_ | WILL_, F(message_expiry_interval)},
    [MQTT_PROP_CONTENT_TYPE] = {PT_UTF8, PUBLISH_ | WILL_, F(content_type)},
    [MQTT_PROP_RESPONSE_TOPIC] = {PT_UTF8, PUBLISH_ | WILL_, F(response_topic)},
    [MQTT_PROP_CORRELATION_DATA] = {PT_BINARY, PUBLISH_ | WILL_, F(correlation_data)},
    [MQTT_PROP_SUBSCRIPTION_IDENTIFIER] = {PT_VARINT, PUBLISH_ | SUBSCRIBE_, 0},
    [MQTT_PROP_SESSION_EXPIRY_INTERVAL] = {PT_U32, CONNECT_ | CONNACK_ | DISCONNECT_, F(session_expiry_interval)},
    [MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER] = {PT_UTF8, CONNACK_, F(assigned_client_identifier)},
    [MQTT_PROP_SERVER_KEEP_ALIVE] = {PT_U16, CONNACK_, F(server_keep_alive)},
    [MQTT_PROP_AUTHENTICATION_METHOD] = {PT_UTF8, CONNECT_ | CONNACK_ | AUTH_, F(authentication_method)},
    [MQTT_PROP_AUTHENTICATION_DATA] = {PT_BINARY, CONNECT_ | CONNACK_ | AUTH_, F(authentication_data)},
    [MQTT_PROP_REQUEST_PROBLEM_INFORMATION] = {PT_BYTE, CONNECT_, F(request_problem_information)},
    [MQTT_PROP_WILL_DELAY_INTERVAL] = {PT_U32, WILL_, F(will_delay_interval)},
    [MQTT_PROP_REQUEST_RESPONSE_INFORMATION] = {PT_BYTE, CONNECT_, F(request_response_information)},
    [MQTT_PROP_RESPONSE_INFORMATION] = {PT_UTF8, CONNACK_, F(response_information)},
    [MQTT_PROP_SERVER_REFERENCE] = {PT_UTF8, CONNACK_ | DISCONNECT_, F(server_reference)},
    [MQTT_PROP_REASON_STRING] = {PT_UTF8, CONNACK_ | ACKS_ | SUBACK_ | UNSUBACK_ | DISCONNECT_ | AUTH_, F(reason_string)},
    [MQTT_PROP_RECEIVE_MAXIMUM] = {PT_U16, CONNECT_ | CONNACK_, F(receive_maximum)},
    [MQTT_PROP_TOPIC_ALIAS_MAXIMUM] = {PT_U16, CONNECT_ | CONNACK_, F(topic_alias_maximum)},
    [MQTT_PROP_TOPIC_ALIAS] = {PT_U16, PUBLISH_, F(topic_alias)},
    [MQTT_PROP_MAXIMUM_QOS] = {PT_BYTE, CONNACK_, F(maximum_qos)},
    [MQTT_PROP_RETAIN_AVAILABLE] = {PT_BYTE, CONNACK_, F(retain_available)},
    [MQTT_PROP_USER_PROPERTY] = {PT_PAIR, CONNECT_ | CONNACK_ | PUBLISH_ | WILL_ | ACKS_ | SUBSCRIBE_ |
                                              SUBACK_ | UNSUBSCRIBE_ | UNSUBACK_ | DISCONNECT_ | AUTH_, 0},
    [MQTT_PROP_MAXIMUM_PACKET_SIZE] = {PT_U32, CONNECT_ | CONNACK_, F(maximum_packet_size)},
    [MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = {PT_BYTE, CONNACK_, F(wildcard_subscription_available)},
    [MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = {PT_BYTE, CONNACK_, F(subscription_identifier_available)},
    [MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = {PT_BYTE, CONNACK_, F(shared_subscription_available)},
};

/* The section defining property `id` where it appears in context `ctx`. */
const char *prop_section(unsigned id, unsigned ctx)
{
    switch (ctx) {
    case MQTT_CONNECT:
        switch (id) {
        case 0x11: return "MQTT-3.1.2.11.2";
        case 0x21: return "MQTT-3.1.2.11.3";
        case 0x27: return "MQTT-3.1.2.11.4";
        case 0x22: return "MQTT-3.1.2.11.5";
        case 0x19: return "MQTT-3.1.2.11.6";
        case 0x17: return "MQTT-3.1.2.11.7";
        case 0x26: return "MQTT-3.1.2.11.8";
        case 0x15: return "MQTT-3.1.2.11.9";
        case 0x16: return "MQTT-3.1.2.11.10";
        }
        break;
    case CTX_WILL:
        switch (id) {
        case 0x18: return "MQTT-3.1.3.2.2";
        case 0x01: return "MQTT-3.1.3.2.3";
        case 0x02: return "MQTT-3.1.3.2.4";
        case 0x03: return "MQTT-3.1.3.2.5";
        case 0x08: return "MQTT-3.1.3.2.6";
        case 0x09: return "MQTT-3.1.3.2.7";
        case 0x26: return "MQTT-3.1.3.2.8";
        }
        break;
    case MQTT_CONNACK:
        switch (id) {
        case 0x11: return "MQTT-3.2.2.3.2";
        case 0x21: return "MQTT-3.2.2.3.3";
        case 0x24: return "MQTT-3.2.2.3.4";
        case 0x25: return "MQTT-3.2.2.3.5";
        case 0x27: return "MQTT-3.2.2.3.6";
        case 0x12: return "MQTT-3.2.2.3.7";
        case 0x22: return "MQTT-3.2.2.3.8";
        case 0x1F: return "MQTT-3.2.2.3.9";
        case 0x26: return "MQTT-3.2.2.3.10";
        case 0x28: return "MQTT-3.2.2.3.11";
        case 0x29: return "MQTT-3.2.2.3.12";
        case 0x2A: return "MQTT-3.2.2.3.13";
        case 0x13: return "MQTT-3.2.2.3.14";
        case 0x1A: return "MQTT-3.2.2.3.15";
        case 0x1C: return "MQTT-3.2.2.3.16";
        case 0x15: return "MQTT-3.2.2.3.17";
        case 0x16: return "MQTT-3.2.2.3.18";
        }
        break;
    case MQTT_PUBLISH:
        switch (id) {
        case 0x01: return "MQTT-3.3.2.3.2";
        case 0x02: return "MQTT-3.3.2.3.3";
        case 0x23: return "MQTT-3.3.2.3.4";
        case 0x08: return "MQTT-3.3.2.3.5";
        case 0x09: return "MQTT-3.3.2.3.6";
        case 0x26: return "MQTT-3.3.2.3.7";
        case 0x0B: return "MQTT-3.3.2.3.8";
        case 0x03: return "MQTT-3.3.2.3.9";
        }
        break;
    case MQTT_PUBACK:
        if (id == 0x1F) return "MQTT-3.4.2.2.2";
        break;
    case MQTT_PUBREC:
        if (id == 0x1F) return "MQTT-3.5.2.2.2";
        break;
    case MQTT_PUBREL:
        if (id == 0x1F) return "MQTT-3.6.2.2.2";
        break;
    case MQTT_PUBCOMP:
        if (id == 0x1F) return "MQTT-3.7.2.2.2";
        break;
    case MQTT_SUBSCRIBE:
        if (id == 0x0B) return "MQTT-3.8.2.1.2";
        break;
    case MQTT_SUBACK:
        if (id == 0x1F) return "MQTT-3.9.2.1.2";
        break;
    case MQTT_UNSUBACK:
        if (id == 0x1F) return "MQTT-3.11.2.1.2";
        break;
    case MQTT_DISCONNECT:
        switch (id) {
        case 0x11: return "MQTT-3.14.2.2.2";
        case 0x1F: return "MQTT-3.14.2.2.3";
        case 0x1C: return "MQTT-3.14.2.2.5";
        }
        break;
    case MQTT_AUTH:
        switch (id) {
        case 0x15: return "MQTT-3.15.2.2.2";
        case 0x16: return "MQTT-3.15.2.2.3";
        case 0x1F: return "MQTT-3.15.2.2.4";
        }
        break;
    }
    return "MQTT-2.2.2.2";
}

static const char *protocol_error(mqtt_status *status, uint8_t *reason, const char *rule)
{
    *status = MQTT_ERR_PROTOCOL;
    *reason = RC_PROTOCOL_ERROR;
    return rule;
}

static const char *utf8_problem(bool check, mqtt_bytes s, mqtt_status *status, uint8_t *reason,
                                const char **message)
{
    const char *rule = check ? utf8_rule(MQTT_V5, s, NULL) : NULL;
    if (rule) {
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "string property is not valid UTF-8 (or contains U+0000)";
    }
    return rule;
}

const char *prop_check(unsigned id, unsigned ctx, mqtt_side from, const mqtt_properties *p,
                       bool check_strings, mqtt_status *status, uint8_t *reason, const char **message)
{
    if (prop_type_of(id) == PT_NONE) {
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "unknown property identifier";
        return "MQTT-2.2.2.2";
    }
    if (!prop_allowed(id, ctx)) {
        /* 2.2.2.2: "A Control Packet which contains an Identifier which is not valid for
         * its packet type ... is a Malformed Packet." */
        *status = MQTT_ERR_MALFORMED;
        *reason = RC_MALFORMED;
        *message = "property is not allowed in this packet";
        return "MQTT-2.2.2.2";
    }
    const char *section = prop_section(id, ctx);
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
        if (p->payload_format_indicator > 1) goto not_boolean;
        break;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
        if (p->request_problem_information > 1) goto not_boolean;
        break;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
        if (p->request_response_information > 1) goto not_boolean;
        break;
    case MQTT_PROP_MAXIMUM_QOS:
        if (p->maximum_qos > 1) {
            *message = "Maximum QoS is neither 0 nor 1";
            return protocol_error(status, reason, section);
        }
        break;
    case MQTT_PROP_RETAIN_AVAILABLE:
        if (p->retain_available > 1) goto not_boolean;
        break;
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        if (p->wildcard_subscription_available > 1) goto not_boolean;
        break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        if (p->subscription_identifier_available > 1) goto not_boolean;
        break;
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        if (p->shared_subscription_available > 1) goto not_boolean;
        break;
    case MQTT_PROP_RECEIVE_MAXIMUM:
        if (p->receive_maximum == 0) {
            *message = "Receive Maximum is 0";
            return protocol_error(status, reason, section);
        }
        break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE:
        if (p->maximum_packet_size == 0) {
            *message = "Maximum Packet Size is 0";
            return protocol_error(status, reason, section);
        }
        break;
    case MQTT_PROP_TOPIC_ALIAS:
        if (p->topic_alias == 0) {
            *message = "Topic Alias is 0";
            protocol_error(status, reason, NULL);
            *reason = RC_TOPIC_ALIAS_INVALID; /* 5.0 3.3.2.3.4: DISCONNECT 0x94 */
            return "MQTT-3.3.2-8";
        }
        break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
        if (ctx == MQTT_PUBLISH && from == MQTT_FROM_CLIENT) {
            *message = "a PUBLISH from a client carries a Subscription Identifier";
            return protocol_error(status, reason, "MQTT-3.3.4-6");
        }
        for (size_t i = 0; i < p->subscription_identifier_count; i++) {
            if (p->subscription_identifiers[i] == 0) {
                *message = "Subscription Identifier is 0";
                return protocol_error(status, reason, section);
            }
            if (p->subscription_identifiers[i] > MQTT_MAX_REMAINING_LENGTH) {
                *status = MQTT_ERR_MALFORMED;
                *reason = RC_MALFORMED;
                *message = "Subscription Identifier is above 268435455";
                return "MQTT-1.5.5";
            }
        }
        break;
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
        if (ctx == MQTT_DISCONNECT && from == MQTT_FROM_SERVER) {
            *message = "a server's DISCONNECT carries a Session Expiry Interval";
            return protocol_error(status, reason, "MQTT-3.14.2-2");
        }
        break;
    case MQTT_PROP_RESPONSE_TOPIC: {
        const char *rule = utf8_problem(check_strings, p->response_topic, status, reason, message);
        if (rule) return rule;
        if (p->response_topic.len == 0) {
            *message = "Response Topic is empty";
            return protocol_error(status, reason, "MQTT-4.7.3-1");
        }
        for (size_t i = 0; i < p->response_topic.len; i++) {
            if (p->response_topic.ptr[i] == '+' || p->response_topic.ptr[i] == '#') {
                *message = "Response Topic contains a wildcard character";
                return protocol_error(status, reason, "MQTT-3.3.2-14");
            }
        }
        break;
    }
    case MQTT_PROP_CONTENT_TYPE:
        return utf8_problem(check_strings, p->content_type, status, reason, message);
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
        return utf8_problem(check_strings, p->assigned_client_identifier, status, reason, message);
    case MQTT_PROP_AUTHENTICATION_METHOD:
        return utf8_problem(check_strings, p->authentication_method, status, reason, message);
    case MQTT_PROP_RESPONSE_INFORMATION:
        return utf8_problem(check_strings, p->response_information, status, reason, message);
    case MQTT_PROP_SERVER_REFERENCE:
        return utf8_problem(check_strings, p->server_reference, status, reason, message);
    case MQTT_PROP_REASON_STRING:
        return utf8_problem(check_strings, p->reason_string, status, reason, message);
    case MQTT_PROP_USER_PROPERTY:
        for (size_t i = 0; check_strings && i < p->user_property_count; i++) {
            const char *rule = utf8_problem(true, p->user_properties[i].name, status, reason, message);
            if (!rule) rule = utf8_problem(true, p->user_properties[i].value, status, reason, message);
            if (rule) return "MQTT-1.5.7-1"; /* the String Pair statement */
        }
        break;
    default:
        break;
    }
    return NULL;
not_boolean:
    *message = "property value is neither 0 nor 1";
    return protocol_error(status, reason, section);
}

const char *props_check_set(unsigned ctx, const mqtt_properties *p, const char **message)
{
    if (MQTT_HAS_PROP(p, MQTT_PROP_AUTHENTICATION_DATA) &&
        !MQTT_HAS_PROP(p, MQTT_PROP_AUTHENTICATION_METHOD)) {
        *message = "Authentication Data without Authentication Method";
        return prop_section(MQTT_PROP_AUTHENTICATION_DATA, ctx);
    }
    if (ctx == MQTT_AUTH && !MQTT_HAS_PROP(p, MQTT_PROP_AUTHENTICATION_METHOD)) {
        *message = "AUTH without Authentication Method";
        return prop_section(MQTT_PROP_AUTHENTICATION_METHOD, ctx);
    }
    if (ctx == MQTT_SUBSCRIBE && p->subscription_identifier_count > 1) {
        *message = "SUBSCRIBE carries more than one Subscription Identifier";
        return prop_section(MQTT_PROP_SUBSCRIPTION_IDENTIFIER, ctx);
    }
    return NULL;
}

