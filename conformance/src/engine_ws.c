/*
 * The engine's WebSocket transport: the non-blocking client upgrade (request
 * offering the subprotocol "mqtt", MQTT-6.0.0-3; an answer that does not
 * select it is refused, MQTT-6.0.0-4), MQTT bytes framed as binary frames
 * (MQTT-6.0.0-1) and unframed on receipt without regard to frame boundaries
 * (MQTT-6.0.0-2), pings answered, close frames sent and received; and the
 * probes' blocking connections over the same layers.
 *
 * Framing is net/ws.c (libwslay); this file moves bytes between it and the
 * socket (or TLS) without blocking, under the poll loop of engine.c.
 * Invariant: a client has c->ws exactly while it is CS_WS or CS_OPEN over
 * WebSockets; c->ws->ws (the framing) exists once the upgrade succeeded.
 * Captures record the MQTT byte stream, not the HTTP upgrade or the frames
 * (like TLS, whose captures hold the decrypted bytes).
 */
#include "conformance/src/engine_int.h"

#include "net/net.h"
#include "net/ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct eng_ws {
    net_ws *ws;                      /* NULL until the upgrade succeeded */
    char key[NET_WS_KEY_LEN + 1];    /* Sec-WebSocket-Key of our request */
    char req[NET_WS_HTTP_MAX];       /* the upgrade request, req[reqoff..reqlen) still to send */
    size_t reqlen, reqoff;
    uint8_t ans[NET_WS_HTTP_MAX];    /* the server's answer so far */
    size_t anslen;
    bool offer;                      /* `open protocols=`: "mqtt" not offered, any 101 is accepted */
};

/* ---- the transport under the frames (TCP or TLS), non-blocking ---- */

/* Writes; returns the count, 0 when it would block (c->tls_want says for
 * what), -1 on an error (err filled). */
static ssize_t tx(client *c, const void *p, size_t n, char *err, size_t cap)
{
    if (c->tls) {
        ssize_t k = net_tls_write(c->tls, p, n, err, cap);
        if (k > 0) c->tls_want = 0;
        if (k > 0) return k;
        if (k == NET_TLS_WANT_READ || k == NET_TLS_WANT_WRITE) {
            c->tls_want = (int)k;
            return 0;
        }
        if (!err[0]) snprintf(err, cap, "%s", strerror(errno));
        return -1;
    }
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if (k > 0) return k;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    snprintf(err, cap, "%s", k < 0 ? strerror(errno) : "nothing written");
    return -1;
}

/* Reads; returns the count, 0 when nothing is there, WSP_CLOSED at EOF,
 * WSP_RESET on a reset or TLS error (err filled). */
static ssize_t trx(client *c, void *p, size_t cap, char *err, size_t errcap)
{
    for (;;) {
        if (c->tls) {
            ssize_t k = net_tls_read(c->tls, p, cap, err, errcap);
            if (k > 0) return k;
            if (k == NET_TLS_WANT_READ || k == NET_TLS_WANT_WRITE) {
                c->tls_want = k == NET_TLS_WANT_WRITE ? NET_TLS_WANT_WRITE : 0;
                return 0;
            }
            if (k == 0) return WSP_CLOSED;
            if (!err[0]) snprintf(err, errcap, "TLS error");
            return WSP_RESET;
        }
        ssize_t k = recv(c->fd, p, cap, 0);
        if (k > 0) return k;
        if (k == 0) return WSP_CLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        snprintf(err, errcap, "%s", strerror(errno));
        return WSP_RESET;
    }
}

/* Writes what the framing queued. Returns 0 (all written, or the rest
 * waits for POLLOUT), -1 on an error (err filled). */
static int write_out(client *c, char *err, size_t cap)
{
    net_ws *w = c->ws->ws;
    for (;;) {
        size_t n;
        const uint8_t *p = net_ws_out(w, &n);
        if (n == 0) return 0;
        ssize_t k = tx(c, p, n, err, cap);
        if (k <= 0) return (int)k;
        net_ws_out_done(w, (size_t)k);
    }
}

/* ---- the upgrade ---- */

