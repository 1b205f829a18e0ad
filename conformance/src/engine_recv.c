/*
 * Reading from the broker: bytes into the client's receive buffer, decoded
 * packets into its inbox (Topic Aliases resolved). Bytes that do not decode
 * end that client's stream: it cannot be re-synchronised.
 */
#include "conformance/src/engine_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* Grows the receive buffer so that at least 4 KiB are free, within the
 * run's buffering bound. Returns false (the run ended) when it cannot. */
static bool room(conf_run *r, client *c, int64_t now)
{
    if (c->rcap - c->rlen >= 4096) return true;
    size_t nc = c->rcap ? c->rcap * 2 : 16384;
    if (nc > CONF_RX_BYTES_MAX) nc = CONF_RX_BYTES_MAX;
    uint8_t *nb = nc > c->rlen + 4096 ? realloc(c->rbuf, nc) : NULL;
    if (!nb) {
        eng_finish(r, V_ERROR, now, "stopped reading: the broker sent a packet larger than the runner buffers "
                   "(%u MiB) or memory ran out", (unsigned)(CONF_RX_BYTES_MAX >> 20));
        return false;
    }
    c->rbuf = nb;
    c->rcap = nc;
    return true;
}

/* The connection ended (EOF, reset, TLS alert): why, for messages. */
static void peer_closed(client *c, int64_t now, bool reset, const char *why)
{
    conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, reset);
    snprintf(c->why, sizeof c->why, "%s", why);
    c->peer_closed = true;
    c->closed_at = now;
}

/* Moves the MQTT bytes the WebSocket layer holds into the receive buffer. */
static void take_ws(conf_run *r, client *c, int64_t now)
{
    size_t k;
    while (!((rt_state *)r->rt)->done && room(r, c, now) &&
           (k = eng_ws_take(c, c->rbuf + c->rlen, c->rcap - c->rlen)) > 0) {
        conf_traffic_data(c->tr, c->stream, CONF_TR_SERVER, c->rbuf + c->rlen, k);
        c->rlen += k;
    }
}

/* Over WebSockets: frames in, the MQTT byte stream into the receive buffer
 * (what came before a close frame is read first); engine_ws.c. */
static void read_ws(conf_run *r, client *c, int64_t now)
{
    rt_state *rt = r->rt;
    char why[400];
    int st = WSP_MORE;
    while (st == WSP_MORE && !rt->done) {
        take_ws(r, c, now);
        if (!rt->done) st = eng_ws_pull(c, why, sizeof why);
    }
    take_ws(r, c, now);
    if (rt->done || st == WSP_LATER || st == WSP_MORE) return;
    if (st == WSP_BAD) { /* like bytes that do not decode: the stream ends here */
        snprintf(c->why, sizeof c->why, "%s", why);
        conf_run_event(r, (int)(c - rt->cl), EV_RECV, (int)rt->step, eng_rel(rt, now), "%s", why);
        c->garbage = true;
        return;
    }
    peer_closed(c, now, st == WSP_RESET, why);
}

/* Reads what the socket (or TLS) has into the receive buffer. */
static void read_bytes(conf_run *r, client *c, int64_t now)
{
    if (c->ws) {
        read_ws(r, c, now);
        return;
    }
    while (!((rt_state *)r->rt)->done && room(r, c, now)) {
        ssize_t n;
        char err[300] = "";
        if (c->tls) n = net_tls_read(c->tls, c->rbuf + c->rlen, c->rcap - c->rlen, err, sizeof err);
        else n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n > 0) {
            conf_traffic_data(c->tr, c->stream, CONF_TR_SERVER, c->rbuf + c->rlen, (size_t)n);
            c->rlen += (size_t)n;
            continue;
        }
        if (c->tls && (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE)) {
            c->tls_want = n == NET_TLS_WANT_WRITE ? NET_TLS_WANT_WRITE : 0;
            return;
        }
        if (c->tls) { /* 0: close_notify or EOF; -1: a TLS alert or a reset */
            char why[400];
            snprintf(why, sizeof why, "the broker ended the TLS connection: %s", err[0] ? err : "error");
            peer_closed(c, now, n < 0, n == 0 ? "the broker closed the connection" : why);
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        int rerr = n < 0 ? errno : 0;
        if (n == 0 || rerr == ECONNRESET) conf_traffic_close(c->tr, c->stream, CONF_TR_SERVER, n < 0);
        snprintf(c->why, sizeof c->why, "%s", n == 0 ? "the broker closed the connection"
                                                     : rerr == ECONNRESET ? "the broker reset the connection"
                                                                          : strerror(rerr));
        c->peer_closed = true;
        c->closed_at = now;
        return;
    }
}

/* Checks a decoded packet against what this client allowed (Maximum Packet
 * Size, Topic Aliases). Returns false, with c->why set, when the broker broke
 * one of them: the stream then ends like undecodable bytes. */
static bool allowed(conf_run *r, client *c, int ci, rx *x, int64_t now)
{
    rt_state *rt = r->rt;
    if (c->max_packet && x->len > c->max_packet) {
        /* a packet this client said it would not process (5.0 MQTT-3.1.2-24) */
        snprintf(c->why, sizeof c->why, "the broker sent a %zu-byte %s but this client's Maximum Packet Size is "
                 "%" PRIu32 " (5.0 MQTT-3.1.2-24)", x->len, mqtt_packet_type_name(x->pkt.type), c->max_packet);
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
        return false;
    }
    if (r->vi == CONF_VI_5 && x->pkt.type == MQTT_PUBLISH) {
        bool empty = x->pkt.publish.topic.len == 0;
        if (!resolve_alias(c, x)) {
            conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
            return false;
        }
        if (empty && x->topic_copy)
            conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "topic alias %u stands for \"%.*s\"",
                           (unsigned)x->pkt.publish.properties.topic_alias, (int)x->pkt.publish.topic.len,
                           (const char *)x->pkt.publish.topic.ptr);
    }
    return true;
}

