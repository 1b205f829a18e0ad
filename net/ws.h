/*
 * ws: MQTT over WebSockets (RFC 6455; MQTT 5.0 section 6, MQTT 3.1.1
 * section 6) under the byte streams of net.h and tls.h.
 *
 * Three layers, each usable alone:
 *   - the HTTP upgrade (net_ws_request, net_ws_parse_response on the client,
 *     net_ws_parse_request on the server): text in a caller buffer, no I/O;
 *   - the framing (net_ws_new ... net_ws_free): sans-I/O like the codec.
 *     Transport bytes go in with net_ws_feed, the MQTT byte stream comes out
 *     with net_ws_read; net_ws_send frames bytes, and what must go to the
 *     transport (frames, pongs, the close frame) is taken with net_ws_out.
 *     Frames are coded by Debian's libwslay (event API, no buffering);
 *   - blocking calls with deadlines over a socket and optional TLS
 *     (net_ws_connect, net_ws_send_all, net_ws_recv_some), mirrors of
 *     net_send_all / net_recv_some for the runner and the tools.
 *
 * What the MQTT specification asks of this layer:
 *   MQTT-6.0.0-1 (MUST): MQTT packets travel in binary data frames; a peer
 *     that receives another data frame (text) closes the connection. We
 *     send a close frame 1003 (unsupported data) and report an error.
 *   MQTT-6.0.0-2 (MUST NOT): packets are not aligned on frame boundaries:
 *     the payloads of binary frames are one byte stream (a packet may span
 *     frames, a frame may carry several packets).
 *   MQTT-6.0.0-3 (MUST): the client offers the subprotocol "mqtt".
 *   MQTT-6.0.0-4 (MUST): the server selects "mqtt"; we refuse an upgrade
 *     that does not offer it, and a client refuses a server that does not
 *     select it.
 *
 * Limits: a frame longer than max_frame (and any length with the top bit
 * set, 2^63 and above, which RFC 6455 section 5.2 forbids) is refused from
 * its header, before anything is allocated: close 1009 or 1002. The
 * upgrade's HTTP header is at most NET_WS_HTTP_MAX bytes.
 *
 * Errors are text for people in a caller buffer ("WebSocket: text frame
 * received; MQTT-6.0.0-1 allows binary frames only"). Nothing here prints
 * or exits. One connection per net_ws, single-threaded.
 */
#ifndef NET_WS_H
#define NET_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct net_tls;

/* Longest HTTP upgrade header accepted (request or response). */
#define NET_WS_HTTP_MAX 8192
/* Default largest frame payload: MQTT's largest packet (2^28 + 5 bytes). */
#define NET_WS_MAX_FRAME_DEFAULT ((uint64_t)268435461)
/* Length of a Sec-WebSocket-Key (base64 of 16 bytes), without the NUL. */
#define NET_WS_KEY_LEN 24

/* net_ws_feed: the peer sent a close frame (an orderly end, like EOF). */
#define NET_WS_CLOSED 1

typedef enum { NET_WS_CLIENT = 0, NET_WS_SERVER = 1 } net_ws_side;

typedef struct net_ws net_ws;

/* ---- the HTTP upgrade ---- */

/*
 * Client: writes the upgrade request for path (NULL or "" = "/") on host:port
 * into out (NUL-terminated), offering the subprotocol "mqtt" (MQTT-6.0.0-3),
 * with a fresh random key copied to key. Returns its length, or -1 when it
 * does not fit in cap or the path is not "/..." without spaces or controls.
 */
int net_ws_request(char *out, size_t cap, const char *host, uint16_t port, const char *path,
                   char key[NET_WS_KEY_LEN + 1]);

/*
 * Client: checks the server's answer in buf[0..len): status 101, Upgrade
 * websocket, Connection upgrade, Sec-WebSocket-Accept matching key, and the
 * subprotocol "mqtt" selected (MQTT-6.0.0-4). Returns the header's length
 * (bytes after it are already WebSocket frames: feed them), 0 when the header
 * is not complete yet, or -1 with err filled (including the status line of a
 * refusal, "HTTP/1.1 404 Not Found").
 */
ssize_t net_ws_parse_response(const uint8_t *buf, size_t len, const char *key, char *err, size_t errlen);

/*
 * Server: checks a client's upgrade request in buf[0..len) (GET, HTTP/1.1,
 * Upgrade websocket, Connection upgrade, Sec-WebSocket-Version 13, a key,
 * "mqtt" among the offered subprotocols) and writes the answer into resp
 * (*resplen bytes): 101 with Sec-WebSocket-Protocol: mqtt, or a 400 / 426
 * saying why, to send before closing. Returns the request header's length,
 * 0 when it is not complete yet (resp unused), or -1 with err filled.
 */
