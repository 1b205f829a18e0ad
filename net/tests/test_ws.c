/*
 * Tests of net/ws.h: the HTTP upgrade both sides (the mqtt subprotocol of
 * MQTT-6.0.0-3 / MQTT-6.0.0-4, key and accept), and the framing as MQTT uses
 * it (MQTT-6.0.0-1 binary only, MQTT-6.0.0-2 packets not aligned on frames),
 * with frames built by hand here so that each case is exactly the bytes a
 * peer could send.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "net/ws.h"

/* One frame: FIN flag, opcode, optional mask, payload (RFC 6455 5.2). */
static size_t frame(uint8_t *out, bool fin, uint8_t opcode, bool masked, const void *payload, uint64_t len,
                    uint64_t declared)
{
    size_t o = 0;
    out[o++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    uint8_t m = masked ? 0x80 : 0;
    if (declared < 126) {
        out[o++] = m | (uint8_t)declared;
    } else if (declared <= 0xffff) {
        out[o++] = m | 126;
        out[o++] = (uint8_t)(declared >> 8);
        out[o++] = (uint8_t)declared;
    } else {
        out[o++] = m | 127;
        for (int i = 7; i >= 0; i--) out[o++] = (uint8_t)(declared >> (8 * i));
    }
    const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) memcpy(out + o, key, 4), o += 4;
    const uint8_t *p = payload;
    for (uint64_t i = 0; i < len; i++) out[o++] = masked ? p[i] ^ key[i % 4] : p[i];
    return o;
}

/* A CONNECT (3.1.1, client id "ws") and a PINGREQ: real MQTT bytes. */
static const uint8_t CONNECT[] = {0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                  0x00, 0x3c, 0x00, 0x02, 'w', 's'};
static const uint8_t PINGREQ[] = {0xc0, 0x00};

