/*
 * The engine over TLS (conf_engine_cfg.tls) against a fake TLS broker (a
 * thread on 127.0.0.1, free port, net/tls.h's server side) that answers
 * CONNECT with CONNACK, or accepts TCP and never starts the handshake. The
 * CA and certificates are made once per test with the openssl CLI in a
 * fresh directory. Checks: runs pass over TLS, a handshake the client
 * refuses (a CA that did not sign the broker's certificate, a certificate
 * for another host) fails the run with the reason, a silent server fails
 * it at the step's deadline, the capture holds the plaintext MQTT bytes,
 * and the liveness probe speaks TLS.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance/src/conform.h"
#include "conformance/src/engine.h"
#include "conformance/tests/pcap_read.h"
#include "net/net.h"
#include "net/tls.h"

static char dir[64];

static void make_certs(void)
{
    signal(SIGPIPE, SIG_IGN); /* OpenSSL writes with write(2) */
    snprintf(dir, sizeof dir, "/tmp/conform-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; } && "
             "key ca && openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=ca && "
             "key other && openssl req -x509 -new -key other.key -out other.crt -days 2 -subj /CN=other && "
             "key server && openssl req -new -key server.key -out server.csr -subj /CN=localhost && "
             "echo subjectAltName=IP:127.0.0.1,DNS:localhost > san && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
             "-extfile san && "
             "key wrong && openssl req -new -key wrong.key -out wrong.csr -subj /CN=wrong.example && "
             "echo subjectAltName=DNS:wrong.example > san2 && "
             "openssl x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out wrong.crt -days 2 "
             "-extfile san2",
             dir);
    char quiet[4200];
    snprintf(quiet, sizeof quiet, "(%s) > /dev/null 2>&1", cmd);
    cr_assert_eq(system(quiet), 0, "openssl could not make the certificates (is openssl installed?)");
}

static void remove_certs(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

TestSuite(conform_tls, .init = make_certs, .fini = remove_certs, .timeout = 30);

static char *path(const char *name)
{
    static char buf[4][128];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static net_tls_ctx *client_ctx(const char *cafile, bool insecure)
{
    char err[512];
    net_tls_opts o = {.cafile = path(cafile), .insecure = insecure};
    net_tls_ctx *c = net_tls_ctx_new(NET_TLS_CLIENT, &o, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

/* ---- the fake TLS broker: one connection at a time ---- */

typedef struct {
    bool silent; /* accept TCP, never handshake */
    int lfd;
    uint16_t port;
    volatile int stop;
    pthread_t th;
    net_tls_ctx *ctx;
} tls_fake;

static void serve(tls_fake *f, int fd)
{
    char err[256];
    if (f->silent) {
        while (!f->stop) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 20) > 0) {
                char b[512];
                if (read(fd, b, sizeof b) <= 0) return; /* the runner gave up */
            }
        }
        return;
    }
    net_tls *t = net_tls_new(f->ctx, fd, NULL, err, sizeof err);
    if (!t) return;
    if (net_tls_connect(t, 2000, err, sizeof err) == 0) {
        while (!f->stop) {
            uint8_t b[4096];
            ssize_t n = net_tls_recv_some(t, b, sizeof b, 50);
            if (n == NET_TIMEOUT) continue;
            if (n <= 0) break;
            if (b[0] == 0x10) {
                static const uint8_t ack[] = {0x20, 0x02, 0x00, 0x00};
                net_tls_send_all(t, ack, sizeof ack, 1000);
            }
            if (b[0] == 0xe0) break; /* DISCONNECT */
        }
    }
    net_tls_free(t);
}

static void *fake_main(void *arg)
{
    tls_fake *f = arg;
    while (!f->stop) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) continue;
        net_set_nonblocking(fd);
        serve(f, fd);
        close(fd);
    }
    return NULL;
}

