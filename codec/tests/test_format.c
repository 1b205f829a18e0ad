/*
 * Tests of the packet formatter (codec/src/format.c): the line for people and
 * the JSON for machines of every packet type in 3.1.1 and 5.0, all 27
 * properties, escaping of hostile strings, the error line, and the snprintf
 * contract (cap 0, cap too small, exact fit).
 *
 * Packets are built as structs, so these tests do not depend on the decoder.
 */
#include <criterion/criterion.h>
#include <mqtt/mqtt.h>
#include <string.h>

/* A view of a string literal (BI: as a static initializer). */
#define BI(s) {(const uint8_t *)(s), sizeof(s) - 1}
#define B(s) ((mqtt_bytes)BI(s))

/* Formats with a buffer much larger than needed and checks the return value
 * is the text's length, then compares with the expected text. */
static void expect_line(const mqtt_packet *p, mqtt_version v, const char *want)
{
    char buf[2048];
    memset(buf, 'Z', sizeof buf);
    size_t n = mqtt_format_line(p, v, buf, sizeof buf);
    cr_assert_eq(n, strlen(buf), "return %zu, text %zu", n, strlen(buf));
    cr_assert_str_eq(buf, want);
}

static void expect_json(const mqtt_packet *p, mqtt_version v, const char *want)
{
    char buf[4096];
    memset(buf, 'Z', sizeof buf);
    size_t n = mqtt_format_json(p, v, buf, sizeof buf);
    cr_assert_eq(n, strlen(buf), "return %zu, text %zu", n, strlen(buf));
    cr_assert_str_eq(buf, want);
}

static mqtt_packet publish_q1(void)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.qos = 1;
    p.publish.packet_id = 10;
    p.publish.topic = B("a/b");
    p.publish.payload = B("hi");
    return p;
}

/* ---- PUBLISH ---------------------------------------------------------- */

Test(codec_format, publish_q1_line_shows_id_retain_topic_and_payload)
{
    mqtt_packet p = publish_q1();
    expect_line(&p, MQTT_V311, "PUBLISH q1 id=10 r=0 topic=\"a/b\" 2B \"hi\"");
}

Test(codec_format, publish_q0_line_has_no_packet_id)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.topic = B("t");
    p.publish.retain = true;
    expect_line(&p, MQTT_V311, "PUBLISH q0 r=1 topic=\"t\" 0B");
}

Test(codec_format, publish_q2_dup_line_says_dup)
{
    mqtt_packet p = publish_q1();
    p.publish.qos = 2;
    p.publish.dup = true;
    p.publish.packet_id = 65535;
    expect_line(&p, MQTT_V311, "PUBLISH q2 dup id=65535 r=0 topic=\"a/b\" 2B \"hi\"");
}

Test(codec_format, publish_binary_payload_previews_as_hex)
{
    mqtt_packet p = publish_q1();
    p.publish.payload = B("\x00\xff\x10");
    expect_line(&p, MQTT_V311, "PUBLISH q1 id=10 r=0 topic=\"a/b\" 3B 0x00ff10");
}

Test(codec_format, publish_long_payload_preview_is_cut)
{
    mqtt_packet p = publish_q1();
    p.publish.payload = B("0123456789abcdefghijklmnopqrstuvwxyzABCD"); /* 40 bytes */
    expect_line(&p, MQTT_V311,
                "PUBLISH q1 id=10 r=0 topic=\"a/b\" 40B \"0123456789abcdefghijklmnopqrstuv\"...");
    p.publish.payload = B("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11");
    expect_line(&p, MQTT_V311,
                "PUBLISH q1 id=10 r=0 topic=\"a/b\" 17B 0x0102030405060708090a0b0c0d0e0f10...");
}

Test(codec_format, publish_v5_line_appends_properties_before_payload)
{
    mqtt_packet p = publish_q1();
    mqtt_user_property up[2] = {{B("k"), B("v")}, {B("k 2"), B("")}};
    p.publish.topic = B("");
    p.publish.properties.present =
        MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS) | MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.publish.properties.topic_alias = 3;
    p.publish.properties.message_expiry_interval = 60;
    p.publish.properties.user_properties = up;
    p.publish.properties.user_property_count = 2;
    expect_line(&p, MQTT_V5,
                "PUBLISH q1 id=10 r=0 topic=\"\" props{mei=60 ta=3 up[\"k\"=\"v\" \"k 2\"=\"\"]} 2B \"hi\"");
    /* The same struct in 3.1.1 has no properties to show. */
    expect_line(&p, MQTT_V311, "PUBLISH q1 id=10 r=0 topic=\"\" 2B \"hi\"");
}