static net_ws *server(void)
{
    char err[200];
    net_ws *w = net_ws_new(NET_WS_SERVER, 1 << 20, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    return w;
}

static void expect_stream(net_ws *w, const uint8_t *want, size_t n)
{
    uint8_t got[4096];
    if (n == 0) {
        cr_assert_eq(net_ws_read(w, got, sizeof got), 0);
        return;
    }
    cr_assert_eq(net_ws_readable(w), n);
    cr_assert_eq(net_ws_read(w, got, sizeof got), n);
    cr_assert_arr_eq(got, want, n);
}

/* The close code of the close frame (unmasked, from a server) in out. */
static uint16_t close_code_out(net_ws *w)
{
    size_t n;
    const uint8_t *p = net_ws_out(w, &n);
    cr_assert_geq(n, 4);
    cr_assert_eq(p[0], 0x88, "a close frame, got 0x%02x", p[0]);
    return (uint16_t)(p[2] << 8 | p[3]);
}

/* ---- upgrade ---- */

Test(ws_http, rfc6455_example_accept)
{
    /* RFC 6455 1.3: this key gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
    const char *req = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n\r\n";
    char resp[1024], err[256];
    size_t rl;
    ssize_t n = net_ws_parse_request((const uint8_t *)req, strlen(req), resp, sizeof resp, &rl, err, sizeof err);
    cr_assert_eq(n, (ssize_t)strlen(req), "%s", err);
    cr_assert(strstr(resp, "HTTP/1.1 101 "));
    cr_assert(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    /* MQTT-6.0.0-4 (MUST): the server selects "mqtt". */
    cr_assert(strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n"));
    cr_assert_eq(rl, strlen(resp));
}

Test(ws_http, client_and_server_agree_and_leftover_is_frames)
{
    char req[1024], key[NET_WS_KEY_LEN + 1], resp[1024], err[256];
    int n = net_ws_request(req, sizeof req, "::1", 8080, "/mqtt", key);
    cr_assert_gt(n, 0);
    /* MQTT-6.0.0-3 (MUST): the client offers "mqtt". */
    cr_assert(strstr(req, "Sec-WebSocket-Protocol: mqtt\r\n"));
    cr_assert(strstr(req, "Host: [::1]:8080\r\n"));
    cr_assert(strstr(req, "GET /mqtt HTTP/1.1\r\n"));
    size_t rl;
    /* Every proper prefix needs more. */
    for (int i = 0; i < n; i++)
        cr_assert_eq(net_ws_parse_request((const uint8_t *)req, (size_t)i, resp, sizeof resp, &rl, err, sizeof err), 0);
    cr_assert_eq(net_ws_parse_request((const uint8_t *)req, (size_t)n, resp, sizeof resp, &rl, err, sizeof err), n);
    uint8_t buf[2048];
    memcpy(buf, resp, rl);
    buf[rl] = 0x82, buf[rl + 1] = 0x00; /* an empty binary frame right behind */
    cr_assert_eq(net_ws_parse_response(buf, rl + 2, key, err, sizeof err), (ssize_t)rl, "%s", err);
    for (size_t i = 0; i < rl; i++) cr_assert_eq(net_ws_parse_response(buf, i, key, err, sizeof err), 0);
}

static void refused(const char *proto_line, int status, const char *why)
{
    char req[1024], resp[1024], err[256];
    snprintf(req, sizeof req,
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n",
             proto_line);
    size_t rl;
    cr_assert_eq(net_ws_parse_request((const uint8_t *)req, strlen(req), resp, sizeof resp, &rl, err, sizeof err), -1);
    char st[32];
    snprintf(st, sizeof st, "HTTP/1.1 %d ", status);
    cr_assert(strncmp(resp, st, strlen(st)) == 0, "%s", resp);
    cr_assert(strstr(err, why), "%s", err);
    cr_assert_eq(rl, strlen(resp));
}

Test(ws_http, missing_subprotocol_is_refused)
{
    refused("Sec-WebSocket-Version: 13\r\n", 400, "MQTT-6.0.0-3");
}

Test(ws_http, wrong_subprotocol_is_refused)
{
    refused("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqttv3.1, chat\r\n", 400, "MQTT-6.0.0-4");
    /* Subprotocol names are case-sensitive. */
    refused("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: MQTT\r\n", 400, "MQTT-6.0.0-4");
}

Test(ws_http, old_version_gets_426)
{
    refused("Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: mqtt\r\n", 426, "13");
}

Test(ws_http, bad_key_and_not_get)
{
    char resp[512], err[256];
    size_t rl;
    const char *r1 = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
    cr_assert_eq(net_ws_parse_request((const uint8_t *)r1, strlen(r1), resp, sizeof resp, &rl, err, sizeof err), -1);
    cr_assert(strstr(err, "Sec-WebSocket-Key"), "%s", err);
    const char *r2 = "POST / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
    cr_assert_eq(net_ws_parse_request((const uint8_t *)r2, strlen(r2), resp, sizeof resp, &rl, err, sizeof err), -1);
    cr_assert(strstr(err, "GET"), "%s", err);
}

Test(ws_http, endless_header_is_bounded)
{
    size_t big = NET_WS_HTTP_MAX + 10;
    uint8_t *b = malloc(big);
    memset(b, 'a', big);
    char resp[512], err[256];
    size_t rl;
    cr_assert_eq(net_ws_parse_request(b, big, resp, sizeof resp, &rl, err, sizeof err), -1);
    cr_assert(strncmp(resp, "HTTP/1.1 400", 12) == 0);
    cr_assert_eq(net_ws_parse_response(b, big, "x", err, sizeof err), -1);
    cr_assert(strstr(err, "longer than"), "%s", err);
    free(b);
}

static void client_rejects(const char *resp, const char *why)
{
    char req[1024], key[NET_WS_KEY_LEN + 1], err[256], full[1024];
    net_ws_request(req, sizeof req, "h", 80, "/", key);
    snprintf(full, sizeof full, resp, key);
    cr_assert_eq(net_ws_parse_response((const uint8_t *)full, strlen(full), key, err, sizeof err), -1);
    cr_assert(strstr(err, why), "%s", err);
}

Test(ws_http, client_checks_the_answer)
{
    /* %s is the key, which is not a valid accept value. */
    client_rejects("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
                   "Accept");
    client_rejects("HTTP/1.1 404 Not Found\r\nX: %s\r\n\r\n", "404 Not Found");
}

Test(ws_http, client_needs_mqtt_selected)
{
    char req[1024], key[NET_WS_KEY_LEN + 1], resp[1024], err[256];
    int n = net_ws_request(req, sizeof req, "h", 80, "/", key);
    size_t rl;
    cr_assert_gt(net_ws_parse_request((const uint8_t *)req, (size_t)n, resp, sizeof resp, &rl, err, sizeof err), 0);
    /* The server's answer with the subprotocol line removed, then renamed. */
    char *line = strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n");
    char cut[1024];
    snprintf(cut, sizeof cut, "%.*s%s", (int)(line - resp), resp, line + strlen("Sec-WebSocket-Protocol: mqtt\r\n"));
    cr_assert_eq(net_ws_parse_response((const uint8_t *)cut, strlen(cut), key, err, sizeof err), -1);
    cr_assert(strstr(err, "MQTT-6.0.0-4"), "%s", err);
    memcpy(line + strlen("Sec-WebSocket-Protocol: "), "mqtX", 4);
    cr_assert_eq(net_ws_parse_response((const uint8_t *)resp, rl, key, err, sizeof err), -1);
    cr_assert(strstr(err, "MQTT-6.0.0-4"), "%s", err);
}

Test(ws_http, bad_path_is_refused)
{
    char req[256], key[NET_WS_KEY_LEN + 1];
    cr_assert_eq(net_ws_request(req, sizeof req, "h", 80, "mqtt", key), -1);
    cr_assert_eq(net_ws_request(req, sizeof req, "h", 80, "/a b", key), -1);
}

/* ---- framing ---- */

/* MQTT-6.0.0-2 (MUST NOT assume alignment): one packet over many frames. */
Test(ws_frame, packet_split_over_many_frames)
{
    net_ws *w = server();
    expect_stream(w, NULL, 0); /* nothing yet: reading is fine */
    uint8_t wire[512];
    size_t n = 0;
    for (size_t i = 0; i < sizeof CONNECT; i++) n += frame(wire + n, true, 0x2, true, CONNECT + i, 1, 1);
    char err[200];
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), 0, "%s", err);
    expect_stream(w, CONNECT, sizeof CONNECT);
    net_ws_free(w);
}

