/*
 * The run engine (engine.h): the loop. One poll(2) loop drives up to `jobs` runs; each
 * run is a step machine over its scenario, each client a non-blocking socket
 * with an output buffer and an inbox of decoded packets.
 *
 * Invariants:
 * - Packets are built only with mqtt_encode and read only with mqtt_decode;
 *   the one exception is `send raw`, which is bytes by definition.
 * - Nothing blocks: connects are non-blocking, sends are buffered, and every
 *   wait is a deadline checked by the loop. A run past its scenario deadline
 *   ends as `error`, whatever it was waiting for.
 * - Bytes from the broker that do not decode end that client's stream (it
 *   cannot be re-synchronised) and are reported with the codec's rule id.
 * - Every byte send(2) accepts and recv(2) returns, and every connect and
 *   close, is also given to the run's traffic recording (traffic.h) as it
 *   happens, so a run's pcap shows the wire as it was, garbage included.
 * - With TLS (cfg->tls), a connection goes CONNECTING -> TLS (handshake,
 *   stepped by the loop when the socket is ready, under the step's and the
 *   run's deadlines like any wait) -> OPEN; bytes queued meanwhile go out
 *   once it is OPEN. The recording then gets the plaintext MQTT bytes that
 *   SSL_write accepted and SSL_read returned, on the real TCP connection.
 *   Decrypted bytes OpenSSL still holds are read without waiting for poll(2).
 */

#include "conformance/src/engine_int.h"

#include "net/net.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void conf_run_event(conf_run *r, int cl, int kind, int step, int64_t t_ms, const char *fmt, ...)
{
    char buf[2048];
    if (kind != EV_FAIL && r->nev >= CONF_EVENTS_MAX) {
        /* bounded: a flooding broker must not grow the transcript without end */
        if (r->nev > CONF_EVENTS_MAX) return;
        snprintf(buf, sizeof buf, "transcript truncated: later lines are not recorded (at most %u per run)",
                 CONF_EVENTS_MAX);
        kind = EV_NOTE;
        cl = -1;
        goto add;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
add:
    if (r->nev == r->evcap) {
        size_t nc = r->evcap ? r->evcap * 2 : 16;
        conf_event *ne = realloc(r->ev, nc * sizeof *ne);
        if (!ne) return;
        r->ev = ne;
        r->evcap = nc;
    }
    r->ev[r->nev++] = (conf_event){t_ms, cl, kind, step, strdup(buf)};
}

void conf_run_free(conf_run *r)
{
    for (size_t i = 0; i < r->nev; i++) free(r->ev[i].text);
    free(r->ev);
    for (size_t i = 0; i < r->nfind; i++) free(r->find[i].text);
    free(r->find);
    r->find = NULL;
    r->nfind = 0;
    free(r->message);
    free(r->pcap);
    r->ev = NULL;
    r->nev = r->evcap = 0;
    r->message = NULL;
    r->pcap = NULL;
}
/* ---- the loop ---- */

static int resolve(engine *e, char *msg, size_t msglen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)e->cfg->port);
    int rc = getaddrinfo(e->cfg->host, service, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(msg, msglen, "cannot resolve %s: %s", e->cfg->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&e->addr, res->ai_addr, res->ai_addrlen);
    e->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(e->target, sizeof e->target, "%s:%u", e->cfg->host, (unsigned)e->cfg->port);
    return 0;
}

static uint32_t ns_seed;

static void make_ns(char *out, size_t idx)
{
    static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    /* 'm' + 3 chars unique to this process + 3 chars for the run index: 7 in all, so
     * that "${ns}-client" stays within the 23 characters MQTT 3.1 allows. */
    uint32_t s = ns_seed;
    out[0] = 'm';
    for (int i = 1; i <= 3; i++) { out[i] = b36[s % 36]; s /= 36; }
    size_t x = idx;
    for (int i = 6; i >= 4; i--) { out[i] = b36[x % 36]; x /= 36; }
    out[7] = '\0';
}

