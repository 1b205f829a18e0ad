/*
 * net: TCP connect/listen/send/recv with deadlines (see net.h).
 * Invariant: every wait goes through poll(2) with the remaining time, so no
 * function blocks past its deadline; SIGPIPE is never raised (MSG_NOSIGNAL).
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Time left until deadline (ms), or -1 (no limit) when deadline < 0. */
static int remaining(int64_t deadline)
{
    if (deadline < 0) return -1;
    int64_t left = deadline - net_now_ms();
    return left < 0 ? 0 : (int)left;
}

static int64_t deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
}

/* Waits for `events` on fd. Returns 1 ready, 0 timeout, -1 error. */
static int wait_for(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, remaining(deadline));
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

int net_set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* getaddrinfo for host:port; fills err on failure. */
static struct addrinfo *resolve(const char *host, uint16_t port, int passive, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (passive) hints.ai_flags = AI_PASSIVE;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host && *host ? host : NULL, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "resolve %s: %s", host && *host ? host : "*", gai_strerror(rc));
        return NULL;
    }
    return res;
}

int net_connect_start(const struct sockaddr *addr, unsigned len, int *status)
{
    int fd = socket(addr->sa_family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (net_set_nonblocking(fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *status = connect(fd, addr, (socklen_t)len) == 0 ? 0 : errno;
    return fd;
}

int net_connect_result(int fd)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) return errno;
    return soerr;
}

int net_connect(const char *host, uint16_t port, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(host, port, 0, err, errlen);
    if (!res) return -1;
    int64_t deadline = deadline_after(timeout_ms);
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int st = 0;
        fd = net_connect_start(ai->ai_addr, (unsigned)ai->ai_addrlen, &st);
        if (fd < 0) { last_errno = errno; continue; }
        if (st == EINPROGRESS) {
            int ready = wait_for(fd, POLLOUT, deadline);
            st = ready == 1 ? net_connect_result(fd) : ready == 0 ? ETIMEDOUT : errno;
        }
        if (st == 0) break;
        last_errno = st;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "connect %s:%u: %s", host, (unsigned)port, strerror(last_errno));
        return -1;
    }
    return fd;
}

int net_listen(const char *host, uint16_t port, int backlog, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(host, port, 1, err, errlen);
    if (!res) return -1;
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) { last_errno = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (net_set_nonblocking(fd) == 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, backlog) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "listen %s:%u: %s", host && *host ? host : "*", (unsigned)port,
                 strerror(last_errno));
    return fd;
}

uint16_t net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

ssize_t net_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = deadline_after(timeout_ms);
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL);
        if (n > 0) { done += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        int ready = wait_for(fd, POLLOUT, deadline);
        if (ready == 0) return NET_TIMEOUT;
        if (ready < 0) return -1;
    }
    return (ssize_t)len;
}

ssize_t net_recv_some(int fd, void *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        int ready = wait_for(fd, POLLIN, deadline);
        if (ready == 0) return NET_TIMEOUT;
        if (ready < 0) return -1;
    }
}

int net_parse_hostport(const char *text, char *host, size_t hostcap, uint16_t *port)
{
    const char *colon;
    const char *h = text;
    size_t hlen;
    if (*text == '[') {
        const char *close = strchr(text, ']');
        if (!close) return -1;
        h = text + 1;
        hlen = (size_t)(close - h);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close[1] != '\0') return -1;
    } else {
        colon = strrchr(text, ':');
        if (colon && strchr(text, ':') != colon) colon = NULL; /* bare IPv6 address */
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hlen == 0 || hlen >= hostcap) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || v < 1 || v > 65535) return -1;
        *port = (uint16_t)v;
    }
    return 0;
}
