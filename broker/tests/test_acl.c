/*
 * ACL files (broker_acl.c): mosquitto's format, mosquitto 2.0's decisions
 * (deny first, '$' topics, %c/%u patterns, wildcards in ids cannot widen a
 * pattern), strict parsing with FILE:LINE errors, and the core applying
 * them: denied PUBLISH acked 0x87 and dropped, denied SUBSCRIBE 0x80/0x87,
 * messages filtered by read access at delivery.
 */
#include "broker/src/broker_acl.h"
#include "broker/tests/tc.h"

#include <stdlib.h>
#include <string.h>

static broker_acl *parse(const char *text)
{
    char err[256] = "";
    broker_acl *acl = broker_acl_parse(text, strlen(text), "test.acl", err, sizeof err);
    cr_assert_not_null(acl, "%s", err);
    return acl;
}

static bool can(const broker_acl *acl, const char *user, const char *id, const char *topic, int access)
{
    return broker_acl_allows(acl, user, id, tc_str(topic), access);
}

#define R BROKER_ACL_READ
#define W BROKER_ACL_WRITE

static const char *const SAMPLE = "# anonymous clients\n"
                                  "topic read public/#\n"
                                  "\n"
                                  "user alice\n"
                                  "topic read a/#\n"
                                  "topic write b/#\n"
                                  "topic deny a/secret\n"
                                  "topic readwrite c/+\n"
                                  "topic $SYS/broker/version\n"
                                  "user bob\n"
                                  "topic b/#\n"
                                  "pattern readwrite p/%u/%c/#\n"
                                  "pattern read devices/%c\n";

Test(broker_acl, user_rules_read_write_readwrite)
{
    broker_acl *acl = parse(SAMPLE);
    cr_assert(can(acl, "alice", "x", "a/1", R));
    cr_assert_not(can(acl, "alice", "x", "a/1", W));
    cr_assert(can(acl, "alice", "x", "b/1", W));
    cr_assert_not(can(acl, "alice", "x", "b/1", R));
    cr_assert(can(acl, "alice", "x", "c/1", R));
    cr_assert(can(acl, "alice", "x", "c/1", W));
    cr_assert_not(can(acl, "alice", "x", "c/1/2", R), "+ is one level");
    cr_assert(can(acl, "bob", "x", "b/z", R), "no access word: readwrite");
    cr_assert(can(acl, "bob", "x", "b/z", W));
    cr_assert_not(can(acl, "bob", "x", "a/1", R));
    broker_acl_free(acl);
}

Test(broker_acl, deny_wins_whatever_the_order)
{
    broker_acl *acl = parse(SAMPLE);
    cr_assert_not(can(acl, "alice", "x", "a/secret", R), "deny listed after the grant still wins");
    cr_assert(can(acl, "alice", "x", "a/secret/2", R), "deny is an exact filter");
    broker_acl *acl2 = parse("user u\ntopic deny x/#\ntopic readwrite x/#\npattern readwrite x/%c\n");
    cr_assert_not(can(acl2, "u", "id", "x/id", R), "a user deny is final, patterns are not consulted");
    broker_acl_free(acl);
    broker_acl_free(acl2);
}

Test(broker_acl, anonymous_rules_come_before_the_first_user_line)
{
    broker_acl *acl = parse(SAMPLE);
    cr_assert(can(acl, NULL, "x", "public/news", R));
    cr_assert_not(can(acl, NULL, "x", "public/news", W));
    cr_assert_not(can(acl, "alice", "x", "public/news", R), "alice has her own section");
    cr_assert_not(can(acl, "carol", "x", "public/news", R), "an unknown user gets the patterns only");
    cr_assert(can(acl, "carol", "dev1", "devices/dev1", R));
    broker_acl_free(acl);
}

Test(broker_acl, dollar_topics_need_dollar_rules)
{
    broker_acl *acl = parse("user u\ntopic read #\ntopic read $SYS/broker/version\n");
    cr_assert(can(acl, "u", "x", "a/b", R));
    cr_assert_not(can(acl, "u", "x", "$SYS/broker/uptime", R), "# does not give $SYS");
    cr_assert(can(acl, "u", "x", "$SYS/broker/version", R));
    broker_acl_free(acl);
}

Test(broker_acl, patterns_substitute_client_id_and_user_name)
{
    broker_acl *acl = parse(SAMPLE);
    cr_assert(can(acl, "carol", "dev1", "p/carol/dev1/x", W));
    cr_assert_not(can(acl, "carol", "dev1", "p/carol/dev2/x", W));
    cr_assert_not(can(acl, "carol", "dev1", "p/dave/dev1/x", W));
    cr_assert_not(can(acl, NULL, "dev1", "p/%u/dev1/x", W), "%%u patterns never apply to anonymous clients");
    cr_assert(can(acl, NULL, "dev1", "devices/dev1", R), "%%c patterns do");
    broker_acl_free(acl);
}