Test(codec_format, publish_json_has_every_field)
{
    mqtt_packet p = publish_q1();
    expect_json(&p, MQTT_V311,
                "{\"type\":\"PUBLISH\",\"version\":\"3.1.1\",\"qos\":1,\"dup\":false,\"retain\":false,"
                "\"topic\":\"a/b\",\"packet_id\":10,\"payload\":\"6869\",\"payload_length\":2,"
                "\"payload_text\":\"hi\"}");
}

Test(codec_format, publish_json_of_decoded_packet_has_wire_facts_and_properties)
{
    mqtt_packet p = publish_q1();
    p.flags = 0x2;
    p.remaining_length = 10;
    p.length = 12;
    p.publish.payload = B("\xff");
    p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_CORRELATION_DATA);
    p.publish.properties.correlation_data = B("\x0a\x0b");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"PUBLISH\",\"version\":\"5.0\",\"flags\":2,\"remaining_length\":10,"
                "\"length\":12,\"qos\":1,\"dup\":false,\"retain\":false,\"topic\":\"a/b\","
                "\"packet_id\":10,\"properties\":{\"correlation_data\":\"0a0b\"},"
                "\"payload\":\"ff\",\"payload_length\":1}");
}

/* ---- CONNECT / CONNACK ------------------------------------------------- */

static mqtt_packet connect_v5(void)
{
    mqtt_packet p = {.type = MQTT_CONNECT};
    mqtt_connect *c = &p.connect;
    c->protocol_name = B("MQTT");
    c->protocol_level = 5;
    c->clean_start = true;
    c->keep_alive = 60;
    c->client_id = B("c1");
    c->will = true;
    c->will_qos = 1;
    c->will_topic = B("t");
    c->will_payload = B("bye");
    c->has_username = true;
    c->username = B("u");
    c->has_password = true;
    c->password = B("secret");
    return p;
}

Test(codec_format, connect_line_shows_will_user_and_hides_password)
{
    mqtt_packet p = connect_v5();
    expect_line(&p, MQTT_V5,
                "CONNECT v5 id=\"c1\" clean=1 ka=60 will(q1 r0 topic=\"t\" 3B \"bye\") user=\"u\" pass");
}

Test(codec_format, connect_line_follows_its_own_protocol_level)
{
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.protocol_name = B("MQIsdp");
    p.connect.protocol_level = 3;
    p.connect.client_id = B("x");
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    /* Properties of a 3.1 CONNECT are not shown even if the connection says 5.0. */
    expect_line(&p, MQTT_V5, "CONNECT v3 id=\"x\" clean=0 ka=0");
}

Test(codec_format, connect_v5_line_shows_connect_and_will_properties)
{
    mqtt_packet p = connect_v5();
    p.connect.has_password = false;
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL) |
                                   MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM);
    p.connect.properties.session_expiry_interval = 3600;
    p.connect.properties.receive_maximum = 20;
    p.connect.will_properties.present = MQTT_PROP_BIT(MQTT_PROP_WILL_DELAY_INTERVAL);
    p.connect.will_properties.will_delay_interval = 5;
    expect_line(&p, MQTT_VERSION_UNKNOWN,
                "CONNECT v5 id=\"c1\" clean=1 ka=60 props{sei=3600 rm=20} "
                "will(q1 r0 props{wdi=5} topic=\"t\" 3B \"bye\") user=\"u\"");
}