/* MQTT-6.0.0-2: several packets in one frame. */
Test(ws_frame, many_packets_in_one_frame)
{
    uint8_t payload[sizeof CONNECT + 3 * sizeof PINGREQ];
    memcpy(payload, CONNECT, sizeof CONNECT);
    for (int i = 0; i < 3; i++) memcpy(payload + sizeof CONNECT + 2 * i, PINGREQ, 2);
    uint8_t wire[256];
    size_t n = frame(wire, true, 0x2, true, payload, sizeof payload, sizeof payload);
    net_ws *w = server();
    char err[200];
    /* Fed one byte at a time: the frame parser is incremental too. */
    for (size_t i = 0; i < n; i++) cr_assert_eq(net_ws_feed(w, wire + i, 1, err, sizeof err), 0, "%s", err);
    expect_stream(w, payload, sizeof payload);
    net_ws_free(w);
}

/* RFC 6455 5.4: a fragmented message (FIN 0, continuations) is one stream too. */
Test(ws_frame, fragmented_message)
{
    uint8_t wire[256];
    size_t n = frame(wire, false, 0x2, true, CONNECT, 5, 5);
    n += frame(wire + n, false, 0x0, true, CONNECT + 5, 5, 5);
    n += frame(wire + n, true, 0x0, true, CONNECT + 10, sizeof CONNECT - 10, sizeof CONNECT - 10);
    net_ws *w = server();
    char err[200];
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), 0, "%s", err);
    expect_stream(w, CONNECT, sizeof CONNECT);
    net_ws_free(w);
}

/* A ping between two fragments of a packet: answered, and the packet intact. */
Test(ws_frame, ping_inside_a_packet)
{
    uint8_t wire[256];
    size_t n = frame(wire, false, 0x2, true, CONNECT, 7, 7);
    n += frame(wire + n, true, 0x9, true, "hi", 2, 2);
    n += frame(wire + n, true, 0x0, true, CONNECT + 7, sizeof CONNECT - 7, sizeof CONNECT - 7);
    net_ws *w = server();
    char err[200];
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), 0, "%s", err);
    expect_stream(w, CONNECT, sizeof CONNECT);
    size_t on;
    const uint8_t *o = net_ws_out(w, &on);
    const uint8_t pong[] = {0x8a, 0x02, 'h', 'i'};
    cr_assert_eq(on, sizeof pong);
    cr_assert_arr_eq(o, pong, sizeof pong);
    net_ws_out_done(w, on);
    net_ws_out(w, &on);
    cr_assert_eq(on, 0);
    net_ws_free(w);
}

