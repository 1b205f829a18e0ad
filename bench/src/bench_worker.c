/*
 * bench_worker: the per-thread epoll loop (bench_worker.h).
 *
 * Timing: publish deadlines need better than epoll_wait's millisecond, so a
 * timerfd in the epoll set is armed (absolute, CLOCK_MONOTONIC) at the
 * earliest deadline, and the thread's timer slack is 1 ns. A publisher at a
 * fixed rate has a schedule (message k due at start + k / rate); when it
 * cannot send (window full, socket full, the broker stalls) the due times
 * keep passing, and the backlog goes out as soon as it can, each message
 * stamped with when it was due: latency then counts the wait, which is the
 * coordinated-omission correction.
 */
#define _GNU_SOURCE
#include "bench/src/bench_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bench/src/bench_conn.h"
#include "bench/src/bench_io.h"
#include "bench/src/bench_proto.h"

#define HIGH_WATER (64u * 1024u) /* queued bytes above which a publisher waits */
#define BURST 256                /* messages per publisher per loop turn */
#define SWEEP_NS 200000000LL     /* timeouts, keep-alive, progress snapshot */
#define NEVER INT64_MAX

int bench_worker_init(bench_worker *w, bench_run *r, int id, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->run = r;
    w->id = id;
    w->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)r->run_id << 16) ^ (uint64_t)id;
    bench_hist_init(&w->lat);
    bench_hist_init(&w->lat_sent);
    bench_hist_init(&w->to_wire);
    bench_hist_init(&w->conn_lat);
    bench_hist_init(&w->snap);
    pthread_mutex_init(&w->snap_lock, NULL);
    w->scratch = malloc(r->o->payload_max);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (!w->scratch || w->epfd < 0 || w->timerfd < 0 ||
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timerfd, &ev) != 0) {
        snprintf(err, errlen, "worker %d: cannot set up epoll / timerfd", id);
        return -1;
    }
    if (r->o->conn_rate > 0) w->connect_interval = (int64_t)(1e9 * r->nworkers / r->o->conn_rate);
    return 0;
}

void bench_worker_free(bench_worker *w)
{
    if (w->epfd > 0) close(w->epfd);
    if (w->timerfd > 0) close(w->timerfd);
    free(w->scratch);
    free(w->conns);
    pthread_mutex_destroy(&w->snap_lock);
}

static void start_one(bench_conn *c, int64_t now)
{
    char err[160];
    c->t_start = now;
    c->last_tx = now;
    if (bench_io_start(c, err, sizeof err) != 0) {
        c->state = CS_TCP;
        bench_conn_fail(c, BE_CONNECT, "%s", err);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    c->state = CS_TCP;
    c->want_out = true;
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) bench_conn_fail(c, BE_CONNECT, "epoll_ctl failed");
}

/* Starts the connections that are due; returns when the next one is. */
static int64_t start_due(bench_worker *w, int64_t now)
{
    for (int k = 0; k < BURST && w->next_connect < w->n; k++) {
        if (w->connect_interval && w->next_connect_at > now) return w->next_connect_at;
        start_one(w->conns[w->next_connect++], now);
        if (!w->next_connect_at) w->next_connect_at = now;
        w->next_connect_at += w->connect_interval;
    }
    return w->next_connect < w->n ? now : NEVER;
}

/* TCP (and TLS) are up: the WebSocket upgrade, or straight to CONNECT. */
static void transport_ready(bench_conn *c)
{
    char err[160];
    if (!c->w->run->o->ws) {
        bench_proto_connect(c);
        return;
    }
    if (bench_io_ws_start(c, err, sizeof err) != 0) {
        bench_conn_fail(c, BE_CONNECT, "%s", err);
        return;
    }
    c->state = CS_WS;
    bench_conn_arm(c, false);
}

static void on_ws(bench_conn *c)
{
    char err[160];
    int rc = bench_io_ws_answer(c, &c->in, err, sizeof err);
    if (rc == BIO_AGAIN) return;
    if (rc != 0) {
        bench_conn_fail(c, BE_CONNECT, "%s", err);
        return;
    }
    bench_proto_connect(c);
}