/* A client id or user name with + or # cannot widen a pattern: refused outright. */
Test(broker_acl, wildcards_in_ids_cannot_widen_patterns)
{
    broker_acl *acl = parse(SAMPLE);
    cr_assert_not(can(acl, "carol", "+", "devices/dev9", R));
    cr_assert_not(can(acl, "carol", "#", "devices/x/y", R));
    cr_assert_not(can(acl, "ca#", "d", "p/anything/d/x", W));
    cr_assert_not(can(acl, "c+", "d", "p/x/d/y", W));
    cr_assert_not(can(acl, "carol", "dev+", "devices/dev+", R), "even the literal topic");
    /* User rules are decided before the check, as in mosquitto. */
    cr_assert(can(acl, "alice", "#", "a/1", R));
    broker_acl_free(acl);
}

Test(broker_acl, subscriptions_refused_only_when_nothing_is_readable)
{
    broker_acl *acl = parse(SAMPLE);
    mqtt_bytes f;
    f = tc_str("a/#");
    cr_assert(broker_acl_filter_readable(acl, "alice", "x", f));
    f = tc_str("#");
    cr_assert(broker_acl_filter_readable(acl, "alice", "x", f), "overlaps a/#: granted, filtered per message");
    f = tc_str("b/#");
    cr_assert_not(broker_acl_filter_readable(acl, "alice", "x", f), "write only");
    f = tc_str("a/secret");
    cr_assert_not(broker_acl_filter_readable(acl, "alice", "x", f), "inside a deny rule");
    f = tc_str("$SYS/#");
    cr_assert(broker_acl_filter_readable(acl, "alice", "x", f));
    f = tc_str("$SYS/broker/uptime");
    cr_assert_not(broker_acl_filter_readable(acl, "alice", "x", f));
    f = tc_str("devices/+");
    cr_assert(broker_acl_filter_readable(acl, "carol", "dev1", f));
    cr_assert_not(broker_acl_filter_readable(acl, "carol", "dev#", f));
    broker_acl_free(acl);
}

