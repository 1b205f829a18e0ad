/*
 * broker_msg: immutable, reference-counted application messages.
 *
 * A message is one allocation: the struct, then the user property array,
 * then every byte string it carries (topic, payload, content type, response
 * topic, correlation data, user property names and values). Properties that
 * a broker must forward unaltered (MQTT-3.3.2-4, -15..-20) are kept exactly
 * as received, in order. The Message Expiry Interval becomes an absolute
 * deadline so that the interval sent on can be counted down (MQTT-3.3.2-6).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *copy_bytes(uint8_t *dst, mqtt_bytes src, mqtt_bytes *out)
{
    out->ptr = dst;
    out->len = src.len;
    if (src.len) memcpy(dst, src.ptr, src.len);
    return dst + src.len;
}

/* Bytes of the strings a message copies (after its head). */
static size_t string_bytes(mqtt_bytes topic, mqtt_bytes payload, const mqtt_properties *props)
{
    size_t bytes = topic.len + payload.len;
    if (props) {
        if (MQTT_HAS_PROP(props, MQTT_PROP_CONTENT_TYPE)) bytes += props->content_type.len;
        if (MQTT_HAS_PROP(props, MQTT_PROP_RESPONSE_TOPIC)) bytes += props->response_topic.len;
        if (MQTT_HAS_PROP(props, MQTT_PROP_CORRELATION_DATA)) bytes += props->correlation_data.len;
        for (size_t i = 0; i < props->user_property_count; i++)
            bytes += props->user_properties[i].name.len + props->user_properties[i].value.len;
    }
    return bytes;
}

static size_t head_bytes(const mqtt_properties *props)
{
    return sizeof(broker_msg) + (props ? props->user_property_count : 0) * sizeof(mqtt_user_property);
}

size_t broker_msg_size(mqtt_bytes topic, mqtt_bytes payload, const mqtt_properties *props)
{
    return head_bytes(props) + string_bytes(topic, payload, props);
}

broker_msg *broker_msg_new(mqtt_bytes topic, mqtt_bytes payload, uint8_t qos, bool retain,
                           const mqtt_properties *props, int64_t now)
{
    size_t nprops = props ? props->user_property_count : 0;
    size_t head = head_bytes(props);
    size_t alloc = head + string_bytes(topic, payload, props);
    broker_msg *m = broker_xmalloc(alloc);
    memset(m, 0, sizeof *m);
    m->alloc = alloc;
    broker_mem_add(alloc);
    m->refs = 1;
    m->qos = qos;
    m->retain = retain;
    m->user_props = nprops ? (mqtt_user_property *)(void *)m->data : NULL;
    m->user_prop_count = nprops;
    uint8_t *p = (uint8_t *)m + head;
    p = copy_bytes(p, topic, &m->topic);
    p = copy_bytes(p, payload, &m->payload);
    if (props) {
        if (MQTT_HAS_PROP(props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR)) {
            m->has_pfi = true;
            m->pfi = props->payload_format_indicator;
        }
        if (MQTT_HAS_PROP(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)) {
            m->has_expiry = true;
            m->expiry_at = now + (int64_t)props->message_expiry_interval * 1000;
        }
        if (MQTT_HAS_PROP(props, MQTT_PROP_CONTENT_TYPE)) {
            m->has_content_type = true;
            p = copy_bytes(p, props->content_type, &m->content_type);
        }
        if (MQTT_HAS_PROP(props, MQTT_PROP_RESPONSE_TOPIC)) {
            m->has_response_topic = true;
            p = copy_bytes(p, props->response_topic, &m->response_topic);
        }
        if (MQTT_HAS_PROP(props, MQTT_PROP_CORRELATION_DATA)) {
            m->has_correlation_data = true;
            p = copy_bytes(p, props->correlation_data, &m->correlation_data);
        }
        for (size_t i = 0; i < nprops; i++) {
            p = copy_bytes(p, props->user_properties[i].name, &m->user_props[i].name);
            p = copy_bytes(p, props->user_properties[i].value, &m->user_props[i].value);
        }
    }
    return m;
}

void broker_msg_unref(broker_msg *m)
{
    if (m && --m->refs == 0) {
        broker_mem_sub(m->alloc);
        free(m);
    }
}

bool broker_msg_expired(const broker_msg *m, int64_t now)
{
    /* Expired once the whole interval has passed: with 1 s left, the copy
     * sent on carries a Message Expiry Interval of 1. */
    return m->has_expiry && now >= m->expiry_at;
}
