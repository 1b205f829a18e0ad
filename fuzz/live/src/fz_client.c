/*
 * fz_client: the client-fuzzing campaign (see fz_client.h). Session i is
 * played with an rng seeded from (--seed, i); a finding with a new signature
 * is minimised (ddmin over the recorded writes, each candidate a replay
 * against a fresh client process) and written under DIR/findings/ as
 * repro.txt (the writes, replayable with --client ... --replay FILE),
 * repro.pcap and report.txt, with its line in DIR/findings.txt.
 */
#include "fuzz/live/src/fz_client.h"

#include "fuzz/live/src/fz_corpus.h"
#include "fuzz/live/src/fz_emit.h"
#include "fuzz/live/src/fz_report.h"
#include "net/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

typedef struct {
    fz_cctx *x;
    const fz_finding *want;
    int used, budget;
} mini;

static bool same(const fz_finding *a, const fz_finding *b)
{
    return a->cls == b->cls && (a->cls != FZ_SPEC || strcmp(a->rule, b->rule) == 0);
}

static bool still_fails(mini *m, fz_cscript *cand)
{
    if (m->used >= m->budget) return false;
    m->used++;
    fz_run run;
    fz_finding f;
    int rc = fz_client_session(m->x, NULL, cand, &run, &f);
    fz_run_free(&run);
    return rc == 1 && same(&f, m->want);
}

/* ddmin over the writes: drop chunks while the finding stays. */
static void shrink(mini *m, fz_cscript *s)
{
    for (size_t chunk = s->n / 2 ? s->n / 2 : 1;; chunk /= 2) {
        for (size_t at = 0; at + chunk <= s->n && m->used < m->budget;) {
            fz_cscript cand;
            fz_cscript_copy(&cand, s);
            size_t o = 0; /* the kept writes, in order */
            for (size_t k = 0; k < cand.n; k++)
                if (k < at || k >= at + chunk) cand.w[o++] = cand.w[k];
                else free(cand.w[k].bytes);
            cand.n = o;
            if (cand.n && still_fails(m, &cand)) {
                fz_cscript_free(s);
                *s = cand;
            } else {
                fz_cscript_free(&cand);
                at += chunk;
            }
        }
        if (chunk <= 1) return;
    }
}

static void write_files(const fz_cctx *x, const char *dir, const fz_cscript *s, const fz_run *run,
                        const fz_finding *f, const char *line)
{
    char path[800], err[300];
    fz_mkdirs(dir);
    snprintf(path, sizeof path, "%s/repro.txt", dir);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fprintf(fp, "# mqtt-fuzz client finding: %s\n# Replay: mqtt-fuzz --client '%s' --replay %s\n"
                    "# Each line: after the client sent N bytes, send these bytes (hex) or close.\n", f->what, x->o->client, path);
        fz_cscript_write(s, fp);
        fclose(fp);
    }
    snprintf(path, sizeof path, "%s/report.txt", dir);
    if ((fp = fopen(path, "w"))) fprintf(fp, "%s\n\n%s\n", line, f->detail), fclose(fp);
    snprintf(path, sizeof path, "%s/repro.pcap", dir);
    if (fz_emit_pcap(path, run, err, sizeof err) != 0) fprintf(stderr, "mqtt-fuzz: %s\n", err);
    snprintf(path, sizeof path, "%s/findings.txt", x->o->out);
    if ((fp = fopen(path, "a"))) fprintf(fp, "%s\n", line), fclose(fp);
}

static void report(fz_cctx *x, fz_stats *st, long i, double t, const fz_cscript *s, const fz_run *run, const fz_finding *f)
{
    fz_group *g = fz_stats_group(st, i, t, f);
    if (!g) return;
    fz_cscript m = {0};
    fz_cscript_copy(&m, s);
    mini mm = {.x = x, .want = f, .budget = x->o->minimize_budget};
    if (mm.budget > 0) shrink(&mm, &m);
    /* The minimised record, played once more: it still reproduces, and its traffic is the pcap. */
    fz_run mrun;
    fz_finding mf;
    bool small = mm.budget > 0 && fz_client_session(x, NULL, &m, &mrun, &mf) == 1 && same(&mf, f);
    char dir[sizeof g->dir];
    snprintf(dir, sizeof dir, "%.200s/findings/client-%03d-%s", x->o->out, st->ngroups, fz_class_name(f->cls));
    memcpy(g->dir, dir, sizeof dir);
    snprintf(g->line, sizeof g->line, "%s%s%s: %.300s [session %ld, %zu writes -> %zu in %d runs%s] %.250s/repro.txt",
             fz_class_name(f->cls), f->rule[0] ? " " : "", f->rule, f->what, i, s->n, small ? m.n : s->n, mm.used,
             small || mm.budget <= 0 ? "" : "; NOT reproduced by a replay", dir);
    write_files(x, g->dir, small ? &m : s, small ? &mrun : run, small ? &mf : f, g->line);
    if (mm.budget > 0) fz_run_free(&mrun);
    fz_cscript_free(&m);
    printf("finding: %s\n", g->line);
    fflush(stdout);
}

