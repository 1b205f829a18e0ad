/*
 * fz_probe: the liveness check (see fz_probe.h). The client id carries the
 * process id, so parallel workers never take over each other's probe.
 */
#include "fuzz/live/src/fz_probe.h"

#include "fuzz/live/src/fz_exec.h"
#include "net/net.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads until buf holds one whole packet of type t; returns a probe result. */
static fz_probe_result expect(int fd, int t, int64_t end)
{
    uint8_t buf[512];
    size_t len = 0;
    for (;;) {
        long n = fz_frame_size(buf, len, 0);
        if (n > 0) return buf[0] >> 4 == t ? FZ_PROBE_OK : FZ_PROBE_CLOSED;
        int64_t left = end - net_now_ms();
        if (left <= 0 || n < 0) return n < 0 ? FZ_PROBE_CLOSED : FZ_PROBE_TIMEOUT;
        ssize_t r = net_recv_some(fd, buf + len, sizeof buf - len, (int)left);
        fz_quickack(fd);
        if (r == NET_TIMEOUT) return FZ_PROBE_TIMEOUT;
        if (r <= 0) return FZ_PROBE_CLOSED;
        len += (size_t)r;
        if (len == sizeof buf) return FZ_PROBE_CLOSED;
    }
}

fz_probe_result fz_probe(const char *host, uint16_t port, int timeout_ms)
{
    int64_t end = net_now_ms() + timeout_ms;
    char err[256], id[32];
    int fd = net_connect(host, port, timeout_ms, err, sizeof err);
    if (fd < 0) return FZ_PROBE_REFUSED;
    fz_quickack(fd);
    int idlen = snprintf(id, sizeof id, "fzprobe-%ld", (long)getpid());
    uint8_t pkt[64] = {0x10, (uint8_t)(12 + idlen), 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, (uint8_t)idlen};
    memcpy(pkt + 14, id, (size_t)idlen);
    static const uint8_t ping[2] = {0xc0, 0}, disc[2] = {0xe0, 0};
    fz_probe_result r = FZ_PROBE_CLOSED;
    if (net_send_all(fd, pkt, 14 + (size_t)idlen, timeout_ms) > 0 &&
        (r = expect(fd, 2, end)) == FZ_PROBE_OK && net_send_all(fd, ping, 2, timeout_ms) == 2)
        r = expect(fd, 13, end);
    net_send_all(fd, disc, 2, 10);
    close(fd);
    return r;
}

const char *fz_probe_name(fz_probe_result r)
{
    static const char *const names[] = {"ok", "connection refused", "no answer", "closed without answer"};
    return names[r];
}
