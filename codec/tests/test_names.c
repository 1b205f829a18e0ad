/*
 * Names for people and reports (packet types, statuses, versions, the 27
 * properties, reason codes in the context of their packet, 3.x CONNACK return
 * codes) and the formatter: one line per packet, JSON, and errors, all with
 * snprintf semantics (never more than cap bytes, always NUL-terminated, the
 * full length returned). The formatter tests here start from decoded vectors;
 * test_format.c covers the formatter from built structs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vectors.h"

Test(codec_names, packet_types)
{
    static const char *const names[] = {NULL,       "CONNECT",   "CONNACK",     "PUBLISH",
                                        "PUBACK",   "PUBREC",    "PUBREL",      "PUBCOMP",
                                        "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                        "PINGREQ",  "PINGRESP",  "DISCONNECT",  "AUTH"};
    for (int t = 1; t < 16; t++)
        cr_assert_str_eq(mqtt_packet_type_name((mqtt_packet_type)t), names[t]);
    cr_assert_not_null(mqtt_packet_type_name((mqtt_packet_type)0));
    cr_assert_str_eq(mqtt_packet_type_name((mqtt_packet_type)16), "UNKNOWN");
    cr_assert_str_eq(mqtt_packet_type_name((mqtt_packet_type)-1), "UNKNOWN");
}

Test(codec_names, statuses_and_versions)
{
    cr_assert_str_eq(mqtt_status_name(MQTT_OK), "ok");
    cr_assert_str_eq(mqtt_status_name(MQTT_NEED_MORE), "need more");
    cr_assert_str_eq(mqtt_status_name(MQTT_ERR_MALFORMED), "malformed");
    cr_assert_str_eq(mqtt_status_name(MQTT_ERR_PROTOCOL), "protocol error");
    cr_assert_str_eq(mqtt_status_name(MQTT_ERR_LIMIT), "limit");
    cr_assert_str_eq(mqtt_status_name(MQTT_ERR_UNSUPPORTED_VERSION), "unsupported version");
    cr_assert_not_null(mqtt_status_name((mqtt_status)42));
    cr_assert_str_eq(mqtt_version_name(MQTT_V31), "3.1");
    cr_assert_str_eq(mqtt_version_name(MQTT_V311), "3.1.1");
    cr_assert_str_eq(mqtt_version_name(MQTT_V5), "5.0");
    cr_assert_str_eq(mqtt_version_name(MQTT_VERSION_UNKNOWN), "unknown");
    cr_assert_str_eq(mqtt_version_name((mqtt_version)6), "unknown");
}

Test(codec_names, all_27_properties_by_their_spec_names)
{
    static const struct {
        mqtt_property_id id;
        const char *name;
    } props[] = {
        {0x01, "Payload Format Indicator"}, {0x02, "Message Expiry Interval"},
        {0x03, "Content Type"}, {0x08, "Response Topic"}, {0x09, "Correlation Data"},
        {0x0B, "Subscription Identifier"}, {0x11, "Session Expiry Interval"},
        {0x12, "Assigned Client Identifier"}, {0x13, "Server Keep Alive"},
        {0x15, "Authentication Method"}, {0x16, "Authentication Data"},
        {0x17, "Request Problem Information"}, {0x18, "Will Delay Interval"},
        {0x19, "Request Response Information"}, {0x1A, "Response Information"},
        {0x1C, "Server Reference"}, {0x1F, "Reason String"}, {0x21, "Receive Maximum"},
        {0x22, "Topic Alias Maximum"}, {0x23, "Topic Alias"}, {0x24, "Maximum QoS"},
        {0x25, "Retain Available"}, {0x26, "User Property"}, {0x27, "Maximum Packet Size"},
        {0x28, "Wildcard Subscription Available"}, {0x29, "Subscription Identifier Available"},
        {0x2A, "Shared Subscription Available"},
    };
    cr_assert_eq(sizeof props / sizeof props[0], 27);
    for (size_t i = 0; i < 27; i++) cr_assert_str_eq(mqtt_property_name(props[i].id), props[i].name);
    cr_assert_str_eq(mqtt_property_name((mqtt_property_id)0x05), "unknown");
    cr_assert_str_eq(mqtt_property_name((mqtt_property_id)0x00), "unknown");
}

Test(codec_names, reason_codes_in_the_context_of_their_packet)
{
    cr_assert_str_eq(mqtt_reason_name(MQTT_PUBACK, 0x00), "Success");
    cr_assert_str_eq(mqtt_reason_name(MQTT_DISCONNECT, 0x00), "Normal disconnection");
    cr_assert_str_eq(mqtt_reason_name(MQTT_SUBACK, 0x00), "Granted QoS 0");
    cr_assert_str_eq(mqtt_reason_name(MQTT_SUBACK, 0x01), "Granted QoS 1");
    cr_assert_str_eq(mqtt_reason_name(MQTT_SUBACK, 0x02), "Granted QoS 2");
    cr_assert_str_eq(mqtt_reason_name(MQTT_DISCONNECT, 0x04), "Disconnect with Will Message");
    cr_assert_str_eq(mqtt_reason_name(MQTT_PUBREC, 0x10), "No matching subscribers");
    cr_assert_str_eq(mqtt_reason_name(MQTT_UNSUBACK, 0x11), "No subscription existed");
    cr_assert_str_eq(mqtt_reason_name(MQTT_AUTH, 0x18), "Continue authentication");
    cr_assert_str_eq(mqtt_reason_name(MQTT_AUTH, 0x19), "Re-authenticate");
    cr_assert_str_eq(mqtt_reason_name(MQTT_CONNACK, 0x84), "Unsupported Protocol Version");
    cr_assert_str_eq(mqtt_reason_name(MQTT_CONNACK, 0x87), "Not authorized");
    cr_assert_str_eq(mqtt_reason_name(MQTT_DISCONNECT, 0x8E), "Session taken over");
    cr_assert_str_eq(mqtt_reason_name(MQTT_DISCONNECT, 0x95), "Packet too large");
    cr_assert_str_eq(mqtt_reason_name(MQTT_PUBCOMP, 0x92), "Packet Identifier not found");
    cr_assert_str_eq(mqtt_reason_name(MQTT_SUBACK, 0xA2), "Wildcard Subscriptions not supported");
    /* Outside its packet a defined code keeps its general name; undefined is "unknown". */
    cr_assert_str_eq(mqtt_reason_name(MQTT_PUBACK, 0x8E), "Session taken over");
    cr_assert_str_eq(mqtt_reason_name(MQTT_PUBACK, 0x03), "unknown");
    cr_assert_str_eq(mqtt_reason_name(MQTT_DISCONNECT, 0xFF), "unknown");
}