/* name: the certificate the fake presents ("server": 127.0.0.1 and localhost; "wrong": wrong.example). */
static void fake_start(tls_fake *f, bool silent, const char *name)
{
    char err[512], crt[64], key[64];
    memset(f, 0, sizeof *f);
    f->silent = silent;
    snprintf(crt, sizeof crt, "%s.crt", name);
    snprintf(key, sizeof key, "%s.key", name);
    net_tls_opts o = {.certfile = path(crt), .keyfile = path(key)};
    f->ctx = net_tls_ctx_new(NET_TLS_SERVER, &o, err, sizeof err);
    cr_assert_not_null(f->ctx, "%s", err);
    f->lfd = net_listen("127.0.0.1", 0, 16, err, sizeof err);
    cr_assert_geq(f->lfd, 0, "%s", err);
    f->port = net_local_port(f->lfd);
    cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(tls_fake *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
    close(f->lfd);
    net_tls_ctx_free(f->ctx);
}

static conf_scenario *scenario(const char *text)
{
    conf_errors e = {0};
    conf_scenario *s = conf_parse_scenario("t.mqs", "tls/01-t", text, &e);
    cr_assert_not_null(s, "%s", e.count ? e.msgs[0] : "");
    return s;
}

#define CONNECT_ONLY "title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\na connect\na disconnect\n"

/* Runs s once against the fake with ctx; captures into pcapdir when given. */
static conf_run run_tls(conf_scenario *s, uint16_t port, const char *host, net_tls_ctx *ctx, const char *pcapdir,
                        int64_t *elapsed)
{
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = host, .port = port, .time_scale = 1.0, .jobs = 2, .tls = ctx, .no_probe = true,
                           .pcap_mode = pcapdir ? CONF_PCAP_ALL : CONF_PCAP_NONE, .pcap_dir = pcapdir};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    *elapsed = net_now_ms() - t0;
    return r;
}

static bool has_note(const conf_run *r, const char *needle)
{
    for (size_t i = 0; i < r->nev; i++)
        if (r->ev[i].kind == EV_NOTE && strstr(r->ev[i].text, needle)) return true;
    return false;
}

