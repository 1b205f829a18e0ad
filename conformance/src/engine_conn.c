/*
 * The engine's connections: opening them (non-blocking TCP, then TLS when
 * configured), sending buffered bytes, closing, and freeing a run's state.
 * Every byte send(2) accepts, and every open and close, also goes to the
 * run's traffic recording as it happens.
 */
#include "conformance/src/engine_int.h"

#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int64_t eng_scaled(const engine *e, int64_t ms)
{
    double v = (double)ms * e->cfg->time_scale;
    return v < 1 ? 1 : (int64_t)v;
}

int64_t eng_rel(const rt_state *rt, int64_t now)
{
    return now - rt->t0;
}

/* Hex of the first bytes, for messages about raw and undecodable data. */
void eng_hexdump(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        if (i == 48) { snprintf(out + o, cap - o, " ..."); return; }
        o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", p[i]);
    }
}

void eng_fmt_packet(const mqtt_packet *p, int vi, char *buf, size_t cap)
{
    mqtt_format_line(p, conf_vi_version(vi), buf, cap);
}

void eng_rx_free(rx *x)
{
    if (!x) return;
    free(x->topic_copy);
    free(x->bytes);
    free(x);
}

/* Closing our end: the kernel sends a FIN, or a RST when received data is
 * still unread (RFC 2525 2.17), which is what the recording says. A stream
 * the broker already closed keeps that close (conf_traffic_close takes the first). */
void eng_client_close(client *c)
{
    if (c->fd >= 0) {
        int unread = 0;
        if (c->stream >= 0 && ioctl(c->fd, FIONREAD, &unread) != 0) unread = 0;
        conf_traffic_close(c->tr, c->stream, CONF_TR_CLIENT, unread > 0);
        eng_ws_free(c);
        net_tls_free(c->tls); /* no close_notify: closing is abrupt unless the scenario disconnects */
        c->tls = NULL;
        c->tls_want = 0;
        close(c->fd);
    }
    c->stream = -1;
    c->fd = -1;
    c->state = CS_CLOSED;
    c->wlen = 0;
}

void eng_client_clear_inbox(client *c)
{
    for (size_t i = 0; i < c->nin; i++) eng_rx_free(c->inbox[i]);
    c->nin = 0;
    c->inbytes = 0;
}

/* Per-connection state of 5.0 limits: Topic Alias mappings last only as long
 * as the connection (MQTT-3.3.2-7); the limits come from the next CONNECT. */
void eng_client_clear_aliases(client *c)
{
    for (size_t i = 0; i < c->nalias; i++) free(c->alias[i].p);
    free(c->alias);
    c->alias = NULL;
    c->nalias = 0;
    c->alias_max = 0;
    c->max_packet = 0;
}

void eng_rt_free(rt_state *rt)
{
    if (!rt) return;
    for (size_t i = 0; i < rt->ncl; i++) {
        client *c = &rt->cl[i];
        eng_client_close(c);
        eng_client_clear_inbox(c);
        free(c->inbox);
        eng_client_clear_aliases(c);
        eng_rx_free(c->last);
        free(c->rbuf);
        free(c->wbuf);
    }
    free(rt->cl);
    conf_vars_free(&rt->vars);
    conf_traffic_free(rt->tr);
    free(rt);
}
/* ---- sockets ---- */

void eng_tls_begin(engine *e, conf_run *r, client *c, int ci, int64_t now);
void eng_flush(conf_run *r, client *c, int ci, int64_t now);

/* A connection of the caller's transport (the in-process broker): already connected. */
static int transport_connect(const conf_transport *t, const conf_run *r, int ci)
{
    char peer[64];
    snprintf(peer, sizeof peer, "%s/client%d", r->ns, ci);
    return t->connect(t->ctx, peer);
}

/* Its recording: a TCP stream from 127.0.0.1 (or ::1) and a port of its own
 * (counted from 20000), so that a capture of an in-process run opens in
 * Wireshark like one over TCP. */
static int transport_stream(conf_traffic *tr, int ci, const struct sockaddr_storage *to, socklen_t len)
{
    static unsigned next_port;
    struct sockaddr_storage local = *to;
    uint16_t port = htons((uint16_t)(20000 + next_port++ % 40000));
    if (local.ss_family == AF_INET) ((struct sockaddr_in *)&local)->sin_port = port;
    else if (local.ss_family == AF_INET6) ((struct sockaddr_in6 *)&local)->sin6_port = port;
    return conf_traffic_open_from(tr, ci, (struct sockaddr *)&local, (const struct sockaddr *)to, len);
}

