/*
 * pcap_writer: classic pcap (microsecond timestamps, host byte order header
 * as libpcap writes it), one record per synthesized packet. Invariants: the
 * sequence number of each side advances by exactly the bytes it sends (+1
 * for SYN and FIN), every segment after the SYN carries the peer's next
 * sequence number as its ACK, and IP/TCP checksums are correct, so tshark
 * shows no "bad checksum" or "previous segment not captured" warnings.
 */
#include "pcaps/src/pcap_writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define MAX_FRAME (14 + 40 + 20 + 65535)

struct pcap_writer {
    FILE *fp;
    pcap_writer_link link;
    uint32_t mss;
    bool acks;
    bool failed;
    uint64_t bytes;
    uint8_t frame[MAX_FRAME];
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static void write_raw(pcap_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (fwrite(p, 1, n, w->fp) != n)
        w->failed = true;
    w->bytes += n;
}

static pcap_writer *start(FILE *fp, pcap_writer_link link, char *err, size_t errlen)
{
    pcap_writer *w = malloc(sizeof *w);
    if (!w) {
        fclose(fp);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fp = fp;
    w->link = link;
    w->mss = 1460;
    w->acks = true;
    w->failed = false;
    w->bytes = 0;
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } hdr = {0xa1b2c3d4u, 2, 4, 0, 0, 262144, (uint32_t)link};
    write_raw(w, &hdr, sizeof hdr);
    if (w->failed) {
        snprintf(err, errlen, "writing the pcap header: %s", strerror(errno));
        fclose(fp);
        free(w);
        return NULL;
    }
    return w;
}

pcap_writer *pcap_writer_open(const char *path, pcap_writer_link link, char *err, size_t errlen)
{
    if (link != PCAP_WRITER_ETHERNET && link != PCAP_WRITER_RAW) {
        snprintf(err, errlen, "%s: unsupported link type %d", path, (int)link);
        return NULL;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return start(fp, link, err, errlen);
}

pcap_writer *pcap_writer_open_stream(FILE *fp, pcap_writer_link link, char *err, size_t errlen)
{
    if (link != PCAP_WRITER_ETHERNET && link != PCAP_WRITER_RAW) {
        snprintf(err, errlen, "unsupported link type %d", (int)link);
        fclose(fp);
        return NULL;
    }
    return start(fp, link, err, errlen);
}

void pcap_writer_set_mss(pcap_writer *w, uint32_t mss)
{
    w->mss = mss < 1 ? 1 : mss > 65000 ? 65000 : mss;
}

void pcap_writer_set_acks(pcap_writer *w, bool acks)
{
    w->acks = acks;
}

uint64_t pcap_writer_bytes(const pcap_writer *w)
{
    return w->bytes;
}

int pcap_writer_close(pcap_writer *w)
{
    if (!w)
        return -1;
    bool failed = w->failed;
    if (fclose(w->fp) != 0)
        failed = true;
    free(w);
    return failed ? -1 : 0;
}

static void record(pcap_writer *w, const uint8_t *frame, size_t len, int64_t ts_us)
{
    uint32_t rec[4] = {(uint32_t)(ts_us / 1000000), (uint32_t)(ts_us % 1000000), (uint32_t)len,
                       (uint32_t)len};
    write_raw(w, rec, sizeof rec);
    write_raw(w, frame, len);
}

int pcap_writer_ip_packet(pcap_writer *w, const void *ip, size_t len, int64_t ts_us)
{
    if (len == 0 || len > 65535 + 40)
        return -1;
    const uint8_t *p = ip;
    size_t off = 0;
    if (w->link == PCAP_WRITER_ETHERNET) {
        static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
        memcpy(w->frame, macs, 12);
        put16(w->frame + 12, (p[0] >> 4) == 6 ? 0x86DD : 0x0800);
        off = 14;
    }
    memcpy(w->frame + off, p, len);
    record(w, w->frame, off + len, ts_us);
    return w->failed ? -1 : 0;
}

int pcap_writer_segment(pcap_writer *w, const pcap_writer_conn *c, int side, uint8_t flags,
                        uint32_t seq, uint32_t ack, const void *data, size_t len, int64_t ts_us)
{
    if (len > 65000 || side < 0 || side > 1)
        return -1;
    uint8_t pkt[40 + 20 + 65000];
    size_t iphl = c->family == 4 ? 20 : 40;
    uint8_t *tcp = pkt + iphl;
    const uint8_t *src = c->addr[side], *dst = c->addr[!side];
    memset(pkt, 0, iphl + 20);
    if (c->family == 4) {
        pkt[0] = 0x45;
        put16(pkt + 2, (uint16_t)(20 + 20 + len));
        put16(pkt + 4, c->ip_id[side]);
        put16(pkt + 6, 0x4000); /* DF */
        pkt[8] = 64;
        pkt[9] = 6;
        memcpy(pkt + 12, src, 4);
        memcpy(pkt + 16, dst, 4);
        put16(pkt + 10, fold(sum16(pkt, 20, 0)));
    } else {
        pkt[0] = 0x60;
        put16(pkt + 4, (uint16_t)(20 + len));
        pkt[6] = 6;
        pkt[7] = 64;
        memcpy(pkt + 8, src, 16);
        memcpy(pkt + 24, dst, 16);
    }
    put16(tcp, c->port[side]);
    put16(tcp + 2, c->port[!side]);
    put32(tcp + 4, seq);
    put32(tcp + 8, (flags & TCP_ACK) ? ack : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (len)
        memcpy(tcp + 20, data, len);
    /* Pseudo-header checksum. */
    uint32_t acc = 0;
    size_t alen = c->family == 4 ? 4 : 16;
    acc = sum16(src, alen, acc);
    acc = sum16(dst, alen, acc);
    acc += 6;
    acc += (uint32_t)(20 + len);
    acc = sum16(tcp, 20 + len, acc);
    put16(tcp + 16, fold(acc));
    return pcap_writer_ip_packet(w, pkt, iphl + 20 + len, ts_us);
}

static int seg(pcap_writer *w, pcap_writer_conn *c, int side, uint8_t flags, const void *data,
               size_t len, int64_t ts_us)
{
    int rc = pcap_writer_segment(w, c, side, flags, c->seq[side], c->seq[!side], data, len, ts_us);
    c->seq[side] += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    c->ip_id[side]++;
    return rc;
}

int pcap_writer_conn_init_text(pcap_writer_conn *c, const char *client_ip, uint16_t client_port,
                               const char *server_ip, uint16_t server_port)
{
    memset(c, 0, sizeof *c);
    if (inet_pton(AF_INET, client_ip, c->addr[0]) == 1 &&
        inet_pton(AF_INET, server_ip, c->addr[1]) == 1)
        c->family = 4;
    else if (inet_pton(AF_INET6, client_ip, c->addr[0]) == 1 &&
             inet_pton(AF_INET6, server_ip, c->addr[1]) == 1)
        c->family = 6;
    else
        return -1;
    c->port[0] = client_port;
    c->port[1] = server_port;
    /* Deterministic, distinct initial sequence numbers (files are reproducible). */
    c->seq[0] = 0x10000000u ^ ((uint32_t)client_port << 12);
    c->seq[1] = 0x50000000u ^ ((uint32_t)server_port << 8) ^ client_port;
    return 0;
}

int pcap_writer_conn_init(pcap_writer_conn *c, const struct sockaddr *client,
                          const struct sockaddr *server)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    uint16_t pa, pb;
    if (!client || !server || client->sa_family != server->sa_family)
        return -1;
    if (client->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)(const void *)client;
        const struct sockaddr_in *y = (const struct sockaddr_in *)(const void *)server;
        inet_ntop(AF_INET, &x->sin_addr, a, sizeof a);
        inet_ntop(AF_INET, &y->sin_addr, b, sizeof b);
        pa = ntohs(x->sin_port);
        pb = ntohs(y->sin_port);
    } else if (client->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)(const void *)client;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(const void *)server;
        inet_ntop(AF_INET6, &x->sin6_addr, a, sizeof a);
        inet_ntop(AF_INET6, &y->sin6_addr, b, sizeof b);
        pa = ntohs(x->sin6_port);
        pb = ntohs(y->sin6_port);
    } else {
        return -1;
    }
    return pcap_writer_conn_init_text(c, a, pa, b, pb);
}

