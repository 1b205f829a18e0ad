/*
 * The broker seat's runs: for each one, a listener on a free port of its own
 * (or the shared --client-listen one), the client started with the command
 * its profile gives, the steps (seat_steps.c), then the client's process
 * group killed and reaped, its exit status and output in the transcript, and
 * a pcap when the mode says so. A client that dies of a signal or prints a
 * sanitizer report fails its run whatever the steps said: a crash is never a
 * pass. Runs go in parallel, one thread each (cfg->jobs at a time); every
 * wait in a run is bounded by its deadline, so every thread ends.
 */
#include "conformance/src/seat_int.h"

#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    const conf_seat_cfg *cfg;
    conf_run *runs;
    size_t n, next, done;
    int shared_lfd;          /* --client-listen */
    conf_engine_result *res;
    pthread_mutex_t mu;
} seat_pool;

/* A listener on host:port (port 0: a free one, read back). -1 with msg. */
static int listen_on(const char *host, uint16_t port, uint16_t *bound, char *msg, size_t msglen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(msg, msglen, "cannot listen on %s: expected an IPv4 address", host);
        return -1;
    }
    /* non-blocking: a connection that is reset between poll and accept must
     * not block the run in accept() (every run is bounded) */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    /* only a fixed port (--client-listen) may reuse an address: with port 0
     * and SO_REUSEADDR the kernel may hand out a port that a connection
     * still uses, and a client then never reaches this listener */
    if (fd >= 0 && port) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        snprintf(msg, msglen, "cannot listen on %s:%u: %s", host, (unsigned)port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static void make_ns(char *ns, size_t idx)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v = ((uint64_t)getpid() << 20) ^ ((uint64_t)net_now_ms() << 8) ^ (idx * 2654435761u);
    ns[0] = al[idx % 26];
    for (int i = 1; i < 7; i++) { ns[i] = al[v % 36]; v /= 36; }
    ns[7] = '\0';
}

/* The action's options as variables: defaults first, then the scenario's,
 * each value substituted (${ns}, ${version}, earlier options). */
static bool set_options(seat_ctx *x, char **keys, char **vals, size_t *n)
{
    static const char *const defk[] = {"topic", "message", "qos", "id", "count"};
    static const char *const defv[] = {"${ns}/t", "m-${ns}", "0", "${ns}", "1"};
    const conf_scenario *sc = x->r->sc;
    char err[256];
    *n = 0;
    for (size_t i = 0; i < 5 + sc->nopts && *n < 32; i++) {
        const char *k = i < 5 ? defk[i] : sc->opt_keys[i - 5], *v = i < 5 ? defv[i] : sc->opt_vals[i - 5];
        size_t vl;
        char *val = conf_subst(v, strlen(v), x->r->ns, x->r->vi, &x->rt.vars, &vl, err, sizeof err);
        if (!val) { eng_finish(x->r, V_ERROR, net_now_ms(), "action option %s: %s", k, err); return false; }
        conf_vars_set(&x->rt.vars, k, val, vl);
        size_t at = *n;
        for (size_t j = 0; j < *n; j++)
            if (!strcmp(keys[j], k)) { at = j; free(vals[j]); free(keys[j]); }
        keys[at] = strdup(k);
        vals[at] = val;
        if (at == *n) (*n)++;
    }
    return true;
}

/* Starts the client for this run. False when the run ended (skip, error). */
static bool start_client(seat_ctx *x)
{
    char *keys[32], *vals[32], why[512];
    size_t n = 0;
    bool ok = set_options(x, keys, vals, &n), skip = false;
    char **argv = ok && x->cfg->prof ? seat_argv(x->cfg->prof, x->r->sc, x->r->vi, x->host, x->port, keys, vals, n,
                                                 &skip, why, sizeof why) : NULL;
    for (size_t i = 0; i < n; i++) { free(keys[i]); free(vals[i]); }
    if (!ok || !x->cfg->prof) return ok;
    if (!argv) {
        x->rt.step = x->r->sc->nsteps;
        eng_finish(x->r, skip ? V_SKIP : V_ERROR, net_now_ms(), "%s", why);
        return false;
    }
    char cmd[2048] = "";
    for (size_t i = 0, o = 0; argv[i] && o < sizeof cmd - 1; i++)
        o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s%s", i ? " " : "", argv[i]);
    conf_run_event(x->r, -1, EV_NOTE, 0, eng_rel(&x->rt, net_now_ms()), "client command: %s", cmd);
    char msg[512];
    int rc = seat_proc_start(&x->proc, argv, msg, sizeof msg);
    seat_argv_free(argv);
    if (rc < 0) eng_finish(x->r, V_ERROR, net_now_ms(), "%s", msg);
    return rc == 0;
}

