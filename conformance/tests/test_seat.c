/*
 * Broker seat tests (issue 15): the grammar of scenarios written from the
 * broker's seat (what parses, what is refused and how it is worded), client
 * profiles (statements, errors) and the command line they build for a run
 * (substitution, options asked for, skips that name why), and the client
 * statement table (every id is a real id of its version).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/src/client_stmts.h"
#include "conformance/src/report.h"
#include "conformance/src/seat.h"
#include "conformance/src/spec_ids.h"
#include "conformance/tests/parse_text.h"


#define SEAT "title T\nversions 3.1.1 5.0\nseat broker\naction pub qos=1 topic=${ns}/x\nrules MQTT-3.1.0-1\nclients c\n"

Test(seat_parse, broker_seat_scenario_builds_model)
{
    conf_scenario *s = parse_text(SEAT "c expect CONNECT client_id=${id} keep_alive=5\n"
                             "c send CONNACK reason_code=0 session_present=1\n"
                             "c expect SUBSCRIBE filter=${topic} qos=1 flags=2\n"
                             "c send SUBACK packet_id=1 reason_codes=0,0x80\n"
                             "c close\nc accept within 3s else skip\nc expect exit nonzero within 2s\n"
                             "c expect output \"hello ${ns}\"\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->broker_seat);
    cr_assert_str_eq(s->action, "pub");
    cr_assert_eq(s->nopts, 2);
    cr_assert_str_eq(s->opt_keys[1], "topic");
    cr_assert_eq(s->steps[0].kind, ST_EXPECT);
    cr_assert_eq(s->steps[0].ptype, MQTT_CONNECT);
    cr_assert_eq(s->steps[1].kind, ST_SEND);
    cr_assert_eq(s->steps[4].kind, ST_DROP);
    cr_assert_eq(s->steps[5].kind, ST_ACCEPT);
    cr_assert(s->steps[5].else_skip);
    cr_assert_eq(s->steps[6].kind, ST_EXPECT_EXIT);
    cr_assert_eq(s->steps[6].exit_want, CONF_EXIT_NONZERO);
    cr_assert_eq(s->steps[6].ms, 2000);
    cr_assert_eq(s->steps[6].level[CONF_VI_311], LVL_NONE, "an exit step checks rules only when it names them");
    cr_assert_str_eq(s->steps[7].output, "hello ${ns}");
    conf_scenario_free(s);
}

Test(seat_parse, directions_are_swapped)
{
    cr_assert_null(parse_text(SEAT "c send CONNECT\n"));
    cr_assert(parse_has_error("expected a packet type a broker sends"), "%s", parse_errs.msgs[0]);
    cr_assert_null(parse_text(SEAT "c expect CONNACK\n"));
    cr_assert(parse_has_error("expected a packet type a client sends"));
    cr_assert_null(parse_text(SEAT "c connect\n"));
    cr_assert(parse_has_error("expected a broker-seat step (send, expect, capture, accept, close)"));
}

Test(seat_parse, header_errors)
{
    cr_assert_null(parse_text("title T\nversions 5.0\nseat broker\nrules MQTT-3.1.0-1\nclients c\nc expect CONNECT\n"));
    cr_assert(parse_has_error("expected an `action pub|sub ...` line"));
    cr_assert_null(parse_text("title T\nversions 5.0\naction pub\nrules MQTT-3.1.0-1\nclients c\nc connect\n"));
    cr_assert(parse_has_error("expected `seat broker` before `action`"));
    cr_assert_null(parse_text(SEAT "c expect exit maybe\n"));
    cr_assert(parse_has_error("expected an exit status (0..255), `nonzero` or `any`"));
    cr_assert_null(parse_text("title T\nversions 5.0\nseat broker\naction publish\nrules MQTT-3.1.0-1\nclients c\nc close\n"));
    cr_assert(parse_has_error("expected `action pub` or `action sub`"));
}

static const char *write_profile(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/seat-test-%d.profile", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

#define PROFILE "name p\nversions 3.1.1 5.0\nversion 5.0 mqttv5\n" \
                "pub tool -h {host} -p {port} -V {version} -t \"{topic}\" -q {qos}\n" \
                "opt * keep_alive -k {keep_alive}\nopt pub retain=1 -r\ncannot * clean=0 \"no sessions\"\n"

Test(seat_profile, argv_substitutes_and_asks_for_options)
{
    seat_profile p;
    conf_errors_free(&parse_errs);
    cr_assert_eq(seat_profile_load(write_profile(PROFILE), &p, &parse_errs), 0, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    conf_scenario *s = parse_text(SEAT "c expect CONNECT\n");
    char *keys[] = {"topic", "qos", "keep_alive", "retain"}, *vals[] = {"a b", "1", "7", "1"};
    bool skip;
    char why[256] = "";
    char **argv = seat_argv(&p, s, CONF_VI_5, "127.0.0.1", 1883, keys, vals, 4, &skip, why, sizeof why);
    cr_assert_not_null(argv, "%s", why);
    const char *want[] = {"tool", "-h", "127.0.0.1", "-p", "1883", "-V", "mqttv5", "-t", "a b", "-q", "1",
                          "-k", "7", "-r", NULL};
    for (int i = 0; want[i]; i++) cr_assert_str_eq(argv[i], want[i], "word %d", i);
    cr_assert_null(argv[14]);
    seat_argv_free(argv);
    char **v311 = seat_argv(&p, s, CONF_VI_311, "h", 1, keys, vals, 2, &skip, why, sizeof why);
    cr_assert_not_null(v311, "%s", why);
    cr_assert_str_eq(v311[6], "3.1.1", "no `version` line: the version's name");
    seat_argv_free(v311);
    conf_scenario_free(s);
    seat_profile_free(&p);
}

Test(seat_profile, options_it_cannot_ask_for_skip_with_the_reason)
{
    seat_profile p;
    conf_errors_free(&parse_errs);
    cr_assert_eq(seat_profile_load(write_profile(PROFILE), &p, &parse_errs), 0);
    conf_scenario *s = parse_text(SEAT "c expect CONNECT\n");
    char *k1[] = {"topic", "qos", "clean"}, *v1[] = {"t", "0", "0"};
    char *k2[] = {"topic", "qos", "will_topic"}, *v2[] = {"t", "0", "w"};
    bool skip = false;
    char why[256];
    cr_assert_null(seat_argv(&p, s, CONF_VI_5, "h", 1, k1, v1, 3, &skip, why, sizeof why));
    cr_assert(skip);
    cr_assert(strstr(why, "no sessions (client profile p)"), "%s", why);
    cr_assert_null(seat_argv(&p, s, CONF_VI_5, "h", 1, k2, v2, 3, &skip, why, sizeof why));
    cr_assert(strstr(why, "has no way to ask its client for will_topic=w"), "%s", why);
    cr_assert_null(seat_argv(&p, s, CONF_VI_31, "h", 1, k2, v2, 3, &skip, why, sizeof why));
    cr_assert(skip && strstr(why, "does not speak this protocol version"), "%s", why);
    conf_scenario_free(s);
    seat_profile_free(&p);
}

Test(seat_profile, errors_name_the_line)
{
    seat_profile p;
    conf_errors_free(&parse_errs);
    cr_assert_eq(seat_profile_load(write_profile("name p\nfrobnicate x\nopt pub\n"), &p, &parse_errs), -1);
    cr_assert(parse_has_error(":2:1: expected a statement: name, about, versions, version, pub, sub, opt or cannot"),
              "%s", parse_errs.msgs[0]);
    cr_assert(parse_has_error(":3:1: expected ACTION (pub, sub or *) and KEY[=VALUE]"));
    cr_assert(parse_has_error("expected a `pub` or `sub` command"));
    seat_profile_free(&p);
}

Test(seat_profile, command_line_splits_like_a_shell)
{
    seat_profile p;
    char msg[128];
    cr_assert_eq(seat_profile_command("tool -m 'a b' \"c \\\"d\\\"\" {port}", &p, msg, sizeof msg), 0);
    cr_assert_eq(p.ncmd[0], 5);
    cr_assert_str_eq(p.cmd[0][2], "a b");
    cr_assert_str_eq(p.cmd[1][3], "c \"d\"");
    seat_profile_free(&p);
    cr_assert_eq(seat_profile_command("   ", &p, msg, sizeof msg), -1);
    seat_profile_free(&p);
}

Test(seat_stmts, every_listed_client_statement_is_an_id_of_its_version)
{
    int vis[] = {CONF_VI_311, CONF_VI_5};
    for (int v = 0; v < 2; v++) {
        size_t n = 0;
        for (const char *id; (id = conf_client_stmt_at(vis[v], n)); n++)
            cr_assert_geq(conf_id_index(vis[v], id), 0, "%s is not an id of MQTT %s", id, conf_vi_name(vis[v]));
        cr_assert_gt(n, 50);
    }
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.1.2-23"), SIDE_CLIENT);
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.1.2-24"), SIDE_SERVER);
    cr_assert_eq(conf_stmt_side(CONF_VI_5, "MQTT-4.13.1-1"), SIDE_BOTH);
    cr_assert_not_null(conf_client_untestable(CONF_VI_5, "MQTT-6.0.0-1"));
}

/* The classification follows each sentence's subject (3.1.1 / 5.0 texts). */
Test(seat_stmts, sides_follow_the_wording)
{
    /* 3.1.1 MQTT-3.1.2-12 "a Will Message MUST NOT be published" and MQTT-3.8.3-2
     * "If the Server chooses not to support topic filters that contain wildcard
     * characters it MUST reject ...": the Server's. */
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.1.2-12"), SIDE_SERVER);
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.8.3-2"), SIDE_SERVER);
    /* 3.1.1 MQTT-3.1.2-14 Will QoS "MUST NOT be 3", MQTT-3.1.2-15 Will Retain 0
     * without a Will, MQTT-3.8.3-3 "at least one Topic Filter / QoS pair": the
     * CONNECT / SUBSCRIBE the Client writes. */
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.1.2-14"), SIDE_CLIENT);
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.1.2-15"), SIDE_CLIENT);
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-3.8.3-3"), SIDE_CLIENT);
    /* 3.1.1 MQTT-2.3.1-6 PUBACK, PUBREC, PUBREL carry the PUBLISH's id: either side. */
    cr_assert_eq(conf_stmt_side(CONF_VI_311, "MQTT-2.3.1-6"), SIDE_BOTH);
    /* 5.0 MQTT-3.1.2-30 "the Client MUST NOT send any packets other than AUTH or
     * DISCONNECT packets until it has received a CONNACK". */
    cr_assert_eq(conf_stmt_side(CONF_VI_5, "MQTT-3.1.2-30"), SIDE_CLIENT);
    /* 5.0 MQTT-3.1.2-5 "the Server MUST resume communications" and MQTT-3.1.3-9
     * "the Server MUST NOT send the Will Message": the Server's. */
    cr_assert_eq(conf_stmt_side(CONF_VI_5, "MQTT-3.1.2-5"), SIDE_SERVER);
    cr_assert_eq(conf_stmt_side(CONF_VI_5, "MQTT-3.1.3-9"), SIDE_SERVER);
    /* "The sender MUST NOT send this property if it would increase the size of
     * the PUBACK packet beyond the Maximum Packet Size": either side. */
    cr_assert_eq(conf_stmt_side(CONF_VI_5, "MQTT-3.4.2-3"), SIDE_BOTH);
    cr_assert_not_null(conf_client_untestable(CONF_VI_311, "MQTT-4.8.0-2"));
}

