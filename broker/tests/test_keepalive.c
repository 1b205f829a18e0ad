/*
 * Keep alive: close after 1.5 x the Keep Alive without a packet (3.1.1
 * MQTT-3.1.2-24, 5.0 MQTT-3.1.2-22), PINGREQ/PINGRESP (MQTT-3.12.4-1),
 * 5.0 Server Keep Alive (MQTT-3.2.2-21).
 */
#include "broker/tests/tc.h"

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_keepalive, .init = setup, .fini = teardown);

static tc_client *connect_ka(tc_broker *br, mqtt_version v, const char *id, uint16_t ka, mqtt_packet **ack)
{
    tc_client *c = tc_open(br, v);
    mqtt_packet p;
    tc_connect_init(&p, id, true);
    p.connect.keep_alive = ka;
    mqtt_packet *a = tc_connect_pkt(c, &p);
    cr_assert_eq(a->connack.reason_code, 0);
    if (ack) *ack = a;
    return c;
}

Test(broker_keepalive, closed_after_one_and_a_half_keepalive)
{
    tc_client *c = connect_ka(b, MQTT_V311, "k", 10, NULL);
    tc_advance(b, 14999);
    cr_assert_not(tc_closed(c));
    tc_advance(b, 1);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "client \"k\" (127.0.0.1:1): MQTT-3.1.2-24"));
}

Test(broker_keepalive, pingreq_answered_and_resets_timer)
{
    tc_client *c = connect_ka(b, MQTT_V311, "k", 10, NULL);
    for (int i = 0; i < 5; i++) {
        tc_advance(b, 10000);
        mqtt_packet ping = {.type = MQTT_PINGREQ};
        tc_send(c, &ping);
        tc_expect(c, MQTT_PINGRESP);
    }
    cr_assert_not(tc_closed(c));
    tc_advance(b, 15000);
    tc_expect_closed(c, -1);
}

Test(broker_keepalive, any_packet_resets_timer)
{
    tc_client *c = connect_ka(b, MQTT_V311, "k", 2, NULL);
    for (int i = 0; i < 5; i++) {
        tc_advance(b, 2900);
        tc_publish(c, "t", "x", 0, false);
    }
    cr_assert_not(tc_closed(c));
}

Test(broker_keepalive, v5_timeout_sends_disconnect_0x8d)
{
    tc_client *c = connect_ka(b, MQTT_V5, "k5", 4, NULL);
    tc_advance(b, 6000);
    tc_expect_closed(c, 0x8D);
    cr_assert(tc_log_has(b, "MQTT-3.1.2-22"));
}

Test(broker_keepalive, zero_means_no_timeout)
{
    tc_client *c = connect_ka(b, MQTT_V311, "k0", 0, NULL);
    tc_advance(b, 3600 * 1000);
    cr_assert_not(tc_closed(c));
}

/* 5.0: above max_keepalive, CONNACK carries Server Keep Alive and the broker
 * enforces that value (MQTT-3.2.2-21/22). */
Test(broker_keepalive, v5_server_keep_alive)
{
    broker_options o;
    tc_options(&o);
    o.max_keepalive = 20;
    tc_broker *nb = tc_new(&o);
    mqtt_packet *ack;
    tc_client *c = connect_ka(nb, MQTT_V5, "s", 100, &ack);
    cr_assert(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_SERVER_KEEP_ALIVE));
    cr_assert_eq(ack->connack.properties.server_keep_alive, 20);
    tc_advance(nb, 30000);
    tc_expect_closed(c, 0x8D);
    /* Keep alive 0 with a max_keepalive: the server sets one too. */
    c = connect_ka(nb, MQTT_V5, "s0", 0, &ack);
    cr_assert(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_SERVER_KEEP_ALIVE));
    cr_assert_eq(ack->connack.properties.server_keep_alive, 20);
    /* Within the limit: no Server Keep Alive. */
    c = connect_ka(nb, MQTT_V5, "s1", 10, &ack);
    cr_assert_not(MQTT_HAS_PROP(&ack->connack.properties, MQTT_PROP_SERVER_KEEP_ALIVE));
    tc_free(nb);
}

/* broker_core_tick reports when it next needs to run. */
Test(broker_keepalive, next_deadline_covers_keepalive)
{
    connect_ka(b, MQTT_V311, "d", 4, NULL);
    int64_t next = broker_core_tick(b->core, b->now);
    cr_assert_leq(next, b->now + 1000);
    cr_assert_gt(next, b->now);
    cr_assert_eq(broker_core_next_deadline(b->core), next);
}