/* MQTT-6.0.0-1 (MUST): a text frame closes the connection (close 1003). */
Test(ws_frame, text_frame_closes)
{
    uint8_t wire[256];
    size_t n = frame(wire, true, 0x2, true, PINGREQ, 2, 2);
    n += frame(wire + n, true, 0x1, true, "{}", 2, 2);
    n += frame(wire + n, true, 0x2, true, PINGREQ, 2, 2);
    net_ws *w = server();
    char err[200] = "";
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), -1);
    cr_assert(strstr(err, "MQTT-6.0.0-1"), "%s", err);
    cr_assert_eq(close_code_out(w), 1003);
    cr_assert(net_ws_ended(w));
    /* What came before the text frame stays readable; nothing after it. */
    expect_stream(w, PINGREQ, 2);
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), -1);
    cr_assert_eq(net_ws_readable(w), 0);
    net_ws_free(w);
}

/* A declared length over the limit is refused from the header: close 1009. */
Test(ws_frame, oversize_length_refused_before_payload)
{
    uint8_t wire[32];
    size_t n = frame(wire, true, 0x2, true, "", 0, (uint64_t)1 << 40);
    net_ws *w = server();
    char err[200] = "";
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), -1);
    cr_assert(strstr(err, "over the limit"), "%s", err);
    cr_assert_eq(close_code_out(w), 1009);
    net_ws_free(w);
}

/* RFC 6455 5.2: the top bit of a 64-bit length must be 0 (2^63 and above). */
Test(ws_frame, length_2_pow_63_refused)
{
    uint8_t wire[32];
    size_t n = frame(wire, true, 0x2, true, "", 0, (uint64_t)1 << 63);
    char err[200] = "";
    net_ws *w = net_ws_new(NET_WS_SERVER, UINT64_MAX, err, sizeof err);
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), -1);
    uint16_t code = close_code_out(w);
    cr_assert_eq(code, 1002, "close %u", code);
    cr_assert(strstr(err, "2^63"), "%s", err);
    net_ws_free(w);
}

/* RFC 6455 5.1: a server closes on an unmasked client frame. */
Test(ws_frame, unmasked_client_frame_is_protocol_error)
{
    uint8_t wire[32];
    size_t n = frame(wire, true, 0x2, false, PINGREQ, 2, 2);
    net_ws *w = server();
    char err[200] = "";
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), -1);
    cr_assert_eq(close_code_out(w), 1002, "%s", err);
    net_ws_free(w);
}

Test(ws_frame, peer_close_is_an_orderly_end)
{
    uint8_t wire[32];
    const uint8_t body[] = {0x03, 0xe8};
    size_t n = frame(wire, true, 0x2, true, PINGREQ, 2, 2);
    n += frame(wire + n, true, 0x8, true, body, 2, 2);
    net_ws *w = server();
    char err[200];
    cr_assert_eq(net_ws_feed(w, wire, n, err, sizeof err), NET_WS_CLOSED);
    cr_assert_eq(net_ws_code_received(w), 1000);
    cr_assert_eq(close_code_out(w), 1000);
    expect_stream(w, PINGREQ, 2);
    cr_assert_eq(net_ws_send(w, PINGREQ, 2), -1);
    net_ws_free(w);
}

/* Our client's frames are masked and decode on our server, and back. */
Test(ws_frame, client_server_round_trip)
{
    char err[200];
    net_ws *c = net_ws_new(NET_WS_CLIENT, 0, err, sizeof err);
    net_ws *s = server();
    cr_assert_eq(net_ws_send(c, CONNECT, sizeof CONNECT), 0);
    size_t n;
    const uint8_t *o = net_ws_out(c, &n);
    cr_assert_eq(o[1] & 0x80, 0x80, "client frames are masked");
    cr_assert_eq(net_ws_feed(s, o, n, err, sizeof err), 0, "%s", err);
    net_ws_out_done(c, n);
    expect_stream(s, CONNECT, sizeof CONNECT);
    cr_assert_eq(net_ws_send(s, PINGREQ, 2), 0);
    o = net_ws_out(s, &n);
    cr_assert_eq(o[1] & 0x80, 0, "server frames are not masked");
    cr_assert_eq(net_ws_feed(c, o, n, err, sizeof err), 0, "%s", err);
    expect_stream(c, PINGREQ, 2);
    net_ws_free(c);
    net_ws_free(s);
}

