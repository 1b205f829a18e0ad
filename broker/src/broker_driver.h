/*
 * broker_driver: the broker core (broker_core.h) served in-process, over
 * the caller's transports (memory buffers) or socket pairs it creates, on a
 * clock the caller owns.
 *
 * This is the project's one in-process driver of the reference broker
 * (mqtt-conform --inproc over socket pairs, fuzz/fuzz_broker.c over memory
 * buffers): it does what the epoll loop (event_loop.c) does for plain TCP connections
 * (feed what a peer sent while the core wants to read, write what the core
 * queued, close what the core or the peer ended, run the timers), but it
 * never blocks and never reads a clock: every call takes `now`. A caller
 * with a virtual clock (mqtt-conform --inproc) pumps it until nothing moves,
 * then jumps its clock to broker_driver_next_deadline() or its own next
 * deadline, whichever comes first, instead of sleeping.
 *
 * broker_driver_new (broker_driver_config.c, which links broker_config.c)
 * takes the text of an mqtt-broker configuration file, so an in-process
 * broker runs with exactly the options
 * and security settings the program would (listener 0's policy; files it
 * names, such as password files, are not loaded: the driver serves the core
 * only).
 *
 * Single-threaded, like the core. Socket pair ends it serves are its own.
 */
#ifndef BROKER_DRIVER_H
#define BROKER_DRIVER_H

#include "broker/src/broker_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_driver broker_driver;

/*
 * A connection's transport, as the driver sees it (ctx is the caller's):
 * recv: up to cap bytes the peer sent: the count, 0 when nothing is there
 *       now, -1 when the peer is gone (EOF, reset). Called only while the
 *       core wants to read (a throttled connection's bytes wait in it).
 * send: offers n > 0 bytes for the peer: the count taken (0: none now, it
 *       is full or not reading), -1 when the peer is gone.
 * gone: optional, for a connection that is not read (throttled): true when
 *       the peer is gone all the same (event_loop.c closes it on EPOLLHUP).
 * closed: the driver closed the connection (the core or the peer ended it,
 *       broker_driver_drop, or broker_driver_free); by_broker: the core had
 *       decided it and its output was all taken. Last call for ctx.
 */
typedef struct {
    long (*recv)(void *ctx, uint8_t *buf, size_t cap);
    long (*send)(void *ctx, const uint8_t *p, size_t n);
    bool (*gone)(void *ctx);
    void (*closed)(void *ctx, bool by_broker);
} broker_driver_io;

/* A driver over a core with these options (copied) and every policy at
 * its default; set policies with broker_core_set_policy(broker_driver_core()). */
broker_driver *broker_driver_new_core(const broker_options *opts, int64_t now);

/*
 * A core configured from `config` (mqtt-broker configuration text, `name`
 * in error messages), its log lines to `log` (may be NULL). Returns NULL
 * with "NAME:LINE: why" in err for a configuration the program would refuse,
 * or one that needs files (password_file, acl_file, persistence).
 */
broker_driver *broker_driver_new(const char *config, const char *name, broker_log_fn log, void *log_ctx,
                                 int64_t now, char *err, size_t errlen);

/* Closes every connection (as the peer going away) and frees the core. */
void broker_driver_free(broker_driver *d, int64_t now);

/* The core, for inspection and policies. */
broker_core *broker_driver_core(broker_driver *d);

/*
 * Persistence: sync(ctx) is called before any output is offered to a peer,
 * so the caller writes broker_core_journal() first (broker_core.h). NULL: none.
 */
void broker_driver_set_sync(broker_driver *d, void (*sync)(void *ctx), void *ctx);

/* A new connection over the caller's transport (io stays valid while it is
 * open). `peer` names it in log lines. Returns the core's connection. */
broker_conn *broker_driver_open(broker_driver *d, const char *peer, const broker_driver_io *io, void *ctx,
                                int64_t now);

/* The transport of c is gone (the caller's decision, e.g. a dropped
 * network): an abnormal disconnection unless the core had decided it
 * (the Will, MQTT-3.1.2-8). io->closed is called (by_broker false). */
void broker_driver_drop(broker_driver *d, broker_conn *c, int64_t now);

/*
 * A new client connection over a socket pair: returns the client's end (a
 * connected, non-blocking, close-on-exec stream socket; the caller closes
 * it, and the broker sees the peer go away), or -1 with errno set. The
 * driver serves the other end. `peer` names it in log lines.
 */
int broker_driver_connect(broker_driver *d, const char *peer, int64_t now);

/*
 * Moves everything that can move at `now` without blocking: runs the timers
 * due, reads what peers sent (while the core wants to read) and feeds it,
 * offers what the core queued, and closes connections the core or the peer
 * ended. Returns true when anything moved: call it again until it returns
 * false, then the broker waits for its peers or broker_driver_next_deadline().
 */
bool broker_driver_pump(broker_driver *d, int64_t now);

/* When the core next has timer work (broker_core_next_deadline). */
int64_t broker_driver_next_deadline(const broker_driver *d);

/* Open connections the driver serves. */
size_t broker_driver_conn_count(const broker_driver *d);

#endif
