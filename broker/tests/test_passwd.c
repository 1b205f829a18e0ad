/*
 * Password files (broker_passwd.c): mosquitto's $7$ (PBKDF2-SHA512) and $6$
 * (SHA-512) hashes, a line made by Debian's mosquitto_passwd, strict
 * parsing with FILE:LINE errors, and the core's CONNECT decisions with a
 * password file: 0x05 / 0x87 on failure, logged without the password.
 */
#include "broker/src/broker_passwd.h"
#include "broker/tests/tc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Made by mosquitto_passwd 2.0.11 (Debian 12): user "alice", password "secret". */
static const char *const MOSQUITTO_LINE =
    "alice:$7$101$6KVQxMBOT0r8elbH$AYhHj/MLbU6a4QjDzweQJDGoEepthAt8pJHo03wkzHU0FfjsrMNXqVahwMhBXUbhbkJQY0r3X3vXfV3lJ7Q7Sg==\n";

static broker_passwd *parse(const char *text)
{
    char err[300] = "";
    broker_passwd *pw = broker_passwd_parse(text, strlen(text), "test.pw", err, sizeof err);
    cr_assert_not_null(pw, "%s", err);
    return pw;
}

static bool check(broker_passwd *pw, const char *user, const char *password)
{
    return broker_passwd_check(pw, user, (const uint8_t *)password, strlen(password));
}

Test(broker_passwd, reads_a_mosquitto_passwd_line)
{
    broker_passwd *pw = parse(MOSQUITTO_LINE);
    cr_assert(check(pw, "alice", "secret"));
    cr_assert_not(check(pw, "alice", "Secret"));
    cr_assert_not(check(pw, "alice", ""));
    cr_assert_not(check(pw, "bob", "secret"));
    broker_passwd_free(pw);
}

Test(broker_passwd, hash_round_trip_both_types)
{
    for (int t = 0; t < 2; t++) {
        char hash[256], err[100];
        broker_pw_type type = t ? BROKER_PW_SHA512 : BROKER_PW_SHA512_PBKDF2;
        cr_assert_eq(broker_passwd_hash(hash, sizeof hash, "pässwörd", type, 0, err, sizeof err), 0);
        cr_assert(strncmp(hash, t ? "$6$" : "$7$101$", t ? 3 : 7) == 0, "%s", hash);
        char line[300];
        snprintf(line, sizeof line, "# comment\n\nuser one:%s\r\n", hash);
        broker_passwd *pw = parse(line);
        cr_assert(check(pw, "user one", "pässwörd"));
        cr_assert_not(check(pw, "user one", "password"));
        broker_passwd_free(pw);
    }
    char a[256], b[256], err[100];
    broker_passwd_hash(a, sizeof a, "x", BROKER_PW_SHA512_PBKDF2, 0, err, sizeof err);
    broker_passwd_hash(b, sizeof b, "x", BROKER_PW_SHA512_PBKDF2, 0, err, sizeof err);
    cr_assert_str_neq(a, b, "a fresh salt every time");
}

