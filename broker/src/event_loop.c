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
 * Persistence: before any output leaves (in the dirty drain and before an
 * EPOLLOUT flush), the journal the core produced is handed to hooks->sync,
 * which writes and fsyncs it. So an acknowledgement (PUBACK, PUBREC) never
 * reaches a client before what it acknowledges is on disk, and one fsync
 * covers everything one iteration did (group commit).
 *
 * TLS connections (listeners with a context) first run the handshake
 * (interest follows what OpenSSL wants), then read and write through
 * net/tls.h. OpenSSL may hold decrypted bytes no socket event announces:
 * such connections go on a pending list served before the next wait.
 *
 * Closing after the core closed a connection (its last packet, e.g. a
 * DISCONNECT with a reason, written): a plain TCP connection is shut down
 * for writing (FIN after the DISCONNECT) and read and discarded for at most
 * LINGER_MS, until the client closes too. Closing with unread bytes would
 * send a reset, which can destroy the DISCONNECT before the client reads it.
 * Every epoll_ctl that registers or changes a connection is checked: one
 * that fails closes that connection (logged).
 *
 * File descriptors index one table of slots (connection, interest,
 * kind, listener), so a plain connection costs the loop no allocation; the
 * core's handle for a connection is its fd. TLS state lives in a parallel
 * table allocated only when a TLS listener exists.
 *
 * Invariant: a connection is freed (broker_conn_close) either while
 * handling its own event or while draining the dirty set, never while
 * another connection's event is handled, so no event of the current batch
 * can refer to a freed connection.
 */
#define _GNU_SOURCE /* accept4 */
#include "broker/src/event_loop.h"
#include "broker/src/broker_ws.h"

#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
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
#define LINGER_MS 1000 /* reading what a closed client still sends, after our FIN */
#define MAX_LISTENERS 64

enum { SLOT_FREE = 0, SLOT_CONN, SLOT_LISTENER, SLOT_SIGNAL, SLOT_LINGER };

typedef struct {
    broker_conn *bc;
    int64_t linger_until; /* SLOT_LINGER: closed for good at this time */
    uint32_t events;      /* registered with epoll */
    uint8_t kind;
    uint8_t listener;     /* index into L->ls (connections and listeners) */
} slot;

typedef struct {
    net_tls *t;
    bool handshaking;
    bool pending;     /* on the pending list */
    int want;         /* NET_TLS_WANT_READ/WRITE of the last call that could not finish, 0 = none */
} tls_state;

typedef struct {
    broker_loop_listener l;
    uint32_t nconns;
} listener;

typedef struct {
    broker_core *core;
    const broker_loop_hooks *hooks;
    int epfd;
    slot *slots;
    tls_state *tls; /* parallel to slots when a TLS listener exists */
    broker_ws **ws; /* parallel to slots when a WebSocket listener exists */
    size_t nslots;
    size_t nconns;
    listener ls[MAX_LISTENERS];
    size_t nls;
    int *pending; /* fds with TLS bytes to read without an event */
    size_t npending, pending_cap;
    bool any_tls;
    bool any_ws;
    bool listeners_paused;
    int64_t resume_accept_at;
    bool stopping;
    int64_t stop_deadline;
    bool held;    /* the journal could not be made durable: no output leaves */
    size_t nlinger; /* SLOT_LINGER slots */
    uint8_t *rbuf;
} loop;

