/*
 * Bounded CPU and memory per client (issue 14): a packet arriving in pieces
 * is framed (fixed header + Remaining Length) and decoded once, whole; the
 * bytes a client may send before its CONNACK are capped (max_connect_size).
 */
#include "broker/tests/tc.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *encode(mqtt_version v, mqtt_packet *pkt, size_t *n)
{
    mqtt_codec codec = {.version = v, .from = MQTT_FROM_CLIENT};
    cr_assert_eq(mqtt_encoded_size(&codec, pkt, n, NULL), MQTT_OK);
    uint8_t *buf = malloc(*n);
    size_t written;
    cr_assert_eq(mqtt_encode(&codec, pkt, buf, *n, &written, NULL), MQTT_OK);
    return buf;
}

Test(broker_limits, a_packet_arriving_in_pieces_is_decoded_once)
{
    tc_broker *b = tc_new(NULL);
    tc_client *sub = tc_connect(b, MQTT_V311, "sub", true);
    tc_subscribe(sub, "big", 0);
    tc_client *pub = tc_connect(b, MQTT_V311, "pub", true);
    size_t payload_len = 1 << 20;
    char *payload = malloc(payload_len);
    memset(payload, 'x', payload_len);
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = MQTT_PUBLISH;
    p.publish.topic = tc_str("big");
    p.publish.payload = (mqtt_bytes){(const uint8_t *)payload, payload_len};
    size_t n;
    uint8_t *bytes = encode(MQTT_V311, &p, &n);
    tc_decoded_bytes = 0;
    for (size_t off = 0; off < n; off += 1024) tc_send_raw(pub, bytes + off, n - off < 1024 ? n - off : 1024);
    size_t work = tc_decoded_bytes;
    /* Once for the fixed header, once whole: about 1x, never n^2/chunk. */
    cr_assert_lt(work, 3 * n, "decoded %zu bytes for one %zu-byte packet", work, n);
    tc_pkt *got = tc_recv(sub);
    cr_assert_not_null(got);
    cr_assert_eq(got->pkt.publish.payload.len, payload_len);
    free(bytes);
    free(payload);
    tc_free(b);
}

Test(broker_limits, bytes_before_connack_are_capped)
{
    broker_options o;
    tc_options(&o);
    cr_assert_eq(o.max_connect_size, 32768, "the documented default");
    o.max_connect_size = 4096;
    tc_broker *b = tc_new(&o);
    /* A CONNECT announcing 1 MiB is refused on its fixed header, not
     * buffered until the connect timeout. */
    tc_client *c = tc_open(b, MQTT_V5);
    static const uint8_t head[] = {0x10, 0x80, 0x80, 0x40, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0xFF, 0xFF};
    tc_send_raw(c, head, sizeof head);
    tc_expect_closed(c, -1);
    cr_assert(tc_log_has(b, "max_connect_size"));
    /* A normal CONNECT still gets in. */
    tc_connect(b, MQTT_V5, "ok", true);
    /* At the limit, in pieces: accepted. */
    tc_client *big = tc_open(b, MQTT_V311);
    char id[4000];
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    mqtt_packet p;
    tc_connect_init(&p, id, true);
    p.connect.protocol_level = MQTT_V311;
    size_t n;
    uint8_t *bytes = encode(MQTT_V311, &p, &n);
    cr_assert_leq(n, 4096);
    for (size_t off = 0; off < n; off += 100) tc_send_raw(big, bytes + off, n - off < 100 ? n - off : 100);
    cr_assert_eq(tc_expect(big, MQTT_CONNACK)->connack.reason_code, 0);
    free(bytes);
    tc_free(b);
}