Test(codec_names, connack_return_codes_of_3x)
{
    cr_assert_str_eq(mqtt_connack_return_name(0), "Connection Accepted");
    cr_assert_str_eq(mqtt_connack_return_name(1), "Connection Refused, unacceptable protocol version");
    cr_assert_str_eq(mqtt_connack_return_name(2), "Connection Refused, identifier rejected");
    cr_assert_str_eq(mqtt_connack_return_name(3), "Connection Refused, Server unavailable");
    cr_assert_str_eq(mqtt_connack_return_name(4), "Connection Refused, bad user name or password");
    cr_assert_str_eq(mqtt_connack_return_name(5), "Connection Refused, not authorized");
    cr_assert_str_eq(mqtt_connack_return_name(6), "unknown");
}

/* ---- formatter --------------------------------------------------------------- */

static char line[1024];

static const char *fmt_line(const char *hex, mqtt_version v, mqtt_side from)
{
    mqtt_codec c = tv_codec(v, from);
    const mqtt_packet *p = TV_DECODE_OK(&c, hex);
    size_t n = mqtt_format_line(p, v, line, sizeof line);
    cr_assert_eq(n, strlen(line));
    return line;
}

Test(codec_format_decoded, publish_line_as_the_issue_shows_it)
{
    cr_assert_str_eq(fmt_line("32 09 00 03 'a/b' 00 0a 'hi'", MQTT_V311, MQTT_FROM_CLIENT),
                     "PUBLISH q1 id=10 r=0 topic=\"a/b\" 2B \"hi\"");
    cr_assert_str_eq(fmt_line("30 06 00 01 't' 00 80 ff", MQTT_V311, MQTT_FROM_CLIENT),
                     "PUBLISH q0 r=0 topic=\"t\" 3B 0x0080ff");
}

