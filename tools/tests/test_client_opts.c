/*
 * Option parsing shared by mqtt-pub and mqtt-sub: mosquitto's options and
 * checks, -L URLs, -D properties by command and name, and the errors.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "tools/src/client.h"

#define ARGV(...) ((char *[]){"prog", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"prog", __VA_ARGS__}) / sizeof(char *)))
#define LOAD(cfg, kind, ...) client_cfg_load(cfg, kind, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* The parser reports errors on stderr; keep the test log readable. */
TestSuite(client_opts, .init = cr_redirect_stderr);

static bool bytes_eq(mqtt_bytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

Test(client_opts, pub_basic_options)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-h", "broker.example", "-p", "1884", "-t", "a/b", "-m", "hi", "-q", "2",
                      "-r", "-i", "me", "-k", "30", "-V", "mqttv31"),
                 0);
    cr_assert_str_eq(c.host, "broker.example");
    cr_assert_eq(c.port, 1884);
    cr_assert_str_eq(c.topic, "a/b");
    cr_assert_eq(c.pub_mode, MSGMODE_CMD);
    cr_assert_eq(c.msglen, 2);
    cr_assert_eq(memcmp(c.message, "hi", 2), 0);
    cr_assert_eq(c.qos, 2);
    cr_assert(c.retain);
    cr_assert_str_eq(c.id, "me");
    cr_assert_eq(c.keepalive, 30);
    cr_assert_eq(c.version, MQTT_V31);
    client_cfg_free(&c);
}

Test(client_opts, defaults_are_mosquittos)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "#"), 0);
    cr_assert_str_eq(c.host, "localhost");
    cr_assert_eq(c.port, CLIENT_PORT_UNSET);
    cr_assert_eq(c.keepalive, 60);
    cr_assert_eq(c.version, MQTT_V311);
    cr_assert(c.clean_session);
    cr_assert(c.eol);
    cr_assert_null(c.id);
    cr_assert_eq(c.max_inflight, 20);
    client_cfg_free(&c);
}

Test(client_opts, short_version_names)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "#", "-V", "5"), 0);
    cr_assert_eq(c.version, MQTT_V5);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "#", "-V", "311"), 0);
    cr_assert_eq(c.version, MQTT_V311);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "#", "-V", "6"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, url_gives_credentials_host_port_topic)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "mqtt://alice:s3cret@example.org:1999/some/topic", "-n"), 0);
    cr_assert_str_eq(c.username, "alice");
    cr_assert_str_eq(c.password, "s3cret");
    cr_assert_str_eq(c.host, "example.org");
    cr_assert_eq(c.port, 1999);
    cr_assert_str_eq(c.topic, "some/topic");
    client_cfg_free(&c);
}

Test(client_opts, url_defaults_port_1883_and_accepts_ipv6)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-L", "mqtt://[::1]/a/#"), 0);
    cr_assert_str_eq(c.host, "::1");
    cr_assert_eq(c.port, 1883);
    cr_assert_eq(c.topic_count, 1);
    cr_assert_str_eq(c.topics[0], "a/#");
    cr_assert_null(c.username);
    client_cfg_free(&c);
}

Test(client_opts, url_errors)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "mqtt://host:1883", "-n"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "http://host/t", "-n"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "mqtt://host:99999/t", "-n"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, tls_options_are_read_and_turn_tls_on_as_mosquitto)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--cafile", "ca.pem", "--capath", "/etc/ssl/certs", "--cert",
                      "c.pem", "--key", "k.pem", "--insecure", "--tls-version", "tlsv1.3"),
                 0);
    cr_assert_str_eq(c.cafile, "ca.pem");
    cr_assert_str_eq(c.capath, "/etc/ssl/certs");
    cr_assert_str_eq(c.certfile, "c.pem");
    cr_assert_str_eq(c.keyfile, "k.pem");
    cr_assert_str_eq(c.tls_version, "tlsv1.3");
    cr_assert(c.insecure);
    cr_assert(client_tls_wanted(&c));
    cr_assert_eq(client_port(&c), 8883, "--cafile makes the default port 8883");
    client_cfg_free(&c);
}

