/*
 * tc: the test harness of the broker core. Drives a broker_core in-process
 * with a fake clock, as the event loop would: clients encode packets with
 * the codec and feed them; what the core queues for a client is decoded
 * back into packets to assert on. Every helper asserts (Criterion) on
 * failure, so tests read as protocol exchanges.
 */
#ifndef BROKER_TC_H
#define BROKER_TC_H

#include "broker/src/broker_core.h"

#include <criterion/criterion.h>
#include <mqtt/mqtt.h>

#define TC_SLOTS 16

/* One packet received from the broker, with its own bytes and arrays. */
typedef struct {
    mqtt_packet pkt;
    uint8_t *bytes;
    mqtt_user_property props[64];
    uint32_t subids[16];
    mqtt_subscription subs[16];
} tc_pkt;

typedef struct tc_broker {
    broker_core *core;
    int64_t now;
    char *log;            /* every log line, newline-separated */
    struct tc_client_s **clients; /* freed by tc_free */
    size_t nclients;
    size_t log_len, log_cap;
} tc_broker;

typedef struct tc_client_s {
    tc_broker *b;
    broker_conn *conn;    /* NULL once closed and freed */
    mqtt_version version;
    uint8_t *in;          /* bytes from the broker not yet decoded */
    size_t in_len, in_cap;
    tc_pkt slots[TC_SLOTS];
    size_t next_slot;
    uint16_t next_id;
} tc_client;

/* A broker with the default options (sys_interval 0 unless opts says). */
tc_broker *tc_new(const broker_options *opts);
void tc_free(tc_broker *b);
/* Default options for tests: those of the broker, without $SYS. */
void tc_options(broker_options *o);
/* Advances the clock by ms and runs the timers. */
void tc_advance(tc_broker *b, int64_t ms);
bool tc_log_has(const tc_broker *b, const char *needle);

tc_client *tc_open(tc_broker *b, mqtt_version v);
/* Encodes pkt with this client's codec and feeds it. */
void tc_send(tc_client *c, mqtt_packet *pkt);
void tc_send_raw(tc_client *c, const void *bytes, size_t n);
/* The next packet from the broker, or NULL if none is queued. */
tc_pkt *tc_recv(tc_client *c);
/* The next packet, which must be of this type. */
mqtt_packet *tc_expect(tc_client *c, mqtt_packet_type type);
void tc_expect_none(tc_client *c);
/* True if the core decided to close the connection (output all read). */
bool tc_closed(tc_client *c);
/* Expects the broker to have closed the connection, after DISCONNECT
 * `reason` (5.0, reason >= 0) or nothing more (reason < 0). */
void tc_expect_closed(tc_client *c, int reason);
/* The network connection drops (no DISCONNECT): broker_conn_close. */
void tc_drop(tc_client *c);

/* CONNECT with a packet the test filled (type set here); returns CONNACK. */
mqtt_packet *tc_connect_pkt(tc_client *c, mqtt_packet *connect);
/* Opens, CONNECTs and expects CONNACK 0. clean = Clean Session / Start. */
tc_client *tc_connect(tc_broker *b, mqtt_version v, const char *id, bool clean);
/* A CONNECT packet for v, id, clean (keep alive 0), for tests to adjust. */
void tc_connect_init(mqtt_packet *pkt, const char *id, bool clean);

/* SUBSCRIBE one filter; expects SUBACK with granted QoS `expect`. */
void tc_subscribe(tc_client *c, const char *filter, uint8_t qos);
void tc_subscribe_expect(tc_client *c, const char *filter, uint8_t qos, uint8_t expect);
/* PUBLISH (id assigned for QoS > 0). Returns the packet id. No ack read. */
uint16_t tc_publish(tc_client *c, const char *topic, const char *payload, uint8_t qos, bool retain);
/* PUBLISH and complete the QoS flow (PUBACK, or PUBREC/PUBREL/PUBCOMP). */
void tc_publish_done(tc_client *c, const char *topic, const char *payload, uint8_t qos, bool retain);
/* Expects a PUBLISH on topic with payload; returns it. */
mqtt_publish *tc_expect_publish(tc_client *c, const char *topic, const char *payload);
/* Sends an ack (PUBACK, PUBREC, PUBREL, PUBCOMP). */
void tc_ack(tc_client *c, mqtt_packet_type type, uint16_t id);

/* strcmp calls made by the objects of the test binary (tc_count.c). */
extern size_t tc_strcmp_calls;
/* Faults for the persistence files (tc_count.c): fdatasync fails with
 * tc_fail_fdatasync (an errno) while it is non-zero; rename fails while its
 * target ends with tc_fail_rename_suffix. */
extern int tc_fail_fdatasync;
extern const char *tc_fail_rename_suffix;

mqtt_bytes tc_str(const char *s);
bool tc_bytes_is(mqtt_bytes b, const char *s);

#endif
