/*
 * Topic names and filters (3.1.1 section 4.7, 5.0 sections 4.7 and 4.8.2)
 * through the public checks, topic matching with the examples of section
 * 4.7.1 and the '$' rule (MQTT-4.7.2-1), and the $share/{name}/{filter} split.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

#define S(s) tv_str(s)

static void name_ok(const char *t)
{
    cr_assert_null(mqtt_topic_name_check(MQTT_V311, S(t)), "\"%s\" refused in 3.1.1", t);
    cr_assert_null(mqtt_topic_name_check(MQTT_V5, S(t)), "\"%s\" refused in 5.0", t);
}

static void name_bad(const char *t, const char *rule311, const char *rule5)
{
    const char *r = mqtt_topic_name_check(MQTT_V311, S(t));
    cr_assert(r && strcmp(r, rule311) == 0, "\"%s\" in 3.1.1: %s", t, r ? r : "accepted");
    r = mqtt_topic_name_check(MQTT_V5, S(t));
    cr_assert(r && strcmp(r, rule5) == 0, "\"%s\" in 5.0: %s", t, r ? r : "accepted");
}

static void filter_ok(mqtt_version v, const char *f)
{
    const char *r = mqtt_topic_filter_check(v, S(f));
    cr_assert_null(r, "\"%s\" refused (%s) in %s", f, r, mqtt_version_name(v));
}

static void filter_bad(mqtt_version v, const char *f, const char *rule)
{
    const char *r = mqtt_topic_filter_check(v, S(f));
    cr_assert(r && strcmp(r, rule) == 0, "\"%s\" in %s: %s, expected %s", f, mqtt_version_name(v),
              r ? r : "accepted", rule);
}

Test(codec_topic, topic_names)
{
    name_ok("a");
    name_ok("/");
    name_ok("sport/tennis/player1");
    name_ok("$SYS/broker/load");
    name_ok("a b/c");
    name_ok("caf\xc3\xa9");
    name_bad("", "MQTT-4.7.3-1", "MQTT-4.7.3-1");
    name_bad("a/+", "MQTT-3.3.2-2", "MQTT-3.3.2-2");
    name_bad("#", "MQTT-3.3.2-2", "MQTT-3.3.2-2");
    name_bad("a\xed\xa0\x80", "MQTT-1.5.3-1", "MQTT-1.5.4-1");
    uint8_t nul[] = {'a', 0, 'b'};
    mqtt_bytes b = {nul, 3};
    cr_assert_str_eq(mqtt_topic_name_check(MQTT_V311, b), "MQTT-1.5.3-2");
}

Test(codec_topic, topic_name_longer_than_65535_bytes)
{
    static uint8_t big[65536];
    memset(big, 'a', sizeof big);
    mqtt_bytes b = {big, 65535};
    cr_assert_null(mqtt_topic_name_check(MQTT_V5, b));
    b.len = 65536;
    cr_assert_str_eq(mqtt_topic_name_check(MQTT_V5, b), "MQTT-4.7.3-3");
    cr_assert_str_eq(mqtt_topic_filter_check(MQTT_V311, b), "MQTT-4.7.3-3");
}

Test(codec_topic, filters_the_spec_allows)
{
    static const char *const ok[] = {"#", "+", "sport/tennis/player1/#", "sport/#", "+/tennis/#",
                                     "sport/+/player1", "+/+", "/+", "/#", "a//b", "$SYS/#",
                                     "sport/tennis/+", "+/#", "a/+/+/#", "/"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        filter_ok(MQTT_V311, ok[i]);
        filter_ok(MQTT_V5, ok[i]);
        filter_ok(MQTT_V31, ok[i]);
    }
}

Test(codec_topic, misplaced_wildcards)
{
    /* 3.1.1: '#' MQTT-4.7.1-2, '+' MQTT-4.7.1-3; 5.0: '#' MQTT-4.7.1-1, '+' MQTT-4.7.1-2. */
    static const char *const hash[] = {"sport/tennis#", "sport/tennis/#/ranking", "##", "a/#/",
                                       "#/"};
    static const char *const plus[] = {"sport+", "+sport", "a/b+/c", "++", "a/+b"};
    for (size_t i = 0; i < sizeof hash / sizeof hash[0]; i++) {
        filter_bad(MQTT_V311, hash[i], "MQTT-4.7.1-2");
        filter_bad(MQTT_V5, hash[i], "MQTT-4.7.1-1");
    }
    for (size_t i = 0; i < sizeof plus / sizeof plus[0]; i++) {
        filter_bad(MQTT_V311, plus[i], "MQTT-4.7.1-3");
        filter_bad(MQTT_V5, plus[i], "MQTT-4.7.1-2");
    }
    filter_bad(MQTT_V5, "", "MQTT-4.7.3-1");
    filter_bad(MQTT_V5, "a\xc0\x80", "MQTT-1.5.4-1");
}