Test(client_opts, tls_is_off_without_a_ca_as_mosquitto)
{
    client_cfg c;
    /* mosquitto_pub 2.0 ignores --cert/--key/--insecure without --cafile, --capath or an mqtts:// URL */
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "--cert", "c.pem", "--key", "k.pem", "--insecure"), 0);
    cr_assert_not(client_tls_wanted(&c));
    cr_assert_eq(client_port(&c), 1883);
    cr_assert_eq(client_tls_setup(&c), 0, "nothing to set up, no file opened");
    cr_assert_null(c.tls);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-p", "8883"), 0);
    cr_assert(client_tls_wanted(&c), "port 8883 means TLS with the system's CAs");
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "--tls-use-os-certs"), 0);
    cr_assert(client_tls_wanted(&c));
    cr_assert_eq(client_port(&c), 1883);
    client_cfg_free(&c);
}

Test(client_opts, mqtts_url_means_tls_and_port_8883)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-L", "mqtts://u:p@broker.example/a/#"), 0);
    cr_assert_str_eq(c.host, "broker.example");
    cr_assert_eq(client_port(&c), 8883);
    cr_assert(client_tls_wanted(&c));
    cr_assert(c.tls_use_os_certs);
    cr_assert_str_eq(c.topics[0], "a/#");
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "MQTTS://h:9999/t", "-n", "--cafile", "ca.pem"), 0);
    cr_assert_eq(client_port(&c), 9999);
    client_cfg_free(&c);
    /* mqtt:// names port 1883 even with --cafile (TLS on, as mosquitto_pub) */
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "mqtt://h/t", "-n", "--cafile", "ca.pem"), 0);
    cr_assert_eq(client_port(&c), 1883);
    cr_assert(client_tls_wanted(&c));
    client_cfg_free(&c);
}

Test(client_opts, tls_option_errors)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--cafile", "ca.pem", "--cert", "c.pem"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--key", "k.pem"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--cafile"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "--tls-version"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, tls_setup_refuses_missing_files_and_bad_versions)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--cafile", "/nonexistent/ca.pem"), 0);
    cr_assert_eq(client_tls_setup(&c), 1);
    cr_assert_null(c.tls);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--capath", "/", "--tls-version", "sslv3"), 0);
    cr_assert_eq(client_tls_setup(&c), 1);
    client_cfg_free(&c);
    /* a file that is not a certificate: refused before any connection */
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--cafile", "/dev/null"), 0);
    cr_assert_eq(client_tls_setup(&c), 1);
    client_cfg_free(&c);
    /* the system's store (mqtts://) loads without files */
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-L", "mqtts://h/t", "-n"), 0);
    cr_assert_eq(client_tls_setup(&c), 0);
    cr_assert_not_null(c.tls);
    client_cfg_free(&c);
}

Test(client_opts, property_by_command_and_name_implies_v5)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "user-property", "k1", "v1", "-D",
                      "PUBLISH", "user-property", "k2", "v2", "-D", "publish", "message-expiry-interval", "60", "-D",
                      "connect", "session-expiry-interval", "30", "-D", "publish", "correlation-data", "abc"),
                 0);
    cr_assert_eq(c.version, MQTT_V5);
    const mqtt_properties *p = &c.props[PROPS_PUBLISH].p;
    cr_assert_eq(p->user_property_count, 2);
    cr_assert(bytes_eq(p->user_properties[0].name, "k1"));
    cr_assert(bytes_eq(p->user_properties[1].value, "v2"));
    cr_assert(MQTT_HAS_PROP(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL));
    cr_assert_eq(p->message_expiry_interval, 60);
    cr_assert(bytes_eq(p->correlation_data, "abc"));
    cr_assert_eq(c.props[PROPS_CONNECT].p.session_expiry_interval, 30);
    client_cfg_free(&c);
}

Test(client_opts, subscription_identifier_for_subscribe)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-D", "subscribe", "subscription-identifier", "7"), 0);
    cr_assert_eq(c.props[PROPS_SUBSCRIBE].p.subscription_identifier_count, 1);
    cr_assert_eq(c.props[PROPS_SUBSCRIBE].p.subscription_identifiers[0], 7);
    client_cfg_free(&c);
}

