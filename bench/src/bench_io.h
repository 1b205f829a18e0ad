/*
 * bench_io: the byte transport of one bench connection, non-blocking and
 * driven by the worker's epoll loop.
 *
 * Connecting never blocks: bench_io_start opens the socket (bound to a
 * --source-ip / --local-ports choice if asked) and starts the connect;
 * the worker waits for EPOLLOUT, then bench_io_finish_connect reads the
 * outcome. TCP bytes go through read/write; TLS through net/tls.h's
 * non-blocking calls, with the same context for every connection. A
 * WebSocket transport from net/ adds one more case to bench_io_read /
 * bench_io_write; the upgrade is bench_io_ws_start / bench_io_ws_answer.
 */
#ifndef BENCH_IO_H
#define BENCH_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "bench/src/bench.h"

/* Results of read / write / handshake besides byte counts. */
#define BIO_AGAIN (-3)   /* would block: wait for the socket */
#define BIO_CLOSED (-4)  /* the peer closed (read) */
#define BIO_AGAIN_WRITE (-5) /* handshake: wait until writable */
#define BIO_ERROR (-1)

/* Resolves the broker address once into r->addr. Returns 0 or -1 with err. */
int bench_io_resolve(bench_run *r, char *err, size_t errlen);

/* Starts a non-blocking connect for c. Returns 0 (in progress or done), or
 * -1 with err filled. */
int bench_io_start(bench_conn *c, char *err, size_t errlen);

/* After EPOLLOUT on a connecting socket: 0 connected, -1 failed (err). */
int bench_io_finish_connect(bench_conn *c, char *err, size_t errlen);

/* TLS handshake step: 0 done, BIO_AGAIN (wait readable), BIO_AGAIN_WRITE,
 * or -1 with err. TCP: always 0. */
int bench_io_handshake(bench_conn *c, char *err, size_t errlen);

/* Bytes: count > 0, BIO_AGAIN, BIO_CLOSED (read), or BIO_ERROR (err filled).
 * *kernel_ns (read) is when the kernel received the last of these bytes
 * (SO_TIMESTAMPNS, CLOCK_REALTIME ns), or 0 when unknown (TLS). */
ssize_t bench_io_read(bench_conn *c, void *buf, size_t cap, int64_t *kernel_ns, char *err, size_t errlen);
ssize_t bench_io_write(bench_conn *c, const void *buf, size_t len, char *err, size_t errlen);

/* Bytes already decrypted / unframed and waiting (read them before epoll_wait). */
size_t bench_io_pending(const bench_conn *c);
/* WebSocket frame bytes waiting for the socket (write again on EPOLLOUT;
 * bench_io_write(c, NULL, 0) pushes them). */
size_t bench_io_out_pending(const bench_conn *c);

/* WebSocket upgrade: sends the request (0, or -1 with err), then reads the
 * answer into in: 0 done (c->ws set, frames after it fed), BIO_AGAIN, or -1. */
int bench_io_ws_start(bench_conn *c, char *err, size_t errlen);
int bench_io_ws_answer(bench_conn *c, bench_buf *in, char *err, size_t errlen);

/* Software TX timestamps of a publisher's writes (SO_TIMESTAMPING, plain
 * TCP): bench_io_tx_on once connected; bench_io_tx_sent after each write of
 * n bytes begun at t_before; bench_io_tx_drain on EPOLLERR reads the
 * kernel's send times and records (send time - t_before) in the worker's
 * to_wire histogram: what the publisher's own write() adds to a latency. */
void bench_io_tx_on(bench_conn *c);
void bench_io_tx_sent(bench_conn *c, size_t n, int64_t t_before);
void bench_io_tx_drain(bench_conn *c);

/* Closes the transport (TLS close_notify best effort) and the socket. */
void bench_io_close(bench_conn *c);

#endif
