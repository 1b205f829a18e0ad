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

#include "conformance/tests/fake_broker.h"

#define CONNECT_ONLY "title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\na connect checks MQTT-3.1.0-1\n"

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
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    /* --time-scale 0.2: the CONNACK wait gives up pausing the step's clock after 2 s
     * (CONNACK_GIVE_UP_MS), then the step's own deadline (2 s x 0.2) judges it */
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 0.2, .jobs = 4, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    int64_t ms = net_now_ms() - t0;
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "expected CONNACK within 0.4s"), "%s", r.message);
    cr_assert_geq(ms, 2300);
    cr_assert_lt(ms, 4500);
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
    cr_assert_eq(conf_probe_broker("127.0.0.1", port, NULL, 1000, msg, sizeof msg), -1);
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

/* ---- language extensions: client groups, `or close`, `silent`, topic
 * aliases from the broker, fill:${var}, flaky deviations ---- */


/* True if an event of client ci (kind, text containing needle) was recorded. */
bool has_event(const conf_run *r, int ci, int kind, const char *needle)
{
    for (size_t i = 0; i < r->nev; i++)
        if (r->ev[i].client == ci && r->ev[i].kind == kind && strstr(r->ev[i].text, needle)) return true;
    return false;
}

/* 3.1.1 PUBLISH QoS 1, topic "t", packet id 7, payload "x". */
static const uint8_t publish_t_x[] = {0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x07, 'x'};

