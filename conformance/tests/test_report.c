/*
 * Report writer tests on hand-made runs (one of each verdict): every report
 * leads with the summary and the findings (grouped by area, with level,
 * statement ids, step and reason) before the full run table; JUnit makes a
 * warn a passing testcase with <system-out> and a skip <skipped message>;
 * JSON carries the level of every finding and the capability table; the HTML
 * run table has its filter and long SVG labels wrap instead of running out
 * of the frame.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/src/conform.h"
#include "conformance/src/report.h"

static conf_errors errs;
static conf_scenario *sc_a, *sc_b;
static conf_run runs[5];
static conf_report rep;
static char dir[] = "/tmp/test-report.XXXXXX";

#define SCEN(rules) "title T\nversions 5.0\nrules " rules "\nclients a\na connect\na expect PINGRESP within 1s\n"

static void add_event(conf_run *r, int kind, int step, const char *text)
{
    conf_run_event(r, 0, kind, step, 5, "%s", text);
}

static void setup(void)
{
    cr_assert(mkdtemp(dir));
    sc_a = conf_parse_scenario("a.mqs", "zeta/01-a", SCEN("MQTT-3.3.1-4"), &errs);
    sc_b = conf_parse_scenario("b.mqs", "alpha/01-b", SCEN("MQTT-3.1.2-22"), &errs);
    cr_assert(sc_a && sc_b, "%s", errs.count ? errs.msgs[0] : "");
    conf_verdict v[5] = {V_PASS, V_FAIL, V_WARN, V_SKIP, V_ERROR};
    for (int i = 0; i < 5; i++)
        runs[i] = (conf_run){.sc = i % 2 ? sc_a : sc_b, .vi = CONF_VI_5, .verdict = v[i], .fail_step = -1};
    runs[1].fail_step = 1;
    runs[1].level = LVL_MUST;
    runs[1].message = strdup("expected PINGRESP; the broker closed the connection");
    add_event(&runs[1], EV_SENT, 1, "PINGREQ");
    /* a failure text far wider than the diagram */
    char longtext[1200];
    memset(longtext, 0, sizeof longtext);
    for (int k = 0; k < 30; k++) strcat(longtext, "PUBREC id=1 rc=0x00 (Success); ");
    add_event(&runs[1], EV_FAIL, 1, longtext);
    runs[2].level = LVL_SHOULD;
    runs[2].find = calloc(1, sizeof *runs[2].find);
    runs[2].find[0] = (conf_finding){.step = 1, .level = LVL_SHOULD, .text = strdup("keep alive enforced late: 2.9 s"),
                                     .measured_ms = 2900};
    runs[2].nfind = 1;
    runs[3].message = strdup("broker announced Retain Available 0");
    runs[4].message = strdup("a could not connect");
    rep = (conf_report){.runs = runs, .n = 5, .target = "127.0.0.1:1", .time_scale = 1, .jobs = 1};
    rep.res.died_after = -1;
    rep.res.caps[CONF_VI_5] = (conf_caps){.probed = true, .supported = true, .max_qos = 1, .retain_available = 0,
                                          .wildcard_available = -1, .subid_available = -1, .shared_available = -1,
                                          .topic_alias_max = 10, .receive_max = -1, .max_packet_size = -1,
                                          .server_keep_alive = -1, .granted_qos2 = 1, .lacks = 1u << CAP_RETAIN};
}