Test(codec_format, connect_json_has_every_field)
{
    mqtt_packet p = connect_v5();
    p.connect.will_properties.present = MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE);
    p.connect.will_properties.content_type = B("text/plain");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"CONNECT\",\"version\":\"5.0\",\"protocol_name\":\"MQTT\","
                "\"protocol_level\":5,\"clean_start\":true,\"keep_alive\":60,\"properties\":{},"
                "\"client_id\":\"c1\",\"will\":{\"qos\":1,\"retain\":false,"
                "\"properties\":{\"content_type\":\"text/plain\"},\"topic\":\"t\","
                "\"payload\":\"627965\",\"payload_length\":3,\"payload_text\":\"bye\"},"
                "\"username\":\"u\",\"password_length\":6}");
}

Test(codec_format, connack_v5_line_and_json)
{
    mqtt_packet p = {.type = MQTT_CONNACK};
    expect_line(&p, MQTT_V5, "CONNACK sp=0 rc=0x00 (Success)");
    p.connack.session_present = true;
    p.connack.reason_code = 0x87;
    p.connack.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    p.connack.properties.reason_string = B("no");
    expect_line(&p, MQTT_V5, "CONNACK sp=1 rc=0x87 (Not authorized) props{rs=\"no\"}");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"CONNACK\",\"version\":\"5.0\",\"session_present\":true,"
                "\"reason_code\":135,\"reason\":\"Not authorized\","
                "\"properties\":{\"reason_string\":\"no\"}}");
}

Test(codec_format, connack_v311_line_uses_return_code_names)
{
    mqtt_packet p = {.type = MQTT_CONNACK};
    char want[256];
    p.connack.reason_code = 5;
    strcpy(want, "CONNACK sp=0 rc=0x05 (");
    strcat(want, mqtt_connack_return_name(5));
    strcat(want, ")");
    cr_assert_str_neq(mqtt_connack_return_name(5), mqtt_reason_name(MQTT_CONNACK, 5));
    expect_line(&p, MQTT_V311, want);
}

/* ---- Acknowledgements -------------------------------------------------- */

Test(codec_format, puback_v5_line_shows_reason)
{
    mqtt_packet p = {.type = MQTT_PUBACK};
    p.ack.packet_id = 10;
    p.ack.reason_code = 0x10;
    expect_line(&p, MQTT_V5, "PUBACK id=10 rc=0x10 (No matching subscribers)");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"PUBACK\",\"version\":\"5.0\",\"packet_id\":10,\"reason_code\":16,"
                "\"reason\":\"No matching subscribers\",\"properties\":{}}");
}

Test(codec_format, acks_v311_show_only_the_packet_id)
{
    static const mqtt_packet_type types[] = {MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP};
    static const char *lines[] = {"PUBACK id=7", "PUBREC id=7", "PUBREL id=7", "PUBCOMP id=7"};
    for (size_t i = 0; i < 4; i++) {
        mqtt_packet p = {.type = types[i]};
        p.ack.packet_id = 7;
        expect_line(&p, MQTT_V311, lines[i]);
    }
    mqtt_packet p = {.type = MQTT_PUBREL};
    p.ack.packet_id = 7;
    expect_json(&p, MQTT_V311, "{\"type\":\"PUBREL\",\"version\":\"3.1.1\",\"packet_id\":7}");
}

Test(codec_format, pubrec_v5_line_shows_reason_and_properties)
{
    mqtt_packet p = {.type = MQTT_PUBREC};
    p.ack.packet_id = 1;
    p.ack.reason_code = 0x80;
    p.ack.properties.present = MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    p.ack.properties.reason_string = B("full");
    expect_line(&p, MQTT_V5, "PUBREC id=1 rc=0x80 (Unspecified error) props{rs=\"full\"}");
}

/* ---- SUBSCRIBE / UNSUBSCRIBE / SUBACK / UNSUBACK ------------------------ */

static const mqtt_subscription SUBS[] = {
    {.topic_filter = BI("a/#"), .qos = 1, .no_local = true, .retain_as_published = true},
    {.topic_filter = BI("b/+"), .qos = 2, .retain_handling = 2},
};

Test(codec_format, subscribe_v5_line_lists_filters_with_options)
{
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    uint32_t sid = 5;
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = SUBS;
    p.subscribe.count = 2;
    expect_line(&p, MQTT_V5, "SUBSCRIBE id=1 [\"a/#\" q1 nl rap rh0, \"b/+\" q2 rh2]");
    p.subscribe.properties.subscription_identifiers = &sid;
    p.subscribe.properties.subscription_identifier_count = 1;
    expect_line(&p, MQTT_V5, "SUBSCRIBE id=1 props{sid=5} [\"a/#\" q1 nl rap rh0, \"b/+\" q2 rh2]");
}

