/*
 * broker_sys: the $SYS/broker/... topics (as mosquitto publishes them):
 * retained QoS 0 messages refreshed every sys_interval seconds, each one
 * only when its value changed (the version once, at start). Clients cannot
 * publish under $SYS (broker_auth_publish refuses it), and '#' or '+' in the
 * first level never match them (MQTT-4.7.2-1).
 */
#include "broker/src/broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
    SYS_VERSION,
    SYS_UPTIME,
    SYS_CLIENTS_CONNECTED,
    SYS_CLIENTS_TOTAL,
    SYS_CLIENTS_MAXIMUM,
    SYS_MESSAGES_RECEIVED,
    SYS_MESSAGES_SENT,
    SYS_PUBLISH_RECEIVED,
    SYS_PUBLISH_SENT,
    SYS_PUBLISH_DROPPED,
    SYS_BYTES_RECEIVED,
    SYS_BYTES_SENT,
    SYS_RETAINED,
    SYS_SUBSCRIPTIONS,
    SYS_HEAP_CURRENT,
    SYS_COUNT
};

static const char *const sys_topics[SYS_COUNT] = {
    "$SYS/broker/version",
    "$SYS/broker/uptime",
    "$SYS/broker/clients/connected",
    "$SYS/broker/clients/total",
    "$SYS/broker/clients/maximum",
    "$SYS/broker/messages/received",
    "$SYS/broker/messages/sent",
    "$SYS/broker/publish/messages/received",
    "$SYS/broker/publish/messages/sent",
    "$SYS/broker/publish/messages/dropped",
    "$SYS/broker/bytes/received",
    "$SYS/broker/bytes/sent",
    "$SYS/broker/retained messages/count",
    "$SYS/broker/subscriptions/count",
    "$SYS/broker/heap/current", /* bytes held for clients (broker_mem_held, memory_limit) */
};

_Static_assert(SYS_COUNT <= sizeof(((broker_core *)0)->sys_last) / sizeof(((broker_core *)0)->sys_last[0]),
               "sys_last too small");

static void publish(broker_core *core, int idx, const char *value, bool force)
{
    if (!force && strcmp(core->sys_last[idx], value) == 0) return;
    snprintf(core->sys_last[idx], sizeof core->sys_last[idx], "%s", value);
    mqtt_bytes topic = {(const uint8_t *)sys_topics[idx], strlen(sys_topics[idx])};
    mqtt_bytes payload = {(const uint8_t *)value, strlen(value)};
    broker_msg *m = broker_msg_new(topic, payload, 0, true, NULL, core->now);
    broker_publish_msg(core, m, NULL);
    broker_msg_unref(m);
}

static void publish_u64(broker_core *core, int idx, uint64_t v, bool force)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    publish(core, idx, buf, force);
}

void broker_sys_update(broker_core *core, bool force)
{
    const broker_stats *st = &core->stats;
    publish(core, SYS_VERSION, "mqtt-broker " BROKER_VERSION, force);
    char buf[40];
    snprintf(buf, sizeof buf, "%" PRId64 " seconds", (core->now - core->started_at) / 1000);
    publish(core, SYS_UPTIME, buf, force);
    publish_u64(core, SYS_CLIENTS_CONNECTED, core->nconnected, force);
    publish_u64(core, SYS_CLIENTS_TOTAL, core->nsessions, force);
    publish_u64(core, SYS_CLIENTS_MAXIMUM, st->clients_maximum, force);
    publish_u64(core, SYS_MESSAGES_RECEIVED, st->packets_received, force);
    publish_u64(core, SYS_MESSAGES_SENT, st->packets_sent, force);
    publish_u64(core, SYS_PUBLISH_RECEIVED, st->publish_received, force);
    publish_u64(core, SYS_PUBLISH_SENT, st->publish_sent, force);
    publish_u64(core, SYS_PUBLISH_DROPPED, st->publish_dropped, force);
    publish_u64(core, SYS_BYTES_RECEIVED, st->bytes_received, force);
    publish_u64(core, SYS_BYTES_SENT, st->bytes_sent, force);
    publish_u64(core, SYS_RETAINED, core->nretained, force);
    publish_u64(core, SYS_SUBSCRIPTIONS, core->nsubscriptions, force);
    publish_u64(core, SYS_HEAP_CURRENT, broker_mem_held(), force);
}
