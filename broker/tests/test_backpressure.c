/*
 * Bounded output and back-pressure: a subscriber whose pending output is
 * above out_high_water is not filled further (messages wait in its session
 * queue), and the publisher that tried is not read (wants_read false) until
 * the subscriber's output drains to half the mark; a subscriber that writes
 * nothing for stall_ms stops throttling publishers.
 */
#include "broker/tests/tc.h"

#include <string.h>

static tc_broker *b;
static tc_client *sub, *pub;
static char payload[1001];

static void setup(void)
{
    broker_options o;
    tc_options(&o);
    o.out_high_water = 4096;
    o.max_queued_messages = 100;
    o.stall_ms = 3000;
    b = tc_new(&o);
    memset(payload, 'p', sizeof payload - 1);
    sub = tc_connect(b, MQTT_V311, "slow", true);
    tc_subscribe(sub, "bp", 0);
    pub = tc_connect(b, MQTT_V311, "fast", true);
}
static void teardown(void) { tc_free(b); }
TestSuite(broker_backpressure, .init = setup, .fini = teardown);

static size_t pending(tc_client *c)
{
    const uint8_t *d;
    return broker_conn_output(c->conn, &d);
}

/* Publishes QoS 0 on "bp" until the broker stops reading `p`, at most 50
 * times (4 KB of output is 4 of these payloads: 50 is far past it), and
 * asserts it did stop. Returns how many were sent. */
static int throttle(tc_client *p)
{
    int sent = 0;
    while (broker_conn_wants_read(p->conn) && sent < 50) {
        tc_publish(p, "bp", payload, 0, false);
        sent++;
    }
    cr_assert_not(broker_conn_wants_read(p->conn), "publisher still read after %d messages", sent);
    return sent;
}

/* Reads every packet queued for `c`; returns how many. */
static int drain(tc_client *c)
{
    int got = 0;
    while (tc_recv(c)) got++;
    return got;
}

Test(broker_backpressure, congested_subscriber_throttles_publisher)
{
    cr_assert(broker_conn_wants_read(pub->conn));
    int sent = throttle(pub);
    cr_assert_lt(pending(sub), 4096 + 2 * sizeof payload, "output bounded near the high-water mark");
    /* The subscriber reads everything: the publisher is read again. */
    cr_assert_eq(drain(sub), sent, "nothing lost: the queue held the rest");
    cr_assert(broker_conn_wants_read(pub->conn));
}

/* The driver learns about the change through the dirty set. */
Test(broker_backpressure, throttle_changes_reach_the_driver)
{
    while (broker_core_next_dirty(b->core)) {}
    throttle(pub);
    bool seen = false;
    for (broker_conn *d; (d = broker_core_next_dirty(b->core));) seen |= d == pub->conn;
    cr_assert(seen, "throttled publisher marked dirty");
    drain(sub);
    seen = false;
    for (broker_conn *d; (d = broker_core_next_dirty(b->core));) seen |= d == pub->conn;
    cr_assert(seen, "released publisher marked dirty");
}

Test(broker_backpressure, stalled_subscriber_stops_throttling)
{
    throttle(pub);
    tc_advance(b, 2999);
    cr_assert_not(broker_conn_wants_read(pub->conn));
    tc_advance(b, 1);
    cr_assert(broker_conn_wants_read(pub->conn), "released after stall_ms");
    /* Now the queue limit applies: messages beyond it are dropped. */
    for (int i = 0; i < 200; i++) tc_publish(pub, "bp", payload, 0, false);
    cr_assert(broker_conn_wants_read(pub->conn));
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_gt(st.publish_dropped, 0);
    cr_assert_lt(pending(sub), 4096 + 2 * sizeof payload);
}

/* A publisher is never throttled by its own output (it would never drain). */
Test(broker_backpressure, self_subscription_does_not_deadlock)
{
    tc_subscribe(pub, "self", 0);
    for (int i = 0; i < 20; i++) tc_publish(pub, "self", payload, 0, false);
    cr_assert(broker_conn_wants_read(pub->conn));
}

/* A throttled publisher that goes away releases its place cleanly: what it
 * published is still delivered, the drain does not touch the closed publisher
 * (ASan would report it), and the next publisher is throttled and released as
 * the first was. Then the subscriber closes with a waiter: fine too. */
Test(broker_backpressure, throttled_publisher_closes_cleanly)
{
    int sent = throttle(pub);
    tc_drop(pub);
    cr_assert_eq(drain(sub), sent, "what the closed publisher sent is delivered");
    tc_client *next = tc_connect(b, MQTT_V311, "next", true);
    int sent2 = throttle(next);
    cr_assert_eq(drain(sub), sent2);
    cr_assert(broker_conn_wants_read(next->conn), "the next publisher is released");
    throttle(next);
    tc_drop(sub);
    cr_assert(broker_conn_wants_read(next->conn), "a subscriber that closes releases its waiters");
}

/* Keep alive is not counted while the broker does not read a publisher. */
Test(broker_backpressure, no_keepalive_timeout_while_throttled)
{
    tc_client *p = tc_open(b, MQTT_V311);
    mqtt_packet c;
    tc_connect_init(&c, "ka", true);
    c.connect.keep_alive = 1;
    tc_connect_pkt(p, &c);
    throttle(p);
    tc_advance(b, 2000);
    cr_assert_not(tc_closed(p));
}

/* A subscriber whose in-flight window is full and whose queue reaches half
 * of max_queued_messages throttles its publishers too; its PUBACKs release
 * them, and nothing is lost. */
Test(broker_backpressure, full_window_throttles_until_acked)
{
    tc_client *q1 = tc_connect(b, MQTT_V311, "acker", true);
    tc_subscribe(q1, "w", 1);
    int sent = 0;
    while (broker_conn_wants_read(pub->conn) && sent < 500) {
        tc_publish_done(pub, "w", "m", 1, false);
        sent++;
    }
    cr_assert_eq(sent, 20 + 50, "window (20) plus half the queue limit (100 / 2)");
    int got = 0;
    for (tc_pkt *p; (p = tc_recv(q1)) || got < sent;) {
        cr_assert(p, "only %d of %d delivered", got, sent);
        got++;
        tc_ack(q1, MQTT_PUBACK, p->pkt.publish.packet_id);
    }
    cr_assert(broker_conn_wants_read(pub->conn));
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_eq(st.publish_dropped, 0);
}
