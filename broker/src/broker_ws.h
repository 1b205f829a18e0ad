/*
 * broker_ws: mqtt-broker's WebSocket listeners (`protocol websockets`): an
 * adapter between a connection's transport (TCP or TLS, the event loop's)
 * and the sans-I/O core, on net/ws.h. The core sees the same byte stream as
 * over TCP; this adapter answers the HTTP upgrade (only the subprotocol
 * "mqtt": MQTT-6.0.0-3/-4), unframes binary frames (MQTT-6.0.0-2), answers
 * pings, and ends the connection on a text frame (MQTT-6.0.0-1) or a frame
 * over the limit (refused from its header, before any allocation).
 *
 * Back-pressure is kept: the core's output is framed only once the previous
 * frame is fully written, so at most one batch waits here.
 */
#ifndef BROKER_WS_H
#define BROKER_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/src/broker_core.h"

typedef struct broker_ws broker_ws;

/* A new adapter for an accepted connection; max_frame 0 = net/ws.h's default
 * (MQTT's largest packet). Never NULL (aborts when out of memory, as the core). */
broker_ws *broker_ws_new(uint64_t max_frame);
void broker_ws_free(broker_ws *w);

/*
 * Bytes read from the transport: the upgrade request, then frames; MQTT
 * bytes go to broker_conn_feed(bc). Returns 0; 1 when the peer sent a close
 * frame (an orderly end); or -1 when the connection must end (err says why,
 * for the log). In both last cases write broker_ws_output (our close frame,
 * or the HTTP refusal) best effort, then close.
 */
int broker_ws_input(broker_ws *w, broker_conn *bc, const uint8_t *in, size_t n, int64_t now, char *err,
                    size_t errlen);

/*
 * The next bytes to write: the adapter's own first (HTTP answer, pong, close,
 * frames already made), else the core's pending output framed as one binary
 * frame. Returns the count (0: nothing to write).
 */
size_t broker_ws_output(broker_ws *w, broker_conn *bc, const uint8_t **data, int64_t now);
/* The first n bytes of broker_ws_output were written. */
void broker_ws_output_done(broker_ws *w, size_t n);

/* The broker ends the connection: queue a close frame (1000 normal). */
void broker_ws_close(broker_ws *w, uint16_t code);

/*
 * The WebSocket frame limit of a listener: the largest packet the broker
 * accepts from a client (o->max_packet_size; else o->message_size_limit
 * plus the largest PUBLISH header; else MQTT's largest packet, 2^28 + 5).
 */
uint64_t broker_ws_frame_limit(const broker_options *o);

/*
 * After the close frame was written, before close(2): sends FIN at once
 * (plain TCP; with TLS the close_notify comes first) and discards bytes the
 * peer already sent (at most 1 MiB), so that closing the socket does not
 * answer with a reset (which unread bytes cause) that can destroy the close
 * frame in flight: the peer sees close frame, then FIN (RFC 6455 7.1.1).
 */
void broker_ws_shutdown(int fd, bool tls);

#endif
