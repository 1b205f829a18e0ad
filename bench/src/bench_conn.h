/*
 * bench_conn: one connection's buffers and byte flow inside a worker: queue
 * encoded packets, flush them without blocking, read and decode what came in
 * and hand each packet to bench_proto. A connection that fails is counted
 * (bench_error) and closed; the run goes on.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include "bench/src/bench.h"

/* Appends the encoding of *p to c's output. Returns 0, or -1 (c is dead). */
int bench_conn_send(bench_conn *c, const mqtt_packet *p);
/* Writes queued bytes until the socket would block; arms EPOLLOUT if some
 * remain. Returns 0, or -1 (c is dead). */
int bench_conn_flush(bench_conn *c);
/* Reads everything available and handles every whole packet. Returns 0, or
 * -1 (c is dead). */
int bench_conn_input(bench_conn *c);
/* Counts an error of kind k with a message, then closes c (state CS_DEAD). */
void bench_conn_fail(bench_conn *c, bench_error_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the epoll interest of c: always readable, writable when `out`. */
void bench_conn_arm(bench_conn *c, bool out);
/* Stops reading c for good (a slow subscriber after its SUBACK). */
void bench_conn_pause(bench_conn *c);
/* Releases c's buffers and transport (end of run). */
void bench_conn_close(bench_conn *c);

/* Bytes queued but not written yet. */
static inline size_t bench_conn_queued(const bench_conn *c)
{
    return c->out.len - c->out.off;
}

#endif
