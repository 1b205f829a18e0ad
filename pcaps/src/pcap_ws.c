/*
 * pcap_ws: unwraps WebSocket-framed MQTT in one direction of a capture
 * (see pcap_ws.h). The frame parser is incremental: a header of 2 to 14
 * bytes is collected, then the payload passes through byte by byte (unmasked
 * by its offset), so a frame may span any number of TCP segments and a
 * segment may hold any number of frames.
 *
 * Invariants: nothing but the header (bounded) is copied; after a gap or a
 * header that is not a WebSocket upgrade, bytes are no longer interpreted.
 */
#include "pcaps/src/pcap_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { WS_HEADER, WS_FRAMES, WS_NOT_WS, WS_LOST };

struct pcap_ws {
    int state;
    char head[PCAP_WS_HEADER_MAX + 1];
    size_t head_len;
    uint8_t fh[14];         /* the frame header being collected */
    size_t fh_have;
    uint64_t left;          /* payload bytes of the current frame still to come */
    uint64_t off;           /* payload offset (for the mask) */
    uint8_t mask[4];
    bool masked;
    uint8_t opcode;         /* of the current frame */
    bool msg_binary;        /* the data message under way is binary */
    uint64_t text_frames;
};

bool pcap_ws_active(const pcap_ws *ws) { return ws && (ws->state == WS_FRAMES || ws->state == WS_LOST); }

void pcap_ws_free(pcap_ws *ws) { free(ws); }

static void note(const pcap_ws_sink *s, const char *text)
{
    if (s->note) s->note(s->ctx, text);
}

static size_t header_len(const uint8_t *h)
{
    size_t n = 2 + ((h[1] & 0x7f) == 126 ? 2 : (h[1] & 0x7f) == 127 ? 8 : 0);
    return n + ((h[1] & 0x80) ? 4 : 0);
}

/* A frame header is complete: set up its payload. */
static void frame_start(pcap_ws *w, const pcap_ws_sink *s)
{
    uint64_t len = w->fh[1] & 0x7f;
    size_t o = 2;
    if (len == 126) len = (uint64_t)w->fh[2] << 8 | w->fh[3], o = 4;
    else if (len == 127) {
        len = 0;
        for (int k = 0; k < 8; k++) len = len << 8 | w->fh[2 + k];
        o = 10;
    }
    w->masked = (w->fh[1] & 0x80) != 0;
    if (w->masked) memcpy(w->mask, w->fh + o, 4);
    w->opcode = w->fh[0] & 0x0f;
    w->left = len;
    w->off = 0;
    w->fh_have = 0;
    if (w->opcode == 0x2) w->msg_binary = true;
    if (w->opcode == 0x1) {
        w->msg_binary = false;
        w->text_frames++;
        note(s, "WebSocket text frame: MQTT-6.0.0-1 (MUST) allows binary frames only; its payload is not MQTT");
    } else if (w->opcode == 0x8) {
        note(s, "WebSocket close frame");
    }
}

/* Payload bytes of the current frame: unmasked, handed on when binary. */
static void payload(pcap_ws *w, const uint8_t *p, size_t n, const pcap_ws_sink *s)
{
    bool data = w->opcode == 0x2 || (w->opcode == 0x0 && w->msg_binary);
    if (!data) {
        w->off += n;
        return;
    }
    uint8_t tmp[4096];
    while (n) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        for (size_t i = 0; i < k; i++) tmp[i] = w->masked ? p[i] ^ w->mask[(w->off + i) & 3] : p[i];
        if (s->data) s->data(s->ctx, tmp, k);
        w->off += k;
        p += k;
        n -= k;
    }
}

static void frames(pcap_ws *w, const uint8_t *p, size_t n, const pcap_ws_sink *s)
{
    while (n) {
        if (w->left) {
            size_t k = w->left < n ? (size_t)w->left : n;
            payload(w, p, k, s);
            w->left -= k;
            p += k;
            n -= k;
            continue;
        }
        w->fh[w->fh_have++] = *p++;
        n--;
        if (w->fh_have >= 2 && w->fh_have == header_len(w->fh)) frame_start(w, s);
    }
}

/* Collects the HTTP header; returns bytes of p used, or -1 when this is not
 * a WebSocket upgrade. */
static long header(pcap_ws *w, const uint8_t *p, size_t n, const pcap_ws_sink *s)
{
    size_t before = w->head_len;
    size_t take = n < PCAP_WS_HEADER_MAX - w->head_len ? n : PCAP_WS_HEADER_MAX - w->head_len;
    memcpy(w->head + w->head_len, p, take);
    w->head_len += take;
    w->head[w->head_len] = '\0';
    char *end = strstr(w->head, "\r\n\r\n");
    if (!end) return w->head_len == PCAP_WS_HEADER_MAX ? -1 : (long)n;
    size_t hl = (size_t)(end + 4 - w->head);
    bool request = strncmp(w->head, "GET ", 4) == 0;
    bool upgrade = false;
    for (char *l = strstr(w->head, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        const char *e = strstr(l + 2, "\r\n");
        if (strncasecmp(l + 2, "Upgrade:", 8) != 0) continue;
        for (const char *c = l + 10; c + 9 <= e; c++)
            if (!strncasecmp(c, "websocket", 9)) upgrade = true;
    }
    if (!upgrade) return -1;
    if (!request && strncmp(w->head, "HTTP/1.1 101", 12) != 0) note(s, "HTTP answer to the upgrade is not 101");
    w->state = WS_FRAMES;
    return (long)(hl - before);
}

bool pcap_ws_feed(pcap_ws **ws, bool at_start, const uint8_t *p, size_t n, const pcap_ws_sink *sink)
{
    pcap_ws *w = *ws;
    if (!w) {
        if (!at_start || n == 0 || (p[0] != 'G' && p[0] != 'H')) return false;
        w = *ws = calloc(1, sizeof *w);
        if (!w) return false;
    }
    switch (w->state) {
    case WS_HEADER: {
        size_t before = w->head_len;
        long used = header(w, p, n, sink);
        if (used < 0) {
            /* Not a WebSocket: give back what earlier calls held, as it came;
             * the caller handles this call's bytes. */
            w->state = WS_NOT_WS;
            if (before && sink->data) sink->data(sink->ctx, (const uint8_t *)w->head, before);
            return false;
        }
        if (w->state == WS_FRAMES && (size_t)used < n) frames(w, p + used, n - (size_t)used, sink);
        return true;
    }
    case WS_FRAMES: frames(w, p, n, sink); return true;
    case WS_LOST: return true;
    default: return false;
    }
}

void pcap_ws_gap(pcap_ws *ws, const pcap_ws_sink *sink)
{
    if (!ws || ws->state != WS_FRAMES) return;
    ws->state = WS_LOST;
    note(sink, "WebSocket framing lost after a gap: the rest of this direction is not decoded");
}
