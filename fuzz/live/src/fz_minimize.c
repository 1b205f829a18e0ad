/*
 * fz_minimize: ddmin over steps, then over bytes (see fz_minimize.h).
 * A crash that needs the broker to be restarted costs a restart per test;
 * the budget counts tests, not time.
 */
#include "fuzz/live/src/fz_minimize.h"
#include "fuzz/live/src/fz_rng.h"

#include <string.h>

typedef struct {
    fz_ctx *x;
    const fz_finding *want;
    int used, budget;
} mini;

static bool same(const fz_finding *a, const fz_finding *b)
{
    if (a->cls != b->cls) return false;
    return (a->cls != FZ_SPEC && a->cls != FZ_DIFF) || strcmp(a->rule, b->rule) == 0;
}

/* Runs cand in a namespace of its own: sessions, subscriptions and retained
 * messages an earlier candidate left in the broker cannot make it fail. */
static bool still_fails(mini *m, const fz_session *cand)
{
    if (m->used >= m->budget) return false;
    m->used++;
    static uint64_t runs;
    fz_session own;
    char ns[FZ_NS_LEN + 1];
    if (fz_session_copy(&own, cand) != 0) return false;
    fz_make_ns(fz_rng_derive(m->x->o->ns_salt ^ 0x6d696e69ull, ++runs), ns);
    fz_session_rename(&own, ns);
    fz_run run;
    fz_finding f;
    int rc = fz_eval(m->x, &own, &run, &f);
    fz_run_free(&run);
    fz_session_free(&own);
    return rc == 1 && same(&f, m->want);
}

/* Tries removing steps [at, at+n). Keeps the removal when the finding stays. */
static bool try_drop_steps(mini *m, fz_session *s, size_t at, size_t n)
{
    fz_session cand;
    if (fz_session_copy(&cand, s) != 0) return false;
    for (size_t k = 0; k < n; k++) fz_session_remove(&cand, at);
    bool ok = cand.nsteps && still_fails(m, &cand);
    if (ok) {
        fz_session_free(s);
        *s = cand;
    } else {
        fz_session_free(&cand);
    }
    return ok;
}

static void steps_pass(mini *m, fz_session *s)
{
    for (size_t chunk = s->nsteps / 2; chunk >= 1; chunk /= 2) {
        for (size_t at = 0; at + chunk <= s->nsteps && m->used < m->budget;)
            if (!try_drop_steps(m, s, at, chunk)) at += chunk;
        if (chunk == 1) break;
    }
}

static bool try_drop_bytes(mini *m, fz_session *s, size_t i, size_t at, size_t n)
{
    fz_session cand;
    if (fz_session_copy(&cand, s) != 0) return false;
    fz_step *st = &cand.steps[i];
    uint8_t buf[FZ_MAX_STEP_BYTES];
    memcpy(buf, st->bytes, at);
    memcpy(buf + at, st->bytes + at + n, st->len - at - n);
    fz_step_set(st, buf, st->len - n);
    bool ok = still_fails(m, &cand);
    if (ok) {
        fz_session_free(s);
        *s = cand;
    } else {
        fz_session_free(&cand);
    }
    return ok;
}

static void bytes_pass(mini *m, fz_session *s)
{
    for (size_t i = 0; i < s->nsteps && m->used < m->budget; i++) {
        if (s->steps[i].kind != FZ_SEND) continue;
        for (size_t chunk = s->steps[i].len / 2; chunk >= 1; chunk /= 2) {
            for (size_t at = 0; at + chunk <= s->steps[i].len && s->steps[i].len > chunk && m->used < m->budget;)
                if (!try_drop_bytes(m, s, i, at, chunk)) at += chunk;
            if (chunk == 1) break;
        }
    }
}

bool fz_minimize_reproduces(fz_ctx *x, const fz_session *s, const fz_finding *f)
{
    mini m = {.x = x, .want = f, .budget = 1};
    return still_fails(&m, s);
}

int fz_minimize(fz_ctx *x, fz_session *s, const fz_finding *f, int budget)
{
    mini m = {.x = x, .want = f, .budget = budget};
    if (budget <= 0) return 0;
    steps_pass(&m, s);
    bytes_pass(&m, s);
    steps_pass(&m, s); /* bytes gone can make more steps unnecessary */
    return m.used;
}