void eng_ws_free(client *c)
{
    if (!c->ws) return;
    net_ws_free(c->ws->ws);
    free(c->ws);
    c->ws = NULL;
}

static void upgrade_failed(conf_run *r, client *c, int ci, int64_t now, const char *what, const char *detail)
{
    char why[600];
    snprintf(why, sizeof why, "WebSocket upgrade: %s%s%s", what, detail && detail[0] ? ": " : "",
             detail ? detail : "");
    eng_tls_failed(r, c, ci, now, why); /* ends the connection with why, whatever the layer */
}

/* The request offers list (none when "") instead of "mqtt". */
static bool offer_instead(struct eng_ws *x, const char *list)
{
    static const char line[] = "Sec-WebSocket-Protocol: mqtt\r\n";
    char *p = strstr(x->req, line);
    char rest[NET_WS_HTTP_MAX];
    if (!p) return false;
    snprintf(rest, sizeof rest, "%s", p + sizeof line - 1);
    int k = snprintf(p, sizeof x->req - (size_t)(p - x->req), "%s%s%s%s", list[0] ? "Sec-WebSocket-Protocol: " : "",
                     list, list[0] ? "\r\n" : "", rest);
    if (k < 0 || (size_t)k >= sizeof x->req - (size_t)(p - x->req)) return false;
    x->reqlen = strlen(x->req);
    x->offer = true;
    return true;
}

void eng_transport_ready(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    if (!e->cfg->ws_path) {
        c->state = CS_OPEN;
        eng_flush(r, c, ci, now);
        return;
    }
    c->ws = calloc(1, sizeof *c->ws);
    if (!c->ws) {
        upgrade_failed(r, c, ci, now, "out of memory", NULL);
        return;
    }
    int n = net_ws_request(c->ws->req, sizeof c->ws->req, e->cfg->host, e->cfg->port, e->cfg->ws_path, c->ws->key);
    if (n < 0) {
        upgrade_failed(r, c, ci, now, "bad path (it starts with '/', no spaces)", e->cfg->ws_path);
        return;
    }
    c->ws->reqlen = (size_t)n;
    if (c->ws_offer && !offer_instead(c->ws, c->ws_offer)) {
        upgrade_failed(r, c, ci, now, "protocols= does not fit in the request", NULL);
        return;
    }
    c->state = CS_WS;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "WebSocket upgrade: GET %s, subprotocol%s%s",
                   e->cfg->ws_path, c->ws_offer && !c->ws_offer[0] ? "s: none" : " ",
                   c->ws_offer ? c->ws_offer : "mqtt");
    c->ws_offer = NULL;
    eng_ws_step(e, r, c, ci, now);
}

/* The answer is complete and accepted: frames that came with it are fed. */
static void upgraded(conf_run *r, client *c, int ci, size_t end, int64_t now)
{
    rt_state *rt = r->rt;
    struct eng_ws *x = c->ws;
    char err[300] = "";
    x->ws = net_ws_new(NET_WS_CLIENT, 0, err, sizeof err);
    if (!x->ws) {
        upgrade_failed(r, c, ci, now, err, NULL);
        return;
    }
    c->state = CS_OPEN;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "WebSocket open%s",
                   x->offer ? "" : " (subprotocol mqtt)");
    int rc = x->anslen > end ? net_ws_feed(x->ws, x->ans + end, x->anslen - end, err, sizeof err) : 0;
    (void)rc; /* an end or a bad frame shows on the next read (eng_ws_pull) */
    eng_flush(r, c, ci, now);
    if (c->state == CS_OPEN && (net_ws_readable(x->ws) > 0 || net_ws_ended(x->ws))) eng_on_readable(r, c, ci, now);
}

/* needle (a C string) in h[0..n), NULL when absent. */
static const char *find(const uint8_t *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(h + i, needle, k) == 0) return (const char *)h + i;
    return NULL;
}

/* After `open protocols=` (no "mqtt" offered): what the server does is the
 * scenario's to judge, so a 101 opens the connection (the scenario expects
 * a close, MQTT-6.0.0-4) and anything else is a refusal. Returns like
 * net_ws_parse_response. */
