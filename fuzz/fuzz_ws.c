/*
 * Fuzz harness `ws`: the WebSocket layer of net/ (net/ws.h), both sides.
 *
 * Input: a flags byte (bit 0: server side; bits 1-3: piece size - 1 for the
 * second feeding), then the bytes a peer sends. They are first given to the
 * upgrade parser of that side (request or response), which must not crash
 * and must answer within its bounds; then, from the header's end (or from
 * the start when there is no valid header), to two framing contexts: one
 * fed everything at once, one fed in pieces. Both must agree (MQTT-6.0.0-2:
 * where frames and segments fall must not change the stream): the same MQTT
 * bytes, the same outcome (open / closed / error) and close code sent. The
 * stream is never longer than the input, and the frame limit (4096 here)
 * means no frame larger than that is ever accepted.
 */
#include "fuzz/fuzz_util.h"

#include <string.h>

#include "net/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 4096

typedef struct {
    uint8_t stream[1 << 16];
    size_t len;
    int last;     /* last net_ws_feed result */
} side_t;

static void drain(net_ws *w, side_t *s)
{
    size_t n;
    while ((n = net_ws_read(w, s->stream + s->len, sizeof s->stream - s->len)) > 0) s->len += n;
    net_ws_out(w, &n);
    net_ws_out_done(w, n); /* pongs and close frames: consumed as a transport would */
}

static void feed(net_ws *w, side_t *s, const uint8_t *p, size_t n, size_t piece)
{
    char err[256];
    for (size_t off = 0; off < n;) {
        size_t k = piece && piece < n - off ? piece : n - off;
        s->last = net_ws_feed(w, p + off, k, err, sizeof err);
        drain(w, s);
        off += k;
        if (s->last != 0) break; /* further bytes are ignored: checked below */
    }
}

/* The upgrade parser of this side; returns where frames start. */
static size_t upgrade(bool server, const uint8_t *p, size_t n)
{
    char err[256];
    if (server) {
        char resp[1024];
        size_t rl = 0;
        ssize_t end = net_ws_parse_request(p, n, resp, sizeof resp, &rl, err, sizeof err);
        FZ_ASSERT(rl < sizeof resp, "answer of %zu bytes overflows", rl);
        FZ_ASSERT(end <= (ssize_t)n, "header end %zd past the input %zu", end, n);
        return end > 0 ? (size_t)end : 0;
    }
    ssize_t end = net_ws_parse_response(p, n, "dGhlIHNhbXBsZSBub25jZQ==", err, sizeof err);
    FZ_ASSERT(end <= (ssize_t)n, "header end %zd past the input %zu", end, n);
    return end > 0 ? (size_t)end : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 60000) return 0;
    bool server = data[0] & 1;
    size_t piece = ((data[0] >> 1) & 7) + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t start = upgrade(server, p, n);
    p += start;
    n -= start;

    static side_t whole, pieces;
    memset(&whole, 0, sizeof whole);
    memset(&pieces, 0, sizeof pieces);
    char err[256];
    net_ws_side side = server ? NET_WS_SERVER : NET_WS_CLIENT;
    net_ws *a = net_ws_new(side, MAX_FRAME, err, sizeof err);
    net_ws *b = net_ws_new(side, MAX_FRAME, err, sizeof err);
    if (!a || !b) {
        net_ws_free(a);
        net_ws_free(b);
        return 0;
    }
    feed(a, &whole, p, n, 0);
    feed(b, &pieces, p, n, piece);
    FZ_ASSERT(whole.len <= n, "stream of %zu bytes from %zu bytes of input", whole.len, n);
    FZ_ASSERT(whole.len == pieces.len, "stream: %zu bytes whole, %zu in pieces of %zu", whole.len, pieces.len,
              piece);
    FZ_ASSERT(memcmp(whole.stream, pieces.stream, whole.len) == 0, "streams differ (pieces of %zu)", piece);
    FZ_ASSERT(whole.last == pieces.last, "outcome %d whole, %d in pieces of %zu", whole.last, pieces.last, piece);
    FZ_ASSERT(net_ws_ended(a) == net_ws_ended(b), "ended differs");
    FZ_ASSERT(net_ws_code_sent(a) == net_ws_code_sent(b), "close %u whole, %u in pieces", net_ws_code_sent(a),
              net_ws_code_sent(b));
    net_ws_free(a);
    net_ws_free(b);
    return 0;
}