int eng_start_connect(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    if (c->fd >= 0) eng_client_close(c);
    eng_client_clear_inbox(c);
    eng_client_clear_aliases(c);
    c->rlen = 0;
    c->wlen = 0;
    c->peer_closed = c->self_closed = c->garbage = c->any_form = false;
    c->why[0] = '\0';
    const conf_transport *t = e->cfg->transport;
    int cerr = 0; /* 0: connected, EINPROGRESS: under way, else failed (net.h) */
    int fd = t ? transport_connect(t, r, ci) : net_connect_start((struct sockaddr *)&e->addr, e->addrlen, &cerr);
    if (fd < 0) {
        snprintf(c->why, sizeof c->why, "%s: %s", t ? "in-process connect" : "socket", strerror(errno));
        c->state = CS_CLOSED;
        return -1;
    }
    c->fd = fd;
    c->stream = t ? transport_stream(c->tr, ci, &e->addr, e->addrlen)
                  : conf_traffic_open(c->tr, ci, fd, (struct sockaddr *)&e->addr, e->addrlen);
    if (cerr == 0) {
        conf_traffic_established(c->tr, c->stream);
        c->state = CS_OPEN;
    } else if (cerr == EINPROGRESS) {
        c->state = CS_CONNECTING;
    } else {
        snprintf(c->why, sizeof c->why, "connect %s: %s", e->target, strerror(cerr));
        if (cerr == ECONNREFUSED) conf_traffic_refused(c->tr, c->stream);
        eng_client_close(c);
        c->peer_closed = true;
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
        return -1;
    }
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "TCP connect to %s", e->target);
    if (c->state == CS_OPEN && e->cfg->tls) eng_tls_begin(e, r, c, ci, now);
    else if (c->state == CS_OPEN && e->cfg->ws_path) eng_transport_ready(e, r, c, ci, now);
    return 0;
}

/* The connection ended because of the TLS layer: the reason goes in c->why. */
void eng_tls_failed(conf_run *r, client *c, int ci, int64_t now, const char *why)
{
    rt_state *rt = r->rt;
    size_t n = strlen(why);
    if (n >= sizeof c->why) n = sizeof c->why - 1;
    memcpy(c->why, why, n);
    c->why[n] = '\0';
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
    eng_client_close(c);
    c->peer_closed = true;
    c->closed_at = now;
}

/* One handshake step; OPEN (and the queued bytes sent) once it is done. */
void eng_tls_step(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    char err[400];
    int rc = net_tls_handshake(c->tls, err, sizeof err);
    if (rc == NET_TLS_WANT_READ || rc == NET_TLS_WANT_WRITE) {
        c->tls_want = rc;
        return;
    }
    if (rc != 0) {
        const char *why = strncmp(err, "TLS handshake: ", 15) == 0 ? err + 15 : err;
        char full[720];
        snprintf(full, sizeof full, "TLS handshake with %s: %s", e->target, why);
        eng_tls_failed(r, c, ci, now, full);
        return;
    }
    c->tls_want = 0;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "TLS established (%s)", net_tls_version(c->tls));
    eng_transport_ready(e, r, c, ci, now);
}

/* The TCP connection is up: start the TLS handshake over it. */
void eng_tls_begin(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    char err[300];
    c->tls = net_tls_new(e->cfg->tls, c->fd, e->cfg->host, err, sizeof err);
    if (!c->tls) {
        eng_tls_failed(r, c, ci, now, err);
        return;
    }
    c->state = CS_TLS;
    eng_tls_step(e, r, c, ci, now);
}

void eng_flush(conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    if (c->ws) {
        eng_ws_flush(r, c, ci, now);
        return;
    }
    while (c->state == CS_OPEN && c->wlen > 0) {
        if (c->tls) {
            char err[300] = "";
            ssize_t n = net_tls_write(c->tls, c->wbuf, c->wlen, err, sizeof err);
            if (n > 0) {
                conf_traffic_data(c->tr, c->stream, CONF_TR_CLIENT, c->wbuf, (size_t)n);
                memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
                c->wlen -= (size_t)n;
                c->tls_want = 0;
                continue;
            }
            if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) {
                c->tls_want = (int)n;
                return;
            }
            char why[400];
            snprintf(why, sizeof why, "send failed: %s (the broker closed the connection)",
                     err[0] ? err : strerror(errno));
            conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, true);
            eng_tls_failed(r, c, ci, now, why);
            return;
        }
        ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
        if (n > 0) {
            conf_traffic_data(c->tr, c->stream, CONF_TR_CLIENT, c->wbuf, (size_t)n);
            memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
            c->wlen -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        snprintf(c->why, sizeof c->why, "send failed: %s (the broker closed the connection)",
                 n < 0 ? strerror(errno) : "nothing written");
        /* EPIPE/ECONNRESET: the broker's end answered with a reset */
        conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, true);
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
        eng_client_close(c);
        c->peer_closed = true;
        c->closed_at = now;
        return;
    }
}

/* Queues bytes for sending. Returns -1 if the client cannot send (message in *why). */
int eng_queue(conf_run *r, client *c, int ci, const uint8_t *b, size_t n, int64_t now)
{
    if (c->state == CS_IDLE) {
        snprintf(c->why, sizeof c->why, "not connected (add a connect or open step first)");
        return -1;
    }
    if (c->state == CS_CLOSED) return -1;
    if (c->wlen + n > c->wcap) {
        size_t nc = (c->wlen + n) * 2;
        uint8_t *nb = realloc(c->wbuf, nc);
        if (!nb) return -1;
        c->wbuf = nb;
        c->wcap = nc;
    }
    memcpy(c->wbuf + c->wlen, b, n);
    c->wlen += n;
    eng_flush(r, c, ci, now);
    return 0;
}
