/*
 * memory_limit (issue 14), with mosquitto.conf(5)'s meaning: a hard limit
 * on the bytes the broker holds for clients (messages, connection buffers,
 * sessions, queues: broker_mem_held). An incoming message that would exceed
 * it is dropped and its client disconnected (5.0: DISCONNECT 0x97 Quota
 * exceeded), an outgoing one is dropped and its receiver disconnected, new
 * connections are refused while it is reached (CONNACK 0x97, 3.x 0x03 Server
 * unavailable), it can be changed while running (SIGHUP), and the count
 * returns to 0 once everything is freed (the accounting itself is checked,
 * under ASan).
 */
#include "broker/tests/tc.h"

#include <stdlib.h>
#include <string.h>

static mqtt_packet *publish_v5(tc_client *c, const char *topic, size_t payload_len)
{
    static mqtt_packet p;
    static char payload[16384];
    cr_assert_leq(payload_len, sizeof payload);
    memset(payload, 'm', payload_len);
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.topic = tc_str(topic);
    p.publish.payload = (mqtt_bytes){(const uint8_t *)payload, payload_len};
    tc_send(c, &p);
    return &p;
}

Test(broker_memory, default_is_no_limit)
{
    broker_options o;
    broker_options_default(&o);
    cr_assert_eq(o.memory_limit, 0, "mosquitto's default: no limit");
}

/* A PUBLISH announcing more than the broker may still hold is refused on its
 * fixed header: its bytes are never buffered. */
Test(broker_memory, a_packet_above_the_limit_is_refused_on_its_header)
{
    broker_options o;
    tc_options(&o);
    o.memory_limit = 1 << 20;
    tc_broker *b = tc_new(&o);
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "big", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    /* PUBLISH QoS 0, Remaining Length 4 MiB, topic "big", then 1000 bytes. */
    uint8_t head[1024] = {0x30, 0x80, 0x80, 0x80, 0x02, 0, 3, 'b', 'i', 'g', 0};
    tc_send_raw(pub, head, sizeof head);
    cr_assert_lt(broker_mem_held(), (size_t)o.memory_limit);
    tc_expect_closed(pub, 0x97);
    cr_assert(tc_log_has(b, "LIMIT-memory_limit"));
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_eq(st.publish_dropped, 1, "the refused message is counted");
    /* Everyone else goes on. */
    tc_client *other = tc_connect(b, MQTT_V5, "other", true);
    publish_v5(other, "big", 100);
    cr_assert_eq(tc_expect(sub, MQTT_PUBLISH)->publish.payload.len, 100);
    tc_free(b);
    cr_assert_eq(broker_mem_held(), 0, "every counted byte was given back (%zu left)", broker_mem_held());
}

/* A subscriber that reads nothing makes the broker hold its output. As
 * mosquitto.conf(5) says of an outgoing message: when writing it would take
 * the broker above memory_limit "the individual message will be dropped and
 * the receiving client will be disconnected" (5.0: DISCONNECT 0x97); the
 * publisher goes on. No output buffer passes the limit by a growth step:
 * at most by one packet. */
