/*
 * The engine's WebSocket transport (engine_ws.c): MQTT over WebSockets
 * (MQTT 5.0 section 6, 3.1.1 section 6) under the engine's byte streams.
 * Included by engine_int.h only; everything above it sees MQTT bytes.
 *
 * A client with cfg->ws_path goes TCP (CS_CONNECTING), then TLS (CS_TLS)
 * when configured, then the HTTP upgrade (CS_WS), then CS_OPEN. Queued MQTT
 * bytes (c->wbuf) become one binary frame per flush; received frames are
 * unmasked and joined into the receive buffer (engine_recv.c).
 */
#ifndef CONF_ENGINE_WS_H
#define CONF_ENGINE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/tls.h"

struct eng_ws;

/* The transport below MQTT is up (TCP, and TLS when configured): start the
 * WebSocket upgrade when cfg->ws_path, else the client is CS_OPEN and its
 * queued bytes go out. */
void eng_transport_ready(engine *e, conf_run *r, client *c, int ci, int64_t now);
/* CS_WS: one step of the upgrade (send the request, read the answer). */
void eng_ws_step(engine *e, conf_run *r, client *c, int ci, int64_t now);
/* CS_OPEN over WebSockets: frames c->wbuf and writes what is queued. */
void eng_ws_flush(conf_run *r, client *c, int ci, int64_t now);
/* Whether frames wait for the socket (poll for POLLOUT). */
bool eng_ws_wants_write(const client *c);

/* Reading: eng_ws_pull reads once from the transport and feeds the frames;
 * eng_ws_take moves MQTT bytes out. Pull returns WSP_MORE (bytes came),
 * WSP_LATER (nothing now), WSP_CLOSED (close frame or EOF), WSP_RESET, or
 * WSP_BAD (a frame MQTT-6.0.0-1 or RFC 6455 forbids); why says which. */
enum { WSP_MORE = 1, WSP_LATER = 0, WSP_CLOSED = -1, WSP_RESET = -2, WSP_BAD = -3 };
int eng_ws_pull(client *c, char *why, size_t cap);
size_t eng_ws_take(client *c, uint8_t *buf, size_t cap);

/* A close frame (1000, normal closure) after a scenario's DISCONNECT, best effort. */
void eng_ws_goodbye(client *c);
/* Frees the WebSocket state (eng_client_close). */
void eng_ws_free(client *c);

/* Queues bytes for the transport as they are (hand-made frames), after
 * what is already queued. Returns 0, or -1 when not over WebSockets or
 * out of memory. */
int eng_ws_queue_raw(conf_run *r, client *c, int ci, const uint8_t *b, size_t n, int64_t now);

/* `send frame`: the frame of step st around payload[0..n), queued after
 * what is queued. Returns 0, or -1 (the run finished with an error when the
 * client is not connected over WebSockets; c->state CS_CLOSED when the
 * connection ended). */
int eng_ws_send_frame(conf_run *r, const conf_step *st, client *c, int ci, const uint8_t *payload, size_t n,
                      int64_t now);
/* Runs of scenarios that need WebSockets become `skip` when the run is not
 * over WebSockets (cfg->ws_path NULL), saying so. */
void eng_ws_skip_runs(const conf_engine_cfg *cfg, conf_run *runs, size_t n);

/* The probes' blocking I/O over TCP, TLS and WebSockets (probe.c, caps.c). */
typedef struct {
    int fd;
    net_tls *tls;
    struct net_ws *ws;
    const conf_transport *tp; /* the in-process broker's (engine.h), NULL: sockets */
} conf_bconn;
/* Connects to cfg's broker (TCP, TLS, upgrade). Returns 0, or -1 with why
 * ("TLS: ...", "WebSocket upgrade: ..."); *stage says how far it got
 * (0 TCP failed, 1 TLS failed, 2 upgrade failed). */
int conf_bconn_open(conf_bconn *b, const conf_engine_cfg *cfg, int timeout_ms, int *stage, char *why, size_t cap);
ssize_t conf_bconn_send(conf_bconn *b, const void *buf, size_t n, int timeout_ms);
/* Returns the count, 0 closed, -1 error, NET_TIMEOUT. */
ssize_t conf_bconn_recv(conf_bconn *b, void *buf, size_t cap, int timeout_ms);
void conf_bconn_close(conf_bconn *b);

#endif