static int start_run(engine *e, conf_run *r, size_t idx, int64_t now)
{
    rt_state *rt = calloc(1, sizeof *rt);
    if (!rt) return -1;
    rt->ncl = r->sc->nclients;
    rt->cl = calloc(rt->ncl, sizeof *rt->cl);
    if (!rt->cl) { free(rt); return -1; }
    if (e->cfg->pcap_mode != CONF_PCAP_NONE && e->cfg->pcap_dir)
        rt->tr = conf_traffic_new(CONF_TRAFFIC_LIMIT); /* NULL (out of memory): no capture */
    for (size_t i = 0; i < rt->ncl; i++) {
        rt->cl[i].fd = -1;
        rt->cl[i].stream = -1;
        rt->cl[i].tr = rt->tr;
    }
    rt->group_matched = -1;
    rt->t0 = now;
    rt->run_deadline = now + eng_scaled(e, r->sc->deadline_ms);
    r->rt = rt;
    r->fail_step = -1;
    make_ns(r->ns, idx);
    conf_run_event(r, -1, EV_NOTE, 0, 0, "run %s@%s, namespace %s, broker %s%s", r->sc->id, conf_vi_name(r->vi),
                   r->ns, e->target, e->cfg->tls ? " over TLS" : "");
    return 0;
}

/* A file name for r's pcap under the pcap directory, unique in this invocation. */
static char *pcap_path(engine *e, const conf_run *r)
{
    char base[400], name[420];
    conf_traffic_filename(r->sc->id, conf_vi_name(r->vi), r->rep, base, sizeof base);
    snprintf(name, sizeof name, "%s", base);
    for (int k = 2;; k++) {
        bool used = false;
        for (size_t i = 0; i < e->npcap && !used; i++) used = strcmp(e->pcap_names[i], name) == 0;
        if (!used) break;
        /* only ids that differ in characters the name replaces get here */
        snprintf(name, sizeof name, "%.*s-%d.pcap", (int)(strlen(base) - 5), base, k);
    }
    char **nn = realloc(e->pcap_names, (e->npcap + 1) * sizeof *nn);
    if (!nn) return NULL;
    e->pcap_names = nn;
    if (!(nn[e->npcap] = strdup(name))) return NULL;
    e->npcap++;
    size_t len = strlen(e->cfg->pcap_dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (path) snprintf(path, len, "%s/%s", e->cfg->pcap_dir, name);
    return path;
}

/* Writes the run's traffic as a pcap if the mode asks for it: every run
 * (`all`), or runs whose scenario failed: fail, error, expected-failure
 * (`failures`). Sets r->pcap; a write error is noted in the run and counted. */
static void write_pcap(engine *e, conf_run *r, conf_engine_result *res)
{
    rt_state *rt = r->rt;
    bool failed = r->verdict == V_FAIL || r->verdict == V_ERROR || r->verdict == V_XFAIL;
    if (!rt->tr || !(e->cfg->pcap_mode == CONF_PCAP_ALL || (e->cfg->pcap_mode == CONF_PCAP_FAILURES && failed)))
        return;
    if (conf_traffic_truncated(rt->tr))
        conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "the pcap ends early: this run exchanged more "
                       "than %u MiB (or memory ran out), later traffic was not recorded", CONF_TRAFFIC_LIMIT >> 20);
    char err[600];
    char *path = pcap_path(e, r);
    if (path && conf_traffic_write(rt->tr, path, err, sizeof err) == 0) {
        free(r->pcap);
        r->pcap = path;
        res->pcap_written++;
        return;
    }
    if (!path) snprintf(err, sizeof err, "out of memory");
    free(path);
    conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "pcap not written: %s", err);
    if (!res->pcap_errors++) snprintf(res->pcap_error, sizeof res->pcap_error, "%s", err);
}

static void end_run(engine *e, conf_run *r, int64_t now, conf_engine_result *res)
{
    rt_state *rt = r->rt;
    r->duration_ms = now - rt->t0;
    /* every connection still open ends now (as a drop), before the capture is written */
    for (size_t i = 0; i < rt->ncl; i++) eng_client_close(&rt->cl[i]);
    if (r->deviation) {
        if (r->verdict == V_FAIL || r->verdict == V_ERROR) r->verdict = V_XFAIL;
        else if (r->verdict == V_PASS && !r->deviation_flaky) r->verdict = V_XPASS;
    }
    write_pcap(e, r, res);
    eng_rt_free(rt);
    r->rt = NULL;
}

