/*
 * Verdicts: how a run ends (eng_finish) and what its findings say
 * (eng_note). A check that does not hold is judged at the level of the rules
 * of the step that checks it (conf_step.level, from levels.c):
 * - MUST: `fail`; SHOULD: `warn`; MAY: `skip` (the broker need not do it);
 * - no rule (a precondition, e.g. the connect of a scenario testing something
 *   else): `error`, never a rule failure;
 * and a run whose steps all held but that noted a SHOULD-level deviation or a
 * late timer ends `warn` rather than `pass`.
 */
#include "conformance/src/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void add_finding(conf_run *r, int step, conf_level level, int64_t measured, const char *text)
{
    conf_finding *nf = realloc(r->find, (r->nfind + 1) * sizeof *nf);
    if (!nf) return;
    r->find = nf;
    r->find[r->nfind++] = (conf_finding){step, level, strdup(text), measured};
}

/* The level the current step checks at (LVL_NONE past the last step). */
static conf_level step_level(const conf_run *r)
{
    const rt_state *rt = r->rt;
    return rt->step < r->sc->nsteps ? r->sc->steps[rt->step].level[r->vi] : LVL_NONE;
}

void eng_note(conf_run *r, int64_t now, conf_level level, int64_t measured_ms, const char *fmt, ...)
{
    rt_state *rt = r->rt;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    add_finding(r, (int)rt->step, level, measured_ms, buf);
    conf_run_event(r, -1, EV_NOTE, (int)rt->step, eng_rel(rt, now), "warn (%s): %s", conf_level_name(level), buf);
}

/* What a broken check of the current step means, by its level. */
static conf_verdict judge_fail(const conf_run *r, conf_level *lv, const char **prefix)
{
    const rt_state *rt = r->rt;
    *lv = step_level(r);
    *prefix = "";
    if (rt->step < r->sc->nsteps && r->sc->steps[rt->step].else_skip) {
        *prefix = "the broker does not offer what this scenario needs (`else skip`): ";
        return V_SKIP;
    }
    switch (*lv) {
    case LVL_MUST: return V_FAIL;
    case LVL_SHOULD: return V_WARN;
    case LVL_MAY:
        *prefix = "optional behaviour (MAY) not shown: ";
        return V_SKIP;
    default:
        *prefix = "not judged: a precondition step (it checks none of the scenario's rules) failed: ";
        return V_ERROR;
    }
}

void eng_finish(conf_run *r, conf_verdict v, int64_t now, const char *fmt, ...)
{
    rt_state *rt = r->rt;
    if (rt->done) return;
    rt->done = true;
    const char *prefix = "";
    conf_level lv = LVL_NONE;
    if (v == V_FAIL) v = judge_fail(r, &lv, &prefix);
    if (v == V_PASS) {
        /* every step held: the worst finding noted on the way decides */
        for (size_t i = 0; i < r->nfind; i++)
            if (r->find[i].level >= LVL_SHOULD || r->find[i].measured_ms >= 0) {
                v = V_WARN;
                if (r->find[i].level > lv) lv = r->find[i].level;
            }
    }
    r->verdict = v;
    r->level = lv;
    if (!fmt) return;
    char buf[2048];
    size_t pl = strlen(prefix);
    memcpy(buf, prefix, pl + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + pl, sizeof buf - pl, fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = strdup(buf);
    r->fail_step = (int)rt->step;
    add_finding(r, (int)rt->step, lv, -1, buf);
    conf_run_event(r, -1, EV_FAIL, (int)rt->step, eng_rel(rt, now), "%s", buf);
}

char *const *conf_run_rules(const conf_run *r, size_t *n)
{
    *n = 0;
    if (!r->sc) return NULL;
    int vi = r->vi, step = -1;
    switch (r->verdict) {
    case V_PASS:
    case V_XPASS:
        *n = r->sc->nrules[vi];
        return r->sc->rules[vi];
    case V_FAIL:
    case V_XFAIL:
        step = r->fail_step;
        break;
    case V_WARN:
        step = r->fail_step >= 0 ? r->fail_step : r->nfind ? r->find[0].step : -1;
        break;
    default:
        return NULL;
    }
    if (step < 0 || (size_t)step >= r->sc->nsteps) return NULL;
    *n = r->sc->steps[step].nrules[vi];
    return r->sc->steps[step].rules[vi];
}