Test(codec_format_decoded, lines_of_other_packets)
{
    cr_assert_str_eq(fmt_line("20 02 00 00", MQTT_V311, MQTT_FROM_SERVER),
                     "CONNACK sp=0 rc=0x00 (Connection Accepted)");
    cr_assert_str_eq(fmt_line("90 05 00 01 00 02 87", MQTT_V5, MQTT_FROM_SERVER),
                     "SUBACK id=1 [0x02, 0x87]");
    cr_assert_str_eq(fmt_line("a2 07 00 01 00 03 'a/b'", MQTT_V311, MQTT_FROM_CLIENT),
                     "UNSUBSCRIBE id=1 [\"a/b\"]");
    cr_assert_str_eq(fmt_line("c0 00", MQTT_V311, MQTT_FROM_CLIENT), "PINGREQ");
    cr_assert_str_eq(fmt_line("e0 08 00 06 1f 00 03 'bye'", MQTT_V5, MQTT_FROM_CLIENT),
                     "DISCONNECT rc=0x00 (Normal disconnection) props{rs=\"bye\"}");
}

Test(codec_format_decoded, connect_line_never_shows_the_password)
{
    const char *s = fmt_line("10 26 00 04 'MQTT' 04 ee 00 3c 00 04 'pub2' 00 03 'w/t' 00 03 'bye'"
                             " 00 04 'user' 00 04 'pass'",
                             MQTT_V311, MQTT_FROM_CLIENT);
    cr_assert(strstr(s, "CONNECT v4 id=\"pub2\"") == s, "%s", s);
    cr_assert(strstr(s, "user=\"user\""), "%s", s);
    cr_assert(strstr(s, "pass") && !strstr(s, "\"pass\""), "%s", s);
}

Test(codec_format_decoded, json_of_a_publish)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "32 09 00 03 'a/b' 00 0a 'hi'");
    char out[512];
    size_t n = mqtt_format_json(p, MQTT_V311, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    cr_assert_eq(out[0], '{');
    cr_assert_eq(out[n - 1], '}');
    cr_assert(strstr(out, "\"type\":\"PUBLISH\""), "%s", out);
    cr_assert(strstr(out, "\"topic\":\"a/b\""), "%s", out);
    cr_assert(strstr(out, "\"packet_id\":10"), "%s", out);
    cr_assert(strstr(out, "\"qos\":1"), "%s", out);
}

Test(codec_format_decoded, json_escapes_quotes_backslashes_and_control_characters)
{
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 07 00 05 'a' 22 5c 01 'b'");
    char out[512];
    mqtt_format_json(p, MQTT_V311, out, sizeof out);
    cr_assert(strstr(out, "\"topic\":\"a\\\"\\\\\\u0001b\""), "%s", out);
    size_t n = mqtt_format_line(p, MQTT_V311, out, sizeof out);
    for (size_t i = 0; i < n; i++) cr_assert(out[i] >= 0x20, "raw control byte in \"%s\"", out);
}