/* ---- blocking calls over a socket ---- */

/* A one-connection server: upgrade, echo one frame's bytes, then close. */
static void *echo_server(void *arg)
{
    int lfd = *(int *)arg;
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1) return NULL;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return NULL;
    net_set_nonblocking(fd);
    uint8_t in[8192];
    size_t have = 0;
    char resp[1024], err[256];
    size_t rl;
    ssize_t end = 0;
    while (end == 0) {
        ssize_t n = net_recv_some(fd, in + have, sizeof in - have, 5000);
        if (n <= 0) goto out;
        have += (size_t)n;
        end = net_ws_parse_request(in, have, resp, sizeof resp, &rl, err, sizeof err);
    }
    net_send_all(fd, resp, rl, 5000);
    if (end < 0) goto out;
    net_ws *w = net_ws_new(NET_WS_SERVER, 0, err, sizeof err);
    uint8_t data[256];
    ssize_t got = net_ws_recv_some(w, fd, NULL, data, sizeof data, 5000, err, sizeof err);
    if (got > 0) net_ws_send_all(w, fd, NULL, data, (size_t)got, 5000);
    net_ws_shutdown(w, fd, NULL, 1000);
    net_ws_free(w);
out:
    close(fd);
    return NULL;
}

Test(ws_io, connect_send_recv_close)
{
    char err[256];
    int lfd = net_listen("127.0.0.1", 0, 4, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    pthread_t th;
    pthread_create(&th, NULL, echo_server, &lfd);
    int fd = net_connect("127.0.0.1", net_local_port(lfd), 5000, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    net_ws *w = net_ws_connect(fd, NULL, "127.0.0.1", net_local_port(lfd), "/mqtt", 0, 5000, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    cr_assert_eq(net_ws_send_all(w, fd, NULL, CONNECT, sizeof CONNECT, 5000), (ssize_t)sizeof CONNECT);
    uint8_t back[256];
    size_t have = 0;
    while (have < sizeof CONNECT) {
        ssize_t n = net_ws_recv_some(w, fd, NULL, back + have, sizeof back - have, 5000, err, sizeof err);
        cr_assert_gt(n, 0, "%zd %s", n, err);
        have += (size_t)n;
    }
    cr_assert_arr_eq(back, CONNECT, sizeof CONNECT);
    /* Then the server's close frame: an orderly end. */
    cr_assert_eq(net_ws_recv_some(w, fd, NULL, back, sizeof back, 5000, err, sizeof err), 0);
    cr_assert_eq(net_ws_code_received(w), 1000);
    net_ws_free(w);
    close(fd);
    pthread_join(th, NULL);
    close(lfd);
}

/* A control frame cut anywhere is judged whole (wslay checks a close
 * reason chunk by chunk): byte by byte gives what all at once gives. */
Test(ws_frame, close_with_bad_reason_same_whole_or_bytewise)
{
    const uint8_t body[] = {0x03, 0xe8, 'o', 'k', 0xc3}; /* 1000, reason ends inside a UTF-8 sequence */
    uint8_t wire[32];
    size_t n = frame(wire, true, 0x8, true, body, sizeof body, sizeof body);
    char err[200];
    net_ws *a = server(), *b = server();
    int ra = net_ws_feed(a, wire, n, err, sizeof err), rb = 0;
    for (size_t i = 0; i < n && rb == 0; i++) rb = net_ws_feed(b, wire + i, 1, err, sizeof err);
    cr_assert_eq(ra, rb);
    cr_assert_eq(net_ws_code_sent(a), net_ws_code_sent(b), "%u vs %u", net_ws_code_sent(a), net_ws_code_sent(b));
    cr_assert_eq(net_ws_code_sent(a), 1007, "invalid UTF-8 in the reason: 1007, got %u", net_ws_code_sent(a));
    net_ws_free(a);
    net_ws_free(b);
}

Test(ws_frame, ping_fed_bytewise_is_answered_once_complete)
{
    uint8_t wire[32];
    size_t n = frame(wire, true, 0x9, true, "abc", 3, 3);
    net_ws *w = server();
    char err[200];
    size_t on;
    for (size_t i = 0; i + 1 < n; i++) {
        cr_assert_eq(net_ws_feed(w, wire + i, 1, err, sizeof err), 0, "%s", err);
        net_ws_out(w, &on);
        cr_assert_eq(on, 0, "no pong before the ping is complete");
    }
    cr_assert_eq(net_ws_feed(w, wire + n - 1, 1, err, sizeof err), 0, "%s", err);
    const uint8_t *o = net_ws_out(w, &on);
    const uint8_t pong[] = {0x8a, 0x03, 'a', 'b', 'c'};
    cr_assert_eq(on, sizeof pong);
    cr_assert_arr_eq(o, pong, sizeof pong);
    net_ws_free(w);
}

/* A server that refuses the upgrade: net_ws_connect says what it answered. */
static void *refusing_server(void *arg)
{
    int lfd = *(int *)arg;
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1) return NULL;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return NULL;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    (void)n;
    const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    send(fd, resp, strlen(resp), MSG_NOSIGNAL);
    close(fd);
    return NULL;
}

Test(ws_io, refused_upgrade_is_reported)
{
    char err[256];
    int lfd = net_listen("127.0.0.1", 0, 4, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    pthread_t th;
    pthread_create(&th, NULL, refusing_server, &lfd);
    int fd = net_connect("127.0.0.1", net_local_port(lfd), 5000, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    net_ws *w = net_ws_connect(fd, NULL, "127.0.0.1", net_local_port(lfd), "/nowhere", 0, 5000, err, sizeof err);
    cr_assert_null(w);
    cr_assert(strstr(err, "404 Not Found"), "%s", err);
    close(fd);
    pthread_join(th, NULL);
    close(lfd);
}

/* ---- frames built by hand (net_ws_frame, net_ws_send_raw) ---- */

/* Every length form (7-bit, 16-bit, 64-bit), masked: byte for byte what the
 * test's own encoder gives, and a server reads the payload back. */
Test(ws_frame, encodes_every_length_form_like_rfc6455)
{
    static uint8_t payload[70000], a[70016], b[70016];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
    const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 70000};
    const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = net_ws_frame(a, sizeof a, 0x82, key, payload, lens[k]);
        size_t m = frame(b, true, 2, true, payload, lens[k], lens[k]);
        cr_assert_eq(n, m, "length %zu", lens[k]);
        cr_assert_arr_eq(a, b, n);
        net_ws *w = server();
        char err[200];
        cr_assert_eq(net_ws_feed(w, a, n, err, sizeof err), 0, "%s", err);
        if (lens[k] < 4096) expect_stream(w, payload, lens[k]); /* expect_stream reads at most 4 KiB */
        else cr_assert_eq(net_ws_readable(w), lens[k]);
        net_ws_free(w);
    }
    cr_assert_eq(net_ws_frame(a, 10, 0x82, key, payload, 8), 0, "does not fit: nothing written");
    cr_assert_eq(net_ws_frame(a, sizeof a, 0x81, NULL, "ab", 2), 4);
    cr_assert_eq(a[1], 2, "unmasked: no mask bit, no key");
}

/* Raw bytes go after what was framed before, in call order. */
Test(ws_frame, send_raw_keeps_the_order)
{
    char err[200];
    net_ws *c = net_ws_new(NET_WS_CLIENT, 0, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(net_ws_send(c, CONNECT, sizeof CONNECT), 0);
    uint8_t f[16];
    const uint8_t key[4] = {1, 2, 3, 4};
    size_t fl = net_ws_frame(f, sizeof f, 0x82, key, PINGREQ, sizeof PINGREQ);
    cr_assert_eq(net_ws_send_raw(c, f, fl), 0);
    size_t n;
    const uint8_t *p = net_ws_out(c, &n);
    cr_assert_eq(n, 2 + 4 + sizeof CONNECT + fl);
    cr_assert_arr_eq(p + n - fl, f, fl);
    net_ws *s = server();
    cr_assert_eq(net_ws_feed(s, p, n, err, sizeof err), 0, "%s", err);
    uint8_t want[sizeof CONNECT + sizeof PINGREQ];
    memcpy(want, CONNECT, sizeof CONNECT);
    memcpy(want + sizeof CONNECT, PINGREQ, sizeof PINGREQ);
    expect_stream(s, want, sizeof want);
    net_ws_free(s);
    net_ws_free(c);
}
