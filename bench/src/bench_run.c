/*
 * bench_run: the main thread's side of a run (bench_run.h).
 *
 * Phases: CONNECT until every connection is ready or has failed (and every
 * subscriber has its SUBACK), so no message is published before the
 * subscriptions exist; RUN for --warmup + --duration seconds or until every
 * publisher sent --count; DRAIN until every delivery owed has arrived and
 * every QoS 1/2 exchange completed, at most --drain seconds; then STOP.
 */
#define _GNU_SOURCE
#include "bench/src/bench_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/src/bench_conn.h"
#include "bench/src/bench_io.h"
#include "bench/src/bench_opts.h"
#include "bench/src/bench_track.h"
#include "bench/src/bench_worker.h"
#include "mqtt/topic.h"

const char *const bench_error_names[BE_KINDS] = {
    "connect", "timeout", "tls", "connack", "suback", "disconnect", "closed", "protocol", "pub_refused",
    "session_lost"};

int64_t bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_payload_clock(const bench_run *r)
{
    return bench_now() + r->clock_offset;
}

void bench_error(bench_worker *w, bench_error_kind k, const char *fmt, ...)
{
    w->errors[k]++;
    atomic_fetch_add_explicit(&w->live.errors, 1, memory_order_relaxed);
    if (w->first_error[k][0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->first_error[k], sizeof w->first_error[k], fmt, ap);
    va_end(ap);
}

/* As many descriptors as the hard limit allows: 10,000 connections need them. */
static void raise_nofile(int want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t need = (rlim_t)want + 64;
    if (rl.rlim_cur >= need) return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need)
        fprintf(stderr, "mqtt-bench: warning: file descriptor limit %lu is below the %d connections asked\n",
                (unsigned long)rl.rlim_cur, want);
}

/* Client id, topic and role of connection i; checks the topic with the codec. */
static int setup_conn(bench_run *r, bench_conn *c, int i, const char *prefix)
{
    const bench_opts *o = r->o;
    c->fd = -1;
    c->global = i;
    c->role = o->mode == BENCH_CONN ? ROLE_CONN : i < o->publishers ? ROLE_PUB : ROLE_SUB;
    c->index = c->role == ROLE_SUB ? i - o->publishers : i;
    c->slow = c->role == ROLE_SUB && c->index >= o->subscribers;
    const char tag = c->role == ROLE_PUB ? 'p' : c->role == ROLE_SUB ? 's' : 'c';
    snprintf(c->client_id, sizeof c->client_id, "%s-%c%d", prefix, tag, c->index);
    if (c->role == ROLE_CONN) return 0;
    char *t = bench_expand(c->role == ROLE_PUB ? o->pub_topic : o->sub_topic, c->index, c->client_id);
    if (!t) return -1;
    if (c->role == ROLE_SUB && o->share_group) {
        size_t n = strlen(t) + strlen(o->share_group) + 9;
        char *s = malloc(n);
        if (!s) { free(t); return -1; }
        snprintf(s, n, "$share/%s/%s", o->share_group, t);
        free(t);
        t = s;
    }
    c->topic = t;
    c->topic_n = c->role == ROLE_PUB && strstr(t, "%n");
    if (c->topic_n && strlen(t) > BENCH_TOPIC_MAX / 4) {
        fprintf(stderr, "mqtt-bench: topic \"%s\" with %%n is too long (at most %d bytes)\n", t, BENCH_TOPIC_MAX / 4);
        return -2;
    }
    mqtt_bytes v = {(const uint8_t *)t, strlen(t)};
    const char *bad = c->role == ROLE_PUB ? mqtt_topic_name_check(o->version, v)
                                          : mqtt_topic_filter_check(o->version, v);
    if (bad) {
        fprintf(stderr, "mqtt-bench: %s \"%s\" of %s is not valid (%s)\n",
                c->role == ROLE_PUB ? "topic" : "filter", t, c->client_id, bad);
        return -2;
    }
    if (c->role == ROLE_PUB && o->qos > 0 && !(c->ids = calloc(8192, 1))) return -1;
    if (c->role == ROLE_SUB) {
        c->track = calloc(1, sizeof *c->track);
        c->qos2_ids = calloc(8192, 1);
        if (!c->track || !c->qos2_ids) return -1;
        bench_track_init(c->track);
    }
    return 0;
}