/* The loop's state: the runs, which are active, and the poll set. */
typedef struct {
    engine e;
    conf_run *runs;
    size_t n;
    conf_engine_result *res;
    size_t *active, nactive, next, total, finished;
    int jobs;
    size_t slow_seen;      /* e.slow_connects already acted on */
    bool serial_running;
    struct pollfd *pfd;
    size_t np, pfdcap;
    struct { size_t run; size_t cl; } *map;
} loop;

/* Starts runs while there is room. A `serial` run waits for an empty engine
 * and then runs alone. Once the broker died, the rest are `not run`. */
static void start_runs(loop *L, int64_t now)
{
    /* slow TCP connects (a full accept queue): halve the parallelism, down to 1 */
    if (L->e.slow_connects > L->slow_seen) {
        L->slow_seen = L->e.slow_connects;
        if (L->jobs > 1) L->jobs /= 2;
        L->res->jobs_final = L->jobs;
    }
    while (L->next < L->n && L->res->died_after < 0) {
        conf_run *r = &L->runs[L->next];
        if (r->verdict != V_PENDING) { L->next++; continue; }
        if (L->serial_running || L->nactive >= (size_t)L->jobs) break;
        if (r->sc->serial && L->nactive > 0) break;
        if (start_run(&L->e, r, L->next, now) < 0) { r->verdict = V_ERROR; L->next++; continue; }
        L->active[L->nactive++] = L->next;
        if (r->sc->serial) L->serial_running = true;
        L->next++;
        eng_advance(&L->e, r, now);
    }
    if (L->res->died_after < 0) return;
    for (; L->next < L->n; L->next++) {
        conf_run *r = &L->runs[L->next];
        if (r->verdict != V_PENDING) continue;
        r->verdict = V_NOTRUN;
        char b[512];
        snprintf(b, sizeof b, "not run: the broker stopped accepting connections after %s@%s",
                 L->runs[L->res->died_after].sc->id, conf_vi_name(L->runs[L->res->died_after].vi));
        r->message = strdup(b);
        L->finished++;
    }
}

/* After a malformed-input run: is the broker still accepting connections? */
static void check_alive(loop *L, conf_run *r, size_t idx)
{
    const conf_engine_cfg *cfg = L->e.cfg;
    char pm[512];
    int alive = -1;
    /* In-process, the core cannot stop accepting: a crash would be the runner's own. */
    if (cfg->transport) return;
    /* A few tries: a broker busy with many connections may be slow to accept one more. */
    for (int attempt = 0; attempt < 3 && alive < 0; attempt++)
        alive = conf_probe_target(cfg, (int)eng_scaled(&L->e, 2000), pm, sizeof pm);
    if (alive >= 0) return;
    L->res->died_after = (int)idx;
    char b[1024];
    snprintf(b, sizeof b, "after this run the broker no longer accepts connections: %s", pm);
    conf_run_event(r, -1, EV_NOTE, r->fail_step, r->duration_ms, "%s", b);
    if (!r->message) r->message = strdup(b);
}

static void collect_finished(loop *L, int64_t now)
{
    for (size_t a = 0; a < L->nactive;) {
        conf_run *r = &L->runs[L->active[a]];
        rt_state *rt = r->rt;
        if (!rt->done) { a++; continue; }
        bool malformed = r->sc->malformed;
        if (r->sc->serial) L->serial_running = false;
        end_run(&L->e, r, now, L->res);
        L->finished++;
        size_t idx = L->active[a];
        L->active[a] = L->active[--L->nactive];
        if (malformed && L->res->died_after < 0) check_alive(L, r, idx);
        if (L->e.cfg->on_done) L->e.cfg->on_done(r, L->finished, L->total, L->e.cfg->arg);
    }
}

