/*
 * The run engine (engine.h). One poll(2) loop drives up to `jobs` runs; each
 * run is a step machine over its scenario, each client a non-blocking socket
 * with an output buffer and an inbox of decoded packets.
 *
 * Invariants:
 * - Packets are built only with mqtt_encode and read only with mqtt_decode;
 *   the one exception is `send raw`, which is bytes by definition.
 * - Nothing blocks: connects are non-blocking, sends are buffered, and every
 *   wait is a deadline checked by the loop. A run past its scenario deadline
 *   ends as `error`, whatever it was waiting for.
 * - Bytes from the broker that do not decode end that client's stream (it
 *   cannot be re-synchronised) and are reported with the codec's rule id.
 * - Every byte send(2) accepts and recv(2) returns, and every connect and
 *   close, is also given to the run's traffic recording (traffic.h) as it
 *   happens, so a run's pcap shows the wire as it was, garbage included.
 * - With TLS (cfg->tls), a connection goes CONNECTING -> TLS (handshake,
 *   stepped by the loop when the socket is ready, under the step's and the
 *   run's deadlines like any wait) -> OPEN; bytes queued meanwhile go out
 *   once it is OPEN. The recording then gets the plaintext MQTT bytes that
 *   SSL_write accepted and SSL_read returned, on the real TCP connection.
 *   Decrypted bytes OpenSSL still holds are read without waiting for poll(2).
 */
#include "conformance/src/engine.h"
#include "conformance/src/traffic.h"

#include "net/net.h"
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_EXPECT_MS 2000
#define DEFAULT_NOTHING_MS 500

static const char *const verdict_names[V__COUNT] = {
    "pending", "pass", "fail", "warn", "skip", "error", "expected-failure", "unexpected-pass", "not run"};

const char *conf_verdict_name(conf_verdict v)
{
    return v < V__COUNT ? verdict_names[v] : "?";
}

bool conf_verdict_bad(conf_verdict v)
{
    return v == V_FAIL || v == V_ERROR || v == V_XPASS || v == V_NOTRUN;
}

bool conf_verdict_bad_strict(conf_verdict v, bool strict)
{
    return conf_verdict_bad(v) || (strict && v == V_WARN);
}

/* ---- per-run state ---- */

typedef struct {
    uint8_t *bytes;
    size_t len;
    int64_t t_ms;
    mqtt_packet pkt;
    mqtt_user_property up[64];
    uint32_t sid[32];
    mqtt_subscription subs[8];
    uint8_t *topic_copy;   /* the topic a Topic Alias stood for (5.0), owned */
} rx;

typedef struct {
    uint8_t *p;
    size_t n;
} alias_slot;

enum { CS_IDLE, CS_CONNECTING, CS_TLS, CS_OPEN, CS_CLOSED };

typedef struct {
    int fd;
    net_tls *tls;          /* the TLS connection over fd (cfg->tls), NULL: plain TCP */
    int tls_want;          /* NET_TLS_WANT_READ/WRITE: what the TLS layer waits for, 0: nothing */
    int state;
    bool peer_closed;      /* the broker closed (EOF or reset) */
    bool self_closed;      /* we closed (disconnect/drop) */
    bool garbage;          /* undecodable bytes arrived */
    char why[640];         /* how the connection ended, for messages */
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t wlen, wcap;
    rx **inbox;
    size_t nin, incap;
    rx *last;              /* what the last expect matched */
    uint16_t alias_max;    /* Topic Alias Maximum this client sent in CONNECT (5.0) */
    uint32_t max_packet;   /* Maximum Packet Size this client sent in CONNECT (5.0), 0: none */
    alias_slot *alias;     /* [alias] -> topic (owned copies), for PUBLISH from the broker */
    size_t nalias;         /* slots allocated (alias_max + 1 once used) */
    uint16_t next_pid;
    int64_t closed_at;
    conf_traffic *tr;      /* the run's recording (NULL: none) */
    int stream;            /* this connection's stream in it, -1 */
} client;

typedef struct {
    client *cl;
    size_t ncl;
    conf_vars vars;
    size_t step;
    int phase;
    int64_t t0;
    int64_t step_deadline;
    int64_t step_started;
    int64_t run_deadline;
    uint16_t pid;          /* shortcut: the packet id in flight */
    uint8_t want_codes[32];
    size_t nwant;
    int group_matched;     /* member that matched the last group (a|b) expect, -1 */
    bool done;
    conf_traffic *tr;      /* what went over the wire, for the pcap (NULL: not recorded) */
} rt_state;

typedef struct {
    const conf_engine_cfg *cfg;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char target[300];
    char **pcap_names;     /* file names written in this invocation (kept unique) */
    size_t npcap;
} engine;

void conf_run_event(conf_run *r, int cl, int kind, int step, int64_t t_ms, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->nev == r->evcap) {
        size_t nc = r->evcap ? r->evcap * 2 : 16;
        conf_event *ne = realloc(r->ev, nc * sizeof *ne);
        if (!ne) return;
        r->ev = ne;
        r->evcap = nc;
    }
    r->ev[r->nev++] = (conf_event){t_ms, cl, kind, step, strdup(buf)};
}

void conf_run_free(conf_run *r)
{
    for (size_t i = 0; i < r->nev; i++) free(r->ev[i].text);
    free(r->ev);
    for (size_t i = 0; i < r->nfind; i++) free(r->find[i].text);
    free(r->find);
    r->find = NULL;
    r->nfind = 0;
    free(r->message);
    free(r->pcap);
    r->ev = NULL;
    r->nev = r->evcap = 0;
    r->message = NULL;
    r->pcap = NULL;
}

static int64_t scaled(const engine *e, int64_t ms)
{
    double v = (double)ms * e->cfg->time_scale;
    return v < 1 ? 1 : (int64_t)v;
}

static int64_t rel(const rt_state *rt, int64_t now)
{
    return now - rt->t0;
}

/* Hex of the first bytes, for messages about raw and undecodable data. */
static void hexdump(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        if (i == 48) { snprintf(out + o, cap - o, " ..."); return; }
        o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", p[i]);
    }
}

static void fmt_packet(const mqtt_packet *p, int vi, char *buf, size_t cap)
{
    mqtt_format_line(p, conf_vi_version(vi), buf, cap);
}

static void rx_free(rx *x)
{
    if (!x) return;
    free(x->topic_copy);
    free(x->bytes);
    free(x);
}

/* Closing our end: the kernel sends a FIN, or a RST when received data is
 * still unread (RFC 2525 2.17), which is what the recording says. A stream
 * the broker already closed keeps that close (conf_traffic_close takes the first). */