static void run_steps(seat_ctx *x)
{
    const conf_scenario *sc = x->r->sc;
    int64_t first = net_now_ms() + seat_scaled(x, x->cfg->prof ? SEAT_FIRST_CONNECT_MS : 2 * SEAT_FIRST_CONNECT_MS);
    x->run_deadline = first;
    bool came = seat_accept(x, first);
    x->run_deadline = net_now_ms() + seat_scaled(x, sc->deadline_ms);
    if (!came) {
        char how[128];
        seat_proc_status_text(&x->proc, how, sizeof how);
        struct pollfd pf = {x->lfd, POLLIN, 0};
        eng_finish(x->r, V_ERROR, net_now_ms(), "the client never connected to %s:%u (client process: %s%s)", x->host,
                   (unsigned)x->port, how, poll(&pf, 1, 0) > 0 ? "; a connection waits unaccepted" : "");
        return;
    }
    for (size_t i = 0; i < sc->nsteps; i++) {
        x->rt.step = i;
        if (!(sc->steps[i].vmask & CONF_VBIT(x->r->vi))) continue;
        if (seat_step(x, &sc->steps[i]) != S_DONE) return;
    }
    x->rt.step = sc->nsteps;
    eng_finish(x->r, V_PASS, net_now_ms(), NULL);
}

/* After the steps: a crash or a sanitizer report in the output is a failure. */
static void judge_process(seat_ctx *x)
{
    char how[128];
    seat_proc_status_text(&x->proc, how, sizeof how);
    const char *san = strstr(x->proc.buf, "ERROR: AddressSanitizer");
    if (!san) san = strstr(x->proc.buf, "runtime error:");
    if (!san) san = strstr(x->proc.buf, "ERROR: LeakSanitizer");
    bool crashed = x->proc.exited && !x->proc.killed && x->proc.sig;
    if (!crashed && !san) return;
    char m[700];
    if (crashed) snprintf(m, sizeof m, "the client crashed: %s", how);
    else snprintf(m, sizeof m, "the client's output holds a sanitizer report: %.200s", san);
    conf_run_event(x->r, -1, EV_FAIL, x->r->fail_step, eng_rel(&x->rt, net_now_ms()), "%s", m);
    x->r->verdict = V_FAIL;
    x->r->level = LVL_MUST;
    free(x->r->message);
    x->r->message = strdup(m);
}

