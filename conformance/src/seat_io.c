/*
 * The broker seat's I/O for one run: the listener, the client's connection
 * (bytes in, decoded packets out, bytes that do not decode end the stream),
 * the client's process (output, exit), and writing to the client. Every wait
 * is one poll(2) bounded by the step's and the run's deadline; nothing
 * blocks longer. The client is the left (client) side of every pcap stream.
 */
#define _GNU_SOURCE /* accept4, pipe2: close-on-exec set atomically */
#include "conformance/src/seat_int.h"

#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int64_t seat_scaled(const seat_ctx *x, int64_t ms)
{
    double v = (double)ms * x->cfg->time_scale;
    return v < 1 ? 1 : (int64_t)v;
}

static void on_accept(seat_ctx *x, int64_t now)
{
    /* close-on-exec at once: another run spawning its client meanwhile must not
     * inherit this connection (its client would never see our close) */
    int fd = accept4(x->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (x->pending >= 0 || (x->fd >= 0 && !x->peer_closed)) {
        /* a second connection while one is open: kept for a later `accept` */
        if (x->pending >= 0) close(x->pending);
        x->pending = fd;
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, now),
                       "the client opened another connection (kept for the next `accept`)");
        return;
    }
    x->pending = fd;
}

static void read_conn(seat_ctx *x, int64_t now)
{
    for (int i = 0; i < 64 && x->fd >= 0 && !x->peer_closed; i++) {
        if (x->rcap - x->rlen < 4096) {
            size_t nc = x->rcap ? x->rcap * 2 : 16384;
            uint8_t *nb = nc <= SEAT_RX_MAX ? realloc(x->rbuf, nc) : NULL;
            if (!nb) { snprintf(x->why, sizeof x->why, "the client sent more than the runner buffers"); x->garbage = true; return; }
            x->rbuf = nb;
            x->rcap = nc;
        }
        ssize_t n = recv(x->fd, x->rbuf + x->rlen, x->rcap - x->rlen, 0);
        if (n > 0) {
            conf_traffic_data(x->tr, x->stream, CONF_TR_CLIENT, x->rbuf + x->rlen, (size_t)n);
            x->rlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        bool rst = n < 0;
        conf_traffic_close(x->tr, x->stream, CONF_TR_CLIENT, rst);
        snprintf(x->why, sizeof x->why, "%s", !rst ? "the client closed the connection"
                                                   : errno == ECONNRESET ? "the client reset the connection"
                                                                         : strerror(errno));
        x->peer_closed = true; /* noted once the packets before it are decoded (seat_next_packet) */
        (void)now;
        return;
    }
}

void seat_pump(seat_ctx *x, int64_t until)
{
    struct pollfd pf[4];
    int np = 0, ic = -1, il = -1, io = -1, ip = -1;
    if (x->fd >= 0 && !x->peer_closed) { ic = np; pf[np++] = (struct pollfd){x->fd, POLLIN, 0}; }
    if (x->lfd >= 0) { il = np; pf[np++] = (struct pollfd){x->lfd, POLLIN, 0}; }
    if (x->proc.out >= 0) { io = np; pf[np++] = (struct pollfd){x->proc.out, POLLIN, 0}; }
    if (x->proc.pidfd >= 0 && !x->proc.exited) { ip = np; pf[np++] = (struct pollfd){x->proc.pidfd, POLLIN, 0}; }
    int64_t now = net_now_ms();
    if (until > x->run_deadline) until = x->run_deadline;
    int64_t wait = until > now ? until - now : 0;
    bool poll_exit = x->proc.pid > 0 && !x->proc.exited && x->proc.pidfd < 0;
    if (poll_exit && wait > SEAT_NOPIDFD_POLL_MS) wait = SEAT_NOPIDFD_POLL_MS;
    int pr = poll(pf, (nfds_t)np, (int)wait);
    now = net_now_ms();
    if (pr > 0 && ic >= 0 && pf[ic].revents) read_conn(x, now);
    if (pr > 0 && il >= 0 && pf[il].revents) on_accept(x, now);
    if (pr > 0 && io >= 0 && pf[io].revents) seat_proc_read(&x->proc);
    if ((pr > 0 && ip >= 0 && pf[ip].revents) || poll_exit) seat_proc_reap(&x->proc);
}

/* Decodes the packet at the start of rbuf. 1: *out, 0: incomplete, -1: garbage. */
static int decode(seat_ctx *x, rx **out, int64_t now)
{
    rx *p = calloc(1, sizeof *p);
    if (!p) return 0;
    /* a CONNECT says its own version; everything after it is read as the run's */
    mqtt_version v = x->rlen && (x->rbuf[0] >> 4) == MQTT_CONNECT ? MQTT_VERSION_UNKNOWN : conf_vi_version(x->r->vi);
    mqtt_codec codec = {.version = v, .from = MQTT_FROM_CLIENT, .user_properties = p->up,
                        .user_properties_cap = 64, .subscription_identifiers = p->sid,
                        .subscription_identifiers_cap = 32, .subscriptions = p->subs, .subscriptions_cap = 8};
    mqtt_error err = {0};
    mqtt_packet tmp;
    mqtt_status s = mqtt_decode(&codec, x->rbuf, x->rlen, &tmp, &err);
    if (s == MQTT_NEED_MORE) { free(p); return 0; }
    if (s != MQTT_OK) {
        char e[256], hx[200];
        mqtt_format_error(&err, e, sizeof e);
        eng_hexdump(hx, sizeof hx, x->rbuf, x->rlen);
        snprintf(x->why, sizeof x->why, "the client sent bytes that do not decode: %s; bytes: %s", e, hx);
        conf_run_event(x->r, 0, EV_SENT, (int)x->rt.step, eng_rel(&x->rt, now), "undecodable: %s [%s]", e, hx);
        x->garbage = true;
        free(p);
        return -1;
    }
    p->len = tmp.length;
    p->bytes = malloc(p->len ? p->len : 1);
    if (!p->bytes) { free(p); return 0; }
    memcpy(p->bytes, x->rbuf, p->len);
    mqtt_decode(&codec, p->bytes, p->len, &p->pkt, NULL);
    memmove(x->rbuf, x->rbuf + p->len, x->rlen - p->len);
    x->rlen -= p->len;
    p->t_ms = eng_rel(&x->rt, now);
    char line[1024];
    eng_fmt_packet(&p->pkt, x->r->vi, line, sizeof line);
    conf_run_event(x->r, 0, EV_SENT, (int)x->rt.step, p->t_ms, "%s", line);
    *out = p;
    return 1;
}

int seat_next_packet(seat_ctx *x, int64_t until, bool answer_ping, rx **out)
{
    for (;;) {
        int64_t now = net_now_ms();
        int d = x->garbage ? -1 : decode(x, out, now);
        if (d > 0 && answer_ping && (*out)->pkt.type == MQTT_PINGREQ) {
            static const uint8_t pingresp[2] = {0xD0, 0x00};
            conf_run_event(x->r, 0, EV_RECV, (int)x->rt.step, eng_rel(&x->rt, now),
                           "PINGRESP (the runner answers a PINGREQ no step expects)");
            eng_rx_free(*out);
            *out = NULL;
            seat_write(x, pingresp, 2);
            continue;
        }
        if (d > 0) return SW_PACKET;
        if (d < 0 || x->fd < 0 || x->peer_closed) {
            if (x->fd < 0 && !x->why[0]) snprintf(x->why, sizeof x->why, "the connection is closed");
            if (x->peer_closed && !x->close_noted) {
                x->close_noted = true;
                conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, now), "%s", x->why);
            }
            return SW_CLOSED;
        }
        if (now >= x->run_deadline) return SW_END;
        if (now >= until) return SW_TIMEOUT;
        seat_pump(x, until);
    }
}