Test(conform_group, expect_is_met_by_the_member_that_received)
{
    fake f;
    fake_reply script[2] = {{NULL, 0, false}, {publish_t_x, sizeof publish_t_x, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 2);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a b\n"
                                "a connect\nb connect\n"
                                "a|b expect PUBLISH topic=t payload=\"x\" qos=1\n"
                                "a|b capture packet_id as pid\n"
                                "a|b ack\n"
                                "a expect nothing for 100ms\nb expect nothing for 10ms\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_event(&r, 1, EV_NOTE, "matched by b"), "the transcript names the member");
    cr_assert(has_event(&r, 1, EV_NOTE, "captured pid = 7"), "capture acts on the member that matched");
    cr_assert(has_event(&r, 1, EV_SENT, "PUBACK"), "ack is sent by the member that matched");
    cr_assert_not(has_event(&r, 0, EV_SENT, "PUBACK"));
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_group, expect_fails_when_no_member_receives)
{
    fake f;
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a b\n"
                                "a connect\nb connect\na|b expect PUBLISH topic=t within 300ms\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "a|b expected one of them to receive") && strstr(r.message, "a: nothing") &&
              strstr(r.message, "b: nothing"), "%s", r.message);
    cr_assert_lt(ms, 1500);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_group, second_copy_is_caught_by_expect_nothing)
{
    fake f;
    fake_reply script[2] = {{publish_t_x, sizeof publish_t_x, false}, {publish_t_x, sizeof publish_t_x, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 2);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a b\n"
                                "a connect\nb connect\na|b expect PUBLISH payload=\"x\"\n"
                                "a expect nothing for 200ms\nb expect nothing for 200ms\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL, "both members got the message: not exactly one");
    cr_assert(strstr(r.message, "b expected nothing; got PUBLISH"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_close, or_close_accepts_a_close_instead_of_the_packet)
{
    fake f;
    fake_reply script[2] = {{NULL, 0, true}, {NULL, 0, true}};
    fake_start_script(&f, FAKE_SCRIPT, script, 2);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect\na expect SUBACK packet_id=1 or close\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_event(&r, 0, EV_NOTE, "closed the connection instead"));
    conf_run_free(&r);
    conf_scenario_free(s);
    /* without `or close` the same close fails the step */
    s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\na connect\na expect SUBACK packet_id=1\n");
    r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_close, or_close_still_checks_a_packet_that_came)
{
    fake f;
    static const uint8_t suback_granted[] = {0x90, 0x03, 0x00, 0x01, 0x00};
    fake_reply script[1] = {{suback_granted, sizeof suback_granted, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect\na expect SUBACK packet_id=1 reason_codes>=0x80 or close\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL, "a SUBACK granting QoS 0 is not a refusal");
    cr_assert(strstr(r.message, "expected >= 0x80"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_close, silent_fails_when_a_packet_came_before_the_close)
{
    fake f;
    /* every connection (the runs and the broker check after a raw-bytes run) gets
     * CONNACK, then a close */
    fake_reply script[4] = {{NULL, 0, true}, {NULL, 0, true}, {NULL, 0, true}, {NULL, 0, true}};
    fake_start_script(&f, FAKE_SCRIPT, script, 4);
    /* a raw 3.1.1 CONNECT */
    const char *open_connect = "title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                               "a open\na send raw 10 * s\"MQTT\" 04 02 00 3c s\"id\"\n";
    char text[512];
    snprintf(text, sizeof text, "%sa expect close silent\n", open_connect);
    conf_scenario *s = scenario(text);
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL, "%s", r.message ? r.message : "(passed)");
    cr_assert(strstr(r.message, "without sending anything") && strstr(r.message, "CONNACK"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    snprintf(text, sizeof text, "%sa expect close\n", open_connect);
    s = scenario(text);
    r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

/* 5.0 PUBLISH QoS 0 "t/x" with Topic Alias 1 ("a"), then the alias alone ("b"). */
static const uint8_t publish_alias[] = {0x30, 0x0a, 0x00, 0x03, 't', '/', 'x', 0x03, 0x23, 0x00, 0x01, 'a',
                                        0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'b'};

/* 5.0 MQTT-3.1.2-2: to a CONNECT of a level the run does not speak, the broker
 * may answer in any version's form; to a CONNECT of the run's own level, a
 * CONNACK in another version's form is still bytes that do not decode. */
Test(conform_close, unsupported_level_takes_an_answer_in_any_form)
{
    fake f;
    fake_start(&f, FAKE_V311_ONLY); /* 3.1.1's CONNACK 0x01 to any other level, then a close */
    const char *head = "title T\nversions 5.0\nrules MQTT-3.1.2-2\nclients a\na open\n";
    char text[512];
    snprintf(text, sizeof text, "%sa send raw 10 * s\"MQTT\" 06 02 00 3c 00 s\"id\"\na expect close\n", head);
    conf_scenario *s = scenario(text);
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_event(&r, 0, EV_RECV, "CONNACK"), "the answer is decoded in 3.1.1's form");
    conf_run_free(&r);
    conf_scenario_free(s);
    snprintf(text, sizeof text, "%sa send raw 10 * s\"MQTT\" 05 02 00 3c 00 s\"id\"\na expect close\n", head);
    s = scenario(text);
    r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL, "a 3.1.1 CONNACK to a 5.0 CONNECT does not decode as 5.0 (verdict %d: %s)", r.verdict, r.message ? r.message : "");
    cr_assert(strstr(r.message, "do not decode"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_alias, topic_alias_from_the_broker_is_resolved)
{
    fake f;
    fake_reply script[1] = {{publish_alias, sizeof publish_alias, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect topic_alias_maximum=2\n"
                                "a expect PUBLISH topic=t/x payload=\"a\" topic_alias=1\n"
                                "a expect PUBLISH topic=t/x payload=\"b\" topic_alias=1\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_event(&r, 0, EV_NOTE, "topic alias 1 stands for \"t/x\""));
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_alias, topic_alias_the_client_did_not_allow_fails_the_run)
{
    fake f;
    fake_reply script[1] = {{publish_alias, sizeof publish_alias, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect\na expect PUBLISH topic=t/x\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "Topic Alias 1") && strstr(r.message, "MQTT-3.3.2-11"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_alias, unmapped_topic_alias_fails_the_run)
{
    fake f;
    fake_reply script[1] = {{publish_alias + 12, sizeof publish_alias - 12, false}}; /* the alias alone */
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect topic_alias_maximum=5\na expect PUBLISH payload=\"b\"\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "never mapped"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_fill, fill_count_from_a_captured_variable)
{
    fake f;
    static const uint8_t publish_5[] = {0x30, 0x04, 0x00, 0x01, 'n', '5'}; /* payload "5" */
    fake_reply script[1] = {{publish_5, sizeof publish_5, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect\na expect PUBLISH topic=n\na capture payload as n\n"
                                "a send PUBLISH topic=t payload=fill:${n}\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert(has_event(&r, 0, EV_SENT, "5B \"xxxxx\""), "a 5-byte payload of x was sent");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_profile_run, flaky_deviation_keeps_a_pass)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    conf_scenario *s = scenario(CONNECT_ONLY);
    conf_run runs[2] = {
        {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .deviation = "timing", .deviation_flaky = true},
        {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .deviation = "always"},
    };
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 1.0, .jobs = 2, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, runs, 2, &res, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(runs[0].verdict, V_PASS, "flaky: a pass is a pass");
    cr_assert_eq(runs[1].verdict, V_XPASS, "deviation: a pass is unexpected");
    for (int i = 0; i < 2; i++) conf_run_free(&runs[i]);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_limits, packet_above_the_client_maximum_packet_size_fails_the_run)
{
    fake f;
    static const uint8_t publish_12[] = {0x30, 0x0a, 0x00, 0x03, 't', '/', 'x', 0x00, 'a', 'b', 'c', 'd'};
    fake_reply script[2] = {{publish_12, sizeof publish_12, false}, {publish_12, sizeof publish_12, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 2);
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                                "a connect maximum_packet_size=11\na expect PUBLISH topic=t/x\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "12-byte PUBLISH") && strstr(r.message, "MQTT-3.1.2-24"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    /* 12 bytes fit a limit of 12 */
    s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                 "a connect maximum_packet_size=12\na expect PUBLISH topic=t/x payload=\"abcd\"\n");
    r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

/* ---- captures: each run's traffic as a pcap (traffic.h), read back with an
 * independent reader (pcap_read.h) ---- */

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "pcap_read.h"

/* Does data[0..len) contain the bytes of needle? */
static bool holds(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0) return true;
    return false;
}

static int64_t wall_us_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A fresh directory for one test's captures. */
static void pcap_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/conform-pcap-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Removes dir and the files in it; returns how many files there were. */
static int pcap_dir_clean(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    int n = 0;
    char p[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
        n++;
    }
    closedir(d);
    rmdir(dir);
    return n;
}

/* Runs the given runs against port with captures in dir. */
static void run_with_pcap(conf_run *runs, size_t n, uint16_t port, conf_pcap_mode mode, const char *dir,
                          conf_engine_result *res)
{
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = port, .time_scale = 1.0, .jobs = 4, .no_probe = true,
                           .pcap_mode = mode,
                           .pcap_dir = dir};
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, runs, n, res, msg, sizeof msg), 0, "%s", msg);
}

static void read_capture(const conf_run *r, uint16_t port, tr_capture *c)
{
    char err[512];
    cr_assert_not_null(r->pcap, "a pcap was written for %s", r->sc->id);
    cr_assert_eq(tr_read(r->pcap, port, c, err, sizeof err), 0, "%s", err);
}

Test(conform_pcap, undecodable_bytes_are_recorded_exactly_as_received)
{
    fake f;
    fake_start(&f, FAKE_GARBAGE);
    conf_scenario *s = scenario(CONNECT_ONLY);
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_result res;
    int64_t t0 = wall_us_now();
    run_with_pcap(&r, 1, f.port, CONF_PCAP_FAILURES, dir, &res);
    int64_t t1 = wall_us_now();
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert_str_eq(r.pcap + strlen(dir), "/engine_01-t@3.1.1.pcap");
    cr_assert_eq(res.pcap_written, 1);
    tr_capture c;
    read_capture(&r, f.port, &c);
    cr_assert_eq(c.n, 1, "one client, one connection");
    tr_stream *st = &c.s[0];
    static const uint8_t junk[] = {0x20, 0x02, 0x07, 0x00, 0xff, 0xff};
    cr_assert_eq(st->len[TR_SERVER], sizeof junk, "the broker's bytes, all of them (%zu)", st->len[TR_SERVER]);
    cr_assert_arr_eq(st->data[TR_SERVER], junk, sizeof junk);
    cr_assert(st->len[TR_CLIENT] > 2 && st->data[TR_CLIENT][0] == 0x10, "the CONNECT as sent");
    cr_assert(st->syn && st->synack && st->established);
    cr_assert(st->fin[TR_CLIENT] && !st->rst[TR_CLIENT], "the runner stopped reading and closed: a FIN");
    static const uint8_t lo[4] = {127, 0, 0, 1};
    cr_assert_arr_eq(st->client_ip, lo, 4);
    cr_assert_arr_eq(st->server_ip, lo, 4);
    cr_assert_neq(st->client_port, 0);
    cr_assert(c.ordered, "timestamps never go back");
    cr_assert(c.first_us >= t0 && c.last_us <= t1, "wall-clock timestamps of this run: %lld..%lld not in %lld..%lld",
              (long long)c.first_us, (long long)c.last_us, (long long)t0, (long long)t1);
    tr_free(&c);
    conf_run_free(&r);
    cr_assert_eq(pcap_dir_clean(dir), 1);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_pcap, broker_reset_is_an_rst_from_the_broker)
{
    fake f;
    fake_start(&f, FAKE_RESET);
    conf_scenario *s = scenario(CONNECT_ONLY);
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_result res;
    run_with_pcap(&r, 1, f.port, CONF_PCAP_FAILURES, dir, &res);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "reset"), "%s", r.message);
    tr_capture c;
    read_capture(&r, f.port, &c);
    cr_assert_eq(c.n, 1);
    cr_assert(c.s[0].rst[TR_SERVER], "RST from the broker's port");
    cr_assert(!c.s[0].fin[TR_CLIENT] && !c.s[0].fin[TR_SERVER] && !c.s[0].rst[TR_CLIENT], "nothing else closes it");
    tr_free(&c);
    conf_run_free(&r);
    pcap_dir_clean(dir);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_pcap, refused_connection_is_a_syn_answered_by_rst)
{
    char err[128];
    int lfd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
    uint16_t port = net_local_port(lfd);
    close(lfd); /* nothing listens there now */
    conf_scenario *s = scenario(CONNECT_ONLY);
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_result res;
    run_with_pcap(&r, 1, port, CONF_PCAP_FAILURES, dir, &res);
    cr_assert(r.verdict == V_ERROR || r.verdict == V_FAIL, "%s", conf_verdict_name(r.verdict));
    tr_capture c;
    read_capture(&r, port, &c);
    cr_assert_eq(c.n, 1);
    cr_assert(c.s[0].syn && !c.s[0].synack && c.s[0].rst[TR_SERVER]);
    cr_assert_eq(c.s[0].len[TR_CLIENT] + c.s[0].len[TR_SERVER], 0);
    tr_free(&c);
    conf_run_free(&r);
    pcap_dir_clean(dir);
    conf_scenario_free(s);
}

Test(conform_pcap, every_client_and_reconnect_is_its_own_stream_in_one_file)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    /* a drops and reconnects, b connects: three streams; the last step fails */
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.0-1\nclients a b\n"
                                "a connect\na drop\na connect\nb connect\nb expect PINGRESP within 100ms\n");
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_result res;
    run_with_pcap(&r, 1, f.port, CONF_PCAP_FAILURES, dir, &res);
    cr_assert_eq(r.verdict, V_FAIL);
    tr_capture c;
    read_capture(&r, f.port, &c);
    cr_assert_eq(c.n, 3, "%zu streams", c.n);
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    for (size_t i = 0; i < 3; i++) {
        cr_assert(c.s[i].established);
        cr_assert_eq(c.s[i].len[TR_SERVER], sizeof connack);
        cr_assert_arr_eq(c.s[i].data[TR_SERVER], connack, sizeof connack);
        cr_assert(c.s[i].fin[TR_CLIENT], "stream %zu: the runner's close is a FIN", i);
    }
    cr_assert(c.s[0].last_us <= c.s[1].first_us, "the dropped connection ends before the reconnect");
    cr_assert_neq(c.s[0].client_port, c.s[1].client_port);
    /* client ids in the CONNECTs tell the clients apart: a, a, b */
    cr_assert(holds(c.s[0].data[TR_CLIENT], c.s[0].len[TR_CLIENT], "-a"));
    cr_assert(holds(c.s[1].data[TR_CLIENT], c.s[1].len[TR_CLIENT], "-a"));
    cr_assert(holds(c.s[2].data[TR_CLIENT], c.s[2].len[TR_CLIENT], "-b"));
    tr_free(&c);
    conf_run_free(&r);
    pcap_dir_clean(dir);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_pcap, passing_runs_get_a_pcap_only_with_all)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    conf_scenario *s = scenario(CONNECT_ONLY);
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_engine_result res;
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    run_with_pcap(&r, 1, f.port, CONF_PCAP_FAILURES, dir, &res);
    cr_assert_eq(r.verdict, V_PASS);
    cr_assert_null(r.pcap);
    cr_assert_eq(res.pcap_written, 0);
    conf_run_free(&r);
    r = (conf_run){.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    run_with_pcap(&r, 1, f.port, CONF_PCAP_NONE, dir, &res);
    cr_assert_null(r.pcap);
    conf_run_free(&r);
    r = (conf_run){.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    run_with_pcap(&r, 1, f.port, CONF_PCAP_ALL, dir, &res);
    cr_assert_eq(r.verdict, V_PASS);
    cr_assert_not_null(r.pcap);
    tr_capture c;
    read_capture(&r, f.port, &c);
    cr_assert_eq(c.n, 1);
    tr_free(&c);
    conf_run_free(&r);
    cr_assert_eq(pcap_dir_clean(dir), 1, "only the --pcap all run wrote a file");
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(conform_pcap, expected_failures_get_a_pcap_and_names_stay_unique)
{
    fake f;
    fake_start(&f, FAKE_STALL);
    /* two ids that map to the same file name, plus a repeat */
    conf_errors e = {0};
    conf_scenario *s1 = conf_parse_scenario("t.mqs", "x/a b", CONNECT_ONLY "a expect PINGRESP within 50ms\n", &e);
    conf_scenario *s2 = conf_parse_scenario("t.mqs", "x/a_b", CONNECT_ONLY, &e);
    cr_assert(s1 && s2);
    s1->steps[0].ms = s2->steps[0].ms = 100; /* the stalling broker never answers: fail fast */
    conf_run runs[3] = {
        {.sc = s1, .vi = CONF_VI_311, .verdict = V_PENDING},
        {.sc = s2, .vi = CONF_VI_311, .verdict = V_PENDING, .deviation = "known"},
        {.sc = s2, .vi = CONF_VI_311, .rep = 1, .verdict = V_PENDING},
    };
    char dir[64];
    pcap_dir(dir, sizeof dir);
    conf_engine_result res;
    run_with_pcap(runs, 3, f.port, CONF_PCAP_FAILURES, dir, &res);
    cr_assert_eq(runs[1].verdict, V_XFAIL);
    const char *want[3] = {"/x_a_b@3.1.1.pcap", "/x_a_b@3.1.1-2.pcap", "/x_a_b@3.1.1-r2.pcap"};
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(runs[i].pcap, "run %d", i);
        cr_assert_str_eq(runs[i].pcap + strlen(dir), want[i]);
        conf_run_free(&runs[i]);
    }
    cr_assert_eq(res.pcap_written, 3);
    cr_assert_eq(pcap_dir_clean(dir), 3);
    conf_scenario_free(s1);
    conf_scenario_free(s2);
    fake_stop(&f);
}

Test(conform_pcap, unwritable_directory_is_a_noted_error)
{
    fake f;
    fake_start(&f, FAKE_GARBAGE);
    conf_scenario *s = scenario(CONNECT_ONLY);
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING};
    conf_engine_result res;
    run_with_pcap(&r, 1, f.port, CONF_PCAP_FAILURES, "/nonexistent/dir", &res);
    cr_assert_eq(r.verdict, V_FAIL, "the verdict is the broker's, not the capture's");
    cr_assert_null(r.pcap);
    cr_assert_eq(res.pcap_errors, 1);
    cr_assert(strstr(res.pcap_error, "/nonexistent/dir/engine_01-t@3.1.1.pcap"), "%s", res.pcap_error);
    cr_assert(has_event(&r, -1, EV_NOTE, "pcap not written"));
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}
