/*
 * CONNECT / CONNACK: return and reason codes, protocol checks, client
 * identifier rules, first and second CONNECT, session takeover, and the log
 * line naming client, rule and reason.
 */
#include "broker/tests/tc.h"

#include <string.h>

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_connect, .init = setup, .fini = teardown);

Test(broker_connect, v311_accepted_with_session_present_0)
{
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "c1", true);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0);       /* MQTT-3.2.2-3 */
    cr_assert_not(ack->connack.session_present);     /* MQTT-3.2.2-1 */
    cr_assert_str_eq(broker_conn_client_id(c->conn), "c1");
}

Test(broker_connect, v31_mqisdp_accepted)
{
    tc_client *c = tc_open(b, MQTT_V31);
    mqtt_packet p;
    tc_connect_init(&p, "old-client", true);
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0);
    tc_publish(c, "t", "x", 0, false);
    cr_assert_not(tc_closed(c));
}

/* MQTT 3.1: client identifiers of 1 to 23 bytes; others get return code 2. */
Test(broker_connect, v31_client_id_over_23_bytes_refused_0x02)
{
    tc_client *c = tc_open(b, MQTT_V31);
    mqtt_packet p;
    tc_connect_init(&p, "abcdefghijklmnopqrstuvwx", true); /* 24 */
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0x02);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.3-5"));
}

Test(broker_connect, v31_empty_client_id_refused_0x02)
{
    tc_client *c = tc_open(b, MQTT_V31);
    mqtt_packet p;
    tc_connect_init(&p, "", true);
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0x02);
    tc_expect_closed(c, -1);
}

Test(broker_connect, v311_long_client_id_accepted)
{
    char id[200];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    tc_connect(b, MQTT_V311, id, true); /* MQTT-3.1.3-5: MAY allow more than 23 */
}

/* MQTT-3.1.2-2 (3.1.1): unsupported protocol level -> CONNACK 0x01, close. */
Test(broker_connect, unsupported_protocol_level_gets_0x01)
{
    tc_client *c = tc_open(b, MQTT_V311);
    static const uint8_t bad[] = {0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3C, 0x00, 0x00};
    tc_send_raw(c, bad, sizeof bad);
    c->version = MQTT_V311;
    mqtt_packet *ack = tc_expect(c, MQTT_CONNACK);
    cr_assert_eq(ack->connack.reason_code, 0x01);
    cr_assert_not(ack->connack.session_present);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.2-2"));
}

/* MQTT-3.1.2-1: a protocol name other than MQTT / MQIsdp. */
Test(broker_connect, bad_protocol_name_refused)
{
    tc_client *c = tc_open(b, MQTT_V311);
    static const uint8_t bad[] = {0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'X', 'X', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00};
    tc_send_raw(c, bad, sizeof bad);
    cr_assert_eq(tc_expect(c, MQTT_CONNACK)->connack.reason_code, 0x01);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.2-1"));
}

/* MQTT-3.1.2-3 / MQTT-3.1.4-1: malformed CONNECT closes without CONNACK. */
Test(broker_connect, reserved_flag_closes_without_connack)
{
    tc_client *c = tc_open(b, MQTT_V311);
    static const uint8_t bad[] = {0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x00};
    tc_send_raw(c, bad, sizeof bad);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.2-3"));
}

/* MQTT-3.1.0-1: the first packet must be CONNECT. */
Test(broker_connect, first_packet_not_connect_closes)
{
    tc_client *c = tc_open(b, MQTT_V311);
    static const uint8_t ping[] = {0xC0, 0x00};
    tc_send_raw(c, ping, sizeof ping);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.0-1"));
}

/* MQTT-3.1.0-2: a second CONNECT is a protocol violation: close. */
Test(broker_connect, second_connect_closes_v311)
{
    tc_client *c = tc_connect(b, MQTT_V311, "twice", true);
    mqtt_packet p;
    tc_connect_init(&p, "twice", true);
    tc_send(c, &p);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "client \"twice\" (127.0.0.1:1): MQTT-3.1.0-2"));
}

Test(broker_connect, second_connect_v5_gets_disconnect_0x82)
{
    tc_client *c = tc_connect(b, MQTT_V5, "twice5", true);
    mqtt_packet p;
    tc_connect_init(&p, "twice5", true);
    tc_send(c, &p);
    tc_expect_closed(c, 0x82);
}

/* MQTT-3.1.3-6: empty id with Clean Session gets a unique id assigned. */
Test(broker_connect, v311_empty_id_with_clean_session_assigned)
{
    tc_client *c1 = tc_connect(b, MQTT_V311, "", true);
    tc_client *c2 = tc_connect(b, MQTT_V311, "", true);
    const char *a = broker_conn_client_id(c1->conn), *z = broker_conn_client_id(c2->conn);
    cr_assert(strlen(a) > 0);
    cr_assert_str_neq(a, z);
}

/* MQTT-3.1.3-8: empty id without Clean Session: CONNACK 0x02, session
 * present 0 (MQTT-3.2.2-4), close (MQTT-3.2.2-5). */