Test(conform_tls, run_passes_over_tls_and_the_capture_holds_plaintext_mqtt)
{
    tls_fake f;
    fake_start(&f, false, "server");
    net_tls_ctx *ctx = client_ctx("ca.crt", false);
    conf_scenario *s = scenario(CONNECT_ONLY);
    char pcapdir[128];
    snprintf(pcapdir, sizeof pcapdir, "%s/pcap", dir);
    cr_assert_eq(mkdir(pcapdir, 0755), 0);
    int64_t ms;
    conf_run r = run_tls(s, f.port, "127.0.0.1", ctx, pcapdir, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_note(&r, "TLS established (TLSv1."), "the transcript shows the handshake");
    cr_assert(has_note(&r, "over TLS"), "the run's first line says TLS");

    tr_capture c;
    char err[512];
    cr_assert_eq(tr_read(r.pcap, f.port, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.n, 1);
    tr_stream *st = &c.s[0];
    static const uint8_t ack[] = {0x20, 0x02, 0x00, 0x00};
    cr_assert_eq(st->len[TR_SERVER], sizeof ack, "the broker's decrypted bytes: one CONNACK (%zu bytes)",
                 st->len[TR_SERVER]);
    cr_assert_arr_eq(st->data[TR_SERVER], ack, sizeof ack);
    cr_assert(st->len[TR_CLIENT] > 4 && st->data[TR_CLIENT][0] == 0x10, "the CONNECT in plaintext, not a TLS record");
    bool name = false;
    for (size_t i = 0; i + 4 <= st->len[TR_CLIENT]; i++) name |= memcmp(st->data[TR_CLIENT] + i, "MQTT", 4) == 0;
    cr_assert(name, "the protocol name is readable");
    cr_assert_eq(st->data[TR_CLIENT][st->len[TR_CLIENT] - 2], 0xe0, "then the DISCONNECT");
    cr_assert(st->established && st->fin[TR_CLIENT], "the real TCP connection: opened, closed by the runner");
    tr_free(&c);
    unlink(r.pcap);
    rmdir(pcapdir);
    conf_run_free(&r);
    conf_scenario_free(s);
    net_tls_ctx_free(ctx);
    fake_stop(&f);
}

Test(conform_tls, a_ca_that_did_not_sign_the_certificate_fails_the_run_with_the_reason)
{
    tls_fake f;
    fake_start(&f, false, "server");
    net_tls_ctx *ctx = client_ctx("other.crt", false);
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    conf_run r = run_tls(s, f.port, "127.0.0.1", ctx, NULL, &ms);
    /* a failed handshake is a run that could not be judged, not a broken MQTT rule */
    cr_assert_eq(r.verdict, V_ERROR);
    cr_assert(strstr(r.message, "TLS handshake with 127.0.0.1:") && strstr(r.message, "certificate verify failed"),
              "%s", r.message);
    cr_assert_lt(ms, 2000, "the failed handshake ends the step at once (%lld ms)", (long long)ms);
    conf_run_free(&r);
    conf_scenario_free(s);
    net_tls_ctx_free(ctx);
    fake_stop(&f);
}

Test(conform_tls, a_certificate_for_another_host_fails_unless_insecure)
{
    tls_fake f;
    fake_start(&f, false, "wrong"); /* signed by our CA, but for wrong.example */
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    net_tls_ctx *strict = client_ctx("ca.crt", false);
    conf_run r = run_tls(s, f.port, "127.0.0.1", strict, NULL, &ms);
    cr_assert_eq(r.verdict, V_ERROR);
    cr_assert(strstr(r.message, "mismatch"), "%s", r.message);
    conf_run_free(&r);
    net_tls_ctx *insecure = client_ctx("ca.crt", true);
    r = run_tls(s, f.port, "127.0.0.1", insecure, NULL, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    conf_run_free(&r);
    conf_scenario_free(s);
    net_tls_ctx_free(strict);
    net_tls_ctx_free(insecure);
    fake_stop(&f);
}

Test(conform_tls, a_server_that_never_handshakes_is_an_error_within_a_bound)
{
    tls_fake f;
    fake_start(&f, true, "server");
    net_tls_ctx *ctx = client_ctx("ca.crt", false);
    conf_scenario *s = scenario(CONNECT_ONLY);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    /* a handshake that waits is load, like a TCP connect: the step's clock waits; --time-scale
     * 0.1 gives up after 2 s instead of 20 s */
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 0.1, .jobs = 2, .tls = ctx,
                           .no_probe = true};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    int64_t ms = net_now_ms() - t0;
    cr_assert_eq(r.verdict, V_ERROR, "could not be judged: not a rule failure");
    cr_assert(strstr(r.message, "did not complete the TLS handshake"), "%s", r.message);
    cr_assert_geq(ms, 1900);
    cr_assert_lt(ms, 4000);
    conf_run_free(&r);
    conf_scenario_free(s);
    net_tls_ctx_free(ctx);
    fake_stop(&f);
}

Test(conform_tls, the_probe_speaks_tls_and_says_why_it_fails)
{
    tls_fake f;
    fake_start(&f, false, "server");
    net_tls_ctx *good = client_ctx("ca.crt", false), *bad = client_ctx("other.crt", false);
    char msg[512];
    cr_assert_eq(conf_probe_broker("127.0.0.1", f.port, good, 2000, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(conf_probe_broker("127.0.0.1", f.port, bad, 2000, msg, sizeof msg), -1);
    cr_assert(strstr(msg, "TLS handshake failed: certificate verify failed"), "%s", msg);
    /* plain MQTT to a TLS port: no CONNACK, and a hint */
    cr_assert_eq(conf_probe_broker("127.0.0.1", f.port, NULL, 2000, msg, sizeof msg), -1);
    cr_assert(strstr(msg, "a TLS listener?"), "%s", msg);
    net_tls_ctx_free(good);
    net_tls_ctx_free(bad);
    fake_stop(&f);
}
