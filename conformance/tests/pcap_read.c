/*
 * The test reader of runner captures (pcap_read.h). Deliberately separate
 * from pcaps/ (libpcap, its reassembly): an independent look at the bytes.
 */
#include "pcap_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

void tr_free(tr_capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->s[i].data[0]);
        free(c->s[i].data[1]);
    }
    memset(c, 0, sizeof *c);
}

typedef struct {
    uint32_t isn[2];
    bool have_isn[2];
} seqstate;

int tr_read(const char *path, uint16_t server_port, tr_capture *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->ordered = true;
    static seqstate seq[TR_MAX_STREAMS];
    memset(seq, 0, sizeof seq);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    uint8_t hdr[24];
    if (fread(hdr, 1, 24, f) != 24) goto bad_header;
    uint32_t magic, link;
    memcpy(&magic, hdr, 4);
    memcpy(&link, hdr + 20, 4);
    if (magic != 0xa1b2c3d4u || link != 1) goto bad_header;
    static uint8_t frame[70000];
    for (;;) {
        uint32_t rec[4];
        size_t got = fread(rec, 1, sizeof rec, f);
        if (got == 0) break;
        size_t idx = out->records;
        if (got != sizeof rec || rec[2] > sizeof frame || rec[2] != rec[3] || fread(frame, 1, rec[2], f) != rec[2]) {
            snprintf(err, errlen, "record %zu: truncated or oversized", idx);
            goto fail;
        }
        out->records++;
        int64_t t = (int64_t)rec[0] * 1000000 + rec[1];
        if (idx == 0) out->first_us = t;
        if (t < out->last_us) out->ordered = false;
        out->last_us = t;
        const uint8_t *ip = frame + 14;
        size_t caplen = rec[2];
        if (caplen < 14 + 40 || be16(frame + 12) != 0x0800 || (ip[0] >> 4) != 4 || ip[9] != 6) {
            snprintf(err, errlen, "record %zu: not Ethernet/IPv4/TCP", idx);
            goto fail;
        }
        size_t ihl = (size_t)(ip[0] & 15) * 4, total = be16(ip + 2);
        if (total + 14 != caplen || fold(sum16(ip, ihl, 0)) != 0xffff) {
            snprintf(err, errlen, "record %zu: IPv4 length or checksum wrong", idx);
            goto fail;
        }
        const uint8_t *tcp = ip + ihl;
        size_t thl = (size_t)(tcp[12] >> 4) * 4, plen = total - ihl - thl;
        uint32_t acc = sum16(ip + 12, 8, 0) + 6 + (uint32_t)(total - ihl);
        if (fold(sum16(tcp, total - ihl, acc)) != 0xffff) {
            snprintf(err, errlen, "record %zu: TCP checksum wrong", idx);
            goto fail;
        }
        uint16_t sp = be16(tcp), dp = be16(tcp + 2);
        int side = sp == server_port ? TR_SERVER : TR_CLIENT;
        if ((side == TR_SERVER ? sp : dp) != server_port) {
            snprintf(err, errlen, "record %zu: ports %u > %u, neither is the server's %u", idx, sp, dp, server_port);
            goto fail;
        }
        uint16_t cport = side == TR_SERVER ? dp : sp;
        size_t k = 0;
        while (k < out->n && out->s[k].client_port != cport) k++;
        if (k == out->n) {
            if (out->n == TR_MAX_STREAMS) {
                snprintf(err, errlen, "record %zu: more than %d streams", idx, TR_MAX_STREAMS);
                goto fail;
            }
            tr_stream *ns = &out->s[out->n++];
            ns->client_port = cport;
            ns->server_port = server_port;
            memcpy(ns->client_ip, side == TR_CLIENT ? ip + 12 : ip + 16, 4);
            memcpy(ns->server_ip, side == TR_CLIENT ? ip + 16 : ip + 12, 4);
            ns->first_us = t;
        }
        tr_stream *s = &out->s[k];
        seqstate *q = &seq[k];
        s->last_us = t;
        uint8_t fl = tcp[13];
        uint32_t sq = be32(tcp + 4);
        if (fl & 0x02) { /* SYN */
            if (side == TR_CLIENT) s->syn = true;
            else s->synack = true;
            q->isn[side] = sq;
            q->have_isn[side] = true;
            continue;
        }
        if (fl & 0x04) s->rst[side] = true;
        if (fl & 0x01) s->fin[side] = true;
        if (side == TR_CLIENT && (fl & 0x10) && s->synack) s->established = true;
        if (!plen) continue;
        if (!q->have_isn[side]) {
            snprintf(err, errlen, "record %zu: payload before the SYN of its stream", idx);
            goto fail;
        }
        if (sq != q->isn[side] + 1 + (uint32_t)s->len[side]) {
            snprintf(err, errlen, "record %zu: stream %u side %d: a hole or overlap (seq %u, expected %u)", idx,
                     cport, side, sq - q->isn[side], 1 + (unsigned)s->len[side]);
            goto fail;
        }
        uint8_t *nb = realloc(s->data[side], s->len[side] + plen);
        if (!nb) goto fail;
        memcpy(nb + s->len[side], tcp + thl, plen);
        s->data[side] = nb;
        s->len[side] += plen;
    }
    fclose(f);
    return 0;
bad_header:
    snprintf(err, errlen, "%s: not a classic little-endian pcap with Ethernet framing", path);
fail:
    fclose(f);
    tr_free(out);
    return -1;
}