static void write_pcap(seat_pool *pl, seat_ctx *x)
{
    conf_run *r = x->r;
    const conf_seat_cfg *cfg = pl->cfg;
    bool bad = r->verdict == V_FAIL || r->verdict == V_ERROR || r->verdict == V_XFAIL;
    if (!x->tr || !cfg->pcap_dir || (cfg->pcap_mode == CONF_PCAP_FAILURES && !bad)) return;
    char name[512], path[4096], err[600];
    conf_traffic_filename(r->sc->id, conf_vi_name(r->vi), r->rep, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", cfg->pcap_dir, name);
    int rc = conf_traffic_write(x->tr, path, err, sizeof err);
    pthread_mutex_lock(&pl->mu);
    if (rc == 0) { r->pcap = strdup(path); pl->res->pcap_written++; }
    else if (!pl->res->pcap_errors++) snprintf(pl->res->pcap_error, sizeof pl->res->pcap_error, "%s", err);
    pthread_mutex_unlock(&pl->mu);
}

static void run_one(seat_pool *pl, conf_run *r, size_t idx)
{
    seat_ctx *x = calloc(1, sizeof *x);
    if (!x) { r->verdict = V_ERROR; r->message = strdup("out of memory"); return; }
    *x = (seat_ctx){.cfg = pl->cfg, .r = r, .fd = -1, .pending = -1, .lfd = -1, .stream = -1,
                    .proc = {.pid = -1, .out = -1, .pidfd = -1}}; /* no descriptor 0 to close by mistake */
    x->ecfg.time_scale = pl->cfg->time_scale;
    x->eng.cfg = &x->ecfg;
    r->rt = &x->rt;
    r->fail_step = -1;
    x->rt.t0 = net_now_ms();
    x->run_deadline = x->rt.t0 + seat_scaled(x, r->sc->deadline_ms);
    make_ns(r->ns, idx);
    if (pl->cfg->pcap_mode != CONF_PCAP_NONE) x->tr = conf_traffic_new(CONF_TRAFFIC_LIMIT);
    char msg[300];
    snprintf(x->host, sizeof x->host, "%s", pl->cfg->listen_host ? pl->cfg->listen_host : "127.0.0.1");
    x->port = pl->cfg->listen_port;
    x->lfd = pl->shared_lfd >= 0 ? pl->shared_lfd : listen_on(x->host, 0, &x->port, msg, sizeof msg);
    conf_run_event(r, -1, EV_NOTE, 0, 0, "run %s@%s, namespace %s, the runner listens on %s:%u", r->sc->id,
                   conf_vi_name(r->vi), r->ns, x->host, (unsigned)x->port);
    if (x->lfd < 0) eng_finish(r, V_ERROR, net_now_ms(), "%s", msg);
    else if (start_client(x)) run_steps(x);
    seat_close(x);
    if (x->pending >= 0) close(x->pending);
    if (x->lfd >= 0 && x->lfd != pl->shared_lfd) close(x->lfd);
    seat_proc_stop(&x->proc);
    if (x->proc.exited) seat_note_process(x);
    judge_process(x);
    r->duration_ms = net_now_ms() - x->rt.t0;
    write_pcap(pl, x);
    eng_rx_free(x->last);
    conf_vars_free(&x->rt.vars);
    conf_traffic_free(x->tr);
    free(x->rbuf);
    r->rt = NULL;
    free(x);
}

static void *worker(void *arg)
{
    seat_pool *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (pl->next < pl->n && pl->runs[pl->next].verdict != V_PENDING) pl->next++;
        size_t i = pl->next < pl->n ? pl->next++ : pl->n;
        pthread_mutex_unlock(&pl->mu);
        if (i >= pl->n) return NULL;
        run_one(pl, &pl->runs[i], i);
        pthread_mutex_lock(&pl->mu);
        pl->done++;
        if (pl->cfg->on_done) pl->cfg->on_done(&pl->runs[i], pl->done, pl->n, pl->cfg->arg);
        pthread_mutex_unlock(&pl->mu);
    }
}

int conf_seat_run(const conf_seat_cfg *cfg, conf_run *runs, size_t n, conf_engine_result *res, char *msg,
                  size_t msglen)
{
    memset(res, 0, sizeof *res);
    res->died_after = -1;
    int64_t start = net_now_ms();
    seat_pool pl = {.cfg = cfg, .runs = runs, .n = n, .shared_lfd = -1, .res = res};
    pthread_mutex_init(&pl.mu, NULL);
    int jobs = cfg->jobs > 0 ? cfg->jobs : 1;
    if (cfg->listen_host) {
        uint16_t bound;
        pl.shared_lfd = listen_on(cfg->listen_host, cfg->listen_port, &bound, msg, msglen);
        if (pl.shared_lfd < 0) { pthread_mutex_destroy(&pl.mu); return -1; }
        jobs = 1; /* one client at a time: the connections cannot be told apart */
    }
    seat_proc_guard();
    pthread_t th[64];
    int nt = 0;
    for (; nt < jobs && nt < 64 && (size_t)nt < n; nt++)
        if (pthread_create(&th[nt], NULL, worker, &pl) != 0) break;
    if (nt == 0) worker(&pl);
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    if (pl.shared_lfd >= 0) close(pl.shared_lfd);
    pthread_mutex_destroy(&pl.mu);
    res->jobs_final = jobs;
    res->wall_ms = net_now_ms() - start;
    return 0;
}