Test(codec_topic, shared_subscription_filters)
{
    filter_ok(MQTT_V5, "$share/g/a");
    filter_ok(MQTT_V5, "$share/g/#");
    filter_ok(MQTT_V5, "$share/consumer1/sport/tennis/+");
    filter_ok(MQTT_V5, "$share/g//");
    filter_bad(MQTT_V5, "$share//a", "MQTT-4.8.2-1");
    filter_bad(MQTT_V5, "$share/", "MQTT-4.8.2-1");
    filter_bad(MQTT_V5, "$share/g", "MQTT-4.8.2-2");
    filter_bad(MQTT_V5, "$share/g/", "MQTT-4.8.2-2");
    filter_bad(MQTT_V5, "$share/a+b/c", "MQTT-4.8.2-2");
    filter_bad(MQTT_V5, "$share/#/c", "MQTT-4.8.2-2");
    filter_bad(MQTT_V5, "$share/g/a#", "MQTT-4.7.1-1");
    /* Only "$share/" starts a shared subscription; 3.1.1 has none. */
    filter_ok(MQTT_V5, "$sharex/g");
    filter_ok(MQTT_V5, "$SHARE//a");
    filter_ok(MQTT_V311, "$share//a");
    filter_ok(MQTT_V311, "$share/g");
}

Test(codec_topic, shared_split)
{
    mqtt_bytes name, rest;
    cr_assert(mqtt_shared_split(S("$share/g1/a/b/#"), &name, &rest));
    cr_assert(tv_eq(name, "g1"));
    cr_assert(tv_eq(rest, "a/b/#"));
    cr_assert(mqtt_shared_split(S("$share/g"), &name, &rest));
    cr_assert(tv_eq(name, "g"));
    cr_assert_eq(rest.len, 0);
    cr_assert(mqtt_shared_split(S("$share//x"), &name, &rest));
    cr_assert_eq(name.len, 0);
    cr_assert(tv_eq(rest, "x"));
    cr_assert(mqtt_shared_split(S("$share/g/a"), NULL, NULL));
    cr_assert(!mqtt_shared_split(S("$shar/g/a"), &name, &rest));
    cr_assert(!mqtt_shared_split(S("a/$share/g/a"), &name, &rest));
    cr_assert(!mqtt_shared_split(S(""), &name, &rest));
}

typedef struct {
    const char *filter, *topic;
    bool match;
} match_case;

static const match_case matches[] = {
    /* 4.7.1.2 examples */
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/#", "sport", true},
    {"#", "sport/tennis", true},
    {"#", "/", true},
    /* 4.7.1.3 examples */
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+/tennis/#", "sport/tennis/player1", true},
    {"+/tennis/#", "sport/tennis", true},
    {"sport/+/player1", "sport/tennis/player1", true},
    {"sport/+/player1", "sport/tennis/player2", false},
    /* 4.7.2: wildcards in the first level never match '$' topics (MQTT-4.7.2-1) */
    {"#", "$SYS/broker", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"$SYS/#", "$SYS", true},
    /* exact levels, case and empty levels (4.7.3: no normalization) */
    {"a/b", "a/b", true},
    {"a/b", "a/B", false},
    {"a/b", "a/b/", false},
    {"a/b/", "a/b", false},
    {"a//b", "a//b", true},
    {"a/+/b", "a//b", true},
    {"a/b", "a/bc", false},
    {"a/bc", "a/b", false},
    {"+", "a", true},
    {"+", "", true},
    {"a/#", "a/", true},
    {"a/+/#", "a/b", true},
    {"/", "/", true},
    {"/#", "/a/b", true},
    {"/#", "a", false},
};

Test(codec_topic, matching_follows_the_examples_of_section_4_7)
{
    for (size_t i = 0; i < sizeof matches / sizeof matches[0]; i++) {
        bool got = mqtt_topic_matches(S(matches[i].filter), S(matches[i].topic));
        cr_assert_eq(got, matches[i].match, "\"%s\" vs \"%s\": %d", matches[i].filter,
                     matches[i].topic, got);
    }
}
