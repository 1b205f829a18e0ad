/*
 * Profiles that do not hide regressions: deviations keyed by rule or step
 * load (and the old unkeyed syntax still does); after a run, an expected
 * failure whose deciding step matches no key of its scenario's deviations
 * is a `fail` again, naming the deviation; --write-profile writes keyed
 * deviations that load back and cover the same failures.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/src/conform.h"
#include "conformance/src/plan.h"
#include "conformance/src/profile.h"
#include "conformance/src/report.h"

/* Two checking steps with their own rules (`checks`), so a failure names one of them. */
#define SCEN "title T\nversions 3.1.1 5.0\nrules MQTT-3.3.1-4 MQTT-3.1.2-24\nclients a\na connect\n" \
             "a expect PINGRESP within 1s checks MQTT-3.3.1-4\na expect close within 1s checks MQTT-3.1.2-24\n"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/test-profile.XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static conf_profile load(const char *text)
{
    char *path = write_tmp(text);
    conf_profile p;
    conf_errors e = {0};
    int rc = conf_profile_load(path, &p, &e);
    cr_assert_eq(rc, 0, "%s", e.count ? e.msgs[0] : "");
    conf_errors_free(&e);
    unlink(path);
    free(path);
    return p;
}

/* A run of s in version vi that failed (engine: expected-failure) at step. */
static conf_run failed_at(conf_scenario *s, int vi, int step, conf_profile *p)
{
    conf_run r = {.sc = s, .vi = vi, .verdict = V_XFAIL, .fail_step = step, .level = LVL_MUST};
    r.message = strdup("it did not");
    r.deviation = conf_profile_deviation(p, s->id, vi)->reason;
    return r;
}

Test(conform_profile_keys, keyed_and_old_deviations_load)
{
    conf_profile p = load("name m\ndeviation x/* 5.0 rule=MQTT-3.3.1-4,MQTT-1.5.3-1 \"keyed\"\n"
                          "deviation y/* all step=7 \"by step\"\ndeviation z/* all \"old syntax\"\n");
    cr_assert_eq(p.ndevs, 3);
    cr_assert_eq(p.devs[0].nrules, 2);
    cr_assert_str_eq(p.devs[0].rules[1], "MQTT-1.5.3-1");
    cr_assert_eq(p.devs[1].step_line, 7);
    cr_assert_eq(p.devs[2].nrules + (size_t)p.devs[2].step_line, 0);
    conf_profile_free(&p);
}

Test(conform_profile_keys, bad_key_is_an_error_with_its_column)
{
    char *path = write_tmp("deviation x/* 5.0 rules=MQTT-3.3.1-4 \"r\"\n");
    conf_profile p;
    conf_errors e = {0};
    cr_assert_eq(conf_profile_load(path, &p, &e), -1);
    cr_assert(strstr(e.msgs[0], ":1:19: expected rule=ID, step=LINE or a quoted reason"), "%s", e.msgs[0]);
    conf_errors_free(&e);
    conf_profile_free(&p);
    unlink(path);
    free(path);
}

Test(conform_profile_keys, a_new_failure_inside_a_listed_scenario_is_a_regression)
{
    conf_errors e = {0};
    conf_scenario *s = conf_parse_scenario("t.mqs", "x/01-t", SCEN, &e);
    cr_assert(s, "%s", e.count ? e.msgs[0] : "");
    conf_profile p = load("deviation x/01-t 5.0 rule=MQTT-3.3.1-4 \"no PINGRESP\"\n");
    conf_run runs[2] = {failed_at(s, CONF_VI_5, 1, &p), failed_at(s, CONF_VI_5, 2, &p)};
    conf_profile_apply(&p, runs, 2);
    cr_assert_eq(runs[0].verdict, V_XFAIL, "the listed failure stays expected");
    cr_assert_str_eq(runs[0].deviation, "no PINGRESP");
    cr_assert_eq(runs[1].verdict, V_FAIL, "another step of the same scenario fails: a regression");
    cr_assert_null(runs[1].deviation);
    cr_assert(strstr(runs[1].message, "a new failure: the profile's deviation (line 1) covers rule MQTT-3.3.1-4, "
                                      "this one is at step 7 (MQTT-3.1.2-24)"), "%s", runs[1].message);
    cr_assert(p.devs[0].used);
    for (int i = 0; i < 2; i++) conf_run_free(&runs[i]);
    conf_profile_free(&p);
    conf_scenario_free(s);
    conf_errors_free(&e);
}

Test(conform_profile_keys, written_profile_loads_back_and_covers_the_failures)
{
    conf_errors e = {0};
    conf_scenario *s = conf_parse_scenario("t.mqs", "x/01-t", SCEN, &e);
    cr_assert(s);
    conf_profile none;
    conf_profile_default(&none);
    conf_run runs[3] = {{.sc = s, .vi = CONF_VI_311, .verdict = V_FAIL, .fail_step = 2, .level = LVL_MUST},
                        {.sc = s, .vi = CONF_VI_5, .verdict = V_FAIL, .fail_step = 2, .level = LVL_MUST},
                        {.sc = s, .vi = CONF_VI_5, .verdict = V_PASS, .fail_step = -1}};
    runs[0].message = strdup("a \"quoted\" reason");
    runs[1].message = strdup("a \"quoted\" reason");
    char path[] = "/tmp/test-profile-w.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    cr_assert_eq(conf_profile_write(path, &none, runs, 3, "127.0.0.1:1"), 0);
    FILE *f = fopen(path, "r");
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert(strstr(text, "deviation x/01-t 3.1.1,5.0 rule=MQTT-3.1.2-24 \"MUST: a \\\"quoted\\\" reason\"\n"), "%s", text);
    conf_profile p;
    cr_assert_eq(conf_profile_load(path, &p, &e), 0, "%s", e.count ? e.msgs[0] : "");
    cr_assert_eq(p.ndevs, 1);
    conf_run again = failed_at(s, CONF_VI_5, 2, &p);
    conf_profile_apply(&p, &again, 1);
    cr_assert_eq(again.verdict, V_XFAIL);
    conf_run_free(&again);
    for (int i = 0; i < 3; i++) conf_run_free(&runs[i]);
    conf_profile_free(&p);
    conf_profile_free(&none);
    conf_scenario_free(s);
    conf_errors_free(&e);
    unlink(path);
}