static void client_close(client *c)
{
    if (c->fd >= 0) {
        int unread = 0;
        if (c->stream >= 0 && ioctl(c->fd, FIONREAD, &unread) != 0) unread = 0;
        conf_traffic_close(c->tr, c->stream, CONF_TR_CLIENT, unread > 0);
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

static void client_clear_inbox(client *c)
{
    for (size_t i = 0; i < c->nin; i++) rx_free(c->inbox[i]);
    c->nin = 0;
}

/* Per-connection state of 5.0 limits: Topic Alias mappings last only as long
 * as the connection (MQTT-3.3.2-7); the limits come from the next CONNECT. */
static void client_clear_aliases(client *c)
{
    for (size_t i = 0; i < c->nalias; i++) free(c->alias[i].p);
    free(c->alias);
    c->alias = NULL;
    c->nalias = 0;
    c->alias_max = 0;
    c->max_packet = 0;
}

static void rt_free(rt_state *rt)
{
    if (!rt) return;
    for (size_t i = 0; i < rt->ncl; i++) {
        client *c = &rt->cl[i];
        client_close(c);
        client_clear_inbox(c);
        free(c->inbox);
        client_clear_aliases(c);
        rx_free(c->last);
        free(c->rbuf);
        free(c->wbuf);
    }
    free(rt->cl);
    conf_vars_free(&rt->vars);
    conf_traffic_free(rt->tr);
    free(rt);
}

/* ---- ending a run ---- */

static void finish(conf_run *r, conf_verdict v, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finish(conf_run *r, conf_verdict v, int64_t now, const char *fmt, ...)
{
    rt_state *rt = r->rt;
    if (rt->done) return;
    rt->done = true;
    r->verdict = v;
    if (fmt) {
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(r->message);
        r->message = strdup(buf);
        r->fail_step = (int)rt->step;
        conf_run_event(r, -1, EV_FAIL, (int)rt->step, rel(rt, now), "%s", buf);
    }
}

/* ---- sockets ---- */

static void tls_begin(engine *e, conf_run *r, client *c, int ci, int64_t now);
static void flush(conf_run *r, client *c, int ci, int64_t now);

static int start_connect(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    if (c->fd >= 0) client_close(c);
    client_clear_inbox(c);
    client_clear_aliases(c);
    c->rlen = 0;
    c->wlen = 0;
    c->peer_closed = c->self_closed = c->garbage = false;
    c->why[0] = '\0';
    int fd = socket(e->addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0 || net_set_nonblocking(fd) < 0) {
        if (fd >= 0) close(fd);
        snprintf(c->why, sizeof c->why, "socket: %s", strerror(errno));
        c->state = CS_CLOSED;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    int crc = connect(fd, (struct sockaddr *)&e->addr, e->addrlen);
    int cerr = errno;
    c->stream = conf_traffic_open(c->tr, ci, fd, (struct sockaddr *)&e->addr, e->addrlen);
    if (crc == 0) {
        conf_traffic_established(c->tr, c->stream);
        c->state = CS_OPEN;
    } else if (cerr == EINPROGRESS) {
        c->state = CS_CONNECTING;
    } else {
        snprintf(c->why, sizeof c->why, "connect %s: %s", e->target, strerror(cerr));
        if (cerr == ECONNREFUSED) conf_traffic_refused(c->tr, c->stream);
        client_close(c);
        c->peer_closed = true;
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
        return -1;
    }
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "TCP connect to %s", e->target);
    if (c->state == CS_OPEN && e->cfg->tls) tls_begin(e, r, c, ci, now);
    return 0;
}

/* The connection ended because of the TLS layer: the reason goes in c->why. */
static void tls_failed(conf_run *r, client *c, int ci, int64_t now, const char *why)
{
    rt_state *rt = r->rt;
    size_t n = strlen(why);
    if (n >= sizeof c->why) n = sizeof c->why - 1;
    memcpy(c->why, why, n);
    c->why[n] = '\0';
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
    client_close(c);
    c->peer_closed = true;
    c->closed_at = now;
}

/* One handshake step; OPEN (and the queued bytes sent) once it is done. */
static void tls_step(engine *e, conf_run *r, client *c, int ci, int64_t now)
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
        tls_failed(r, c, ci, now, full);
        return;
    }
    c->tls_want = 0;
    c->state = CS_OPEN;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "TLS established (%s)", net_tls_version(c->tls));
    flush(r, c, ci, now);
}

/* The TCP connection is up: start the TLS handshake over it. */
static void tls_begin(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    char err[300];
    c->tls = net_tls_new(e->cfg->tls, c->fd, e->cfg->host, err, sizeof err);
    if (!c->tls) {
        tls_failed(r, c, ci, now, err);
        return;
    }
    c->state = CS_TLS;
    tls_step(e, r, c, ci, now);
}

static void flush(conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
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
            tls_failed(r, c, ci, now, why);
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
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
        client_close(c);
        c->peer_closed = true;
        c->closed_at = now;
        return;
    }
}

/* Queues bytes for sending. Returns -1 if the client cannot send (message in *why). */
static int queue(conf_run *r, client *c, int ci, const uint8_t *b, size_t n, int64_t now)
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
    flush(r, c, ci, now);
    return 0;
}

/* A PUBLISH from the broker with a Topic Alias (5.0): remember the mapping
 * when it carries a topic, or stand the mapped topic in (copied into x) when
 * its topic is empty, so scenarios match real topic names either way. An
 * alias the client did not allow, or one with no mapping, is the broker's
 * protocol error: it is reported like undecodable bytes (the stream is not
 * read further). Returns false then, with c->why set. */
static bool resolve_alias(client *c, rx *x)
{
    mqtt_publish *p = &x->pkt.publish;
    if (!MQTT_HAS_PROP(&p->properties, MQTT_PROP_TOPIC_ALIAS)) return true;
    uint16_t a = p->properties.topic_alias;
    if (a == 0 || a > c->alias_max) {
        snprintf(c->why, sizeof c->why, "the broker sent Topic Alias %u but this client allows %s%u "
                 "(Topic Alias Maximum in its CONNECT; 5.0 MQTT-3.3.2-11, MQTT-3.1.2-27)",
                 (unsigned)a, c->alias_max ? "1 to " : "", (unsigned)c->alias_max);
        return false;
    }
    if (c->nalias <= a) {
        alias_slot *na = realloc(c->alias, ((size_t)c->alias_max + 1) * sizeof *na);
        if (!na) return true;
        memset(na + c->nalias, 0, ((size_t)c->alias_max + 1 - c->nalias) * sizeof *na);
        c->alias = na;
        c->nalias = (size_t)c->alias_max + 1;
    }
    alias_slot *s = &c->alias[a];
    if (p->topic.len > 0) {
        uint8_t *t = malloc(p->topic.len);
        if (!t) return true;
        memcpy(t, p->topic.ptr, p->topic.len);
        free(s->p);
        s->p = t;
        s->n = p->topic.len;
        return true;
    }
    if (!s->p) {
        snprintf(c->why, sizeof c->why, "the broker sent an empty topic with Topic Alias %u, which it never "
                 "mapped on this connection (5.0 section 3.3.4: a Protocol Error)", (unsigned)a);
        return false;
    }
    x->topic_copy = malloc(s->n);
    if (!x->topic_copy) return true;
    memcpy(x->topic_copy, s->p, s->n);
    p->topic = (mqtt_bytes){x->topic_copy, s->n};
    return true;
}

static void on_readable(conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            size_t nc = c->rcap ? c->rcap * 2 : 16384;
            if (nc > ((size_t)MQTT_MAX_PACKET_SIZE)) nc = MQTT_MAX_PACKET_SIZE;
            if (nc <= c->rlen) {
                snprintf(c->why, sizeof c->why, "receive buffer full");
                client_close(c);
                return;
            }
            uint8_t *nb = realloc(c->rbuf, nc);
            if (!nb) return;
            c->rbuf = nb;
            c->rcap = nc;
        }
        if (c->tls) {
            char err[300] = "";
            ssize_t n = net_tls_read(c->tls, c->rbuf + c->rlen, c->rcap - c->rlen, err, sizeof err);
            if (n > 0) {
                conf_traffic_data(c->tr, c->stream, CONF_TR_SERVER, c->rbuf + c->rlen, (size_t)n);
                c->rlen += (size_t)n;
                continue;
            }
            if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) {
                c->tls_want = n == NET_TLS_WANT_WRITE ? NET_TLS_WANT_WRITE : 0;
                break;
            }
            /* 0: close_notify or EOF; -1: a TLS alert or a reset */
            conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, n < 0);
            if (n == 0) snprintf(c->why, sizeof c->why, "the broker closed the connection");
            else snprintf(c->why, sizeof c->why, "the broker ended the TLS connection: %s", err[0] ? err : "error");
            c->peer_closed = true;
            c->closed_at = now;
            break;
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n > 0) {
            conf_traffic_data(c->tr, c->stream, CONF_TR_SERVER, c->rbuf + c->rlen, (size_t)n);
            c->rlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        int rerr = n < 0 ? errno : 0;
        if (n == 0 || rerr == ECONNRESET) conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, n < 0);
        snprintf(c->why, sizeof c->why, "%s", n == 0 ? "the broker closed the connection"
                                                     : rerr == ECONNRESET ? "the broker reset the connection"
                                                                          : strerror(rerr));
        c->peer_closed = true;
        c->closed_at = now;
        break;
    }
    /* Decode every complete packet. */
    mqtt_codec codec = {.version = conf_vi_version(r->vi), .from = MQTT_FROM_SERVER};
    size_t off = 0;
    while (off < c->rlen && !c->garbage) {
        rx *x = calloc(1, sizeof *x);
        if (!x) break;
        codec.user_properties = x->up;
        codec.user_properties_cap = 64;
        codec.subscription_identifiers = x->sid;
        codec.subscription_identifiers_cap = 32;
        codec.subscriptions = x->subs;
        codec.subscriptions_cap = 8;
        mqtt_error err = {0};
        mqtt_packet tmp;
        mqtt_status s = mqtt_decode(&codec, c->rbuf + off, c->rlen - off, &tmp, &err);
        if (s == MQTT_NEED_MORE) { free(x); break; }
        if (s != MQTT_OK) {
            char e[256], hx[200];
            mqtt_format_error(&err, e, sizeof e);
            hexdump(hx, sizeof hx, c->rbuf + off, c->rlen - off);
            snprintf(c->why, sizeof c->why, "the broker sent bytes that do not decode: %s; bytes: %s", e, hx);
            conf_run_event(r, ci, EV_RECV, (int)rt->step, rel(rt, now), "undecodable: %s [%s]", e, hx);
            c->garbage = true;
            free(x);
            break;
        }
        /* Copy the packet's bytes so its views outlive the receive buffer. */
        x->len = tmp.length;
        x->bytes = malloc(x->len ? x->len : 1);
        if (!x->bytes) { free(x); break; }
        memcpy(x->bytes, c->rbuf + off, x->len);
        mqtt_decode(&codec, x->bytes, x->len, &x->pkt, NULL);
        x->t_ms = rel(rt, now);
        off += tmp.length;
        char line[1024];
        fmt_packet(&x->pkt, r->vi, line, sizeof line);
        conf_run_event(r, ci, EV_RECV, (int)rt->step, rel(rt, now), "%s", line);
        if (c->max_packet && x->len > c->max_packet) {
            /* a packet this client said it would not process (5.0 MQTT-3.1.2-24) */
            snprintf(c->why, sizeof c->why, "the broker sent a %zu-byte %s but this client's Maximum Packet Size is "
                     "%" PRIu32 " (5.0 MQTT-3.1.2-24)", x->len, mqtt_packet_type_name(x->pkt.type), c->max_packet);
            conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
            c->garbage = true;
            rx_free(x);
            break;
        }
        if (r->vi == CONF_VI_5 && x->pkt.type == MQTT_PUBLISH) {
            bool empty = x->pkt.publish.topic.len == 0;
            if (!resolve_alias(c, x)) {
                conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
                c->garbage = true;
                rx_free(x);
                break;
            }
            if (empty && x->topic_copy)
                conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "topic alias %u stands for \"%.*s\"",
                               (unsigned)x->pkt.publish.properties.topic_alias, (int)x->pkt.publish.topic.len,
                               (const char *)x->pkt.publish.topic.ptr);
        }
        if (c->nin == c->incap) {
            size_t nc = c->incap ? c->incap * 2 : 8;
            rx **ni = realloc(c->inbox, nc * sizeof *ni);
            if (!ni) { rx_free(x); break; }
            c->inbox = ni;
            c->incap = nc;
        }
        c->inbox[c->nin++] = x;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->peer_closed || c->garbage) {
        if (c->peer_closed && c->rlen > 0 && !c->garbage) {
            char hx[200];
            hexdump(hx, sizeof hx, c->rbuf, c->rlen);
            conf_run_event(r, ci, EV_RECV, (int)rt->step, rel(rt, now), "incomplete packet before close [%s]", hx);
        }
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s",
                       c->garbage ? "stopped reading: the stream cannot be resynchronised" : c->why);
        client_close(c);
        c->closed_at = now;
    }
}