Test(client_opts, property_errors)
{
    client_cfg c;
    /* not enough words, unknown command, unknown name, wrong packet, range, not a number */
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "pub", "topic-alias", "1"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "foo", "1"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "session-expiry-interval", "5"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "payload-format-indicator", "300"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "message-expiry-interval", "abc"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "subscription-identifier", "1"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "connack", "maximum-qos", "1"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "connect", "user-property", "onlykey"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, forbidden_values_and_duplicates_are_refused_before_connecting)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "connect", "receive-maximum", "0"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "topic-alias", "0"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "content-type", "a", "-D", "publish",
                      "content-type", "b"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    /* -x adds the Session Expiry Interval too: given twice */
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-x", "10", "-D", "connect", "session-expiry-interval",
                      "20"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, properties_with_v3_given_after_them_are_an_error)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-D", "publish", "user-property", "k", "v", "-V", "311"),
                 CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, persistent_session_needs_an_id)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-c"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-c", "-I", "pre"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-c", "-V", "5"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-c", "-i", "me", "-V", "5"), 0);
    cr_assert_eq(c.props[PROPS_CONNECT].p.session_expiry_interval, UINT32_MAX);
    client_cfg_free(&c);
}

Test(client_opts, session_expiry_forms)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-V", "5", "-x", "0x10"), 0);
    cr_assert_eq(c.props[PROPS_CONNECT].p.session_expiry_interval, 16);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-V", "5", "-i", "x", "-x", "-1"), 0);
    cr_assert_eq(c.props[PROPS_CONNECT].p.session_expiry_interval, UINT32_MAX);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-V", "5", "-i", "x", "-x", "\xe2\x88\x9e"), 0);
    cr_assert_eq(c.props[PROPS_CONNECT].p.session_expiry_interval, UINT32_MAX);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-x", "12abc"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-x", "4294967296"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, numbers_are_strict)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-q", "3"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-q", "1x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-p", "abc"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-k", "4"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-C", "0"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-W", "-1"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "--repeat-delay", "-0.5"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, missing_values_and_unknown_options)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "--bogus"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    /* options of the other tool are unknown, as in mosquitto */
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-m", "x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-v"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "--help"), CLIENT_CFG_HELP);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "--version"), CLIENT_CFG_VERSION);
    client_cfg_free(&c);
}

Test(client_opts, one_message_source_only)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "-n"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-l", "-s"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, topics_are_checked)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "a/#", "-m", "x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "a/+/b", "-m", "x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a/#/b"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-T", "a+"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-U", "#/x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a\xff"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-m", "x", "--will-topic", "w/#"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, sub_lists_and_flags)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a/#", "-t", "b", "-T", "a/x", "-U", "old/#", "-v", "-N", "-C", "5", "-W",
                      "9", "-R", "-E", "-F", "%t %p"),
                 0);
    cr_assert_eq(c.topic_count, 2);
    cr_assert_str_eq(c.topics[1], "b");
    cr_assert_eq(c.filter_out_count, 1);
    cr_assert_eq(c.unsub_topic_count, 1);
    cr_assert(c.verbose);
    cr_assert_not(c.eol);
    cr_assert_eq(c.msg_count, 5);
    cr_assert_eq(c.timeout, 9);
    cr_assert(c.no_retain);
    cr_assert(c.exit_after_sub);
    cr_assert_str_eq(c.format, "%t %p");
    client_cfg_free(&c);
}

Test(client_opts, sub_needs_a_topic_even_with_unsubscribe)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-U", "a"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, will_options_need_a_will_topic)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "--will-payload", "bye"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "--will-retain"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "--will-topic", "w", "--will-payload", "bye", "--will-qos", "2",
                      "--will-retain"),
                 0);
    cr_assert_str_eq(c.will_topic, "w");
    cr_assert_eq(c.will_payloadlen, 3);
    cr_assert_eq(c.will_qos, 2);
    cr_assert(c.will_retain);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "--will-topic", "w", "--will-qos", "3"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
}

