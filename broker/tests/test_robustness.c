/*
 * Robustness of the core against bad input, deterministic (seeded PRNG):
 * streams of valid packets of every kind, mutated (bytes flipped, inserted,
 * dropped), fed in random chunk sizes to many connections, with the clock
 * jumping and connections dropping. Properties checked: no crash or leak
 * (ASan/UBSan), every byte the broker sends decodes as a valid server packet
 * of the connection's protocol version, and the broker still serves a clean
 * client afterwards.
 */
#include "broker/src/broker_internal.h"
#include "broker/tests/tc.h"

#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Appends one valid client packet of a random kind to buf. */
static size_t valid_packet(mqtt_version v, bool first, uint8_t *buf, size_t cap)
{
    static const char *topics[] = {"a", "a/b", "$SYS/x", "s/+/#", "$share/g/a/#", "#", "+"};
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    mqtt_user_property up = {tc_str("k"), tc_str("v")};
    mqtt_subscription subs[2] = {{.topic_filter = tc_str(topics[rnd() % 7]), .qos = (uint8_t)(rnd() % 3)},
                                 {.topic_filter = tc_str("a/+"), .qos = 1, .retain_handling = 1}};
    uint32_t subid = 1 + rnd() % 1000;
    int kind = first ? 0 : 1 + (int)(rnd() % 10);
    switch (kind) {
    case 0:
        p.type = MQTT_CONNECT;
        p.connect.protocol_level = (uint8_t)v;
        p.connect.client_id = tc_str(rnd() % 4 ? "fz" : "");
        p.connect.clean_start = rnd() % 2;
        p.connect.keep_alive = (uint16_t)(rnd() % 5);
        p.connect.will = rnd() % 2;
        if (p.connect.will) {
            p.connect.will_topic = tc_str("will");
            p.connect.will_qos = (uint8_t)(rnd() % 3);
            p.connect.will_retain = rnd() % 2;
        }
        if (v == MQTT_V5 && rnd() % 2) {
            p.connect.properties.present = MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL) |
                                           MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM) |
                                           MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM) |
                                           MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE);
            p.connect.properties.session_expiry_interval = rnd() % 10;
            p.connect.properties.topic_alias_maximum = (uint16_t)(rnd() % 4);
            p.connect.properties.receive_maximum = (uint16_t)(1 + rnd() % 3);
            p.connect.properties.maximum_packet_size = 20 + rnd() % 200;
        }
        break;
    case 1:
    case 2:
    case 3:
        p.type = MQTT_PUBLISH;
        p.publish.topic = tc_str(topics[rnd() % 3]);
        p.publish.payload = tc_str(rnd() % 3 ? "payload" : "");
        p.publish.qos = (uint8_t)(rnd() % 3);
        p.publish.retain = rnd() % 2;
        p.publish.packet_id = p.publish.qos ? (uint16_t)(1 + rnd() % 5) : 0;
        if (v == MQTT_V5) {
            p.publish.properties.user_properties = &up;
            p.publish.properties.user_property_count = rnd() % 2;
            if (rnd() % 2) {
                p.publish.properties.present = MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS);
                p.publish.properties.topic_alias = (uint16_t)(1 + rnd() % 12);
                if (rnd() % 2) p.publish.topic = tc_str("");
            }
            if (rnd() % 2) {
                p.publish.properties.present |= MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
                p.publish.properties.message_expiry_interval = rnd() % 3;
            }
        }
        break;
    case 4:
        p.type = MQTT_SUBSCRIBE;
        p.subscribe.packet_id = (uint16_t)(1 + rnd() % 100);
        p.subscribe.subscriptions = subs;
        p.subscribe.count = 1 + rnd() % 2;
        if (v == MQTT_V5 && rnd() % 2) {
            p.subscribe.properties.subscription_identifiers = &subid;
            p.subscribe.properties.subscription_identifier_count = 1;
        }
        break;
    case 5:
        p.type = MQTT_UNSUBSCRIBE;
        p.subscribe.packet_id = (uint16_t)(1 + rnd() % 100);
        p.subscribe.subscriptions = subs;
        p.subscribe.count = 1;
        break;
    case 6: p.type = MQTT_PUBACK; p.ack.packet_id = (uint16_t)(1 + rnd() % 5); break;
    case 7: p.type = MQTT_PUBREC; p.ack.packet_id = (uint16_t)(1 + rnd() % 5); break;
    case 8: p.type = MQTT_PUBREL; p.ack.packet_id = (uint16_t)(1 + rnd() % 5); break;
    case 9: p.type = MQTT_PUBCOMP; p.ack.packet_id = (uint16_t)(1 + rnd() % 5); break;
    default: p.type = rnd() % 8 ? MQTT_PINGREQ : MQTT_DISCONNECT; break;
    }
    mqtt_codec codec = {.version = v, .from = MQTT_FROM_CLIENT};
    size_t n = 0;
    if (mqtt_encode(&codec, &p, buf, cap, &n, NULL) != MQTT_OK) return 0;
    return n;
}