static void loop_log(loop *L, broker_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void loop_log(loop *L, broker_log_level level, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (L->hooks && L->hooks->log) L->hooks->log(L->hooks->ctx, level, line);
    else fprintf(stderr, "mqtt-broker: %s\n", line);
}

static slot *slot_for(loop *L, int fd)
{
    if ((size_t)fd >= L->nslots) {
        size_t n = L->nslots ? L->nslots : 1024;
        while (n <= (size_t)fd) n *= 2;
        L->slots = broker_xrealloc(L->slots, n * sizeof *L->slots);
        memset(L->slots + L->nslots, 0, (n - L->nslots) * sizeof *L->slots);
        if (L->any_tls) {
            L->tls = broker_xrealloc(L->tls, n * sizeof *L->tls);
            memset(L->tls + L->nslots, 0, (n - L->nslots) * sizeof *L->tls);
        }
        if (L->any_ws) {
            L->ws = broker_xrealloc(L->ws, n * sizeof *L->ws);
            memset(L->ws + L->nslots, 0, (n - L->nslots) * sizeof *L->ws);
        }
        L->nslots = n;
    }
    return &L->slots[fd];
}

static tls_state *tls_of(loop *L, int fd)
{
    return L->tls && L->tls[fd].t ? &L->tls[fd] : NULL;
}

static broker_ws *ws_of(loop *L, int fd)
{
    return L->ws ? L->ws[fd] : NULL;
}

/* What to write next: the core's output, through the WebSocket adapter on
 * WebSocket connections. */
static size_t conn_output(loop *L, int fd, broker_conn *bc, const uint8_t **data)
{
    broker_ws *w = ws_of(L, fd);
    return w ? broker_ws_output(w, bc, data, net_now_ms()) : broker_conn_output(bc, data);
}

static void conn_output_done(loop *L, int fd, broker_conn *bc, size_t n)
{
    broker_ws *w = ws_of(L, fd);
    if (w) broker_ws_output_done(w, n);
    else broker_conn_output_done(bc, n, net_now_ms());
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

/* Makes the journal durable before any output leaves (see above). False
 * while it cannot be: then nothing is written to any client (output, acks
 * included, waits in the core) until a retry succeeds (retry_held). */
static bool sync_journal(loop *L)
{
    const uint8_t *d;
    if (!L->hooks || !L->hooks->sync || (!L->held && !broker_core_journal(L->core, &d))) return true;
    L->held = !L->hooks->sync(L->hooks->ctx, L->core);
    return !L->held;
}

static void add_pending(loop *L, int fd)
{
    tls_state *ts = tls_of(L, fd);
    if (!ts || ts->pending) return;
    if (L->npending == L->pending_cap) {
        L->pending_cap = L->pending_cap ? L->pending_cap * 2 : 16;
        L->pending = broker_xrealloc(L->pending, L->pending_cap * sizeof *L->pending);
    }
    L->pending[L->npending++] = fd;
    ts->pending = true;
}

/* Registers what fd waits for; false (logged) if epoll refused it. */
static bool set_interest(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    tls_state *ts = tls_of(L, fd);
    const uint8_t *data;
    uint32_t want = 0;
    if (ts && ts->handshaking) {
        want = ts->want == NET_TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
    } else {
        if (broker_conn_wants_read(s->bc)) want |= EPOLLIN;
        if (conn_output(L, fd, s->bc, &data) && !L->held) want |= EPOLLOUT;
        if (ts && ts->want == NET_TLS_WANT_WRITE) want |= EPOLLOUT;
        if (ts && ts->want == NET_TLS_WANT_READ) want |= EPOLLIN;
        if (ts && broker_conn_wants_read(s->bc) && net_tls_pending(ts->t)) add_pending(L, fd);
    }
    if (want == s->events) return true;
    struct epoll_event ev = {.events = want, .data.fd = fd};
    if (epoll_ctl(L->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        loop_log(L, BROKER_LOG_ERROR, "epoll_ctl on a connection: %s; closing it", strerror(errno));
        return false;
    }
    s->events = want;
    return true;
}

/* A WebSocket connection ends: its close frame (the broker's close: 1000),
 * or what the adapter queued (a refusal, a close 1003/1009), written best
 * effort without waiting, then the adapter is freed. */
static void ws_goodbye(loop *L, int fd, broker_conn *bc)
{
    broker_ws *w = L->ws[fd];
    tls_state *ts = tls_of(L, fd);
    if (broker_conn_should_close(bc)) broker_ws_close(w, 1000);
    const uint8_t *data;
    size_t len;
    for (int k = 0; k < 4 && (len = broker_ws_output(w, bc, &data, net_now_ms())) > 0; k++) {
        ssize_t n = ts ? (ts->handshaking ? -1 : net_tls_write(ts->t, data, len, NULL, 0))
                       : send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) break;
        broker_ws_output_done(w, (size_t)n);
    }
    broker_ws_shutdown(fd, ts != NULL);
    broker_ws_free(w);
    L->ws[fd] = NULL;
}

static void close_conn(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    broker_conn *bc = s->bc;
    tls_state *ts = tls_of(L, fd);
    if (ws_of(L, fd)) ws_goodbye(L, fd, bc);
    if (ts) {
        if (broker_conn_should_close(bc) && !ts->handshaking) net_tls_close(ts->t);
        else net_tls_free(ts->t);
        memset(ts, 0, sizeof *ts); /* a pending-list entry for fd is now ignored */
    }
    epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    if (s->listener < L->nls && L->ls[s->listener].nconns) L->ls[s->listener].nconns--;
    memset(s, 0, sizeof *s);
    L->nconns--;
    broker_conn_close(bc, net_now_ms());
}

static void close_linger(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    if (s->listener < L->nls && L->ls[s->listener].nconns) L->ls[s->listener].nconns--;
    memset(s, 0, sizeof *s);
    L->nconns--;
    L->nlinger--;
}

/* The core is done with fd and its output is written: FIN, then read and
 * drop what the client still sends until it closes or LINGER_MS pass. */
static void finish_conn(loop *L, int fd)
{
    slot *s = &L->slots[fd];
    /* TLS closes with close_notify (close_conn). A WebSocket without TLS
     * sends its close frame and FIN (ws_goodbye), then lingers like TCP: the
     * client's close frame, even a late one (within LINGER_MS), is read, not
     * answered with a reset (RFC 6455 7.1.1: the server closes the TCP
     * connection once the closing handshake is done). */
    if (ws_of(L, fd) && !tls_of(L, fd)) {
        ws_goodbye(L, fd, s->bc);
    } else if (tls_of(L, fd) || ws_of(L, fd) || shutdown(fd, SHUT_WR) != 0) {
        close_conn(L, fd);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(L->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        close_conn(L, fd);
        return;
    }
    broker_conn_close(s->bc, net_now_ms());
    s->bc = NULL;
    s->kind = SLOT_LINGER;
    s->events = EPOLLIN;
    s->linger_until = net_now_ms() + LINGER_MS;
    L->nlinger++;
}

static void linger_event(loop *L, int fd)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = recv(fd, L->rbuf, READ_BUF, 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        close_linger(L, fd); /* the client closed too (or is gone) */
        return;
    }
}

static void sweep_linger(loop *L, int64_t now)
{
    for (size_t fd = 0; fd < L->nslots && L->nlinger; fd++)
        if (L->slots[fd].kind == SLOT_LINGER && now >= L->slots[fd].linger_until) close_linger(L, (int)fd);
}

/* After flushing: closes, or keeps fd with the right interest. */
static void after_flush(loop *L, int fd, bool ok)
{
    broker_conn *bc = L->slots[fd].bc;
    const uint8_t *data;
    bool pending = conn_output(L, fd, bc, &data) > 0;
    if (!ok) close_conn(L, fd);
    else if (broker_conn_should_close(bc) && !pending) finish_conn(L, fd);
    else if (!set_interest(L, fd)) close_conn(L, fd);
}

/* Writes pending output. Returns false on a write error (peer gone). */
static bool flush(loop *L, int fd, broker_conn *bc)
{
    tls_state *ts = tls_of(L, fd);
    if (ts && ts->handshaking) return true;
    if (!sync_journal(L)) return true; /* held: nothing leaves before it is stored */
    for (;;) {
        const uint8_t *data;
        size_t len = conn_output(L, fd, bc, &data);
        if (len == 0) return true;
        ssize_t n;
        if (ts) {
            n = net_tls_write(ts->t, data, len, NULL, 0);
            if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) {
                ts->want = (int)n;
                return true;
            }
            if (n > 0) ts->want = 0;
        } else {
            n = send(fd, data, len, MSG_NOSIGNAL);
        }
        if (n > 0) {
            conn_output_done(L, fd, bc, (size_t)n);
            if ((size_t)n < len && !ts) return true; /* socket buffer full */
            continue;                                 /* output_done may have queued more */
        }
        if (ts) return false;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void drain_dirty(loop *L)
{
    sync_journal(L);
    broker_conn *bc;
    while ((bc = broker_core_next_dirty(L->core))) {
        int fd = conn_fd(bc);
        after_flush(L, fd, flush(L, fd, bc));
    }
}

/* While output is held, retries the journal; once it is stored, sends what
 * every connection has waiting. */
static void retry_held(loop *L)
{
    if (!sync_journal(L)) return;
    for (size_t fd = 0; fd < L->nslots; fd++) {
        slot *s = &L->slots[fd];
        const uint8_t *data;
        if (s->kind != SLOT_CONN || !conn_output(L, (int)fd, s->bc, &data)) continue;
        after_flush(L, (int)fd, flush(L, (int)fd, s->bc));
    }
}

static void pause_listeners(loop *L, bool pause)
{
    for (size_t i = 0; i < L->nls; i++) {
        struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.fd = L->ls[i].l.fd};
        if (epoll_ctl(L->epfd, EPOLL_CTL_MOD, L->ls[i].l.fd, &ev) != 0)
            loop_log(L, BROKER_LOG_ERROR, "epoll_ctl on listener %zu: %s", i, strerror(errno));
    }
    L->listeners_paused = pause;
}

static void accept_some(loop *L, int lfd)
{
    listener *li = &L->ls[L->slots[lfd].listener];
    for (int k = 0; k < ACCEPTS_PER_EVENT; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Level-triggered: stop polling the listeners for a while
                 * rather than spin on a connection we cannot take. */
                loop_log(L, BROKER_LOG_ERROR, "accept: %s; not accepting for %d ms", strerror(errno), EMFILE_PAUSE_MS);
                pause_listeners(L, true);
                L->resume_accept_at = net_now_ms() + EMFILE_PAUSE_MS;
            }
            return;
        }
        char peer[80];
        peer_name(fd, peer, sizeof peer);
        if (li->l.max_connections && li->nconns >= li->l.max_connections) {
            loop_log(L, BROKER_LOG_NOTICE, "connection from %s refused: max_connections (%u) reached", peer,
                     (unsigned)li->l.max_connections);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            loop_log(L, BROKER_LOG_ERROR, "connection from %s refused: epoll_ctl: %s", peer, strerror(errno));
            close(fd);
            continue;
        }
        slot *s = slot_for(L, fd);
        if (li->l.tls) {
            char err[300];
            net_tls *t = net_tls_new(li->l.tls, fd, NULL, err, sizeof err);
            if (!t) {
                loop_log(L, BROKER_LOG_ERROR, "connection from %s: %s", peer, err);
                epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                continue;
            }
            L->tls[fd] = (tls_state){.t = t, .handshaking = true, .want = NET_TLS_WANT_READ};
        }
        if (li->l.websockets) L->ws[fd] = broker_ws_new(li->l.ws_max_frame);
        s->kind = SLOT_CONN;
        s->events = EPOLLIN;
        s->listener = L->slots[lfd].listener;
        s->bc = broker_conn_open(L->core, peer, (void *)(intptr_t)fd, net_now_ms());
        broker_conn_set_policy(s->bc, li->l.policy);
        li->nconns++;
        L->nconns++;
    }
}

