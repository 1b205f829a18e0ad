/*
 * bench-relay: a TCP relay for mqtt-bench's tests, put between the bench and
 * a real broker, that misbehaves on purpose and counts exactly what it did,
 * so the bench's loss / duplicate / order / latency figures can be checked
 * against known numbers.
 *
 *   bench-relay --upstream PORT --counts FILE [--drop N] [--dup N] [--swap N]
 *               [--stall-after N --stall-ms MS]
 *
 * Broker-to-client PUBLISH packets are numbered 1, 2, ... over all
 * connections (framed and decoded with libmqttcodec): every Nth is dropped
 * (--drop; for QoS 1 the relay sends the PUBACK upstream itself, as a client
 * that lost it after acknowledging would), sent twice (--dup), or held and
 * sent after the next one (--swap). --stall-after N stops all relaying for MS
 * milliseconds once the clients have sent N PUBLISH packets: a broker that
 * stalls. --silent accepts connections and never answers (every connect
 * attempt must time out). It prints "listening on 127.0.0.1:PORT" and keeps FILE up to date
 * with "dropped D duplicated U swapped S stalled T".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mqtt/codec.h"
#include "net/net.h"

#define MAXC 64

typedef struct {
    uint8_t *data;
    size_t len, cap;
} buf;

typedef struct {
    int cfd, sfd;             /* client side, server side */
    mqtt_version version;
    buf c2s, s2c;             /* undecoded bytes per direction */
    uint8_t *held;            /* --swap: the PUBLISH held back */
    size_t held_len;
} pair;

static struct {
    long drop, dup, swap, stall_after, stall_ms, silent;
    const char *counts;
    long s2c_pubs, c2s_pubs, dropped, duplicated, swapped, stalled;
    int64_t stall_until;
} g;

static void save_counts(void)
{
    FILE *f = fopen(g.counts, "w");
    if (!f) return;
    fprintf(f, "dropped %ld duplicated %ld swapped %ld stalled %ld\n", g.dropped, g.duplicated, g.swapped, g.stalled);
    fclose(f);
}

static int append(buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int out(int fd, const uint8_t *p, size_t n)
{
    return net_send_all(fd, p, n, 5000) == (ssize_t)n ? 0 : -1;
}

/* One whole server-to-client packet: forward, drop, duplicate or hold it. */
static int s2c_packet(pair *p, const mqtt_packet *pkt, const uint8_t *raw, size_t len)
{
    if (pkt->type != MQTT_PUBLISH) return out(p->cfd, raw, len);
    long k = ++g.s2c_pubs;
    if (g.drop && k % g.drop == 0) {
        g.dropped++;
        save_counts();
        if (pkt->publish.qos != 1) return 0;
        uint8_t ack[16];
        mqtt_codec codec = {.version = p->version, .from = MQTT_FROM_CLIENT};
        mqtt_packet a = {.type = MQTT_PUBACK};
        a.ack.packet_id = pkt->publish.packet_id;
        size_t n;
        mqtt_encode(&codec, &a, ack, sizeof ack, &n, NULL);
        return out(p->sfd, ack, n);
    }
    if (g.swap && k % g.swap == 0 && !p->held) {
        p->held = malloc(len);
        if (!p->held) return -1;
        memcpy(p->held, raw, len);
        p->held_len = len;
        return 0;
    }
    if (out(p->cfd, raw, len) != 0) return -1;
    if (g.dup && k % g.dup == 0) {
        g.duplicated++;
        save_counts();
        if (out(p->cfd, raw, len) != 0) return -1;
    }
    if (p->held) { /* the held one goes after this one: out of order by one */
        int rc = out(p->cfd, p->held, p->held_len);
        free(p->held);
        p->held = NULL;
        g.swapped++;
        save_counts();
        return rc;
    }
    return 0;
}

static void c2s_packet(pair *p, const mqtt_packet *pkt)
{
    if (pkt->type == MQTT_CONNECT) p->version = (mqtt_version)pkt->connect.protocol_level;
    if (pkt->type != MQTT_PUBLISH) return;
    if (g.stall_after && ++g.c2s_pubs == g.stall_after) {
        g.stall_until = net_now_ms() + g.stall_ms;
        g.stalled++;
        save_counts();
    }
}

/* Frames and handles what arrived in one direction. Returns -1 to close the pair. */
static int relay(pair *p, bool from_client, const uint8_t *data, size_t n)
{
    buf *b = from_client ? &p->c2s : &p->s2c;
    if (append(b, data, n) != 0) return -1;
    size_t off = 0;
    while (off < b->len) {
        mqtt_user_property ups[32];
        uint32_t sids[8];
        mqtt_subscription subs[32];
        mqtt_codec codec = {.version = p->version, .from = from_client ? MQTT_FROM_CLIENT : MQTT_FROM_SERVER,
                            .user_properties = ups, .user_properties_cap = 32,
                            .subscription_identifiers = sids, .subscription_identifiers_cap = 8,
                            .subscriptions = subs, .subscriptions_cap = 32};
        mqtt_packet pkt;
        mqtt_status st = mqtt_decode(&codec, b->data + off, b->len - off, &pkt, NULL);
        if (st == MQTT_NEED_MORE) break;
        if (st != MQTT_OK) return -1;
        if (from_client) {
            c2s_packet(p, &pkt);
            if (out(p->sfd, b->data + off, pkt.length) != 0) return -1;
        } else if (s2c_packet(p, &pkt, b->data + off, pkt.length) != 0) {
            return -1;
        }
        off += pkt.length;
    }
    memmove(b->data, b->data + off, b->len - off);
    b->len -= off;
    return 0;
}

static void close_pair(pair *p)
{
    close(p->cfd);
    close(p->sfd);
    free(p->c2s.data);
    free(p->s2c.data);
    free(p->held);
    memset(p, 0, sizeof *p);
    p->cfd = p->sfd = -1;
}

static long arg(const char *v, const char *name)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0) {
        fprintf(stderr, "bench-relay: %s %s: not a count\n", name, v);
        exit(2);
    }
    return n;
}

