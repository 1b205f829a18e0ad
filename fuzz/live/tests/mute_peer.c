/*
 * fz-mute-peer: the "broker" of mqtt-fuzz's hang-oracle test (test-only,
 * never shipped). It listens on 127.0.0.1:PORT, accepts every connection,
 * reads and discards what arrives, and never answers: a CONNECT gets no
 * CONNACK, a PINGREQ no PINGRESP (MQTT-3.12.4-1 MUST), so the hang oracle
 * must report it.
 *
 *   fz-mute-peer PORT
 *
 * Invariants: at most MAX_CONNS connections held (the oldest is closed to
 * make room) and a lifetime of LIFETIME_MS, so a test cannot hang on it;
 * mqtt-fuzz stops it with a signal before that.
 */
#include "net/net.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 64
#define LIFETIME_MS 60000

static struct pollfd fds[1 + MAX_CONNS]; /* [0] the listener */
static int nconns, oldest;

/* Accepts one connection, closing the oldest held one when all slots are in use. */
static void accept_one(int lfd)
{
    int c = accept(lfd, NULL, NULL);
    if (c < 0 || net_set_nonblocking(c) != 0) {
        if (c >= 0) close(c);
        return;
    }
    if (nconns == MAX_CONNS) {
        close(fds[1 + oldest].fd);
        fds[1 + oldest].fd = c;
        oldest = (oldest + 1) % MAX_CONNS;
        return;
    }
    fds[1 + nconns].fd = c;
    fds[1 + nconns].events = POLLIN;
    nconns++;
}

/* Reads and drops what a connection sent; a closed one stays in its slot, ignored. */
static void drain(struct pollfd *p)
{
    char buf[4096];
    ssize_t n = recv(p->fd, buf, sizeof buf, 0);
    if (n <= 0) {
        close(p->fd);
        p->fd = -1; /* poll ignores negative descriptors */
    }
}

int main(int argc, char **argv)
{
    char err[256];
    int port = argc == 2 ? atoi(argv[1]) : -1;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: fz-mute-peer PORT\n");
        return 2;
    }
    int lfd = net_listen("127.0.0.1", (uint16_t)port, 64, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "fz-mute-peer: %s\n", err);
        return 1;
    }
    fds[0].fd = lfd;
    fds[0].events = POLLIN;
    int64_t deadline = net_now_ms() + LIFETIME_MS;
    for (int64_t now = net_now_ms(); now < deadline; now = net_now_ms()) {
        if (poll(fds, (nfds_t)(1 + nconns), (int)(deadline - now)) <= 0) continue;
        for (int i = 1; i <= nconns; i++)
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) drain(&fds[i]);
        if (fds[0].revents & POLLIN) accept_one(lfd);
    }
    return 0;
}
