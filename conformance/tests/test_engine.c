/*
 * Engine tests against a tiny fake broker (a thread on 127.0.0.1, free port)
 * that misbehaves on purpose: sends garbage, stalls, closes early, or stops
 * listening after the first connection. The runner must fail those runs with
 * a clear message, within bounded time, and never hang or crash.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/src/conform.h"
#include "conformance/src/engine.h"
#include "net/net.h"

typedef enum { FAKE_GARBAGE, FAKE_STALL, FAKE_CLOSE, FAKE_CONNACK_THEN_DIE, FAKE_GOOD } fake_mode;

typedef struct {
    fake_mode mode;
    int lfd;
    uint16_t port;
    volatile int stop;
    pthread_t th;
} fake;

static void *fake_main(void *arg)
{
    fake *f = arg;
    int conns[64];
    int nconn = 0;
    while (!f->stop) {
        struct pollfd p[65];
        int n = 0;
        if (f->lfd >= 0) p[n++] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
        for (int i = 0; i < nconn; i++) p[n++] = (struct pollfd){.fd = conns[i], .events = POLLIN};
        if (poll(p, (nfds_t)n, 20) <= 0) continue;
        int base = 0;
        if (f->lfd >= 0) {
            base = 1;
            if (p[0].revents & POLLIN) {
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
            if (f->mode == FAKE_GARBAGE) {
                static const uint8_t junk[] = {0x20, 0x02, 0x07, 0x00, 0xff, 0xff};
                (void)!write(conns[i], junk, sizeof junk); /* CONNACK with reserved flags 0x07 */
            } else if (f->mode == FAKE_CONNACK_THEN_DIE || f->mode == FAKE_GOOD) {
                if (buf[0] == 0x10) {
                    static const uint8_t ack[] = {0x20, 0x02, 0x00, 0x00};
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
    for (int i = 0; i < nconn; i++) close(conns[i]);
    if (f->lfd >= 0) close(f->lfd);
    return NULL;
}

static void fake_start(fake *f, fake_mode mode)
{
    char err[128];
    memset(f, 0, sizeof *f);
    f->mode = mode;
    f->lfd = net_listen("127.0.0.1", 0, 16, err, sizeof err);
    cr_assert_geq(f->lfd, 0, "%s", err);
    f->port = net_local_port(f->lfd);
    cr_assert_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
}

static conf_scenario *scenario(const char *text)
{
    conf_errors e = {0};
    conf_scenario *s = conf_parse_scenario("t.mqs", "engine/01-t", text, &e);
    cr_assert_not_null(s, "%s", e.count ? e.msgs[0] : "");
    return s;
}

/* Runs s once (version 3.1.1) against port; returns the run (caller frees). */
static conf_run run_one(conf_scenario *s, uint16_t port, int64_t *elapsed)
{
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = port, .time_scale = 1.0, .jobs = 4};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    *elapsed = net_now_ms() - t0;
    return r;
}

#define CONNECT_ONLY "title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\na connect\n"

Test(conform_engine, garbage_fails_with_codec_rule)
{
    fake f;
    fake_start(&f, FAKE_GARBAGE);
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "do not decode"), "%s", r.message);
    cr_assert(strstr(r.message, "MQTT-"), "the codec's rule id is named: %s", r.message);
    cr_assert(strstr(r.message, "20 02 07"), "the bytes are shown: %s", r.message);
    cr_assert_lt(ms, 2000);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_engine, stall_fails_at_the_step_timeout)
{
    fake f;
    fake_start(&f, FAKE_STALL);
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "expected CONNACK within 2.0s"), "%s", r.message);
    cr_assert_geq(ms, 1900);
    cr_assert_lt(ms, 4000);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_engine, early_close_fails_clearly)
{
    fake f;
    fake_start(&f, FAKE_CLOSE);
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "closed") || strstr(r.message, "reset") || strstr(r.message, "send failed"),
              "%s", r.message);
    cr_assert_lt(ms, 2000);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_engine, scenario_deadline_stops_a_long_run)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\ndeadline 300ms\n"
                                "a connect\nwait 5s\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_ERROR, "%s", r.message ? r.message : "");
    cr_assert(strstr(r.message, "deadline"), "%s", r.message);
    cr_assert_lt(ms, 1500);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_engine, good_broker_passes_and_transcript_is_decoded)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    conf_scenario *s = scenario(CONNECT_ONLY);
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    bool saw_connack = false;
    for (size_t i = 0; i < r.nev; i++) saw_connack |= r.ev[i].kind == EV_RECV && strstr(r.ev[i].text, "CONNACK");
    cr_assert(saw_connack);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_engine, broker_death_after_malformed_marks_rest_not_run)
{
    fake f;
    fake_start(&f, FAKE_CONNACK_THEN_DIE);
    conf_scenario *bad = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                                  "a connect\na send raw 36 00\n");
    conf_scenario *later = scenario(CONNECT_ONLY);
    conf_run runs[3] = {
        {.sc = bad, .vi = CONF_VI_311, .verdict = V_PENDING},
        {.sc = later, .vi = CONF_VI_311, .verdict = V_PENDING},
        {.sc = later, .vi = CONF_VI_311, .verdict = V_PENDING},
    };
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 0.2, .jobs = 1};
    conf_engine_result res;
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, runs, 3, &res, msg, sizeof msg), 0);
    cr_assert_eq(res.died_after, 0);
    cr_assert_eq(runs[1].verdict, V_NOTRUN);
    cr_assert_eq(runs[2].verdict, V_NOTRUN);
    cr_assert(strstr(runs[1].message, "engine/01-t@3.1.1"), "%s", runs[1].message);
    for (int i = 0; i < 3; i++) conf_run_free(&runs[i]);
    conf_scenario_free(bad);
    conf_scenario_free(later);
    fake_stop(&f);
}

Test(conform_engine, unreachable_broker_probe_says_why)
{
    char err[128];
    int lfd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
    uint16_t port = net_local_port(lfd);
    close(lfd); /* nothing listens there now */
    char msg[256];
    cr_assert_eq(conf_probe_broker("127.0.0.1", port, 1000, msg, sizeof msg), -1);
    cr_assert(strstr(msg, "refused"), "%s", msg);
}

Test(conform_engine, codec_refusal_is_an_error_with_rule)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    /* a PUBLISH topic with a wildcard: the codec will not build it */
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect\na send PUBLISH topic=a/+\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_ERROR);
    cr_assert(strstr(r.message, "codec refuses") && strstr(r.message, "MQTT-"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}
