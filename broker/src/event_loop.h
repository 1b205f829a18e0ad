/*
 * event_loop: the I/O around broker_core: one thread, epoll, non-blocking
 * sockets, TLS listeners (see event_loop.c).
 */
#ifndef BROKER_EVENT_LOOP_H
#define BROKER_EVENT_LOOP_H

#include "broker/src/broker_core.h"
#include "net/tls.h"

typedef struct {
    int fd;                   /* listening socket, non-blocking (net_listen) */
    unsigned policy;          /* broker_conn_set_policy() of its connections */
    net_tls_ctx *tls;         /* NULL: plain TCP; else TLS (the loop does not free it) */
    uint32_t max_connections; /* 0: no limit; above it new connections are closed at once */
    bool identity;            /* pass the verified client certificate's CN to the core */
    bool websockets;          /* MQTT over WebSockets (broker_ws.h), over TCP or tls */
    uint64_t ws_max_frame;    /* largest WebSocket frame accepted; 0: MQTT's largest packet */
} broker_loop_listener;

typedef struct {
    void *ctx;
    /* SIGHUP: reload what can be reloaded (password and ACL files, log
     * files). Connections stay open. May be NULL. */
    void (*reload)(void *ctx, broker_core *core);
    /* Called when the core's journal holds bytes, before any output is
     * written to any connection: must make them durable (write + fsync)
     * and call broker_core_journal_done(), and return true; false when it
     * could not (the bytes stay in the core): no output is written to any
     * connection until a later call (retried every 100 ms) succeeds. May be
     * NULL (no persistence). */
    bool (*sync)(void *ctx, broker_core *core);
    /* Called once per iteration; returns the time (net_now_ms) it wants to
     * be called again at the latest (snapshots). May be NULL. */
    int64_t (*tick)(void *ctx, broker_core *core, int64_t now);
    /* Log lines of the loop itself (TLS handshake failures, limits). */
    void (*log)(void *ctx, broker_log_level level, const char *line);
} broker_loop_hooks;

/*
 * Serves the listeners ls[0..n) until SIGINT or SIGTERM, then shuts down
 * cleanly: every client gets DISCONNECT 0x8B (5.0) and is closed, within
 * 2 s at most. SIGHUP calls hooks->reload. Takes ownership of the
 * listening sockets (closes them). SIGINT, SIGTERM and SIGHUP must be
 * blocked by the caller (they are read through a signalfd). Returns 0, or
 * -1 with a message in err when the loop could not start.
 */
int broker_event_loop(broker_core *core, const broker_loop_listener *ls, size_t n, const broker_loop_hooks *hooks,
                      char *err, size_t errlen);

#endif
