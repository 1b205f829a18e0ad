/*
 * broker_driver (broker_driver.h): the broker core served in-process over
 * the caller's transports or socket pairs, pumped at the times it gives.
 *
 * Invariants (those of event_loop.c for a plain TCP connection):
 * - a connection is read only while broker_conn_wants_read (a throttled
 *   one keeps its bytes in its transport, as in a socket buffer);
 * - output is offered as far as the transport takes it, the rest stays
 *   queued in the core (broker_conn_output_done counts what went), and the
 *   sync hook (the journal) runs before any of it is offered;
 * - a connection the core wants closed is closed once its output is out;
 *   a peer that is gone is closed at once (an abnormal disconnection unless
 *   the core had decided it: the Will, MQTT-3.1.2-8);
 * - nothing blocks and no signal is raised (MSG_DONTWAIT, MSG_NOSIGNAL).
 */
#include "broker/src/broker_driver.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes read per recv, and reads per connection per pump (fairness). */
#define DRV_READ_BUF 65536
#define DRV_READS_PER_PUMP 16

typedef struct {
    broker_conn *bc;
    const broker_driver_io *io;
    void *ctx;
} drv_conn;

struct broker_driver {
    broker_core *core;
    drv_conn *conns;
    size_t n, cap;
    void (*sync)(void *ctx);
    void *sync_ctx;
    uint8_t rbuf[DRV_READ_BUF];
};

broker_driver *broker_driver_new_core(const broker_options *opts, int64_t now)
{
    broker_driver *d = broker_xcalloc(1, sizeof *d);
    d->core = broker_core_new(opts, now);
    return d;
}

/* Forgets connection i (the last one takes its place) and tells its transport. */
static void remove_conn(broker_driver *d, size_t i, bool by_broker, int64_t now)
{
    drv_conn c = d->conns[i];
    d->conns[i] = d->conns[--d->n];
    broker_conn_close(c.bc, now); /* may queue output on others: the caller pumps again */
    c.io->closed(c.ctx, by_broker);
}

void broker_driver_free(broker_driver *d, int64_t now)
{
    if (!d) return;
    while (d->n) remove_conn(d, d->n - 1, false, now);
    free(d->conns);
    broker_core_free(d->core);
    free(d);
}

broker_core *broker_driver_core(broker_driver *d)
{
    return d->core;
}

void broker_driver_set_sync(broker_driver *d, void (*sync)(void *ctx), void *ctx)
{
    d->sync = sync;
    d->sync_ctx = ctx;
}

broker_conn *broker_driver_open(broker_driver *d, const char *peer, const broker_driver_io *io, void *ctx,
                                int64_t now)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->conns = broker_xrealloc(d->conns, d->cap * sizeof *d->conns);
    }
    broker_conn *bc = broker_conn_open(d->core, peer, ctx, now);
    d->conns[d->n++] = (drv_conn){bc, io, ctx};
    return bc;
}

void broker_driver_drop(broker_driver *d, broker_conn *c, int64_t now)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->conns[i].bc == c) {
            remove_conn(d, i, false, now);
            return;
        }
}

/* Reads and feeds; false when the peer is gone. *moved when bytes came. */
static bool read_conn(broker_driver *d, drv_conn *c, int64_t now, bool *moved)
{
    for (int k = 0; k < DRV_READS_PER_PUMP && broker_conn_wants_read(c->bc); k++) {
        long n = c->io->recv(c->ctx, d->rbuf, sizeof d->rbuf);
        if (n < 0) return false;
        if (n == 0) return true;
        *moved = true;
        broker_conn_feed(c->bc, d->rbuf, (size_t)n, now);
    }
    if (broker_conn_wants_read(c->bc) || broker_conn_should_close(c->bc) || !c->io->gone) return true;
    return !c->io->gone(c->ctx);
}

/* Offers queued output; false when the peer is gone. */
static bool write_conn(drv_conn *c, int64_t now, bool *moved)
{
    const uint8_t *out;
    size_t len;
    while ((len = broker_conn_output(c->bc, &out)) > 0) {
        long k = c->io->send(c->ctx, out, len);
        if (k < 0) return false;
        if (k == 0) return true;
        *moved = true;
        broker_conn_output_done(c->bc, (size_t)k, now);
    }
    return true;
}

bool broker_driver_pump(broker_driver *d, int64_t now)
{
    bool moved = false;
    if (now >= broker_core_next_deadline(d->core)) broker_core_tick(d->core, now);
    for (size_t i = 0; i < d->n;) {
        drv_conn *c = &d->conns[i];
        bool alive = read_conn(d, c, now, &moved);
        if (alive && d->sync) d->sync(d->sync_ctx); /* the journal before the output it covers */
        alive = alive && write_conn(c, now, &moved);
        const uint8_t *out;
        bool done = broker_conn_should_close(c->bc) && broker_conn_output(c->bc, &out) == 0;
        if (alive && !done) {
            i++;
            continue;
        }
        moved = true;
        remove_conn(d, i, alive, now);
    }
    /* every connection was looked at: the dirty set is only a hint here */
    while (broker_core_next_dirty(d->core)) {}
    return moved;
}

int64_t broker_driver_next_deadline(const broker_driver *d)
{
    return broker_core_next_deadline(d->core);
}

size_t broker_driver_conn_count(const broker_driver *d)
{
    return d->n;
}

/* ---- socket pairs: the driver's end of each ---- */

static long sock_recv(void *ctx, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv((int)(intptr_t)ctx, buf, cap, MSG_DONTWAIT);
        if (n > 0) return (long)n;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
}

static long sock_send(void *ctx, const uint8_t *p, size_t n)
{
    for (;;) {
        ssize_t k = send((int)(intptr_t)ctx, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k >= 0) return (long)k;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

static bool sock_gone(void *ctx)
{
    struct pollfd p = {.fd = (int)(intptr_t)ctx, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void sock_closed(void *ctx, bool by_broker)
{
    (void)by_broker;
    close((int)(intptr_t)ctx);
}

static const broker_driver_io sock_io = {sock_recv, sock_send, sock_gone, sock_closed};

int broker_driver_connect(broker_driver *d, const char *peer, int64_t now)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    broker_driver_open(d, peer, &sock_io, (void *)(intptr_t)sv[1], now);
    return sv[0];
}