Test(broker_connect, v311_empty_id_without_clean_session_refused_0x02)
{
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "", false);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0x02);
    cr_assert_not(ack->connack.session_present);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "MQTT-3.1.3-8"));
}

/* 5.0 MQTT-3.1.3-6/7, MQTT-3.2.2-16: Assigned Client Identifier in CONNACK. */
Test(broker_connect, v5_empty_id_gets_assigned_client_identifier)
{
    for (int clean = 0; clean < 2; clean++) {
        tc_client *c = tc_open(b, MQTT_V5);
        mqtt_packet p;
        tc_connect_init(&p, "", clean);
        mqtt_packet *ack = tc_connect_pkt(c, &p);
        cr_assert_eq(ack->connack.reason_code, 0);
        cr_assert(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER));
        mqtt_bytes id = ack->connack.properties.assigned_client_identifier;
        cr_assert(id.len > 0);
        cr_assert(tc_bytes_is(id, broker_conn_client_id(c->conn)));
    }
}

/* 3.1.1 MQTT-3.1.4-2: the existing client with the same id is disconnected. */
Test(broker_connect, takeover_closes_old_connection_v311)
{
    tc_client *old = tc_connect(b, MQTT_V311, "same", true);
    tc_client *now = tc_connect(b, MQTT_V311, "same", true);
    tc_expect_closed(old, -1);
    cr_assert_not(tc_closed(now));
    cr_assert(tc_log_has(b, "MQTT-3.1.4-2"));
}

/* 5.0 MQTT-3.1.4-3: DISCONNECT 0x8E (Session taken over) to the old one. */
Test(broker_connect, takeover_sends_disconnect_0x8e_v5)
{
    tc_client *old = tc_connect(b, MQTT_V5, "same5", false);
    tc_subscribe(old, "t/#", 1);
    tc_client *now = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "same5", false);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
    p.connect.properties.session_expiry_interval = 60;
    mqtt_packet *ack = tc_connect_pkt(now, &p);
    cr_assert_eq(ack->connack.reason_code, 0);
    tc_expect_closed(old, 0x8E);
    /* The old connection had Session Expiry 0: its session ended with it. */
    cr_assert_not(ack->connack.session_present);
}

Test(broker_connect, takeover_keeps_persistent_session)
{
    tc_client *old = tc_connect(b, MQTT_V311, "keep", false);
    tc_subscribe(old, "k", 1);
    tc_client *now = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "keep", false);
    mqtt_packet *ack = tc_connect_pkt(now, &p);
    cr_assert(ack->connack.session_present); /* MQTT-3.2.2-2 */
    tc_expect_closed(old, -1);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish(pub, "k", "still subscribed", 0, false);
    tc_expect_publish(now, "k", "still subscribed");
}

Test(broker_connect, anonymous_refused_when_not_allowed)
{
    broker_options o;
    tc_options(&o);
    o.allow_anonymous = false;
    tc_broker *nb = tc_new(&o);
    struct { mqtt_version v; bool user; uint8_t code; } cases[] = {
        /* Not authorized in every case, as mosquitto 2.0 (a user name
         * without a password file proves nothing). */
        {MQTT_V311, false, 0x05},
        {MQTT_V311, true, 0x05},
        {MQTT_V5, false, 0x87},
        {MQTT_V5, true, 0x87},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_client *c = tc_open(nb, cases[i].v);
        mqtt_packet p;
        tc_connect_init(&p, "anon", true);
        if (cases[i].user) {
            p.connect.has_username = true;
            p.connect.username = tc_str("user");
            p.connect.has_password = true;
            p.connect.password = tc_str("pw");
        }
        mqtt_packet *ack = tc_connect_pkt(c, &p);
        cr_assert_eq(ack->connack.reason_code, cases[i].code, "case %zu: 0x%02X", i, ack->connack.reason_code);
        cr_assert_not(ack->connack.session_present);
        tc_expect_closed(c, -1);
    }
    tc_free(nb);
}

/* MQTT-4.12.0-1: unsupported Authentication Method -> 0x8C. */
Test(broker_connect, v5_authentication_method_refused_0x8c)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "auth", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD);
    p.connect.properties.authentication_method = tc_str("SCRAM-SHA-1");
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0x8C);
    cr_assert(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_REASON_STRING));
    tc_expect_closed(c, -1);
}

/* Found by fuzz_broker: a refusing CONNACK must fit the client's Maximum Packet
 * Size too (5.0 MQTT-3.1.2-24): its Reason String is dropped (MQTT-3.2.2-19), and
 * when even the bare CONNACK does not fit, the connection closes without it. */
