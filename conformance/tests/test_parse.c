/*
 * Parser tests: valid scenarios become the right model; every kind of error
 * is reported as file:line:col with what was expected, and all errors of a
 * file are reported (not only the first). Also substitution, filters,
 * profiles and the coverage count.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/src/conform.h"
#include "conformance/tests/parse_text.h"
#include "conformance/src/plan.h"
#include "conformance/src/profile.h"
#include "conformance/src/report.h"


#define HEADER "title T\nversions 3.1.1 5.0\nrules MQTT-3.1.0-1\nclients a b\n"

Test(conform_parse, valid_scenario_builds_model)
{
    conf_scenario *s = parse_text("# comment\n" HEADER "tags smoke x\nneeds retain qos1\n"
                             "a connect keep_alive=5 clean=0\n"
                             "a send PUBLISH topic=${ns}/t payload=\"a b\" qos=1\n"
                             "[5.0] a expect PUBACK packet_id=1 reason_code<0x80 within 1.5s\n"
                             "b expect nothing for 250ms\n"
                             "a capture packet_id as pid\n"
                             "wait 1s\n"
                             "a send raw 30 * s\"${ns}/t\" \"x\" 00ff\n"
                             "a expect close\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_str_eq(s->title, "T");
    cr_assert_str_eq(s->area, "area");
    cr_assert_eq(s->vmask, CONF_VBIT(CONF_VI_311) | CONF_VBIT(CONF_VI_5));
    cr_assert_eq(s->nrules[CONF_VI_311], 1);
    cr_assert_eq(s->nrules[CONF_VI_5], 1);
    cr_assert_eq(s->nclients, 2);
    cr_assert_eq(s->ntags, 2);
    cr_assert(s->needs & (1u << CAP_RETAIN));
    cr_assert_eq(s->nsteps, 8);
    cr_assert_eq(s->steps[0].kind, ST_CONNECT);
    cr_assert_eq(s->steps[1].nfields, 3);
    cr_assert_eq(s->steps[1].fields[1].kind, VK_QUOTED);
    cr_assert_str_eq(s->steps[1].fields[1].text, "a b");
    cr_assert_eq(s->steps[2].vmask, CONF_VBIT(CONF_VI_5));
    cr_assert_eq(s->steps[2].ms, 1500);
    cr_assert_eq(s->steps[2].fields[1].op, OP_LT);
    cr_assert_eq(s->steps[3].kind, ST_EXPECT_NOTHING);
    cr_assert_eq(s->steps[3].ms, 250);
    cr_assert_str_eq(s->steps[4].cap_var, "pid");
    cr_assert_eq(s->steps[5].ms, 1000);
    cr_assert_eq(s->steps[6].nraw, 5);
    cr_assert_eq(s->steps[6].raw[1].kind, RT_STAR);
    cr_assert_eq(s->steps[6].raw[2].kind, RT_MQTTSTR);
    cr_assert_eq(s->steps[6].raw[3].kind, RT_TEXT);
    cr_assert_eq(s->steps[6].raw[4].len, 2);
    cr_assert(s->malformed);
    conf_scenario_free(s);
}

Test(conform_parse, continuation_line_joins)
{
    conf_scenario *s = parse_text(HEADER "a send SUBSCRIBE filter=${ns}/a qos=1 \\\n   filter=${ns}/b qos=2\n");
    cr_assert_not_null(s);
    cr_assert_eq(s->steps[0].nfields, 4);
    conf_scenario_free(s);
}

Test(conform_parse, unknown_client_names_line_and_column)
{
    cr_assert_null(parse_text(HEADER "a connect\n  zz connect\n"));
    cr_assert(parse_has_error("t.mqs:6:3: expected a client name declared in `clients`"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, unknown_rule_id_is_an_error)
{
    cr_assert_null(parse_text("title T\nversions 5.0\nrules MQTT-9.9.9-9\nclients a\na connect\n"));
    cr_assert(parse_has_error("t.mqs:3:7: MQTT-9.9.9-9 is not a normative statement of MQTT 5.0"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, rule_of_one_version_only_checked_there)
{
    /* MQTT-3.1.2-24 exists in both; MQTT-3.1.2-29 only in 5.0 */
    conf_scenario *s = parse_text("title T\nversions 3.1.1 5.0\nrules 3.1.1 MQTT-3.1.2-24\nrules 5.0 MQTT-3.1.2-29\n"
                             "clients a\na connect\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_str_eq(s->rules[CONF_VI_5][0], "MQTT-3.1.2-29");
    conf_scenario_free(s);
}

