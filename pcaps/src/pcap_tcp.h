/*
 * pcap_tcp: reassembly of one direction of one TCP connection.
 *
 * Segments go in in capture order; the byte stream comes out in sequence
 * order through a sink: data in order exactly once (retransmissions and
 * overlaps are trimmed, the first copy of a byte wins), out-of-order
 * segments held until the hole before them fills, and holes that will never
 * fill reported as gaps. A hole is known to be permanent when the peer has
 * acknowledged past it (the bytes reached the peer, the capture missed them),
 * when too much data waits behind it, or when the stream ends.
 */
#ifndef PCAP_TCP_H
#define PCAP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Data waiting behind a hole is capped; past it the hole is declared a gap. */
#define PCAP_TCP_MAX_PENDING (4u << 20)
#define PCAP_TCP_MAX_PENDING_SEGS 4096u

typedef struct pcap_tcp_seg pcap_tcp_seg;

typedef struct {
    /* Called with the next bytes of the stream, in order. */
    void (*data)(void *ctx, const uint8_t *p, size_t n);
    /* Called when `missing` bytes of the stream are lost for good. */
    void (*gap)(void *ctx, uint64_t missing);
} pcap_tcp_sink;

typedef struct {
    bool started;            /* next_seq is known */
    bool syn;                /* the stream started with a SYN we saw */
    bool fin;                /* FIN seen at fin_seq */
    uint32_t isn;            /* first sequence number of the stream (after SYN) */
    uint32_t next_seq;       /* the next byte expected */
    uint32_t fin_seq;
    pcap_tcp_seg *pending;   /* out-of-order segments, sorted by seq */
    size_t pending_bytes, pending_segs;
    uint64_t delivered;      /* bytes handed to the sink */
    uint64_t lost;           /* bytes reported as gaps */
    uint64_t retransmitted;  /* bytes received again and dropped */
} pcap_tcp_half;

/* A segment of this direction: seq, TCP flags, payload[0..caplen) captured of
 * `len` bytes sent (caplen < len when the snap length cut it: the rest is a
 * hole). Returns false only when out of memory (the segment is then treated
 * as lost). */
bool pcap_tcp_segment(pcap_tcp_half *h, uint32_t seq, uint8_t flags, const uint8_t *payload,
                      uint32_t caplen, uint32_t len, const pcap_tcp_sink *sink, void *ctx);

/* The peer acknowledged everything before `ack`: holes before it are gaps. */
void pcap_tcp_acked(pcap_tcp_half *h, uint32_t ack, const pcap_tcp_sink *sink, void *ctx);

/* End of the stream (FIN/RST processed, or end of capture): what still waits
 * behind holes is delivered after reporting the holes as gaps. */
void pcap_tcp_flush(pcap_tcp_half *h, const pcap_tcp_sink *sink, void *ctx);

/* Frees held segments. The half may be reused after pcap_tcp_reset. */
void pcap_tcp_reset(pcap_tcp_half *h);

#endif
