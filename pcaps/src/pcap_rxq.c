/*
 * pcap_rxq: framing, single decode and bounded per-type queues of the
 * packets a broker sends during `mqtt-pcap replay` (see pcap_rxq.h).
 */
#include "pcaps/src/pcap_rxq.h"

#include <stdlib.h>
#include <string.h>

bool pcap_rxq_append(pcap_rxq *q, const uint8_t *p, size_t n)
{
    if (q->off && q->len + n > q->cap) {
        /* Reclaim the framed prefix first: at most one partial packet moves. */
        memmove(q->buf, q->buf + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 65536;
        while (cap < q->len + n)
            cap *= 2;
        uint8_t *nb = realloc(q->buf, cap);
        if (!nb)
            return false;
        q->buf = nb;
        q->cap = cap;
    }
    memcpy(q->buf + q->len, p, n);
    q->len += n;
    return true;
}

/* What a queued packet counts against the limit: its bytes and its entry. */
static size_t weight(size_t len)
{
    return len + sizeof(pcap_rx);
}

static bool push(pcap_rx_fifo *f, pcap_rx rx)
{
    if (f->head + f->n == f->cap) {
        if (f->head > f->cap / 2) {
            /* Mostly taken from the front: slide down rather than grow. */
            memmove(f->v, f->v + f->head, f->n * sizeof *f->v);
            f->head = 0;
        } else {
            size_t cap = f->cap ? f->cap * 2 : 16;
            pcap_rx *nv = realloc(f->v, cap * sizeof *nv);
            if (!nv)
                return false;
            f->v = nv;
            f->cap = cap;
        }
    }
    f->v[f->head + f->n++] = rx;
    return true;
}

/* Drops the buffered bytes (after a framing error nothing that follows can be framed). */
static void drop_buffer(pcap_rxq *q)
{
    q->off = q->len = 0;
    q->need = 0;
}

/* Queues the complete packet at buf[off .. off+need). */
static pcap_rxq_status queue_frame(pcap_rxq *q, size_t *total)
{
    uint8_t *copy = malloc(q->need ? q->need : 1);
    if (!copy)
        return PCAP_RXQ_NOMEM;
    memcpy(copy, q->buf + q->off, q->need);
    pcap_rx rx = {copy, q->need, q->seq};
    if (!push(&q->fifo[copy[0] >> 4], rx)) {
        free(copy);
        return PCAP_RXQ_NOMEM;
    }
    q->seq++;
    q->held += weight(rx.len);
    *total += weight(rx.len);
    return PCAP_RXQ_PACKET;
}

pcap_rxq_status pcap_rxq_next(pcap_rxq *q, const mqtt_codec *codec, size_t *total, size_t limit,
                              mqtt_error *err)
{
    size_t avail = q->len - q->off;
    if (!q->need) {
        mqtt_header h;
        mqtt_status st = mqtt_peek_header(codec->version, q->buf + q->off, avail, &h, err);
        if (st == MQTT_NEED_MORE)
            return PCAP_RXQ_NEED_MORE;
        if (st != MQTT_OK) {
            drop_buffer(q);
            return PCAP_RXQ_BROKEN;
        }
        q->need = h.length;
    }
    if (avail < q->need)
        return PCAP_RXQ_NEED_MORE; /* framed: decoded only once complete */
    if (*total + weight(q->need) > limit)
        return PCAP_RXQ_FULL;
    mqtt_packet pkt;
    mqtt_status st = mqtt_decode(codec, q->buf + q->off, q->need, &pkt, err);
    pcap_rxq_status rs = st == MQTT_OK ? queue_frame(q, total) : PCAP_RXQ_BAD;
    if (rs == PCAP_RXQ_NOMEM)
        return rs;
    q->off += q->need;
    q->need = 0;
    if (q->off == q->len)
        q->off = q->len = 0;
    return rs;
}

static void pop(pcap_rxq *q, pcap_rx_fifo *f, size_t *total, pcap_rx *out)
{
    *out = f->v[f->head++];
    if (--f->n == 0)
        f->head = 0;
    q->held -= weight(out->len);
    *total -= weight(out->len);
}

bool pcap_rxq_take(pcap_rxq *q, mqtt_packet_type type, size_t *total, pcap_rx *out)
{
    pcap_rx_fifo *f = &q->fifo[(unsigned)type & 15];
    if (!f->n)
        return false;
    pop(q, f, total, out);
    return true;
}

bool pcap_rxq_take_oldest(pcap_rxq *q, size_t *total, pcap_rx *out)
{
    pcap_rx_fifo *best = NULL;
    for (int t = 0; t < 16; t++) {
        pcap_rx_fifo *f = &q->fifo[t];
        if (f->n && (!best || f->v[f->head].seq < best->v[best->head].seq))
            best = f;
    }
    if (!best)
        return false;
    pop(q, best, total, out);
    return true;
}

void pcap_rxq_free(pcap_rxq *q, size_t *total)
{
    for (int t = 0; t < 16; t++) {
        pcap_rx_fifo *f = &q->fifo[t];
        for (size_t i = 0; i < f->n; i++)
            free(f->v[f->head + i].raw);
        free(f->v);
    }
    *total -= q->held;
    free(q->buf);
    memset(q, 0, sizeof *q);
}