/* One handshake step; false if the connection was closed. */
static bool tls_handshake(loop *L, int fd, tls_state *ts)
{
    char err[300];
    int rc = net_tls_handshake(ts->t, err, sizeof err);
    if (rc == NET_TLS_WANT_READ || rc == NET_TLS_WANT_WRITE) {
        ts->want = rc;
        if (!set_interest(L, fd)) close_conn(L, fd);
        return false;
    }
    broker_conn *bc = L->slots[fd].bc;
    if (rc != 0) {
        char peer[80];
        peer_name(fd, peer, sizeof peer);
        loop_log(L, BROKER_LOG_NOTICE, "TLS connection from %s refused: %s", peer, err);
        close_conn(L, fd);
        return false;
    }
    ts->handshaking = false;
    ts->want = 0;
    char cn[512];
    if (L->ls[L->slots[fd].listener].l.identity && net_tls_peer_cn(ts->t, cn, sizeof cn) == 0)
        broker_conn_set_identity(bc, cn);
    return true;
}

/* Gives n bytes of L->rbuf to the core (through the WebSocket adapter on
 * WebSocket connections); false if the connection was closed. */
static bool feed_conn(loop *L, int fd, broker_conn *bc, size_t n)
{
    broker_ws *w = ws_of(L, fd);
    if (!w) {
        broker_conn_feed(bc, L->rbuf, n, net_now_ms());
        return true;
    }
    char err[300];
    int rc = broker_ws_input(w, bc, L->rbuf, n, net_now_ms(), err, sizeof err);
    if (rc == 0) return true;
    char peer[80];
    peer_name(fd, peer, sizeof peer);
    loop_log(L, rc > 0 ? BROKER_LOG_INFO : BROKER_LOG_NOTICE, "WebSocket connection from %s closed: %s", peer, err);
    /* the client's close frame came: nothing more to wait for; our own close
     * (a refused frame): wait for the client's answer to it */
    if (rc > 0) close_conn(L, fd);
    else finish_conn(L, fd);
    return false;
}

