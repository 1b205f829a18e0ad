/*
 * The expectation steps: `expect TYPE`, `expect nothing`, `expect close`.
 *
 * Reason codes are judged by their class where the rule's MUST is the class
 * (5.0 section 4.13: on a Malformed Packet or Protocol Error the MUST is to
 * close the connection, MQTT-4.13.1-1; sending a CONNACK or DISCONNECT with
 * a reason code first is a MAY, and which code a SHOULD at most):
 * - `expect close reason_code=X`: any close passes: a silent one, or one
 *   after a DISCONNECT; a DISCONNECT with another code is a SHOULD-level
 *   finding (`warn`), never a failure;
 * - 5.0 `expect CONNACK|SUBACK|UNSUBACK|PUBACK|PUBREC|PUBCOMP|DISCONNECT
 *   reason_code=X` with X >= 0x80: a packet refusing with another code >= 0x80
 *   matches, with a SHOULD-level finding. 3.1.1's return codes are named by
 *   MUST statements (e.g. MQTT-3.1.2-2, MQTT-3.1.3-9) and stay exact.
 */
#include "conformance/src/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An exact failure code (>= 0x80) of a reason field, or -1. */
static int failure_code(const conf_field *f)
{
    if ((f->id != F_REASON_CODE && f->id != F_REASON_CODES) || f->op != OP_EQ || f->kind != VK_WORD) return -1;
    char *end;
    unsigned long v = strtoul(f->text, &end, 0);
    if (*end || v < 0x80 || v > 0xFF) return -1; /* a list, or a success code: exact */
    return (int)v;
}

static bool refusal_type(mqtt_packet_type t)
{
    return t == MQTT_CONNACK || t == MQTT_SUBACK || t == MQTT_UNSUBACK || t == MQTT_PUBACK || t == MQTT_PUBREC ||
           t == MQTT_PUBCOMP || t == MQTT_DISCONNECT;
}

/* st with its exact failure codes loosened to `>= 0x80` (5.0 refusals): a
 * copy in *loose (fields in lf, capacity cap). Returns the index of the
 * loosened field, or -1 when st has none (then *loose is not used). */
static int loosen(const conf_run *r, const conf_step *st, conf_step *loose, conf_field *lf, size_t cap)
{
    if (r->vi != CONF_VI_5 || !refusal_type(st->ptype) || st->nfields > cap) return -1;
    int at = -1;
    for (size_t i = 0; i < st->nfields; i++) {
        lf[i] = st->fields[i];
        if (at < 0 && failure_code(&st->fields[i]) >= 0) {
            at = (int)i;
            lf[i].op = OP_GE;
            lf[i].text = (char *)"0x80";
            lf[i].len = 4;
        }
    }
    *loose = *st;
    loose->fields = lf;
    return at;
}

/* The packet taken for a loosened step: another failure code than the one
 * named is a SHOULD-level finding. Returns false when the run ended. */
static bool judge_code(conf_run *r, const conf_step *st, int ci, int64_t now)
{
    client *c = &((rt_state *)r->rt)->cl[ci];
    char buf[512];
    bool fatal;
    const char *m = eng_match_all(r, st, c->last, buf, sizeof buf, now, &fatal);
    if (fatal) return false;
    if (m)
        eng_note(r, now, LVL_SHOULD, -1, "%s refused as required, with another reason code: %s (the refusal is "
                 "the rule; the code is at most a SHOULD)", r->sc->clients[ci], m);
    return true;
}

/* `or close` and the broker closed: a packet of the type that came before
 * the close must still match (m: the step, loosened or not). Returns
 * S_DONE (closed instead), S_END (the run ended) or CLOSED_TAKEN. */
enum { CLOSED_TAKEN = S_END + 1 };
static int closed_instead(conf_run *r, const conf_step *m, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    for (size_t i = 0; i < c->nin; i++) {
        char buf[1024];
        bool fatal;
        if (c->inbox[i]->pkt.type != m->ptype) continue;
        const char *mm = eng_match_all(r, m, c->inbox[i], buf, sizeof buf, now, &fatal);
        if (fatal) return S_END;
        if (!mm) {
            eng_take(c, i);
            return CLOSED_TAKEN;
        }
    }
    conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now),
                   "the broker closed the connection instead (allowed by `or close`)");
    return S_DONE;
}

/* `else warn`: the oldest packet of the step's type, once it came, is taken;
 * not matching is a finding ("late"), not a failure. Returns S_WAIT while
 * none came (the usual wait then judges a timeout or a close). */