Test(codec_format, subscribe_v311_line_has_only_qos)
{
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = SUBS;
    p.subscribe.count = 1;
    expect_line(&p, MQTT_V311, "SUBSCRIBE id=1 [\"a/#\" q1]");
    expect_json(&p, MQTT_V311,
                "{\"type\":\"SUBSCRIBE\",\"version\":\"3.1.1\",\"packet_id\":1,"
                "\"subscriptions\":[{\"topic_filter\":\"a/#\",\"qos\":1}]}");
}

Test(codec_format, subscribe_v5_json_has_every_option)
{
    mqtt_packet p = {.type = MQTT_SUBSCRIBE};
    p.subscribe.packet_id = 2;
    p.subscribe.subscriptions = SUBS;
    p.subscribe.count = 2;
    expect_json(&p, MQTT_V5,
                "{\"type\":\"SUBSCRIBE\",\"version\":\"5.0\",\"packet_id\":2,\"properties\":{},"
                "\"subscriptions\":[{\"topic_filter\":\"a/#\",\"qos\":1,\"no_local\":true,"
                "\"retain_as_published\":true,\"retain_handling\":0},{\"topic_filter\":\"b/+\","
                "\"qos\":2,\"no_local\":false,\"retain_as_published\":false,\"retain_handling\":2}]}");
}

Test(codec_format, unsubscribe_line_and_json_list_filters)
{
    mqtt_packet p = {.type = MQTT_UNSUBSCRIBE};
    p.subscribe.packet_id = 2;
    p.subscribe.subscriptions = SUBS;
    p.subscribe.count = 2;
    expect_line(&p, MQTT_V5, "UNSUBSCRIBE id=2 [\"a/#\", \"b/+\"]");
    expect_json(&p, MQTT_V311,
                "{\"type\":\"UNSUBSCRIBE\",\"version\":\"3.1.1\",\"packet_id\":2,"
                "\"topic_filters\":[\"a/#\",\"b/+\"]}");
}

Test(codec_format, suback_line_and_json_list_reason_codes)
{
    mqtt_packet p = {.type = MQTT_SUBACK};
    p.suback.packet_id = 1;
    p.suback.reason_codes = B("\x01\x80");
    expect_line(&p, MQTT_V311, "SUBACK id=1 [0x01, 0x80]");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"SUBACK\",\"version\":\"5.0\",\"packet_id\":1,\"properties\":{},"
                "\"reason_codes\":[1,128]}");
}

Test(codec_format, unsuback_has_reason_codes_only_in_v5)
{
    mqtt_packet p = {.type = MQTT_UNSUBACK};
    p.suback.packet_id = 2;
    expect_line(&p, MQTT_V311, "UNSUBACK id=2");
    expect_json(&p, MQTT_V311, "{\"type\":\"UNSUBACK\",\"version\":\"3.1.1\",\"packet_id\":2}");
    p.suback.reason_codes = B("\x00\x11");
    expect_line(&p, MQTT_V5, "UNSUBACK id=2 [0x00, 0x11]");
}

/* ---- PINGREQ / PINGRESP / DISCONNECT / AUTH ----------------------------- */

Test(codec_format, ping_lines_and_json_are_the_type_alone)
{
    mqtt_packet p = {.type = MQTT_PINGREQ};
    expect_line(&p, MQTT_V311, "PINGREQ");
    p.type = MQTT_PINGRESP;
    expect_line(&p, MQTT_V5, "PINGRESP");
    expect_json(&p, MQTT_V5, "{\"type\":\"PINGRESP\",\"version\":\"5.0\"}");
}

