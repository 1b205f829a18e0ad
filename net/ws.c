/*
 * ws: WebSocket framing for MQTT, sans-I/O, on libwslay's event API (see
 * ws.h for the contract and the MQTT-6.0.0-x statements).
 *
 * wslay pulls input through recv_cb and pushes output through send_cb; here
 * recv_cb reads the bytes given to net_ws_feed (WOULDBLOCK when they are used
 * up) and send_cb appends to an output buffer, so wslay never touches a
 * socket. Buffering is off: binary payload chunks go straight into the
 * stream buffer (MQTT-6.0.0-2: frame boundaries mean nothing to MQTT), and
 * wslay checks each frame's declared length against max_frame from the
 * header, before any payload is read or anything allocated.
 *
 * Invariants: after the connection ended (close received, sent, or an error)
 * net_ws_feed ignores input; the stream buffer holds only binary payload.
 */
#include "net/ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <wslay/wslay.h>

/* A growable byte buffer: data[off..len) is unread. */
typedef struct {
    uint8_t *data;
    size_t off, len, cap;
} buf_t;

struct net_ws {
    wslay_event_context_ptr ctx;
    net_ws_side side;
    const uint8_t *in; /* net_ws_feed's bytes, consumed by recv_cb */
    size_t in_len;
    buf_t stream;      /* MQTT bytes from binary frames */
    buf_t out;         /* bytes for the transport */
    bool frame_binary; /* the frame being received carries MQTT bytes */
    bool msg_binary;   /* the data message being received is binary */
    bool text;         /* a text frame arrived (MQTT-6.0.0-1) */
    bool nomem;
    bool ended;
    uint64_t max_frame;
    /* Our own look at frame headers, so that a declared length is judged
     * when the header is complete, not when payload starts to arrive. */
    uint8_t hdr[14];
    size_t hdr_have;
    uint64_t skip; /* payload bytes of the current frame still to pass */
    bool frag_open; /* a fragmented data message awaits its continuations */
    bool in_ctl;    /* the frame being scanned is a control frame */
    /* A control frame (at most 2 + 4 + 125 bytes) reaches wslay whole: wslay
     * checks a close frame's reason chunk by chunk, so how it was cut would
     * change the outcome. Its bytes wait here until it is complete. */
    uint8_t held[160];
    size_t held_len;
};

static int buf_append(buf_t *b, const uint8_t *p, size_t n)
{
    if (n == 0) return 0; /* empty frames: the buffer may not exist yet */
    if (b->off && b->off == b->len) b->off = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->off) { /* reuse the consumed front before growing */
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n) cap *= 2;
            uint8_t *d = realloc(b->data, cap);
            if (!d) return -1;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    net_ws *w = user;
    /* After a text frame nothing more is read: the connection is closing. */
    if (w->in_len == 0 || w->text || w->nomem) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->in_len ? len : w->in_len;
    memcpy(buf, w->in, n);
    w->in += n;
    w->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)flags;
    net_ws *w = user;
    if (buf_append(&w->out, data, len)) {
        w->nomem = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* RFC 6455 5.3: a client's masking key comes from a strong source of
 * entropy, so that a script cannot choose the bytes proxies see. */
static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)user;
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void frame_start_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *arg,
                           void *user)
{
    net_ws *w = user;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        /* Nothing after it is read, even what wslay already holds, so the
         * outcome does not depend on how the bytes arrived. */
        w->text = true;
        wslay_event_shutdown_read(ctx);
    }
    if (arg->opcode == WSLAY_BINARY_FRAME) w->msg_binary = true;
    /* A continuation belongs to the data message it continues; control
     * frames (ping, pong, close) may come between its fragments. */
    w->frame_binary = arg->opcode == WSLAY_BINARY_FRAME || (arg->opcode == WSLAY_CONTINUATION_FRAME && w->msg_binary);
}

static void frame_chunk_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_chunk_arg *arg,
                           void *user)
{
    net_ws *w = user;
    if (!w->frame_binary || w->text || w->nomem) return;
    if (buf_append(&w->stream, arg->data, arg->data_length)) {
        w->nomem = true;
        wslay_event_set_error(ctx, WSLAY_ERR_NOMEM);
    }
}

