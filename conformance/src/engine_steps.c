/*
 * The step machine: one handler per step kind (a table indexed by
 * conf_step_kind), each called again and again until it is done, waits, or
 * ends the run. This file holds the dispatch, the step deadlines (timer steps
 * measure protocol time, see conform.h) and the steps that only act (open,
 * connect, send, ack, capture, disconnect, drop, wait); the handshakes are
 * in engine_handshake.c, the expectations in engine_expect.c.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t eng_step_ms(const conf_step *st, int64_t def)
{
    return st->ms >= 0 ? st->ms : def;
}

void eng_describe_expect(const conf_step *st, char *out, size_t cap)
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

/* Deadlines of a step that starts now. A timer step's duration is the spec's
 * bound in real time: `expect nothing`/`wait` last exactly that long (a
 * longer wait would cross the bound under --time-scale); an awaited event is
 * on time up to the bound plus the stated tolerance (scaled), and not failed
 * before the lenient `late` bound plus that tolerance. */
static void start_step(engine *e, rt_state *rt, const conf_step *st, int64_t now)
{
    int64_t def = st->kind == ST_EXPECT_NOTHING ? DEFAULT_NOTHING_MS : st->kind == ST_WAIT ? 0 : DEFAULT_EXPECT_MS;
    int64_t ms = eng_step_ms(st, def);
    rt->step_started = now;
    if (!st->timer) {
        rt->step_deadline = rt->ontime_deadline = now + eng_scaled(e, ms);
        return;
    }
    if (st->kind == ST_EXPECT_NOTHING || st->kind == ST_WAIT) {
        rt->step_deadline = rt->ontime_deadline = now + ms;
        return;
    }
    int64_t tol = eng_scaled(e, TIMER_TOLERANCE_MS);
    rt->ontime_deadline = now + ms + tol;
    rt->step_deadline = now + (st->late_ms > ms ? st->late_ms : ms) + tol;
}

/* A timer step's awaited event came: late (after the bound and tolerance)
 * is a finding with the measured time, not a failure. */
void eng_check_late(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    if (!st->timer || now <= rt->ontime_deadline) return;
    eng_note(r, now, LVL_MUST, now - rt->step_started,
             "line %d: on time means within %.1fs (the spec's bound %.1fs + tolerance %.1fs); it came after %.1fs, "
             "within the lenient bound %.1fs", st->line, (double)(rt->ontime_deadline - rt->step_started) / 1000.0,
             (double)eng_step_ms(st, DEFAULT_EXPECT_MS) / 1000.0, (double)eng_scaled(e, TIMER_TOLERANCE_MS) / 1000.0,
             (double)(now - rt->step_started) / 1000.0, (double)(rt->step_deadline - rt->step_started) / 1000.0);
}

static int step_open(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    client *c = &((rt_state *)r->rt)->cl[ci];
    if (c->fd >= 0) eng_client_close(c);
    c->ws_offer = st->ws_protocols; /* this connection's upgrade only (engine_ws.c) */
    if (eng_start_connect(e, r, c, ci, now) < 0) {
        eng_finish(r, V_ERROR, now, "%s: %s", r->sc->clients[ci], c->why);
        return S_END;
    }
    return S_DONE;
}

static int step_connect(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    if (rt->phase == 0) {
        if (eng_send_from_step(e, r, st, MQTT_CONNECT, now) < 0) return S_END;
        rt->phase = 1;
    }
    conf_step any = {.kind = ST_EXPECT, .ptype = MQTT_CONNACK};
    int w = eng_wait_packet(r, &any, ci, MQTT_CONNACK, false, now, "CONNACK");
    if (w != W_TAKEN) return w == W_WAIT ? S_WAIT : S_END;
    if (c->last->pkt.connack.reason_code != 0) {
        char line[512];
        eng_fmt_packet(&c->last->pkt, r->vi, line, sizeof line);
        eng_finish(r, V_FAIL, now, "%s connect: expected CONNACK with reason code 0 (accepted), got %s",
                   r->sc->clients[ci], line);
        return S_END;
    }
    return S_DONE;
}

static int step_send(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    client *c = &((rt_state *)r->rt)->cl[ci];
    if (st->ptype == MQTT_PUBLISH || st->ptype == MQTT_CONNECT || c->state != CS_IDLE)
        return eng_send_from_step(e, r, st, st->ptype, now) < 0 ? S_END : S_DONE;
    eng_finish(r, V_ERROR, now, "%s is not connected (add a connect or open step first)", r->sc->clients[ci]);
    return S_END;
}

static int step_send_raw(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    int cs = ((rt_state *)r->rt)->cl[ci].state;
    /* a frame goes once the connection is upgraded (the upgrade runs under the step's clock) */
    if (st->frame && (cs == CS_CONNECTING || cs == CS_TLS || cs == CS_WS) && now < ((rt_state *)r->rt)->step_deadline)
        return S_WAIT;
    return eng_send_raw(e, r, st, now) < 0 ? S_END : S_DONE;
}

static int step_ack(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    client *c = &((rt_state *)r->rt)->cl[ci];
    const char *cname = r->sc->clients[ci];
    rx *l = c->last;
    (void)st;
    if (!l) {
        eng_finish(r, V_ERROR, now, "%s ack: no packet was matched before (ack answers the last expect)", cname);
        return S_END;
    }
    mqtt_packet_type t = MQTT_PINGREQ;
    if (l->pkt.type == MQTT_PUBLISH && l->pkt.publish.qos == 1) t = MQTT_PUBACK;
    else if (l->pkt.type == MQTT_PUBLISH && l->pkt.publish.qos == 2) t = MQTT_PUBREC;
    else if (l->pkt.type == MQTT_PUBREC) t = MQTT_PUBREL;
    else if (l->pkt.type == MQTT_PUBREL) t = MQTT_PUBCOMP;
    if (t == MQTT_PINGREQ) {
        eng_finish(r, V_ERROR, now, "%s ack: the last matched packet (%s) needs no acknowledgement", cname,
                   mqtt_packet_type_name(l->pkt.type));
        return S_END;
    }
    uint16_t pid = l->pkt.type == MQTT_PUBLISH ? l->pkt.publish.packet_id : l->pkt.ack.packet_id;
    return eng_send_ack(e, r, ci, t, pid, now) < 0 ? S_END : S_DONE;
}