/* Adds client k of active run a to the poll set. */
static bool poll_add(loop *L, size_t run, size_t k, bool *tls_pending)
{
    client *c = &((rt_state *)L->runs[run].rt)->cl[k];
    if (L->np == L->pfdcap) {
        size_t nc = L->pfdcap ? L->pfdcap * 2 : 64;
        void *a1 = realloc(L->pfd, nc * sizeof *L->pfd);
        if (!a1) return false;
        L->pfd = a1;
        void *a2 = realloc(L->map, nc * sizeof *L->map);
        if (!a2) return false;
        L->map = a2;
        L->pfdcap = nc;
    }
    struct pollfd *p = &L->pfd[L->np];
    p->fd = c->fd;
    if (c->ws && c->tls_want == 0) /* the WebSocket upgrade, or frames over TCP or TLS */
        p->events = (short)(POLLIN | (eng_ws_wants_write(c) ? POLLOUT : 0));
    else if (c->state == CS_TLS)
        p->events = c->tls_want == NET_TLS_WANT_WRITE ? POLLOUT : POLLIN;
    else /* a TLS write waiting for the broker's bytes needs POLLIN, not a busy POLLOUT */
        p->events = (short)(POLLIN | (((c->wlen && c->tls_want != NET_TLS_WANT_READ) || c->state == CS_CONNECTING ||
                                       c->tls_want == NET_TLS_WANT_WRITE) ? POLLOUT : 0));
    if (c->tls && c->state == CS_OPEN && net_tls_pending(c->tls) > 0) *tls_pending = true;
    p->revents = 0;
    L->map[L->np].run = run;
    L->map[L->np].cl = k;
    L->np++;
    return true;
}

/* A non-blocking connect finished (or failed). Returns false when the event
 * is consumed (failed, or the TLS handshake begins). */
static bool connected(loop *L, conf_run *r, client *c, int ci, int64_t now)
{
    rt_state *rt = r->rt;
    int err = net_connect_result(c->fd);
    if (err) {
        snprintf(c->why, sizeof c->why, "connect %s: %s", L->e.target, strerror(err));
        conf_run_event(r, ci, EV_NOTE, (int)rt->step, eng_rel(rt, now), "%s", c->why);
        if (err == ECONNREFUSED) conf_traffic_refused(c->tr, c->stream);
        eng_client_close(c);
        c->peer_closed = true;
        return false;
    }
    c->state = CS_OPEN;
    conf_traffic_established(c->tr, c->stream);
    if (!L->e.cfg->tls && !L->e.cfg->ws_path) return true;
    if (L->e.cfg->tls) eng_tls_begin(&L->e, r, c, ci, now);
    else eng_transport_ready(&L->e, r, c, ci, now);
    return false;
}

/* One socket's poll events. */
static void on_event(loop *L, size_t i, int64_t now)
{
    conf_run *r = &L->runs[L->map[i].run];
    client *c = &((rt_state *)r->rt)->cl[L->map[i].cl];
    int ci = (int)L->map[i].cl;
    short ev = L->pfd[i].revents;
    if (c->fd != L->pfd[i].fd) return;
    if (c->state == CS_CONNECTING && !connected(L, r, c, ci, now)) return;
    if (c->state == CS_TLS) {
        eng_tls_step(&L->e, r, c, ci, now);
        return;
    }
    if (c->state == CS_WS) {
        eng_ws_step(&L->e, r, c, ci, now);
        return;
    }
    bool read_waits_write = c->tls && c->tls_want == NET_TLS_WANT_WRITE && c->wlen == 0;
    if (ev & POLLOUT) eng_flush(r, c, ci, now);
    if (c->state == CS_OPEN && ((ev & (POLLIN | POLLHUP | POLLERR)) || (read_waits_write && (ev & POLLOUT))))
        eng_on_readable(r, c, ci, now);
    /* a TLS write that waited for the broker's bytes may go on now */
    if (c->tls && c->state == CS_OPEN && (c->wlen || eng_ws_wants_write(c)) && (ev & POLLIN)) eng_flush(r, c, ci, now);
}

/* Polls every open socket of every active run until the next deadline, and
 * handles what happened. Returns -1 when poll(2) fails. */