/* How many subscriptions (groups) each publisher's messages are owed to. */
static void count_fanout(bench_run *r)
{
    const bench_opts *o = r->o;
    for (int p = 0; p < o->publishers; p++) {
        bench_conn *pc = &r->conns[p];
        mqtt_bytes topic = {(const uint8_t *)pc->topic, strlen(pc->topic)};
        for (int s = o->publishers; s < r->nconns; s++) {
            if (r->conns[s].slow) continue;
            mqtt_bytes f = {(const uint8_t *)r->conns[s].topic, strlen(r->conns[s].topic)}, name;
            bool shared = mqtt_shared_split(f, &name, &f);
            if (!mqtt_topic_matches(f, topic)) continue;
            bool first = true; /* a shared group counts once: at its first member */
            for (int q = o->publishers; shared && q < s; q++)
                if (!strcmp(r->conns[q].topic, r->conns[s].topic)) first = false;
            if (first) pc->fanout++;
        }
    }
    /* Each publisher's share of --qos0-window; past a fan-out of 50 less, so
     * that the deliveries in flight stay under 50 windows. */
    for (int p = 0; o->qos0_window && p < o->publishers; p++) {
        bench_conn *pc = &r->conns[p];
        uint64_t share = (uint64_t)o->qos0_window / (uint64_t)o->publishers;
        if (pc->fanout > BENCH_WINDOW0_FANOUT) share = share * BENCH_WINDOW0_FANOUT / pc->fanout;
        pc->window0 = share > BENCH_WINDOW0_MIN ? share : BENCH_WINDOW0_MIN;
    }
}

static int setup(bench_run *r, const bench_opts *o, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    if (getrandom(&r->run_id, sizeof r->run_id, 0) != sizeof r->run_id) r->run_id = (uint32_t)bench_now();
    r->rate_clock_real = o->mode == BENCH_PUB || o->mode == BENCH_SUB;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->real_offset = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - bench_now();
    if (r->rate_clock_real) r->clock_offset = r->real_offset;
    if (bench_io_resolve(r, err, errlen) != 0) return -1;
    if (o->transport == BENCH_TLS && !(r->tls_ctx = net_tls_ctx_new(NET_TLS_CLIENT, &o->tls, err, errlen)))
        return -1;
    raise_nofile(o->clients);
    char prefix[48];
    snprintf(prefix, sizeof prefix, "%s", o->client_prefix ? o->client_prefix : "");
    if (!o->client_prefix) snprintf(prefix, sizeof prefix, "mb-%08x", r->run_id);
    r->nconns = o->clients;
    r->nworkers = o->threads < r->nconns ? o->threads : r->nconns;
    r->conns = calloc((size_t)r->nconns, sizeof *r->conns);
    r->workers = calloc((size_t)r->nworkers, sizeof *r->workers);
    if (!r->conns || !r->workers) goto nomem;
    for (int i = 0; i < r->nconns; i++) {
        int rc = setup_conn(r, &r->conns[i], i, prefix);
        if (rc == -2) { snprintf(err, errlen, "bad topic"); return -1; }
        if (rc) goto nomem;
    }
    count_fanout(r);
    return 0;
nomem:
    snprintf(err, errlen, "out of memory for %d connections", o->clients);
    return -1;
}

typedef struct {
    uint64_t sent, expected, received, inflight, connected, settled, errors, pubs_done, pubs_flushed;
} live_sum;

static void totals(const bench_run *r, live_sum *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < r->nworkers; i++) {
        bench_live *l = &r->workers[i].live;
        s->sent += atomic_load_explicit(&l->sent, memory_order_relaxed);
        s->expected += atomic_load_explicit(&l->expected, memory_order_relaxed);
        s->received += atomic_load_explicit(&l->received, memory_order_relaxed);
        s->inflight += atomic_load_explicit(&l->inflight, memory_order_relaxed);
        s->connected += atomic_load_explicit(&l->connected, memory_order_relaxed);
        s->settled += atomic_load_explicit(&l->settled, memory_order_relaxed);
        s->errors += atomic_load_explicit(&l->errors, memory_order_relaxed);
        s->pubs_done += atomic_load_explicit(&l->pubs_done, memory_order_relaxed);
        s->pubs_flushed += atomic_load_explicit(&l->pubs_flushed, memory_order_relaxed);
    }
}

/* The latency p99 so far, from the workers' snapshots (ns). */
static uint64_t p99_so_far(bench_run *r, bench_hist *tmp)
{
    bench_hist_init(tmp);
    for (int i = 0; i < r->nworkers; i++) {
        pthread_mutex_lock(&r->workers[i].snap_lock);
        bench_hist_merge(tmp, &r->workers[i].snap);
        pthread_mutex_unlock(&r->workers[i].snap_lock);
    }
    return bench_hist_percentile(tmp, 99.0);
}

