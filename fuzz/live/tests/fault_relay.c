/*
 * fault_relay: the planted fault of mqtt-fuzz's tests (test-only, never
 * shipped). A TCP relay in front of a real broker:
 *   fault_relay LISTEN_PORT UPSTREAM_PORT
 * forwards every connection to 127.0.0.1:UPSTREAM_PORT both ways, and dies
 * with abort() as soon as a client sends the bytes C0 01 (a PINGREQ fixed
 * header with Remaining Length 1: malformed, PINGREQ has none).
 * mqtt-fuzz does not know the pattern: it must find it, minimise the
 * session to it, and write a scenario that makes mqtt-conform fail.
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
} pair;

static pair pairs[MAX_PAIRS];
static int npairs;

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

/* Moves what is readable on `from` to `to`. Returns -1 when the pair ends. */
static int relay(pair *p, int from, int to)
{
    uint8_t buf[16384];
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0) return -1;
    if (from == p->client) check_fault(p, buf, (size_t)n);
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
    if (argc != 3) return fprintf(stderr, "usage: fault_relay LISTEN_PORT UPSTREAM_PORT\n"), 2;
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