Test(client_opts, id_and_prefix_exclude_each_other)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-i", "x", "-I", "y"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-I", "pre-"), 0);
    cr_assert_eq(client_id_generate(&c), 0);
    cr_assert_eq(strncmp(c.id, "pre-", 4), 0);
    cr_assert_gt(strlen(c.id), 4);
    client_cfg_free(&c);
}

Test(client_opts, mqtt31_without_id_gets_a_mosq_id)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-V", "31"), 0);
    cr_assert_eq(client_id_generate(&c), 0);
    cr_assert_not_null(c.id);
    cr_assert_eq(strlen(c.id), 23);
    cr_assert_eq(strncmp(c.id, "mosq-", 5), 0);
    client_cfg_free(&c);
}

Test(client_opts, format_is_checked)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "%Z"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "abc%"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "%-05.3"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "\\q"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "x\\"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "@"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "a", "-F", "%-20.5t %08x @Y \\n %%"), 0);
    client_cfg_free(&c);
}

Test(client_opts, texts_are_libmosquittos)
{
    cr_assert_str_eq(client_connack_string(5), "Connection Refused: not authorised.");
    cr_assert_str_eq(client_connack_string(9), "Connection Refused: unknown reason.");
    cr_assert_str_eq(client_reason_string(0x87), "Not authorized");
    cr_assert_str_eq(client_reason_string(0x84), "Unsupported Protocol Version");
    cr_assert_str_eq(client_strerror(CERR_CONN_LOST), "The connection was lost.");
    cr_assert_str_eq(client_strerror(CERR_CONN_REFUSED), "The connection was refused.");
}

/* ws:// and wss:// URLs: the path is the WebSocket's, the topic comes from -t. */
Test(client_opts, ws_url_sets_websocket_path)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "--url", "ws://u:p@127.0.0.1:15675/ws", "-t", "a/b", "-m", "x"), 0);
    cr_assert_str_eq(c.ws_path, "/ws");
    cr_assert_str_eq(c.host, "127.0.0.1");
    cr_assert_eq(c.port, 15675);
    cr_assert_str_eq(c.username, "u");
    cr_assert_str_eq(c.password, "p");
    cr_assert_str_eq(c.topic, "a/b");
    cr_assert(!client_tls_wanted(&c));
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-L", "wss://broker.example", "-t", "#"), 0);
    cr_assert_str_eq(c.ws_path, "/");
    cr_assert_eq(c.port, 443);
    cr_assert(client_tls_wanted(&c));
    client_cfg_free(&c);
    /* A later mqtt:// URL is plain MQTT again. */
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-L", "ws://h/x", "-L", "mqtt://h/t"), 0);
    cr_assert_null(c.ws_path);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-L", "ws://h/x"), CLIENT_CFG_ERROR, "no topic");
    client_cfg_free(&c);
}

/* The option table: the other tool's options are unknown, a missing
 * argument names the option as typed, and checks run in mosquitto's order. */
Test(client_opts, table_keeps_mosquitto_behaviour)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-m", "x"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "-C", "1"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "--message"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "-M", "0"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_SUB, "-t", "t", "-W", "7", "-M", "9", "-N", "-c", "-i", "x"), 0);
    cr_assert_eq(c.timeout, 7);
    cr_assert_eq(c.max_inflight, 9);
    cr_assert(!c.eol && !c.clean_session);
    client_cfg_free(&c);
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "--repeat", "3", "--repeat-delay", "0.5"), 0);
    cr_assert_eq(c.repeat_count, 3);
    cr_assert_eq(c.repeat_delay_us, 500000);
    client_cfg_free(&c);
}

Test(client_opts, table_messages, .init = cr_redirect_stderr)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "--message"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    fflush(stderr);
    cr_assert_stderr_eq_str("Error: --message argument given but no message specified.\n\n");
}

Test(client_opts, table_mode_checked_before_argument, .init = cr_redirect_stderr)
{
    client_cfg c;
    cr_assert_eq(LOAD(&c, CLIENT_PUB, "-t", "t", "-n", "-f"), CLIENT_CFG_ERROR);
    client_cfg_free(&c);
    fflush(stderr);
    cr_assert_stderr_eq_str("Error: Only one type of message can be sent at once.\n\n");
}
