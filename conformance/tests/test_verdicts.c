/*
 * Verdicts a broker team can trust (issue 12), proved against the fake
 * broker (fake_broker.h): each class of broker behaviour the specification
 * allows is not a `fail`, and each real break still is.
 * - closing is the MUST (MQTT-4.13.1-1): a silent close and a DISCONNECT
 *   with the named code pass, another code is `warn` (a SHOULD at most);
 * - a 5.0 refusal with another failure code is `warn`;
 * - granted QoS lower than requested (section 3.8.4) is `skip`, a PUBACK
 *   to a QoS 2 PUBLISH is `fail`;
 * - the probe: a 3.1.1 CONNACK 0x01 to a 5.0 CONNECT makes every 5.0 run
 *   `skip` with one reason; absent CONNACK properties are legal defaults;
 * - timers: late within the lenient bound is `warn` with the measured time,
 *   never is `fail`, and --time-scale scales the tolerance, not the bound;
 * - a failed precondition (a connect in a scenario testing something else)
 *   is `error`, never a rule failure;
 * - a flooding broker ends the run as `error`, bounded.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/tests/fake_broker.h"
#include "net/net.h"

#define V5_CLOSE "title T\nversions 5.0\nrules MQTT-4.13.1-1\nclients a\na connect\n" \
                 "a expect close reason_code=0x94\n"

static conf_run close_after(const uint8_t *bytes, size_t len)
{
    fake f;
    fake_reply script[1] = {{bytes, len, true}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario(V5_CLOSE);
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    fake_stop(&f);
    r.sc = NULL; /* the scenario is gone; the verdict and findings stay */
    conf_scenario_free(s);
    return r;
}

Test(verdict_close, a_silent_close_passes)
{
    conf_run r = close_after(NULL, 0);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    conf_run_free(&r);
}

Test(verdict_close, the_named_disconnect_code_passes)
{
    static const uint8_t disc94[] = {0xe0, 0x02, 0x94, 0x00};
    conf_run r = close_after(disc94, sizeof disc94);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert_eq(r.nfind, 0);
    conf_run_free(&r);
}

Test(verdict_close, another_disconnect_code_is_a_should_level_warn)
{
    static const uint8_t disc81[] = {0xe0, 0x02, 0x81, 0x00};
    conf_run r = close_after(disc81, sizeof disc81);
    cr_assert_eq(r.verdict, V_WARN, "closing is the MUST; the code is at most a SHOULD");
    cr_assert_eq(r.nfind, 1);
    cr_assert_eq(r.find[0].level, LVL_SHOULD);
    cr_assert(strstr(r.find[0].text, "0x81") && strstr(r.find[0].text, "0x94"), "%s", r.find[0].text);
    cr_assert(conf_verdict_bad_strict(r.verdict, true) && !conf_verdict_bad(r.verdict), "warn fails only --strict");
    conf_run_free(&r);
}