typedef struct {
    bool on;
    int64_t t0, next;
    live_sum last;
    bench_hist tmp;
} progress;

/* One line a second on a terminal: what a person watching needs. */
static void tick(bench_run *r, progress *p, const char *phase, int64_t now)
{
    if (!p->on || now < p->next) return;
    live_sum s;
    totals(r, &s);
    double dt = (double)(now - p->next + 1000000000) / 1e9;
    fprintf(stderr, "[%6.1fs] %-7s sent %9.0f/s  recv %9.0f/s  conns %llu/%d  p99 %.3f ms  errors %llu\n",
            (double)(now - p->t0) / 1e9, phase, (double)(s.sent - p->last.sent) / dt,
            (double)(s.received - p->last.received) / dt, (unsigned long long)s.connected, r->nconns,
            (double)p99_so_far(r, &p->tmp) / 1e6, (unsigned long long)s.errors);
    p->last = s;
    p->next = now + 1000000000;
}

static void nap(void)
{
    struct timespec ts = {0, 20000000}; /* the main thread only watches */
    nanosleep(&ts, NULL);
}

/* Connect phase: until every connection settled, or the deadline. */
static void connect_phase(bench_run *r, progress *p, bench_result *res)
{
    const bench_opts *o = r->o;
    int64_t t0 = bench_now();
    int64_t deadline = t0 + (int64_t)o->connect_timeout_ms * 1000000 + 1000000000 +
                       (o->conn_rate > 0 ? (int64_t)(1e9 * r->nconns / o->conn_rate) : 0);
    live_sum s;
    for (totals(r, &s); s.settled < (uint64_t)r->nconns && bench_now() < deadline; totals(r, &s)) {
        tick(r, p, "connect", bench_now());
        nap();
    }
    res->connect_s = (double)(bench_now() - t0) / 1e9;
    res->conn_rate = res->connect_s > 0 ? (double)s.connected / res->connect_s : 0;
}

static bool run_over(bench_run *r, int64_t now)
{
    live_sum s;
    totals(r, &s);
    if (r->o->count && r->o->publishers && s.pubs_done >= (uint64_t)r->o->publishers) return true;
    /* sub mode told what is coming: over when all of it came */
    uint64_t owed = (uint64_t)r->o->expect_pubs * r->o->count * (uint64_t)r->o->subscribers;
    if (owed && s.received >= owed) return true;
    return now >= atomic_load(&r->t_end);
}

/*
 * Until every delivery owed has arrived, at most --drain seconds. A message
 * a publisher queued may still sit unread in the broker's socket (the kernel
 * takes megabytes), so first every publisher's last PINGREQ marker must be
 * answered: the broker has then read all it was sent. Past that, what is
 * still missing after DRAIN_QUIET without a delivery was dropped (QoS 0
 * allows it) rather than late.
 */
#define DRAIN_QUIET 1000000000LL
static void drain(bench_run *r, progress *p, int64_t t_stop)
{
    const bench_opts *o = r->o;
    int64_t deadline = t_stop + (int64_t)(o->drain * 1e9), quiet_from = bench_now();
    live_sum s;
    uint64_t last = 0;
    for (totals(r, &s); bench_now() < deadline; totals(r, &s)) {
        int64_t now = bench_now();
        if (s.received != last) last = s.received, quiet_from = now;
        bool read_all = s.pubs_flushed >= (uint64_t)o->publishers && !s.inflight;
        if (read_all && (s.received >= s.expected || now - quiet_from >= DRAIN_QUIET)) break;
        tick(r, p, "drain", now);
        nap();
    }
}