Test(broker_passwd, malformed_lines_name_file_and_line)
{
    struct { const char *text, *msg; } cases[] = {
        {"# ok\nalice\n", "test.pw:2: expected USER:HASH"},
        {"alice:secret\n", "test.pw:1: user 'alice': expected a hash starting with $7$ or $6$ (a plain text password?)"},
        {"a:$5$x$y\n", "test.pw:1: user 'a': unknown hash type '$5$' (expected $7$ or $6$)"},
        {"a:$7$0$6KVQxMBOT0r8elbH$AAAA\n", "test.pw:1: user 'a': iterations '0' is not a number from 1 to 100000000"},
        {"a:$7$101$6KVQ$AAAA\n", "test.pw:1: user 'a': the salt is 3 bytes, expected 12"},
        {"a:$7$101$6KVQxMBOT0r8elb!$AAAA\n", "test.pw:1: user 'a': the salt is not valid base64"},
        {"a:$7$101$6KVQxMBOT0r8elbH$AAAA\n", "test.pw:1: user 'a': the hash is 3 bytes, expected 64"},
        {"a:$7$101$6KVQxMBOT0r8elbH\n", "test.pw:1: user 'a': expected $7$ITERATIONS$SALT$HASH"},
        {":$6$a$b\n", "test.pw:1: empty user name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[300] = "";
        broker_passwd *pw = broker_passwd_parse(cases[i].text, strlen(cases[i].text), "test.pw", err, sizeof err);
        cr_assert_null(pw, "case %zu accepted", i);
        cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
    }
    char twice[600];
    snprintf(twice, sizeof twice, "%s%s", MOSQUITTO_LINE, MOSQUITTO_LINE);
    char err[300];
    cr_assert_null(broker_passwd_parse(twice, strlen(twice), "t.pw", err, sizeof err));
    cr_assert_str_eq(err, "t.pw:2: user 'alice' is listed twice");
}

Test(broker_passwd, base64)
{
    uint8_t out[16];
    cr_assert_eq(broker_base64_decode("YWJj", 4, out, sizeof out), 3);
    cr_assert_eq(memcmp(out, "abc", 3), 0);
    cr_assert_eq(broker_base64_decode("YWI=", 4, out, sizeof out), 2);
    cr_assert_eq(broker_base64_decode("YQ==", 4, out, sizeof out), 1);
    cr_assert_eq(broker_base64_decode("Y===", 4, out, sizeof out), -1);
    cr_assert_eq(broker_base64_decode("YQ=a", 4, out, sizeof out), -1);
    cr_assert_eq(broker_base64_decode("YWJ", 3, out, sizeof out), -1);
    char enc[16];
    cr_assert_eq(broker_base64_encode((const uint8_t *)"ab", 2, enc, sizeof enc), 4);
    cr_assert_str_eq(enc, "YWI=");
}

/* ---- CONNECT with a password file ---- */

static mqtt_packet *login(tc_client *c, const char *user, const char *password)
{
    mqtt_packet p;
    tc_connect_init(&p, "login", true);
    if (user) {
        p.connect.has_username = true;
        p.connect.username = tc_str(user);
    }
    if (password) {
        p.connect.has_password = true;
        p.connect.password = tc_str(password);
    }
    return tc_connect_pkt(c, &p);
}

Test(broker_passwd_core, connect_decisions_as_mosquitto)
{
    broker_passwd *pw = parse(MOSQUITTO_LINE);
    struct { bool anon_ok; mqtt_version v; const char *user, *password; uint8_t code; } cases[] = {
        {false, MQTT_V311, "alice", "secret", 0x00},
        {false, MQTT_V311, "alice", "Wr0ng-pw", 0x05},
        {false, MQTT_V311, "nobody", "secret", 0x05},
        {false, MQTT_V311, "alice", NULL, 0x05},
        {false, MQTT_V311, NULL, NULL, 0x05},
        {false, MQTT_V5, "alice", "secret", 0x00},
        {false, MQTT_V5, "alice", "Wr0ng-pw", 0x87},
        {false, MQTT_V5, NULL, NULL, 0x87},
        {true, MQTT_V5, NULL, NULL, 0x00},           /* anonymous allowed */
        {true, MQTT_V5, "alice", "Wr0ng-pw", 0x87},     /* a user name must still match */
        {true, MQTT_V311, "alice", "secret", 0x00},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_broker *b = tc_new(NULL);
        broker_policy p = {.allow_anonymous = cases[i].anon_ok, .check_password = broker_passwd_check,
                           .password_ctx = pw};
        broker_core_set_policy(b->core, 0, &p);
        tc_client *c = tc_open(b, cases[i].v);
        mqtt_packet *ack = login(c, cases[i].user, cases[i].password);
        cr_assert_eq(ack->connack.reason_code, cases[i].code, "case %zu: 0x%02X", i, ack->connack.reason_code);
        if (cases[i].code) {
            tc_expect_closed(c, -1);
            if (cases[i].password) cr_assert_null(strstr(b->log, cases[i].password), "password in the log");
            cr_assert(tc_log_has(b, "CONNACK"));
        }
        tc_free(b);
    }
    broker_passwd_free(pw);
}

Test(broker_passwd_core, failed_login_logged_without_password)
{
    broker_passwd *pw = parse(MOSQUITTO_LINE);
    tc_broker *b = tc_new(NULL);
    broker_policy p = {.check_password = broker_passwd_check, .password_ctx = pw};
    broker_core_set_policy(b->core, 0, &p);
    tc_client *c = tc_open(b, MQTT_V311);
    login(c, "alice", "hunter2-wrong");
    cr_assert(tc_log_has(b, "login failed for user \"alice\""));
    cr_assert_null(strstr(b->log, "hunter2"));
    tc_free(b);
    broker_passwd_free(pw);
}

Test(broker_passwd_core, identity_as_username)
{
    tc_broker *b = tc_new(NULL);
    broker_policy p = {.use_identity_as_username = true};
    broker_core_set_policy(b->core, 0, &p);
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet *ack = login(c, "ignored", "ignored");
    cr_assert_eq(ack->connack.reason_code, 0x87, "no certificate: refused");
    tc_client *d = tc_open(b, MQTT_V5);
    broker_conn_set_identity(d->conn, "device-7");
    ack = login(d, NULL, NULL);
    cr_assert_eq(ack->connack.reason_code, 0);
    tc_free(b);
}

/* 100,000 users load in O(n): the duplicate check and the lookups are
 * hashed (issue 14: a linear search per line made loading O(n^2), 19 s,
 * and a SIGHUP reload blocked the broker as long). Counted, not timed. */
Test(broker_passwd, a_large_file_loads_in_linear_work)
{
    const size_t n = 100000;
    const char *hash = strchr(MOSQUITTO_LINE, ':');
    size_t line_max = strlen(hash) + 32;
    char *text = malloc(n * line_max);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += (size_t)sprintf(text + len, "user%zu%s", i, hash);
    tc_strcmp_calls = 0;
    char err[300] = "";
    broker_passwd *pw = broker_passwd_parse(text, len, "big.pw", err, sizeof err);
    cr_assert_not_null(pw, "%s", err);
    size_t work = tc_strcmp_calls;
    cr_assert_eq(broker_passwd_count(pw), n);
    cr_assert_lt(work, 4 * n, "%zu string comparisons to load %zu users", work, n);
    tc_strcmp_calls = 0;
    cr_assert(check(pw, "user99999", "secret"));
    cr_assert_not(check(pw, "user100000", "secret"));
    cr_assert_lt(tc_strcmp_calls, 10, "a lookup compares a handful of names");
    /* The duplicate check still holds. */
    memcpy(text + len, "user7", 5);
    strcpy(text + len + 5, hash);
    broker_passwd_free(pw);
    cr_assert_null(broker_passwd_parse(text, len + 5 + strlen(hash), "big.pw", err, sizeof err));
    cr_assert_str_eq(err, "big.pw:100001: user 'user7' is listed twice");
    free(text);
}