/* Reads from a connection; false if it was closed. */
static bool read_conn(loop *L, int fd)
{
    broker_conn *bc = L->slots[fd].bc;
    tls_state *ts = tls_of(L, fd);
    for (int k = 0; k < READS_PER_EVENT && broker_conn_wants_read(bc); k++) {
        ssize_t n;
        if (ts) {
            n = net_tls_read(ts->t, L->rbuf, READ_BUF, NULL, 0);
            if (n == NET_TLS_WANT_READ || n == NET_TLS_WANT_WRITE) {
                ts->want = n == NET_TLS_WANT_WRITE ? NET_TLS_WANT_WRITE : 0;
                break;
            }
        } else {
            n = recv(fd, L->rbuf, READ_BUF, 0);
        }
        if (n > 0) {
            if (!feed_conn(L, fd, bc, (size_t)n)) return false;
            if ((size_t)n < READ_BUF && !(ts && net_tls_pending(ts->t))) break;
            continue;
        }
        if (n < 0 && !ts && errno == EINTR) continue;
        if (n < 0 && !ts && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_conn(L, fd); /* 0: peer closed; < 0: reset or error */
        return false;
    }
    if (ts && broker_conn_wants_read(bc) && net_tls_pending(ts->t)) add_pending(L, fd);
    return true;
}

static void conn_event(loop *L, int fd, uint32_t events)
{
    broker_conn *bc = L->slots[fd].bc;
    tls_state *ts = tls_of(L, fd);
    if (ts && ts->handshaking) {
        if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
            close_conn(L, fd);
            return;
        }
        if (!tls_handshake(L, fd, ts)) return;
        events |= EPOLLIN; /* OpenSSL may already hold the CONNECT */
    }
    if ((events & EPOLLOUT) && !flush(L, fd, bc)) {
        close_conn(L, fd);
        return;
    }
    if (ts && ts->want == NET_TLS_WANT_READ && (events & EPOLLIN) && !flush(L, fd, bc)) {
        close_conn(L, fd); /* a write that waited for the peer's bytes */
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        if (!set_interest(L, fd)) close_conn(L, fd);
        return;
    }
    if (!read_conn(L, fd)) return;
    if ((events & (EPOLLHUP | EPOLLERR)) && !broker_conn_wants_read(bc) && !broker_conn_should_close(bc)) {
        close_conn(L, fd); /* throttled and the peer is gone */
        return;
    }
    /* Output, interest and closing are handled when the dirty set drains;
     * a read that changed nothing for others still needs EPOLLOUT set. */
    if (!set_interest(L, fd)) close_conn(L, fd);
}

