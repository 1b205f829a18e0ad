/*
 * fz_ws_frames: frame-level mutations over WebSocket. Besides the session
 * mutations that split a packet over two steps or put several packets in
 * one (one binary frame per step: a packet across frames, several packets
 * in a frame, MQTT-6.0.0-2), about one step in four is sent in another
 * shape RFC 6455 allows and a broker must reassemble: one message in three
 * fragments (binary, continuation, continuation), the same with a ping
 * between fragments (section 5.4: control frames may be interleaved), a ping
 * first, or an empty binary frame first. The shape is a pure function of the
 * step's bytes and the connection's stream offset, so a session replays the
 * same frames (the seed still decides everything).
 */
#ifndef FZ_WS_FRAMES_H
#define FZ_WS_FRAMES_H

#include "net/ws.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    FZ_WS_FRAGMENTS = 0,      /* binary FIN=0, continuation FIN=0, continuation FIN=1 */
    FZ_WS_FRAGMENTS_PING,     /* the same, a ping after the first fragment */
    FZ_WS_PING_FIRST,         /* a ping, then the binary frame */
    FZ_WS_EMPTY_FIRST,        /* an empty binary frame, then the binary frame */
    FZ_WS_NSHAPES,
    FZ_WS_ONE_FRAME = FZ_WS_NSHAPES /* one binary frame (net_ws_send_all) */
} fz_ws_shape;

/* The shape of a step of n bytes sent at stream offset `offset`. */
fz_ws_shape fz_ws_shape_of(const uint8_t *b, size_t n, size_t offset);

/* Sends b[0..n) over w on fd in its shape. Returns n, or -1 (errno from the socket). */
ssize_t fz_ws_send(net_ws *w, int fd, const uint8_t *b, size_t n, size_t offset, int timeout_ms);

#endif
