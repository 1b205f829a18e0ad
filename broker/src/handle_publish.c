/*
 * handle_publish: PUBLISH from a client -> checks, topic alias, then
 * QoS 0: route; QoS 1: route, PUBACK; QoS 2: store, PUBREC, route on PUBREL.
 *
 * QoS 2 follows mosquitto 2.0 (the spec's "Method A", a choice it leaves
 * open): the message is kept with its packet id until PUBREL and delivered
 * then, exactly once; a repeated PUBLISH with the same id before PUBREL only
 * gets PUBREC again (5.0 MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2). At most
 * Receive Maximum such messages may be open (5.0 MQTT-3.3.4-7, 0x93).
 *
 * A message that would take the broker above memory_limit is dropped and
 * its client disconnected (0x97), as mosquitto does.
 *
 * Refused messages (payload above message_size_limit: 0x83 as mosquitto;
 * topic under $SYS: 0x87) still complete their QoS flow and are not
 * delivered (MQTT-4.3.3-9: after a PUBREC >= 0x80 the id is free again).
 */
#include "broker/src/broker_internal.h"

#include <stdlib.h>
#include <string.h>

/* Resolves the Topic Alias (5.0): false if the connection was closed. */
static bool resolve_alias(broker_conn *c, const mqtt_publish *p, mqtt_bytes *topic)
{
    broker_core *core = c->core;
    uint16_t a = p->properties.topic_alias;
    if (a == 0) {
        broker_conn_fail(c, 0x94, "MQTT-3.3.2-8", true, "Topic Alias 0");
        return false;
    }
    if (a > core->opt.max_topic_alias) {
        broker_conn_fail(c, 0x94, "MQTT-3.3.2-9", true, "Topic Alias %u above the Topic Alias Maximum %u",
                         (unsigned)a, (unsigned)core->opt.max_topic_alias);
        return false;
    }
    if (!c->alias_in) c->alias_in = broker_xcalloc(core->opt.max_topic_alias, sizeof *c->alias_in);
    broker_alias *slot = &c->alias_in[a - 1];
    if (topic->len) { /* set or replace the mapping (5.0 3.3.2.3.4) */
        slot->topic = broker_xrealloc(slot->topic, topic->len);
        memcpy(slot->topic, topic->ptr, topic->len);
        slot->len = topic->len;
        return true;
    }
    if (!slot->topic) {
        broker_conn_fail(c, 0x82, "MQTT-3.3.2.3.4", true, "Topic Alias %u used before it was set", (unsigned)a);
        return false;
    }
    *topic = (mqtt_bytes){slot->topic, slot->len};
    return true;
}

static void ack(broker_conn *c, uint8_t qos, uint16_t id, uint8_t reason, const char *why)
{
    if (qos == 1) broker_send_ack(c, MQTT_PUBACK, id, reason, why);
    else if (qos == 2) broker_send_ack(c, MQTT_PUBREC, id, reason, why);
}

/* memory_limit, as mosquitto's: a message that would exceed it is dropped
 * and its client disconnected (0x97); not acknowledged, so a QoS 1/2 message
 * is sent again, not lost. False if c was closed. */
static bool fits_in_memory(broker_conn *c, mqtt_bytes topic, mqtt_bytes payload, const mqtt_properties *props)
{
    broker_core *core = c->core;
    size_t size = broker_msg_size(topic, payload, props);
    if (!broker_mem_over(core, size)) return true;
    core->stats.publish_dropped++;
    broker_conn_fail(c, 0x97, "LIMIT-memory_limit", true, "PUBLISH of %zu bytes would take the broker above memory_limit %llu (%zu held)",
                     size, (unsigned long long)core->opt.memory_limit, broker_mem_held());
    return false;
}

