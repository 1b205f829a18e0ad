/*
 * event_loop: mqtt-broker's I/O. One thread, level-triggered epoll,
 * non-blocking sockets, the sans-I/O core doing everything else.
 *
 * One iteration: wait for events (no longer than the core's next timer),
 * read what is readable into one shared 64 KiB buffer and feed it to the
 * core (at most 4 reads per connection per iteration, for fairness), accept
 * new connections, run the timers if due, then drain the core's dirty set:
 * write each connection's pending output (writes are batched: everything
 * the iteration produced for a connection goes out in one send), close
 * those the core closed once their output is out, and set each one's epoll
 * interest: EPOLLIN only while the core wants to read from it
 * (back-pressure: a publisher whose subscriber cannot keep up is not read),
 * EPOLLOUT only while output is pending.
 *
 * File descriptors index one table of 16-byte slots (connection, interest,
 * kind), so a connection costs the loop no allocation; the core's handle
 * for a connection is its fd.
 *
 * Invariant: a connection is freed (broker_conn_close) either while
 * handling its own event or while draining the dirty set, never while
 * another connection's event is handled, so no event of the current batch
 * can refer to a freed connection.
 */
#define _GNU_SOURCE /* accept4 */
#include "broker/src/event_loop.h"

#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF 65536
#define READS_PER_EVENT 4
#define ACCEPTS_PER_EVENT 64
#define SHUTDOWN_GRACE_MS 2000
#define EMFILE_PAUSE_MS 1000

enum { SLOT_FREE = 0, SLOT_CONN, SLOT_LISTENER, SLOT_SIGNAL };

typedef struct {
    broker_conn *bc;
    uint32_t events; /* registered with epoll */
    uint8_t kind;
} slot;

typedef struct {
    broker_core *core;
    int epfd;
    slot *slots;
    size_t nslots;
    size_t nconns;
    bool listeners_paused;
    int64_t resume_accept_at;
    bool stopping;
    int64_t stop_deadline;
    uint8_t *rbuf;
} loop;

static slot *slot_for(loop *L, int fd)
{
    if ((size_t)fd >= L->nslots) {
        size_t n = L->nslots ? L->nslots : 1024;
        while (n <= (size_t)fd) n *= 2;
        L->slots = broker_xrealloc(L->slots, n * sizeof *L->slots);
        memset(L->slots + L->nslots, 0, (n - L->nslots) * sizeof *L->slots);
        L->nslots = n;
    }
    return &L->slots[fd];
}

static int conn_fd(broker_conn *bc)
{
    return (int)(intptr_t)broker_conn_io(bc);
}

static void peer_name(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
        snprintf(out, cap, "unknown");
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "unknown");
    }
}

static void set_interest(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    const uint8_t *data;
    uint32_t want = 0;
    if (broker_conn_wants_read(s->bc)) want |= EPOLLIN;
    if (broker_conn_output(s->bc, &data)) want |= EPOLLOUT;
    if (want == s->events) return;
    struct epoll_event ev = {.events = want, .data.fd = fd};
    epoll_ctl(L->epfd, EPOLL_CTL_MOD, fd, &ev);
    s->events = want;
}

static void close_conn(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    broker_conn *bc = s->bc;
    epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    memset(s, 0, sizeof *s);
    L->nconns--;
    broker_conn_close(bc, net_now_ms());
}

