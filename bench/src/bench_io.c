/*
 * bench_io: non-blocking connects and the TCP / TLS byte transport of a
 * bench connection (bench_io.h). Sockets come from net/'s conventions
 * (non-blocking, close-on-exec, TCP_NODELAY) but connect without waiting,
 * since one thread drives thousands of them. WebSockets (ws://, wss://):
 * the upgrade runs non-blocking too, then net/ws.h's sans-I/O framing sits
 * between the MQTT stream and the TCP or TLS bytes.
 */
#include "bench/src/bench_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "net/ws.h"

int bench_io_resolve(bench_run *r, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", r->o->port);
    int rc = getaddrinfo(r->o->host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "resolve %s: %s", r->o->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
    r->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Binds fd to the --source-ip / --local-ports choice for connection k. */
static int bind_local(int fd, const bench_opts *o, int family, int k, char *err, size_t errlen)
{
    if (!o->n_source_ips && !o->lport_lo) return 0;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *ip = o->n_source_ips ? o->source_ips[k % o->n_source_ips] : NULL;
    uint16_t port = 0;
    if (o->lport_lo) {
        int per_ip = o->n_source_ips ? k / o->n_source_ips : k;
        port = (uint16_t)(o->lport_lo + per_ip % (o->lport_hi - o->lport_lo + 1));
    }
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_any;
        if (ip && inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) goto badip;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (ip && inet_pton(AF_INET, ip, &a->sin_addr) != 1) goto badip;
        len = sizeof *a;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) == 0) return 0;
    snprintf(err, errlen, "bind %s:%u: %s", ip ? ip : "*", port, strerror(errno));
    return -1;
badip:
    snprintf(err, errlen, "--source-ip %s: not an address of the broker's family", ip);
    return -1;
}

int bench_io_start(bench_conn *c, char *err, size_t errlen)
{
    bench_run *r = c->w->run;
    int family = r->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Receive times from the kernel, as a capture sees them, not from when
     * this thread got around to reading (subscribers only: latency). */
    if (c->role == ROLE_SUB && !r->o->app_rx_time) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (bind_local(fd, r->o, family, c->global, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&r->addr, r->addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect %s:%u: %s", r->o->host, r->o->port, strerror(errno));
        close(fd);
        return -1;
    }
    c->fd = fd;
    return 0;
}

int bench_io_finish_connect(bench_conn *c, char *err, size_t errlen)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
    if (e == 0 && c->w->run->tls_ctx) {
        c->tls = net_tls_new(c->w->run->tls_ctx, c->fd, c->w->run->o->host, err, errlen);
        return c->tls ? 0 : -1;
    }
    if (e == 0) return 0;
    snprintf(err, errlen, "connect %s:%u: %s", c->w->run->o->host, c->w->run->o->port, strerror(e));
    return -1;
}

int bench_io_handshake(bench_conn *c, char *err, size_t errlen)
{
    if (!c->tls) return 0;
    int rc = net_tls_handshake(c->tls, err, errlen);
    if (rc == NET_TLS_WANT_READ) return BIO_AGAIN;
    if (rc == NET_TLS_WANT_WRITE) return BIO_AGAIN_WRITE;
    return rc == 0 ? 0 : -1;
}

/* recvmsg with the kernel's receive timestamp (SCM_TIMESTAMPNS) when enabled. */
static ssize_t read_stamped(int fd, void *buf, size_t cap, int64_t *kernel_ns)
{
    union {
        char space[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
                       .msg_controllen = sizeof ctl.space};
    ssize_t n = recvmsg(fd, &m, 0);
    for (struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; h; h = CMSG_NXTHDR(&m, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(h), sizeof ts);
            *kernel_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        }
    }
    return n;
}

/* Transport bytes, TLS or TCP, under any WebSocket framing. */
static ssize_t raw_read(bench_conn *c, void *buf, size_t cap, int64_t *kernel_ns, char *err, size_t errlen)
{
    ssize_t n;
    *kernel_ns = 0;
    if (c->tls) {
        n = net_tls_read(c->tls, buf, cap, err, errlen);
        if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) return BIO_AGAIN;
        return n == 0 ? BIO_CLOSED : n;
    }
    n = read_stamped(c->fd, buf, cap, kernel_ns);
    if (n > 0) return n;
    if (n == 0) return BIO_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return BIO_AGAIN;
    snprintf(err, errlen, "read: %s", strerror(errno));
    return BIO_ERROR;
}