net_ws *net_ws_new(net_ws_side side, uint64_t max_frame, char *err, size_t errlen)
{
    net_ws *w = calloc(1, sizeof *w);
    if (!w) goto nomem;
    w->side = side;
    struct wslay_event_callbacks cb = {.recv_callback = recv_cb,
                                       .send_callback = send_cb,
                                       .genmask_callback = genmask_cb,
                                       .on_frame_recv_start_callback = frame_start_cb,
                                       .on_frame_recv_chunk_callback = frame_chunk_cb};
    int rc = side == NET_WS_SERVER ? wslay_event_context_server_init(&w->ctx, &cb, w)
                                   : wslay_event_context_client_init(&w->ctx, &cb, w);
    if (rc != 0) goto nomem;
    w->max_frame = max_frame ? max_frame : NET_WS_MAX_FRAME_DEFAULT;
    wslay_event_config_set_no_buffering(w->ctx, 1);
    /* Without buffering wslay checks every frame's length against this. */
    wslay_event_config_set_max_recv_msg_length(w->ctx, max_frame ? max_frame : NET_WS_MAX_FRAME_DEFAULT);
    return w;
nomem:
    free(w);
    snprintf(err, errlen, "WebSocket: out of memory");
    return NULL;
}

void net_ws_free(net_ws *w)
{
    if (!w) return;
    if (w->ctx) wslay_event_context_free(w->ctx);
    free(w->stream.data);
    free(w->out.data);
    free(w);
}

/* Moves what wslay queued (data, pong, close) into the output buffer. */
static int pump_out(net_ws *w)
{
    if (wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0) return -1;
    return w->nomem ? -1 : 0;
}

static const char *close_reason(uint16_t code)
{
    switch (code) {
    case WSLAY_CODE_PROTOCOL_ERROR: return "a frame breaks RFC 6455 (close 1002)";
    case WSLAY_CODE_MESSAGE_TOO_BIG: return "a frame is longer than the limit (close 1009)";
    case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA: return "invalid frame payload (close 1007)";
    default: return "the connection was closed";
    }
}

/* Header length once its first two bytes are known (RFC 6455 5.2). */
static size_t header_len(const uint8_t *h)
{
    size_t n = 2 + ((h[1] & 0x7f) == 126 ? 2 : (h[1] & 0x7f) == 127 ? 8 : 0);
    return n + ((h[1] & 0x80) ? 4 : 0);
}

/* The header's length bytes end here (before the mask key). */
static size_t length_end(const uint8_t *h)
{
    return header_len(h) - ((h[1] & 0x80) ? 4 : 0);
}

/*
 * RFC 6455 5.2-5.5 rules on the first two bytes of a header: 0 when
 * acceptable, else the close code (why filled). wslay checks these too, but
 * at points that depend on how the bytes were cut; judged here from the
 * header, the outcome never does.
 */
static uint16_t first_bytes_error(net_ws *w, char *why, size_t whylen)
{
    uint8_t op = w->hdr[0] & 0x0f, fin = w->hdr[0] & 0x80;
    bool masked = (w->hdr[1] & 0x80) != 0;
    const char *bad = NULL;
    if (w->hdr[0] & 0x70) bad = "reserved bits set (no extension was negotiated)";
    else if ((op > 2 && op < 8) || op > 10) bad = "a reserved opcode";
    else if (masked != (w->side == NET_WS_SERVER)) bad = masked ? "a masked server frame" : "an unmasked client frame";
    else if (op >= 8 && (!fin || (w->hdr[1] & 0x7f) > 125)) bad = "a fragmented or long control frame";
    else if (op == 0 && !w->frag_open) bad = "a continuation frame with no message to continue";
    else if ((op == 1 || op == 2) && w->frag_open) bad = "a new message inside a fragmented one";
    if (!bad && op == 1) {
        /* MQTT-6.0.0-1 (MUST): binary frames only; the receiver closes. */
        snprintf(why, whylen, "text frame received; MQTT-6.0.0-1 allows binary frames only (close 1003)");
        return WSLAY_CODE_UNSUPPORTED_DATA;
    }
    if (!bad) return 0;
    snprintf(why, whylen, "%s, which RFC 6455 5.2 forbids (close 1002)", bad);
    return WSLAY_CODE_PROTOCOL_ERROR;
}

/* The declared length, once its bytes are in: its form and the limits. */
static uint16_t length_error(net_ws *w, uint64_t len, char *why, size_t whylen)
{
    size_t enc = w->hdr[1] & 0x7f;
    if ((enc == 126 && len < 126) || (enc == 127 && len < 65536) || len >> 63) {
        snprintf(why, whylen, "%s, which RFC 6455 5.2 forbids (close 1002)",
                 len >> 63 ? "a length of 2^63 or more" : "a length not in its shortest form");
        return WSLAY_CODE_PROTOCOL_ERROR;
    }
    if (len > w->max_frame) {
        snprintf(why, whylen, "a frame of %llu bytes is over the limit of %llu (close 1009)", (unsigned long long)len,
                 (unsigned long long)w->max_frame);
        return WSLAY_CODE_MESSAGE_TOO_BIG;
    }
    return 0;
}

