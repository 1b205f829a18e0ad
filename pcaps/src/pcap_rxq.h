/*
 * pcap_rxq: what `mqtt-pcap replay` received from a live broker on one
 * connection and has not yet matched with the capture. Bytes are framed
 * first (the codec's mqtt_peek_header: fixed header and Remaining Length),
 * buffered until the packet is complete and then decoded exactly once, so a
 * packet arriving in many reads costs linear work (issue 14). Complete
 * packets wait in one FIFO per packet type (replay takes the oldest of a
 * type in O(1)); what all queues of a replay hold together is bounded by the
 * caller's limit (PCAP_REPLAY_MAX_UNMATCHED), so a broker that floods cannot
 * make the tool grow without bound.
 */
#ifndef PCAP_RXQ_H
#define PCAP_RXQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqtt/mqtt.h>

/* Most bytes of broker packets a replay keeps unmatched, over all its
 * connections (each packet counts its size plus its bookkeeping), besides
 * the one packet being received on each (at most the protocol's 256 MiB). */
#define PCAP_REPLAY_MAX_UNMATCHED ((size_t)64 << 20)

/* A complete packet received and not yet matched. */
typedef struct {
    uint8_t *raw;   /* owned */
    size_t len;
    uint64_t seq;   /* arrival order on its connection */
} pcap_rx;

typedef struct {
    pcap_rx *v;
    size_t head, n, cap; /* entries v[head .. head+n) */
} pcap_rx_fifo;

typedef struct {
    uint8_t *buf;           /* received bytes not yet framed: buf[off .. len) */
    size_t off, len, cap;
    size_t need;            /* size of the packet at buf[off] once its fixed header is in, else 0 */
    pcap_rx_fifo fifo[16];  /* by packet type */
    uint64_t seq;
    size_t held;            /* what this queue's FIFOs count against the limit */
} pcap_rxq;

typedef enum {
    PCAP_RXQ_PACKET,    /* one more complete packet is queued */
    PCAP_RXQ_NEED_MORE, /* no complete packet buffered */
    PCAP_RXQ_BAD,       /* a complete packet did not decode: *err says why; it was skipped */
    PCAP_RXQ_BROKEN,    /* the fixed header is malformed: *err says why; the buffer was dropped */
    PCAP_RXQ_FULL,      /* the next packet would take *total above the limit (left buffered) */
    PCAP_RXQ_NOMEM      /* an allocation failed */
} pcap_rxq_status;

/* Appends n received bytes. False if memory ran out (nothing appended). */
bool pcap_rxq_append(pcap_rxq *q, const uint8_t *p, size_t n);

/* Frames and, once it is complete, decodes (with *codec, once) the next
 * buffered packet and queues it; *total (what every queue of the caller
 * holds) grows by what it counts, which may not pass limit. */
pcap_rxq_status pcap_rxq_next(pcap_rxq *q, const mqtt_codec *codec, size_t *total, size_t limit,
                              mqtt_error *err);

/* Takes the oldest queued packet of `type` (the caller owns out->raw). */
bool pcap_rxq_take(pcap_rxq *q, mqtt_packet_type type, size_t *total, pcap_rx *out);

/* Takes the oldest queued packet of any type. */
bool pcap_rxq_take_oldest(pcap_rxq *q, size_t *total, pcap_rx *out);

/* Frees everything, taking what it held off *total. */
void pcap_rxq_free(pcap_rxq *q, size_t *total);

#endif