static void on_tls(bench_conn *c)
{
    char err[160];
    int rc = bench_io_handshake(c, err, sizeof err);
    if (rc == BIO_AGAIN || rc == BIO_AGAIN_WRITE) {
        bench_conn_arm(c, rc == BIO_AGAIN_WRITE);
        return;
    }
    if (rc != 0) {
        bench_conn_fail(c, BE_TLS, "%s", err);
        return;
    }
    transport_ready(c);
}

static void on_event(bench_conn *c, uint32_t ev)
{
    char err[160];
    if (c->state == CS_DEAD) return;
    if (c->state == CS_TCP) {
        if (bench_io_finish_connect(c, err, sizeof err) != 0) {
            bench_conn_fail(c, BE_CONNECT, "%s", err);
            return;
        }
        if (!c->tls) {
            transport_ready(c);
            return;
        }
        c->state = CS_TLS;
    }
    if (c->state == CS_TLS) {
        on_tls(c);
        return;
    }
    if (c->state == CS_WS) {
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_ws(c);
        return;
    }
    if (c->paused && (ev & (EPOLLHUP | EPOLLERR))) { /* it reads nothing, so learns it here */
        bench_conn_fail(c, BE_CLOSED, "the broker closed a subscriber that does not read");
        return;
    }
    if ((ev & EPOLLERR) && c->tx_on) bench_io_tx_drain(c); /* TX timestamps, not an error */
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && bench_conn_input(c) != 0) return;
    if (ev & EPOLLOUT) bench_conn_flush(c);
}

/* Whether publisher c must wait: its QoS 1/2 window, its QoS 0 window (how
 * far ahead of the broker's reading it may be), or its socket is full. */
static bool blocked(bench_conn *c, const bench_opts *o)
{
    if (o->qos > 0 && c->inflight >= c->window) return true;
    if (o->qos == 0 && c->window0 && c->seq - c->confirmed >= c->window0) {
        if (!c->ping_n) bench_proto_ping(c); /* a marker must be on its way */
        return true;
    }
    return bench_conn_queued(c) >= HIGH_WATER;
}

/* The publisher's stall ends at now; only its part in the measured window counts. */
static void stall_end(bench_conn *c, int64_t now)
{
    if (!c->blocked_since) return;
    const bench_run *r = c->w->run;
    int64_t from = c->blocked_since, t_measure = atomic_load_explicit(&r->t_measure, memory_order_relaxed);
    int64_t t_end = atomic_load_explicit(&r->t_end, memory_order_relaxed);
    if (from < t_measure) from = t_measure;
    if (now > t_end) now = t_end;
    if (now > from) {
        c->stall_total += now - from;
        if (now - from > c->stall_max) c->stall_max = now - from;
    }
    c->blocked_since = 0;
}

/* Publishes what is due for c; returns when c next needs the loop. */
static int64_t pump(bench_conn *c, int64_t now)
{
    const bench_opts *o = c->w->run->o;
    if (c->role != ROLE_PUB || c->state != CS_READY || c->done) return NEVER;
    int64_t interval = o->rate > 0 ? (int64_t)(1e9 / o->rate) : 0;
    if (interval && !c->next_due) /* spread the publishers over one interval */
        c->next_due = atomic_load(&c->w->run->t_run) + interval * c->index / (o->publishers ? o->publishers : 1);
    for (int k = 0; k < BURST; k++) {
        if (o->count && c->seq >= o->count) {
            c->done = true;
            atomic_fetch_add_explicit(&c->w->live.pubs_done, 1, memory_order_relaxed);
            break;
        }
        if (interval && c->next_due > now) break;
        int64_t due = interval ? c->next_due : now;
        if (blocked(c, o)) { /* a stall: something is due and cannot go */
            if (!c->blocked_since) c->blocked_since = due;
            bench_conn_flush(c);
            return NEVER; /* an ack, a PINGRESP or EPOLLOUT wakes the loop */
        }
        stall_end(c, now);
        if (interval) c->next_due += interval;
        if (bench_proto_publish(c, due) != 0) return NEVER;
    }
    if (c->state == CS_READY) bench_conn_flush(c);
    if (c->done || c->state != CS_READY) return NEVER;
    return interval && c->next_due > now ? c->next_due : now;
}

/* Drain: one last marker per publisher; its answer says the broker read all. */
static void finish_pub(bench_conn *c, int64_t now)
{
    if (c->role != ROLE_PUB || c->final_ping) return;
    if (c->state != CS_READY) {
        bench_proto_flushed(c);
        return;
    }
    stall_end(c, now);
    if (c->ping_n == BENCH_PINGS) return; /* try again next turn */
    c->final_ping = true;
    if (c->ping_n && c->ping_mark == c->seq) return; /* the last one in flight covers all */
    if (bench_proto_ping(c) == 0) bench_conn_flush(c);
}

