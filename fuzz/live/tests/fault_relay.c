/*
 * fault_relay: the planted fault of mqtt-fuzz's tests (test-only, never
 * shipped). A TCP relay in front of a real broker:
 *   fault_relay LISTEN_PORT UPSTREAM_PORT [crash | drop-publish]
 * forwards every connection to 127.0.0.1:UPSTREAM_PORT both ways, with one
 * planted fault:
 *   crash (default): dies with abort() as soon as a client sends the bytes
 *     C0 01 (a PINGREQ fixed header with Remaining Length 1: malformed,
 *     PINGREQ has none);
 *   drop-publish: loses every PUBLISH the broker sends to a client on a
 *     topic ending in "/b" (a broker that fails to deliver to a subscriber,
 *     MQTT-3.3.4-2 / MQTT-3.3.5-1); only the differential oracle sees that.
 * mqtt-fuzz does not know the fault: it must find it, minimise the session
 * to it, and write a scenario that makes mqtt-conform fail.
 */
#include "net/net.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 64

typedef struct {
    int client, upstream;
    uint8_t last; /* last byte the client sent: the pattern may straddle two reads */
    uint8_t down[65536]; /* drop-publish: broker bytes not yet framed into whole packets */
    size_t ndown;
} pair;

static pair pairs[MAX_PAIRS];
static int npairs;
static bool drop_mode;

static void drop(int i)
{
    close(pairs[i].client);
    close(pairs[i].upstream);
    pairs[i] = pairs[--npairs];
}

static void check_fault(pair *p, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t prev = i ? b[i - 1] : p->last;
        if (prev == 0xc0 && b[i] == 0x01) {
            fprintf(stderr, "fault_relay: planted fault hit (C0 01 from a client)\n");
            abort();
        }
    }
    if (n) p->last = b[n - 1];
}

/* Size of the whole packet at b[0..len): 0 while incomplete, -1 if the
 * Remaining Length is invalid. */
static long packet_size(const uint8_t *b, size_t len)
{
    size_t rl = 0;
    for (size_t i = 1; i <= 4 && i < len; i++) {
        rl |= (size_t)(b[i] & 0x7f) << (7 * (i - 1));
        if (!(b[i] & 0x80)) return 1 + i + rl <= len ? (long)(1 + i + rl) : 0;
    }
    return len > 4 ? -1 : 0;
}

/* A PUBLISH whose topic ends in "/b". */
static bool doomed(const uint8_t *b, size_t n)
{
    if (b[0] >> 4 != 3) return false;
    size_t h = 2;
    while (h < n && b[h - 1] & 0x80) h++;
    if (h + 2 > n) return false;
    size_t tl = (size_t)b[h] << 8 | b[h + 1];
    return tl >= 2 && h + 2 + tl <= n && memcmp(b + h + 2 + tl - 2, "/b", 2) == 0;
}

/* drop-publish: forwards the broker's whole packets except the doomed ones. */
static int forward_down(pair *p, const uint8_t *buf, size_t n)
{
    if (p->ndown + n > sizeof p->down) return -1;
    memcpy(p->down + p->ndown, buf, n);
    p->ndown += n;
    size_t off = 0;
    for (long sz; (sz = packet_size(p->down + off, p->ndown - off)) != 0; off += (size_t)sz) {
        if (sz < 0) return -1;
        if (!doomed(p->down + off, (size_t)sz) && net_send_all(p->client, p->down + off, (size_t)sz, 2000) != sz) return -1;
    }
    memmove(p->down, p->down + off, p->ndown - off);
    p->ndown -= off;
    return 0;
}

/* Moves what is readable on `from` to `to`. Returns -1 when the pair ends. */
static int relay(pair *p, int from, int to)
{
    uint8_t buf[16384];
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0) return -1;
    if (from == p->client && !drop_mode) check_fault(p, buf, (size_t)n);
    if (from == p->upstream && drop_mode) return forward_down(p, buf, (size_t)n);
    return net_send_all(to, buf, (size_t)n, 2000) == n ? 0 : -1;
}

static void accept_one(int lfd, uint16_t up)
{
    char err[256];
    int c = accept(lfd, NULL, NULL);
    if (c < 0) return;
    int u = net_connect("127.0.0.1", up, 2000, err, sizeof err);
    if (u < 0 || npairs == MAX_PAIRS || net_set_nonblocking(c) != 0) {
        close(c);
        if (u >= 0) close(u);
        return;
    }
    pairs[npairs++] = (pair){.client = c, .upstream = u};
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "crash") && strcmp(argv[3], "drop-publish")))
        return fprintf(stderr, "usage: fault_relay LISTEN_PORT UPSTREAM_PORT [crash | drop-publish]\n"), 2;
    drop_mode = argc == 4 && !strcmp(argv[3], "drop-publish");
    int lfd = net_listen("127.0.0.1", (uint16_t)atoi(argv[1]), 64, err, sizeof err);
    if (lfd < 0) return fprintf(stderr, "fault_relay: %s\n", err), 1;
    for (;;) {
        struct pollfd pfd[1 + 2 * MAX_PAIRS] = {{.fd = lfd, .events = POLLIN}};
        for (int i = 0; i < npairs; i++) {
            pfd[1 + 2 * i] = (struct pollfd){.fd = pairs[i].client, .events = POLLIN};
            pfd[2 + 2 * i] = (struct pollfd){.fd = pairs[i].upstream, .events = POLLIN};
        }
        if (poll(pfd, (nfds_t)(1 + 2 * npairs), -1) < 0) continue;
        for (int i = npairs - 1; i >= 0; i--) {
            bool bad = false;
            if (pfd[1 + 2 * i].revents) bad |= relay(&pairs[i], pairs[i].client, pairs[i].upstream) < 0;
            if (!bad && pfd[2 + 2 * i].revents) bad |= relay(&pairs[i], pairs[i].upstream, pairs[i].client) < 0;
            if (bad) drop(i);
        }
        if (pfd[0].revents) accept_one(lfd, (uint16_t)atoi(argv[2]));
    }
}