static int late_state(conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    for (size_t i = 0; i < c->nin; i++) {
        if (c->inbox[i]->pkt.type != st->ptype) continue;
        char buf[512];
        bool fatal;
        const char *m = eng_match_all(r, st, c->inbox[i], buf, sizeof buf, now, &fatal);
        if (fatal) return S_END;
        if (m)
            eng_note(r, now, st->level[r->vi] ? st->level[r->vi] : LVL_SHOULD, now - rt->t0,
                     "line %d: not yet at the on-time bound (%s); a later step checks the lenient bound", st->line, m);
        eng_take(c, i);
        return S_DONE;
    }
    return S_WAIT;
}

int eng_step_expect(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    char what[512];
    rt->phase = 1;
    eng_describe_expect(st, what, sizeof what);
    if (st->group) {
        int g = eng_wait_group(e, r, st, now, what);
        if (g == W_TAKEN) eng_check_late(e, r, st, now);
        return g == W_TAKEN ? S_DONE : g == W_WAIT ? S_WAIT : S_END;
    }
    if (st->else_warn) {
        int k = late_state(r, st, ci, now);
        if (k != S_WAIT) return k;
    }
    conf_step loose;
    conf_field lf[32];
    int at = loosen(r, st, &loose, lf, sizeof lf / sizeof lf[0]);
    const conf_step *m = at >= 0 ? &loose : st;
    if (st->or_close && c->state == CS_CLOSED && c->peer_closed && !c->garbage) {
        int k = closed_instead(r, m, ci, now);
        if (k != CLOSED_TAKEN) return k;
        return at < 0 || judge_code(r, st, ci, now) ? S_DONE : S_END;
    }
    int w = eng_wait_packet(r, m, ci, st->ptype, st->unordered, now, what);
    if (w != W_TAKEN) return w == W_WAIT ? S_WAIT : S_END;
    eng_check_late(e, r, st, now);
    return at < 0 || judge_code(r, st, ci, now) ? S_DONE : S_END;
}

int eng_step_expect_nothing(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    const char *cname = r->sc->clients[ci];
    (void)e;
    (void)st;
    rt->phase = 1;
    if (c->nin) {
        char sum[1024];
        eng_inbox_summary(r, c, sum, sizeof sum);
        eng_finish(r, V_FAIL, now, "%s expected nothing; got %s", cname, sum);
        return S_END;
    }
    if (c->state == CS_CLOSED || c->garbage) {
        eng_finish(r, V_FAIL, now, "%s expected nothing; %s", cname, c->why[0] ? c->why : "connection closed");
        return S_END;
    }
    return now >= rt->step_deadline ? S_DONE : S_WAIT;
}

/* The connection is closed: a DISCONNECT before it with another reason code
 * than the step names is a SHOULD-level finding (the close is the MUST). */
static void judge_disconnect(conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    for (size_t i = 0; i < c->nin && st->nfields; i++) {
        if (c->inbox[i]->pkt.type != MQTT_DISCONNECT) continue;
        char buf[512];
        bool fatal;
        const char *m = eng_match_all(r, st, c->inbox[i], buf, sizeof buf, now, &fatal);
        if (m && !fatal)
            eng_note(r, now, LVL_SHOULD, -1, "%s: the broker closed the connection as required, after a DISCONNECT "
                     "whose %s (closing is the rule, MQTT-4.13.1-1; the reason code is at most a SHOULD)",
                     r->sc->clients[ci], m);
    }
    eng_client_clear_inbox(c);
}

int eng_step_expect_close(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    client *c = &rt->cl[ci];
    const char *cname = r->sc->clients[ci];
    rt->phase = 1;
    if (c->garbage) {
        eng_finish(r, V_FAIL, now, "%s expected the connection closed; %s", cname, c->why);
        return S_END;
    }
    if (st->silent && c->nin) {
        char sum[1024];
        eng_inbox_summary(r, c, sum, sizeof sum);
        eng_finish(r, V_FAIL, now, "%s expected the broker to close the connection without sending anything; "
                   "it sent %s", cname, sum);
        return S_END;
    }
    if (c->state == CS_CLOSED && c->self_closed) {
        eng_finish(r, V_ERROR, now, "%s expect close: the scenario closed this connection itself", cname);
        return S_END;
    }
    if (c->state == CS_IDLE) {
        eng_finish(r, V_ERROR, now, "%s expect close: not connected", cname);
        return S_END;
    }
    if (c->state == CS_CLOSED) {
        judge_disconnect(r, st, ci, now);
        eng_check_late(e, r, st, now);
        return S_DONE;
    }
    if (now < rt->step_deadline) return S_WAIT;
    char sum[1024];
    eng_inbox_summary(r, c, sum, sizeof sum);
    eng_finish(r, V_FAIL, now, "%s expected the broker to close the connection within %.1fs%s; it is still open "
               "(received: %s)", cname, (double)(rt->step_deadline - rt->step_started) / 1000.0,
               st->timer ? " (the lenient bound of this timer)" : "", sum);
    return S_END;
}
