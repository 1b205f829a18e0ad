/*
 * mqtt-conform --inproc (inproc.h): the engine's transport (engine.h) served
 * by the reference broker's core in this process (broker/src/broker_driver.h),
 * on a virtual clock.
 *
 * Every connection is a socket pair: the engine keeps its end (the same code
 * as over TCP reads and writes it), the driver serves the other. Waiting is
 * where time is made: the engine asks to poll its sockets for up to T ms; we
 * first move every byte that can move (the driver's pump, until nothing
 * moves) and look whether the engine has something to read. Only when the
 * engine and the broker are both idle does the clock jump, to the engine's
 * deadline or the broker's next timer (keep alive, will delay, session and
 * message expiry, retries), whichever comes first. No real sleep happens, and
 * the same scenario gives the same exchange at the same virtual times on any
 * machine under any load.
 *
 * Invariant: the clock never moves while a byte is in flight (socket pair
 * bytes are readable as soon as send returns; the pump drains the broker's
 * side before every jump).
 */
#include "conformance/src/inproc.h"

#include "broker/src/broker_driver.h"
#include "conformance/src/spawn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the virtual clock starts (any value works; not 0, which some
 * timers read as "none"). */
#define VIRTUAL_EPOCH_MS 1000000
/* Pumps in a row before the engine gets to read (a flood must not starve it). */
#define PUMPS_PER_POLL 64
/* Rounds of pumping and looking before the clock may move anyway. */
#define SETTLE_ROUNDS 1000

struct conf_inproc {
    broker_driver *d;
    int64_t now;
    FILE *log;
    conf_transport tp;
};

static void log_line(void *ctx, broker_log_level level, const char *line)
{
    conf_inproc *ip = ctx;
    if (ip->log && level <= BROKER_LOG_INFO)
        fprintf(ip->log, "%lld: %s\n", (long long)(ip->now - VIRTUAL_EPOCH_MS), line);
}

/* Pumps until nothing moves (bounded); true when anything did. */
static bool settle_some(conf_inproc *ip)
{
    bool any = false;
    for (int k = 0; k < PUMPS_PER_POLL && broker_driver_pump(ip->d, ip->now); k++) any = true;
    return any;
}

static int64_t ip_now(void *ctx)
{
    return ((conf_inproc *)ctx)->now;
}

static void ip_settle(void *ctx)
{
    settle_some(ctx);
}

static int ip_connect(void *ctx, const char *peer)
{
    conf_inproc *ip = ctx;
    /* What was sent before (a DISCONNECT, a close) reaches the broker before a new
     * connection does, as over TCP: a reconnect must not overtake it. */
    settle_some(ip);
    return broker_driver_connect(ip->d, peer, ip->now);
}

/* The engine's wait: events now if there are any, else a jump of the clock. */
static int ip_poll(void *ctx, struct pollfd *fds, size_t n, int timeout_ms)
{
    conf_inproc *ip = ctx;
    /* bounded: a broker that keeps moving bytes nobody here reads still lets time pass */
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        bool moved = settle_some(ip);
        int pr = poll(fds, (nfds_t)n, 0);
        if (pr != 0) return pr;
        if (!moved) break;
    }
    /* both sides idle: time passes to the first deadline, the engine's or the broker's */
    int64_t until = ip->now + (timeout_ms < 0 ? 1000 : timeout_ms);
    int64_t timer = broker_driver_next_deadline(ip->d);
    if (timer > ip->now && timer < until) until = timer;
    /* a zero wait with nothing to do still lets time pass, as it would on a real clock */
    ip->now = until > ip->now ? until : ip->now + 1;
    settle_some(ip);
    return poll(fds, (nfds_t)n, 0);
}

conf_inproc *conf_inproc_new(const char *logpath, char *msg, size_t msglen)
{
    conf_inproc *ip = calloc(1, sizeof *ip);
    if (!ip) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    ip->now = VIRTUAL_EPOCH_MS;
    if (logpath && !(ip->log = fopen(logpath, "w"))) {
        snprintf(msg, msglen, "cannot write %s: %s", logpath, strerror(errno));
        free(ip);
        return NULL;
    }
    char err[512];
    ip->d = broker_driver_new(CONF_REFERENCE_CONFIG, "reference configuration", log_line, ip, ip->now, err,
                              sizeof err);
    if (!ip->d) {
        snprintf(msg, msglen, "in-process broker: %s", err);
        conf_inproc_free(ip);
        return NULL;
    }
    ip->tp = (conf_transport){.ctx = ip, .now = ip_now, .poll = ip_poll, .connect = ip_connect,
                              .settle = ip_settle};
    return ip;
}

const conf_transport *conf_inproc_transport(conf_inproc *ip)
{
    return &ip->tp;
}

int64_t conf_inproc_elapsed_ms(const conf_inproc *ip)
{
    return ip->now - VIRTUAL_EPOCH_MS;
}

void conf_inproc_free(conf_inproc *ip)
{
    if (!ip) return;
    broker_driver_free(ip->d, ip->now);
    if (ip->log) fclose(ip->log);
    free(ip);
}