static void serve(int lfd, uint16_t up)
{
    pair ps[MAXC];
    for (int i = 0; i < MAXC; i++) ps[i] = (pair){.cfd = -1, .sfd = -1};
    for (;;) {
        struct pollfd fds[1 + 2 * MAXC];
        int stalled = net_now_ms() < g.stall_until;
        fds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < MAXC; i++) {
            fds[1 + 2 * i] = (struct pollfd){.fd = stalled || g.silent ? -1 : ps[i].cfd, .events = POLLIN};
            fds[2 + 2 * i] = (struct pollfd){.fd = stalled ? -1 : ps[i].sfd, .events = POLLIN};
        }
        if (poll(fds, 1 + 2 * MAXC, stalled ? 1 : 1000) < 0 && errno != EINTR) return;
        if (fds[0].revents & POLLIN) {
            int cfd = accept(lfd, NULL, NULL);
            int k = 0;
            while (k < MAXC && ps[k].cfd >= 0) k++;
            if (g.silent && cfd >= 0 && k < MAXC) { /* hold it open, read nothing */
                ps[k] = (pair){.cfd = cfd, .sfd = -1};
                continue;
            }
            int sfd = cfd >= 0 && k < MAXC ? net_connect("127.0.0.1", up, 2000, (char[128]){0}, 128) : -1;
            if (sfd < 0) {
                if (cfd >= 0) close(cfd);
            } else {
                net_set_nonblocking(cfd);
                ps[k] = (pair){.cfd = cfd, .sfd = sfd, .version = MQTT_VERSION_UNKNOWN};
            }
        }
        for (int i = 0; i < MAXC; i++) {
            for (int side = 0; side < 2 && ps[i].cfd >= 0; side++) {
                if (!(fds[1 + 2 * i + side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                uint8_t data[65536];
                ssize_t n = read(side ? ps[i].sfd : ps[i].cfd, data, sizeof data);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (n <= 0 || relay(&ps[i], side == 0, data, (size_t)n) != 0) close_pair(&ps[i]);
            }
        }
    }
}

int main(int argc, char **argv)
{
    uint16_t up = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(o, "--silent")) { g.silent = 1; i--; }
        else if (!strcmp(o, "--upstream")) up = (uint16_t)arg(v, o);
        else if (!strcmp(o, "--drop")) g.drop = arg(v, o);
        else if (!strcmp(o, "--dup")) g.dup = arg(v, o);
        else if (!strcmp(o, "--swap")) g.swap = arg(v, o);
        else if (!strcmp(o, "--stall-after")) g.stall_after = arg(v, o);
        else if (!strcmp(o, "--stall-ms")) g.stall_ms = arg(v, o);
        else if (!strcmp(o, "--counts")) g.counts = v;
        else { fprintf(stderr, "bench-relay: unknown option %s\n", o); return 2; }
    }
    if (!up || !g.counts) {
        fprintf(stderr, "usage: bench-relay --upstream PORT --counts FILE [--drop N] [--dup N] [--swap N] "
                        "[--stall-after N --stall-ms MS]\n");
        return 2;
    }
    char err[128];
    int lfd = net_listen("127.0.0.1", 0, 64, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "bench-relay: %s\n", err);
        return 2;
    }
    save_counts();
    printf("listening on 127.0.0.1:%u\n", net_local_port(lfd));
    fflush(stdout);
    serve(lfd, up);
    return 1;
}