Test(broker_memory, a_delivery_above_the_limit_is_dropped_and_its_receiver_disconnected)
{
    broker_options o;
    tc_options(&o);
    o.memory_limit = 300 * 1024;
    o.out_high_water = 4 << 20; /* the memory limit is reached first */
    tc_broker *b = tc_new(&o);
    tc_client *sub = tc_connect(b, MQTT_V5, "sub", true);
    tc_subscribe(sub, "t", 0);
    tc_client *pub = tc_connect(b, MQTT_V5, "pub", true);
    int sent = 0;
    /* broker_conn_should_close, not tc_closed: that one would read. */
    while (sent < 200 && !broker_conn_should_close(sub->conn)) {
        publish_v5(pub, "t", 10000);
        sent++;
        cr_assert_leq(broker_mem_held(), (size_t)o.memory_limit + 10100, "%zu bytes held after %d messages",
                      broker_mem_held(), sent);
    }
    cr_assert_lt(sent, 200, "the receiver was never disconnected (%zu bytes held)", broker_mem_held());
    cr_assert_gt(sent, 20, "disconnected too early, after %d messages", sent);
    cr_assert(tc_log_has(b, "a delivery to it was dropped"));
    broker_stats st;
    broker_core_stats(b->core, &st);
    cr_assert_geq(st.publish_dropped, 1, "the dropped delivery is counted");
    /* The receiver gets what was written before, then DISCONNECT 0x97. */
    int got = 0;
    tc_pkt *r;
    while ((r = tc_recv(sub)) && r->pkt.type == MQTT_PUBLISH) got++;
    cr_assert(r, "no DISCONNECT after %d messages", got);
    cr_assert_eq(r->pkt.type, MQTT_DISCONNECT);
    cr_assert_eq(r->pkt.disconnect.reason_code, 0x97);
    cr_assert_lt(got, sent, "%d of %d delivered: one was dropped", got, sent);
    cr_assert(!tc_closed(pub), "the publisher is not disconnected for its receiver's backlog");
    tc_drop(sub);
    /* Memory is back: a new subscriber gets the next messages. */
    cr_assert_lt(broker_mem_held(), (size_t)o.memory_limit / 2);
    tc_client *again = tc_connect(b, MQTT_V5, "again", true);
    tc_subscribe(again, "t", 0);
    publish_v5(pub, "t", 10);
    tc_expect_publish(again, "t", "mmmmmmmmmm");
    tc_free(b);
    cr_assert_eq(broker_mem_held(), 0, "every counted byte was given back (%zu left)", broker_mem_held());
}

/* Persistent QoS 1 receivers disconnected for memory_limit keep the
 * messages acknowledged to their publisher: they are sent when they come
 * back (mosquitto keeps them in the client's message list). Two receivers
 * that read nothing: a message costs its own bytes once and one copy in
 * each output, so an output is what passes the limit first. */
static tc_client *keeper(tc_broker *b, const char *id, bool subscribe)
{
    mqtt_packet p;
    tc_client *c = tc_open(b, MQTT_V311);
    tc_connect_init(&p, id, false);
    p.connect.protocol_level = MQTT_V311;
    cr_assert_eq(tc_connect_pkt(c, &p)->connack.session_present, !subscribe);
    if (subscribe) tc_subscribe(c, "k", 1);
    return c;
}

static int receive_all(tc_client *c)
{
    int got = 0;
    for (int rounds = 0; rounds < 10000; rounds++) {
        tc_pkt *r = tc_recv(c);
        if (!r) break;
        if (r->pkt.type != MQTT_PUBLISH) continue;
        got++;
        tc_ack(c, MQTT_PUBACK, r->pkt.publish.packet_id);
    }
    return got;
}

