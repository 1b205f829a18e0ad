/*
 * The fake broker of the engine tests (fake_broker.h).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conformance/tests/fake_broker.h"
#include "net/net.h"

/* FAKE_SCRIPT: CONNACK in the CONNECT's version, then connection i's script
 * (by accept order): its bytes, then a close now or after close_after_ms. */
static void script_reply(fake *f, int *conns, int i, const uint8_t *buf, ssize_t k, int64_t *close_at)
{
    if (buf[0] != 0x10 || k < 9) return;
    static const uint8_t ack311[] = {0x20, 0x02, 0x00, 0x00}, ack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    bool v5 = buf[8] == 5; /* protocol level of a short CONNECT (1-byte length) */
    if (v5 && f->connack5) (void)!write(conns[i], f->connack5, f->connack5_len);
    else (void)!write(conns[i], v5 ? ack5 : ack311, v5 ? sizeof ack5 : sizeof ack311);
    const fake_reply *rp = i < 4 ? &f->script[i] : NULL;
    if (rp && rp->len) (void)!write(conns[i], rp->bytes, rp->len);
    if (rp && rp->close_after_ms > 0) close_at[i] = net_now_ms() + rp->close_after_ms;
    if (rp && rp->close) {
        close(conns[i]); /* poll() skips the -1 from now on */
        conns[i] = -1;
    }
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    int conns[64];
    int64_t close_at[64] = {0};
    int nconn = 0;
    while (!f->stop) {
        int64_t now = net_now_ms();
        for (int i = 0; i < nconn; i++)
            if (close_at[i] && now >= close_at[i] && conns[i] >= 0) {
                close(conns[i]); /* a timer of the broker's, e.g. keep alive */
                conns[i] = -1;
                close_at[i] = 0;
            }
        struct pollfd p[65];
        int n = 0;
        if (f->lfd >= 0) p[n++] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
        for (int i = 0; i < nconn; i++) p[n++] = (struct pollfd){.fd = conns[i], .events = POLLIN};
        if (poll(p, (nfds_t)n, 20) <= 0) continue;
        int base = 0;
        if (f->lfd >= 0) {
            base = 1;
            if ((p[0].revents & POLLIN) && net_now_ms() - f->started >= f->accept_after_ms) {
                int c = accept(f->lfd, NULL, NULL);
                if (c >= 0) {
                    if (f->mode == FAKE_CLOSE) close(c);
                    else if (nconn < 64) conns[nconn++] = c;
                    else close(c);
                }
            }
        }
        for (int i = 0; i < n - base; i++) {
            if (!(p[base + i].revents & (POLLIN | POLLHUP))) continue;
            uint8_t buf[4096];
            ssize_t k = read(conns[i], buf, sizeof buf);
            if (k <= 0) continue; /* the runner closed; keep the fd to the end (simple) */
            if (f->mode == FAKE_SCRIPT) {
                script_reply(f, conns, i, buf, k, close_at);
                continue;
            }
            if (f->mode == FAKE_V311_ONLY && buf[0] == 0x10 && k >= 9) {
                static const uint8_t ok[] = {0x20, 0x02, 0x00, 0x00}, refused[] = {0x20, 0x02, 0x00, 0x01};
                bool v311 = buf[8] == 4;
                (void)!write(conns[i], v311 ? ok : refused, 4);
                if (!v311) {
                    close(conns[i]);
                    conns[i] = -1;
                }
                continue;
            }
            if (f->mode == FAKE_RESET) {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                setsockopt(conns[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                close(conns[i]);
                conns[i] = -1;
                continue;
            }
            if (f->mode == FAKE_GARBAGE) {
                static const uint8_t junk[] = {0x20, 0x02, 0x07, 0x00, 0xff, 0xff};
                (void)!write(conns[i], junk, sizeof junk); /* CONNACK with reserved flags 0x07 */
            } else if (f->mode == FAKE_CONNACK_THEN_DIE || f->mode == FAKE_GOOD) {
                if (buf[0] == 0x10) {
                    static const uint8_t ack[] = {0x20, 0x02, 0x00, 0x00};
                    if (f->connack_after_ms > 0) /* a busy broker: this thread is the broker */
                        nanosleep(&(struct timespec){f->connack_after_ms / 1000, (f->connack_after_ms % 1000) * 1000000L},
                                  NULL);
                    (void)!write(conns[i], ack, sizeof ack);
                }
                if (f->mode == FAKE_CONNACK_THEN_DIE && f->lfd >= 0) {
                    close(f->lfd); /* no more connections: the broker "died" */
                    f->lfd = -1;
                }
            }
            /* FAKE_STALL: read and never answer */
        }
    }
    for (int i = 0; i < nconn; i++)
        if (conns[i] >= 0) close(conns[i]);
    if (f->lfd >= 0) close(f->lfd);
    return NULL;
}

void fake_start_script(fake *f, fake_mode mode, const fake_reply *script, size_t n)
{
    char err[128];
    memset(f, 0, sizeof *f);
    f->mode = mode;
    for (size_t i = 0; i < n && i < 4; i++) f->script[i] = script[i];
    f->lfd = net_listen("127.0.0.1", 0, 16, err, sizeof err);
    cr_assert_geq(f->lfd, 0, "%s", err);
    f->port = net_local_port(f->lfd);
    f->started = net_now_ms();
    cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

void fake_start_slow(fake *f, int accept_after_ms, int fill)
{
    char err[128];
    memset(f, 0, sizeof *f);
    f->mode = FAKE_GOOD;
    f->accept_after_ms = accept_after_ms;
    f->lfd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
    cr_assert_geq(f->lfd, 0, "%s", err);
    f->port = net_local_port(f->lfd);
    for (int i = 0; i < fill; i++) { /* fill the accept queue; these sockets stay open until exit */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        net_set_nonblocking(fd);
        (void)!connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    f->started = net_now_ms();
    cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

void fake_start(fake *f, fake_mode mode)
{
    fake_start_script(f, mode, NULL, 0);
}

void fake_stop(fake *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
}

conf_scenario *scenario(const char *text)
{
    conf_errors e = {0};
    conf_scenario *s = conf_parse_scenario("t.mqs", "engine/01-t", text, &e);
    cr_assert_not_null(s, "%s", e.count ? e.msgs[0] : "");
    return s;
}

/* Runs s once (version vi) against port; returns the run (caller frees). */
conf_run run_vi(conf_scenario *s, int vi, uint16_t port, int64_t *elapsed)
{
    conf_run r = {.sc = s, .vi = vi, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = port, .time_scale = 1.0, .jobs = 4, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    *elapsed = net_now_ms() - t0;
    return r;
}

conf_run run_one(conf_scenario *s, uint16_t port, int64_t *elapsed)
{
    return run_vi(s, CONF_VI_311, port, elapsed);
}

conf_run run_probed(conf_scenario *s, int vi, uint16_t port, conf_engine_result *res)
{
    conf_run r = {.sc = s, .vi = vi, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = port, .time_scale = 1.0, .jobs = 4};
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, res, msg, sizeof msg), 0, "%s", msg);
    return r;
}
