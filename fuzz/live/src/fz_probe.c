/*
 * fz_probe: the liveness check (see fz_probe.h). The client id carries the
 * process id, so parallel workers never take over each other's probe.
 */
#include "fuzz/live/src/fz_probe.h"

#include "fuzz/live/src/fz_exec.h"
#include "net/net.h"
#include "net/ws.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The probe's connection: TCP, or a WebSocket over it. */
typedef struct {
    int fd;
    net_ws *ws;
} plink;

static ssize_t link_send(plink *l, const uint8_t *b, size_t n, int timeout_ms)
{
    return l->ws ? net_ws_send_all(l->ws, l->fd, NULL, b, n, timeout_ms) : net_send_all(l->fd, b, n, timeout_ms);
}

/* Reads until buf holds one whole packet of type t; returns a probe result. */
static fz_probe_result expect(plink *l, int t, int64_t end)
{
    uint8_t buf[512];
    size_t len = 0;
    for (;;) {
        long n = fz_frame_size(buf, len, 0);
        if (n > 0) return buf[0] >> 4 == t ? FZ_PROBE_OK : FZ_PROBE_CLOSED;
        int64_t left = end - net_now_ms();
        if (left <= 0 || n < 0) return n < 0 ? FZ_PROBE_CLOSED : FZ_PROBE_TIMEOUT;
        ssize_t r = l->ws ? net_ws_recv_some(l->ws, l->fd, NULL, buf + len, sizeof buf - len, (int)left, NULL, 0)
                          : net_recv_some(l->fd, buf + len, sizeof buf - len, (int)left);
        fz_quickack(l->fd);
        if (r == NET_TIMEOUT) return FZ_PROBE_TIMEOUT;
        if (r <= 0) return FZ_PROBE_CLOSED;
        len += (size_t)r;
        if (len == sizeof buf) return FZ_PROBE_CLOSED;
    }
}

fz_probe_result fz_probe(const char *host, uint16_t port, const char *ws_path, int timeout_ms)
{
    int64_t end = net_now_ms() + timeout_ms;
    char err[256], id[32];
    plink l = {.fd = net_connect(host, port, timeout_ms, err, sizeof err)};
    if (l.fd < 0) return FZ_PROBE_REFUSED;
    fz_quickack(l.fd);
    if (ws_path && !(l.ws = net_ws_connect(l.fd, NULL, host, port, ws_path, 0, timeout_ms, err, sizeof err))) {
        close(l.fd);
        return FZ_PROBE_CLOSED; /* accepts TCP, refuses the upgrade */
    }
    int idlen = snprintf(id, sizeof id, "fzprobe-%ld", (long)getpid());
    uint8_t pkt[64] = {0x10, (uint8_t)(12 + idlen), 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, (uint8_t)idlen};
    memcpy(pkt + 14, id, (size_t)idlen);
    static const uint8_t ping[2] = {0xc0, 0}, disc[2] = {0xe0, 0};
    fz_probe_result r = FZ_PROBE_CLOSED;
    if (link_send(&l, pkt, 14 + (size_t)idlen, timeout_ms) > 0 &&
        (r = expect(&l, 2, end)) == FZ_PROBE_OK && link_send(&l, ping, 2, timeout_ms) == 2)
        r = expect(&l, 13, end);
    link_send(&l, disc, 2, 10);
    net_ws_free(l.ws);
    close(l.fd);
    return r;
}

const char *fz_probe_name(fz_probe_result r)
{
    static const char *const names[] = {"ok", "connection refused", "no answer", "closed without answer"};
    return names[r];
}