/* ---- building and sending packets ---- */

/* Substitutes a field's value; on error finishes the run. */
static char *value_of(conf_run *r, const conf_field *f, size_t *len, int64_t now)
{
    rt_state *rt = r->rt;
    char err[256];
    if (f->kind == VK_FILL && f->len > 0) {
        /* fill:${var}: the variable holds the byte count; expand it here */
        size_t nl;
        char *n = conf_subst(f->text, f->len, r->ns, r->vi, &rt->vars, &nl, err, sizeof err);
        if (!n) { finish(r, V_ERROR, now, "line %d: %s", f->line, err); return NULL; }
        char *end;
        unsigned long count = strtoul(n, &end, 10);
        bool ok = nl > 0 && !*end && count <= 268435455ul;
        free(n);
        if (!ok) { finish(r, V_ERROR, now, "line %d: fill: expected a byte count in the variable", f->line); return NULL; }
        char *c = malloc(count + 1);
        if (!c) { finish(r, V_ERROR, now, "out of memory"); return NULL; }
        memset(c, 'x', count);
        c[count] = '\0';
        *len = count;
        return c;
    }
    if (f->kind == VK_HEX || f->kind == VK_FILL) {
        char *c = malloc(f->len + 1);
        if (c) { memcpy(c, f->text, f->len); c[f->len] = '\0'; }
        *len = f->len;
        return c;
    }
    char *v = conf_subst(f->text, f->len, r->ns, r->vi, &rt->vars, len, err, sizeof err);
    if (!v) finish(r, V_ERROR, now, "line %d: %s", f->line, err);
    return v;
}

static int apply_fields(conf_run *r, conf_build *b, const conf_step *st, int64_t now)
{
    for (size_t i = 0; i < st->nfields; i++) {
        size_t len;
        char *v = value_of(r, &st->fields[i], &len, now);
        if (!v) return -1;
        const char *bad = conf_build_set(b, r->vi, &st->fields[i], v, len);
        if (bad) {
            finish(r, V_ERROR, now, "line %d: %s: expected %s, found \"%s\"", st->fields[i].line,
                   conf_field_name(st->fields[i].id, st->fields[i].prop), bad, v);
            free(v);
            return -1;
        }
        free(v);
    }
    return 0;
}

static bool has_field(const conf_step *st, conf_field_id id)
{
    for (size_t i = 0; i < st->nfields; i++)
        if (st->fields[i].id == id) return true;
    return false;
}

static uint16_t next_pid(client *c)
{
    if (++c->next_pid == 0) c->next_pid = 1;
    return c->next_pid;
}

/* Encodes and queues b->pkt for client ci. Returns 0, or -1 with the run finished. */
static int send_packet(engine *e, conf_run *r, int ci, conf_build *b, int64_t now)
{
    (void)e;
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    mqtt_codec codec = {.version = conf_vi_version(r->vi), .from = MQTT_FROM_CLIENT};
    uint8_t stackbuf[4096];
    uint8_t *buf = stackbuf;
    size_t size = 0;
    mqtt_error err = {0};
    char line[1024];
    fmt_packet(&b->pkt, r->vi, line, sizeof line);
    mqtt_status s = mqtt_encoded_size(&codec, &b->pkt, &size, &err);
    if (s == MQTT_OK && size > sizeof stackbuf) buf = malloc(size);
    if (s == MQTT_OK && buf) s = mqtt_encode(&codec, &b->pkt, buf, size, &size, &err);
    if (s != MQTT_OK || !buf) {
        char es[256] = "out of memory";
        if (buf) mqtt_format_error(&err, es, sizeof es);
        if (buf != stackbuf) free(buf);
        finish(r, V_ERROR, now, "the codec refuses to build %s: %s (use `send raw` for packets the spec forbids)",
               line, es);
        return -1;
    }
    conf_run_event(r, ci, EV_SENT, (int)rt->step, rel(rt, now), "%s", line);
    int q = queue(r, c, ci, buf, size, now);
    if (buf != stackbuf) free(buf);
    if (q < 0) {
        finish(r, V_FAIL, now, "%s cannot send %s: %s", r->sc->clients[ci], mqtt_packet_type_name(b->pkt.type),
               c->why[0] ? c->why : "connection closed");
        return -1;
    }
    return 0;
}

/* Builds and sends a packet of type t from a step's fields (plus defaults). */
static int send_from_step(engine *e, conf_run *r, const conf_step *st, mqtt_packet_type t, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[st->client];
    conf_build *b = calloc(1, sizeof *b);
    if (!b) return -1;
    b->pkt.type = t;
    char idbuf[64];
    if (t == MQTT_CONNECT) {
        snprintf(idbuf, sizeof idbuf, "%s-%s", r->ns, r->sc->clients[st->client]);
        b->pkt.connect.client_id = (mqtt_bytes){(const uint8_t *)idbuf, strlen(idbuf)};
        b->pkt.connect.clean_start = true;
        b->pkt.connect.keep_alive = 60;
        if (e->cfg->username) {
            b->pkt.connect.has_username = true;
            b->pkt.connect.username = (mqtt_bytes){(const uint8_t *)e->cfg->username, strlen(e->cfg->username)};
        }
        if (e->cfg->password) {
            b->pkt.connect.has_password = true;
            b->pkt.connect.password = (mqtt_bytes){(const uint8_t *)e->cfg->password, strlen(e->cfg->password)};
        }
    }
    int rc = apply_fields(r, b, st, now);
    if (rc == 0) {
        if (t == MQTT_PUBLISH && b->pkt.publish.qos > 0 && !has_field(st, F_PACKET_ID))
            b->pkt.publish.packet_id = next_pid(c);
        if ((t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE) && !has_field(st, F_PACKET_ID))
            b->pkt.subscribe.packet_id = next_pid(c);
        if (t == MQTT_PUBLISH) rt->pid = b->pkt.publish.packet_id;
        if (t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE) {
            rt->pid = b->pkt.subscribe.packet_id;
            rt->nwant = 0;
            for (size_t i = 0; i < b->pkt.subscribe.count && i < 32; i++)
                rt->want_codes[rt->nwant++] = b->subs[i].qos;
        }
        if (t == MQTT_CONNECT && (c->state == CS_IDLE || c->state == CS_CLOSED))
            start_connect(e, r, c, st->client, now);
        if (t == MQTT_CONNECT) {
            const mqtt_properties *cp = &b->pkt.connect.properties;
            c->alias_max = r->vi == CONF_VI_5 && MQTT_HAS_PROP(cp, MQTT_PROP_TOPIC_ALIAS_MAXIMUM)
                               ? cp->topic_alias_maximum : 0;
            c->max_packet = r->vi == CONF_VI_5 && MQTT_HAS_PROP(cp, MQTT_PROP_MAXIMUM_PACKET_SIZE)
                                ? cp->maximum_packet_size : 0;
        }
        if (c->state == CS_CLOSED && t == MQTT_CONNECT) {
            finish(r, V_ERROR, now, "%s: %s", r->sc->clients[st->client], c->why);
            rc = -1;
        } else {
            rc = send_packet(e, r, st->client, b, now);
        }
    }
    conf_build_free(b);
    free(b);
    return rc;
}

