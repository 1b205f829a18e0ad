/*
 * pcap_ws: unwrapping WebSocket-framed MQTT from one direction of a stream
 * (MQTT-6.0.0-2: packets across frames; MQTT-6.0.0-1: text frames noted).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pcaps/src/pcap_ws.h"

typedef struct {
    uint8_t data[4096];
    size_t len;
    int notes;
    char last_note[200];
} got_t;

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    got_t *g = ctx;
    cr_assert_leq(g->len + n, sizeof g->data);
    memcpy(g->data + g->len, p, n);
    g->len += n;
}

static void on_note(void *ctx, const char *note)
{
    got_t *g = ctx;
    g->notes++;
    snprintf(g->last_note, sizeof g->last_note, "%s", note);
}

/* A frame with a fixed mask (client side) or none. */
static size_t frame(uint8_t *out, bool fin, uint8_t op, bool masked, const uint8_t *p, size_t n)
{
    size_t o = 0;
    const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    out[o++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (n < 126) out[o++] = (uint8_t)((masked ? 0x80 : 0) | n);
    else out[o++] = (uint8_t)((masked ? 0x80 : 0) | 126), out[o++] = (uint8_t)(n >> 8), out[o++] = (uint8_t)n;
    if (masked) memcpy(out + o, key, 4), o += 4;
    for (size_t i = 0; i < n; i++) out[o++] = masked ? p[i] ^ key[i % 4] : p[i];
    return o;
}

static const char REQ[] = "GET /mqtt HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
static const uint8_t CONNECT[] = {0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                  0x00, 0x3c, 0x00, 0x02, 'w', 's'};

Test(pcap_ws, request_then_frames_fed_byte_by_byte)
{
    uint8_t wire[512];
    size_t n = strlen(REQ);
    memcpy(wire, REQ, n);
    n += frame(wire + n, false, 2, true, CONNECT, 6);
    n += frame(wire + n, true, 9, true, (const uint8_t *)"p", 1); /* ping between fragments */
    n += frame(wire + n, true, 0, true, CONNECT + 6, sizeof CONNECT - 6);
    got_t g = {0};
    pcap_ws_sink sink = {on_data, on_note, &g};
    pcap_ws *ws = NULL;
    for (size_t i = 0; i < n; i++) cr_assert(pcap_ws_feed(&ws, i == 0, wire + i, 1, &sink));
    cr_assert(pcap_ws_active(ws));
    cr_assert_eq(g.len, sizeof CONNECT);
    cr_assert_arr_eq(g.data, CONNECT, sizeof CONNECT);
    pcap_ws_free(ws);
}

Test(pcap_ws, server_answer_and_unmasked_frames_in_one_segment)
{
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    uint8_t wire[512];
    size_t n = strlen(resp);
    memcpy(wire, resp, n);
    const uint8_t two[] = {0x20, 0x02, 0x00, 0x00, 0xd0, 0x00}; /* CONNACK + PINGRESP in one frame */
    n += frame(wire + n, true, 2, false, two, sizeof two);
    got_t g = {0};
    pcap_ws_sink sink = {on_data, on_note, &g};
    pcap_ws *ws = NULL;
    cr_assert(pcap_ws_feed(&ws, true, wire, n, &sink));
    cr_assert_eq(g.len, sizeof two);
    cr_assert_arr_eq(g.data, two, sizeof two);
    pcap_ws_free(ws);
}

Test(pcap_ws, text_frame_is_noted_and_dropped)
{
    uint8_t wire[512];
    size_t n = strlen(REQ);
    memcpy(wire, REQ, n);
    n += frame(wire + n, true, 1, true, (const uint8_t *)"{}", 2);
    n += frame(wire + n, true, 2, true, CONNECT, sizeof CONNECT);
    got_t g = {0};
    pcap_ws_sink sink = {on_data, on_note, &g};
    pcap_ws *ws = NULL;
    cr_assert(pcap_ws_feed(&ws, true, wire, n, &sink));
    cr_assert_eq(g.notes, 1);
    cr_assert(strstr(g.last_note, "MQTT-6.0.0-1"), "%s", g.last_note);
    cr_assert_eq(g.len, sizeof CONNECT);
    pcap_ws_free(ws);
}

Test(pcap_ws, plain_mqtt_and_plain_http_are_not_taken)
{
    got_t g = {0};
    pcap_ws_sink sink = {on_data, on_note, &g};
    pcap_ws *ws = NULL;
    cr_assert(!pcap_ws_feed(&ws, true, CONNECT, sizeof CONNECT, &sink));
    cr_assert_null(ws);
    const char *get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    cr_assert(!pcap_ws_feed(&ws, true, (const uint8_t *)get, strlen(get), &sink));
    cr_assert(!pcap_ws_active(ws));
    cr_assert(!pcap_ws_feed(&ws, false, CONNECT, 2, &sink));
    pcap_ws_free(ws);
    ws = NULL;
    /* Not at the start of the stream: never looked at. */
    cr_assert(!pcap_ws_feed(&ws, false, (const uint8_t *)REQ, strlen(REQ), &sink));
    cr_assert_null(ws);
}

Test(pcap_ws, gap_stops_decoding)
{
    got_t g = {0};
    pcap_ws_sink sink = {on_data, on_note, &g};
    pcap_ws *ws = NULL;
    cr_assert(pcap_ws_feed(&ws, true, (const uint8_t *)REQ, strlen(REQ), &sink));
    pcap_ws_gap(ws, &sink);
    uint8_t wire[64];
    size_t n = frame(wire, true, 2, true, CONNECT, sizeof CONNECT);
    cr_assert(pcap_ws_feed(&ws, false, wire, n, &sink));
    cr_assert_eq(g.len, 0);
    cr_assert(strstr(g.last_note, "gap"));
    pcap_ws_free(ws);
}