static ssize_t raw_write(bench_conn *c, const void *buf, size_t len, char *err, size_t errlen)
{
    ssize_t n;
    if (c->tls) {
        n = net_tls_write(c->tls, buf, len, err, errlen);
        if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) return BIO_AGAIN;
        return n;
    }
    n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return BIO_AGAIN;
    snprintf(err, errlen, "write: %s", strerror(errno));
    return BIO_ERROR;
}

/* Writes what the WebSocket framing holds until the socket is full. */
static int ws_push(bench_conn *c, char *err, size_t errlen)
{
    size_t len;
    const uint8_t *p;
    while ((p = net_ws_out(c->ws, &len)) != NULL && len) {
        ssize_t n = raw_write(c, p, len, err, errlen);
        if (n == BIO_AGAIN) return 0;
        if (n < 0) return -1;
        net_ws_out_done(c->ws, (size_t)n);
    }
    return 0;
}

size_t bench_io_out_pending(const bench_conn *c)
{
    size_t n = 0;
    if (c->ws) net_ws_out(c->ws, &n);
    return n;
}

/* The MQTT byte stream of a WebSocket: binary frame payloads (MQTT-6.0.0-1, 2). */
static ssize_t ws_read(bench_conn *c, uint8_t *buf, size_t cap, int64_t *kernel_ns, char *err, size_t errlen)
{
    for (;;) {
        if (net_ws_readable(c->ws)) return (ssize_t)net_ws_read(c->ws, buf, cap);
        if (net_ws_ended(c->ws)) return BIO_CLOSED;
        ssize_t n = raw_read(c, buf, cap, kernel_ns, err, errlen); /* fed before buf is reused */
        if (n <= 0) return n;
        int rc = net_ws_feed(c->ws, buf, (size_t)n, err, errlen);
        if (ws_push(c, err, errlen) != 0 && rc == 0) return BIO_ERROR; /* pongs, close answers */
        if (rc == NET_WS_CLOSED) return BIO_CLOSED;
        if (rc < 0) return BIO_ERROR;
    }
}

ssize_t bench_io_read(bench_conn *c, void *buf, size_t cap, int64_t *kernel_ns, char *err, size_t errlen)
{
    *kernel_ns = 0;
    return c->ws ? ws_read(c, buf, cap, kernel_ns, err, errlen) : raw_read(c, buf, cap, kernel_ns, err, errlen);
}

/* A WebSocket takes len bytes as one binary frame, and only when the frame
 * before it is out: what waits stays bounded by one frame. */
ssize_t bench_io_write(bench_conn *c, const void *buf, size_t len, char *err, size_t errlen)
{
    if (!c->ws) return raw_write(c, buf, len, err, errlen);
    if (ws_push(c, err, errlen) != 0) return BIO_ERROR;
    if (bench_io_out_pending(c)) return BIO_AGAIN;
    if (!len) return 0;
    if (net_ws_send(c->ws, buf, len) != 0) {
        snprintf(err, errlen, "WebSocket: cannot send (closed or out of memory)");
        return BIO_ERROR;
    }
    return ws_push(c, err, errlen) != 0 ? BIO_ERROR : (ssize_t)len;
}

int bench_io_ws_start(bench_conn *c, char *err, size_t errlen)
{
    const bench_opts *o = c->w->run->o;
    char req[NET_WS_HTTP_MAX];
    int n = net_ws_request(req, sizeof req, o->host, o->port, o->ws_path, c->ws_key);
    if (n < 0) {
        snprintf(err, errlen, "WebSocket: bad path \"%s\"", o->ws_path);
        return -1;
    }
    /* A fresh socket takes a few hundred bytes at once; if not, say so. */
    ssize_t w = raw_write(c, req, (size_t)n, err, errlen);
    if (w == (ssize_t)n) return 0;
    if (w >= 0 || w == BIO_AGAIN) snprintf(err, errlen, "WebSocket: the upgrade request did not go out at once");
    return -1;
}