/* An ack (PUBACK/PUBREC/PUBREL/PUBCOMP) for packet id pid. */
static int send_ack(engine *e, conf_run *r, int ci, mqtt_packet_type t, uint16_t pid, int64_t now)
{
    conf_build b = {0};
    b.pkt.type = t;
    b.pkt.ack.packet_id = pid;
    int rc = send_packet(e, r, ci, &b, now);
    conf_build_free(&b);
    return rc;
}

static int send_raw(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[st->client];
    size_t cap = 256, n = 0, star_at = (size_t)-1;
    uint8_t *buf = malloc(cap);
    char err[256];
    for (size_t i = 0; buf && i < st->nraw; i++) {
        const conf_raw_tok *t = &st->raw[i];
        char *v = NULL;
        size_t vl = 0;
        if (t->kind == RT_STAR) { star_at = n; continue; }
        if (t->kind == RT_BYTES) { v = malloc(t->len + 1); if (v) memcpy(v, t->text, t->len); vl = t->len; }
        else {
            v = conf_subst(t->text, t->len, r->ns, r->vi, &rt->vars, &vl, err, sizeof err);
            if (!v) { free(buf); finish(r, V_ERROR, now, "line %d: %s", st->line, err); return -1; }
        }
        if (!v) break;
        size_t need = n + vl + 2;
        if (need > cap) {
            cap = need * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(v); free(buf); buf = NULL; break; }
            buf = nb;
        }
        if (t->kind == RT_MQTTSTR) {
            buf[n++] = (uint8_t)(vl >> 8);
            buf[n++] = (uint8_t)vl;
        }
        memcpy(buf + n, v, vl);
        n += vl;
        free(v);
    }
    if (!buf) { finish(r, V_ERROR, now, "out of memory"); return -1; }
    if (star_at != (size_t)-1) {
        /* Remaining Length of what follows the `*`, as a variable byte integer. */
        size_t rem = n - star_at;
        uint8_t vbi[4];
        size_t k = 0;
        do {
            uint8_t d = rem % 128;
            rem /= 128;
            if (rem) d |= 0x80;
            vbi[k++] = d;
        } while (rem && k < 4);
        uint8_t *nb = realloc(buf, n + k + 1);
        if (!nb) { free(buf); finish(r, V_ERROR, now, "out of memory"); return -1; }
        buf = nb;
        memmove(buf + star_at + k, buf + star_at, n - star_at);
        memcpy(buf + star_at, vbi, k);
        n += k;
    }
    if (c->state == CS_IDLE) start_connect(e, r, c, st->client, now);
    char hx[200];
    hexdump(hx, sizeof hx, buf, n);
    conf_run_event(r, st->client, EV_SENT, (int)rt->step, rel(rt, now), "raw %zu bytes [%s]", n, hx);
    int q = queue(r, c, st->client, buf, n, now);
    free(buf);
    if (q < 0) {
        finish(r, c->state == CS_IDLE ? V_ERROR : V_FAIL, now, "%s cannot send raw bytes: %s",
               r->sc->clients[st->client], c->why[0] ? c->why : "connection closed");
        return -1;
    }
    return 0;
}

/* ---- matching ---- */

static void take(client *c, size_t i)
{
    rx_free(c->last);
    c->last = c->inbox[i];
    memmove(&c->inbox[i], &c->inbox[i + 1], (c->nin - i - 1) * sizeof c->inbox[0]);
    c->nin--;
}

/* Does packet x match every field of st? NULL yes, else the first mismatch. */
static const char *match_all(conf_run *r, const conf_step *st, const rx *x, char *buf, size_t cap, int64_t now,
                             bool *fatal)
{
    *fatal = false;
    size_t up_from = 0;
    for (size_t i = 0; i < st->nfields; i++) {
        size_t len;
        char *v = value_of(r, &st->fields[i], &len, now);
        if (!v) { *fatal = true; return "variable"; }
        const char *m = conf_match(&x->pkt, r->vi, &st->fields[i], v, len, &up_from, buf, cap);
        free(v);
        if (m) return m;
    }
    return NULL;
}

/* What the client has received and not consumed, for failure messages. */
static void inbox_summary(const conf_run *r, const client *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->nin && o + 16 < cap; i++) {
        char line[512];
        fmt_packet(&c->inbox[i]->pkt, r->vi, line, sizeof line);
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "; " : "", line);
    }
    if (!c->nin) snprintf(out, cap, "nothing");
}

/* Result of a wait: a packet was taken, still waiting, or the run finished. */
enum { W_TAKEN, W_WAIT, W_DONE };

/* Waits for a packet of type t on client ci for which check() holds; fails on
 * mismatch (ordered mode), close, garbage or deadline. */
static int wait_packet(conf_run *r, const conf_step *st, int ci, mqtt_packet_type t, bool unordered,
                       int64_t now, const char *what)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    char buf[1024];
    const char *cname = r->sc->clients[ci];
    for (size_t i = 0; i < c->nin; i++) {
        rx *x = c->inbox[i];
        if (x->pkt.type != t) continue;
        bool fatal;
        const char *m = st ? match_all(r, st, x, buf, sizeof buf, now, &fatal) : NULL;
        if (st && fatal) return W_DONE;
        if (!m) {
            take(c, i);
            return W_TAKEN;
        }
        if (!unordered) {
            char line[1024];
            fmt_packet(&x->pkt, r->vi, line, sizeof line);
            finish(r, V_FAIL, now, "%s expected %s; got %s: %s", cname, what, line, m);
            return W_DONE;
        }
    }
    if (c->state == CS_CLOSED || c->garbage) {
        char sum[1024];
        inbox_summary(r, c, sum, sizeof sum);
        finish(r, V_FAIL, now, "%s expected %s; %s (unconsumed: %s)", cname, what,
               c->why[0] ? c->why : "connection closed", sum);
        return W_DONE;
    }
    if (c->state == CS_IDLE) {
        finish(r, V_ERROR, now, "%s expected %s but is not connected (add a connect step)", cname, what);
        return W_DONE;
    }
    if (now >= rt->step_deadline) {
        char sum[1024];
        inbox_summary(r, c, sum, sizeof sum);
        finish(r, V_FAIL, now, "%s expected %s within %.1fs; received meanwhile: %s", cname, what,
               (double)(rt->step_deadline - rt->step_started) / 1000.0,
               sum);
        return W_DONE;
    }
    return W_WAIT;
}

/* `a|b expect TYPE ...`: a matching packet arrives at one of the members.
 * Ordered mode looks at each member's oldest packet of TYPE (a member whose
 * oldest one does not match may simply hold the next message: that is not a
 * failure here); `unordered` looks at every packet of TYPE. The packet is
 * taken from that member's inbox only, so following `expect nothing` steps
 * on every member prove that no second copy went elsewhere. */