Test(codec_format, disconnect_v5_line_shows_reason_v311_nothing)
{
    mqtt_packet p = {.type = MQTT_DISCONNECT};
    p.disconnect.reason_code = 0x8e;
    expect_line(&p, MQTT_V5, "DISCONNECT rc=0x8e (Session taken over)");
    expect_json(&p, MQTT_V5,
                "{\"type\":\"DISCONNECT\",\"version\":\"5.0\",\"reason_code\":142,"
                "\"reason\":\"Session taken over\",\"properties\":{}}");
    p.disconnect.reason_code = 0;
    expect_line(&p, MQTT_V311, "DISCONNECT");
    expect_json(&p, MQTT_V311, "{\"type\":\"DISCONNECT\",\"version\":\"3.1.1\"}");
}

Test(codec_format, auth_line_shows_method_and_data)
{
    mqtt_packet p = {.type = MQTT_AUTH};
    p.disconnect.reason_code = 0x18;
    p.disconnect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD) |
                                      MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_DATA);
    p.disconnect.properties.authentication_method = B("SCRAM-SHA-1");
    p.disconnect.properties.authentication_data = B("\x01\x02");
    expect_line(&p, MQTT_V5,
                "AUTH rc=0x18 (Continue authentication) props{am=\"SCRAM-SHA-1\" ad=0x0102}");
}

Test(codec_format, unknown_type_names_its_code)
{
    mqtt_packet p = {.type = (mqtt_packet_type)0};
    char want[64];
    strcpy(want, mqtt_packet_type_name((mqtt_packet_type)0));
    strcat(want, "(0)");
    expect_line(&p, MQTT_V5, want);
}

/* ---- All 27 properties -------------------------------------------------- */

static mqtt_properties all_properties(void)
{
    static const mqtt_user_property up[] = {{BI("k"), BI("v")}, {BI("k"), BI("w")}};
    static const uint32_t sids[] = {1, 268435455};
    mqtt_properties p = {0};
    static const uint8_t ids[] = {0x01, 0x02, 0x03, 0x08, 0x09, 0x11, 0x12, 0x13, 0x15,
                                  0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1F, 0x21, 0x22,
                                  0x23, 0x24, 0x25, 0x27, 0x28, 0x29, 0x2A};
    for (size_t i = 0; i < sizeof ids; i++)
        p.present |= MQTT_PROP_BIT(ids[i]);
    p.payload_format_indicator = 1;
    p.message_expiry_interval = 4294967295u;
    p.content_type = B("ct");
    p.response_topic = B("rt");
    p.correlation_data = B("\xcd");
    p.subscription_identifiers = sids;
    p.subscription_identifier_count = 2;
    p.session_expiry_interval = 11;
    p.assigned_client_identifier = B("aci");
    p.server_keep_alive = 13;
    p.authentication_method = B("am");
    p.authentication_data = B("\xad");
    p.request_problem_information = 1;
    p.will_delay_interval = 24;
    p.request_response_information = 1;
    p.response_information = B("ri");
    p.server_reference = B("sr");
    p.reason_string = B("rs");
    p.receive_maximum = 33;
    p.topic_alias_maximum = 34;
    p.topic_alias = 35;
    p.maximum_qos = 1;
    p.retain_available = 0;
    p.user_properties = up;
    p.user_property_count = 2;
    p.maximum_packet_size = 39;
    p.wildcard_subscription_available = 1;
    p.subscription_identifier_available = 0;
    p.shared_subscription_available = 1;
    return p;
}

Test(codec_format, all_27_properties_in_line)
{
    mqtt_packet p = {.type = MQTT_DISCONNECT};
    p.disconnect.properties = all_properties();
    expect_line(&p, MQTT_V5,
                "DISCONNECT rc=0x00 (Normal disconnection) props{pfi=1 mei=4294967295 ct=\"ct\" "
                "rt=\"rt\" cd=0xcd sid=1,268435455 sei=11 aci=\"aci\" ska=13 am=\"am\" ad=0xad "
                "rpi=1 wdi=24 rri=1 ri=\"ri\" sr=\"sr\" rs=\"rs\" rm=33 tam=34 ta=35 mq=1 ra=0 "
                "up[\"k\"=\"v\" \"k\"=\"w\"] mps=39 wsa=1 sia=0 ssa=1}");
}

