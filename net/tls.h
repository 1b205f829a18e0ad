/*
 * tls: TLS over the sockets of net.h, with OpenSSL (libssl, libcrypto).
 * One API for both sides: the broker's listeners (non-blocking, driven by
 * epoll) and the clients (runner, mqtt-pub, mqtt-sub, bench), which use the
 * blocking-with-deadline calls at the end, mirrors of net_send_all and
 * net_recv_some.
 *
 * Typical client (what the runner and the tools adopt for --cafile, --cert,
 * --key, --insecure):
 *
 *     net_tls_opts o = {.cafile = cafile, .certfile = cert, .keyfile = key,
 *                       .insecure = insecure};
 *     net_tls_ctx *ctx = net_tls_ctx_new(NET_TLS_CLIENT, &o, err, sizeof err);
 *     int fd = net_connect(host, port, timeout_ms, err, sizeof err);
 *     net_tls *t = net_tls_new(ctx, fd, host, err, sizeof err);
 *     if (net_tls_connect(t, timeout_ms, err, sizeof err) != 0) ... fail
 *     net_tls_send_all(t, bytes, n, timeout_ms);
 *     net_tls_recv_some(t, buf, sizeof buf, timeout_ms);
 *     net_tls_close(t);                  // close_notify, frees t (not the fd)
 *     close(fd); net_tls_ctx_free(ctx);  // the context serves many connections
 *
 * Errors are text for people in a caller buffer ("TLS handshake with
 * 127.0.0.1: certificate verify failed (self-signed certificate)"),
 * including OpenSSL's reason. Nothing here prints or exits. A context is
 * reference counted by OpenSSL: freeing it while connections made from it
 * live is safe. Single-threaded use per connection.
 */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Returned by the non-blocking calls: retry when the socket is readable /
 * writable. Distinct from NET_TIMEOUT (-2) of net.h. */
#define NET_TLS_WANT_READ (-3)
#define NET_TLS_WANT_WRITE (-4)

typedef struct net_tls_ctx net_tls_ctx;
typedef struct net_tls net_tls;

typedef enum { NET_TLS_CLIENT = 0, NET_TLS_SERVER = 1 } net_tls_side;

typedef struct {
    /* PEM file of the CA certificates that verify the peer. Client: NULL
     * = the system's default store. Server: needed to verify client
     * certificates (require_certificate). */
    const char *cafile;
    /* Directory of hashed CA certificates (c_rehash), or NULL. */
    const char *capath;
    /* Own certificate chain and private key (PEM). Server: both required.
     * Client: both or neither (a client certificate). */
    const char *certfile;
    const char *keyfile;
    /* Minimum protocol version: "tlsv1.3", "tlsv1.2" or "tlsv1.1"; NULL =
     * TLS 1.2 (mosquitto 2's default). */
    const char *tls_version;
    /* Client: do not check that the server's certificate names the host
     * (mosquitto_pub --insecure). The chain is still verified against
     * cafile; with no cafile at all nothing is verified. */
    bool insecure;
    /* Server: ask every client for a certificate and refuse the handshake
     * without a valid one (mosquitto require_certificate true). */
    bool require_certificate;
} net_tls_opts;

/*
 * A context for one side. Loads and checks the files now, so a bad path or
 * a key that does not match its certificate is reported here, naming the
 * file. Returns NULL with err filled on failure.
 */
net_tls_ctx *net_tls_ctx_new(net_tls_side side, const net_tls_opts *o, char *err, size_t errlen);
void net_tls_ctx_free(net_tls_ctx *ctx);

/*
 * A TLS connection over the connected (or accepted) socket fd, which stays
 * the caller's. host (client only, may be NULL) is sent as SNI and checked
 * against the server's certificate unless opts.insecure. Returns NULL with
 * err filled on failure (out of memory, bad fd).
 */
net_tls *net_tls_new(net_tls_ctx *ctx, int fd, const char *host, char *err, size_t errlen);

/* Frees t without a close_notify (the peer is gone, or the broker drops it). */
void net_tls_free(net_tls *t);

/* Sends close_notify (best effort, never waits) and frees t. */
void net_tls_close(net_tls *t);

/* ---- non-blocking (the broker's event loop) ---- */

/* One handshake step. Returns 0 when done, NET_TLS_WANT_READ/WRITE to be
 * called again when the socket is ready, or -1 with err filled. */
int net_tls_handshake(net_tls *t, char *err, size_t errlen);

/* Reads decrypted bytes. Returns the count (> 0), 0 when the peer closed,
 * NET_TLS_WANT_READ/WRITE, or -1 on an error (err filled if non-NULL). */
ssize_t net_tls_read(net_tls *t, void *buf, size_t cap, char *err, size_t errlen);

/* Writes up to len bytes (partial writes allowed; on WANT_* call again
 * later with the same bytes first). Returns the count, NET_TLS_WANT_*, or -1. */
ssize_t net_tls_write(net_tls *t, const void *buf, size_t len, char *err, size_t errlen);

/* Decrypted bytes already held by OpenSSL: readable without any socket
 * event. An event loop must read them before waiting again. */
size_t net_tls_pending(const net_tls *t);

/*
 * The Common Name of the peer's certificate, when it sent one and it was
 * verified. Returns 0 and copies it (NUL-terminated) into cn, or -1 when
 * there is none (or it does not fit in cap).
 */
int net_tls_peer_cn(const net_tls *t, char *cn, size_t cap);

/* The negotiated protocol, e.g. "TLSv1.3" (static string). */
const char *net_tls_version(const net_tls *t);

/* ---- blocking with deadlines (runner, tools) ---- */

/* Runs the whole handshake within timeout_ms (< 0: no limit). Returns 0,
 * NET_TIMEOUT (-2), or -1 with err filled. */
int net_tls_connect(net_tls *t, int timeout_ms, char *err, size_t errlen);

/* Sends all of buf. Returns len, -1 on error (errno EPIPE when the peer
 * closed), or NET_TIMEOUT. */
ssize_t net_tls_send_all(net_tls *t, const void *buf, size_t len, int timeout_ms);

/* Receives what is available (at most cap), waiting up to timeout_ms for
 * the first byte. Returns the count, 0 when the peer closed, -1 on error,
 * or NET_TIMEOUT. */
ssize_t net_tls_recv_some(net_tls *t, void *buf, size_t cap, int timeout_ms);

#endif