/* The HTML report of a client run lists client and server statements apart,
 * each id coloured by its state, and the client statements the broker seat
 * cannot test with why; a broker run's page has none of it. */
Test(seat_report, html_splits_client_and_server_statements)
{
    conf_scenario *s = parse_text(SEAT "c expect CONNECT checks MQTT-3.1.0-1\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    conf_run run = {.sc = s, .vi = CONF_VI_5, .verdict = V_PASS, .fail_step = -1};
    conf_report rep = {.runs = &run, .n = 1, .target = "client c", .time_scale = 1, .jobs = 1};
    rep.res.died_after = -1;
    char dir[] = "/tmp/test-seat-html.XXXXXX", path[300], *h = NULL;
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.html", dir);
    for (int pass = 0; pass < 2; pass++) {
        s->broker_seat = pass == 0;
        cr_assert_eq(report_html(path, &rep), 0);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        size_t cap = 1 << 20, n;
        h = calloc(1, cap + 1);
        n = fread(h, 1, cap, f);
        fclose(f);
        h[n] = '\0';
        if (pass == 1) break;
        const char *t = strstr(h, "<h3>Client and server statements</h3>");
        cr_assert_not_null(t);
        cr_assert_not_null(strstr(t, "<tr><td>MQTT 5.0</td><td>client</td>"));
        cr_assert_not_null(strstr(t, "<tr><td>MQTT 5.0</td><td>server</td>"));
        /* the client list holds MQTT-3.1.0-1 (passed) and no server-only id */
        const char *cl = strstr(t, "MQTT 5.0 client statements");
        const char *sv = strstr(t, "MQTT 5.0 server statements");
        cr_assert(cl && sv && cl < sv);
        const char *hit = strstr(cl, "<span class=\"i1\">MQTT-3.1.0-1</span>");
        cr_assert(hit && hit < sv);
        const char *srv_only = strstr(cl, ">MQTT-3.2.2-1<"); /* CONNACK flags: the Server's */
        cr_assert(srv_only && srv_only > sv);
        const char *u = strstr(sv, "client statements the broker seat cannot test, and why");
        cr_assert_not_null(u);
        cr_assert_not_null(strstr(u, "<li>MQTT-6.0.0-1: the broker seat listens on plain TCP only"));
        free(h);
    }
    cr_assert_null(strstr(h, "Client and server statements"), "a broker run has no split");
    free(h);
    conf_scenario_free(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