static int wait_group(engine *e, conf_run *r, const conf_step *st, int64_t now, const char *what)
{
    (void)e;
    rt_state *rt = r->rt;
    char names[256] = "";
    size_t nl = 0;
    bool any_open = false;
    for (size_t k = 0; k < rt->ncl && k < 32; k++) {
        if (!(st->group & (1u << k))) continue;
        nl += (size_t)snprintf(names + nl, nl < sizeof names ? sizeof names - nl : 0, "%s%s", nl ? "|" : "",
                               r->sc->clients[k]);
        if (nl >= sizeof names) nl = sizeof names - 1;
        client *c = &rt->cl[k];
        if (c->state == CS_IDLE) {
            finish(r, V_ERROR, now, "%s expected %s but %s is not connected (add a connect step)", names, what,
                   r->sc->clients[k]);
            return W_DONE;
        }
        for (size_t i = 0; i < c->nin; i++) {
            rx *x = c->inbox[i];
            if (x->pkt.type != st->ptype) continue;
            char buf[1024];
            bool fatal;
            const char *m = match_all(r, st, x, buf, sizeof buf, now, &fatal);
            if (fatal) return W_DONE;
            if (!m) {
                take(c, i);
                rt->group_matched = (int)k;
                conf_run_event(r, (int)k, EV_NOTE, (int)rt->step, rel(rt, now), "matched by %s (group %s)",
                               r->sc->clients[k], names);
                return W_TAKEN;
            }
            if (!st->unordered) break;
        }
        if (c->state != CS_CLOSED && !c->garbage) any_open = true;
    }
    if (!any_open || now >= rt->step_deadline) {
        char sum[2048];
        size_t o = 0;
        for (size_t k = 0; k < rt->ncl && k < 32 && o + 64 < sizeof sum; k++) {
            if (!(st->group & (1u << k))) continue;
            char one[1024];
            inbox_summary(r, &rt->cl[k], one, sizeof one);
            client *c = &rt->cl[k];
            o += (size_t)snprintf(sum + o, sizeof sum - o, "%s%s: %s%s%s", o ? "; " : "", r->sc->clients[k], one,
                                  c->state == CS_CLOSED || c->garbage ? ", then " : "",
                                  c->state == CS_CLOSED || c->garbage ? (c->why[0] ? c->why : "closed") : "");
        }
        if (!any_open)
            finish(r, V_FAIL, now, "%s expected one of them to receive %s; every connection is closed (%s)", names,
                   what, sum);
        else
            finish(r, V_FAIL, now, "%s expected one of them to receive %s within %.1fs; received meanwhile: %s",
                   names, what, (double)(rt->step_deadline - rt->step_started) / 1000.0, sum);
        return W_DONE;
    }
    return W_WAIT;
}

/* ---- steps ---- */

enum { S_DONE, S_WAIT, S_END };

static int64_t step_ms(const conf_step *st, int64_t def)
{
    return st->ms >= 0 ? st->ms : def;
}

static void describe_expect(const conf_step *st, char *out, size_t cap)
{
    /* The step's source text without the client name is the best description. */
    const char *s = st->src ? strstr(st->src, "expect ") : NULL;
    if (s) {
        snprintf(out, cap, "%s", s + 7);
        char *w = strstr(out, " within ");
        if (w) *w = '\0';
    }
    else snprintf(out, cap, "%s", mqtt_packet_type_name(st->ptype));
}