Test(broker_acl, filter_relations)
{
    struct { const char *a, *b; bool overlap, a_within_b; } cases[] = {
        {"a/b", "a/b", true, true},   {"a/+", "a/b", true, false},  {"a/b", "a/+", true, true},
        {"a/#", "a", true, false},    {"a", "a/#", true, true},     {"#", "a/b", true, false},
        {"a/b", "#", true, true},     {"a/b", "a/c", false, false}, {"a/+/c", "a/b/+", true, false},
        {"+/x", "$SYS/x", false, false}, {"$SYS/#", "#", false, false}, {"a/b/c", "a/b", false, false},
        {"a/+", "a/#", true, true},   {"a/#", "a/+", true, false},  {"+", "+", true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mqtt_bytes a = tc_str(cases[i].a), b = tc_str(cases[i].b);
        cr_assert_eq(broker_filters_overlap(a, b), cases[i].overlap, "overlap %s %s", cases[i].a, cases[i].b);
        cr_assert_eq(broker_filters_overlap(b, a), cases[i].overlap, "overlap %s %s", cases[i].b, cases[i].a);
        cr_assert_eq(broker_filter_within(a, b), cases[i].a_within_b, "%s within %s", cases[i].a, cases[i].b);
    }
}

Test(broker_acl, malformed_lines_name_file_and_line)
{
    struct { const char *text, *msg; } cases[] = {
        {"topic read a\nbogus x\n", "test.acl:2: unknown keyword 'bogus' (expected topic, pattern or user)"},
        {"topic\n", "test.acl:1: topic: missing topic filter"},
        {"topic sometimes a/b\n", "test.acl:1: topic: access 'sometimes' is not read, write, readwrite or deny"},
        {"user\n", "test.acl:1: user: missing user name"},
        {"topic read a/#/b\n", "test.acl:1: topic: \"a/#/b\" is not a valid topic filter (MQTT-4.7.1-2)"},
        {"pattern write x+\n", "test.acl:1: pattern: \"x+\" is not a valid topic filter (MQTT-4.7.1-3)"},
        {"  # indented comment\n", "test.acl:1: unknown keyword '#' (expected topic, pattern or user)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        broker_acl *acl = broker_acl_parse(cases[i].text, strlen(cases[i].text), "test.acl", err, sizeof err);
        cr_assert_null(acl, "case %zu accepted", i);
        cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
    }
    const char nul[] = "topic a\n\0\n";
    char err[256];
    cr_assert_null(broker_acl_parse(nul, sizeof nul - 1, "n.acl", err, sizeof err));
    cr_assert_str_eq(err, "n.acl:2: NUL byte in line");
}

Test(broker_acl, blanks_crlf_and_spaces_in_filters)
{
    broker_acl *acl = parse("user u\r\ntopic read   a b/c   \r\n\t\n# c\n");
    cr_assert(can(acl, "u", "x", "a b/c", R), "the filter is the rest of the line");
    cr_assert_eq(broker_acl_rule_count(acl), 1);
    broker_acl_free(acl);
}

/* ---- the core applying an ACL ---- */

static tc_broker *with_acl(broker_acl *acl)
{
    tc_broker *b = tc_new(NULL);
    broker_policy p = {.allow_anonymous = true, .acl = acl};
    broker_core_set_policy(b->core, 0, &p);
    return b;
}

static tc_client *connect_user(tc_broker *b, mqtt_version v, const char *id, const char *user)
{
    tc_client *c = tc_open(b, v);
    mqtt_packet p;
    tc_connect_init(&p, id, true);
    if (user) {
        p.connect.has_username = true;
        p.connect.username = tc_str(user);
    }
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    return c;
}

Test(broker_acl_core, denied_publish_is_acked_0x87_and_dropped)
{
    broker_acl *acl = parse(SAMPLE);
    tc_broker *b = with_acl(acl);
    tc_client *sub = connect_user(b, MQTT_V5, "sub", "alice");
    tc_subscribe(sub, "c/+", 1);
    tc_client *pub = connect_user(b, MQTT_V5, "pub", "alice");
    uint16_t id = tc_publish(pub, "a/x", "no write", 1, false);
    mqtt_packet *ack = tc_expect(pub, MQTT_PUBACK);
    cr_assert_eq(ack->ack.packet_id, id);
    cr_assert_eq(ack->ack.reason_code, 0x87);
    id = tc_publish(pub, "a/y", "no write either", 2, false);
    ack = tc_expect(pub, MQTT_PUBREC);
    cr_assert_eq(ack->ack.reason_code, 0x87);
    tc_publish_done(pub, "c/1", "allowed", 1, false);
    tc_expect_publish(sub, "c/1", "allowed");
    tc_expect_none(sub);
    cr_assert(tc_log_has(b, "PUBLISH on \"a/x\" refused (0x87)"));
    tc_free(b);
    broker_acl_free(acl);
}

Test(broker_acl_core, denied_subscription_gets_0x80_or_0x87)
{
    broker_acl *acl = parse(SAMPLE);
    tc_broker *b = with_acl(acl);
    tc_client *c5 = connect_user(b, MQTT_V5, "s5", "alice");
    tc_subscribe_expect(c5, "b/#", 1, 0x87);
    tc_subscribe_expect(c5, "a/#", 1, 1);
    tc_client *c3 = connect_user(b, MQTT_V311, "s3", "alice");
    tc_subscribe_expect(c3, "a/secret", 0, 0x80);
    tc_free(b);
    broker_acl_free(acl);
}

Test(broker_acl_core, messages_filtered_by_read_access_at_delivery)
{
    broker_acl *acl = parse(SAMPLE);
    tc_broker *b = with_acl(acl);
    tc_client *sub = connect_user(b, MQTT_V311, "sub", "alice");
    tc_subscribe(sub, "#", 0); /* granted: a/# and c/+ are readable */
    tc_client *pub = connect_user(b, MQTT_V311, "pub", "bob");
    tc_publish(pub, "b/1", "bob writes b, alice cannot read it", 0, false);
    tc_client *pub2 = connect_user(b, MQTT_V311, "pub2", "alice");
    tc_publish(pub2, "c/2", "readable", 0, true);
    tc_expect_publish(sub, "c/2", "readable");
    tc_expect_none(sub);
    /* Retained messages on subscribe are filtered too. */
    tc_publish(pub, "b/kept", "retained for bob", 0, true);
    tc_client *late = connect_user(b, MQTT_V311, "late", "alice");
    tc_subscribe(late, "#", 0);
    tc_expect_publish(late, "c/2", "readable");
    tc_expect_none(late);
    tc_free(b);
    broker_acl_free(acl);
}

Test(broker_acl_core, will_needs_write_access)
{
    broker_acl *acl = parse("user w\ntopic write ok/#\ntopic read #\n");
    tc_broker *b = with_acl(acl);
    tc_client *watch = connect_user(b, MQTT_V311, "watch", "w");
    tc_subscribe(watch, "#", 0);
    for (int allowed = 0; allowed < 2; allowed++) {
        tc_client *c = tc_open(b, MQTT_V311);
        mqtt_packet p;
        tc_connect_init(&p, allowed ? "dies-ok" : "dies-bad", true);
        p.connect.has_username = true;
        p.connect.username = tc_str("w");
        p.connect.will = true;
        p.connect.will_topic = tc_str(allowed ? "ok/will" : "no/will");
        p.connect.will_payload = tc_str("bye");
        cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0);
        tc_drop(c);
    }
    tc_expect_publish(watch, "ok/will", "bye");
    tc_expect_none(watch);
    cr_assert(tc_log_has(b, "Will on \"no/will\" not published"));
    tc_free(b);
    broker_acl_free(acl);
}

/* ---- sessions and users (issue 14): a session's messages reach only a
 * user the ACL lets read them, at the moment they are sent ---- */

static const char *const TWO_USERS = "user alice\ntopic readwrite a/#\nuser bob\ntopic readwrite b/#\n";

static tc_client *connect_as(tc_broker *b, const char *id, const char *user, bool clean, bool expect_present)
{
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, id, clean);
    p.connect.has_username = true;
    p.connect.username = tc_str(user);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    cr_assert_eq(ack->connack.session_present, expect_present, "%s as %s: Session Present %d", user, id,
                 ack->connack.session_present);
    return c;
}