Test(broker_memory, disconnected_persistent_receivers_keep_their_qos1_messages)
{
    broker_options o;
    tc_options(&o);
    o.memory_limit = 300 * 1024;
    o.out_high_water = 4 << 20;
    tc_broker *b = tc_new(&o);
    tc_client *k1 = keeper(b, "keeper1", true), *k2 = keeper(b, "keeper2", true);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    /* A small message (both outputs now hold something), then one of 100 KB:
     * stored (it fits), written to the first receiver's output (it fits),
     * refused for the second's (it would pass 300 KB). */
    static char payload[100001];
    memset(payload, 'k', 100000);
    int acked = 0;
    tc_publish(pub, "k", "small", 1, false);
    tc_pkt *r = tc_recv(pub);
    acked += r && r->pkt.type == MQTT_PUBACK;
    tc_publish(pub, "k", payload, 1, false);
    r = tc_recv(pub);
    acked += r && r->pkt.type == MQTT_PUBACK;
    cr_assert_eq(acked, 2, "both messages are stored and acknowledged");
    cr_assert(!tc_closed(pub), "the publisher is not the one disconnected");
    cr_assert(broker_conn_should_close(k1->conn) != broker_conn_should_close(k2->conn),
              "one receiver is disconnected (%d, %d; %zu held)", broker_conn_should_close(k1->conn),
              broker_conn_should_close(k2->conn), broker_mem_held());
    cr_assert(tc_log_has(b, "a delivery to it was dropped"));
    /* The receiver still connected reads (freeing its output), then the
     * disconnected one comes back. */
    tc_client *k[2] = {k1, k2};
    const char *ids[2] = {"keeper1", "keeper2"};
    int closed = broker_conn_should_close(k1->conn) ? 0 : 1;
    int got = receive_all(k[!closed]);
    cr_assert_eq(got, acked, "%s (connected): %d received of %d acknowledged", ids[!closed], got, acked);
    tc_drop(k[closed]);
    k[closed] = keeper(b, ids[closed], false);
    got = receive_all(k[closed]);
    cr_assert_eq(got, acked, "%s (disconnected): %d received again of %d acknowledged", ids[closed], got, acked);
    tc_free(b);
    cr_assert_eq(broker_mem_held(), 0, "every counted byte was given back (%zu left)", broker_mem_held());
}

/* New clients are refused while the limit is reached (CONNACK 0x97, 3.x
 * 0x03 Server unavailable); a lower limit set while running (a SIGHUP
 * reload) frees nothing and applies at once, and a higher one lets them in. */
Test(broker_memory, connects_are_refused_at_the_limit_and_it_is_set_while_running)
{
    broker_options o;
    tc_options(&o);
    tc_broker *b = tc_new(&o);
    tc_client *first = tc_connect(b, MQTT_V5, "first", true);
    broker_core_set_memory_limit(b->core, broker_mem_held());
    tc_client *late = tc_open(b, MQTT_V5);
    mqtt_packet p;
    tc_connect_init(&p, "late", true);
    cr_assert_eq(tc_connect_pkt(late, &p)->connack.reason_code, 0x97);
    tc_client *late3 = tc_open(b, MQTT_V311);
    tc_connect_init(&p, "late3", true);
    p.connect.protocol_level = MQTT_V311;
    cr_assert_eq(tc_connect_pkt(late3, &p)->connack.reason_code, 0x03, "3.x: Server unavailable");
    broker_core_set_memory_limit(b->core, broker_mem_held() + (1 << 20));
    tc_client *ok = tc_connect(b, MQTT_V5, "ok", true);
    tc_subscribe(ok, "x", 0);
    publish_v5(first, "x", 10);
    tc_expect_publish(ok, "x", "mmmmmmmmmm");
    tc_free(b);
}

/* Messages kept for an offline session count: a QoS 1 publisher filling one
 * is stopped at the limit, and nothing acknowledged is lost (the refused
 * PUBLISH got no PUBACK). */
