/*
 * event_loop: the I/O around broker_core: one thread, epoll, non-blocking
 * sockets (see event_loop.c).
 */
#ifndef BROKER_EVENT_LOOP_H
#define BROKER_EVENT_LOOP_H

#include "broker/src/broker_core.h"

/*
 * Serves the listening sockets listen_fds[0..n) (non-blocking, from
 * net_listen) until SIGINT or SIGTERM, then shuts down cleanly: every client
 * gets DISCONNECT 0x8B (5.0) and is closed, within 2 s at most. Takes
 * ownership of the listening sockets (closes them). SIGINT/SIGTERM must be
 * blocked by the caller (they are read through a signalfd). Returns 0, or
 * -1 with a message in err when the loop could not start.
 */
int broker_event_loop(broker_core *core, const int *listen_fds, size_t n, char *err, size_t errlen);

#endif