static int exec_step(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    int ci = st->client;
    if (st->group && (st->kind == ST_ACK || st->kind == ST_CAPTURE)) {
        /* A group ack/capture acts on the member that matched the last group expect. */
        if (rt->group_matched < 0 || !(st->group & (1u << rt->group_matched))) {
            finish(r, V_ERROR, now, "line %d: no member of this group matched an earlier group expect", st->line);
            return S_END;
        }
        ci = rt->group_matched;
    }
    client *c = ci >= 0 ? &rt->cl[ci] : NULL;
    const char *cname = ci >= 0 ? r->sc->clients[ci] : "";
    char what[512];
    if (rt->phase == 0) {
        rt->step_started = now;
        rt->step_deadline = now + scaled(e, step_ms(st, st->kind == ST_EXPECT_NOTHING ? DEFAULT_NOTHING_MS
                                                   : st->kind == ST_WAIT ? 0 : DEFAULT_EXPECT_MS));
    }
    switch (st->kind) {
    case ST_OPEN:
        if (start_connect(e, r, c, st->client, now) < 0) {
            finish(r, V_ERROR, now, "%s: %s", cname, c->why);
            return S_END;
        }
        return S_DONE;

    case ST_CONNECT:
        if (rt->phase == 0) {
            if (send_from_step(e, r, st, MQTT_CONNECT, now) < 0) return S_END;
            rt->phase = 1;
        }
        {
            conf_step any = {.kind = ST_EXPECT, .ptype = MQTT_CONNACK};
            int w = wait_packet(r, &any, st->client, MQTT_CONNACK, false, now, "CONNACK");
            if (w == W_WAIT) return S_WAIT;
            if (w == W_DONE) return S_END;
            uint8_t rc = c->last->pkt.connack.reason_code;
            if (rc != 0) {
                char line[512];
                fmt_packet(&c->last->pkt, r->vi, line, sizeof line);
                finish(r, V_FAIL, now, "%s connect: expected CONNACK with reason code 0 (accepted), got %s", cname,
                       line);
                return S_END;
            }
            return S_DONE;
        }

    case ST_SEND:
        if (st->ptype == MQTT_PUBLISH || st->ptype == MQTT_CONNECT || c->state != CS_IDLE) {
            if (send_from_step(e, r, st, st->ptype, now) < 0) return S_END;
            return S_DONE;
        }
        finish(r, V_ERROR, now, "%s is not connected (add a connect or open step first)", cname);
        return S_END;

    case ST_SEND_RAW:
        return send_raw(e, r, st, now) < 0 ? S_END : S_DONE;

    case ST_PUBLISH:
        if (rt->phase == 0) {
            if (send_from_step(e, r, st, MQTT_PUBLISH, now) < 0) return S_END;
            rt->phase = 1;
            /* qos 0: nothing comes back */
            bool qos0 = true;
            for (size_t i = 0; i < st->nfields; i++)
                if (st->fields[i].id == F_QOS && strcmp(st->fields[i].text, "0") != 0) qos0 = false;
            if (qos0) return S_DONE;
        }
        {
            mqtt_packet_type want = rt->phase == 2 ? MQTT_PUBCOMP : MQTT_PUBACK;
            /* The first answer is PUBACK (qos 1) or PUBREC (qos 2): accept the one that comes. */
            for (size_t i = 0; rt->phase == 1 && i < c->nin; i++)
                if (c->inbox[i]->pkt.type == MQTT_PUBREC && c->inbox[i]->pkt.ack.packet_id == rt->pid) want = MQTT_PUBREC;
            char idv[16];
            snprintf(idv, sizeof idv, "%u", rt->pid);
            conf_field f = {.id = F_PACKET_ID, .kind = VK_WORD, .text = idv, .len = strlen(idv), .line = st->line};
            conf_step m = {.kind = ST_EXPECT, .fields = &f, .nfields = 1};
            snprintf(what, sizeof what, "%s packet_id=%u (publish handshake)",
                     rt->phase == 2 ? "PUBCOMP" : "PUBACK or PUBREC", rt->pid);
            int w = wait_packet(r, &m, st->client, want, true, now, what);
            if (w == W_WAIT) {
                /* a PUBREC may still come instead of a PUBACK */
                return S_WAIT;
            }
            if (w == W_DONE) return S_END;
            uint8_t rc = c->last->pkt.ack.reason_code;
            if (rc >= 0x80) {
                char line[512];
                fmt_packet(&c->last->pkt, r->vi, line, sizeof line);
                finish(r, V_FAIL, now, "%s publish: the broker refused the message: %s", cname, line);
                return S_END;
            }
            if (want == MQTT_PUBREC) {
                if (send_ack(e, r, st->client, MQTT_PUBREL, rt->pid, now) < 0) return S_END;
                rt->phase = 2;
                rt->step_deadline = now + scaled(e, DEFAULT_EXPECT_MS);
                return S_WAIT;
            }
            return S_DONE;
        }

    case ST_SUBSCRIBE:
    case ST_UNSUBSCRIBE:
        if (rt->phase == 0) {
            if (send_from_step(e, r, st, st->ptype, now) < 0) return S_END;
            rt->phase = 1;
        }
        {
            mqtt_packet_type want = st->kind == ST_SUBSCRIBE ? MQTT_SUBACK : MQTT_UNSUBACK;
            char idv[16];
            snprintf(idv, sizeof idv, "%u", rt->pid);
            conf_field f = {.id = F_PACKET_ID, .kind = VK_WORD, .text = idv, .len = strlen(idv), .line = st->line};
            conf_step m = {.kind = ST_EXPECT, .fields = &f, .nfields = 1};
            snprintf(what, sizeof what, "%s packet_id=%u", mqtt_packet_type_name(want), rt->pid);
            int w = wait_packet(r, &m, st->client, want, false, now, what);
            if (w != W_TAKEN) return w == W_WAIT ? S_WAIT : S_END;
            if (want == MQTT_SUBACK) {
                mqtt_bytes got = c->last->pkt.suback.reason_codes;
                bool ok = got.len == rt->nwant && memcmp(got.ptr, rt->want_codes, rt->nwant) == 0;
                if (!ok) {
                    char line[512];
                    fmt_packet(&c->last->pkt, r->vi, line, sizeof line);
                    finish(r, V_FAIL, now, "%s subscribe: expected the SUBACK to grant the requested QoS, got %s",
                           cname, line);
                    return S_END;
                }
            }
            return S_DONE;
        }

    case ST_ACK: {
        rx *l = c->last;
        if (!l) {
            finish(r, V_ERROR, now, "%s ack: no packet was matched before (ack answers the last expect)", cname);
            return S_END;
        }
        mqtt_packet_type t = MQTT_PINGREQ;
        uint16_t pid = 0;
        if (l->pkt.type == MQTT_PUBLISH && l->pkt.publish.qos == 1) t = MQTT_PUBACK;
        else if (l->pkt.type == MQTT_PUBLISH && l->pkt.publish.qos == 2) t = MQTT_PUBREC;
        else if (l->pkt.type == MQTT_PUBREC) t = MQTT_PUBREL;
        else if (l->pkt.type == MQTT_PUBREL) t = MQTT_PUBCOMP;
        if (t == MQTT_PINGREQ) {
            finish(r, V_ERROR, now, "%s ack: the last matched packet (%s) needs no acknowledgement", cname,
                   mqtt_packet_type_name(l->pkt.type));
            return S_END;
        }
        pid = l->pkt.type == MQTT_PUBLISH ? l->pkt.publish.packet_id : l->pkt.ack.packet_id;
        return send_ack(e, r, ci, t, pid, now) < 0 ? S_END : S_DONE;
    }

    case ST_EXPECT: {
        rt->phase = 1;
        describe_expect(st, what, sizeof what);
        if (st->group) {
            int g = wait_group(e, r, st, now, what);
            return g == W_TAKEN ? S_DONE : g == W_WAIT ? S_WAIT : S_END;
        }
        if (st->or_close && c->state == CS_CLOSED && c->peer_closed && !c->garbage) {
            /* `or close`: the packet, if it came before the close, must still match. */
            for (size_t i = 0; i < c->nin; i++) {
                char buf[1024];
                bool fatal;
                if (c->inbox[i]->pkt.type != st->ptype) continue;
                const char *m = match_all(r, st, c->inbox[i], buf, sizeof buf, now, &fatal);
                if (fatal) return S_END;
                if (!m) {
                    take(c, i);
                    return S_DONE;
                }
            }
            conf_run_event(r, st->client, EV_NOTE, (int)rt->step, rel(rt, now),
                           "the broker closed the connection instead (allowed by `or close`)");
            return S_DONE;
        }
        int w = wait_packet(r, st, st->client, st->ptype, st->unordered, now, what);
        return w == W_TAKEN ? S_DONE : w == W_WAIT ? S_WAIT : S_END;
    }

    case ST_EXPECT_NOTHING:
        rt->phase = 1;
        if (c->nin) {
            char sum[1024];
            inbox_summary(r, c, sum, sizeof sum);
            finish(r, V_FAIL, now, "%s expected nothing; got %s", cname, sum);
            return S_END;
        }
        if (c->state == CS_CLOSED || c->garbage) {
            finish(r, V_FAIL, now, "%s expected nothing; %s", cname, c->why[0] ? c->why : "connection closed");
            return S_END;
        }
        return now >= rt->step_deadline ? S_DONE : S_WAIT;

    case ST_EXPECT_CLOSE:
        rt->phase = 1;
        if (c->garbage) {
            finish(r, V_FAIL, now, "%s expected the connection closed; %s", cname, c->why);
            return S_END;
        }
        if (st->silent && c->nin) {
            char sum[1024];
            inbox_summary(r, c, sum, sizeof sum);
            finish(r, V_FAIL, now, "%s expected the broker to close the connection without sending anything; "
                   "it sent %s", cname, sum);
            return S_END;
        }
        if (c->state == CS_CLOSED && c->self_closed) {
            finish(r, V_ERROR, now, "%s expect close: the scenario closed this connection itself", cname);
            return S_END;
        }
        if (c->state == CS_IDLE) {
            finish(r, V_ERROR, now, "%s expect close: not connected", cname);
            return S_END;
        }
        if (c->state == CS_CLOSED) {
            /* 5.0: if a DISCONNECT came and a reason was given, it must be that one. */
            for (size_t i = 0; i < c->nin; i++) {
                rx *x = c->inbox[i];
                if (x->pkt.type != MQTT_DISCONNECT) continue;
                char buf[512];
                bool fatal;
                const char *m = match_all(r, st, x, buf, sizeof buf, now, &fatal);
                if (fatal) return S_END;
                if (m) {
                    finish(r, V_FAIL, now, "%s expected the connection closed%s; the DISCONNECT before it: %s", cname,
                           st->nfields ? " (after a DISCONNECT with that reason, if any)" : "", m);
                    return S_END;
                }
            }
            client_clear_inbox(c);
            return S_DONE;
        }
        if (now >= rt->step_deadline) {
            char sum[1024];
            inbox_summary(r, c, sum, sizeof sum);
            finish(r, V_FAIL, now, "%s expected the broker to close the connection within %.1fs; it is still open "
                   "(received: %s)", cname, (double)scaled(e, step_ms(st, DEFAULT_EXPECT_MS)) / 1000.0, sum);
            return S_END;
        }
        return S_WAIT;

    case ST_CAPTURE: {
        char buf[1024];
        if (!c->last) {
            finish(r, V_ERROR, now, "%s capture: no packet was matched before", cname);
            return S_END;
        }
        if (!conf_field_text(&c->last->pkt, st->cap_field, st->cap_prop, buf, sizeof buf)) {
            finish(r, V_FAIL, now, "%s capture: the %s has no %s", cname,
                   mqtt_packet_type_name(c->last->pkt.type), conf_field_name(st->cap_field, st->cap_prop));
            return S_END;
        }
        conf_vars_set(&rt->vars, st->cap_var, buf, strlen(buf));
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "captured %s = %s", st->cap_var, buf);
        return S_DONE;
    }

    case ST_DISCONNECT:
        if (rt->phase == 0) {
            if (c->state == CS_IDLE) {
                finish(r, V_ERROR, now, "%s disconnect: not connected", cname);
                return S_END;
            }
            if (send_from_step(e, r, st, MQTT_DISCONNECT, now) < 0) return S_END;
            rt->phase = 1;
        }
        if (c->wlen > 0 && c->state != CS_CLOSED && now < rt->step_deadline) return S_WAIT;
        if (c->tls && c->state == CS_OPEN) { /* a graceful TLS close: close_notify, then the FIN */
            net_tls_close(c->tls);
            c->tls = NULL;
        }
        client_close(c);
        c->self_closed = true;
        conf_run_event(r, st->client, EV_NOTE, (int)rt->step, rel(rt, now), "closed the connection");
        return S_DONE;

    case ST_DROP:
        client_close(c);
        c->self_closed = true;
        conf_run_event(r, st->client, EV_NOTE, (int)rt->step, rel(rt, now), "dropped the TCP connection");
        return S_DONE;

    case ST_WAIT:
        rt->phase = 1;
        return now >= rt->step_deadline ? S_DONE : S_WAIT;
    }
    return S_DONE;
}

/* Runs steps until one has to wait or the run ends. */
static void advance(engine *e, conf_run *r, int64_t now)
{
    rt_state *rt = r->rt;
    while (!rt->done) {
        if (now >= rt->run_deadline) {
            const conf_step *st = rt->step < r->sc->nsteps ? &r->sc->steps[rt->step] : NULL;
            finish(r, V_ERROR, now, "the run passed its deadline (%.1fs) at line %d: %s",
                   (double)(rt->run_deadline - rt->t0) / 1000.0, st ? st->line : 0, st ? st->src : "");
            return;
        }
        if (rt->step >= r->sc->nsteps) {
            finish(r, V_PASS, now, NULL);
            return;
        }
        const conf_step *st = &r->sc->steps[rt->step];
        if (!(st->vmask & CONF_VBIT(r->vi))) {
            rt->step++;
            continue;
        }
        int s = exec_step(e, r, st, now);
        if (s == S_WAIT) return;
        if (s == S_END) return;
        rt->step++;
        rt->phase = 0;
    }
}