Test(broker_acl_core, another_user_taking_over_a_client_id_gets_a_new_session)
{
    broker_acl *acl = parse(TWO_USERS);
    tc_broker *b = with_acl(acl);
    tc_client *alice = connect_as(b, "X", "alice", false, false);
    tc_subscribe(alice, "a/#", 1);
    tc_client *pub = connect_user(b, MQTT_V311, "P", "alice");
    tc_publish_done(pub, "a/1", "in flight", 1, false);
    tc_expect_publish(alice, "a/1", "in flight"); /* not acknowledged */
    tc_drop(alice);
    tc_publish_done(pub, "a/2", "queued", 1, false);
    /* bob, with alice's client id: neither her in-flight nor her queued
     * message, nor her subscription; Session Present 0 (the session he
     * asked to resume is not his). */
    tc_client *bob = connect_as(b, "X", "bob", false, false);
    tc_expect_none(bob);
    tc_publish_done(pub, "a/3", "after the takeover", 1, false);
    tc_expect_none(bob);
    cr_assert(tc_log_has(b, "session of user \"alice\" discarded"));
    tc_drop(bob);
    /* alice's session is gone: she starts afresh too (bob's is not hers). */
    tc_client *again = connect_as(b, "X", "alice", false, false);
    tc_expect_none(again);
    tc_free(b);
    broker_acl_free(acl);
}

Test(broker_acl_core, same_user_resumes_its_session)
{
    broker_acl *acl = parse(TWO_USERS);
    tc_broker *b = with_acl(acl);
    tc_client *alice = connect_as(b, "X", "alice", false, false);
    tc_subscribe(alice, "a/#", 1);
    tc_drop(alice);
    tc_client *pub = connect_user(b, MQTT_V311, "P", "alice");
    tc_publish_done(pub, "a/1", "queued", 1, false);
    tc_client *again = connect_as(b, "X", "alice", false, true);
    tc_expect_publish(again, "a/1", "queued");
    tc_free(b);
    broker_acl_free(acl);
}

/* The ACL in force when a message is sent decides, not the one when it was
 * queued: queued and in-flight messages of a user whose read access was
 * revoked (ACL reload) are dropped, not sent. */
Test(broker_acl_core, queued_and_inflight_messages_pass_the_acl_at_send_time)
{
    broker_acl *acl = parse(TWO_USERS);
    tc_broker *b = with_acl(acl);
    tc_client *alice = connect_as(b, "X", "alice", false, false);
    tc_subscribe(alice, "a/#", 1);
    tc_client *pub = connect_user(b, MQTT_V311, "P", "alice");
    tc_publish_done(pub, "a/1", "in flight", 1, false);
    tc_expect_publish(alice, "a/1", "in flight");
    tc_drop(alice);
    tc_publish_done(pub, "a/2", "queued", 1, false);
    broker_acl *revoked = parse("user alice\ntopic write a/#\n");
    broker_policy p = {.allow_anonymous = true, .acl = revoked};
    broker_core_set_policy(b->core, 0, &p);
    tc_client *again = connect_as(b, "X", "alice", false, true);
    tc_expect_none(again);
    cr_assert(tc_log_has(b, "not readable by user \"alice\""));
    tc_free(b);
    broker_acl_free(acl);
    broker_acl_free(revoked);
}