Test(verdict_close, staying_open_fails_the_must)
{
    fake f;
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-4.13.1-1\nclients a\na connect\n"
                                "a expect close reason_code=0x94 within 300ms\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert_eq(r.level, LVL_MUST);
    size_t nr;
    char *const *ids = conf_run_rules(&r, &nr);
    cr_assert(nr == 1 && strcmp(ids[0], "MQTT-4.13.1-1") == 0, "the expect close step's rule is blamed");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_refusal, another_connack_failure_code_is_warn)
{
    fake f;
    static const uint8_t connack80[] = {0x20, 0x03, 0x00, 0x80, 0x00};
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    f.connack5 = connack80;
    f.connack5_len = sizeof connack80;
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.3-8\nclients a\n"
                                "a send CONNECT client_id=\"bad id\"\na expect CONNACK reason_code=0x85 or close\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_WARN, "%s", r.message ? r.message : "(no message)");
    cr_assert_eq(r.find[0].level, LVL_SHOULD);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_qos, a_lower_granted_qos_is_a_skip_with_the_reason)
{
    fake f;
    static const uint8_t suback1[] = {0x90, 0x03, 0x00, 0x01, 0x01};
    fake_reply script[1] = {{suback1, sizeof suback1, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.8.4-1\nclients a\na connect\n"
                                "a subscribe filter=t qos=2\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_SKIP);
    cr_assert(strstr(r.message, "granted QoS 1 to a QoS 2 subscription"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_qos, a_puback_to_a_qos2_publish_still_fails)
{
    fake f;
    static const uint8_t puback1[] = {0x40, 0x02, 0x00, 0x01};
    fake_reply script[1] = {{puback1, sizeof puback1, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-4.3.3-2\nclients a\na connect\n"
                                "a publish topic=t qos=2 payload=x\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "QoS 2 PUBLISH") && strstr(r.message, "PUBACK"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_probe, a_311_connack_to_a_50_connect_skips_every_50_run)
{
    fake f;
    fake_start(&f, FAKE_V311_ONLY);
    conf_scenario *s = scenario("title T\nversions 3.1.1 5.0\nrules MQTT-3.1.0-1\nclients a\na connect\n");
    conf_engine_result res;
    conf_run r5 = run_probed(s, CONF_VI_5, f.port, &res);
    cr_assert_eq(r5.verdict, V_SKIP);
    cr_assert(strstr(r5.message, "5.0 not supported by this broker"), "%s", r5.message);
    cr_assert(res.caps[CONF_VI_5].probed && !res.caps[CONF_VI_5].supported);
    conf_run r3 = run_probed(s, CONF_VI_311, f.port, &res);
    cr_assert_eq(r3.verdict, V_PASS, "%s", r3.message ? r3.message : "");
    cr_assert(res.caps[CONF_VI_311].supported);
    conf_run_free(&r5);
    conf_run_free(&r3);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_probe, absent_connack_properties_are_defaults_and_announcements_skip)
{
    fake f;
    /* CONNACK 0x00 announcing Retain Available 0 (0x25 0x00), nothing else */
    static const uint8_t connack[] = {0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x00};
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    f.connack5 = connack;
    f.connack5_len = sizeof connack;
    conf_scenario *plain = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nneeds qos2 wildcards\nclients a\n"
                                    "a connect\n");
    conf_engine_result res;
    conf_run r = run_probed(plain, CONF_VI_5, f.port, &res);
    cr_assert_eq(r.verdict, V_PASS, "no Receive Maximum, Maximum QoS or Maximum Packet Size is legal: %s",
                 r.message ? r.message : "");
    const conf_caps *c = &res.caps[CONF_VI_5];
    cr_assert(c->supported && c->receive_max == -1 && c->max_packet_size == -1 && c->max_qos == -1);
    cr_assert_eq(c->retain_available, 0);
    cr_assert(c->lacks & (1u << CAP_RETAIN));
    cr_assert_not(c->lacks & ((1u << CAP_QOS2) | (1u << CAP_WILDCARDS)));
    conf_run_free(&r);
    conf_scenario *retain = scenario("title T\nversions 5.0\nrules MQTT-3.3.1-5\nneeds retain\nclients a\n"
                                     "a connect\n");
    r = run_probed(retain, CONF_VI_5, f.port, &res);
    cr_assert_eq(r.verdict, V_SKIP);
    cr_assert(strstr(r.message, "broker announced Retain Available 0"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(plain);
    conf_scenario_free(retain);
    fake_stop(&f);
}

/* keep_alive=1: on time is 1.5 s + the tolerance (1.5 s); the fake closes after close_ms (0: never). */
static conf_run keepalive(int close_ms, double scale, int64_t *ms)
{
    fake f;
    fake_reply script[1] = {{NULL, 0, false, close_ms}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.2-24\nclients a\n"
                                "a connect keep_alive=1\na expect nothing for 1s timer\n"
                                "a expect close within 500ms timer late 2s\n");
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = scale, .jobs = 1, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    *ms = net_now_ms() - t0;
    fake_stop(&f);
    r.sc = NULL;
    conf_scenario_free(s);
    return r;
}

Test(verdict_timer, on_time_passes)
{
    int64_t ms;
    conf_run r = keepalive(1500, 1.0, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    conf_run_free(&r);
}

Test(verdict_timer, late_within_the_lenient_bound_is_warn_with_the_time)
{
    int64_t ms;
    conf_run r = keepalive(3600, 1.0, &ms);
    cr_assert_eq(r.verdict, V_WARN, "%s", r.message ? r.message : "");
    cr_assert_eq(r.nfind, 1);
    cr_assert_geq(r.find[0].measured_ms, 2500, "measured from the step: about 2.6 s (%lld)",
                  (long long)r.find[0].measured_ms);
    cr_assert(strstr(r.find[0].text, "came after"), "%s", r.find[0].text);
    conf_run_free(&r);
}

Test(verdict_timer, never_within_the_lenient_bound_fails)
{
    int64_t ms;
    conf_run r = keepalive(0, 1.0, &ms);
    cr_assert_eq(r.verdict, V_FAIL);
    cr_assert(strstr(r.message, "lenient bound"), "%s", r.message);
    cr_assert_lt(ms, 5000, "bounded by the lenient bound (%lld ms)", (long long)ms);
    conf_run_free(&r);
}

Test(verdict_timer, time_scale_scales_the_tolerance_not_the_bound)
{
    int64_t ms;
    /* at --time-scale 3 the tolerance is 4.5 s: a close 3.6 s after the CONNECT (late at
     * scale 1) is on time, and `expect nothing for 1s timer` still lasts 1 s (the broker's
     * clock is real) */
    conf_run r = keepalive(3600, 3.0, &ms);
    cr_assert_eq(r.verdict, V_PASS, "%s", r.message ? r.message : "");
    cr_assert_lt(ms, 4700, "%lld ms", (long long)ms);
    conf_run_free(&r);
}

Test(verdict_attribution, a_failed_precondition_is_error_not_a_rule_failure)
{
    fake f;
    fake_start(&f, FAKE_CLOSE);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.12.4-1\nclients a\n"
                                "a connect\na send PINGREQ\na expect PINGRESP\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_ERROR);
    cr_assert_eq(r.level, LVL_NONE, "no rule is blamed");
    cr_assert(strstr(r.message, "precondition"), "%s", r.message);
    cr_assert_eq(r.fail_step, 0, "the connect step");
    size_t nr;
    conf_run_rules(&r, &nr);
    cr_assert_eq(nr, 0, "coverage blames no rule for an error");
    cr_assert_eq(s->steps[0].nrules[CONF_VI_311], 0, "the connect checks none of the scenario's rules");
    cr_assert_eq(s->steps[2].nrules[CONF_VI_311], 1, "the expect checks them");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_attribution, a_may_level_rule_is_skip)
{
    fake f;
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    /* 5.0 MQTT-3.1.2-12 only permits ("can be 0, 1 or 2") */
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.2-12\nclients a\na connect\n"
                                "a expect PINGRESP within 100ms\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_SKIP, "%s", conf_verdict_name(r.verdict));
    cr_assert_eq(r.level, LVL_MAY);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_bounds, a_flooding_broker_is_an_error_not_gigabytes)
{
    enum { N = 30000 };
    uint8_t *flood = malloc(2 * N);
    cr_assert_not_null(flood);
    for (size_t i = 0; i < N; i++) {
        flood[2 * i] = 0xd0; /* PINGRESP */
        flood[2 * i + 1] = 0x00;
    }
    fake f;
    fake_reply script[1] = {{flood, 2 * N, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.12.4-1\nclients a\na connect\nwait 1s\n"
                                "a expect PINGRESP\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_ERROR);
    cr_assert(strstr(r.message, "buffers no more"), "%s", r.message);
    cr_assert_leq(r.nev, 20002, "the transcript is bounded too (%zu)", r.nev);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
    free(flood);
}

Test(verdict_connect, a_connect_delayed_by_a_full_accept_queue_is_not_a_verdict)
{
    fake f;
    /* nothing is accepted for 2.5 s: the SYN is dropped and retransmitted (1 s, 3 s) */
    fake_start_slow(&f, 2500, 4);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.12.4-1\nclients a\na connect\n"
                                "a send PINGREQ\na expect nothing for 10ms\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_PASS, "the 2 s CONNACK budget starts once TCP is accepted: %s",
                 r.message ? r.message : "");
    cr_assert_geq(ms, 2000, "the connect did wait (%lld ms)", (long long)ms);
    cr_assert(has_event(&r, 0, EV_NOTE, "TCP connect is slow"), "the transcript says so");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_connect, a_connect_never_accepted_is_error_within_a_bound)
{
    fake f;
    fake_start_slow(&f, 60000, 4);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.12.4-1\nclients a\na connect\n"
                                "a expect PINGRESP\n");
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    /* --time-scale 0.1: give up after 2 s instead of 20 s */
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 0.1, .jobs = 8, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    int64_t t0 = net_now_ms();
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    int64_t ms = net_now_ms() - t0;
    cr_assert_eq(r.verdict, V_ERROR, "%s", conf_verdict_name(r.verdict));
    cr_assert(strstr(r.message, "did not accept the TCP connection"), "%s", r.message);
    cr_assert_lt(ms, 5000, "%lld ms", (long long)ms);
    cr_assert_eq(res.jobs_final, 4, "a slow connect halves the parallelism (8 -> 4)");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

/* A busy broker answers CONNECT late (aedes under -j 32): the CONNACK still
 * comes, so neither the precondition connect nor an `expect CONNACK` that
 * checks a rule may turn it into `error` or `fail`; the parallelism drops. */
Test(verdict_connect, a_late_connack_is_neither_a_failure_nor_an_error)
{
    fake f;
    fake_start(&f, FAKE_GOOD);
    f.connack_after_ms = 2500;
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.2.0-1\nclients a b\na connect\n"
                                "b send CONNECT\nb expect CONNACK reason_code=0\n");
    conf_run r = {.sc = s, .vi = CONF_VI_311, .verdict = V_PENDING, .fail_step = -1};
    conf_engine_cfg cfg = {.host = "127.0.0.1", .port = f.port, .time_scale = 1.0, .jobs = 8, .no_probe = true};
    conf_engine_result res;
    char msg[256];
    cr_assert_eq(conf_engine_run(&cfg, &r, 1, &res, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(r.verdict, V_PASS, "%s: %s", conf_verdict_name(r.verdict), r.message ? r.message : "");
    cr_assert(has_event(&r, 0, EV_NOTE, "CONNACK is slow"), "the transcript says so");
    cr_assert(has_event(&r, 1, EV_NOTE, "CONNACK is slow"));
    cr_assert_lt(res.jobs_final, 8, "a slow CONNACK lowers the parallelism");
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_attribution, else_skip_turns_a_missing_offer_into_a_skip)
{
    fake f;
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0); /* 5.0 CONNACK without properties: Receive Maximum 65535 */
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.3.4-7\nclients a\na send CONNECT\n"
                                "a expect CONNACK reason_code=0 receive_maximum<=20 else skip\n"
                                "a expect close within 100ms\n");
    int64_t ms;
    conf_run r = run_vi(s, CONF_VI_5, f.port, &ms);
    cr_assert_eq(r.verdict, V_SKIP, "%s", conf_verdict_name(r.verdict));
    cr_assert(strstr(r.message, "does not offer what this scenario needs") && strstr(r.message, "receive_maximum"),
              "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_attribution, or_skip_makes_a_packet_that_need_not_come_a_skip)
{
    fake f;
    fake_start_script(&f, FAKE_SCRIPT, NULL, 0);
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-2.3.1-2\nclients a\na connect\n"
                                "a expect PUBLISH payload=\"2\" within 200ms or skip\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_SKIP, "%s", conf_verdict_name(r.verdict));
    cr_assert(strstr(r.message, "or skip"), "%s", r.message);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_timer, else_warn_is_a_late_state_and_the_run_goes_on)
{
    fake f;
    fake_reply script[1] = {{NULL, 0, false}};
    fake_start_script(&f, FAKE_SCRIPT, script, 1);
    /* the fake's CONNACK has session present 0: "expect ... session_present=1 else warn" notes it */
    conf_scenario *s = scenario("title T\nversions 3.1.1\nrules MQTT-3.1.2-4\nclients a\n"
                                "a send CONNECT clean=0\na expect CONNACK session_present=1 else warn\n"
                                "a send PINGREQ\na expect nothing for 50ms\n");
    int64_t ms;
    conf_run r = run_one(s, f.port, &ms);
    cr_assert_eq(r.verdict, V_WARN, "%s", r.message ? r.message : conf_verdict_name(r.verdict));
    cr_assert_eq(r.nfind, 1);
    cr_assert(strstr(r.find[0].text, "on-time bound") && strstr(r.find[0].text, "session_present"), "%s",
              r.find[0].text);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}

Test(verdict_probe, a_broker_accepting_no_version_skips_nothing)
{
    fake f;
    fake_start(&f, FAKE_CLOSE); /* closes every connection: no version answers */
    conf_scenario *s = scenario("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\na connect\n");
    conf_engine_result res;
    conf_run r = run_probed(s, CONF_VI_5, f.port, &res);
    cr_assert_neq(r.verdict, V_SKIP, "a broker that refuses everything must not turn CI green");
    cr_assert(res.caps[CONF_VI_5].probed && res.caps[CONF_VI_5].supported);
    conf_run_free(&r);
    conf_scenario_free(s);
    fake_stop(&f);
}
