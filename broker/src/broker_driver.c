/*
 * broker_driver (broker_driver.h): the broker core served in-process over
 * socket pairs, pumped by the caller at the times it gives.
 *
 * Invariants (those of event_loop.c for a plain TCP connection):
 * - a connection is read only while broker_conn_wants_read (a throttled
 *   one keeps its bytes in the socket buffer, like the kernel's);
 * - output is written as far as the socket takes it, the rest stays queued
 *   in the core (broker_conn_output_done counts what went);
 * - a connection the core wants closed is closed once its output is out;
 *   a peer that closed (EOF, reset) is closed at once (an abnormal
 *   disconnection unless the core had decided it: the Will, MQTT-3.1.2-8);
 * - nothing blocks (MSG_DONTWAIT) and no signal is raised (MSG_NOSIGNAL).
 */
#include "broker/src/broker_driver.h"

#include "broker/src/broker_config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes read per recv, and reads per connection per pump (fairness). */
#define DRV_READ_BUF 65536
#define DRV_READS_PER_PUMP 16

typedef struct {
    int fd;
    broker_conn *bc;
} drv_conn;

struct broker_driver {
    broker_core *core;
    drv_conn *conns;
    size_t n, cap;
    uint8_t rbuf[DRV_READ_BUF];
};

/* The program's configuration checks that matter in-process: files the
 * driver does not load would be silently ignored, so they are refused. */
static int check_config(const broker_config *cfg, const broker_security_config *sec, const char *name, char *err,
                        size_t errlen)
{
    const char *what = cfg->persistence ? "persistence" : sec->password_file ? "password_file"
                                                        : sec->acl_file ? "acl_file" : NULL;
    if (!what) return 0;
    snprintf(err, errlen, "%s: %s is not available to an in-process broker (it serves the core only)", name, what);
    return -1;
}

broker_driver *broker_driver_new(const char *config, const char *name, broker_log_fn log, void *log_ctx,
                                 int64_t now, char *err, size_t errlen)
{
    broker_config cfg;
    broker_config_init(&cfg);
    if (broker_config_parse(&cfg, config, strlen(config), name, err, errlen) != 0) {
        broker_config_free(&cfg);
        return NULL;
    }
    broker_listener l[BROKER_MAX_LISTENERS + 1];
    size_t nl = broker_config_listeners(&cfg, l, BROKER_MAX_LISTENERS + 1);
    broker_security_config sec = nl ? broker_config_security(&cfg, &l[0]) : cfg.sec;
    if (check_config(&cfg, &sec, name, err, errlen) != 0) {
        broker_config_free(&cfg);
        return NULL;
    }
    broker_driver *d = broker_xcalloc(1, sizeof *d);
    cfg.opts.log = log;
    cfg.opts.log_ctx = log_ctx;
    d->core = broker_core_new(&cfg.opts, now);
    /* listener 0's policy, as mqtt-broker applies it (main.c apply_policy) */
    broker_policy bp = {.allow_anonymous = sec.allow_anonymous == 1,
                        .use_identity_as_username = nl && l[0].use_identity_as_username};
    broker_core_set_policy(d->core, 0, &bp);
    broker_config_free(&cfg);
    return d;
}

void broker_driver_free(broker_driver *d, int64_t now)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        close(d->conns[i].fd);
        broker_conn_close(d->conns[i].bc, now);
    }
    free(d->conns);
    broker_core_free(d->core);
    free(d);
}

broker_core *broker_driver_core(broker_driver *d)
{
    return d->core;
}

int broker_driver_connect(broker_driver *d, const char *peer, int64_t now)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->conns = broker_xrealloc(d->conns, d->cap * sizeof *d->conns);
    }
    broker_conn *bc = broker_conn_open(d->core, peer, NULL, now);
    d->conns[d->n++] = (drv_conn){sv[1], bc};
    return sv[0];
}

/* Reads and feeds; false when the peer is gone (EOF, reset). *moved when bytes came. */
static bool read_conn(broker_driver *d, drv_conn *c, int64_t now, bool *moved)
{
    for (int k = 0; k < DRV_READS_PER_PUMP && broker_conn_wants_read(c->bc); k++) {
        ssize_t n = recv(c->fd, d->rbuf, sizeof d->rbuf, MSG_DONTWAIT);
        if (n > 0) {
            *moved = true;
            broker_conn_feed(c->bc, d->rbuf, (size_t)n, now);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    if (broker_conn_wants_read(c->bc) || broker_conn_should_close(c->bc)) return true;
    /* throttled: the peer may be gone all the same (event_loop.c closes on EPOLLHUP) */
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return !(poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)));
}

/* Writes queued output; false when the peer is gone. */
static bool write_conn(drv_conn *c, int64_t now, bool *moved)
{
    const uint8_t *out;
    size_t len;
    while ((len = broker_conn_output(c->bc, &out)) > 0) {
        ssize_t k = send(c->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            *moved = true;
            broker_conn_output_done(c->bc, (size_t)k, now);
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        return k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
}

bool broker_driver_pump(broker_driver *d, int64_t now)
{
    bool moved = false;
    if (now >= broker_core_next_deadline(d->core)) broker_core_tick(d->core, now);
    for (size_t i = 0; i < d->n;) {
        drv_conn *c = &d->conns[i];
        bool alive = read_conn(d, c, now, &moved) && write_conn(c, now, &moved);
        const uint8_t *out;
        if (alive && !(broker_conn_should_close(c->bc) && broker_conn_output(c->bc, &out) == 0)) {
            i++;
            continue;
        }
        moved = true;
        close(c->fd);
        broker_conn_close(c->bc, now); /* may queue output on others: the caller pumps again */
        d->conns[i] = d->conns[--d->n];
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
