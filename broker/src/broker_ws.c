/*
 * broker_ws: the WebSocket adapter of mqtt-broker's event loop (see
 * broker_ws.h). Before the upgrade, bytes collect in a bounded header buffer
 * (NET_WS_HTTP_MAX); the HTTP answer goes out first, then frames.
 *
 * Invariant: the core's output is taken (broker_conn_output_done) only when
 * everything framed before it was written; before the upgrade completed
 * the core has nothing to say over this connection and its output is
 * dropped (it can only be a timeout's close).
 *
 * The frame limit is the largest packet the broker accepts (max_packet_size,
 * else message_size_limit plus the largest PUBLISH header), so an oversize
 * packet is refused from its frame header (close 1009) instead of being
 * streamed into the core first.
 */
#include "broker/src/broker_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/ws.h"

struct broker_ws {
    net_ws *ws;            /* NULL until the upgrade is done */
    uint64_t max_frame;
    uint8_t head[NET_WS_HTTP_MAX];
    size_t head_len;
    char answer[1024];     /* the HTTP answer, sent before any frame */
    size_t answer_len, answer_off;
    bool failed;
};

/* The largest PUBLISH apart from its payload: fixed header (1 + 4), topic
 * (2 + 65535), packet id (2), and 5.0 properties up to 64 KiB with their
 * length (4). Beyond it, message_size_limit closes with 1009, not 0x83. */
#define PUBLISH_HEADER_MAX ((uint64_t)(1 + 4 + 2 + 65535 + 2 + 4 + 65536))

uint64_t broker_ws_frame_limit(const broker_options *o)
{
    uint64_t limit = NET_WS_MAX_FRAME_DEFAULT;
    if (o->message_size_limit && o->message_size_limit + PUBLISH_HEADER_MAX < limit)
        limit = o->message_size_limit + PUBLISH_HEADER_MAX;
    if (o->max_packet_size && o->max_packet_size < limit) limit = o->max_packet_size;
    return limit;
}

broker_ws *broker_ws_new(uint64_t max_frame)
{
    broker_ws *w = broker_xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    w->max_frame = max_frame;
    return w;
}

void broker_ws_free(broker_ws *w)
{
    if (!w) return;
    net_ws_free(w->ws);
    free(w);
}

/* Collects the upgrade request; returns the bytes of in used by it (the rest
 * are frames), or -1 when refused. */
static ssize_t upgrade(broker_ws *w, const uint8_t *in, size_t n, char *err, size_t errlen)
{
    size_t take = n < sizeof w->head - w->head_len ? n : sizeof w->head - w->head_len;
    memcpy(w->head + w->head_len, in, take);
    size_t before = w->head_len;
    w->head_len += take;
    ssize_t end = net_ws_parse_request(w->head, w->head_len, w->answer, sizeof w->answer, &w->answer_len, err, errlen);
    if (end == 0 && w->head_len < sizeof w->head) return (ssize_t)n;
    if (end <= 0) {
        if (end == 0) snprintf(err, errlen, "WebSocket upgrade: HTTP header longer than %d bytes", NET_WS_HTTP_MAX);
        return -1;
    }
    w->ws = net_ws_new(NET_WS_SERVER, w->max_frame, err, errlen);
    if (!w->ws) return -1;
    return end - (ssize_t)before; /* bytes of in that belonged to the header */
}

int broker_ws_input(broker_ws *w, broker_conn *bc, const uint8_t *in, size_t n, int64_t now, char *err,
                    size_t errlen)
{
    if (w->failed) return -1;
    if (!w->ws) {
        ssize_t used = upgrade(w, in, n, err, errlen);
        if (used < 0) {
            w->failed = true;
            return -1;
        }
        in += used;
        n -= (size_t)used;
        if (!w->ws) return 0;
    }
    int rc = n ? net_ws_feed(w->ws, in, n, err, errlen) : 0;
    uint8_t buf[4096];
    size_t got;
    while ((got = net_ws_read(w->ws, buf, sizeof buf)) > 0) broker_conn_feed(bc, buf, got, now);
    if (rc == NET_WS_CLOSED) {
        snprintf(err, errlen, "close frame received (code %u)", net_ws_code_received(w->ws));
        w->failed = true;
        return NET_WS_CLOSED;
    }
    if (rc < 0) w->failed = true;
    return rc < 0 ? -1 : 0;
}

size_t broker_ws_output(broker_ws *w, broker_conn *bc, const uint8_t **data, int64_t now)
{
    if (w->answer_off < w->answer_len) {
        *data = (const uint8_t *)w->answer + w->answer_off;
        return w->answer_len - w->answer_off;
    }
    const uint8_t *core_out;
    size_t core_len = broker_conn_output(bc, &core_out);
    if (!w->ws) {
        if (core_len) broker_conn_output_done(bc, core_len, now);
        return 0;
    }
    size_t len;
    *data = net_ws_out(w->ws, &len);
    if (len || !core_len || net_ws_ended(w->ws)) return len;
    if (net_ws_send(w->ws, core_out, core_len) != 0) return 0;
    broker_conn_output_done(bc, core_len, now);
    *data = net_ws_out(w->ws, &len);
    return len;
}

void broker_ws_output_done(broker_ws *w, size_t n)
{
    if (w->answer_off < w->answer_len) {
        w->answer_off += n;
        return;
    }
    if (w->ws) net_ws_out_done(w->ws, n);
}

void broker_ws_close(broker_ws *w, uint16_t code)
{
    if (w->ws && !net_ws_ended(w->ws)) net_ws_close(w->ws, code, "");
}

void broker_ws_shutdown(int fd, bool tls)
{
    if (!tls) shutdown(fd, SHUT_WR); /* FIN right after the close frame */
    uint8_t sink[4096];
    for (int k = 0; k < 256; k++) /* bounded: 1 MiB */
        if (recv(fd, sink, sizeof sink, MSG_DONTWAIT) <= 0) break;
}