static int64_t next_wakeup(const conf_run *r)
{
    const rt_state *rt = r->rt;
    int64_t t = rt->run_deadline;
    if (rt->step < r->sc->nsteps && rt->step_deadline < t) t = rt->step_deadline;
    return t;
}

/* ---- broker checks ---- */

/* The probe's transport: plain TCP or TLS over it. */
typedef struct {
    int fd;
    net_tls *tls;
} probe_conn;

static void probe_close(probe_conn *p)
{
    net_tls_close(p->tls);
    close(p->fd);
}

int conf_probe_broker(const char *host, uint16_t port, net_tls_ctx *tls, int timeout_ms, char *msg, size_t msglen)
{
    int64_t deadline = net_now_ms() + timeout_ms;
    probe_conn pc = {.fd = net_connect(host, port, timeout_ms, msg, msglen)};
    if (pc.fd < 0) return -1;
    int fd = pc.fd;
    if (tls) {
        char err[400];
        pc.tls = net_tls_new(tls, fd, host, err, sizeof err);
        int left = (int)(deadline - net_now_ms());
        if (!pc.tls || net_tls_connect(pc.tls, left < 1 ? 1 : left, err, sizeof err) != 0) {
            const char *why = strncmp(err, "TLS handshake: ", 15) == 0 ? err + 15 : err;
            snprintf(msg, msglen, "%s:%u accepted TCP but the TLS handshake failed: %s", host, port, why);
            probe_close(&pc);
            return -1;
        }
    }
    mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_CLIENT};
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.clean_start = true;
    p.connect.keep_alive = 10;
    char id[32];
    snprintf(id, sizeof id, "conform-probe-%d", (int)getpid());
    p.connect.client_id = (mqtt_bytes){(const uint8_t *)id, strlen(id)};
    uint8_t buf[128];
    size_t n = 0;
    if (mqtt_encode(&codec, &p, buf, sizeof buf, &n, NULL) != MQTT_OK) {
        snprintf(msg, msglen, "cannot encode the probe CONNECT");
        probe_close(&pc);
        return -1;
    }
    ssize_t sent = pc.tls ? net_tls_send_all(pc.tls, buf, n, timeout_ms) : net_send_all(fd, buf, n, timeout_ms);
    if (sent != (ssize_t)n) {
        snprintf(msg, msglen, "%s:%u accepted %s but the CONNECT could not be sent%s", host, port,
                 pc.tls ? "TLS" : "TCP", pc.tls ? " (does it require a client certificate? --cert, --key)" : "");
        probe_close(&pc);
        return -1;
    }
    uint8_t in[64];
    size_t got = 0;
    codec.from = MQTT_FROM_SERVER;
    for (;;) {
        int left = (int)(deadline - net_now_ms());
        ssize_t k = pc.tls ? net_tls_recv_some(pc.tls, in + got, sizeof in - got, left < 0 ? 0 : left)
                           : net_recv_some(fd, in + got, sizeof in - got, left < 0 ? 0 : left);
        if (k <= 0) {
            snprintf(msg, msglen, "%s:%u accepted %s but %s%s", host, port, pc.tls ? "TLS" : "TCP",
                     k == 0 ? "closed the connection without a CONNACK" : k == NET_TIMEOUT
                         ? "sent no CONNACK in time" : "the connection failed",
                     k == NET_TIMEOUT ? ""
                     : pc.tls ? " (does it require a client certificate? --cert, --key)"
                              : " (a TLS listener? --cafile or --insecure)");
            probe_close(&pc);
            return -1;
        }
        got += (size_t)k;
        mqtt_packet ack;
        mqtt_error err;
        mqtt_status s = mqtt_decode(&codec, in, got, &ack, &err);
        if (s == MQTT_NEED_MORE && got < sizeof in) continue;
        probe_close(&pc);
        if (s == MQTT_OK && ack.type == MQTT_CONNACK) return 0;
        snprintf(msg, msglen, "%s:%u answered CONNECT with something other than a CONNACK", host, port);
        return -1;
    }
}

/* ---- the loop ---- */

static int resolve(engine *e, char *msg, size_t msglen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)e->cfg->port);
    int rc = getaddrinfo(e->cfg->host, service, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(msg, msglen, "cannot resolve %s: %s", e->cfg->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&e->addr, res->ai_addr, res->ai_addrlen);
    e->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(e->target, sizeof e->target, "%s:%u", e->cfg->host, (unsigned)e->cfg->port);
    return 0;
}

static uint32_t ns_seed;

static void make_ns(char *out, size_t idx)
{
    static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    /* 'm' + 3 chars unique to this process + 3 chars for the run index: 7 in all, so
     * that "${ns}-client" stays within the 23 characters MQTT 3.1 allows. */
    uint32_t s = ns_seed;
    out[0] = 'm';
    for (int i = 1; i <= 3; i++) { out[i] = b36[s % 36]; s /= 36; }
    size_t x = idx;
    for (int i = 6; i >= 4; i--) { out[i] = b36[x % 36]; x /= 36; }
    out[7] = '\0';
}

static int start_run(engine *e, conf_run *r, size_t idx, int64_t now)
{
    rt_state *rt = calloc(1, sizeof *rt);
    if (!rt) return -1;
    rt->ncl = r->sc->nclients;
    rt->cl = calloc(rt->ncl, sizeof *rt->cl);
    if (!rt->cl) { free(rt); return -1; }
    if (e->cfg->pcap_mode != CONF_PCAP_NONE && e->cfg->pcap_dir)
        rt->tr = conf_traffic_new(CONF_TRAFFIC_LIMIT); /* NULL (out of memory): no capture */
    for (size_t i = 0; i < rt->ncl; i++) {
        rt->cl[i].fd = -1;
        rt->cl[i].stream = -1;
        rt->cl[i].tr = rt->tr;
    }
    rt->group_matched = -1;
    rt->t0 = now;
    rt->run_deadline = now + scaled(e, r->sc->deadline_ms);
    r->rt = rt;
    r->fail_step = -1;
    make_ns(r->ns, idx);
    conf_run_event(r, -1, EV_NOTE, 0, 0, "run %s@%s, namespace %s, broker %s%s", r->sc->id, conf_vi_name(r->vi),
                   r->ns, e->target, e->cfg->tls ? " over TLS" : "");
    return 0;
}

/* A file name for r's pcap under the pcap directory, unique in this invocation. */
static char *pcap_path(engine *e, const conf_run *r)
{
    char base[400], name[420];
    conf_traffic_filename(r->sc->id, conf_vi_name(r->vi), r->rep, base, sizeof base);
    snprintf(name, sizeof name, "%s", base);
    for (int k = 2;; k++) {
        bool used = false;
        for (size_t i = 0; i < e->npcap && !used; i++) used = strcmp(e->pcap_names[i], name) == 0;
        if (!used) break;
        /* only ids that differ in characters the name replaces get here */
        snprintf(name, sizeof name, "%.*s-%d.pcap", (int)(strlen(base) - 5), base, k);
    }
    char **nn = realloc(e->pcap_names, (e->npcap + 1) * sizeof *nn);
    if (!nn) return NULL;
    e->pcap_names = nn;
    if (!(nn[e->npcap] = strdup(name))) return NULL;
    e->npcap++;
    size_t len = strlen(e->cfg->pcap_dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (path) snprintf(path, len, "%s/%s", e->cfg->pcap_dir, name);
    return path;
}

/* Writes the run's traffic as a pcap if the mode asks for it: every run
 * (`all`), or runs whose scenario failed: fail, error, expected-failure
 * (`failures`). Sets r->pcap; a write error is noted in the run and counted. */
static void write_pcap(engine *e, conf_run *r, conf_engine_result *res)
{
    rt_state *rt = r->rt;
    bool failed = r->verdict == V_FAIL || r->verdict == V_ERROR || r->verdict == V_XFAIL;
    if (!rt->tr || !(e->cfg->pcap_mode == CONF_PCAP_ALL || (e->cfg->pcap_mode == CONF_PCAP_FAILURES && failed)))
        return;
    if (conf_traffic_truncated(rt->tr))
        conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "the pcap ends early: this run exchanged more "
                       "than %u MiB (or memory ran out), later traffic was not recorded", CONF_TRAFFIC_LIMIT >> 20);
    char err[600];
    char *path = pcap_path(e, r);
    if (path && conf_traffic_write(rt->tr, path, err, sizeof err) == 0) {
        free(r->pcap);
        r->pcap = path;
        res->pcap_written++;
        return;
    }
    if (!path) snprintf(err, sizeof err, "out of memory");
    free(path);
    conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "pcap not written: %s", err);
    if (!res->pcap_errors++) snprintf(res->pcap_error, sizeof res->pcap_error, "%s", err);
}