Test(codec_format_decoded, snprintf_semantics_for_every_capacity)
{
    static const char *const vecs[] = {
        "10 26 00 04 'MQTT' 04 ee 00 3c 00 04 'pub2' 00 03 'w/t' 00 03 'bye' 00 04 'user' 00 04 'pass'",
        "32 09 00 03 'a/b' 00 0a 'hi'", "82 0e 00 01 00 03 'a/b' 02 00 03 'x/#' 02",
        "40 02 00 01", "e0 00", "c0 00"};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        mqtt_codec c = TV_C311;
        const mqtt_packet *p = TV_DECODE_OK(&c, vecs[i]);
        char full[1024];
        size_t want = mqtt_format_line(p, MQTT_V311, full, sizeof full);
        size_t want_json = mqtt_format_json(p, MQTT_V311, NULL, 0);
        cr_assert_eq(mqtt_format_line(p, MQTT_V311, NULL, 0), want);
        for (size_t cap = 1; cap <= want + 1; cap++) {
            char small[1024];
            memset(small, 'X', sizeof small);
            size_t got = mqtt_format_line(p, MQTT_V311, small, cap);
            cr_assert_eq(got, want);
            cr_assert_eq(small[cap - 1 < want ? cap - 1 : want], '\0');
            cr_assert_eq(small[cap], 'X', "wrote past cap %zu", cap);
            cr_assert(strncmp(small, full, cap - 1) == 0);
        }
        char js[2048];
        cr_assert_eq(mqtt_format_json(p, MQTT_V311, js, sizeof js), want_json);
        cr_assert_eq(strlen(js), want_json);
    }
}

Test(codec_format_decoded, error_line)
{
    mqtt_codec c = TV_C311;
    mqtt_error e = TV_REJECT(&c, "36 07 00 03 'a/b' 00 01", MQTT_ERR_MALFORMED, "MQTT-3.3.1-4", 0,
                             0x81);
    char out[256];
    size_t n = mqtt_format_error(&e, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    cr_assert(strncmp(out, "malformed MQTT-3.3.1-4 at 0: ", 29) == 0, "%s", out);
    cr_assert(strstr(out, "(reason 0x81 Malformed Packet)"), "%s", out);
    e = TV_REJECT(&c, "10 0c 00 04 'MQTT' 06 02 00 3c 00 00", MQTT_ERR_UNSUPPORTED_VERSION,
                  "MQTT-3.1.2-2", 8, 0x84);
    mqtt_format_error(&e, out, sizeof out);
    cr_assert(strstr(out, "unsupported version MQTT-3.1.2-2 at 8"), "%s", out);
    cr_assert(strstr(out, "Unsupported Protocol Version"), "%s", out);
    cr_assert_eq(mqtt_format_error(&e, NULL, 0), strlen(out));
}

Test(codec_format_decoded, text_with_four_byte_characters_and_control_characters)
{
    /* Topic "\r\t" + U+1F600, payload U+10348: text stays readable, controls escaped. */
    mqtt_codec c = TV_C311;
    const mqtt_packet *p = TV_DECODE_OK(&c, "30 0c 00 06 0d 09 f0 9f 98 80 f0 90 8d 88");
    char out[256];
    mqtt_format_line(p, MQTT_V311, out, sizeof out);
    cr_assert(strstr(out, "topic=\"\\r\\t\xf0\x9f\x98\x80\""), "%s", out);
    cr_assert(strstr(out, "4B"), "%s", out);
    mqtt_format_json(p, MQTT_V311, out, sizeof out);
    cr_assert(strstr(out, "\"topic\":\"\\r\\t\xf0\x9f\x98\x80\""), "%s", out);
}

Test(codec_format_decoded, a_packet_of_unknown_type_still_formats)
{
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = (mqtt_packet_type)0;
    char out[128];
    size_t n = mqtt_format_line(&p, MQTT_V5, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    cr_assert(strstr(out, "(0)"), "%s", out);
    n = mqtt_format_json(&p, MQTT_V5, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    cr_assert(strstr(out, "\"type_code\":0"), "%s", out);
}