static int setup(fz_cctx *x, const fz_opts *o)
{
    char err[300], dir[500];
    x->o = o;
    x->listen_fd = net_listen("127.0.0.1", 0, 16, err, sizeof err);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    if (x->listen_fd < 0 || getsockname(x->listen_fd, (struct sockaddr *)&a, &al) != 0) {
        fprintf(stderr, "mqtt-fuzz: cannot listen on 127.0.0.1: %s\n", err);
        return 2;
    }
    x->port = ntohs(a.sin_port);
    snprintf(dir, sizeof dir, "%.480s/client", o->out);
    if (fz_mkdirs(dir) != 0) return fprintf(stderr, "mqtt-fuzz: cannot create %s\n", dir), 2;
    snprintf(x->logpath, sizeof x->logpath, "%s/client.log", dir);
    return 0;
}

static int replay(fz_cctx *x, fz_stats *st)
{
    char err[300];
    fz_cscript s = {0};
    FILE *fp = fopen(x->o->replay, "r");
    if (!fp || fz_cscript_read(&s, fp, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-fuzz: %s: %s\n", x->o->replay, fp ? err : "cannot open");
        if (fp) fclose(fp);
        return 2;
    }
    fclose(fp);
    fz_run run;
    fz_finding f;
    int64_t t0 = net_now_ms();
    int rc = fz_client_session(x, NULL, &s, &run, &f);
    st->sessions = st->execs = 1;
    st->seconds = (double)(net_now_ms() - t0) / 1000;
    if (rc == 1) st->findings[f.cls]++, printf("finding: %s%s%s: %s\n", fz_class_name(f.cls), f.rule[0] ? " " : "", f.rule, f.what);
    fz_run_free(&run);
    fz_cscript_free(&s);
    return rc < 0 ? 2 : 0;
}

int fz_client_campaign(const fz_opts *o, fz_stats *st)
{
    fz_cctx x;
    memset(&x, 0, sizeof x);
    if (setup(&x, o) != 0) return 2;
    if (o->replay) return replay(&x, st);
    double t0 = (double)net_now_ms() / 1000;
    int rc = 0;
    for (long i = 0; !fz_stop_requested && (!o->runs || i < o->runs); i++) {
        double t = (double)net_now_ms() / 1000 - t0;
        if (o->duration_s && t >= o->duration_s) break;
        fz_rng r;
        fz_rng_seed(&r, fz_rng_derive(o->seed, (uint64_t)i));
        fz_cscript s = {0};
        fz_run run;
        fz_finding f;
        int found = fz_client_session(&x, &r, &s, &run, &f);
        st->sessions++;
        if (found < 0) fprintf(stderr, "mqtt-fuzz: %s\n", f.what), rc = 2;
        if (found == 1) report(&x, st, i, t, &s, &run, &f);
        fz_run_free(&run);
        fz_cscript_free(&s);
        st->execs = x.execs;
        st->seconds = (double)net_now_ms() / 1000 - t0;
        long total = 0;
        for (int c = 0; c < FZ_NCLASS; c++) total += st->findings[c];
        if (rc || (o->stop_after && total >= o->stop_after) || (o->stop_on >= 0 && st->findings[o->stop_on])) break;
    }
    st->done = true;
    close(x.listen_fd);
    fprintf(stderr, "mqtt-fuzz: client fuzzing: %ld sessions, %ld writes, %ld protocol violations sent, the client closed or exited in time after %ld\n",
            st->sessions, x.writes, x.violations, x.closed_in_time);
    return rc;
}
