/*
 * Levels and per-step rules: the (version, id) -> MUST/SHOULD/MAY table
 * (levels.c), `checks`, `timer`, `late`, `else skip` on steps, and which
 * steps get a scenario's rules by default. Plus the Payload Format
 * Indicator rule of matching (absent and 0 are the same).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "conformance/src/conform.h"
#include "conformance/tests/parse_text.h"
#include "conformance/src/spec_ids.h"


Test(levels, every_numbered_statement_of_both_versions_has_a_level)
{
    for (int vi = CONF_VI_311; vi <= CONF_VI_5; vi++) {
        size_t n;
        const char *const *ids = conf_id_list(vi, &n);
        cr_assert_gt(n, 100);
        for (size_t i = 0; i < n; i++)
            cr_assert_neq(conf_rule_level(vi, ids[i]), LVL_NONE, "%s of %s", ids[i], conf_vi_name(vi));
    }
    cr_assert_eq(conf_rule_level(CONF_VI_5, "MQTT-9.9.9-9"), LVL_NONE);
    cr_assert_eq(conf_rule_level(CONF_VI_311, "MQTT-1.5.4-1"), LVL_NONE, "a 5.0 id is not a 3.1.1 statement");
}

Test(levels, the_table_follows_each_versions_wording)
{
    cr_assert_eq(conf_rule_level(CONF_VI_5, "MQTT-4.13.1-1"), LVL_MUST, "MUST close the Network Connection");
    /* the same id, two statements: 3.1.1 "Will QoS MUST NOT be 3", 5.0 "can be 0, 1 or 2" */
    cr_assert_eq(conf_rule_level(CONF_VI_311, "MQTT-3.1.2-12"), LVL_MUST);
    cr_assert_eq(conf_rule_level(CONF_VI_5, "MQTT-3.1.2-12"), LVL_MAY);
    cr_assert_eq(conf_rule_level(CONF_VI_31, "MQTT-3.1.2-12"), LVL_MUST, "3.1 runs use the 3.1.1 ids");
    cr_assert_str_eq(conf_level_name(LVL_SHOULD), "SHOULD");
}

Test(levels, rules_go_to_the_checking_steps_by_default)
{
    conf_scenario *s = parse_text("title T\nversions 3.1.1 5.0\nrules MQTT-3.12.4-1\nclients a\n"
                             "a connect\na send PINGREQ\na expect PINGRESP\na disconnect\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    for (int vi = CONF_VI_311; vi <= CONF_VI_5; vi++) {
        cr_assert_eq(s->steps[0].nrules[vi], 0, "connect is a precondition");
        cr_assert_eq(s->steps[0].level[vi], LVL_NONE);
        cr_assert_eq(s->steps[1].nrules[vi], 0, "send checks nothing");
        cr_assert_eq(s->steps[2].nrules[vi], 1);
        cr_assert_eq(s->steps[2].level[vi], LVL_MUST);
    }
    conf_scenario_free(s);
}