int bench_io_ws_answer(bench_conn *c, bench_buf *in, char *err, size_t errlen)
{
    if (in->cap - in->len < 1024) {
        size_t cap = in->cap ? in->cap * 2 : 4096;
        if (cap > 4 * NET_WS_HTTP_MAX) {
            snprintf(err, errlen, "WebSocket: the upgrade answer is longer than %d bytes", NET_WS_HTTP_MAX);
            return -1;
        }
        uint8_t *d = realloc(in->data, cap);
        if (!d) return snprintf(err, errlen, "out of memory"), -1;
        in->data = d;
        in->cap = cap;
    }
    int64_t kns;
    ssize_t n = raw_read(c, in->data + in->len, in->cap - in->len, &kns, err, errlen);
    if (n == BIO_AGAIN) return BIO_AGAIN;
    if (n == BIO_CLOSED) snprintf(err, errlen, "WebSocket: closed during the upgrade");
    if (n <= 0) return -1;
    in->len += (size_t)n;
    ssize_t end = net_ws_parse_response(in->data, in->len, c->ws_key, err, errlen);
    if (end == 0) return BIO_AGAIN;
    if (end < 0) return -1;
    if (!(c->ws = net_ws_new(NET_WS_CLIENT, 0, err, errlen))) return -1;
    int rc = in->len > (size_t)end ? net_ws_feed(c->ws, in->data + end, in->len - (size_t)end, err, errlen) : 0;
    in->len = in->off = 0;
    return rc < 0 ? -1 : 0;
}

void bench_io_tx_on(bench_conn *c)
{
    /* Not before the connection is up: the kernel refuses OPT_ID on a TCP
     * socket that is not connected, and counts bytes from here on. */
    int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                SOF_TIMESTAMPING_OPT_TSONLY;
    if (c->tls || c->ws || c->tx_on) return;
    c->tx_on = setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
    c->tx_bytes = 0;
}

void bench_io_tx_sent(bench_conn *c, size_t n, int64_t t_before)
{
    if (!c->tx_on) return;
    c->tx_bytes += n;
    if (c->tx_n == BENCH_TXQ) return; /* the kernel is far behind: skip this one */
    int i = (c->tx_head + c->tx_n++) % BENCH_TXQ;
    c->tx_q[i].key = (uint32_t)(c->tx_bytes - 1u);
    c->tx_q[i].t = t_before;
}

/* The write whose last byte is `key` went out at t: record, drop older ones. */
static void tx_match(bench_conn *c, uint32_t key, int64_t t)
{
    while (c->tx_n) {
        int h = c->tx_head;
        int32_t d = (int32_t)(c->tx_q[h].key - key); /* 32-bit keys wrap */
        if (d > 0) return;
        if (d == 0 && t > c->tx_q[h].t) bench_hist_record(&c->w->to_wire, (uint64_t)(t - c->tx_q[h].t));
        c->tx_head = (h + 1) % BENCH_TXQ;
        c->tx_n--;
    }
}

void bench_io_tx_drain(bench_conn *c)
{
    for (int k = 0; c->tx_on && k < 256; k++) {
        union {
            char space[512];
            struct cmsghdr align;
        } ctl;
        char data[64];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
        if (recvmsg(c->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
        int64_t ts = 0;
        uint32_t key = 0;
        bool have_key = false;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPING) {
                struct scm_timestamping st;
                memcpy(&st, CMSG_DATA(h), sizeof st);
                ts = (int64_t)st.ts[0].tv_sec * 1000000000 + st.ts[0].tv_nsec;
            } else if ((h->cmsg_level == SOL_IP && h->cmsg_type == IP_RECVERR) ||
                       (h->cmsg_level == SOL_IPV6 && h->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err e;
                memcpy(&e, CMSG_DATA(h), sizeof e);
                if (e.ee_errno == ENOMSG && e.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
                    key = e.ee_data;
                    have_key = true;
                }
            }
        }
        if (ts && have_key) tx_match(c, key, ts - c->w->run->real_offset);
    }
}

size_t bench_io_pending(const bench_conn *c)
{
    return (c->tls ? net_tls_pending(c->tls) : 0) + (c->ws ? net_ws_readable(c->ws) : 0);
}

void bench_io_close(bench_conn *c)
{
    if (c->ws) {
        char err[64];
        if (!net_ws_ended(c->ws) && net_ws_close(c->ws, 1000, "") == 0) ws_push(c, err, sizeof err);
        net_ws_free(c->ws);
        c->ws = NULL;
    }
    if (c->tls) net_tls_close(c->tls);
    c->tls = NULL;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}
