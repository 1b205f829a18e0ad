/*
 * tls: OpenSSL behind net/tls.h (see there for the API).
 *
 * Invariants: every OpenSSL error queue is drained into the caller's err
 * text (or cleared) before returning, so one connection's failure never
 * shows up as another's; SSL_MODE_ENABLE_PARTIAL_WRITE and
 * ACCEPT_MOVING_WRITE_BUFFER let the broker hand a different pointer to the
 * same pending bytes on retry; SIGPIPE is the caller's business (the broker
 * ignores it, the tools too). The minimum version defaults to TLS 1.2 as
 * mosquitto 2.
 */
#include "net/tls.h"

#include "net/net.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_tls_ctx {
    SSL_CTX *ctx;
    net_tls_side side;
    bool insecure;
};

struct net_tls {
    SSL *ssl;
    int fd;
};

/* "what: reason" with OpenSSL's first queued error (then clears the queue). */
static void ssl_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "";
    if (e) ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    if (!err || !errlen) return;
    if (e) {
        const char *r = ERR_reason_error_string(e);
        snprintf(err, errlen, "%s: %s", what, r ? r : reason);
    } else {
        snprintf(err, errlen, "%s", what);
    }
}

static int min_version(const char *v, int *out)
{
    if (!v) *out = TLS1_2_VERSION;
    else if (strcmp(v, "tlsv1.3") == 0) *out = TLS1_3_VERSION;
    else if (strcmp(v, "tlsv1.2") == 0) *out = TLS1_2_VERSION;
    else if (strcmp(v, "tlsv1.1") == 0) *out = TLS1_1_VERSION;
    else return -1;
    return 0;
}

net_tls_ctx *net_tls_ctx_new(net_tls_side side, const net_tls_opts *o, char *err, size_t errlen)
{
    char what[4200];
    int minv;
    if (min_version(o->tls_version, &minv) != 0) {
        snprintf(err, errlen, "tls_version '%s': expected tlsv1.3, tlsv1.2 or tlsv1.1", o->tls_version);
        return NULL;
    }
    if (side == NET_TLS_SERVER && (!o->certfile || !o->keyfile)) {
        snprintf(err, errlen, "a TLS listener needs certfile and keyfile");
        return NULL;
    }
    if ((o->certfile == NULL) != (o->keyfile == NULL)) {
        snprintf(err, errlen, "a certificate needs its key and a key its certificate (certfile and keyfile)");
        return NULL;
    }
    if (side == NET_TLS_SERVER && o->require_certificate && !o->cafile && !o->capath) {
        snprintf(err, errlen, "require_certificate needs cafile or capath to verify client certificates");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(side == NET_TLS_SERVER ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        ssl_err(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, minv);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (o->cafile || o->capath) {
        if (SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath) != 1) {
            snprintf(what, sizeof what, "cannot load CA certificates from %s", o->cafile ? o->cafile : o->capath);
            ssl_err(err, errlen, what);
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (side == NET_TLS_CLIENT) {
        SSL_CTX_set_default_verify_paths(ctx);
    }
    if (o->certfile) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1) {
            snprintf(what, sizeof what, "cannot load the certificate %s", o->certfile);
            ssl_err(err, errlen, what);
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, o->keyfile, SSL_FILETYPE_PEM) != 1) {
            snprintf(what, sizeof what, "cannot load the private key %s", o->keyfile);
            ssl_err(err, errlen, what);
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(what, sizeof what, "the key %s does not match the certificate %s", o->keyfile, o->certfile);
            ssl_err(err, errlen, what);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (side == NET_TLS_SERVER) {
        if (o->require_certificate)
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        else
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        bool verify = !(o->insecure && !o->cafile && !o->capath);
        SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    }
    net_tls_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->ctx = ctx;
    c->side = side;
    c->insecure = o->insecure;
    return c;
}

void net_tls_ctx_free(net_tls_ctx *ctx)
{
    if (!ctx) return;
    SSL_CTX_free(ctx->ctx);
    free(ctx);
}

net_tls *net_tls_new(net_tls_ctx *ctx, int fd, const char *host, char *err, size_t errlen)
{
    ERR_clear_error();
    net_tls *t = calloc(1, sizeof *t);
    SSL *ssl = t ? SSL_new(ctx->ctx) : NULL;
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        ssl_err(err, errlen, "cannot create a TLS connection");
        if (ssl) SSL_free(ssl);
        free(t);
        return NULL;
    }
    if (ctx->side == NET_TLS_CLIENT) {
        SSL_set_connect_state(ssl);
        if (host && *host) {
            SSL_set_tlsext_host_name(ssl, host);
            if (!ctx->insecure) {
                /* Check the name (or IP address) the certificate is for. */
                X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
                X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                if (X509_VERIFY_PARAM_set1_ip_asc(p, host) != 1) X509_VERIFY_PARAM_set1_host(p, host, 0);
                ERR_clear_error();
            }
        }
    } else {
        SSL_set_accept_state(ssl);
    }
    t->ssl = ssl;
    t->fd = fd;
    return t;
}

void net_tls_free(net_tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    free(t);
    ERR_clear_error();
}

void net_tls_close(net_tls *t)
{
    if (!t) return;
    SSL_shutdown(t->ssl); /* one close_notify; the socket is non-blocking */
    net_tls_free(t);
}

/* Maps an SSL_* result; fills err for real errors. */
static int result(net_tls *t, int rc, const char *what, char *err, size_t errlen)
{
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ: return NET_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return NET_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            int saved = errno;
            ERR_clear_error();
            if (err && errlen)
                snprintf(err, errlen, "%s: %s", what, saved ? strerror(saved) : "connection closed by the peer");
            if (!saved) return 0; /* EOF without close_notify: a close */
            errno = saved;
            return -1;
        }
        /* fallthrough */
    default: {
        long v = SSL_get_verify_result(t->ssl);
        if (v != X509_V_OK && err && errlen) {
            char w[256];
            snprintf(w, sizeof w, "%s: certificate verify failed (%s)", what, X509_verify_cert_error_string(v));
            ERR_clear_error();
            snprintf(err, errlen, "%s", w);
        } else {
            ssl_err(err, errlen, what);
        }
        return -1;
    }
    }
}