static void end_run(engine *e, conf_run *r, int64_t now, conf_engine_result *res)
{
    rt_state *rt = r->rt;
    r->duration_ms = now - rt->t0;
    /* every connection still open ends now (as a drop), before the capture is written */
    for (size_t i = 0; i < rt->ncl; i++) client_close(&rt->cl[i]);
    if (r->deviation) {
        if (r->verdict == V_FAIL || r->verdict == V_ERROR) r->verdict = V_XFAIL;
        else if (r->verdict == V_PASS && !r->deviation_flaky) r->verdict = V_XPASS;
    }
    write_pcap(e, r, res);
    rt_free(rt);
    r->rt = NULL;
}

int conf_engine_run(const conf_engine_cfg *cfg, conf_run *runs, size_t n, conf_engine_result *res,
                    char *msg, size_t msglen)
{
    engine e = {.cfg = cfg};
    *res = (conf_engine_result){.died_after = -1};
    int64_t start = net_now_ms();
    if (resolve(&e, msg, msglen) < 0) return -1;
    ns_seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)start;
    int jobs = cfg->jobs > 0 ? cfg->jobs : 1;

    size_t total = 0, finished = 0;
    for (size_t i = 0; i < n; i++)
        if (runs[i].verdict == V_PENDING) total++;
    size_t *active = calloc((size_t)jobs + 1, sizeof *active);
    struct pollfd *pfd = NULL;
    size_t pfdcap = 0;
    struct { size_t run; size_t cl; } *map = NULL;
    if (!active) return -1;
    size_t nactive = 0, next = 0;
    bool serial_running = false;

    for (;;) {
        int64_t now = net_now_ms();
        /* Start runs while there is room. A `serial` run waits for an empty
         * engine and then runs alone. */
        while (next < n && res->died_after < 0) {
            conf_run *r = &runs[next];
            if (r->verdict != V_PENDING) { next++; continue; }
            if (serial_running || nactive >= (size_t)jobs) break;
            if (r->sc->serial && nactive > 0) break;
            if (start_run(&e, r, next, now) < 0) { r->verdict = V_ERROR; next++; continue; }
            active[nactive++] = next;
            if (r->sc->serial) serial_running = true;
            next++;
            advance(&e, r, now);
        }
        if (res->died_after >= 0) {
            for (; next < n; next++)
                if (runs[next].verdict == V_PENDING) {
                    runs[next].verdict = V_NOTRUN;
                    char b[512];
                    snprintf(b, sizeof b, "not run: the broker stopped accepting connections after %s@%s",
                             runs[res->died_after].sc->id, conf_vi_name(runs[res->died_after].vi));
                    runs[next].message = strdup(b);
                    finished++;
                }
        }
        /* Collect finished runs. */
        for (size_t a = 0; a < nactive;) {
            conf_run *r = &runs[active[a]];
            rt_state *rt = r->rt;
            if (!rt->done) { a++; continue; }
            bool malformed = r->sc->malformed;
            if (r->sc->serial) serial_running = false;
            end_run(&e, r, now, res);
            finished++;
            size_t idx = active[a];
            active[a] = active[--nactive];
            if (malformed && res->died_after < 0) {
                char pm[512];
                int alive = -1;
                /* A few tries: a broker busy with many connections may be slow to accept one more. */
                for (int attempt = 0; attempt < 3 && alive < 0; attempt++)
                    alive = conf_probe_broker(cfg->host, cfg->port, cfg->tls, (int)scaled(&e, 2000), pm, sizeof pm);
                if (alive < 0) {
                    res->died_after = (int)idx;
                    char b[1024];
                    snprintf(b, sizeof b, "after this run the broker no longer accepts connections: %s", pm);
                    conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "%s", b);
                    if (!r->message) r->message = strdup(b);
                }
            }
            if (cfg->on_done) cfg->on_done(r, finished, total, cfg->arg);
        }
        if (nactive == 0 && (next >= n)) break;
        if (nactive == 0) continue;

        /* Poll every open socket of every active run. */
        size_t np = 0;
        bool tls_pending = false; /* decrypted bytes OpenSSL holds: poll(2) does not see them */
        int64_t wake = now + 200;
        for (size_t a = 0; a < nactive; a++) {
            conf_run *r = &runs[active[a]];
            rt_state *rt = r->rt;
            int64_t w = next_wakeup(r);
            if (w < wake) wake = w;
            for (size_t k = 0; k < rt->ncl; k++) {
                client *c = &rt->cl[k];
                if (c->fd < 0) continue;
                if (np == pfdcap) {
                    size_t nc = pfdcap ? pfdcap * 2 : 64;
                    void *a1 = realloc(pfd, nc * sizeof *pfd);
                    if (!a1) break;
                    pfd = a1;
                    void *a2 = realloc(map, nc * sizeof *map);
                    if (!a2) break;
                    map = a2;
                    pfdcap = nc;
                }
                pfd[np].fd = c->fd;
                if (c->state == CS_TLS)
                    pfd[np].events = c->tls_want == NET_TLS_WANT_WRITE ? POLLOUT : POLLIN;
                else /* a TLS write waiting for the broker's bytes needs POLLIN, not a busy POLLOUT */
                    pfd[np].events = (short)(POLLIN | (((c->wlen && c->tls_want != NET_TLS_WANT_READ) ||
                                                        c->state == CS_CONNECTING ||
                                                        c->tls_want == NET_TLS_WANT_WRITE) ? POLLOUT : 0));
                if (c->tls && c->state == CS_OPEN && net_tls_pending(c->tls) > 0) tls_pending = true;
                pfd[np].revents = 0;
                map[np].run = active[a];
                map[np].cl = k;
                np++;
            }
        }
        int timeout = (int)(wake - now);
        if (timeout < 0 || tls_pending) timeout = 0;
        int pr = poll(pfd, np, timeout);
        if (pr < 0 && errno != EINTR) break;
        now = net_now_ms();
        for (size_t i = 0; pr > 0 && i < np; i++) {
            if (!pfd[i].revents) continue;
            conf_run *r = &runs[map[i].run];
            rt_state *rt = r->rt;
            client *c = &rt->cl[map[i].cl];
            int ci = (int)map[i].cl;
            if (c->fd != pfd[i].fd) continue;
            if (c->state == CS_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    snprintf(c->why, sizeof c->why, "connect %s: %s", e.target, strerror(err));
                    conf_run_event(r, ci, EV_NOTE, (int)rt->step, rel(rt, now), "%s", c->why);
                    if (err == ECONNREFUSED) conf_traffic_refused(c->tr, c->stream);
                    client_close(c);
                    c->peer_closed = true;
                    continue;
                }
                c->state = CS_OPEN;
                conf_traffic_established(c->tr, c->stream);
                if (cfg->tls) {
                    tls_begin(&e, r, c, ci, now);
                    continue;
                }
            }
            if (c->state == CS_TLS) {
                tls_step(&e, r, c, ci, now);
                continue;
            }
            bool read_waits_write = c->tls && c->tls_want == NET_TLS_WANT_WRITE && c->wlen == 0;
            if (pfd[i].revents & POLLOUT) flush(r, c, ci, now);
            if (c->state == CS_OPEN && ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
                                        (read_waits_write && (pfd[i].revents & POLLOUT))))
                on_readable(r, c, ci, now);
            /* a TLS write that waited for the broker's bytes may go on now */
            if (c->tls && c->state == CS_OPEN && c->wlen && (pfd[i].revents & POLLIN)) flush(r, c, ci, now);
        }
        for (size_t a = 0; tls_pending && a < nactive; a++) {
            rt_state *rt = runs[active[a]].rt;
            for (size_t k = 0; k < rt->ncl; k++)
                if (rt->cl[k].tls && rt->cl[k].state == CS_OPEN && net_tls_pending(rt->cl[k].tls) > 0)
                    on_readable(&runs[active[a]], &rt->cl[k], (int)k, now);
        }
        for (size_t a = 0; a < nactive; a++) advance(&e, &runs[active[a]], now);
    }
    free(active);
    free(pfd);
    free(map);
    for (size_t i = 0; i < e.npcap; i++) free(e.pcap_names[i]);
    free(e.pcap_names);
    res->wall_ms = net_now_ms() - start;
    return 0;
}