Test(broker_connect, v5_refusal_respects_client_maximum_packet_size)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "small", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD) |
                                   MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.authentication_method = tc_str("SCRAM-SHA-1");
    p.connect.properties.maximum_packet_size = 6;
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    cr_assert_eq(ack->connack.reason_code, 0x8C);
    cr_assert(!MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_REASON_STRING));
    tc_expect_closed(c, -1);

    tc_client *d = tc_open(b, MQTT_V5);
    tc_connect_init(&p, "tiny", true);
    p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_AUTHENTICATION_METHOD) |
                                   MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
    p.connect.properties.authentication_method = tc_str("SCRAM-SHA-1");
    p.connect.properties.maximum_packet_size = 4; /* a bare 5.0 CONNACK takes 5 bytes */
    tc_send(d, &p);
    tc_expect_closed(d, -1);
}

/* MQTT-3.2.2-12 and -13: Will QoS above Maximum QoS, retained Will without
 * retain support. */
Test(broker_connect, v5_will_beyond_capabilities_refused)
{
    broker_options o;
    tc_options(&o);
    o.max_qos = 1;
    o.retain_available = false;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_open(nb, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "w", true);
    p.connect.will = true;
    p.connect.will_qos = 2;
    p.connect.will_topic = tc_str("will");
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0x9B);
    tc_expect_closed(c, -1);
    c = tc_open(nb, MQTT_V5);
    tc_connect_init(&p, "w", true);
    p.connect.will = true;
    p.connect.will_retain = true;
    p.connect.will_topic = tc_str("will");
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0x9A);
    tc_expect_closed(c, -1);
    tc_free(nb);
}

/* MQTT-3.1.4-6 (5.0) / 3.1.4-5: nothing after a refused CONNECT is processed. */
Test(broker_connect, data_after_refused_connect_is_ignored)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "watcher", true);
    tc_subscribe(sub, "x", 0);
    tc_client *c = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "", false); /* refused: 0x02 */
    mqtt_packet pub = {.type = MQTT_PUBLISH};
    pub.publish.topic = tc_str("x");
    pub.publish.payload = tc_str("must not arrive");
    /* Both packets in one feed. */
    mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_CLIENT};
    uint8_t buf[256];
    size_t n1, n2;
    p.connect.protocol_level = 4;
    cr_assert_eq(mqtt_encode(&codec, &p, buf, sizeof buf, &n1, NULL), MQTT_OK);
    cr_assert_eq(mqtt_encode(&codec, &pub, buf + n1, sizeof buf - n1, &n2, NULL), MQTT_OK);
    tc_send_raw(c, buf, n1 + n2);
    cr_assert_eq(tc_expect(c, MQTT_CONNACK)->connack.reason_code, 0x02);
    tc_expect_closed(c, -1);
    tc_expect_none(sub);
}

Test(broker_connect, v5_connack_announces_limits)
{
    broker_options o;
    tc_options(&o);
    o.max_qos = 1;
    o.retain_available = false;
    o.max_packet_size = 1000;
    o.max_inflight_messages = 7;
    o.max_topic_alias = 5;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_open(nb, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "limits", true);
    mqtt_packet *ack = tc_connect_pkt(c, &p);
    const mqtt_properties *pr = &ack->connack.properties;
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_QOS) && pr->maximum_qos == 1); /* MQTT-3.2.2-9 */
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_RETAIN_AVAILABLE) && pr->retain_available == 0);
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE) && pr->maximum_packet_size == 1000);
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_RECEIVE_MAXIMUM) && pr->receive_maximum == 7);
    cr_assert(MQTT_HAS_PROP(pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM) && pr->topic_alias_maximum == 5);
    tc_free(nb);
}

/* A connection that never sends CONNECT is closed after 10 s. */
Test(broker_connect, silent_connection_closed_after_timeout)
{
    tc_client *c = tc_open(b, MQTT_V311);
    tc_advance(b, 9000);
    cr_assert_not(tc_closed(c));
    tc_advance(b, 1000);
    tc_expect_closed(c, -1);
}

/* A CONNECT split into single bytes is decoded once complete. */
Test(broker_connect, connect_fed_byte_by_byte)
{
    tc_client *c = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "bytes", true);
    p.connect.protocol_level = 5;
    mqtt_codec codec = {.version = MQTT_V5, .from = MQTT_FROM_CLIENT};
    uint8_t buf[64];
    size_t n;
    cr_assert_eq(mqtt_encode(&codec, &p, buf, sizeof buf, &n, NULL), MQTT_OK);
    for (size_t i = 0; i + 1 < n; i++) {
        tc_send_raw(c, buf + i, 1);
        tc_expect_none(c);
    }
    tc_send_raw(c, buf + n - 1, 1);
    cr_assert_eq(tc_expect(c, MQTT_CONNACK)->connack.reason_code, 0);
}

/* 3.x keep alive above max_keepalive: refused with 0x02, as mosquitto. */
Test(broker_connect, v311_keepalive_above_max_refused)
{
    broker_options o;
    tc_options(&o);
    o.max_keepalive = 60;
    tc_broker *nb = tc_new(&o);
    tc_client *c = tc_open(nb, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "ka", true);
    p.connect.keep_alive = 61;
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.reason_code, 0x02);
    tc_free(nb);
}