/* Connections whose TLS layer holds bytes no event will announce. */
static void serve_pending(loop *L)
{
    size_t n = L->npending;
    int *fds = L->pending;
    L->pending = NULL;
    L->npending = L->pending_cap = 0;
    for (size_t i = 0; i < n; i++) {
        int fd = fds[i];
        tls_state *ts = tls_of(L, fd);
        if (!ts || !ts->pending) continue; /* closed since */
        ts->pending = false;
        if (L->slots[fd].kind != SLOT_CONN || ts->handshaking) continue;
        if (!broker_conn_wants_read(L->slots[fd].bc)) continue; /* re-added when it wants to read */
        if (read_conn(L, fd) && !set_interest(L, fd)) close_conn(L, fd);
    }
    free(fds);
}

static void start_stop(loop *L, const char *why)
{
    if (L->stopping) return;
    loop_log(L, BROKER_LOG_NOTICE, "%s: shutting down", why);
    L->stopping = true;
    L->stop_deadline = net_now_ms() + SHUTDOWN_GRACE_MS;
    for (size_t i = 0; i < L->nls; i++) {
        int fd = L->ls[i].l.fd;
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        L->slots[fd].kind = SLOT_FREE;
    }
    L->nls = 0;
    broker_core_shutdown(L->core, net_now_ms());
}