static int poll_once(loop *L, int64_t now)
{
    bool tls_pending = false; /* decrypted bytes OpenSSL holds: poll(2) does not see them */
    int64_t wake = now + 200;
    L->np = 0;
    for (size_t a = 0; a < L->nactive; a++) {
        conf_run *r = &L->runs[L->active[a]];
        rt_state *rt = r->rt;
        int64_t w = eng_next_wakeup(r);
        if (w < wake) wake = w;
        for (size_t k = 0; k < rt->ncl; k++)
            if (rt->cl[k].fd >= 0 && !poll_add(L, L->active[a], k, &tls_pending)) break;
    }
    int timeout = (int)(wake - now);
    if (timeout < 0 || tls_pending) timeout = 0;
    int pr = eng_poll(&L->e, L->pfd, L->np, timeout);
    if (pr < 0 && errno != EINTR) return -1;
    now = eng_now(&L->e);
    for (size_t i = 0; pr > 0 && i < L->np; i++)
        if (L->pfd[i].revents) on_event(L, i, now);
    for (size_t a = 0; tls_pending && a < L->nactive; a++) {
        rt_state *rt = L->runs[L->active[a]].rt;
        for (size_t k = 0; k < rt->ncl; k++)
            if (rt->cl[k].tls && rt->cl[k].state == CS_OPEN && net_tls_pending(rt->cl[k].tls) > 0)
                eng_on_readable(&L->runs[L->active[a]], &rt->cl[k], (int)k, now);
    }
    for (size_t a = 0; a < L->nactive; a++) eng_advance(&L->e, &L->runs[L->active[a]], now);
    return 0;
}

/* The capability probe of every version, before the suite (caps.c; all
 * three, so that the table is complete and "not supported" is judged
 * against the versions it does speak); then the skips it implies. */
static void probe_versions(loop *L)
{
    bool pending = false, any = false;
    for (size_t i = 0; i < L->n; i++) pending |= L->runs[i].verdict == V_PENDING;
    if (!pending) return;
    for (int vi = 0; vi < CONF_NVERSIONS; vi++) {
        conf_caps_probe(L->e.cfg, vi, &L->res->caps[vi]);
        any |= L->res->caps[vi].supported;
    }
    /* No version accepted: that is no answer about versions (credentials? a
     * broken broker?). Nothing is skipped; the runs show what happens. */
    for (int vi = 0; vi < CONF_NVERSIONS && !any; vi++)
        if (L->res->caps[vi].probed) L->res->caps[vi].supported = true;
    conf_caps_apply(L->res->caps, L->runs, L->n);
}

int conf_engine_run(const conf_engine_cfg *cfg, conf_run *runs, size_t n, conf_engine_result *res,
                    char *msg, size_t msglen)
{
    loop L = {.e = {.cfg = cfg}, .runs = runs, .n = n, .res = res, .jobs = cfg->jobs > 0 ? cfg->jobs : 1};
    *res = (conf_engine_result){.died_after = -1, .jobs_final = L.jobs};
    int64_t start = net_now_ms();
    if (resolve(&L.e, msg, msglen) < 0) return -1;
    ns_seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)start;
    eng_ws_skip_runs(cfg, runs, n);
    if (!cfg->no_probe) probe_versions(&L);
    for (size_t i = 0; i < n; i++)
        if (runs[i].verdict == V_PENDING) L.total++;
    L.active = calloc((size_t)L.jobs + 1, sizeof *L.active);
    if (!L.active) return -1;
    for (;;) {
        int64_t now = eng_now(&L.e);
        start_runs(&L, now);
        collect_finished(&L, now);
        if (L.nactive == 0 && L.next >= n) break;
        if (L.nactive == 0) continue;
        if (poll_once(&L, now) < 0) break;
    }
    free(L.active);
    free(L.pfd);
    free(L.map);
    for (size_t i = 0; i < L.e.npcap; i++) free(L.e.pcap_names[i]);
    free(L.e.pcap_names);
    res->wall_ms = net_now_ms() - start;
    return 0;
}