Test(codec_format, all_27_properties_in_json)
{
    mqtt_packet p = {.type = MQTT_DISCONNECT};
    p.disconnect.properties = all_properties();
    expect_json(&p, MQTT_V5,
                "{\"type\":\"DISCONNECT\",\"version\":\"5.0\",\"reason_code\":0,"
                "\"reason\":\"Normal disconnection\",\"properties\":{"
                "\"payload_format_indicator\":1,\"message_expiry_interval\":4294967295,"
                "\"content_type\":\"ct\",\"response_topic\":\"rt\",\"correlation_data\":\"cd\","
                "\"subscription_identifiers\":[1,268435455],\"session_expiry_interval\":11,"
                "\"assigned_client_identifier\":\"aci\",\"server_keep_alive\":13,"
                "\"authentication_method\":\"am\",\"authentication_data\":\"ad\","
                "\"request_problem_information\":1,\"will_delay_interval\":24,"
                "\"request_response_information\":1,\"response_information\":\"ri\","
                "\"server_reference\":\"sr\",\"reason_string\":\"rs\",\"receive_maximum\":33,"
                "\"topic_alias_maximum\":34,\"topic_alias\":35,\"maximum_qos\":1,"
                "\"retain_available\":0,\"user_properties\":[[\"k\",\"v\"],[\"k\",\"w\"]],"
                "\"maximum_packet_size\":39,\"wildcard_subscription_available\":1,"
                "\"subscription_identifier_available\":0,\"shared_subscription_available\":1}}");
}

/* ---- Escaping ----------------------------------------------------------- */

/* Quote, backslash, newline, a C0 control, DEL, UTF-8 "é", a stray 0xff, and
 * U+202E RIGHT-TO-LEFT OVERRIDE (valid, but it reorders what people see). */
#define HOSTILE "q\"b\\s\nc\x01\x7f\xc3\xa9\xff\xe2\x80\xae"

Test(codec_format, line_escapes_controls_invalid_utf8_and_invisible_characters)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    p.publish.topic = B(HOSTILE);
    expect_line(&p, MQTT_V311,
                "PUBLISH q0 r=0 topic=\"q\\\"b\\\\s\\nc\\x01\\x7f\xc3\xa9\\xff\\xe2\\x80\\xae\" 0B");
}

Test(codec_format, line_escapes_overlong_and_surrogate_forms)
{
    mqtt_packet p = {.type = MQTT_PUBLISH};
    /* overlong "/", an encoded surrogate U+D800, a truncated sequence */
    p.publish.topic = B("\xc0\xaf\xed\xa0\x80\xe2\x82");
    expect_line(&p, MQTT_V311,
                "PUBLISH q0 r=0 topic=\"\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82\" 0B");
}

Test(codec_format, json_escapes_per_rfc8259_and_stays_utf8)
{
    mqtt_packet p = {.type = MQTT_UNSUBSCRIBE};
    mqtt_subscription s = {.topic_filter = B(HOSTILE "\b\f\r\t")};
    p.subscribe.packet_id = 1;
    p.subscribe.subscriptions = &s;
    p.subscribe.count = 1;
    expect_json(&p, MQTT_V311,
                "{\"type\":\"UNSUBSCRIBE\",\"version\":\"3.1.1\",\"packet_id\":1,\"topic_filters\":"
                "[\"q\\\"b\\\\s\\nc\\u0001\x7f\xc3\xa9\\ufffd\xe2\x80\xae\\b\\f\\r\\t\"]}");
}

Test(codec_format, json_string_keeps_nul_as_escape)
{
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.protocol_level = 4;
    p.connect.client_id = B("a\0b");
    char buf[512];
    mqtt_format_json(&p, MQTT_V311, buf, sizeof buf);
    cr_assert(strstr(buf, "\"client_id\":\"a\\u0000b\"") != NULL, "%s", buf);
}

/* ---- Errors --------------------------------------------------------------- */

Test(codec_format, error_line_names_class_rule_offset_and_reason)
{
    mqtt_error e = {.status = MQTT_ERR_MALFORMED,
                    .rule = "MQTT-3.3.1-4",
                    .version = MQTT_V5,
                    .offset = 0,
                    .reason_code = 0x81,
                    .message = "QoS 3 is not allowed"};
    char buf[256];
    size_t n = mqtt_format_error(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "malformed MQTT-3.3.1-4 at 0: QoS 3 is not allowed "
                          "(reason 0x81 Malformed Packet)");
    cr_assert_eq(n, strlen(buf));
}