Test(levels, checks_names_the_steps_rules_per_version)
{
    conf_scenario *s = parse_text("title T\nversions 3.1.1 5.0\nrules 3.1.1 MQTT-3.1.4-5\nrules 5.0 MQTT-3.1.4-6\n"
                             "clients a\na connect checks MQTT-3.1.4-5 MQTT-3.1.4-6\na expect nothing\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert_eq(s->steps[0].nrules[CONF_VI_311], 1);
    cr_assert_str_eq(s->steps[0].rules[CONF_VI_311][0], "MQTT-3.1.4-5");
    cr_assert_eq(s->steps[0].nrules[CONF_VI_5], 1);
    cr_assert_str_eq(s->steps[0].rules[CONF_VI_5][0], "MQTT-3.1.4-6");
    cr_assert_eq(s->steps[1].nrules[CONF_VI_311], 0, "with `checks` in a scenario, other steps get none");
    conf_scenario_free(s);
    cr_assert_null(parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\na connect checks MQTT-3.1.0-2\n"));
    cr_assert(parse_has_error("t.mqs:5:18: expected an id from the scenario's `rules`"), "%s", parse_errs.msgs[0]);
}

Test(levels, timer_late_and_else_skip_are_step_modifiers)
{
    conf_scenario *s = parse_text("title T\nversions 5.0\nrules MQTT-3.1.2-22\nclients a\n"
                             "a send CONNECT keep_alive=1\na expect CONNACK server_keep_alive=absent else skip\n"
                             "a expect nothing for 1s timer\na expect close within 500ms timer late 9s\n");
    cr_assert_not_null(s, "%s", parse_errs.count ? parse_errs.msgs[0] : "");
    cr_assert(s->steps[1].else_skip);
    cr_assert_eq(s->steps[1].nrules[CONF_VI_5], 0, "an `else skip` step checks no rule");
    cr_assert(s->steps[2].timer);
    cr_assert_eq(s->steps[2].ms, 1000);
    cr_assert(s->steps[3].timer);
    cr_assert_eq(s->steps[3].ms, 500);
    cr_assert_eq(s->steps[3].late_ms, 9000);
    cr_assert_eq(s->steps[2].late_ms, -1);
    conf_scenario_free(s);
    cr_assert_null(parse_text("title T\nversions 5.0\nrules MQTT-3.1.0-1\nclients a\na expect close late soon\n"));
    cr_assert(parse_has_error("expected a duration like 5s after `late`"));
}

Test(levels, payload_format_indicator_absent_and_zero_are_the_same)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    conf_field f = {.id = F_PROP, .prop = MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, .op = OP_EQ, .kind = VK_WORD};
    char buf[256];
    cr_assert_null(conf_match(&p, CONF_VI_5, &f, "0", 1, NULL, buf, sizeof buf), "absent matches 0");
    cr_assert_not_null(conf_match(&p, CONF_VI_5, &f, "1", 1, NULL, buf, sizeof buf), "absent is not 1");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR);
    p.publish.properties.payload_format_indicator = 0;
    f.kind = VK_ABSENT;
    cr_assert_null(conf_match(&p, CONF_VI_5, &f, "", 0, NULL, buf, sizeof buf), "0 matches absent");
    p.publish.properties.payload_format_indicator = 1;
    cr_assert_not_null(conf_match(&p, CONF_VI_5, &f, "", 0, NULL, buf, sizeof buf), "1 is not absent");
}

/* untestable.c: every listed id is a statement of its version, listed once,
 * with a reason; 3.1 runs use the 3.1.1 list. */
Test(levels, every_untestable_statement_is_a_real_id_with_a_reason)
{
    for (int vi = CONF_VI_311; vi <= CONF_VI_5; vi++) {
        size_t n = conf_untestable_count(vi);
        cr_assert_gt(n, 0);
        for (size_t i = 0; i < n; i++) {
            const char *why = NULL;
            const char *id = conf_untestable_at(vi, i, &why);
            cr_assert_not_null(id);
            cr_assert_geq(conf_id_index(vi, id), 0, "%s is not a statement of %s", id, conf_vi_name(vi));
            cr_assert(why && strlen(why) > 20, "%s needs a reason", id);
            cr_assert_str_eq(conf_untestable_reason(vi, id), why);
            for (size_t j = 0; j < i; j++) {
                const char *w2;
                cr_assert_str_neq(conf_untestable_at(vi, j, &w2), id, "%s listed twice", id);
            }
        }
        cr_assert_null(conf_untestable_at(vi, n, &(const char *){NULL}));
    }
    cr_assert_not_null(conf_untestable_reason(CONF_VI_31, "MQTT-7.0.0-1"), "3.1 uses the 3.1.1 list");
    cr_assert_null(conf_untestable_reason(CONF_VI_5, "MQTT-3.3.1-4"), "a tested statement has no reason");
}
