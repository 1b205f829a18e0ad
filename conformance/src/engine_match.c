/*
 * Waiting for packets: matching a step's fields against a client's inbox
 * (ordered or not, one client or a group), with the failure messages that
 * say what came instead.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- matching ---- */

void eng_take(client *c, size_t i)
{
    eng_rx_free(c->last);
    c->last = c->inbox[i];
    c->inbytes -= c->last->len;
    memmove(&c->inbox[i], &c->inbox[i + 1], (c->nin - i - 1) * sizeof c->inbox[0]);
    c->nin--;
}

/* Does packet x match every field of st? NULL yes, else the first mismatch. */
const char *eng_match_all(conf_run *r, const conf_step *st, const rx *x, char *buf, size_t cap, int64_t now,
                             bool *fatal)
{
    *fatal = false;
    size_t up_from = 0;
    for (size_t i = 0; i < st->nfields; i++) {
        size_t len;
        char *v = eng_value_of(r, &st->fields[i], &len, now);
        if (!v) { *fatal = true; return "variable"; }
        const char *m = conf_match(&x->pkt, r->vi, &st->fields[i], v, len, &up_from, buf, cap);
        free(v);
        if (m) return m;
    }
    return NULL;
}

/* What the client has received and not consumed, for failure messages. */
void eng_inbox_summary(const conf_run *r, const client *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->nin && o + 16 < cap; i++) {
        char line[512];
        eng_fmt_packet(&c->inbox[i]->pkt, r->vi, line, sizeof line);
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "; " : "", line);
    }
    if (!c->nin) snprintf(out, cap, "nothing");
}


/* Waits for a packet of type t on client ci for which check() holds; fails on
 * mismatch (ordered mode), close, garbage or deadline. */
int eng_wait_packet(conf_run *r, const conf_step *st, int ci, mqtt_packet_type t, bool unordered,
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
        const char *m = st ? eng_match_all(r, st, x, buf, sizeof buf, now, &fatal) : NULL;
        if (st && fatal) return W_DONE;
        if (!m) {
            eng_take(c, i);
            return W_TAKEN;
        }
        if (!unordered) {
            char line[1024];
            eng_fmt_packet(&x->pkt, r->vi, line, sizeof line);
            eng_finish(r, V_FAIL, now, "%s expected %s; got %s: %s", cname, what, line, m);
            return W_DONE;
        }
    }
    if (c->state == CS_CLOSED || c->garbage) {
        char sum[1024];
        eng_inbox_summary(r, c, sum, sizeof sum);
        eng_finish(r, V_FAIL, now, "%s expected %s; %s (unconsumed: %s)", cname, what,
               c->why[0] ? c->why : "connection closed", sum);
        return W_DONE;
    }
    if (c->state == CS_IDLE) {
        eng_finish(r, V_ERROR, now, "%s expected %s but is not connected (add a connect step)", cname, what);
        return W_DONE;
    }
    if (now >= rt->step_deadline && st && st->or_skip) {
        eng_finish(r, V_SKIP, now, "%s: %s did not come within %.1fs, which the broker may do (`or skip`)", cname,
                   what, (double)(rt->step_deadline - rt->step_started) / 1000.0);
        return W_DONE;
    }
    if (now >= rt->step_deadline) {
        char sum[1024];
        eng_inbox_summary(r, c, sum, sizeof sum);
        eng_finish(r, V_FAIL, now, "%s expected %s within %.1fs; received meanwhile: %s", cname, what,
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
int eng_wait_group(engine *e, conf_run *r, const conf_step *st, int64_t now, const char *what)
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
            eng_finish(r, V_ERROR, now, "%s expected %s but %s is not connected (add a connect step)", names, what,
                   r->sc->clients[k]);
            return W_DONE;
        }
        for (size_t i = 0; i < c->nin; i++) {
            rx *x = c->inbox[i];
            if (x->pkt.type != st->ptype) continue;
            char buf[1024];
            bool fatal;
            const char *m = eng_match_all(r, st, x, buf, sizeof buf, now, &fatal);
            if (fatal) return W_DONE;
            if (!m) {
                eng_take(c, i);
                rt->group_matched = (int)k;
                conf_run_event(r, (int)k, EV_NOTE, (int)rt->step, eng_rel(rt, now), "matched by %s (group %s)",
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
            eng_inbox_summary(r, &rt->cl[k], one, sizeof one);
            client *c = &rt->cl[k];
            o += (size_t)snprintf(sum + o, sizeof sum - o, "%s%s: %s%s%s", o ? "; " : "", r->sc->clients[k], one,
                                  c->state == CS_CLOSED || c->garbage ? ", then " : "",
                                  c->state == CS_CLOSED || c->garbage ? (c->why[0] ? c->why : "closed") : "");
        }
        if (!any_open)
            eng_finish(r, V_FAIL, now, "%s expected one of them to receive %s; every connection is closed (%s)", names,
                   what, sum);
        else
            eng_finish(r, V_FAIL, now, "%s expected one of them to receive %s within %.1fs; received meanwhile: %s",
                   names, what, (double)(rt->step_deadline - rt->step_started) / 1000.0, sum);
        return W_DONE;
    }
    return W_WAIT;
}

