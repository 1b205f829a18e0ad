/*
 * mqtt-sub's printing: plain, -v, -N and -F specifiers, compared with what
 * mosquitto_sub 2.0.11 prints for the same message (outputs recorded from
 * Debian's mosquitto_sub, including its quirks: the payload cut to the field
 * width, "%-p" padding with as many spaces as the payload is long).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/src/client_output.h"

static client_cfg cfg;
static char *buf;
static size_t len;

static void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.eol = true;
    cfg.random_filter = 10000;
    buf = NULL;
    len = 0;
}

static void teardown(void)
{
    free(buf);
}

TestSuite(client_output, .init = setup, .fini = teardown);

static mqtt_bytes B(const char *s)
{
    return (mqtt_bytes){(const uint8_t *)s, strlen(s)};
}

/* Prints msg with format fmt (NULL: plain/verbose per cfg) and returns the text. */
static const char *print(const char *fmt, const client_message *msg)
{
    free(buf);
    buf = NULL;
    cfg.format = (char *)fmt;
    FILE *f = open_memstream(&buf, &len);
    client_print_message(f, &cfg, msg);
    fclose(f);
    cfg.format = NULL;
    return buf;
}

static client_message retained_msg(void)
{
    client_message m = {B("f/r"), B("retained-msg"), 0, true, 0, NULL};
    return m;
}

Test(client_output, plain_prints_payload_and_newline)
{
    client_message m = retained_msg();
    cr_assert_str_eq(print(NULL, &m), "retained-msg\n");
}

Test(client_output, plain_prints_nothing_for_empty_payload)
{
    client_message m = {B("n/1"), B(""), 0, false, 0, NULL};
    cr_assert_str_eq(print(NULL, &m), "");
    cfg.verbose = true;
    cr_assert_str_eq(print(NULL, &m), "n/1 (null)\n");
    cfg.eol = false;
    cr_assert_str_eq(print(NULL, &m), "");
}

Test(client_output, verbose_and_no_eol)
{
    client_message m = {B("n/2"), B("two"), 0, false, 0, NULL};
    cfg.verbose = true;
    cr_assert_str_eq(print(NULL, &m), "n/2 two\n");
    cfg.eol = false;
    cr_assert_str_eq(print(NULL, &m), "n/2 two");
}

Test(client_output, format_fields_as_mosquitto_sub)
{
    client_message m = retained_msg();
    /* Recorded from mosquitto_sub -F '%t|%p|%q|%r|%m|%l|%x|%X|%%|%10t|%-10t|%.2t|%5.1t|%A|%C|%D|%E|%F|%P|%R|%S|' */
    cr_assert_str_eq(print("%t|%p|%q|%r|%m|%l|%x|%X|%%|%10t|%-10t|%.2t|%5.1t|%A|%C|%D|%E|%F|%P|%R|%S|", &m),
                     "f/r|retained-msg|0|1|0|12|72657461696e65642d6d7367|72657461696E65642D6D7367|%|"
                     "       f/r|f/r       |f/|    f|||||||||\n");
}

Test(client_output, payload_widths_cut_and_pad_like_mosquitto)
{
    client_message m = retained_msg();
    cr_assert_str_eq(print("%20p|%-20p|%020p|%08x|%3x|%-8X|%05l|%-5l|%3q|%5r|%05m|%.3p", &m),
                     "        retained-msg|retained-msg        |00000000retained-msg|72657461| 72|72657461|00012|"
                     "12   |0|1|00000|retained-msg\n");
    cr_assert_str_eq(print("[%3p][%-p]", &m), "[ret][retained-msg            ]\n");
}

Test(client_output, escapes_and_at_signs)
{
    client_message m = retained_msg();
    const char *out = print("a\\tb\\\\c\\ed\\nx@@y\\0z", &m);
    cr_assert_eq(len, 14);
    cr_assert_eq(memcmp(out, "a\tb\\c\033d\nx@y\0z\n", 14), 0);
}

Test(client_output, no_eol_with_format)
{
    client_message m = retained_msg();
    cfg.eol = false;
    cr_assert_str_eq(print("%t", &m), "f/r");
}

Test(client_output, mqtt5_properties)
{
    mqtt_user_property users[2] = {{B("k1"), B("v1")}, {B("k2"), B("v2")}};
    uint32_t subid = 7;
    mqtt_properties p = {0};
    p.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL) | MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
                MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) | MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA) |
                MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) | MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
    p.message_expiry_interval = 100;
    p.content_type = B("text/x");
    p.response_topic = B("r/t");
    p.correlation_data = B("cd1");
    p.payload_format_indicator = 1;
    p.topic_alias = 3;
    p.user_properties = users;
    p.user_property_count = 2;
    p.subscription_identifiers = &subid;
    p.subscription_identifier_count = 1;
    client_message m = {B("p5/1"), B("q1msg"), 1, false, 1, &p};
    /* Recorded: mosquitto_sub -V 5 -F '%t %p %E %C %R %D %F %P|%A|%S' (alias and subid added here) */
    cr_assert_str_eq(print("%t %p %E %C %R %D %F %P|%A|%S", &m), "p5/1 q1msg 100 text/x r/t cd1 1 k1:v1 k2:v2|3|7\n");
    cr_assert_str_eq(print("%05E|%-5F|%3S|%8C|", &m), "00100|1    |  7|  text/x|\n");
}