static void run_phases(bench_run *r, progress *p, bench_result *res)
{
    const bench_opts *o = r->o;
    int64_t now = bench_now();
    atomic_store(&r->t_run, now);
    atomic_store(&r->t_measure, now + (int64_t)(o->warmup * 1e9));
    bool by_count = o->count && o->publishers;
    int64_t span = by_count ? INT64_MAX / 4 : (int64_t)(o->duration * 1e9);
    atomic_store(&r->t_end, atomic_load(&r->t_measure) + span);
    atomic_store(&r->phase, PH_RUN);
    if (!o->quiet) { /* a launcher or script may wait for this line before starting publishers */
        live_sum c;
        totals(r, &c);
        fprintf(stderr, "mqtt-bench: %llu of %d connections ready, running\n", (unsigned long long)c.connected, r->nconns);
    }
    for (now = bench_now(); !run_over(r, now); now = bench_now()) {
        tick(r, p, now < atomic_load(&r->t_measure) ? "warm-up" : "run", now);
        nap();
    }
    int64_t t_stop = now;
    atomic_store(&r->phase, PH_DRAIN);
    drain(r, p, t_stop);
    live_sum s;
    totals(r, &s);
    res->held = s.connected;
    atomic_store(&r->phase, PH_STOP);
    /* Rates are counted over [t_measure, t_stop): received ones too (see
     * bench_proto.c), so sent and received rates share one window. */
    res->measure_s = (double)(t_stop - atomic_load(&r->t_measure)) / 1e9;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/*
 * Hands the connections to the workers. With two or more threads,
 * publishers and subscribers get separate ones (half each): a subscriber
 * sharing a thread with publishers at full speed reads late, and a broker
 * that drops for slow readers (mosquitto past max_queued_messages) would
 * then drop because of the bench. Publishers also go to their worker's list.
 */
static int assign(bench_run *r)
{
    for (int k = 0; k < r->nworkers; k++) {
        bench_worker *w = &r->workers[k];
        w->conns = calloc((size_t)r->nconns, sizeof *w->conns);
        w->pubs = calloc((size_t)r->o->publishers + 1, sizeof *w->pubs);
        if (!w->conns || !w->pubs) return -1;
    }
    int split = r->nworkers >= 2 && r->o->publishers > 0 && r->o->subscribers > 0 ? r->nworkers / 2 : 0;
    int np = 0, ns = 0;
    for (int i = 0; i < r->nconns; i++) {
        bench_conn *c = &r->conns[i];
        int k = !split ? i % r->nworkers
              : c->role == ROLE_PUB ? np++ % split : split + ns++ % (r->nworkers - split);
        bench_worker *w = &r->workers[k];
        c->w = w;
        w->conns[w->n++] = c;
        if (c->role == ROLE_PUB) w->pubs[w->npubs++] = c;
    }
    return 0;
}

static void teardown(bench_run *r)
{
    for (int i = 0; r->conns && i < r->nconns; i++) {
        bench_conn *c = &r->conns[i];
        bench_conn_close(c);
        free(c->topic);
        free(c->ids);
        free(c->qos2_ids);
        if (c->track) bench_track_free(c->track);
        free(c->track);
    }
    for (int k = 0; r->workers && k < r->nworkers; k++) {
        free(r->workers[k].pubs);
        bench_worker_free(&r->workers[k]);
    }
    free(r->conns);
    free(r->workers);
    if (r->tls_ctx) net_tls_ctx_free(r->tls_ctx);
}

int bench_run_all(const bench_opts *o, bench_result *res)
{
    static bench_run r; /* big: the progress histogram; one run per process */
    char err[256] = "";
    memset(res, 0, sizeof *res);
    int started = 0, rc = -1;
    if (setup(&r, o, err, sizeof err) != 0) goto out;
    for (int k = 0; k < r.nworkers; k++)
        if (bench_worker_init(&r.workers[k], &r, k, err, sizeof err) != 0) goto out;
    if (assign(&r) != 0) { snprintf(err, sizeof err, "out of memory"); goto out; }
    res->rss_before_kib = o->broker_pid ? rss_kib(o->broker_pid) : -1;
    for (; started < r.nworkers; started++)
        if (pthread_create(&r.workers[started].thread, NULL, bench_worker_main, &r.workers[started]) != 0) {
            snprintf(err, sizeof err, "cannot start worker thread: %s", strerror(errno));
            atomic_store(&r.phase, PH_STOP);
            goto out;
        }
    static progress p;
    p.on = !o->quiet && isatty(2);
    p.t0 = p.next = bench_now();
    connect_phase(&r, &p, res);
    res->rss_after_kib = o->broker_pid ? rss_kib(o->broker_pid) : -1;
    run_phases(&r, &p, res);
    for (int k = 0; k < started; k++) pthread_join(r.workers[k].thread, NULL);
    started = 0;
    if (bench_result_collect(&r, res) != 0) { snprintf(err, sizeof err, "out of memory"); goto out; }
    if (res->rss_before_kib >= 0 && res->rss_after_kib >= 0 && res->ready)
        res->bytes_per_conn = (double)(res->rss_after_kib - res->rss_before_kib) * 1024.0 / (double)res->ready;
    if (res->measure_s > 0) {
        res->sent_rate = (double)res->sent_measured / res->measure_s;
        res->received_rate = (double)res->received_measured / res->measure_s;
    }
    rc = 0;
out:
    for (int k = 0; k < started; k++) pthread_join(r.workers[k].thread, NULL);
    if (rc != 0) fprintf(stderr, "mqtt-bench: %s\n", err);
    teardown(&r);
    return rc;
}