static ssize_t any_answer(conf_run *r, client *c, int ci, struct eng_ws *x, char *err, size_t cap, int64_t now)
{
    rt_state *rt = r->rt;
    const char *a = (const char *)x->ans;
    const char *hend = find(x->ans, x->anslen, "\r\n\r\n");
    if (!hend) return 0;
    size_t sl = strcspn(a, "\r");
    const char *pr = find(x->ans, (size_t)(hend - a), "\nSec-WebSocket-Protocol:");
    size_t pl = pr ? strcspn(pr + 1, "\r") : 0;
    if (sl < 12 || strncmp(a, "HTTP/1.1 101", 12) != 0) {
        snprintf(err, cap, "%.*s", (int)(sl > 200 ? 200 : sl), a);
        return -1;
    }
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "the server accepted the upgrade: %.*s%s%.*s",
                   (int)sl, a, pr ? ", " : " (no subprotocol selected)", (int)(pl > 200 ? 200 : pl), pr ? pr + 1 : "");
    (void)c;
    return hend + 4 - a;
}

/* Sends the rest of the request, reads the answer. Returns NULL while the
 * upgrade goes on or once it succeeded, else what failed (detail in err). */
static const char *upgrade_io(conf_run *r, client *c, int ci, int64_t now, char *err, size_t cap)
{
    struct eng_ws *x = c->ws;
    while (x->reqoff < x->reqlen) {
        ssize_t k = tx(c, x->req + x->reqoff, x->reqlen - x->reqoff, err, cap);
        if (k == 0) return NULL;
        if (k < 0) return "sending the request failed";
        x->reqoff += (size_t)k;
    }
    for (;;) {
        ssize_t k = trx(c, x->ans + x->anslen, sizeof x->ans - x->anslen, err, cap);
        if (k == 0) return NULL;
        if (k < 0) return k == WSP_CLOSED ? "the server closed the connection before answering"
                                          : "the connection failed";
        x->anslen += (size_t)k;
        ssize_t end = x->offer ? any_answer(r, c, ci, x, err, cap, now)
                               : net_ws_parse_response(x->ans, x->anslen, x->key, err, cap);
        if (end < 0) return "refused";
        if (end > 0) {
            upgraded(r, c, ci, (size_t)end, now);
            return NULL;
        }
        if (x->anslen == sizeof x->ans) {
            err[0] = '\0';
            return "the answer's HTTP header is too long";
        }
    }
}

void eng_ws_step(engine *e, conf_run *r, client *c, int ci, int64_t now)
{
    char err[400] = "";
    (void)e;
    const char *what = upgrade_io(r, c, ci, now, err, sizeof err);
    if (!what) return;
    const char *why = strncmp(err, "WebSocket upgrade: ", 19) == 0 ? err + 19 : err;
    upgrade_failed(r, c, ci, now, what, why);
}

/* ---- data ---- */

bool eng_ws_wants_write(const client *c)
{
    size_t n = 0;
    if (!c->ws) return false;
    if (!c->ws->ws) return c->ws->reqoff < c->ws->reqlen;
    net_ws_out(c->ws->ws, &n);
    return n > 0 || (c->state == CS_OPEN && c->wlen > 0);
}

/* The connection failed while sending: like a send(2) error over TCP. */
static void send_failed(conf_run *r, client *c, int ci, int64_t now, const char *err)
{
    rt_state *rt = r->rt;
    snprintf(c->why, sizeof c->why, "send failed: %s (the broker closed the connection)", err);
    conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, true);
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
    eng_client_close(c);
    c->peer_closed = true;
    c->closed_at = now;
}

void eng_ws_flush(conf_run *r, client *c, int ci, int64_t now)
{
    if (c->state != CS_OPEN || !c->ws || !c->ws->ws) return;
    net_ws *w = c->ws->ws;
    char err[300] = "";
    if (c->wlen > 0) {
        if (net_ws_send(w, c->wbuf, c->wlen) != 0) {
            send_failed(r, c, ci, now, net_ws_ended(w) ? "the WebSocket is closed" : "out of memory");
            return;
        }
        /* recorded when framed: the capture holds the MQTT stream */
        conf_traffic_data(c->tr, c->stream, CONF_TR_CLIENT, c->wbuf, c->wlen);
        c->wlen = 0;
    }
    if (write_out(c, err, sizeof err) < 0) send_failed(r, c, ci, now, err);
}

