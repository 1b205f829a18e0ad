/*
 * The WebSocket adapter of mqtt-broker (broker_ws.c): its frame limit
 * follows the broker's packet limits, and a frame over it is refused from
 * its header with close 1009 while the core's connection stays untouched.
 * The byte-level checks against a running broker are in ws_frames.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "broker/src/broker_ws.h"
#include "broker/tests/tc.h"
#include "net/ws.h"

/* 1 + 4 + 2 + 65535 + 2 + 4 + 65536: the largest PUBLISH header allowed for. */
#define HEADER_MAX 131084

Test(broker_ws, frame_limit_defaults_to_mqtts_largest_packet)
{
    broker_options o;
    broker_options_default(&o);
    cr_assert_eq(broker_ws_frame_limit(&o), NET_WS_MAX_FRAME_DEFAULT);
}

Test(broker_ws, frame_limit_is_max_packet_size)
{
    broker_options o;
    broker_options_default(&o);
    o.max_packet_size = 10000;
    cr_assert_eq(broker_ws_frame_limit(&o), 10000);
    o.message_size_limit = 5000; /* 5000 + header is larger: max_packet_size wins */
    cr_assert_eq(broker_ws_frame_limit(&o), 10000);
}

Test(broker_ws, frame_limit_from_message_size_limit_allows_the_header)
{
    broker_options o;
    broker_options_default(&o);
    o.message_size_limit = 1000;
    cr_assert_eq(broker_ws_frame_limit(&o), 1000 + HEADER_MAX);
    o.max_packet_size = 200000; /* larger than 1000 + header: the smaller wins */
    cr_assert_eq(broker_ws_frame_limit(&o), 1000 + HEADER_MAX);
    o.max_packet_size = 0;
    o.message_size_limit = 268435455; /* never above MQTT's largest packet */
    cr_assert_eq(broker_ws_frame_limit(&o), NET_WS_MAX_FRAME_DEFAULT);
}

static const char UPGRADE[] = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

/* Feeds the upgrade and a masked binary frame header declaring len bytes;
 * returns broker_ws_input's result and the close code queued (-1: none). */
static int feed_header(uint64_t max_frame, uint16_t len, int *close_code)
{
    broker_options o;
    tc_options(&o);
    tc_broker *b = tc_new(&o);
    tc_client *c = tc_open(b, MQTT_V311);
    broker_ws *w = broker_ws_new(max_frame);
    char err[256];
    int rc = broker_ws_input(w, c->conn, (const uint8_t *)UPGRADE, strlen(UPGRADE), b->now, err, sizeof err);
    cr_assert_eq(rc, 0, "upgrade: %s", err);
    const uint8_t *out;
    size_t n = broker_ws_output(w, c->conn, &out, b->now);
    cr_assert(n > 12 && !memcmp(out, "HTTP/1.1 101", 12));
    broker_ws_output_done(w, n);
    uint8_t h[8] = {0x82, 0x80 | 126, (uint8_t)(len >> 8), (uint8_t)len, 1, 2, 3, 4}; /* len < 65536 */
    rc = broker_ws_input(w, c->conn, h, sizeof h, b->now, err, sizeof err);
    n = broker_ws_output(w, c->conn, &out, b->now);
    *close_code = n >= 4 && (out[0] & 0x0f) == 8 ? out[2] << 8 | out[3] : -1;
    broker_ws_free(w);
    tc_free(b);
    return rc;
}

Test(broker_ws, frame_over_the_limit_is_refused_from_its_header)
{
    int code;
    cr_assert_eq(feed_header(10000, 10001, &code), -1);
    cr_assert_eq(code, 1009);
    cr_assert_eq(feed_header(10000, 10000, &code), 0); /* waits for the payload */
    cr_assert_eq(code, -1);
}
