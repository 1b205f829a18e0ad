/*
 * fz_ws_frames: the WebSocket frame-level mutations of mqtt-fuzz (see
 * fz_ws_frames.h). Frames are written by hand (RFC 6455 section 5.2: FIN,
 * opcode, the mask bit and a 4-byte masking key, as a client must), after
 * anything the framing context still holds for the socket (a pong).
 */
#include "fuzz/live/src/fz_ws_frames.h"

#include "fuzz/live/src/fz_session.h"
#include "net/net.h"

#include <string.h>

enum { OP_CONT = 0x0, OP_BINARY = 0x2, OP_PING = 0x9 };

/* One masked client frame of p[0..n) at out; returns its size. */
static size_t frame(uint8_t *out, uint8_t op, bool fin, const uint8_t *p, size_t n)
{
    static const uint8_t mask[4] = {0x3c, 0xa5, 0x5a, 0xc3};
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else {
        out[h++] = 0x80 | 126; /* steps are at most FZ_MAX_STEP_BYTES: 16-bit lengths suffice */
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++) out[h + i] = p[i] ^ mask[i & 3];
    return h + n;
}

fz_ws_shape fz_ws_shape_of(const uint8_t *b, size_t n, size_t offset)
{
    uint64_t h = 1469598103934665603ull ^ offset;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    uint32_t roll = (uint32_t)(h >> 40) % 16;
    if (n < 2 && (roll == FZ_WS_FRAGMENTS || roll == FZ_WS_FRAGMENTS_PING)) return FZ_WS_PING_FIRST;
    return roll < FZ_WS_NSHAPES ? (fz_ws_shape)roll : FZ_WS_ONE_FRAME;
}

ssize_t fz_ws_send(net_ws *w, int fd, const uint8_t *b, size_t n, size_t offset, int timeout_ms)
{
    static uint8_t buf[FZ_MAX_STEP_BYTES + 128];
    fz_ws_shape shape = fz_ws_shape_of(b, n, offset);
    if (shape == FZ_WS_ONE_FRAME || n > FZ_MAX_STEP_BYTES) return net_ws_send_all(w, fd, NULL, b, n, timeout_ms);
    size_t pending, len = 0;
    const uint8_t *out = net_ws_out(w, &pending);
    if (pending && net_send_all(fd, out, pending, timeout_ms) != (ssize_t)pending) return -1;
    net_ws_out_done(w, pending);
    size_t cut1 = n / 3 ? n / 3 : 1, cut2 = cut1 + (n - cut1) / 2;
    if (shape == FZ_WS_PING_FIRST) len += frame(buf, OP_PING, true, (const uint8_t *)"fz", 2);
    if (shape == FZ_WS_EMPTY_FIRST) len += frame(buf, OP_BINARY, true, NULL, 0);
    if (shape == FZ_WS_PING_FIRST || shape == FZ_WS_EMPTY_FIRST) {
        len += frame(buf + len, OP_BINARY, true, b, n);
    } else { /* one message in three fragments; with a ping between the first two */
        len += frame(buf + len, OP_BINARY, false, b, cut1);
        if (shape == FZ_WS_FRAGMENTS_PING) len += frame(buf + len, OP_PING, true, (const uint8_t *)"fz", 2);
        len += frame(buf + len, OP_CONT, false, b + cut1, cut2 - cut1);
        len += frame(buf + len, OP_CONT, true, b + cut2, n - cut2);
    }
    return net_send_all(fd, buf, len, timeout_ms) == (ssize_t)len ? (ssize_t)n : -1;
}