static uint64_t declared_length(const uint8_t *h)
{
    uint64_t len = h[1] & 0x7f;
    if (len == 126) return (uint64_t)h[2] << 8 | h[3];
    if (len == 127) {
        len = 0;
        for (int k = 0; k < 8; k++) len = len << 8 | h[2 + k];
    }
    return len;
}

/*
 * Follows frame boundaries in p[0..n). Returns n when every header seen is
 * acceptable, else the offset where the refused frame's header began in p
 * (0 if it began in an earlier feed), with *code and why set.
 */
static size_t scan_headers(net_ws *w, const uint8_t *p, size_t n, uint16_t *code, char *why, size_t whylen,
                           size_t *hold)
{
    size_t i = 0, began = 0;
    *hold = n;
    while (i < n) {
        if (w->skip) {
            uint64_t take = n - i < w->skip ? n - i : w->skip;
            w->skip -= take;
            i += (size_t)take;
            if (!w->skip) w->in_ctl = false;
            continue;
        }
        if (w->hdr_have == 0) began = i, w->in_ctl = (p[i] & 0x0f) >= 8;
        w->hdr[w->hdr_have++] = p[i++];
        if (w->hdr_have == 2 && (*code = first_bytes_error(w, why, whylen))) return began;
        if (w->hdr_have < 2 || w->hdr_have < length_end(w->hdr)) continue;
        uint64_t len = declared_length(w->hdr);
        if ((*code = length_error(w, len, why, whylen))) return began;
        if (!w->in_ctl) w->frag_open = !(w->hdr[0] & 0x80);
        /* Accepted: the mask key (if any) and the payload pass through. */
        w->skip = len + (header_len(w->hdr) - w->hdr_have);
        w->hdr_have = 0;
        if (!w->skip) w->in_ctl = false;
    }
    if (w->in_ctl) {
        /* An incomplete control frame (it began in this call: an earlier one
         * would have held it): held, and scanned again from its start. */
        *hold = began;
        w->hdr_have = 0;
        w->skip = 0;
        w->in_ctl = false;
    }
    return n;
}

/* After wslay_event_recv: works out whether and why the connection ends. */
static int feed_outcome(net_ws *w, int rc, char *err, size_t errlen)
{
    if (w->text) {
        w->ended = true;
        net_ws_close(w, WSLAY_CODE_UNSUPPORTED_DATA, "MQTT-6.0.0-1: binary frames only");
        snprintf(err, errlen, "WebSocket: text frame received; MQTT-6.0.0-1 allows binary frames only");
        return -1;
    }
    if (rc != 0 || w->nomem) {
        w->ended = true;
        snprintf(err, errlen, "WebSocket: %s", w->nomem || rc == WSLAY_ERR_NOMEM ? "out of memory" : "framing failed");
        return -1;
    }
    if (wslay_event_get_read_enabled(w->ctx)) return 0;
    w->ended = true;
    pump_out(w);
    if (wslay_event_get_close_received(w->ctx)) return NET_WS_CLOSED;
    snprintf(err, errlen, "WebSocket: %s", close_reason(wslay_event_get_status_code_sent(w->ctx)));
    return -1;
}

/* Feeds p[0..n) whose start is a frame boundary or continues the previous
 * call's bytes; a trailing incomplete control frame is held back. */
static int feed_part(net_ws *w, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    uint16_t code = 0;
    char why[160];
    size_t hold;
    size_t ok = scan_headers(w, p, n, &code, why, sizeof why, &hold);
    if (!code && hold < n) {
        memcpy(w->held, p + hold, n - hold);
        w->held_len = n - hold;
        ok = hold;
    }
    w->in = p;
    w->in_len = ok;
    int rc = wslay_event_recv(w->ctx);
    w->in = NULL;
    w->in_len = 0;
    int out = feed_outcome(w, rc, err, errlen);
    if (out == 0 && code) {
        net_ws_close(w, code, code == WSLAY_CODE_MESSAGE_TOO_BIG ? "frame too long"
                              : code == WSLAY_CODE_UNSUPPORTED_DATA ? "MQTT-6.0.0-1: binary frames only"
                                                                      : "bad frame");
        snprintf(err, errlen, "WebSocket: %s", why);
        return -1;
    }
    if (pump_out(w) != 0 && out == 0) {
        w->ended = true;
        snprintf(err, errlen, "WebSocket: out of memory");
        return -1;
    }
    return out;
}

