/*
 * fz_exec: one session over TCP (see fz_exec.h). One poll loop serves every
 * connection: whatever any connection receives is recorded as it comes.
 * Streams are capped at FZ_MAX_STREAM bytes per direction and connection, so
 * a broker that floods cannot exhaust memory.
 */
#include "fuzz/live/src/fz_exec.h"

#include "fuzz/live/src/fz_ws_frames.h"
#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long to wait for the close that must follow a malformed packet. */
#define FZ_CLOSE_WAIT_MS 50

int64_t fz_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long fz_frame_size(const uint8_t *b, size_t len, size_t off)
{
    size_t rl = 0;
    for (size_t i = 1; i <= 4; i++) {
        if (off + i >= len) return 0;
        rl |= (size_t)(b[off + i] & 0x7f) << (7 * (i - 1));
        if (!(b[off + i] & 0x80)) return off + 1 + i + rl <= len ? (long)(1 + i + rl) : 0;
    }
    return -1;
}

void fz_quickack(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static int buf_add(fz_buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > FZ_MAX_STREAM) n = FZ_MAX_STREAM - b->len;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void event(fz_run *run, size_t c, fz_event_kind k, size_t off, size_t len)
{
    if (run->nev == run->evcap) {
        size_t cap = run->evcap ? 2 * run->evcap : 64;
        fz_event *e = realloc(run->ev, cap * sizeof *e);
        if (!e) return;
        run->ev = e;
        run->evcap = cap;
    }
    run->ev[run->nev++] = (fz_event){(uint8_t)c, (uint8_t)k, (uint32_t)off, (uint32_t)len, fz_now_us()};
}

void fz_run_record(fz_run *run, size_t c, fz_event_kind kind, const uint8_t *b, size_t n)
{
    fz_buf *buf = kind == FZ_EV_SEND ? &run->conn[c].out : kind == FZ_EV_RECV ? &run->conn[c].in : NULL;
    if (!buf) {
        event(run, c, kind, 0, 0);
        return;
    }
    size_t off = buf->len;
    buf_add(buf, b, n);
    event(run, c, kind, off, buf->len - off);
}

static void conn_close(fz_run *run, size_t c, bool by_broker)
{
    fz_conn *k = &run->conn[c];
    if (k->fd < 0) return;
    close(k->fd); /* abrupt, also over WebSocket: no close frame */
    k->fd = -1;
    net_ws_free(k->ws);
    k->ws = NULL;
    if (by_broker) k->broker_closed = run->closed_by_broker[k->client] = true;
    else k->client_closed = true;
    if (run->cur[k->client] == (int)c) run->cur[k->client] = -1;
    if (!by_broker) run->closed_by_broker[k->client] = false;
    event(run, c, by_broker ? FZ_EV_CLOSE_BROKER : FZ_EV_CLOSE_CLIENT, 0, 0);
}

/* MQTT bytes that arrived on c: recorded as one event. */
static void got(fz_run *run, size_t c, const uint8_t *b, size_t n)
{
    fz_conn *k = &run->conn[c];
    size_t off = k->in.len;
    buf_add(&k->in, b, n);
    if (k->in.len > off) event(run, c, FZ_EV_RECV, off, k->in.len - off);
}

/* WebSocket bytes that arrived on c: the MQTT stream inside is recorded, a
 * pong or close frame the framing owes goes out. Returns false when the
 * connection ends (a close frame, a bad frame). */
static bool ws_in(fz_run *run, size_t c, const uint8_t *raw, size_t n)
{
    fz_conn *k = &run->conn[c];
    char err[200];
    uint8_t buf[16384];
    int rc = net_ws_feed(k->ws, raw, n, err, sizeof err);
    for (size_t m; (m = net_ws_read(k->ws, buf, sizeof buf)) > 0;) got(run, c, buf, m);
    size_t olen;
    const uint8_t *out = net_ws_out(k->ws, &olen);
    if (olen && net_send_all(k->fd, out, olen, 1000) == (ssize_t)olen) net_ws_out_done(k->ws, olen);
    return rc == 0;
}

/* Sends MQTT bytes on c (one binary frame over WebSocket). Returns the count sent. */
static ssize_t conn_send(fz_conn *k, const uint8_t *b, size_t n, int timeout_ms)
{
    return k->ws ? fz_ws_send(k->ws, k->fd, b, n, k->out.len, timeout_ms) : net_send_all(k->fd, b, n, timeout_ms);
}

/* Reads what connection c has; closes it on EOF or error. */
static void conn_read(fz_run *run, size_t c)
{
    uint8_t buf[16384];
    fz_conn *k = &run->conn[c];
    for (int rounds = 0; rounds < 64 && k->fd >= 0; rounds++) {
        ssize_t n = read(k->fd, buf, sizeof buf);
        fz_quickack(k->fd);
        if (n > 0 && k->ws && ws_in(run, c, buf, (size_t)n)) continue;
        if (n > 0 && !k->ws) {
            got(run, c, buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        conn_close(run, c, true); /* EOF, an error, or a WebSocket close / bad frame */
    }
}

/* One poll over every open connection, up to timeout_ms. */
static void pump(fz_run *run, int timeout_ms)
{
    struct pollfd pfd[FZ_MAX_CONNS];
    size_t idx[FZ_MAX_CONNS], n = 0;
    for (size_t c = 0; c < run->nconn; c++) {
        if (run->conn[c].fd < 0) continue;
        pfd[n] = (struct pollfd){.fd = run->conn[c].fd, .events = POLLIN};
        idx[n++] = c;
    }
    if (!n || poll(pfd, n, timeout_ms) <= 0) return;
    for (size_t i = 0; i < n; i++)
        if (pfd[i].revents) conn_read(run, idx[i]);
}


/* Opens a connection for client `cl`. Returns its index, or -1 (refused or full). */
static int conn_open(fz_run *run, const fz_session *s, const fz_exec_opts *o, uint8_t cl)
{
    if (run->nconn == FZ_MAX_CONNS) return -1;
    size_t c = run->nconn++;
    fz_conn *k = &run->conn[c];
    *k = (fz_conn){.fd = -1, .client = cl, .version = s->version, .out_ok = true};
    char err[256];
    k->fd = net_connect(o->host, o->port, o->connect_ms, err, sizeof err);
    if (k->fd < 0) {
        k->refused = true;
        run->refused++;
        event(run, c, FZ_EV_REFUSED, 0, 0);
        return -1;
    }
    if (o->ws_path && !(k->ws = net_ws_connect(k->fd, NULL, o->host, o->port, o->ws_path, 0, o->connect_ms, err, sizeof err))) {
        close(k->fd);
        k->fd = -1;
        k->refused = true; /* the upgrade failed: for the oracles, as good as refused */
        run->refused++;
        event(run, c, FZ_EV_REFUSED, 0, 0);
        return -1;
    }
    fz_quickack(k->fd);
    socklen_t ll = sizeof k->local, pl = sizeof k->peer;
    getsockname(k->fd, (struct sockaddr *)&k->local, &ll);
    getpeername(k->fd, (struct sockaddr *)&k->peer, &pl);
    run->cur[cl] = (int)c;
    event(run, c, FZ_EV_OPEN, 0, 0);
    return (int)c;
}

/* The packet type the broker must answer p with, or 0. */
static int answer_type(const mqtt_packet *p)
{
    switch (p->type) {
    case MQTT_CONNECT: return MQTT_CONNACK;
    case MQTT_SUBSCRIBE: return MQTT_SUBACK;
    case MQTT_UNSUBSCRIBE: return MQTT_UNSUBACK;
    case MQTT_PINGREQ: return MQTT_PINGRESP;
    case MQTT_PUBREL: return MQTT_PUBCOMP;
    case MQTT_PUBLISH: return p->publish.qos == 1 ? MQTT_PUBACK : p->publish.qos == 2 ? MQTT_PUBREC : 0;
    default: return 0;
    }
}

/* Decodes what c sent since the last call; returns the answer type the last
 * whole packet needs (0 if none). Bytes that do not decode clear out_ok. */
static int parse_out(fz_conn *k)
{
    mqtt_user_property up[32];
    uint32_t sid[16];
    mqtt_subscription subs[32];
    mqtt_codec codec = {.version = k->version, .from = MQTT_FROM_CLIENT, .user_properties = up,
                        .user_properties_cap = 32, .subscription_identifiers = sid,
                        .subscription_identifiers_cap = 16, .subscriptions = subs, .subscriptions_cap = 32};
    int want = 0;
    while (k->out_ok && k->out_parsed < k->out.len) {
        mqtt_packet p;
        mqtt_status st = mqtt_decode(&codec, k->out.p + k->out_parsed, k->out.len - k->out_parsed, &p, NULL);
        if (st == MQTT_NEED_MORE) break;
        if (st != MQTT_OK) {
            k->out_ok = false;
            break;
        }
        /* CONNECT first and only once (MQTT-3.1.0-1, -2): anything else is a
         * protocol error the broker closes for, as for bytes that do not decode. */
        if ((k->out_parsed == 0) != (p.type == MQTT_CONNECT)) {
            k->out_ok = false;
            break;
        }
        if (p.type == MQTT_CONNECT) codec.version = k->version = (mqtt_version)p.connect.protocol_level;
        if (p.type == MQTT_DISCONNECT) k->sent_disconnect = true;
        k->out_parsed += p.length;
        want = answer_type(&p);
    }
    return want;
}

/* Whether c received a packet of type t (framed from in_framed on). Notes a
 * successful CONNACK (accepted). */
static bool got_type(fz_conn *k, int t)
{
    bool found = false;
    for (;;) {
        long n = fz_frame_size(k->in.p, k->in.len, k->in_framed);
        if (n <= 0) return found;
        const uint8_t *b = k->in.p + k->in_framed;
        if (b[0] >> 4 == MQTT_CONNACK && n >= 4 && b[3] == 0) k->accepted = true;
        if (b[0] >> 4 == t) found = true;
        k->in_framed += (size_t)n;
    }
}

/* Waits until connection c gets a packet of type t or closes, up to ms. With
 * `progress`, bytes still arriving extend the wait (up to 10 x ms): a broker
 * delivering thousands of retained messages to a '#' subscriber is busy, not hung. */
static bool wait_answer(fz_run *run, size_t c, int t, int ms, bool progress)
{
    int64_t start = net_now_ms(), end = start + ms, cap = start + 10 * (int64_t)ms;
    fz_conn *k = &run->conn[c];
    for (size_t seen = k->in.len;;) {
        if (got_type(k, t)) return true;
        if (k->fd < 0) return true;
        if (progress && k->in.len > seen) {
            seen = k->in.len;
            end = net_now_ms() + ms < cap ? net_now_ms() + ms : cap;
        }
        int64_t left = end - net_now_ms();
        if (left <= 0) return false;
        pump(run, (int)left);
    }
}

static void do_send(fz_run *run, const fz_session *s, const fz_exec_opts *o, const fz_step *st)
{
    int c = run->cur[st->client];
    /* After the broker closed this client, only a CONNECT opens a new connection:
     * the rest of the old conversation would only be closed again. */
    if (c < 0 && run->closed_by_broker[st->client] && st->bytes[0] != 0x10) return;
    if (c < 0 && (c = conn_open(run, s, o, st->client)) < 0) return;
    fz_conn *k = &run->conn[c];
    size_t off = k->out.len;
    if (conn_send(k, st->bytes, st->len, o->answer_ms) != (ssize_t)st->len) {
        conn_close(run, (size_t)c, true);
        return;
    }
    buf_add(&k->out, st->bytes, st->len);
    event(run, (size_t)c, FZ_EV_SEND, off, st->len);
    bool was_ok = k->out_ok;
    int want = parse_out(k);
    if (o->plain) pump(run, 0);
    /* A packet that does not decode: the broker MUST close (MQTT-4.8.0-1,
     * MQTT-4.13.1-1); waiting a little for it keeps the rest of the session
     * from depending on how fast it does. */
    else if (was_ok && !k->out_ok) wait_answer(run, (size_t)c, -1, FZ_CLOSE_WAIT_MS, false);
    else if (want) wait_answer(run, (size_t)c, want, o->answer_ms, false);
    else pump(run, 0);
}

/* The hang oracle: a PINGREQ on every live, accepted, well-behaved
 * connection. Two rounds: after the first, the broker has processed
 * everything any client sent, so after the second every message it routed
 * has been delivered (what the differential oracle counts). */
static void sync_all(fz_run *run, const fz_exec_opts *o)
{
    static const uint8_t pingreq[2] = {0xc0, 0x00};
    for (int round = 0; round < 2; round++) {
        for (size_t c = 0; c < run->nconn; c++) {
            fz_conn *k = &run->conn[c];
            got_type(k, 0);
            if (k->fd < 0 || !k->accepted || !k->out_ok || k->out_parsed != k->out.len || k->sent_disconnect)
                continue;
            if (conn_send(k, pingreq, 2, o->hang_ms) != 2) continue;
            size_t off = k->out.len;
            buf_add(&k->out, pingreq, 2);
            k->out_parsed += 2;
            event(run, c, FZ_EV_SEND, off, 2);
            if (!wait_answer(run, c, MQTT_PINGRESP, o->hang_ms, true)) {
                run->hang_conn = (int)c;
                return;
            }
            k->synced = round == 1 && k->fd >= 0;
        }
    }
}

int fz_exec(const fz_session *s, const fz_exec_opts *o, fz_run *run)
{
    memset(run, 0, sizeof *run);
    run->hang_conn = -1;
    run->t0_us = fz_now_us();
    for (int i = 0; i < FZ_MAX_CLIENTS; i++) run->cur[i] = -1;
    for (size_t i = 0; i < s->nsteps; i++) {
        const fz_step *st = &s->steps[i];
        if (st->kind == FZ_SEND) do_send(run, s, o, st);
        else if (run->cur[st->client] >= 0) conn_close(run, (size_t)run->cur[st->client], false);
    }
    run->sync_ev = run->nev;
    if (!o->plain) sync_all(run, o);
    pump(run, 0);
    run->end_ev = run->nev;
    for (size_t c = 0; c < run->nconn; c++) conn_close(run, c, false);
    return 0;
}

void fz_run_free(fz_run *run)
{
    for (size_t c = 0; c < run->nconn; c++) {
        free(run->conn[c].out.p);
        free(run->conn[c].in.p);
    }
    free(run->ev);
    memset(run, 0, sizeof *run);
}