Test(codec_format, error_line_for_unsupported_version_names_the_connack_reason)
{
    mqtt_error e = {.status = MQTT_ERR_UNSUPPORTED_VERSION,
                    .rule = "MQTT-3.1.2-2",
                    .version = MQTT_V311,
                    .offset = 8,
                    .reason_code = 0x84,
                    .message = "protocol level 6"};
    char buf[256];
    mqtt_format_error(&e, buf, sizeof buf);
    cr_assert(strstr(buf, "MQTT-3.1.2-2 at 8: protocol level 6 (reason 0x84 Unsupported Protocol Version)"),
              "%s", buf);
}

/* ---- The snprintf contract ------------------------------------------------- */

Test(codec_format, cap_zero_writes_nothing_and_returns_the_length)
{
    mqtt_packet p = publish_q1();
    char full[256];
    size_t n = mqtt_format_line(&p, MQTT_V311, full, sizeof full);
    cr_assert_eq(mqtt_format_line(&p, MQTT_V311, NULL, 0), n);
    cr_assert_eq(mqtt_format_json(&p, MQTT_V311, NULL, 0), strlen("{\"type\":\"PUBLISH\",\"version\":"
                 "\"3.1.1\",\"qos\":1,\"dup\":false,\"retain\":false,\"topic\":\"a/b\",\"packet_id\":10,"
                 "\"payload\":\"6869\",\"payload_length\":2,\"payload_text\":\"hi\"}"));
    char one = 'Z';
    cr_assert_eq(mqtt_format_line(&p, MQTT_V311, &one, 0), n);
    cr_assert_eq(one, 'Z');
}

Test(codec_format, small_cap_truncates_terminates_and_stays_in_bounds)
{
    mqtt_packet p = publish_q1();
    char full[256], buf[64];
    size_t n = mqtt_format_line(&p, MQTT_V311, full, sizeof full);
    cr_assert_lt(n, sizeof buf);
    for (size_t cap = 1; cap <= n; cap++) {
        memset(buf, 'Z', sizeof buf);
        cr_assert_eq(mqtt_format_line(&p, MQTT_V311, buf, cap), n);
        cr_assert_eq(buf[cap - 1], '\0', "cap %zu", cap);
        cr_assert_eq(strncmp(buf, full, cap - 1), 0, "cap %zu", cap);
        cr_assert_eq(buf[cap], 'Z', "wrote past cap %zu", cap);
    }
}

Test(codec_format, exact_fit_and_one_short)
{
    mqtt_packet p = {.type = MQTT_DISCONNECT};
    p.disconnect.reason_code = 0x8e;
    char full[256], buf[256];
    size_t n = mqtt_format_line(&p, MQTT_V5, full, sizeof full);
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(mqtt_format_line(&p, MQTT_V5, buf, n + 1), n);
    cr_assert_str_eq(buf, full);
    cr_assert_eq(buf[n + 1], 'Z');
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(mqtt_format_line(&p, MQTT_V5, buf, n), n);
    cr_assert_eq(strlen(buf), n - 1);
    cr_assert_eq(strncmp(buf, full, n - 1), 0);
    cr_assert_eq(buf[n], 'Z');
}

Test(codec_format, json_and_error_truncate_like_the_line)
{
    mqtt_packet p = publish_q1();
    mqtt_error e = {.status = MQTT_ERR_PROTOCOL, .rule = "MQTT-2.2.1-3", .reason_code = 0x82,
                    .message = "packet id 0"};
    char full[512], buf[8];
    size_t nj = mqtt_format_json(&p, MQTT_V5, full, sizeof full);
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(mqtt_format_json(&p, MQTT_V5, buf, 5), nj);
    cr_assert_str_eq(buf, "{\"ty");
    cr_assert_eq(buf[5], 'Z');
    size_t ne = mqtt_format_error(&e, full, sizeof full);
    cr_assert_eq(mqtt_format_error(&e, buf, 5), ne);
    cr_assert_eq(strncmp(buf, full, 4), 0);
    cr_assert_eq(buf[4], '\0');
}
