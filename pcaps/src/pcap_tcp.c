/*
 * pcap_tcp: sequence arithmetic is modulo 2^32 (RFC 1982 style comparisons
 * through signed differences), so streams that wrap are handled. Invariant:
 * every byte before next_seq was either delivered or reported lost exactly
 * once; `pending` holds only bytes at or after next_seq, sorted by start.
 */
#include "pcaps/src/pcap_tcp.h"

#include <stdlib.h>
#include <string.h>

struct pcap_tcp_seg {
    pcap_tcp_seg *next;
    uint32_t seq;
    uint32_t len;
    uint8_t data[];
};

/* a - b as a signed distance in sequence space. */
static int32_t sdiff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static void deliver(pcap_tcp_half *h, const uint8_t *p, size_t n, const pcap_tcp_sink *sink,
                    void *ctx)
{
    if (n == 0)
        return;
    h->next_seq += (uint32_t)n;
    h->delivered += n;
    sink->data(ctx, p, n);
}

static void lose(pcap_tcp_half *h, uint32_t n, const pcap_tcp_sink *sink, void *ctx)
{
    if (n == 0)
        return;
    h->next_seq += n;
    h->lost += n;
    sink->gap(ctx, n);
}

/* Delivers pending segments that now touch next_seq. */
static void drain(pcap_tcp_half *h, const pcap_tcp_sink *sink, void *ctx)
{
    while (h->pending && sdiff(h->pending->seq, h->next_seq) <= 0) {
        pcap_tcp_seg *s = h->pending;
        h->pending = s->next;
        h->pending_bytes -= s->len;
        h->pending_segs--;
        int32_t skip = sdiff(h->next_seq, s->seq);
        if ((uint32_t)skip < s->len)
            deliver(h, s->data + skip, s->len - (uint32_t)skip, sink, ctx);
        else
            h->retransmitted += s->len;
        free(s);
    }
}

/* Declares the hole before the first pending segment lost, then drains. */
static void skip_hole(pcap_tcp_half *h, const pcap_tcp_sink *sink, void *ctx)
{
    if (!h->pending)
        return;
    int32_t hole = sdiff(h->pending->seq, h->next_seq);
    if (hole > 0)
        lose(h, (uint32_t)hole, sink, ctx);
    drain(h, sink, ctx);
}

static bool hold(pcap_tcp_half *h, uint32_t seq, const uint8_t *p, uint32_t n)
{
    pcap_tcp_seg **at = &h->pending;
    while (*at && sdiff((*at)->seq, seq) <= 0) {
        /* An exact retransmission of something already held adds nothing. */
        if ((*at)->seq == seq && (*at)->len >= n) {
            h->retransmitted += n;
            return true;
        }
        at = &(*at)->next;
    }
    pcap_tcp_seg *s = malloc(sizeof *s + n);
    if (!s)
        return false;
    s->seq = seq;
    s->len = n;
    memcpy(s->data, p, n);
    s->next = *at;
    *at = s;
    h->pending_bytes += n;
    h->pending_segs++;
    return true;
}

bool pcap_tcp_segment(pcap_tcp_half *h, uint32_t seq, uint8_t flags, const uint8_t *payload,
                      uint32_t caplen, uint32_t len, const pcap_tcp_sink *sink, void *ctx)
{
    bool ok = true;
    if (flags & 0x02) { /* SYN: data starts one after it */
        if (!h->started || !h->syn) {
            h->started = true;
            h->syn = true;
            h->isn = seq + 1;
            h->next_seq = seq + 1;
        }
        seq += 1;
    } else if (!h->started) {
        /* Mid-connection start: the stream begins at the first byte we see. */
        h->started = true;
        h->isn = seq;
        h->next_seq = seq;
    }
    if (caplen > len)
        caplen = len;
    if (len > 0) {
        int32_t off = sdiff(seq, h->next_seq);
        if (off <= 0) {
            /* next_seq - seq, modulo 2^32: -off overflows when off is INT32_MIN. */
            uint32_t skip = h->next_seq - seq;
            if (skip < caplen) {
                h->retransmitted += skip;
                deliver(h, payload + skip, caplen - skip, sink, ctx);
                if (caplen < len) /* the snap length cut the rest: it is lost */
                    lose(h, len - caplen, sink, ctx);
                drain(h, sink, ctx);
            } else if (skip < len) {
                lose(h, len - skip, sink, ctx);
                drain(h, sink, ctx);
            } else {
                h->retransmitted += len;
            }
        } else {
            ok = hold(h, seq, payload, caplen);
            /* A cut segment leaves a hole after it; it is found like any other. */
            if (h->pending_bytes > PCAP_TCP_MAX_PENDING ||
                h->pending_segs > PCAP_TCP_MAX_PENDING_SEGS)
                skip_hole(h, sink, ctx);
        }
    }
    if (flags & 0x01) {
        h->fin = true;
        h->fin_seq = seq + len;
    }
    return ok;
}

void pcap_tcp_acked(pcap_tcp_half *h, uint32_t ack, const pcap_tcp_sink *sink, void *ctx)
{
    if (!h->started)
        return;
    int32_t ahead = sdiff(ack, h->next_seq);
    if (ahead <= 0 || ahead > (1 << 30))
        return;
    if (h->fin && sdiff(ack, h->fin_seq) > 0)
        ack = h->fin_seq; /* the FIN takes one sequence number but carries no byte */
    while (sdiff(ack, h->next_seq) > 0) {
        if (h->pending && sdiff(h->pending->seq, ack) < 0) {
            skip_hole(h, sink, ctx);
        } else {
            lose(h, (uint32_t)sdiff(ack, h->next_seq), sink, ctx);
            drain(h, sink, ctx);
        }
    }
}

void pcap_tcp_flush(pcap_tcp_half *h, const pcap_tcp_sink *sink, void *ctx)
{
    while (h->pending)
        skip_hole(h, sink, ctx);
}

void pcap_tcp_reset(pcap_tcp_half *h)
{
    while (h->pending) {
        pcap_tcp_seg *s = h->pending;
        h->pending = s->next;
        free(s);
    }
    memset(h, 0, sizeof *h);
}