/* Takes a queued connection as the current one. */
static void adopt(seat_ctx *x, int64_t now)
{
    if (x->fd >= 0) seat_close(x);
    x->fd = x->pending;
    x->server_mps = 0; /* a new connection: no CONNACK yet */
    x->pending = -1;
    fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
    x->peer_closed = x->garbage = x->close_noted = false;
    x->why[0] = '\0';
    x->rlen = 0;
    x->nconn++;
    x->stream = x->tr ? conf_traffic_open_accepted(x->tr, 0, x->fd) : -1;
    conf_traffic_established(x->tr, x->stream);
    conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, eng_rel(&x->rt, now), "the client connected (connection %d)",
                   x->nconn);
}

bool seat_accept(seat_ctx *x, int64_t until)
{
    for (;;) {
        int64_t now = net_now_ms();
        if (x->pending >= 0) { adopt(x, now); return true; }
        if (now >= until || now >= x->run_deadline) return false;
        /* a client that exited will not connect any more */
        if (x->proc.pid > 0 && x->proc.exited && x->proc.out < 0) return false;
        seat_pump(x, until);
    }
}

int seat_write(seat_ctx *x, const uint8_t *b, size_t n)
{
    size_t off = 0;
    while (off < n && x->fd >= 0) {
        ssize_t k = send(x->fd, b + off, n - off, MSG_NOSIGNAL);
        if (k > 0) {
            conf_traffic_data(x->tr, x->stream, CONF_TR_SERVER, b + off, (size_t)k);
            off += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && net_now_ms() < x->run_deadline) {
            struct pollfd pf = {x->fd, POLLOUT, 0};
            poll(&pf, 1, 50);
            continue;
        }
        snprintf(x->why, sizeof x->why, "cannot send to the client: %s",
                 k < 0 ? strerror(errno) : "the run's deadline passed");
        return -1;
    }
    return off == n ? 0 : -1;
}

void seat_close(seat_ctx *x)
{
    if (x->fd < 0) return;
    if (!x->peer_closed) conf_traffic_close(x->tr, x->stream, CONF_TR_SERVER, false);
    close(x->fd);
    x->fd = -1;
}

void seat_note_process(seat_ctx *x)
{
    int64_t t = eng_rel(&x->rt, net_now_ms());
    char st[128];
    seat_proc_status_text(&x->proc, st, sizeof st);
    conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, t, "client process: %s", st);
    if (!x->proc.len) return;
    /* its output, line by line (the transcript shows what the client said) */
    char *s = x->proc.buf;
    for (int lines = 0; *s && lines < 40; lines++) {
        char *nl = strchr(s, '\n');
        size_t l = nl ? (size_t)(nl - s) : strlen(s);
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, t, "client output: %.*s", (int)l, s);
        s += l + (nl ? 1 : 0);
    }
    if (x->proc.dropped)
        conf_run_event(x->r, 0, EV_NOTE, (int)x->rt.step, t, "client output: (%zu more bytes not kept)", x->proc.dropped);
}