/* Adds x to the inbox, within the bound on what a run buffers: a broker that
 * floods a client with packets no step consumes ends the run as `error`
 * (what the runner can judge stops there), not with the runner's memory. */
static bool push_inbox(conf_run *r, client *c, rx *x, int64_t now)
{
    if (c->nin >= CONF_RX_PACKETS_MAX || c->inbytes + x->len > CONF_RX_BYTES_MAX) {
        eng_finish(r, V_ERROR, now, "stopped reading: the broker sent more than %u packets or %u MiB that no step "
                   "consumed (%s); the runner buffers no more", (unsigned)CONF_RX_PACKETS_MAX,
                   (unsigned)(CONF_RX_BYTES_MAX >> 20), r->sc->clients[(size_t)(c - ((rt_state *)r->rt)->cl)]);
        return false;
    }
    if (c->nin == c->incap) {
        size_t nc = c->incap ? c->incap * 2 : 8;
        rx **ni = realloc(c->inbox, nc * sizeof *ni);
        if (!ni) return false;
        c->inbox = ni;
        c->incap = nc;
    }
    c->inbox[c->nin++] = x;
    c->inbytes += x->len;
    c->connack_pending = false;
    return true;
}

/* Decodes one packet at off. Returns its length (0: incomplete or ended). */
static size_t decode_one(conf_run *r, client *c, int ci, size_t off, int64_t now)
{
    rt_state *rt = r->rt;
    rx *x = calloc(1, sizeof *x);
    if (!x) return 0;
    mqtt_codec codec = {.version = conf_vi_version(r->vi), .from = MQTT_FROM_SERVER,
                        .user_properties = x->up, .user_properties_cap = 64,
                        .subscription_identifiers = x->sid, .subscription_identifiers_cap = 32,
                        .subscriptions = x->subs, .subscriptions_cap = 8};
    mqtt_error err = {0};
    mqtt_packet tmp;
    mqtt_status s = mqtt_decode(&codec, c->rbuf + off, c->rlen - off, &tmp, &err);
    /* After a CONNECT of a level the run does not speak, the broker may answer in any
     * version's form (3.1.1's CONNACK 0x01 or 5.0's 0x84, 5.0 MQTT-3.1.2-2): the others are tried. */
    static const mqtt_version forms[] = {MQTT_V311, MQTT_V5};
    for (size_t k = 0; c->any_form && s != MQTT_OK && s != MQTT_NEED_MORE && k < 2; k++) {
        if (forms[k] == codec.version) continue;
        mqtt_codec other = codec;
        other.version = forms[k];
        mqtt_error e2 = {0};
        if (mqtt_decode(&other, c->rbuf + off, c->rlen - off, &tmp, &e2) == MQTT_OK) {
            codec = other;
            s = MQTT_OK;
        }
    }
    if (s != MQTT_OK) {
        if (s != MQTT_NEED_MORE) {
            char e[256], hx[200];
            mqtt_format_error(&err, e, sizeof e);
            eng_hexdump(hx, sizeof hx, c->rbuf + off, c->rlen - off);
            snprintf(c->why, sizeof c->why, "the broker sent bytes that do not decode: %s; bytes: %s", e, hx);
            conf_run_event(r, ci, EV_RECV, (int)rt->step, eng_rel(rt, now), "undecodable: %s [%s]", e, hx);
            c->garbage = true;
        }
        free(x);
        return 0;
    }
    /* Copy the packet's bytes so its views outlive the receive buffer. */
    x->len = tmp.length;
    x->bytes = malloc(x->len ? x->len : 1);
    if (!x->bytes) { free(x); return 0; }
    memcpy(x->bytes, c->rbuf + off, x->len);
    mqtt_decode(&codec, x->bytes, x->len, &x->pkt, NULL);
    x->t_ms = eng_rel(rt, now);
    char line[1024];
    eng_fmt_packet(&x->pkt, r->vi, line, sizeof line);
    conf_run_event(r, ci, EV_RECV, (int)rt->step, eng_rel(rt, now), "%s", line);
    if (!allowed(r, c, ci, x, now)) c->garbage = true;
    if (c->garbage || !push_inbox(r, c, x, now)) {
        eng_rx_free(x);
        return 0;
    }
    return tmp.length;
}

void eng_on_readable(conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    read_bytes(r, c, now);
    size_t off = 0, k;
    while (off < c->rlen && !c->garbage && !rt->done && (k = decode_one(r, c, ci, off, now)) > 0) off += k;
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->peer_closed || c->garbage) {
        if (c->peer_closed && c->rlen > 0 && !c->garbage) {
            char hx[200];
            eng_hexdump(hx, sizeof hx, c->rbuf, c->rlen);
            conf_run_event(r, ci, EV_RECV, (int)rt->step, eng_rel(rt, now), "incomplete packet before close [%s]", hx);
        }
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s",
                       c->garbage ? "stopped reading: the stream cannot be resynchronised" : c->why);
        eng_client_close(c);
        c->closed_at = now;
    }
}