/*
 * --reconnect: a subscriber leaves with a normal DISCONNECT (its persistent
 * session stays), and comes back --offline later, or as soon as the run
 * stops publishing: what the broker stored meanwhile is still owed.
 */
static void cycle(bench_conn *c, int64_t now, int phase)
{
    if (c->state == CS_READY && c->leave_at && phase == PH_RUN && now >= c->leave_at) {
        bench_proto_disconnect(c);
        bench_conn_close(c);
        atomic_fetch_sub_explicit(&c->w->live.connected, 1, memory_order_relaxed);
        c->state = CS_AWAY;
        c->leave_at = 0;
        c->ping_n = c->ping_head = 0; /* their answers went with the connection */
        c->back_at = now + (int64_t)(c->w->run->o->offline * 1e9);
        c->reconnects++;
    } else if (c->state == CS_AWAY && (now >= c->back_at || phase != PH_RUN)) {
        start_one(c, now);
    }
}

static void sweep(bench_worker *w, int64_t now)
{
    const bench_opts *o = w->run->o;
    int64_t timeout = (int64_t)o->connect_timeout_ms * 1000000;
    int64_t idle = (int64_t)o->keepalive * 500000000LL; /* half the keep-alive */
    int phase = atomic_load(&w->run->phase);
    for (int i = 0; i < w->next_connect; i++) {
        bench_conn *c = w->conns[i];
        if (c->state == CS_DEAD) continue;
        if (o->reconnect_every) cycle(c, now, phase);
        if (c->state == CS_AWAY) continue;
        if (c->state != CS_READY && now - c->t_start > timeout) {
            bench_conn_fail(c, BE_TIMEOUT, "not ready after %d ms", o->connect_timeout_ms);
        } else if (c->state == CS_READY && idle && now - c->last_tx > idle) {
            if (bench_proto_ping(c) == 0) bench_conn_flush(c);
        }
    }
    pthread_mutex_lock(&w->snap_lock);
    w->snap = w->lat;
    pthread_mutex_unlock(&w->snap_lock);
    w->next_sweep = now + SWEEP_NS;
}

/* Arms the timerfd at `at` and returns epoll_wait's timeout in ms. */
static int wait_ms(bench_worker *w, int64_t at, int64_t now)
{
    if (at <= now) return 0;
    if (at != w->timer_at) {
        struct itimerspec ts = {.it_value = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000}};
        timerfd_settime(w->timerfd, TFD_TIMER_ABSTIME, &ts, NULL);
        w->timer_at = at;
    }
    return 20; /* the phase is polled at least this often */
}

static void stop_all(bench_worker *w)
{
    for (int i = 0; i < w->n; i++) {
        bench_conn *c = w->conns[i];
        if (c->state == CS_DEAD || c->state == CS_WAIT || c->state == CS_AWAY) continue;
        bench_proto_disconnect(c);
        bench_conn_close(c);
    }
}

void *bench_worker_main(void *arg)
{
    bench_worker *w = arg;
    struct epoll_event evs[256];
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (;;) {
        int ph = atomic_load(&w->run->phase);
        if (ph == PH_STOP) break;
        int64_t now = bench_now(), next = now + SWEEP_NS;
        int64_t t = start_due(w, now);
        if (t < next) next = t;
        for (int i = 0; ph == PH_RUN && i < w->npubs; i++) {
            t = pump(w->pubs[i], now);
            if (t < next) next = t;
        }
        for (int i = 0; ph == PH_DRAIN && i < w->npubs; i++) finish_pub(w->pubs[i], now);
        if (now >= w->next_sweep) sweep(w, now);
        if (w->next_sweep < next) next = w->next_sweep;
        int n = epoll_wait(w->epfd, evs, 256, wait_ms(w, next, now));
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr) {
                on_event(evs[i].data.ptr, evs[i].events);
            } else {
                uint64_t ticks;
                if (read(w->timerfd, &ticks, sizeof ticks) < 0) { /* nothing: it was not due */ }
                w->timer_at = 0;
            }
        }
    }
    stop_all(w);
    return NULL;
}