static void teardown(void)
{
    for (int i = 0; i < 5; i++) conf_run_free(&runs[i]);
    conf_scenario_free(sc_a);
    conf_scenario_free(sc_b);
    conf_errors_free(&errs);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static char *slurp(const char *name)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    cr_assert(f, "%s not written", p);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *must_find(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    cr_assert(p, "'%s' not in the report", needle);
    return p;
}

TestSuite(conform_report, .init = setup, .fini = teardown);

Test(conform_report, junit_warn_passes_with_output_and_skip_has_reason)
{
    char p[300];
    snprintf(p, sizeof p, "%s/j.xml", dir);
    cr_assert_eq(report_junit(p, &rep), 0);
    const char *x = slurp("j.xml");
    must_find(x, "failures=\"1\" errors=\"1\" skipped=\"1\"");
    const char *warn = must_find(x, "name=\"alpha/01-b@5.0\" time=\"0.000\">\n      <system-out>warn:");
    must_find(warn, "SHOULD: keep alive enforced late: 2.9 s");
    must_find(x, "<skipped message=\"broker announced Retain Available 0\"/>");
    must_find(x, "<failure message=\"MUST MQTT-3.3.1-4: expected PINGRESP");
}

Test(conform_report, json_has_levels_findings_and_capabilities)
{
    char p[300];
    snprintf(p, sizeof p, "%s/r.json", dir);
    cr_assert_eq(report_json(p, &rep), 0);
    const char *j = slurp("r.json");
    must_find(j, "\"counts_by_level\": {\"fail\": {\"MUST\": 1");
    must_find(j, "\"5.0\": {\"supported\": true, \"version accepted\": \"yes\", \"Maximum QoS\": \"1\"");
    must_find(j, "\"Retain Available\": \"0\"");
    must_find(j, "\"Wildcard Subscription Available\": \"absent (1)\"");
    must_find(j, "\"skipped for\": \"retain\"");
    must_find(j, "\"level\": \"SHOULD\", \"findings\": [{\"level\": \"SHOULD\", \"line\": 6");
    must_find(j, "\"measured_ms\": 2900");
}

Test(conform_report, console_and_markdown_lead_with_summary_and_findings_by_area)
{
    char p[300];
    snprintf(p, sizeof p, "%s/c.txt", dir);
    FILE *f = fopen(p, "w");
    report_console(f, &rep, false, false, false);
    fclose(f);
    const char *c = slurp("c.txt");
    const char *caps = must_find(c, "capabilities");
    const char *find = must_find(c, "findings (3), by area:\n  alpha\n");
    const char *zeta = must_find(find, "  zeta\n    fail            zeta/01-a@5.0  MUST MQTT-3.3.1-4\n");
    must_find(zeta, "step a.mqs:6: a expect PINGRESP within 1s");
    const char *table = must_find(c, "\nscenario ");
    cr_assert(caps < find && find < table, "summary, capabilities, findings, then the run table");
    snprintf(p, sizeof p, "%s/r.md", dir);
    cr_assert_eq(report_markdown(p, &rep), 0);
    const char *m = slurp("r.md");
    const char *mf = must_find(m, "## Findings (3)\n\n### alpha\n");
    must_find(mf, "| fail | MUST | MQTT-3.3.1-4 | `:6` `a expect PINGRESP within 1s` | expected PINGRESP;");
    cr_assert(must_find(m, "## Capabilities") < mf && mf < must_find(m, "## Runs"));
}

Test(conform_report, html_filter_and_wrapped_failure_text)
{
    char p[300];
    snprintf(p, sizeof p, "%s/r.html", dir);
    cr_assert_eq(report_html(p, &rep), 0);
    const char *h = slurp("r.html");
    must_find(h, "function runFilter()");
    must_find(h, "<select id=\"fv\" onchange=\"runFilter()\"><option value=\"\">all</option><option>pass</option>");
    must_find(h, "<tr data-v=\"warn\" data-a=\"alpha\" data-n=\"5.0\"");
    const char *fail = must_find(h, "class=\"ft\">");
    const char *end = must_find(fail, "</text>");
    int tspans = 0;
    for (const char *q = fail; q < end && (q = strstr(q, "<tspan")) && q < end; q++) tspans++;
    cr_assert_geq(tspans, 4, "a 960-character failure wraps over several lines (%d)", tspans);
    /* the failure box grows with its lines */
    const char *rect = must_find(h, "<rect ");
    int height = 0;
    cr_assert_eq(sscanf(strstr(rect, "height=\"") + 8, "%d", &height), 1);
    cr_assert_geq(height, 20 + 3 * 13);
}