int net_tls_handshake(net_tls *t, char *err, size_t errlen)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) return 0;
    int r = result(t, rc, "TLS handshake", err, errlen);
    if (r == 0) {
        if (err && errlen) snprintf(err, errlen, "TLS handshake: connection closed by the peer");
        return -1;
    }
    return r;
}

ssize_t net_tls_read(net_tls *t, void *buf, size_t cap, char *err, size_t errlen)
{
    if (cap == 0) return NET_TLS_WANT_READ;
    ERR_clear_error();
    size_t n = 0;
    int rc = SSL_read_ex(t->ssl, buf, cap, &n);
    if (rc == 1) return (ssize_t)n;
    return result(t, rc, "TLS read", err, errlen);
}

ssize_t net_tls_write(net_tls *t, const void *buf, size_t len, char *err, size_t errlen)
{
    if (len == 0) return 0;
    ERR_clear_error();
    size_t n = 0;
    int rc = SSL_write_ex(t->ssl, buf, len, &n);
    if (rc == 1) return (ssize_t)n;
    int r = result(t, rc, "TLS write", err, errlen);
    if (r == 0) {
        errno = EPIPE;
        return -1;
    }
    return r;
}

size_t net_tls_pending(const net_tls *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}

int net_tls_peer_cn(const net_tls *t, char *cn, size_t cap)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (!cert) return -1;
    int rc = -1;
    if (SSL_get_verify_result(t->ssl) == X509_V_OK) {
        X509_NAME *name = X509_get_subject_name(cert);
        int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        if (i >= 0) {
            ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
            const unsigned char *d = ASN1_STRING_get0_data(s);
            int len = ASN1_STRING_length(s);
            /* A CN with a NUL inside could pass as another name: refused. */
            if (len > 0 && (size_t)len < cap && !memchr(d, 0, (size_t)len)) {
                memcpy(cn, d, (size_t)len);
                cn[len] = '\0';
                rc = 0;
            }
        }
    }
    X509_free(cert);
    return rc;
}

const char *net_tls_version(const net_tls *t)
{
    return SSL_get_version(t->ssl);
}

/* Waits for the socket as OpenSSL asked, until deadline (< 0: none). */
static int wait_io(int fd, int want, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = want == NET_TLS_WANT_WRITE ? POLLOUT : POLLIN};
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - net_now_ms();
            if (left <= 0) return NET_TIMEOUT;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        int rc = poll(&p, 1, timeout);
        if (rc > 0) return 0;
        if (rc == 0) return NET_TIMEOUT;
        if (errno != EINTR) return -1;
    }
}

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
}

int net_tls_connect(net_tls *t, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        int rc = net_tls_handshake(t, err, errlen);
        if (rc == 0 || rc == -1) return rc;
        int w = wait_io(t->fd, rc, deadline);
        if (w == NET_TIMEOUT) {
            snprintf(err, errlen, "TLS handshake: no answer within %d ms", timeout_ms);
            return NET_TIMEOUT;
        }
        if (w < 0) {
            snprintf(err, errlen, "TLS handshake: %s", strerror(errno));
            return -1;
        }
    }
}

ssize_t net_tls_send_all(net_tls *t, const void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);
    size_t off = 0;
    while (off < len) {
        ssize_t n = net_tls_write(t, (const uint8_t *)buf + off, len - off, NULL, 0);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n != NET_TLS_WANT_READ && n != NET_TLS_WANT_WRITE) return -1;
        int w = wait_io(t->fd, (int)n, deadline);
        if (w != 0) return w;
    }
    return (ssize_t)len;
}

ssize_t net_tls_recv_some(net_tls *t, void *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        ssize_t n = net_tls_read(t, buf, cap, NULL, 0);
        if (n >= 0) return n;
        if (n != NET_TLS_WANT_READ && n != NET_TLS_WANT_WRITE) return -1;
        int w = wait_io(t->fd, (int)n, deadline);
        if (w != 0) return w;
    }
}