Test(conform_parse, unterminated_quote)
{
    cr_assert_null(parse_text(HEADER "a send PUBLISH topic=\"abc\n"));
    cr_assert(parse_has_error("t.mqs:5:16: expected a closing '\"'"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, unknown_field_says_packet)
{
    cr_assert_null(parse_text(HEADER "a send PUBLISH topic=x colour=red\n"));
    cr_assert(parse_has_error("5:24: 'colour' is not a field of a sent PUBLISH"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, bad_number_value)
{
    cr_assert_null(parse_text(HEADER "a send PUBLISH topic=x qos=high\n"));
    cr_assert(parse_has_error("qos: expected a number, found 'high'"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, property_in_3x_expect_needs_guard)
{
    cr_assert_null(parse_text(HEADER "a expect CONNACK receive_maximum=10\n"));
    cr_assert(parse_has_error("receive_maximum is a 5.0 property: expected a [5.0] guard"), "%s", parse_errs.msgs[0]);
    conf_scenario *s = parse_text(HEADER "[5.0] a expect CONNACK receive_maximum=10\n");
    cr_assert_not_null(s);
    conf_scenario_free(s);
}

Test(conform_parse, bad_duration)
{
    cr_assert_null(parse_text(HEADER "wait 5 seconds\n"));
    cr_assert(parse_has_error("expected one duration like 500ms or 2s after `wait`"));
}

Test(conform_parse, bad_raw_token)
{
    cr_assert_null(parse_text(HEADER "a send raw 30 zz\n"));
    cr_assert(parse_has_error("5:15: expected hex bytes"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, missing_header_lines_all_reported)
{
    cr_assert_null(parse_text("a connect\n"));
    cr_assert(parse_has_error("expected a `title` line"));
    cr_assert(parse_has_error("expected a `versions` line"));
    cr_assert(parse_has_error("expected a `clients` line"));
    cr_assert(parse_has_error("expected a `rules` line"));
}

Test(conform_parse, several_errors_in_one_file)
{
    cr_assert_null(parse_text(HEADER "a frobnicate\nb send NOPE\na expect PUBLISH qos=x\n"));
    cr_assert_geq(parse_errs.count, 3);
    cr_assert(parse_has_error("5:3: expected a step"));
    cr_assert(parse_has_error("6:8: expected a packet type a client sends"));
    cr_assert(parse_has_error("7:22: qos: expected a number"));
}

Test(conform_parse, header_after_step_is_an_error)
{
    cr_assert_null(parse_text(HEADER "a connect\ntags late\n"));
    cr_assert(parse_has_error("6:1: expected a step: header statements"));
}

Test(conform_parse, unknown_capability_lists_known)
{
    cr_assert_null(parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nneeds teleport\nclients a\na connect\n"));
    cr_assert(parse_has_error("4:7: expected a capability (qos1, qos2, retain"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, send_ack_needs_packet_id)
{
    cr_assert_null(parse_text(HEADER "a send PUBACK\n"));
    cr_assert(parse_has_error("expected packet_id=... on a sent PUBACK"));
}

Test(conform_subst, namespace_version_and_variables)
{
    conf_vars v = {0};
    conf_vars_set(&v, "pid", "42", 2);
    char err[128];
    size_t n;
    char *out = conf_subst("${ns}/x/${pid}@${version}", 25, "mabc123", CONF_VI_5, &v, &n, err, sizeof err);
    cr_assert_str_eq(out, "mabc123/x/42@5.0");
    cr_assert_eq(n, strlen(out));
    free(out);
    cr_assert_null(conf_subst("${nope}", 7, "m", CONF_VI_5, &v, &n, err, sizeof err));
    cr_assert(strstr(err, "${nope} is not set"));
    conf_vars_free(&v);
}

Test(conform_filter, by_area_tag_rule_and_text)
{
    conf_scenario *s = parse_text(HEADER "tags smoke\na connect\n");
    cr_assert_not_null(s);
    cr_assert(conf_filter_match(s, "area"));
    cr_assert(conf_filter_match(s, "area:area"));
    cr_assert(conf_filter_match(s, "tag:smoke"));
    cr_assert(conf_filter_match(s, "MQTT-3.1.0-1"));
    cr_assert(conf_filter_match(s, "nothing,01-t"));
    cr_assert(conf_filter_match(s, "id:area/*"));
    cr_assert_not(conf_filter_match(s, "tag:slow"));
    cr_assert_not(conf_filter_match(s, "rule:MQTT-3.1.0-2"));
    conf_scenario_free(s);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/conform-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(conform_profile, loads_capabilities_and_deviations)
{
    char *path = write_tmp("name m\nversions 3.1.1 5.0\nmax_qos 1\nlacks retain\n"
                           "deviation connect/* 5.0 \"does X\"\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), 0, "%s", e.count ? e.msgs[0] : "");
    cr_assert_str_eq(p.name, "m");
    cr_assert(p.lacks & (1u << CAP_QOS2));
    cr_assert(p.lacks & (1u << CAP_RETAIN));
    cr_assert_not(p.lacks & (1u << CAP_QOS1));
    cr_assert_not_null(conf_profile_deviation(&p, "connect/01-x", CONF_VI_5));
    cr_assert_null(conf_profile_deviation(&p, "connect/01-x", CONF_VI_311));
    cr_assert_str_eq(conf_profile_deviation(&p, "connect/01-x", CONF_VI_5)->reason, "does X");
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

Test(conform_profile, deviation_without_reason_is_an_error)
{
    char *path = write_tmp("name m\ndeviation connect/* all\nlacks flying\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), -1);
    cr_assert_eq(e.count, 2);
    cr_assert(strstr(e.msgs[0], ":2:") && strstr(e.msgs[0], "expected a quoted reason"), "%s", e.msgs[0]);
    cr_assert(strstr(e.msgs[1], ":3:7: expected a capability name"), "%s", e.msgs[1]);
    conf_errors_free(&e);
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

Test(conform_profile, tls_keys_with_paths_relative_to_the_profile)
{
    char *path = write_tmp("name t\nbroker 10.0.0.5:8883\ncafile certs/ca.crt\ncert /abs/c.pem\nkey k.pem\n"
                           "insecure true\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), 0, "%s", e.count ? e.msgs[0] : "");
    cr_assert_str_eq(p.cafile, "/tmp/certs/ca.crt", "relative to the profile's directory");
    cr_assert_str_eq(p.certfile, "/abs/c.pem");
    cr_assert_str_eq(p.keyfile, "/tmp/k.pem");
    cr_assert(p.insecure);
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

Test(conform_profile, insecure_takes_true_or_false)
{
    char *path = write_tmp("name t\ninsecure maybe\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), -1);
    cr_assert_eq(e.count, 1);
    cr_assert(strstr(e.msgs[0], ":2:10: expected true or false after insecure"), "%s", e.msgs[0]);
    conf_errors_free(&e);
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

Test(conform_plan, skips_missing_capability_and_marks_deviation)
{
    conf_scenario *s = parse_text("title T\nversions 3.1.1 5.0\nrules MQTT-3.1.0-1\nneeds retain\nclients a\na connect\n");
    cr_assert_not_null(s);
    conf_profile p;
    conf_profile_default(&p);
    p.lacks = 1u << CAP_RETAIN;
    conf_run *runs;
    size_t n = conf_plan(&s, 1, CONF_VALL, 2, &p, &runs);
    cr_assert_eq(n, 4); /* 2 versions x 2 repeats */
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(runs[i].verdict, V_SKIP);
        cr_assert(strstr(runs[i].message, "retain"));
        conf_run_free(&runs[i]);
    }
    free(runs);
    conf_profile_free(&p);
    conf_scenario_free(s);
}

Test(conform_report, coverage_counts_per_version)
{
    conf_scenario *s = parse_text("title T\nversions 3.1.1 5.0\nrules MQTT-3.1.0-1 MQTT-3.1.0-2\nclients a\na connect\n"
                             "a expect PINGRESP\n");
    cr_assert_not_null(s);
    /* the fail is at the expect step (it checks the scenario's rules); the
     * error at the connect (a precondition) blames no rule */
    conf_run runs[3] = {{.sc = s, .vi = CONF_VI_311, .verdict = V_PASS, .fail_step = -1},
                        {.sc = s, .vi = CONF_VI_5, .verdict = V_FAIL, .fail_step = 1, .level = LVL_MUST},
                        {.sc = s, .vi = CONF_VI_5, .verdict = V_ERROR, .fail_step = 0}};
    conf_report r = {.runs = runs, .n = 3};
    report_cov cov[CONF_NVERSIONS];
    report_coverage(&r, cov);
    cr_assert_eq(cov[CONF_VI_311].total, 139);
    cr_assert_eq(cov[CONF_VI_5].total, 251);
    cr_assert_eq(cov[CONF_VI_311].checked, 2);
    cr_assert_eq(cov[CONF_VI_311].passed, 2);
    cr_assert_eq(cov[CONF_VI_5].failed, 2);
    cr_assert_not(cov[CONF_VI_31].used);
    report_coverage_free(cov);
    conf_scenario_free(s);
}

Test(conform_load, real_scenarios_all_parse)
{
    conf_scenario **all;
    conf_errors e = {0};
    size_t n = conf_load_dir("conformance/scenarios", &all, &e);
    cr_assert_eq(e.count, 0, "%s", e.count ? e.msgs[0] : "");
    cr_assert_geq(n, 30);
    for (size_t i = 0; i < n; i++) conf_scenario_free(all[i]);
    free(all);
}

/* ---- language extensions ---- */

Test(conform_parse, client_group_builds_a_member_mask)
{
    conf_scenario *s = parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a b c\n"
                             "a|c expect PUBLISH topic=x\na|c ack\nb|a capture packet_id as p\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_eq(s->steps[0].group, (1u << 0) | (1u << 2));
    cr_assert_eq(s->steps[0].client, 0);
    cr_assert_eq(s->steps[1].kind, ST_ACK);
    cr_assert_eq(s->steps[2].client, 1, "the first member named");
    conf_scenario_free(s);
}

Test(conform_parse, client_group_errors_name_the_problem)
{
    cr_assert_null(parse_text(HEADER "a|a expect PUBLISH\n"));
    cr_assert(parse_has_error("t.mqs:5:3: client 'a' appears twice in the group"), "%s", parse_errs.msgs[0]);
    cr_assert_null(parse_text(HEADER "a|zz expect PUBLISH\n"));
    cr_assert(parse_has_error("t.mqs:5:3: expected a client name declared in `clients` in the group, found 'zz'"),
              "%s", parse_errs.msgs[0]);
    cr_assert_null(parse_text(HEADER "a|b connect\n"));
    cr_assert(parse_has_error("t.mqs:5:5: expected `expect TYPE`, `ack` or `capture` after a client group"), "%s",
              parse_errs.msgs[0]);
    cr_assert_null(parse_text(HEADER "a|b expect nothing\n"));
    cr_assert(parse_has_error("after a client group"), "%s", parse_errs.msgs[0]);
    cr_assert_null(parse_text(HEADER "a|b expect PUBLISH or close\n"));
    cr_assert(parse_has_error("expected no `or close` after a client group"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, or_close_and_silent_keywords)
{
    conf_scenario *s = parse_text(HEADER "a expect SUBACK reason_codes>=0x80 or close within 1s\n"
                                    "a expect close silent within 500ms\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->steps[0].or_close);
    cr_assert_eq(s->steps[0].nfields, 1);
    cr_assert_eq(s->steps[0].fields[0].op, OP_GE);
    cr_assert_eq(s->steps[0].ms, 1000);
    cr_assert(s->steps[1].silent);
    cr_assert_eq(s->steps[1].ms, 500);
    conf_scenario_free(s);
    cr_assert_null(parse_text(HEADER "a expect close or close\n"));
    cr_assert_null(parse_text(HEADER "a expect PUBLISH silent\n"));
    cr_assert_null(parse_text(HEADER "a expect SUBACK reason_codes>=1,2\n"));
    cr_assert(parse_has_error("one number after <, <=, > or >="), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, fill_takes_a_variable)
{
    conf_scenario *s = parse_text(HEADER "a send PUBLISH topic=t payload=fill:${limit}\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_eq(s->steps[0].fields[1].kind, VK_FILL);
    cr_assert_str_eq(s->steps[0].fields[1].text, "${limit}");
    conf_scenario_free(s);
    cr_assert_null(parse_text(HEADER "a send PUBLISH topic=t payload=fill:12x\n"));
    cr_assert(parse_has_error("expected a byte count or ${variable} after fill:"), "%s", parse_errs.msgs[0]);
}

Test(conform_parse, max_packet_size_is_a_capability)
{
    conf_scenario *s = parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nneeds max_packet_size\nclients a\na connect\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->needs & (1u << CAP_MAX_PACKET));
    conf_scenario_free(s);
}

/* A 5.0 PUBLISH with user properties b=2, a=1 (in that order). */
static mqtt_packet publish_with_props(mqtt_user_property *up)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    up[0] = (mqtt_user_property){{(const uint8_t *)"b", 1}, {(const uint8_t *)"2", 1}};
    up[1] = (mqtt_user_property){{(const uint8_t *)"a", 1}, {(const uint8_t *)"1", 1}};
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY);
    p.publish.properties.user_properties = up;
    p.publish.properties.user_property_count = 2;
    return p;
}

/* Matches every field of step st against p, like the engine does. */
static const char *match_step(const conf_step *st, const mqtt_packet *p, char *buf, size_t cap)
{
    size_t from = 0;
    for (size_t i = 0; i < st->nfields; i++) {
        const conf_field *f = &st->fields[i];
        const char *m = conf_match(p, CONF_VI_5, f, f->text, f->len, &from, buf, cap);
        if (m) return m;
    }
    return NULL;
}

Test(conform_match, user_properties_must_keep_their_order)
{
    mqtt_user_property up[2];
    mqtt_packet p = publish_with_props(up);
    char buf[256];
    conf_scenario *s = parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                             "a expect PUBLISH user_property=\"b=2\" user_property=\"a=1\"\n"
                             "a expect PUBLISH user_property=\"a=1\" user_property=\"b=2\"\n"
                             "a expect PUBLISH user_property=\"a=1\" user_property!=\"c=3\"\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_null(match_step(&s->steps[0], &p, buf, sizeof buf), "%s", buf);
    const char *m = match_step(&s->steps[1], &p, buf, sizeof buf);
    cr_assert_not_null(m);
    cr_assert(strstr(m, "\"b=2\" is out of order"), "%s", m);
    cr_assert_null(match_step(&s->steps[2], &p, buf, sizeof buf), "%s", buf);
    conf_scenario_free(s);
}

Test(conform_match, reason_codes_compare_each_code)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_SUBACK;
    static const uint8_t codes[] = {0x80, 0x8F};
    p.suback.reason_codes = (mqtt_bytes){codes, 2};
    char buf[256];
    conf_scenario *s = parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\n"
                             "a expect SUBACK reason_codes>=0x80\na expect SUBACK reason_codes<0x8F\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_null(match_step(&s->steps[0], &p, buf, sizeof buf), "%s", buf);
    const char *m = match_step(&s->steps[1], &p, buf, sizeof buf);
    cr_assert_not_null(m);
    cr_assert(strstr(m, "0x80,0x8F, expected < 0x8F"), "%s", m);
    conf_scenario_free(s);
}

Test(conform_profile, flaky_is_a_deviation_that_may_pass)
{
    char *path = write_tmp("name m\nflaky keepalive/* all \"timers are late under load\"\n"
                           "deviation connect/* 5.0 \"does X\"\nflaky x/* all\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), -1);
    cr_assert_eq(e.count, 1);
    cr_assert(strstr(e.msgs[0], ":4:") && strstr(e.msgs[0], "expected a quoted reason: flaky ID VERSIONS"), "%s",
              e.msgs[0]);
    conf_deviation *d = conf_profile_deviation(&p, "keepalive/02-expiry", CONF_VI_311);
    cr_assert_not_null(d);
    cr_assert(d->flaky);
    cr_assert_not(conf_profile_deviation(&p, "connect/01-x", CONF_VI_5)->flaky);
    conf_errors_free(&e);
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

/* `send frame` (WebSockets): opcode, flags and payload; it marks the
 * scenario as needing WebSockets and as malformed input. */
Test(conform_parse, send_frame_builds_first_byte_and_payload)
{
    conf_scenario *s = parse_text(HEADER "a open\n"
                             "a send frame binary nofin c0\n"
                             "a send frame continuation 00\n"
                             "a send frame text rsv1 unmasked \"x\"\n"
                             "a send frame ping\n"
                             "a send frame 11\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->websocket);
    cr_assert(s->malformed);
    cr_assert_eq(s->steps[1].kind, ST_SEND_RAW);
    cr_assert(s->steps[1].frame);
    cr_assert_eq(s->steps[1].frame_first, 0x02);
    cr_assert_eq(s->steps[1].nraw, 1);
    cr_assert_eq(s->steps[2].frame_first, 0x80);
    cr_assert_eq(s->steps[3].frame_first, 0xc1);
    cr_assert(s->steps[3].frame_unmasked);
    cr_assert_eq(s->steps[4].frame_first, 0x89);
    cr_assert_eq(s->steps[4].nraw, 0);
    cr_assert_eq(s->steps[5].frame_first, 0x8b);
    conf_scenario_free(s);
}

Test(conform_parse, send_frame_bad_opcode_is_an_error)
{
    cr_assert_null(parse_text(HEADER "a send frame blob 00\n"));
    cr_assert(parse_has_error("t.mqs:5:"), "%s", parse_errs.msgs[0]);
    cr_assert(parse_has_error("expected a frame opcode"), "%s", parse_errs.msgs[0]);
    cr_assert_null(parse_text(HEADER "a send frame 16\n"));
    cr_assert(parse_has_error("expected a frame opcode"));
    cr_assert_null(parse_text(HEADER "a send frame\n"));
    cr_assert(parse_has_error("expected a frame opcode"));
}

Test(conform_parse, needs_websocket_is_a_transport)
{
    conf_scenario *s = parse_text(HEADER "needs websocket qos1\na connect\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->websocket);
    cr_assert(s->needs & (1u << CAP_QOS1));
    conf_scenario_free(s);
    cr_assert_null(parse_text(HEADER "needs websockets\na connect\n"));
    cr_assert(parse_has_error("or websocket"));
}

Test(conform_parse, open_protocols_offer)
{
    conf_scenario *s = parse_text(HEADER "a open protocols=none\nb open protocols=\"mqttv3.1, x\"\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->websocket);
    cr_assert_str_eq(s->steps[0].ws_protocols, "");
    cr_assert_str_eq(s->steps[1].ws_protocols, "mqttv3.1, x");
    conf_scenario_free(s);
    cr_assert_null(parse_text(HEADER "a open protocols=mqtt\n"));
    cr_assert(parse_has_error("expected protocols=none or protocols=\"LIST\""));
    cr_assert_null(parse_text(HEADER "a open now\n"));
    cr_assert(parse_has_error("expected nothing after `open`"));
}