void broker_handle_publish(broker_conn *c, const mqtt_publish *p)
{
    broker_core *core = c->core;
    broker_session *s = c->session;
    bool v5 = c->version == MQTT_V5;
    core->stats.publish_received++;
    if (p->qos > core->opt.max_qos) {
        broker_conn_fail(c, 0x9B, "MQTT-3.2.2-11", true, "PUBLISH at QoS %u, above the maximum QoS %u",
                         (unsigned)p->qos, (unsigned)core->opt.max_qos);
        return;
    }
    if (p->retain && !core->opt.retain_available) {
        broker_conn_fail(c, 0x9A, "MQTT-3.2.2-14", true, "PUBLISH with RETAIN but retain is not available");
        return;
    }
    mqtt_bytes topic = p->topic;
    if (v5 && MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS)) {
        if (!resolve_alias(c, p, &topic)) return;
    } else if (topic.len == 0) {
        broker_conn_fail(c, 0x82, v5 ? "MQTT-3.3.2.1" : "MQTT-4.7.3-1", true, "empty topic name without a Topic Alias");
        return;
    }
    if (p->qos == 2) {
        if (broker_session_find_rx(s, p->packet_id)) {
            ack(c, 2, p->packet_id, 0, NULL); /* not delivered again */
            return;
        }
        size_t receive_max = core->opt.max_inflight_messages ? core->opt.max_inflight_messages : 65535;
        if (s->nrx >= receive_max) {
            broker_conn_fail(c, 0x93, "MQTT-3.3.4-7", true, "more than Receive Maximum (%zu) QoS 2 messages open",
                             receive_max);
            return;
        }
    }
    if (core->opt.message_size_limit && p->payload.len > core->opt.message_size_limit) {
        broker_log_conn(c, BROKER_LOG_NOTICE, "PUBLISH on \"%.*s\" dropped: payload of %zu bytes above message_size_limit %u",
                        (int)topic.len, (const char *)topic.ptr, p->payload.len, (unsigned)core->opt.message_size_limit);
        core->stats.publish_dropped++;
        ack(c, p->qos, p->packet_id, 0x83, "payload above message_size_limit");
        return;
    }
    if (broker_too_deep(core, topic)) {
        /* Every level would be a node of the retained trie. */
        broker_log_conn(c, BROKER_LOG_NOTICE, "PUBLISH dropped: topic of %zu bytes above max_topic_levels (%u)",
                        topic.len, (unsigned)core->opt.max_topic_levels);
        core->stats.publish_dropped++;
        ack(c, p->qos, p->packet_id, 0x90, "topic above max_topic_levels");
        return;
    }
    uint8_t denied = broker_auth_publish(core, c, topic);
    if (denied) {
        broker_log_conn(c, BROKER_LOG_NOTICE, "PUBLISH on \"%.*s\" refused (0x%02X)", (int)topic.len,
                        (const char *)topic.ptr, denied);
        core->stats.publish_dropped++;
        ack(c, p->qos, p->packet_id, denied, "not authorized to publish to this topic");
        return;
    }
    const mqtt_properties *props = v5 ? &p->properties : NULL;
    if (!fits_in_memory(c, topic, p->payload, props)) return;
    broker_msg *msg = broker_msg_new(topic, p->payload, p->qos, p->retain, props, core->now);
    if (p->qos == 2) {
        if (s->nrx == s->rx_cap) {
            s->rx_cap = s->rx_cap ? s->rx_cap * 2 : 4;
            s->rx = broker_xrealloc(s->rx, s->rx_cap * sizeof *s->rx);
        }
        s->rx[s->nrx++] = (broker_rx_qos2){p->packet_id, msg};
        broker_journal_rx(core, s, p->packet_id, msg); /* synced before PUBREC leaves */
        ack(c, 2, p->packet_id, 0, NULL);
        return;
    }
    core->cur_publisher = c;
    size_t n = broker_publish_msg(core, msg, s);
    core->cur_publisher = NULL;
    broker_msg_unref(msg);
    /* 0x10 No matching subscribers, as mosquitto. */
    if (p->qos == 1) ack(c, 1, p->packet_id, n ? 0x00 : 0x10, NULL);
}
