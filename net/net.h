/*
 * net: the one TCP transport of the runner, the command-line tools and the
 * benchmarks (the broker has its own event loop but listens through here).
 *
 * Sockets are non-blocking; the "timeout_ms" calls wait with poll(2), so no
 * call here can hang past its deadline. Errors are reported as text for
 * people in a caller buffer: "connect 127.0.0.1:1883: Connection refused".
 * A timeout_ms below 0 waits without limit.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Returned by net_send_all and net_recv_some when the deadline passes. */
#define NET_TIMEOUT (-2)

/* Connects to host:port (name or address, IPv4 or IPv6) within timeout_ms.
 * Returns a non-blocking socket with TCP_NODELAY, or -1 with err filled. */
int net_connect(const char *host, uint16_t port, int timeout_ms, char *err, size_t errlen);

struct sockaddr;

/* Starts a TCP connect to addr (len bytes, resolved) without waiting. Returns
 * a non-blocking, close-on-exec socket with TCP_NODELAY, or -1 with errno set
 * when no socket could be made. *status: 0 connected; EINPROGRESS: under way
 * (poll the socket for POLLOUT, then net_connect_result); any other errno:
 * failed at once (ECONNREFUSED ...), the socket is still returned (its local
 * address names the attempt) and the caller closes it. */
int net_connect_start(const struct sockaddr *addr, unsigned len, int *status);

/* The outcome of a connect that was under way, once its socket is writable
 * (or reported an error): 0 connected, else the errno why not (SO_ERROR). */
int net_connect_result(int fd);

/* Listens on host:port (host NULL or "" = all addresses; port 0 = any free port).
 * Returns a non-blocking listening socket, or -1 with err filled. */
int net_listen(const char *host, uint16_t port, int backlog, char *err, size_t errlen);

/* The local port a socket is bound to, 0 on error. */
uint16_t net_local_port(int fd);

/* Makes fd non-blocking and close-on-exec. Returns 0, or -1 with errno set. */
int net_set_nonblocking(int fd);

/* Sends all of buf, waiting for the socket to be writable as needed.
 * Returns len, -1 on error (errno set; EPIPE when the peer closed), or NET_TIMEOUT. */
ssize_t net_send_all(int fd, const void *buf, size_t len, int timeout_ms);

/* Receives what is available (at most cap bytes), waiting up to timeout_ms for
 * the first byte. Returns the count, 0 when the peer closed, -1 on error
 * (errno set), or NET_TIMEOUT. */
ssize_t net_recv_some(int fd, void *buf, size_t cap, int timeout_ms);

/* Milliseconds on a monotonic clock, for deadlines. */
int64_t net_now_ms(void);

/* Parses "HOST:PORT", "[V6ADDR]:PORT" or "HOST" (then *port is left as is).
 * Copies the host into host[hostcap]. Returns 0, or -1 if malformed. */
int net_parse_hostport(const char *text, char *host, size_t hostcap, uint16_t *port);

#endif
