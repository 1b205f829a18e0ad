/*
 * fz_findings: what happens to a finding (see fz_report.h): grouping by
 * signature, minimisation, the files of fz_emit and the one-line summary.
 */
#include "fuzz/live/src/fz_corpus.h"
#include "fuzz/live/src/fz_emit.h"
#include "fuzz/live/src/fz_minimize.h"
#include "fuzz/live/src/fz_report.h"
#include "fuzz/live/src/fz_rng.h"

#include <string.h>
#include <unistd.h>

const char *fz_class_name(fz_class c)
{
    static const char *const names[] = {"crash", "hang", "memory", "spec", "diff"};
    return c < FZ_NCLASS ? names[c] : "?";
}

static void write_text(const char *dir, const char *name, const fz_session *s, const fz_finding *f, const char *line)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) return;
    if (s) fz_session_write(s, fp);
    else fprintf(fp, "%s\n\n%s%s", line, f->detail, f->detail[0] ? "\n" : "");
    fclose(fp);
}

/* A session that reproduces f on a freshly started broker: s alone, or s
 * after the last 1, 2 ... sessions of the history. */
static bool reproducer(fz_ctx *x, const fz_session *s, const fz_finding *f, fz_history h, fz_session *m)
{
    for (size_t k = 0; k <= h.n; k++) {
        if (k) {
            fz_session_copy(m, &h.s[h.n - k]);
            for (size_t j = h.n - k + 1; j < h.n; j++) fz_session_append(m, &h.s[j]);
            if (fz_session_append(m, s) != 0) break;
        } else {
            fz_session_copy(m, s);
        }
        fz_target_stop(x->target); /* fresh state: the reproducer must not need ours */
        if (fz_minimize_reproduces(x, m, f)) return true;
        fz_session_free(m);
    }
    fz_session_copy(m, s);
    return false;
}

/* Minimises; on success m is the smaller session, mrun and mf its record. */
static bool shrink(fz_ctx *x, const fz_session *s, const fz_finding *f, fz_history h, fz_session *m,
                   fz_run *mrun, fz_finding *mf, int *used)
{
    *used = 0;
    if (f->cls == FZ_MEMORY || x->target_lost || x->o->minimize_budget <= 0 || !x->target->spawn_cmd)
        return fz_session_copy(m, s), false;
    if (!reproducer(x, s, f, h, m)) return false;
    *used = fz_minimize(x, m, f, x->o->minimize_budget);
    /* Record the minimised run (it also shows the finding still reproduces;
     * a timing-dependent one gets three tries). */
    for (int tries = 0; tries < 3; tries++) {
        char ns[FZ_NS_LEN + 1];
        fz_make_ns(fz_rng_derive(x->o->ns_salt ^ 0x726563ull, (uint64_t)x->execs), ns);
        fz_session_rename(m, ns); /* a namespace no earlier run has touched */
        if (fz_eval(x, m, mrun, mf) == 1 && mf->cls == f->cls) return true;
        fz_run_free(mrun);
    }
    return false;
}

static void files(const fz_opts *o, fz_group *g, const fz_session *s, const fz_run *run, const fz_finding *f,
                  const char *origin)
{
    char path[700], err[300];
    fz_mkdirs(g->dir);
    write_text(g->dir, "session.txt", s, f, NULL);
    write_text(g->dir, "report.txt", NULL, f, g->line);
    snprintf(path, sizeof path, "%s/repro.mqs", g->dir);
    fz_emit_mqs(path, s, run, f, origin);
    snprintf(path, sizeof path, "%s/repro.pcap", g->dir);
    if (fz_emit_pcap(path, run, err, sizeof err) != 0) fprintf(stderr, "mqtt-fuzz: %s\n", err);
    snprintf(path, sizeof path, "%s/findings.txt", o->out);
    FILE *fp = fopen(path, "a");
    if (fp) fprintf(fp, "%s\n", g->line), fclose(fp);
}

fz_group *fz_stats_group(fz_stats *st, long i, double t, const fz_finding *f)
{
    st->findings[f->cls]++;
    if (!st->first_finding_s) st->first_finding_s = t > 0 ? t : 1e-6;
    for (int k = 0; k < st->ngroups; k++)
        if (strcmp(st->groups[k].sig, f->sig) == 0) {
            st->groups[k].count++;
            return NULL;
        }
    if (st->ngroups == FZ_MAX_GROUPS) return NULL;
    fz_group *g = &st->groups[st->ngroups++];
    *g = (fz_group){.cls = f->cls, .count = 1, .first_session = i, .first_seconds = t};
    snprintf(g->rule, sizeof g->rule, "%s", f->rule);
    snprintf(g->sig, sizeof g->sig, "%s", f->sig);
    return g;
}

void fz_report_finding(fz_ctx *x, fz_stats *st, int w, long i, double t, const fz_session *s,
                       const fz_run *run, const fz_finding *f, fz_history h)
{
    fz_group *g = fz_stats_group(st, i, t, f);
    if (!g) return;
    fz_session m;
    fz_run mrun;
    fz_finding mf;
    int used;
    bool small = shrink(x, s, f, h, &m, &mrun, &mf, &used);
    const fz_session *fs = small ? &m : s;
    snprintf(g->dir, sizeof g->dir, "%s/findings/w%d-%03d-%s", x->o->out, w, st->ngroups, fz_class_name(f->cls));
    char dir[sizeof g->dir];
    memcpy(dir, g->dir, sizeof dir);
    snprintf(g->line, sizeof g->line, "%s%s%s: %.300s [session %ld, %zu steps %zu bytes -> %zu steps %zu bytes in %d runs%s] %.250s/repro.mqs",
             fz_class_name(f->cls), f->rule[0] ? " " : "", f->rule, (small ? &mf : f)->what, i, s->nsteps,
             fz_session_bytes(s), fs->nsteps, fz_session_bytes(fs), used,
             small || !x->target->spawn_cmd || f->cls == FZ_MEMORY || x->o->minimize_budget <= 0 ? "" : "; NOT reproduced on a fresh broker", dir);
    char origin[200];
    snprintf(origin, sizeof origin, "found by mqtt-fuzz --seed %llu (session %ld), minimised in %d runs",
             (unsigned long long)x->o->seed, i, used);
    files(x->o, g, fs, small ? &mrun : run, small ? &mf : f, origin);
    if (!x->o->quiet && isatty(2)) fputs("\r\033[K", stderr);
    printf("finding: %s\n", g->line);
    fflush(stdout);
    if (small) fz_run_free(&mrun);
    fz_session_free(&m);
}