/* Decodes everything the broker queued for c: it must all be valid. */
static void check_output(broker_conn *c, int64_t now)
{
    const uint8_t *data;
    size_t len = broker_conn_output(c, &data);
    size_t off = 0;
    while (off < len) {
        mqtt_user_property props[64];
        uint32_t ids[16];
        mqtt_codec codec = {.version = (mqtt_version)c->version,
                            .from = MQTT_FROM_SERVER,
                            .user_properties = props,
                            .user_properties_cap = 64,
                            .subscription_identifiers = ids,
                            .subscription_identifiers_cap = 16};
        mqtt_packet pkt;
        mqtt_error err;
        mqtt_status st = mqtt_decode(&codec, data + off, len - off, &pkt, &err);
        cr_assert_eq(st, MQTT_OK, "broker output does not decode as %s: %s %s", mqtt_version_name(codec.version),
                     st >= MQTT_ERR_MALFORMED ? err.rule : "incomplete", st >= MQTT_ERR_MALFORMED ? err.message : "");
        if (c->client_max_packet) cr_assert_leq(pkt.length, c->client_max_packet, "MQTT-3.1.2-24");
        off += pkt.length;
    }
    broker_conn_output_done(c, len, now);
}

Test(broker_robustness, mutated_streams)
{
    broker_options o;
    tc_options(&o);
    o.sys_interval = 1;
    o.max_queued_messages = 20;
    o.out_high_water = 2048;
    tc_broker *b = tc_new(&o);
    enum { CONNS = 12 };
    broker_conn *conns[CONNS] = {0};
    mqtt_version versions[CONNS];
    static uint8_t stream[1 << 16];
    for (int round = 0; round < 400; round++) {
        int i = (int)(rnd() % CONNS);
        if (!conns[i]) {
            conns[i] = broker_conn_open(b->core, "fuzz", NULL, b->now);
            versions[i] = (mqtt_version[]){MQTT_V31, MQTT_V311, MQTT_V5}[rnd() % 3];
        }
        /* A stream of valid packets, the first a CONNECT for a new connection. */
        size_t len = 0;
        bool first = conns[i]->state == CONN_NEW;
        int npk = 1 + (int)(rnd() % 12);
        for (int k = 0; k < npk && len + 512 < sizeof stream; k++) {
            len += valid_packet(versions[i], first && k == 0, stream + len, sizeof stream - len);
        }
        /* Mutate some of them. */
        if (rnd() % 3 == 0 && len) {
            int muts = 1 + (int)(rnd() % 4);
            for (int m = 0; m < muts; m++) {
                size_t at = rnd() % len;
                switch (rnd() % 3) {
                case 0: stream[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
                case 1:
                    memmove(stream + at + 1, stream + at, len - at);
                    stream[at] = (uint8_t)rnd();
                    len++;
                    break;
                default:
                    memmove(stream + at, stream + at + 1, len - at - 1);
                    len--;
                    break;
                }
            }
        }
        /* Feed in random chunks, checking output as it comes. */
        for (size_t off = 0; off < len && conns[i];) {
            size_t chunk = 1 + rnd() % 64;
            if (chunk > len - off) chunk = len - off;
            broker_conn_feed(conns[i], stream + off, chunk, b->now);
            off += chunk;
            for (int k = 0; k < CONNS; k++)
                if (conns[k] && rnd() % 4) check_output(conns[k], b->now);
        }
        if (rnd() % 5 == 0) tc_advance(b, (int64_t)(rnd() % 3000));
        for (int k = 0; k < CONNS; k++) {
            if (!conns[k]) continue;
            if (broker_conn_should_close(conns[k]) || rnd() % 40 == 0) {
                check_output(conns[k], b->now);
                broker_conn_close(conns[k], b->now);
                conns[k] = NULL;
            }
        }
        while (broker_core_next_dirty(b->core)) {}
    }
    for (int k = 0; k < CONNS; k++)
        if (conns[k]) broker_conn_close(conns[k], b->now);
    /* Still serving. */
    tc_client *sub = tc_connect(b, MQTT_V5, "after-sub", true);
    tc_subscribe(sub, "after", 1);
    tc_client *pub = tc_connect(b, MQTT_V311, "after-pub", true);
    tc_publish_done(pub, "after", "ok", 1, false);
    tc_expect_publish(sub, "after", "ok");
    tc_free(b);
}

/* Pure garbage before CONNECT never gets more than a close (and maybe a CONNACK). */
Test(broker_robustness, random_bytes_before_connect)
{
    tc_broker *b = tc_new(NULL);
    uint8_t junk[256];
    for (int round = 0; round < 300; round++) {
        broker_conn *c = broker_conn_open(b->core, "junk", NULL, b->now);
        size_t n = 1 + rnd() % sizeof junk;
        for (size_t k = 0; k < n; k++) junk[k] = (uint8_t)rnd();
        if (rnd() % 2) junk[0] = 0x10; /* looks like CONNECT */
        broker_conn_feed(c, junk, n, b->now);
        const uint8_t *data;
        size_t len = broker_conn_output(c, &data);
        if (len) {
            mqtt_codec codec = {.version = (mqtt_version)c->version, .from = MQTT_FROM_SERVER};
            mqtt_packet pkt;
            cr_assert_eq(mqtt_decode(&codec, data, len, &pkt, NULL), MQTT_OK);
            cr_assert_eq(pkt.type, MQTT_CONNACK);
            cr_assert(broker_conn_should_close(c));
        }
        broker_conn_close(c, b->now);
    }
    cr_assert_eq(broker_core_conn_count(b->core), 0);
    tc_free(b);
}
