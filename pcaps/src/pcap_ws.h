/*
 * pcap_ws: MQTT over WebSockets in captures. One direction of a TCP stream
 * that starts with an HTTP upgrade ("GET ..." from the client, "HTTP/1.1
 * 101" from the server) is unwrapped: the header is skipped, frames are
 * parsed, client payloads unmasked, and the payloads of binary frames
 * (fragmented or not, with control frames between) handed on as one byte
 * stream, as MQTT 5.0 / 3.1.1 section 6 defines it (MQTT-6.0.0-2). A text
 * frame breaks MQTT-6.0.0-1 and is reported, its payload dropped.
 *
 * Recognition needs no port: no MQTT packet starts with 'G' or 'H' (0x47,
 * 0x48: PUBACK with reserved flags set), so a stream whose first byte is one
 * of them is looked at as HTTP. Memory: the header is bounded
 * (PCAP_WS_HEADER_MAX), payloads are streamed, never buffered.
 */
#ifndef PCAP_WS_H
#define PCAP_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_WS_HEADER_MAX 8192

typedef struct pcap_ws pcap_ws;

typedef struct {
    void (*data)(void *ctx, const uint8_t *p, size_t n); /* MQTT bytes */
    void (*note)(void *ctx, const char *note);          /* something worth saying */
    void *ctx;
} pcap_ws_sink;

/*
 * Feeds bytes of one direction. *ws is NULL until the stream is known to be
 * a WebSocket (then allocated here; free with pcap_ws_free). at_start says
 * whether p begins the direction's stream. Returns true when the bytes were
 * taken (delivered through the sink, or held as header), false when this
 * stream is not a WebSocket: the caller handles them as plain MQTT.
 */
bool pcap_ws_feed(pcap_ws **ws, bool at_start, const uint8_t *p, size_t n, const pcap_ws_sink *sink);

/* Bytes of this direction were lost: framing cannot be trusted any more,
 * everything after is dropped (one note says so). */
void pcap_ws_gap(pcap_ws *ws, const pcap_ws_sink *sink);

/* Whether the stream is a WebSocket (the upgrade was seen). */
bool pcap_ws_active(const pcap_ws *ws);

void pcap_ws_free(pcap_ws *ws);

#endif