int net_ws_feed(net_ws *w, const void *in, size_t len, char *err, size_t errlen)
{
    if (w->ended) return wslay_event_get_close_received(w->ctx) && !w->text ? NET_WS_CLOSED : -1;
    const uint8_t *p = in;
    /* First complete what is held (a control frame fits in w->held). */
    while (w->held_len && len) {
        uint8_t tmp[sizeof w->held];
        size_t k = len < sizeof tmp - w->held_len ? len : sizeof tmp - w->held_len;
        memcpy(tmp, w->held, w->held_len);
        memcpy(tmp + w->held_len, p, k);
        size_t n = w->held_len + k;
        w->held_len = 0;
        p += k;
        len -= k;
        int rc = feed_part(w, tmp, n, err, errlen);
        if (rc != 0 || w->ended) return rc;
    }
    return len ? feed_part(w, p, len, err, errlen) : 0;
}

size_t net_ws_read(net_ws *w, void *buf, size_t cap)
{
    size_t n = w->stream.len - w->stream.off;
    if (n > cap) n = cap;
    if (n == 0) return 0; /* the buffer may not exist yet */
    memcpy(buf, w->stream.data + w->stream.off, n);
    w->stream.off += n;
    return n;
}

size_t net_ws_readable(const net_ws *w) { return w->stream.len - w->stream.off; }

int net_ws_send(net_ws *w, const void *buf, size_t len)
{
    if (!wslay_event_get_write_enabled(w->ctx) || wslay_event_get_close_sent(w->ctx)) return -1;
    struct wslay_event_msg m = {.opcode = WSLAY_BINARY_FRAME, .msg = buf, .msg_length = len};
    if (wslay_event_queue_msg(w->ctx, &m) != 0) return -1;
    return pump_out(w);
}

int net_ws_send_raw(net_ws *w, const void *bytes, size_t len)
{
    /* after what wslay queued, so the order on the wire is the order of calls */
    if (pump_out(w) != 0) return -1;
    return buf_append(&w->out, bytes, len) ? -1 : 0;
}

size_t net_ws_frame(uint8_t *out, size_t cap, uint8_t first, const uint8_t mask[4], const void *payload,
                    size_t len)
{
    size_t hl = 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (mask ? 4 : 0);
    if (cap < hl || cap - hl < len) return 0;
    size_t o = 0;
    out[o++] = first;
    uint8_t m = mask ? 0x80 : 0;
    if (len <= 125) out[o++] = (uint8_t)(m | len);
    else if (len <= 65535) {
        out[o++] = (uint8_t)(m | 126);
        out[o++] = (uint8_t)(len >> 8);
        out[o++] = (uint8_t)len;
    } else {
        out[o++] = (uint8_t)(m | 127);
        for (int i = 7; i >= 0; i--) out[o++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mask) memcpy(out + o, mask, 4), o += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++) out[o + i] = mask ? (uint8_t)(p[i] ^ mask[i % 4]) : p[i];
    return o + len;
}

int net_ws_close(net_ws *w, uint16_t code, const char *reason)
{
    const uint8_t *r = (const uint8_t *)(reason ? reason : "");
    size_t rl = strlen((const char *)r);
    if (rl > 123) rl = 123; /* a control frame carries at most 125 bytes, 2 for the code */
    if (wslay_event_queue_close(w->ctx, code, r, rl) != 0) return -1;
    w->ended = true;
    return pump_out(w);
}

const uint8_t *net_ws_out(const net_ws *w, size_t *len)
{
    *len = w->out.len - w->out.off;
    return *len ? w->out.data + w->out.off : w->out.data; /* no offset on a NULL buffer (UB) */
}

void net_ws_out_done(net_ws *w, size_t n)
{
    size_t left = w->out.len - w->out.off;
    w->out.off += n < left ? n : left;
}

bool net_ws_ended(const net_ws *w) { return w->ended; }
uint16_t net_ws_code_received(const net_ws *w) { return wslay_event_get_status_code_received(w->ctx); }
uint16_t net_ws_code_sent(const net_ws *w) { return wslay_event_get_status_code_sent(w->ctx); }
