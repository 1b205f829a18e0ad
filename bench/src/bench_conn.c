/*
 * bench_conn: buffers, non-blocking flush and incremental decode of one
 * connection (bench_conn.h). The codec frames the input: a partial packet
 * stays in the buffer ("need more") until the rest arrives.
 */
#include "bench/src/bench_conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bench/src/bench_io.h"
#include "bench/src/bench_payload.h"
#include "bench/src/bench_proto.h"

#define READ_CHUNK 65536u
/* A broker packet bigger than this is refused (a limit of the bench, not of
 * MQTT): the bench's own messages are at most --size + topic + headers. */
#define MAX_IN_PACKET (256u * 1024u * 1024u)

static int reserve(bench_buf *b, size_t extra)
{
    if (b->off && b->off == b->len) b->off = b->len = 0;
    if (b->len + extra <= b->cap) return 0;
    if (b->off) { /* compact before growing */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap) return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static void rearm(bench_conn *c, bool out)
{
    struct epoll_event ev = {.events = (c->paused ? 0u : EPOLLIN) | (out ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

void bench_conn_arm(bench_conn *c, bool out)
{
    if (c->fd < 0 || c->want_out == out) return;
    rearm(c, out);
}

void bench_conn_pause(bench_conn *c)
{
    if (c->fd < 0 || c->paused) return;
    c->paused = true;
    rearm(c, c->want_out);
}

void bench_conn_close(bench_conn *c)
{
    bench_io_close(c);
    free(c->in.data);
    free(c->out.data);
    memset(&c->in, 0, sizeof c->in);
    memset(&c->out, 0, sizeof c->out);
}

void bench_conn_fail(bench_conn *c, bench_error_kind k, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bench_error(c->w, k, "%s: %s", c->client_id, msg);
    if (c->state < CS_READY) atomic_fetch_add_explicit(&c->w->live.settled, 1, memory_order_relaxed);
    if (c->state == CS_READY) atomic_fetch_sub_explicit(&c->w->live.connected, 1, memory_order_relaxed);
    if (c->inflight)
        atomic_fetch_sub_explicit(&c->w->live.inflight, (uint64_t)c->inflight, memory_order_relaxed);
    c->inflight = 0;
    if (c->role == ROLE_PUB && !c->done) { /* a dead publisher has sent all it will */
        c->done = true;
        atomic_fetch_add_explicit(&c->w->live.pubs_done, 1, memory_order_relaxed);
    }
    bench_proto_flushed(c); /* nothing more of it will reach the broker */
    c->state = CS_DEAD;
    bench_conn_close(c);
}

int bench_conn_send(bench_conn *c, const mqtt_packet *p)
{
    mqtt_codec codec = {.version = c->w->run->o->version, .from = MQTT_FROM_CLIENT};
    mqtt_error err;
    size_t size;
    if (mqtt_encoded_size(&codec, p, &size, &err) != MQTT_OK) {
        bench_conn_fail(c, BE_PROTOCOL, "cannot encode %s: %s (%s)", mqtt_packet_type_name(p->type),
                        err.message, err.rule);
        return -1;
    }
    if (reserve(&c->out, size) != 0) {
        bench_conn_fail(c, BE_PROTOCOL, "out of memory");
        return -1;
    }
    size_t written;
    mqtt_encode(&codec, p, c->out.data + c->out.len, c->out.cap - c->out.len, &written, NULL);
    c->out.len += written;
    return 0;
}

int bench_conn_flush(bench_conn *c)
{
    char err[160];
    /* Nothing appended since the last PUBLISH (so no compaction moved it):
     * its send time becomes now, the moment the bytes go to the socket. */
    if (c->stamp_len && c->stamp_len == c->out.len && c->stamp_pos >= c->out.off)
        bench_stamp_set_sent(c->out.data + c->stamp_pos, bench_now() + c->w->run->clock_offset);
    c->stamp_len = 0;
    if (bench_io_out_pending(c) && bench_io_write(c, NULL, 0, err, sizeof err) == BIO_ERROR) {
        bench_conn_fail(c, BE_CLOSED, "%s", err);
        return -1;
    }
    while (c->out.off < c->out.len) {
        int64_t t_before = bench_now();
        ssize_t n = bench_io_write(c, c->out.data + c->out.off, c->out.len - c->out.off, err, sizeof err);
        if (n == BIO_AGAIN) break;
        if (n < 0) {
            bench_conn_fail(c, BE_CLOSED, "%s", err);
            return -1;
        }
        c->out.off += (size_t)n;
        c->last_tx = bench_now();
        bench_io_tx_sent(c, (size_t)n, t_before);
    }
    if (c->out.off == c->out.len) c->out.off = c->out.len = 0;
    bench_conn_arm(c, c->out.len > 0 || bench_io_out_pending(c));
    return 0;
}

/* Decodes and handles every whole packet in c->in. */
static int decode_all(bench_conn *c, int64_t t_rx)
{
    mqtt_user_property ups[32];
    uint32_t sids[8];
    mqtt_codec codec = {.version = c->w->run->o->version, .from = MQTT_FROM_SERVER,
                        .max_packet_size = MAX_IN_PACKET,
                        .user_properties = ups, .user_properties_cap = 32,
                        .subscription_identifiers = sids, .subscription_identifiers_cap = 8};
    while (c->state != CS_DEAD && c->in.off < c->in.len) {
        mqtt_packet p;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, c->in.data + c->in.off, c->in.len - c->in.off, &p, &err);
        if (st == MQTT_NEED_MORE) break;
        if (st != MQTT_OK) {
            bench_conn_fail(c, BE_PROTOCOL, "broker sent bytes the codec rejects: %s %s (%s)",
                            mqtt_status_name(st), err.rule, err.message);
            return -1;
        }
        c->in.off += p.length;
        if (bench_proto_handle(c, &p, t_rx) != 0) return -1;
    }
    if (c->in.off == c->in.len) c->in.off = c->in.len = 0;
    return c->state == CS_DEAD ? -1 : 0;
}

/*
 * How much to read next. The kernel stamps a read with the arrival of the
 * last segment it consumed, so a read that takes several messages gives the
 * earlier ones a late time. At a fixed rate (latency runs) a subscriber reads
 * one packet at a time: the fixed header, then exactly the rest, so each
 * PUBLISH gets its own segment's time. At full speed it reads in bulk.
 */
static size_t read_size(const bench_conn *c)
{
    const bench_opts *o = c->w->run->o;
    if (c->role == ROLE_CONN) return 512u;
    if (c->role != ROLE_SUB || o->rate <= 0 || o->app_rx_time || c->tls || c->ws) return READ_CHUNK;
    size_t have = c->in.len - c->in.off;
    if (have < 2) return 2 - have;
    mqtt_codec codec = {.version = o->version, .from = MQTT_FROM_SERVER};
    mqtt_packet p;
    mqtt_status st = mqtt_decode(&codec, c->in.data + c->in.off, have, &p, NULL);
    if (st != MQTT_NEED_MORE || p.length <= have) return READ_CHUNK; /* let decode_all report it */
    return p.length ? p.length - have : 1;
}

int bench_conn_input(bench_conn *c)
{
    char err[160];
    if (c->paused) return 0;
    /* Past 256 reads, only what TLS or the WebSocket already holds (epoll
     * would not say it is there). */
    for (int rounds = 0; (rounds < 256 || bench_io_pending(c)) && c->state != CS_DEAD && !c->paused; rounds++) {
        size_t want = read_size(c);
        if (reserve(&c->in, want) != 0) {
            bench_conn_fail(c, BE_PROTOCOL, "out of memory");
            return -1;
        }
        int64_t kernel_ns;
        ssize_t n = bench_io_read(c, c->in.data + c->in.len, want, &kernel_ns, err, sizeof err);
        if (n == BIO_AGAIN) break;
        if (n == BIO_CLOSED) {
            bench_conn_fail(c, BE_CLOSED, "broker closed the connection");
            return -1;
        }
        if (n < 0) {
            bench_conn_fail(c, BE_CLOSED, "%s", err);
            return -1;
        }
        c->in.len += (size_t)n;
        const bench_run *r = c->w->run;
        int64_t t_rx = kernel_ns ? kernel_ns - r->real_offset + r->clock_offset : bench_payload_clock(r);
        if (decode_all(c, t_rx) != 0) return -1;
    }
    /* Held idle connections (conn mode) keep no read buffer. */
    if (c->role == ROLE_CONN && c->in.len == 0) {
        free(c->in.data);
        memset(&c->in, 0, sizeof c->in);
    }
    return c->state == CS_DEAD ? -1 : bench_conn_flush(c);
}