int pcap_writer_handshake(pcap_writer *w, pcap_writer_conn *c, int64_t ts_us)
{
    int rc = 0;
    rc |= seg(w, c, 0, TCP_SYN, NULL, 0, ts_us);
    rc |= pcap_writer_segment(w, c, 1, TCP_SYN | TCP_ACK, c->seq[1], c->seq[0], NULL, 0, ts_us);
    c->seq[1]++;
    c->ip_id[1]++;
    rc |= seg(w, c, 0, TCP_ACK, NULL, 0, ts_us);
    c->open = true;
    return rc ? -1 : 0;
}

int pcap_writer_send(pcap_writer *w, pcap_writer_conn *c, int side, const void *data, size_t len,
                     int64_t ts_us)
{
    if (side < 0 || side > 1)
        return -1;
    int rc = 0;
    if (!c->open)
        rc |= pcap_writer_handshake(w, c, ts_us);
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len < w->mss ? len : w->mss;
        rc |= seg(w, c, side, (uint8_t)(TCP_ACK | (n == len ? TCP_PSH : 0)), p, n, ts_us);
        p += n;
        len -= n;
    }
    if (w->acks)
        rc |= seg(w, c, !side, TCP_ACK, NULL, 0, ts_us);
    return rc ? -1 : 0;
}

int pcap_writer_fin(pcap_writer *w, pcap_writer_conn *c, int side, int64_t ts_us)
{
    if (side < 0 || side > 1)
        return -1;
    int rc = 0;
    rc |= seg(w, c, side, TCP_FIN | TCP_ACK, NULL, 0, ts_us);
    rc |= seg(w, c, !side, TCP_FIN | TCP_ACK, NULL, 0, ts_us);
    rc |= seg(w, c, side, TCP_ACK, NULL, 0, ts_us);
    c->open = false;
    return rc ? -1 : 0;
}

int pcap_writer_rst(pcap_writer *w, pcap_writer_conn *c, int side, int64_t ts_us)
{
    if (side < 0 || side > 1)
        return -1;
    int rc = seg(w, c, side, TCP_RST | TCP_ACK, NULL, 0, ts_us);
    c->open = false;
    return rc;
}