int eng_ws_queue_raw(conf_run *r, client *c, int ci, const uint8_t *b, size_t n, int64_t now)
{
    if (c->state != CS_OPEN || !c->ws || !c->ws->ws) return -1;
    eng_ws_flush(r, c, ci, now); /* MQTT bytes queued before go first */
    if (c->state != CS_OPEN || net_ws_send_raw(c->ws->ws, b, n) != 0) return -1;
    eng_ws_flush(r, c, ci, now);
    return 0;
}

int eng_ws_pull(client *c, char *why, size_t cap)
{
    struct eng_ws *x = c->ws;
    net_ws *w = x->ws;
    uint8_t raw[16384];
    char err[300] = "";
    why[0] = '\0';
    if (net_ws_ended(w)) {
        uint16_t code = net_ws_code_received(w);
        if (code) snprintf(why, cap, "the broker closed the WebSocket (close frame, code %u)", (unsigned)code);
        else snprintf(why, cap, "the WebSocket was closed (close frame %u sent)", (unsigned)net_ws_code_sent(w));
        return WSP_CLOSED;
    }
    ssize_t k = trx(c, raw, sizeof raw, err, sizeof err);
    if (k == 0) return WSP_LATER;
    if (k == WSP_CLOSED) {
        snprintf(why, cap, "the broker closed the connection");
        return WSP_CLOSED;
    }
    if (k < 0) {
        snprintf(why, cap, "the broker reset the connection (%s)", err);
        return WSP_RESET;
    }
    int rc = net_ws_feed(w, raw, (size_t)k, err, sizeof err);
    char werr[300] = "";
    write_out(c, werr, sizeof werr); /* pong or close frame: best effort, the reading decides */
    if (rc < 0) {
        snprintf(why, cap, "the broker sent a frame this client must refuse: %s", err);
        return WSP_BAD;
    }
    return WSP_MORE;
}

size_t eng_ws_take(client *c, uint8_t *buf, size_t cap)
{
    return c->ws && c->ws->ws ? net_ws_read(c->ws->ws, buf, cap) : 0;
}

void eng_ws_goodbye(client *c)
{
    if (!c->ws || !c->ws->ws || c->state != CS_OPEN) return;
    char err[200];
    if (!net_ws_ended(c->ws->ws) && net_ws_close(c->ws->ws, 1000, "") == 0) write_out(c, err, sizeof err);
}

/* ---- frames built by hand (`send frame`) ---- */

static const char *opcode_name(uint8_t op)
{
    static const char *const names[16] = {"continuation", "text", "binary", "3", "4", "5", "6", "7",
                                          "close", "ping", "pong", "11", "12", "13", "14", "15"};
    return names[op & 0x0f];
}

int eng_ws_send_frame(conf_run *r, const conf_step *st, client *c, int ci, const uint8_t *payload, size_t n,
                      int64_t now)
{
    rt_state *rt = r->rt;
    if (!c->ws || !c->ws->ws || c->state != CS_OPEN) {
        if (c->state == CS_CLOSED) return -1;
        eng_finish(r, V_ERROR, now, "line %d: send frame: %s is not connected over WebSockets (the run needs "
                   "--broker ws://... and a connect or open step first)", st->line, r->sc->clients[ci]);
        return -1;
    }
    /* RFC 6455 5.7's example masking key: fixed, so captures and transcripts read the same every run */
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t cap = n + 14;
    uint8_t *f = malloc(cap);
    size_t fl = f ? net_ws_frame(f, cap, st->frame_first, st->frame_unmasked ? NULL : key, payload, n) : 0;
    if (!fl) {
        free(f);
        eng_finish(r, V_ERROR, now, "out of memory");
        return -1;
    }
    char hx[200];
    eng_hexdump(hx, sizeof hx, payload, n);
    uint8_t op = st->frame_first & 0x0f;
    conf_run_event(r, ci, EV_SENT, (int)rt->step, eng_rel(rt, now), "WebSocket frame %s%s%s%s, %zu bytes [%s]",
                   opcode_name(op), st->frame_first & 0x80 ? "" : " nofin", st->frame_first & 0x70 ? " rsv" : "",
                   st->frame_unmasked ? " unmasked" : "", n, hx);
    /* data frames carry the MQTT stream: that is what the capture holds */
    if (op == 0 || op == 2) conf_traffic_data(c->tr, c->stream, CONF_TR_CLIENT, payload, n);
    int q = eng_ws_queue_raw(r, c, ci, f, fl, now);
    free(f);
    return q;
}

