/*
 * Retained messages: store, replace, delete with an empty payload, RETAIN
 * on subscribe but not on live deliveries (3.1.1), Retain As Published and
 * Retain Handling (5.0), expiry, wildcards and '$' topics.
 */
#include "broker/tests/tc.h"

#include <stdio.h>
#include <string.h>

static tc_broker *b;
static void setup(void) { b = tc_new(NULL); }
static void teardown(void) { tc_free(b); }
TestSuite(broker_retain, .init = setup, .fini = teardown);

/* 3.1.1 MQTT-3.3.1-5 (stored), -6 (sent on subscribe), -8 (with RETAIN 1). */
Test(broker_retain, stored_and_sent_on_subscribe_with_retain)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "r/a", "kept", 1, true);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/a", 1);
    mqtt_publish *p = tc_expect_publish(sub, "r/a", "kept");
    cr_assert(p->retain);
    cr_assert_eq(p->qos, 1); /* stored with its QoS */
}

/* A new retained message replaces the old one (MQTT-3.3.1-5 / 3.1.1 -7 for QoS 0). */
Test(broker_retain, replaced_by_a_newer_message)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "r/a", "old", 1, true);
    tc_publish_done(pub, "r/a", "new", 0, true);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/a", 2);
    mqtt_publish *p = tc_expect_publish(sub, "r/a", "new");
    cr_assert_eq(p->qos, 0);
    tc_expect_none(sub);
}

/* 3.1.1 MQTT-3.3.1-10/-11, 5.0 MQTT-3.3.1-6/-7: an empty retained payload is
 * delivered normally and deletes the retained message. */
Test(broker_retain, empty_payload_deletes)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_client *live = tc_connect(b, MQTT_V311, "live", true);
    tc_subscribe(live, "r/#", 0);
    tc_publish_done(pub, "r/a", "x", 0, true);
    tc_expect_publish(live, "r/a", "x");
    tc_publish_done(pub, "r/a", "", 0, true);
    mqtt_publish *p = tc_expect_publish(live, "r/a", "");
    cr_assert_not(p->retain);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/a", 0);
    tc_expect_none(sub);
}

/* 3.1.1 MQTT-3.3.1-9: RETAIN 0 on deliveries to established subscriptions. */
Test(broker_retain, live_delivery_has_retain_0)
{
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/live", 0);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish(pub, "r/live", "x", 0, true);
    cr_assert_not(tc_expect_publish(sub, "r/live", "x")->retain);
}

/* 3.1.1 MQTT-3.3.1-12, 5.0 MQTT-3.3.1-8: RETAIN 0 neither stores nor deletes. */
Test(broker_retain, non_retained_publish_keeps_retained)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish(pub, "r/k", "retained", 0, true);
    tc_publish(pub, "r/k", "plain", 0, false);
    tc_publish(pub, "r/k", "", 0, false);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/k", 0);
    tc_expect_publish(sub, "r/k", "retained");
    tc_expect_none(sub);
}

Test(broker_retain, sent_at_lower_qos)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish_done(pub, "r/q", "two", 2, true);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/q", 1);
    cr_assert_eq(tc_expect_publish(sub, "r/q", "two")->qos, 1);
}

Test(broker_retain, wildcards_match_stored_topics_but_not_dollar)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish(pub, "w/1", "a", 0, true);
    tc_publish(pub, "w/2/x", "b", 0, true);
    tc_publish(pub, "w", "c", 0, true);
    tc_publish(pub, "other", "d", 0, true);
    tc_client *hash = tc_connect(b, MQTT_V311, "hash", true);
    tc_subscribe(hash, "w/#", 0);
    int n = 0;
    while (tc_recv(hash)) n++;
    cr_assert_eq(n, 3, "w/# matches w, w/1 and w/2/x"); /* '#' includes the parent */
    tc_client *plus = tc_connect(b, MQTT_V311, "plus", true);
    tc_subscribe(plus, "w/+", 0);
    tc_expect_publish(plus, "w/1", "a");
    tc_expect_none(plus);
    /* $SYS retained messages are not matched by '#' (MQTT-4.7.2-1). */
    broker_options o;
    tc_options(&o);
    o.sys_interval = 10;
    tc_broker *sb = tc_new(&o);
    tc_client *all = tc_connect(sb, MQTT_V311, "all", true);
    tc_subscribe(all, "#", 0);
    tc_expect_none(all);
    tc_subscribe(all, "+/broker/version", 0);
    tc_expect_none(all);
    tc_subscribe(all, "$SYS/broker/version", 0);
    tc_expect_publish(all, "$SYS/broker/version", "mqtt-broker " BROKER_VERSION);
    tc_free(sb);
}

/* MQTT-3.8.4-3/-4: re-subscribing replaces the subscription and re-sends
 * the retained messages (Retain Handling 0). */