static void close_all(loop *L)
{
    for (size_t fd = 0; fd < L->nslots; fd++) {
        if (L->slots[fd].kind == SLOT_CONN) close_conn(L, (int)fd);
        else if (L->slots[fd].kind == SLOT_LINGER) close_linger(L, (int)fd);
        else if (L->slots[fd].kind == SLOT_LISTENER) close((int)fd);
    }
}

int broker_event_loop(broker_core *core, const broker_loop_listener *ls, size_t n, const broker_loop_hooks *hooks,
                      char *err, size_t errlen)
{
    loop L = {.core = core, .hooks = hooks};
    if (n > MAX_LISTENERS) {
        snprintf(err, errlen, "at most %d listeners", MAX_LISTENERS);
        for (size_t i = 0; i < n; i++) close(ls[i].fd);
        return -1;
    }
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    int sfd = L.epfd < 0 ? -1 : signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = sfd};
    if (L.epfd < 0 || sfd < 0 || epoll_ctl(L.epfd, EPOLL_CTL_ADD, sfd, &sev) != 0) {
        snprintf(err, errlen, "epoll/signalfd: %s", strerror(errno));
        if (sfd >= 0) close(sfd);
        if (L.epfd >= 0) close(L.epfd);
        for (size_t i = 0; i < n; i++) close(ls[i].fd);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ls[i].tls) L.any_tls = true;
        if (ls[i].websockets) L.any_ws = true;
    }
    slot_for(&L, sfd)->kind = SLOT_SIGNAL;
    for (size_t i = 0; i < n; i++) {
        L.ls[i].l = ls[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls[i].fd};
        if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, ls[i].fd, &ev) != 0) {
            snprintf(err, errlen, "epoll_ctl on listener %zu: %s", i, strerror(errno));
            for (size_t k = 0; k < n; k++) close(ls[k].fd);
            free(L.slots);
            close(sfd);
            close(L.epfd);
            return -1;
        }
        slot *s = slot_for(&L, ls[i].fd);
        s->kind = SLOT_LISTENER;
        s->listener = (uint8_t)i;
    }
    L.nls = n;
    L.rbuf = broker_xmalloc(READ_BUF);
    struct epoll_event events[256];

    for (;;) {
        int64_t now = net_now_ms();
        if (L.stopping && (L.nconns == 0 || now >= L.stop_deadline)) break;
        int64_t wait = broker_core_next_deadline(core) - now;
        if (hooks && hooks->tick) {
            int64_t t = hooks->tick(hooks->ctx, core, now) - now;
            if (t < wait) wait = t;
        }
        if (L.listeners_paused && L.resume_accept_at - now < wait) wait = L.resume_accept_at - now;
        if (L.stopping && L.stop_deadline - now < wait) wait = L.stop_deadline - now;
        if (L.npending) wait = 0;
        if ((L.held || L.nlinger) && wait > 100) wait = 100; /* retry the journal, end lingering */
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
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                    if (si.ssi_signo == SIGHUP) {
                        loop_log(&L, BROKER_LOG_NOTICE, "SIGHUP: reloading");
                        if (hooks && hooks->reload) hooks->reload(hooks->ctx, core);
                    } else {
                        start_stop(&L, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                    }
                }
                break;
            }
            case SLOT_LISTENER:
                if (!L.stopping) accept_some(&L, fd);
                break;
            case SLOT_CONN: conn_event(&L, fd, events[i].events); break;
            case SLOT_LINGER: linger_event(&L, fd); break;
            default: break; /* closed earlier in this batch */
            }
        }
        if (L.npending) serve_pending(&L);
        now = net_now_ms();
        if (L.listeners_paused && now >= L.resume_accept_at) pause_listeners(&L, false);
        if (now >= broker_core_next_deadline(core)) broker_core_tick(core, now);
        if (L.held) retry_held(&L);
        drain_dirty(&L);
        if (L.nlinger) sweep_linger(&L, net_now_ms());
    }

    close_all(&L);
    sync_journal(&L);
    free(L.slots);
    free(L.tls);
    free(L.ws);
    free(L.pending);
    free(L.rbuf);
    close(sfd);
    close(L.epfd);
    return 0;
}