ssize_t net_ws_parse_request(const uint8_t *buf, size_t len, char *resp, size_t respcap, size_t *resplen,
                             char *err, size_t errlen);

/* ---- framing (sans-I/O) ---- */

/* A framing context for one side after the upgrade. max_frame 0 means
 * NET_WS_MAX_FRAME_DEFAULT. Returns NULL with err filled (out of memory). */
net_ws *net_ws_new(net_ws_side side, uint64_t max_frame, char *err, size_t errlen);
void net_ws_free(net_ws *w);

/*
 * Feeds len bytes received from the transport. Payloads of binary frames
 * become readable with net_ws_read; a ping is answered with a pong (in
 * net_ws_out). Returns 0, NET_WS_CLOSED when the peer sent a close frame
 * (our answer is in net_ws_out), or -1 with err filled when the connection
 * must end: a text frame (MQTT-6.0.0-1), a bad or oversized frame. Then a
 * close frame with the reason is queued in net_ws_out; send it and close.
 * Bytes fed after an end are ignored.
 */
int net_ws_feed(net_ws *w, const void *in, size_t len, char *err, size_t errlen);

/* Moves up to cap bytes of the MQTT byte stream into buf; returns the count. */
size_t net_ws_read(net_ws *w, void *buf, size_t cap);
/* Bytes net_ws_read would give now. */
size_t net_ws_readable(const net_ws *w);

/* Sends buf as one binary frame (masked by a client). Returns 0, or -1 when
 * out of memory or after the close. */
int net_ws_send(net_ws *w, const void *buf, size_t len);

/* Queues bytes for the transport as they are, after everything queued
 * before: frames built by hand (net_ws_frame), for tests that send what a
 * peer must refuse. Returns 0, or -1 when out of memory. */
int net_ws_send_raw(net_ws *w, const void *bytes, size_t len);

/*
 * Encodes one frame into out: first is the first header byte (FIN 0x80,
 * RSV 0x70, opcode 0x0f, as RFC 6455 5.2 lays them out), mask NULL for an
 * unmasked frame, else the 4-byte masking key applied to the payload. The
 * length uses the shortest form. Returns the frame's size, 0 when it does
 * not fit in cap.
 */
size_t net_ws_frame(uint8_t *out, size_t cap, uint8_t first, const uint8_t mask[4], const void *payload,
                    size_t len);

/* Queues a close frame with code (RFC 6455 7.4) and a short reason. */
int net_ws_close(net_ws *w, uint16_t code, const char *reason);

/* The bytes waiting for the transport (*len of them); net_ws_out_done(n)
 * after n of them were written. The pointer is valid until the next call. */
const uint8_t *net_ws_out(const net_ws *w, size_t *len);
void net_ws_out_done(net_ws *w, size_t n);

/* Whether the connection ended (close received or sent, or an error), and
 * the close codes received and sent (0 when none). */
bool net_ws_ended(const net_ws *w);
uint16_t net_ws_code_received(const net_ws *w);
uint16_t net_ws_code_sent(const net_ws *w);

/* ---- blocking with deadlines over a socket (tls NULL: plain TCP) ---- */

/*
 * Runs the client upgrade over fd (and tls when not NULL, handshake done):
 * sends the request for host:port/path and checks the answer within
 * timeout_ms. Returns a framing context (frames that came with the answer
 * already fed), or NULL with err filled.
 */
net_ws *net_ws_connect(int fd, struct net_tls *tls, const char *host, uint16_t port, const char *path,
                       uint64_t max_frame, int timeout_ms, char *err, size_t errlen);

/* Sends buf as one binary frame, and anything queued before it. Returns
 * len, -1 on error (errno EPIPE when the peer closed), or NET_TIMEOUT. */
ssize_t net_ws_send_all(net_ws *w, int fd, struct net_tls *tls, const void *buf, size_t len, int timeout_ms);

/*
 * Receives up to cap bytes of the MQTT stream, waiting up to timeout_ms for
 * the first one (pings are answered meanwhile). Returns the count, 0 when the
 * peer closed (close frame or EOF), -1 on an error (err filled when not
 * NULL: a text frame, a bad frame...), or NET_TIMEOUT.
 */
ssize_t net_ws_recv_some(net_ws *w, int fd, struct net_tls *tls, void *buf, size_t cap, int timeout_ms,
                         char *err, size_t errlen);

/* Sends a close frame 1000 (best effort, waits at most timeout_ms). */
void net_ws_shutdown(net_ws *w, int fd, struct net_tls *tls, int timeout_ms);

#endif
