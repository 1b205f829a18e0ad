/*
 * fz_campaign: one worker's loop (see fz_campaign.h): build session i, run
 * it through the oracles, keep what is new (coverage -> corpus, a finding
 * with a new signature -> minimised and written out, a known one -> counted
 * in its group), until --runs or --duration.
 */
#include "fuzz/live/src/fz_campaign.h"

#include "fuzz/live/src/fz_corpus.h"
#include "fuzz/live/src/fz_eval.h"
#include "fuzz/live/src/fz_gen.h"
#include "fuzz/live/src/fz_mutate.h"
#include "fuzz/live/src/fz_probe.h"
#include "fuzz/live/src/fz_report.h"
#include "net/net.h"

#include <stdio.h>
#include <string.h>

volatile sig_atomic_t fz_stop_requested;

/* Session i is generated with a namespace from (seed, i) alone, then renamed
 * to this run's (salted) namespace: the bytes a mutation left of the first one
 * are the same in every run, so the session (hash) is too. */
/* --replay: the saved session as it is. */
static void replayed(const fz_opts *o, fz_session *s)
{
    char err[300];
    FILE *fp = fopen(o->replay, "r");
    if (!fp || fz_session_read(s, fp, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-fuzz: %s: %s\n", o->replay, fp ? err : "cannot open");
        fz_session_init(s, MQTT_V311, "nsnsnsn", 1);
    }
    if (fp) fclose(fp);
}

void fz_campaign_session(const fz_opts *o, long i, fz_session *s, void *corpus_p)
{
    if (o->replay) {
        replayed(o, s);
        return;
    }
    const fz_corpus *corpus = corpus_p;
    fz_rng r;
    uint64_t h = fz_rng_derive(o->seed, (uint64_t)i);
    char ns[FZ_NS_LEN + 1], salted[FZ_NS_LEN + 1];
    fz_rng_seed(&r, h);
    fz_make_ns(h, ns);
    fz_make_ns(fz_rng_derive(h, o->ns_salt), salted);
    if (corpus && corpus->n && fz_rng_chance(&r, 1, 2)) {
        fz_session_copy(s, &corpus->s[fz_rng_below(&r, (uint32_t)corpus->n)]);
        fz_session_rename(s, ns);
        fz_mutate_session(&r, s, 4);
    } else {
        static const uint8_t clients[] = {1, 2, 2, 2, 3, 3, 4};
        mqtt_version v = o->versions[fz_rng_below(&r, (uint32_t)o->nversions)];
        fz_session_init(s, v, ns, FZ_PICK(&r, clients));
        fz_gen_session(&r, s, 3 + fz_rng_below(&r, (uint32_t)o->max_steps - 2));
        if (fz_rng_chance(&r, 3, 4)) fz_mutate_session(&r, s, 4);
    }
    fz_session_rename(s, salted);
}

#define FZ_HISTORY 4

typedef struct {
    const fz_opts *o;
    int w;
    fz_stats *st, *all;
    fz_ctx x;
    fz_target target, ref;
    fz_corpus corpus;
    double t0;
    char corpus_dir[512];
    fz_session hist[FZ_HISTORY]; /* the last sessions run, oldest first */
    size_t nhist;
} worker;

/* Keeps s (moved in) as the newest of the history. */
static void remember(worker *k, fz_session *s)
{
    if (k->nhist == FZ_HISTORY) {
        fz_session_free(&k->hist[0]);
        memmove(&k->hist[0], &k->hist[1], (FZ_HISTORY - 1) * sizeof k->hist[0]);
        k->nhist--;
    }
    k->hist[k->nhist++] = *s;
}

static double now_s(void)
{
    return (double)net_now_ms() / 1000.0;
}

static int start(fz_target *t, const char *spawn, const char *host, uint16_t port, const char *logdir,
                 const char *ws_path, fz_exec_opts *xo, const fz_opts *o)
{
    char err[700];
    memset(t, 0, sizeof *t);
    t->spawn_cmd = spawn;
    t->logdir = logdir;
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = port;
    if (spawn && fz_mkdirs(logdir) != 0) {
        fprintf(stderr, "mqtt-fuzz: cannot create %s\n", logdir);
        return 2;
    }
    if (fz_target_start(t, o->connect_ms * 5, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-fuzz: %s\n", err);
        return 2;
    }
    /* Over WebSocket, a listener that accepts TCP may still refuse the upgrade
     * (plain MQTT, another path): say so now rather than call it a crash. */
    fz_probe_result pr = ws_path ? fz_probe(t->host, t->port, ws_path, o->connect_ms * 5) : FZ_PROBE_OK;
    if (pr != FZ_PROBE_OK) {
        fprintf(stderr, "mqtt-fuzz: ws://%s:%u%s: no MQTT over WebSocket there (%s: upgrade, CONNECT, PINGREQ)\n",
                t->host, t->port, ws_path, fz_probe_name(pr));
        fz_target_stop(t);
        return 2;
    }
    *xo = (fz_exec_opts){.host = t->host, .port = t->port, .ws_path = ws_path, .connect_ms = o->connect_ms,
                         .answer_ms = o->answer_ms, .hang_ms = o->hang_ms, .plain = o->plain};
    return 0;
}

static int setup(worker *k)
{
    const fz_opts *o = k->o;
    char dir[600], err[600];
    snprintf(dir, sizeof dir, "%s/target-%d", o->out, k->w);
    if (start(&k->target, o->spawn, o->host, o->port, strdup(dir), o->ws_path[0] ? o->ws_path : NULL, &k->x.xo, o)) return 2;
    k->x.o = o;
    k->x.target = &k->target;
    if (o->ref_port || o->ref_spawn) {
        snprintf(dir, sizeof dir, "%s/reference-%d", o->out, k->w);
        if (start(&k->ref, o->ref_spawn, o->ref_host, o->ref_port, strdup(dir), o->ref_ws_path[0] ? o->ref_ws_path : NULL, &k->x.rxo, o)) return 2;
        k->x.ref = &k->ref;
    }
    snprintf(k->corpus_dir, sizeof k->corpus_dir, "%s/corpus", o->out);
    if (fz_corpus_load(&k->corpus, k->corpus_dir, err, sizeof err) != 0) {
        fprintf(stderr, "mqtt-fuzz: corpus: %s\n", err);
        return 2;
    }
    k->st->corpus = (int)k->corpus.n;
    return 0;
}

static void one(worker *k, long i)
{
    fz_session s;
    fz_stats *st = k->st;
    if (k->o->restart_every && st->sessions && st->sessions % k->o->restart_every == 0) {
        fz_target_stop(&k->target); /* fz_eval starts it again */
        fz_target_stop(&k->ref);
    }
    fz_campaign_session(k->o, i, &s, &k->corpus);
    st->chain += fz_rng_derive(fz_session_hash(&s), (uint64_t)i); /* a sum: the same for any -j */
    if (k->o->plain) {
        fz_eval_plain(&k->x, &s);
    } else {
        fz_run run;
        fz_finding f;
        int rc = fz_eval(&k->x, &s, &run, &f);
        if (rc >= 0 && fz_cover_add(&st->cov, &run) > 0 && rc == 0 && fz_corpus_save(k->corpus_dir, &s) == 0)
            st->corpus_new++;
        if (rc == 1)
            fz_report_finding(&k->x, st, k->w, i, now_s() - k->t0, &s, &run, &f, (fz_history){k->hist, k->nhist});
        if (rc < 0) st->lost = true;
        fz_run_free(&run);
    }
    remember(k, &s);
    st->sessions++;
    st->execs = k->x.execs;
    st->lost |= k->x.target_lost;
    st->seconds = now_s() - k->t0;
}

static bool more(const worker *k, long i)
{
    const fz_opts *o = k->o;
    long found = 0;
    for (int c = 0; c < FZ_NCLASS; c++) found += k->st->findings[c];
    if (o->runs && i >= o->runs) return false;
    if (o->duration_s && now_s() - k->t0 >= o->duration_s) return false;
    if (o->stop_after && found >= o->stop_after) return false;
    if (o->stop_on >= 0 && k->st->findings[o->stop_on] > 0) return false;
    return !k->st->lost && !fz_stop_requested;
}

int fz_campaign_run(const fz_opts *o, int w, fz_stats *st, fz_stats *all)
{
    static worker k;
    memset(&k, 0, sizeof k);
    k.o = o;
    k.w = w;
    k.st = st;
    k.all = all;
    int rc = setup(&k);
    k.t0 = now_s();
    double shown = 0;
    for (long i = w; rc == 0 && more(&k, i); i += o->jobs) {
        one(&k, i);
        if (o->jobs == 1 && !o->quiet && now_s() - shown >= 0.25) {
            shown = now_s();
            fz_report_progress(all, 1, stderr);
        }
    }
    fz_target_stop(&k.target);
    fz_target_stop(&k.ref);
    fz_corpus_free(&k.corpus);
    while (k.nhist) fz_session_free(&k.hist[--k.nhist]);
    st->done = true;
    return rc;
}
