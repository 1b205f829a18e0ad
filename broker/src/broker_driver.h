/*
 * broker_driver: the broker core (broker_core.h) served in-process, over
 * stream sockets it creates (socketpair), on a clock the caller owns.
 *
 * This is the project's one in-process driver of the reference broker: it
 * does what the epoll loop (event_loop.c) does for plain TCP connections
 * (feed what a peer sent while the core wants to read, write what the core
 * queued, close what the core or the peer ended, run the timers), but it
 * never blocks and never reads a clock: every call takes `now`. A caller
 * with a virtual clock (mqtt-conform --inproc) pumps it until nothing moves,
 * then jumps its clock to broker_driver_next_deadline() or its own next
 * deadline, whichever comes first, instead of sleeping.
 *
 * The configuration is the text of an mqtt-broker configuration file
 * (broker_config.h), so an in-process broker runs with exactly the options
 * and security settings the program would (listener 0's policy; files it
 * names, such as password files, are not loaded: the driver serves the core
 * only).
 *
 * Single-threaded, like the core. Connection fds are owned by the driver.
 */
#ifndef BROKER_DRIVER_H
#define BROKER_DRIVER_H

#include "broker/src/broker_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_driver broker_driver;

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

/* The core, for inspection (stats, connection count). */
broker_core *broker_driver_core(broker_driver *d);

/*
 * A new client connection: a connected, non-blocking, close-on-exec stream
 * socket whose other end the broker serves (`peer` names it in log lines).
 * Returns the fd (the caller closes it: the broker sees the peer go away), or
 * -1 with errno set.
 */
int broker_driver_connect(broker_driver *d, const char *peer, int64_t now);

/*
 * Moves every byte that can move at `now` without blocking: runs the timers
 * due, reads what peers sent (while the core wants to read) and feeds it,
 * writes what the core queued, and closes connections the core or the peer
 * ended. Returns true when anything moved: call it again until it returns
 * false, then the broker waits for its peers or broker_driver_next_deadline().
 */
bool broker_driver_pump(broker_driver *d, int64_t now);

/* When the core next has timer work (broker_core_next_deadline). */
int64_t broker_driver_next_deadline(const broker_driver *d);

/* Open connections the driver serves. */
size_t broker_driver_conn_count(const broker_driver *d);

#endif