static int step_capture(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    const char *cname = r->sc->clients[ci];
    char buf[1024];
    (void)e;
    if (!c->last) {
        eng_finish(r, V_ERROR, now, "%s capture: no packet was matched before", cname);
        return S_END;
    }
    if (!conf_field_text(&c->last->pkt, st->cap_field, st->cap_prop, buf, sizeof buf)) {
        eng_finish(r, V_FAIL, now, "%s capture: the %s has no %s", cname, mqtt_packet_type_name(c->last->pkt.type),
                   conf_field_name(st->cap_field, st->cap_prop));
        return S_END;
    }
    conf_vars_set(&rt->vars, st->cap_var, buf, strlen(buf));
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "captured %s = %s", st->cap_var, buf);
    return S_DONE;
}

static int step_disconnect(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    if (rt->phase == 0) {
        if (c->state == CS_IDLE) {
            eng_finish(r, V_ERROR, now, "%s disconnect: not connected", r->sc->clients[ci]);
            return S_END;
        }
        if (eng_send_from_step(e, r, st, MQTT_DISCONNECT, now) < 0) return S_END;
        rt->phase = 1;
    }
    if ((c->wlen > 0 || eng_ws_wants_write(c)) && c->state != CS_CLOSED && now < rt->step_deadline) return S_WAIT;
    eng_ws_goodbye(c); /* over WebSockets: a close frame 1000 before the FIN (RFC 6455 7.1.1) */
    if (c->tls && c->state == CS_OPEN) { /* a graceful TLS close: close_notify, then the FIN */
        net_tls_close(c->tls);
        c->tls = NULL;
    }
    eng_client_close(c);
    c->self_closed = true;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "closed the connection");
    return S_DONE;
}

static int step_drop(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    (void)e;
    (void)st;
    eng_client_close(&rt->cl[ci]);
    rt->cl[ci].self_closed = true;
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "dropped the TCP connection");
    return S_DONE;
}

static int step_wait(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    (void)e;
    (void)st;
    (void)ci;
    rt->phase = 1;
    return now >= rt->step_deadline ? S_DONE : S_WAIT;
}

typedef int (*step_fn)(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);

static const step_fn handlers[] = {
    [ST_CONNECT] = step_connect,       [ST_OPEN] = step_open,
    [ST_SEND] = step_send,             [ST_SEND_RAW] = step_send_raw,
    [ST_PUBLISH] = eng_step_publish,   [ST_SUBSCRIBE] = eng_step_subscribe,
    [ST_UNSUBSCRIBE] = eng_step_subscribe, [ST_ACK] = step_ack,
    [ST_EXPECT] = eng_step_expect,     [ST_EXPECT_NOTHING] = eng_step_expect_nothing,
    [ST_EXPECT_CLOSE] = eng_step_expect_close, [ST_CAPTURE] = step_capture,
    [ST_DISCONNECT] = step_disconnect, [ST_DROP] = step_drop,
    [ST_WAIT] = step_wait,
};

static int exec_step(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    int ci = st->client;
    if (st->group && (st->kind == ST_ACK || st->kind == ST_CAPTURE)) {
        /* A group ack/capture acts on the member that matched the last group expect. */
        if (rt->group_matched < 0 || !(st->group & (1u << rt->group_matched))) {
            eng_finish(r, V_ERROR, now, "line %d: no member of this group matched an earlier group expect", st->line);
            return S_END;
        }
        ci = rt->group_matched;
    }
    if (rt->phase == 0) start_step(e, rt, st, now);
    if ((size_t)st->kind >= sizeof handlers / sizeof handlers[0] || !handlers[st->kind]) return S_DONE;
    return handlers[st->kind](e, r, st, ci, now);
}

/* Runs steps until one has to wait or the run ends. */
void eng_advance(engine *e, conf_run *r, int64_t now)
{
    rt_state *rt = r->rt;
    while (!rt->done) {
        if (rt->step < r->sc->nsteps && !eng_pause_for_connect(e, r, &r->sc->steps[rt->step], now)) return;
        if (now >= rt->run_deadline) {
            const conf_step *st = rt->step < r->sc->nsteps ? &r->sc->steps[rt->step] : NULL;
            eng_finish(r, V_ERROR, now, "the run passed its deadline (%.1fs) at line %d: %s",
                       (double)(rt->run_deadline - rt->t0) / 1000.0, st ? st->line : 0, st ? st->src : "");
            return;
        }
        if (rt->step >= r->sc->nsteps) {
            eng_finish(r, V_PASS, now, NULL);
            return;
        }
        const conf_step *st = &r->sc->steps[rt->step];
        if (!(st->vmask & CONF_VBIT(r->vi))) {
            rt->step++;
            continue;
        }
        int s = exec_step(e, r, st, now);
        if (s != S_DONE) return;
        rt->step++;
        rt->phase = 0;
    }
}

int64_t eng_next_wakeup(const conf_run *r)
{
    const rt_state *rt = r->rt;
    int64_t t = rt->run_deadline;
    if (rt->step < r->sc->nsteps && rt->step_deadline < t) t = rt->step_deadline;
    return t;
}