Test(client_output, absent_properties_print_blanks)
{
    client_message m = {B("p5/2"), B("q2msg"), 2, false, 2, NULL};
    cr_assert_str_eq(print("%t %p %E %C %R %D %F %P|%A|%S", &m), "p5/2 q2msg      ||\n");
    cr_assert_str_eq(print("[%3E][%03A][%4C]", &m), "[   ][000][    ]\n");
}

Test(client_output, json_escaped_payload)
{
    client_message m = {B("j/1"), {(const uint8_t *)"a\"b\\c\nd\te\x01\xc3\xa9", 12}, 0, true, 0, NULL};
    const char *out = print("%j", &m);
    const char *tail = strstr(out, "\"topic\"");
    cr_assert_not_null(tail);
    cr_assert_eq(strncmp(out, "{\"tst\":\"", 8), 0);
    cr_assert_str_eq(tail, "\"topic\":\"j/1\",\"qos\":0,\"retain\":1,\"payloadlen\":12,"
                           "\"payload\":\"a\\\"b\\\\c\\nd\\te\\u0001\xc3\xa9\"}\n");
}

Test(client_output, json_timestamp_layout)
{
    client_message m = retained_msg();
    const char *out = print("%j", &m);
    /* "2026-11-22T02:37:24.215722Z+0000" : microseconds, then Z, then the zone */
    cr_assert_eq(strlen(out) > 40, true);
    cr_assert_eq(out[8 + 19], '.');
    cr_assert_eq(out[8 + 26], 'Z');
    cr_assert(out[8 + 27] == '+' || out[8 + 27] == '-');
}

Test(client_output, json_payload_reformatted_and_pretty)
{
    client_message m = {B("j/2"), B("{\"a\": [1, 2.5, \"x\"], \"b\": null}"), 1, false, 9, NULL};
    const char *out = print("%J", &m);
    cr_assert_str_eq(strstr(out, "\"topic\""),
                     "\"topic\":\"j/2\",\"qos\":1,\"retain\":0,\"payloadlen\":31,\"mid\":9,"
                     "\"payload\":{\"a\":[1,2.5,\"x\"],\"b\":null}}\n");
    cfg.pretty = true;
    out = print("%J", &m);
    cr_assert_str_eq(strstr(out, "\"topic\""), "\"topic\":\t\"j/2\",\n\t\"qos\":\t1,\n\t\"retain\":\t0,\n"
                                               "\t\"payloadlen\":\t31,\n\t\"mid\":\t9,\n\t\"payload\":\t{\n"
                                               "\t\t\"a\":\t[1, 2.5, \"x\"],\n\t\t\"b\":\tnull\n\t}\n}\n");
}

static void setup_quiet(void)
{
    setup();
    cr_redirect_stderr();
}

Test(client_output, json_invalid_payload_prints_only_the_rest, .init = setup_quiet)
{
    client_message m = {B("j/3"), B("{not json"), 0, false, 0, NULL};
    cr_assert_str_eq(print("[%J]", &m), "[]\n");
}

Test(client_output, json_empty_payload_is_null)
{
    client_message m = {B("j/4"), B(""), 0, false, 0, NULL};
    const char *out = print("%J", &m);
    cr_assert_not_null(strstr(out, "\"payloadlen\":0,\"payload\":null}"));
    out = print("%j", &m);
    cr_assert_not_null(strstr(out, "\"payload\":null}"));
}

Test(client_output, json_properties_object)
{
    mqtt_user_property users[2] = {{B("k"), B("v")}, {B("k"), B("v2")}};
    mqtt_properties p = {0};
    p.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) | MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) |
                MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA) | MQTT_PROP_BIT(MQTT_PROP_RESPONSE_TOPIC) |
                MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.content_type = B("ct");
    p.payload_format_indicator = 1;
    p.correlation_data = B("cd");
    p.response_topic = B("rt");
    p.message_expiry_interval = 50;
    p.user_properties = users;
    p.user_property_count = 2;
    uint32_t subid = 7;
    p.subscription_identifiers = &subid;
    p.subscription_identifier_count = 1;
    client_message m = {B("o/1"), B("hi"), 0, false, 0, &p};
    const char *out = print("%j", &m);
    /* mosquitto_sub's output when a mosquitto broker forwards a message whose publisher sent
     * them in ascending order: subscription identifier first, expiry last, duplicates kept */
    cr_assert_str_eq(strstr(out, "\"topic\""),
                     "\"topic\":\"o/1\",\"qos\":0,\"retain\":0,\"payloadlen\":2,\"properties\":{"
                     "\"subscription-identifier\":7,\"payload-format-indicator\":1,\"content-type\":\"ct\",\"response-topic\":\"rt\","
                     "\"correlation-data\":\"cd\",\"user-properties\":{\"k\":\"v\",\"k\":\"v2\"},"
                     "\"message-expiry-interval\":50},\"payload\":\"hi\"}\n");
}

Test(client_output, binary_payload_written_raw)
{
    static const uint8_t bytes[] = {0, 1, 0xff, '\n', 0};
    client_message m = {B("b"), {bytes, sizeof bytes}, 0, false, 0, NULL};
    cfg.eol = false;
    print(NULL, &m);
    cr_assert_eq(len, sizeof bytes);
    cr_assert_eq(memcmp(buf, bytes, sizeof bytes), 0);
}
