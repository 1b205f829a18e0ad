/*
 * bench_proto: the MQTT side of a bench connection, all through the codec:
 * CONNECT, SUBSCRIBE, the publisher's PUBLISH with its stamp and the QoS 1/2
 * exchanges on both sides, PINGREQ, and DISCONNECT at the end.
 */
#ifndef BENCH_PROTO_H
#define BENCH_PROTO_H

#include "bench/src/bench.h"

/* Queues CONNECT; the connection then waits for CONNACK. Returns 0 or -1. */
int bench_proto_connect(bench_conn *c);
/* Handles one decoded packet received at t_rx (payload clock for
 * PUBLISH latency). Returns 0, or -1 when c was failed. */
int bench_proto_handle(bench_conn *c, const mqtt_packet *p, int64_t t_rx);
/* Queues the next PUBLISH of publisher c, due at `due`. Returns 0 or -1. */
int bench_proto_publish(bench_conn *c, int64_t due);
/* Queues PINGREQ, a marker of how far the broker read (bench.h); skipped
 * while BENCH_PINGS are in flight. */
int bench_proto_ping(bench_conn *c);
/* Marks publisher c as read to the end by the broker (or dead): the drain's count. */
void bench_proto_flushed(bench_conn *c);
/* Queues DISCONNECT (normal) and flushes best effort. */
void bench_proto_disconnect(bench_conn *c);

#endif
