/*
 * ws_io: the blocking-with-deadline WebSocket calls of ws.h, over a socket
 * (net.h) or TLS over it (tls.h): the client upgrade, send_all, recv_some.
 *
 * Invariant: every wait goes through net_recv_some / net_send_all or their
 * TLS mirrors with the time left, so nothing blocks past its deadline.
 * Bytes that arrive with the HTTP answer are frames already and are fed.
 */
#include "net/ws.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/tls.h"

static int64_t deadline_of(int timeout_ms) { return timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms; }

static int left_of(int64_t deadline)
{
    if (deadline < 0) return -1;
    int64_t left = deadline - net_now_ms();
    return left < 0 ? 0 : (int)left;
}

static ssize_t raw_send(int fd, struct net_tls *tls, const void *buf, size_t len, int timeout_ms)
{
    return tls ? net_tls_send_all(tls, buf, len, timeout_ms) : net_send_all(fd, buf, len, timeout_ms);
}

static ssize_t raw_recv(int fd, struct net_tls *tls, void *buf, size_t cap, int timeout_ms)
{
    return tls ? net_tls_recv_some(tls, buf, cap, timeout_ms) : net_recv_some(fd, buf, cap, timeout_ms);
}

/* Writes everything net_ws_out holds. Returns 0, -1 or NET_TIMEOUT. */
static int flush_out(net_ws *w, int fd, struct net_tls *tls, int timeout_ms)
{
    size_t n;
    const uint8_t *p = net_ws_out(w, &n);
    if (n == 0) return 0;
    ssize_t s = raw_send(fd, tls, p, n, timeout_ms);
    if (s == NET_TIMEOUT) return NET_TIMEOUT;
    if (s != (ssize_t)n) return -1;
    net_ws_out_done(w, n);
    return 0;
}

net_ws *net_ws_connect(int fd, struct net_tls *tls, const char *host, uint16_t port, const char *path,
                       uint64_t max_frame, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = deadline_of(timeout_ms);
    char req[NET_WS_HTTP_MAX], key[NET_WS_KEY_LEN + 1];
    int rl = net_ws_request(req, sizeof req, host, port, path, key);
    if (rl < 0) {
        snprintf(err, errlen, "WebSocket upgrade: bad path \"%s\" (it starts with '/', no spaces)", path);
        return NULL;
    }
    ssize_t s = raw_send(fd, tls, req, (size_t)rl, left_of(deadline));
    if (s != rl) {
        snprintf(err, errlen, "WebSocket upgrade: sending the request failed: %s",
                 s == NET_TIMEOUT ? "timed out" : strerror(errno));
        return NULL;
    }
    uint8_t ans[NET_WS_HTTP_MAX];
    size_t have = 0;
    for (;;) {
        /* One byte past the limit would be too long anyway: parse_response says so. */
        ssize_t n = raw_recv(fd, tls, ans + have, sizeof ans - have, left_of(deadline));
        if (n <= 0) {
            snprintf(err, errlen, "WebSocket upgrade: %s", n == 0 ? "the server closed the connection"
                                                        : n == NET_TIMEOUT ? "no answer in time" : strerror(errno));
            return NULL;
        }
        have += (size_t)n;
        ssize_t end = net_ws_parse_response(ans, have, key, err, errlen);
        if (end < 0) return NULL;
        if (end == 0 && have == sizeof ans) {
            snprintf(err, errlen, "WebSocket upgrade: HTTP header longer than %d bytes", NET_WS_HTTP_MAX);
            return NULL;
        }
        if (end == 0) continue;
        net_ws *w = net_ws_new(NET_WS_CLIENT, max_frame, err, errlen);
        if (w && have > (size_t)end && net_ws_feed(w, ans + end, have - (size_t)end, err, errlen) < 0) {
            net_ws_free(w);
            return NULL;
        }
        return w;
    }
}

ssize_t net_ws_send_all(net_ws *w, int fd, struct net_tls *tls, const void *buf, size_t len, int timeout_ms)
{
    if (net_ws_send(w, buf, len) != 0) {
        errno = net_ws_ended(w) ? EPIPE : ENOMEM;
        return -1;
    }
    int rc = flush_out(w, fd, tls, timeout_ms);
    return rc == 0 ? (ssize_t)len : rc;
}

ssize_t net_ws_recv_some(net_ws *w, int fd, struct net_tls *tls, void *buf, size_t cap, int timeout_ms,
                         char *err, size_t errlen)
{
    char dummy[8];
    if (!err) err = dummy, errlen = sizeof dummy;
    int64_t deadline = deadline_of(timeout_ms);
    uint8_t raw[16384];
    for (;;) {
        if (net_ws_readable(w) > 0) return (ssize_t)net_ws_read(w, buf, cap);
        if (net_ws_ended(w)) return 0;
        ssize_t n = raw_recv(fd, tls, raw, sizeof raw, left_of(deadline));
        if (n == 0 || n == NET_TIMEOUT) return n;
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            return -1;
        }
        int rc = net_ws_feed(w, raw, (size_t)n, err, errlen);
        flush_out(w, fd, tls, 1000); /* pong or our close frame: best effort */
        if (rc < 0) return -1;
        /* NET_WS_CLOSED: what came before the close frame is read first. */
    }
}

void net_ws_shutdown(net_ws *w, int fd, struct net_tls *tls, int timeout_ms)
{
    if (!net_ws_ended(w)) net_ws_close(w, 1000, "");
    flush_out(w, fd, tls, timeout_ms);
}