void eng_ws_skip_runs(const conf_engine_cfg *cfg, conf_run *runs, size_t n)
{
    if (cfg->ws_path) return;
    for (size_t i = 0; i < n; i++) {
        conf_run *r = &runs[i];
        if (r->verdict != V_PENDING || !r->sc->websocket) continue;
        r->verdict = V_SKIP;
        free(r->message);
        r->message = strdup("needs MQTT over WebSockets (MQTT 5.0 / 3.1.1 section 6): this run is over TCP; "
                            "give --broker ws://HOST:PORT/PATH or wss://...");
    }
}

/* ---- the probes' blocking connections ---- */

int conf_bconn_open(conf_bconn *b, const conf_engine_cfg *cfg, int timeout_ms, int *stage, char *why, size_t cap)
{
    int64_t deadline = net_now_ms() + timeout_ms;
    *b = (conf_bconn){.fd = -1, .tp = cfg->transport};
    *stage = 0;
    b->fd = b->tp ? b->tp->connect(b->tp->ctx, "capability-probe") : net_connect(cfg->host, cfg->port, timeout_ms, why, cap);
    if (b->fd < 0 && b->tp) snprintf(why, cap, "in-process connect: %s", strerror(errno));
    if (b->fd < 0) return -1;
    char err[400] = "";
    if (cfg->tls) {
        *stage = 1;
        b->tls = net_tls_new(cfg->tls, b->fd, cfg->host, err, sizeof err);
        int left = (int)(deadline - net_now_ms());
        if (!b->tls || net_tls_connect(b->tls, left < 1 ? 1 : left, err, sizeof err) != 0) {
            snprintf(why, cap, "%s", err);
            conf_bconn_close(b);
            return -1;
        }
    }
    if (cfg->ws_path) {
        *stage = 2;
        int left = (int)(deadline - net_now_ms());
        b->ws = net_ws_connect(b->fd, b->tls, cfg->host, cfg->port, cfg->ws_path, 0, left < 1 ? 1 : left, err,
                               sizeof err);
        if (!b->ws) {
            snprintf(why, cap, "%s", err);
            conf_bconn_close(b);
            return -1;
        }
    }
    return 0;
}

ssize_t conf_bconn_send(conf_bconn *b, const void *buf, size_t n, int timeout_ms)
{
    if (b->ws) return net_ws_send_all(b->ws, b->fd, b->tls, buf, n, timeout_ms);
    return b->tls ? net_tls_send_all(b->tls, buf, n, timeout_ms) : net_send_all(b->fd, buf, n, timeout_ms);
}

ssize_t conf_bconn_recv(conf_bconn *b, void *buf, size_t cap, int timeout_ms)
{
    if (b->tp) b->tp->settle(b->tp->ctx); /* the in-process broker answers what was sent */
    if (b->ws) return net_ws_recv_some(b->ws, b->fd, b->tls, buf, cap, timeout_ms, NULL, 0);
    return b->tls ? net_tls_recv_some(b->tls, buf, cap, timeout_ms) : net_recv_some(b->fd, buf, cap, timeout_ms);
}

void conf_bconn_close(conf_bconn *b)
{
    if (b->ws) net_ws_shutdown(b->ws, b->fd, b->tls, 200);
    net_ws_free(b->ws);
    b->ws = NULL;
    net_tls_close(b->tls);
    b->tls = NULL;
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
}