Test(broker_memory, offline_queues_are_bounded_and_acked_messages_kept)
{
    broker_options o;
    tc_options(&o);
    o.memory_limit = 256 * 1024;
    o.max_queued_messages = 0; /* only memory_limit bounds the queue */
    tc_broker *b = tc_new(&o);
    tc_client *sub = tc_open(b, MQTT_V311);
    mqtt_packet p;
    tc_connect_init(&p, "offline", false);
    p.connect.protocol_level = MQTT_V311;
    tc_connect_pkt(sub, &p);
    tc_subscribe(sub, "q", 1);
    tc_drop(sub);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    char payload[1001];
    memset(payload, 'q', 1000);
    payload[1000] = '\0';
    int acked = 0;
    for (int i = 0; i < 1000 && !tc_closed(pub); i++) {
        tc_publish(pub, "q", payload, 1, false);
        tc_pkt *r = tc_recv(pub);
        if (r && r->pkt.type == MQTT_PUBACK) acked++;
        cr_assert_leq(broker_mem_held(), (size_t)o.memory_limit, "%zu bytes held", broker_mem_held());
    }
    cr_assert(tc_closed(pub), "the publisher was never stopped");
    cr_assert_gt(acked, 100);
    /* The offline session keeps every acknowledged message. */
    tc_client *back = tc_open(b, MQTT_V311);
    tc_connect_init(&p, "offline", false);
    p.connect.protocol_level = MQTT_V311;
    cr_assert_eq(tc_connect_pkt(back, &p)->connack.session_present, true);
    int got = 0;
    for (tc_pkt *r; (r = tc_recv(back));) {
        if (r->pkt.type != MQTT_PUBLISH) continue;
        got++;
        tc_ack(back, MQTT_PUBACK, r->pkt.publish.packet_id);
    }
    cr_assert_eq(got, acked, "%d received of %d acknowledged", got, acked);
    tc_free(b);
    cr_assert_eq(broker_mem_held(), 0, "every counted byte was given back (%zu left)", broker_mem_held());
}

/* The count is published as mosquitto's $SYS/broker/heap/current. */
Test(broker_memory, held_bytes_are_published_in_sys)
{
    broker_options o;
    tc_options(&o);
    o.sys_interval = 5;
    tc_broker *b = tc_new(&o);
    tc_client *c = tc_connect(b, MQTT_V311, "sys", true);
    tc_subscribe(c, "$SYS/broker/heap/current", 0);
    mqtt_publish *p = tc_expect_publish(c, "$SYS/broker/heap/current", NULL);
    char text[32] = "";
    cr_assert_lt(p->payload.len, sizeof text);
    memcpy(text, p->payload.ptr, p->payload.len);
    unsigned long long v = strtoull(text, NULL, 10);
    cr_assert_gt(v, 0, "heap/current %.*s", (int)p->payload.len, (const char *)p->payload.ptr);
    cr_assert_leq(v, broker_mem_held() + 4096);
    tc_free(b);
}

/* A client that sends and never reads: deliveries to it stop at
 * out_high_water, but the answers to what it sends (PINGRESP here) would
 * pile up without bound. Past 16 x out_high_water of unread answers it is
 * disconnected (0x97), whatever memory_limit says (none here); a client
 * that reads what it is sent is never. */
Test(broker_memory, a_client_that_never_reads_its_answers_is_disconnected)
{
    broker_options o;
    tc_options(&o);
    o.out_high_water = 16 * 1024; /* 256 KiB of answers unread at most */
    tc_broker *b = tc_new(&o);
    tc_client *deaf = tc_connect(b, MQTT_V5, "deaf", true);
    static uint8_t pings[65536];
    for (size_t i = 0; i < sizeof pings; i += 2) {
        pings[i] = 0xC0; /* PINGREQ */
        pings[i + 1] = 0;
    }
    int chunks = 0;
    while (chunks < 64 && !broker_conn_should_close(deaf->conn)) {
        tc_send_raw(deaf, pings, sizeof pings);
        chunks++;
    }
    cr_assert(broker_conn_should_close(deaf->conn), "never disconnected after %d x 64 KiB of PINGREQ", chunks);
    cr_assert_leq(chunks, 6, "disconnected late, after %d x 64 KiB", chunks);
    cr_assert(tc_log_has(b, "LIMIT-unread_output"));
    /* One that reads keeps its connection through the same traffic. */
    tc_client *reader = tc_connect(b, MQTT_V5, "reader", true);
    for (int i = 0; i < 32; i++) {
        tc_send_raw(reader, pings, sizeof pings);
        while (tc_recv(reader)) {
        }
        cr_assert(!tc_closed(reader), "a reading client was disconnected after %d x 64 KiB", i + 1);
    }
    tc_free(b);
}