/* Writes pending output. Returns false on a write error (peer gone). */
static bool flush(int fd, broker_conn *bc)
{
    for (;;) {
        const uint8_t *data;
        size_t len = broker_conn_output(bc, &data);
        if (len == 0) return true;
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            broker_conn_output_done(bc, (size_t)n, net_now_ms());
            if ((size_t)n < len) return true; /* socket buffer full */
            continue;                          /* output_done may have queued more */
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void drain_dirty(loop *L)
{
    broker_conn *bc;
    while ((bc = broker_core_next_dirty(L->core))) {
        int fd = conn_fd(bc);
        bool ok = flush(fd, bc);
        const uint8_t *data;
        bool pending = broker_conn_output(bc, &data) > 0;
        if (!ok || (broker_conn_should_close(bc) && !pending)) close_conn(L, fd);
        else set_interest(L, fd);
    }
}

static void pause_listeners(loop *L, bool pause)
{
    for (size_t fd = 0; fd < L->nslots; fd++) {
        if (L->slots[fd].kind != SLOT_LISTENER) continue;
        struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.fd = (int)fd};
        epoll_ctl(L->epfd, EPOLL_CTL_MOD, (int)fd, &ev);
    }
    L->listeners_paused = pause;
}

static void accept_some(loop *L, int lfd)
{
    for (int k = 0; k < ACCEPTS_PER_EVENT; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Level-triggered: stop polling the listeners for a while
                 * rather than spin on a connection we cannot take. */
                fprintf(stderr, "mqtt-broker: accept: %s; not accepting for %d ms\n", strerror(errno),
                        EMFILE_PAUSE_MS);
                pause_listeners(L, true);
                L->resume_accept_at = net_now_ms() + EMFILE_PAUSE_MS;
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        char peer[80];
        peer_name(fd, peer, sizeof peer);
        slot *s = slot_for(L, fd);
        s->kind = SLOT_CONN;
        s->events = EPOLLIN;
        s->bc = broker_conn_open(L->core, peer, (void *)(intptr_t)fd, net_now_ms());
        L->nconns++;
    }
}

static void conn_event(loop *L, int fd, uint32_t events)
{
    broker_conn *bc = L->slots[fd].bc;
    if ((events & EPOLLOUT) && !flush(fd, bc)) {
        close_conn(L, fd);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        set_interest(L, fd);
        return;
    }
    for (int k = 0; k < READS_PER_EVENT && broker_conn_wants_read(bc); k++) {
        ssize_t n = recv(fd, L->rbuf, READ_BUF, 0);
        if (n > 0) {
            broker_conn_feed(bc, L->rbuf, (size_t)n, net_now_ms());
            if ((size_t)n < READ_BUF) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_conn(L, fd); /* 0: peer closed; < 0: reset or error */
        return;
    }
    if ((events & (EPOLLHUP | EPOLLERR)) && !broker_conn_wants_read(bc) && !broker_conn_should_close(bc)) {
        close_conn(L, fd); /* throttled and the peer is gone */
        return;
    }
    /* Output, interest and closing are handled when the dirty set drains;
     * a read that changed nothing for others still needs EPOLLOUT set. */
    set_interest(L, fd);
}

static void start_stop(loop *L, const char *why)
{
    if (L->stopping) return;
    fprintf(stderr, "mqtt-broker: %s: shutting down\n", why);
    L->stopping = true;
    L->stop_deadline = net_now_ms() + SHUTDOWN_GRACE_MS;
    for (size_t fd = 0; fd < L->nslots; fd++) {
        if (L->slots[fd].kind != SLOT_LISTENER) continue;
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, (int)fd, NULL);
        close((int)fd);
        L->slots[fd].kind = SLOT_FREE;
    }
    broker_core_shutdown(L->core, net_now_ms());
}

static void close_all(loop *L)
{
    for (size_t fd = 0; fd < L->nslots; fd++) {
        if (L->slots[fd].kind == SLOT_CONN) close_conn(L, (int)fd);
        else if (L->slots[fd].kind == SLOT_LISTENER) close((int)fd);
    }
}

int broker_event_loop(broker_core *core, const int *listen_fds, size_t n, char *err, size_t errlen)
{
    loop L = {.core = core};
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sfd = L.epfd < 0 ? -1 : signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = sfd};
    if (L.epfd < 0 || sfd < 0 || epoll_ctl(L.epfd, EPOLL_CTL_ADD, sfd, &sev) != 0) {
        snprintf(err, errlen, "epoll/signalfd: %s", strerror(errno));
        if (sfd >= 0) close(sfd);
        if (L.epfd >= 0) close(L.epfd);
        for (size_t i = 0; i < n; i++) close(listen_fds[i]);
        return -1;
    }
    slot_for(&L, sfd)->kind = SLOT_SIGNAL;
    for (size_t i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = listen_fds[i]};
        epoll_ctl(L.epfd, EPOLL_CTL_ADD, listen_fds[i], &ev);
        slot_for(&L, listen_fds[i])->kind = SLOT_LISTENER;
    }
    L.rbuf = broker_xmalloc(READ_BUF);
    struct epoll_event events[256];

    for (;;) {
        int64_t now = net_now_ms();
        if (L.stopping && (L.nconns == 0 || now >= L.stop_deadline)) break;
        int64_t wait = broker_core_next_deadline(core) - now;
        if (L.listeners_paused && L.resume_accept_at - now < wait) wait = L.resume_accept_at - now;
        if (L.stopping && L.stop_deadline - now < wait) wait = L.stop_deadline - now;
        if (wait < 0) wait = 0;
        if (wait > 1000) wait = 1000;
        int ne = epoll_wait(L.epfd, events, 256, (int)wait);
        if (ne < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < ne; i++) {
            int fd = events[i].data.fd;
            switch (L.slots[fd].kind) {
            case SLOT_SIGNAL: {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                    start_stop(&L, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                break;
            }
            case SLOT_LISTENER:
                if (!L.stopping) accept_some(&L, fd);
                break;
            case SLOT_CONN: conn_event(&L, fd, events[i].events); break;
            default: break; /* closed earlier in this batch */
            }
        }
        now = net_now_ms();
        if (L.listeners_paused && now >= L.resume_accept_at) pause_listeners(&L, false);
        if (now >= broker_core_next_deadline(core)) broker_core_tick(core, now);
        drain_dirty(&L);
    }

    close_all(&L);
    free(L.slots);
    free(L.rbuf);
    close(sfd);
    close(L.epfd);
    return 0;
}
