/*
 * Waiting for a connection to be set up is load, not conformance: while the
 * current step waits for its client's TCP connect to be accepted, its TLS
 * handshake, or the CONNACK to a CONNECT it sent, the step's clocks (its
 * deadlines, the on-time bound of a timer, the run's deadline) stand still.
 * A wait longer than CONNECT_SLOW_MS (times --time-scale) is noted in the
 * transcript and makes the engine run fewer scenarios at a time (engine.c).
 * Giving up: a TCP connect or TLS handshake not done after CONNECT_GIVE_UP_MS
 * ends the run as `error` (it could not be judged); a CONNACK not there after
 * CONNACK_GIVE_UP_MS stops pausing the clocks, so the step's own deadline judges it (a
 * broker that never answers a CONNECT is still caught, only later).
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>

/* What the step is waiting for on its client, or NULL: nothing of set-up. */
static const char *setup_wait(const conf_step *st, const client *c)
{
    if (c->state == CS_CONNECTING) return "TCP connect";
    if (c->state == CS_TLS) return "TLS handshake";
    bool wants_connack = st->kind == ST_CONNECT || (st->kind == ST_EXPECT && st->ptype == MQTT_CONNACK && !st->timer);
    if (wants_connack && c->state == CS_OPEN && c->connack_pending && c->nin == 0) return "CONNACK";
    return NULL;
}

bool eng_pause_for_connect(engine *e, conf_run *r, const conf_step *st, int64_t now)
{
    rt_state *rt = r->rt;
    int64_t d = rt->last_tick ? now - rt->last_tick : 0;
    rt->last_tick = now;
    const char *what = st && st->client >= 0 && !st->group ? setup_wait(st, &rt->cl[st->client]) : NULL;
    bool connack = what && what[0] == 'C';
    if (!what || (connack && rt->connect_wait >= eng_scaled(e, CONNACK_GIVE_UP_MS))) {
        if (!what) rt->connect_wait = 0;
        return true;
    }
    if (d <= 0) return true;
    rt->step_started += d;
    rt->step_deadline += d;
    rt->ontime_deadline += d;
    rt->run_deadline += d;
    bool was_slow = rt->connect_wait >= eng_scaled(e, CONNECT_SLOW_MS);
    rt->connect_wait += d;
    if (!was_slow && rt->connect_wait >= eng_scaled(e, CONNECT_SLOW_MS)) {
        e->slow_connects++;
        conf_run_event(r, st->client, EV_NOTE, (int)rt->step, eng_rel(rt, now),
                       "the %s is slow (the broker is busy%s): the step's clock waits, fewer runs go in parallel",
                       what, connack ? "" : ", its accept queue may be full");
    }
    if (connack || rt->connect_wait < eng_scaled(e, CONNECT_GIVE_UP_MS)) return true;
    eng_finish(r, V_ERROR, now, "%s: the broker did not %s within %.0fs (its accept queue may be full: try fewer --jobs)",
               r->sc->clients[st->client], what[1] == 'C' ? "accept the TCP connection" : "complete the TLS handshake",
               (double)rt->connect_wait / 1000.0);
    return false;
}