Test(broker_retain, resubscribe_resends)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    tc_publish(pub, "r/re", "x", 0, true);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "r/re", 0);
    tc_expect_publish(sub, "r/re", "x");
    tc_subscribe(sub, "r/re", 1);
    tc_expect_publish(sub, "r/re", "x");
}

static void subscribe_opts(tc_client *c, const char *filter, uint8_t qos, bool rap, uint8_t rh)
{
    mqtt_subscription s = {.topic_filter = tc_str(filter), .qos = qos, .retain_as_published = rap, .retain_handling = rh};
    mqtt_packet pkt = {.type = MQTT_SUBSCRIBE};
    pkt.subscribe.packet_id = c->next_id++;
    pkt.subscribe.subscriptions = &s;
    pkt.subscribe.count = 1;
    tc_send(c, &pkt);
    tc_expect(c, MQTT_SUBACK);
}

/* 5.0 MQTT-3.3.1-12/-13: Retain As Published. */
Test(broker_retain, v5_retain_as_published)
{
    tc_client *rap = tc_connect(b, MQTT_V5, "rap", true);
    tc_client *norap = tc_connect(b, MQTT_V5, "norap", true);
    subscribe_opts(rap, "p", 0, true, 0);
    subscribe_opts(norap, "p", 0, false, 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish(pub, "p", "r", 0, true);
    cr_assert(tc_expect_publish(rap, "p", "r")->retain);
    cr_assert_not(tc_expect_publish(norap, "p", "r")->retain);
    tc_publish(pub, "p", "n", 0, false);
    cr_assert_not(tc_expect_publish(rap, "p", "n")->retain);
}

/* 5.0 MQTT-3.3.1-9/-10/-11: Retain Handling 0, 1, 2. */
Test(broker_retain, v5_retain_handling)
{
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish(pub, "h", "kept", 0, true);
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    subscribe_opts(c, "h", 0, false, 2);
    tc_expect_none(c);                      /* 2: never */
    subscribe_opts(c, "h", 0, false, 1);
    tc_expect_none(c);                      /* 1: the subscription existed */
    tc_client *d = tc_connect(b, MQTT_V5, "d", true);
    subscribe_opts(d, "h", 0, false, 1);
    tc_expect_publish(d, "h", "kept");      /* 1: new subscription */
    subscribe_opts(d, "h", 0, false, 0);
    tc_expect_publish(d, "h", "kept");      /* 0: always */
}

/* 5.0 MQTT-3.3.2-5: an expired retained message is not sent. */
Test(broker_retain, v5_expired_retained_not_sent)
{
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    mqtt_packet pkt = {.type = MQTT_PUBLISH};
    pkt.publish.topic = tc_str("exp");
    pkt.publish.payload = tc_str("short-lived");
    pkt.publish.retain = true;
    pkt.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
    pkt.publish.properties.message_expiry_interval = 5;
    tc_send(pub, &pkt);
    tc_advance(b, 2000);
    tc_client *early = tc_connect(b, MQTT_V5, "early", true);
    tc_subscribe(early, "exp", 0);
    mqtt_publish *p = tc_expect_publish(early, "exp", "short-lived");
    cr_assert_eq(p->properties.message_expiry_interval, 3); /* MQTT-3.3.2-6 */
    tc_advance(b, 3000);
    tc_client *late = tc_connect(b, MQTT_V5, "late", true);
    tc_subscribe(late, "exp", 0);
    tc_expect_none(late);
}

/* Retained messages are not sent for shared subscriptions. */
Test(broker_retain, not_sent_to_shared_subscription)
{
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    tc_publish(pub, "s", "kept", 0, true);
    tc_client *c = tc_connect(b, MQTT_V5, "c", true);
    tc_subscribe(c, "$share/g/s", 0);
    tc_expect_none(c);
}

/* Retained messages on subscribe are a MUST (3.1.1 MQTT-3.3.1-6, 5.0
 * MQTT-3.3.1-9): with the default options (max_queued_messages 1000, 256 KiB
 * of output before a connection counts as congested) a new '#' subscriber
 * gets all 10,000, streamed as it reads, not cut by the queue limit (issue
 * 14: it got 4,084). Live messages still obey the limit. */
Test(broker_retain, ten_thousand_retained_all_reach_a_new_subscriber)
{
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    char topic[32], payload[64];
    memset(payload, 'p', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    for (int i = 0; i < 10000; i++) {
        snprintf(topic, sizeof topic, "r/%d", i);
        tc_publish(pub, topic, payload, 0, true);
    }
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "#", 0);
    int got = 0;
    for (tc_pkt *p; (p = tc_recv(sub));) {
        cr_assert_eq(p->pkt.type, MQTT_PUBLISH);
        cr_assert(p->pkt.publish.retain);
        got++;
    }
    cr_assert_eq(got, 10000, "a new subscriber got %d of 10000 retained messages", got);
}
