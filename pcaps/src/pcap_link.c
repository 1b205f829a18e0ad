/*
 * pcap_link: link layer -> IP -> TCP, by hand (these are fixed layouts, not
 * MQTT). Lengths always come from the IP header, never from the frame size,
 * because Ethernet pads short frames and that padding is not TCP payload.
 * Every read is bounded by the captured length; a payload cut short by the
 * snap length is reported through caplen < len, never read past.
 */
#include "pcaps/src/pcap_link.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool pcap_link_supported(int dlt)
{
    switch (dlt) {
    case PCAP_DLT_NULL: case PCAP_DLT_EN10MB: case PCAP_DLT_RAW: case PCAP_DLT_RAW_BSD:
    case PCAP_DLT_LOOP: case PCAP_DLT_LINUX_SLL: case PCAP_DLT_IPV4: case PCAP_DLT_IPV6:
    case PCAP_DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

const char *pcap_link_name(int dlt)
{
    switch (dlt) {
    case PCAP_DLT_NULL: return "BSD loopback";
    case PCAP_DLT_EN10MB: return "Ethernet";
    case PCAP_DLT_RAW: case PCAP_DLT_RAW_BSD: return "raw IP";
    case PCAP_DLT_LOOP: return "OpenBSD loopback";
    case PCAP_DLT_LINUX_SLL: return "Linux cooked v1";
    case PCAP_DLT_IPV4: return "raw IPv4";
    case PCAP_DLT_IPV6: return "raw IPv6";
    case PCAP_DLT_LINUX_SLL2: return "Linux cooked v2";
    default: return "unknown";
    }
}

static pcap_link_status bad(const char **why, const char *what)
{
    *why = what;
    return PCAP_LINK_BAD;
}

static pcap_link_status tcp(const uint8_t *p, uint32_t avail, uint32_t len, pcap_segment *seg,
                            const char **why)
{
    /* avail: bytes captured from the TCP header on; len: bytes per the IP header. */
    if (len < 20)
        return bad(why, "TCP header shorter than 20 bytes");
    if (avail < 20)
        return bad(why, "TCP header cut by the snap length");
    uint32_t hl = (uint32_t)(p[12] >> 4) * 4;
    if (hl < 20 || hl > len)
        return bad(why, "bad TCP data offset");
    if (hl > avail)
        return bad(why, "TCP options cut by the snap length");
    seg->sport = be16(p);
    seg->dport = be16(p + 2);
    seg->seq = be32(p + 4);
    seg->ack = be32(p + 8);
    seg->flags = p[13];
    seg->payload = p + hl;
    seg->len = len - hl;
    seg->caplen = avail - hl < seg->len ? avail - hl : seg->len;
    return PCAP_LINK_TCP;
}

static pcap_link_status ipv4(const uint8_t *p, uint32_t avail, pcap_segment *seg, const char **why)
{
    if (avail < 20)
        return bad(why, "IPv4 header cut short");
    if (p[0] >> 4 != 4)
        return bad(why, "not IPv4");
    uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
    uint32_t total = be16(p + 2);
    if (ihl < 20 || avail < ihl)
        return bad(why, "bad IPv4 header length");
    if (total == 0)
        total = avail; /* TSO captures on the sending host leave it 0 */
    if (total < ihl)
        return bad(why, "IPv4 total length smaller than its header");
    if (p[9] != 6)
        return PCAP_LINK_OTHER;
    uint16_t frag = be16(p + 6);
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0)
        return PCAP_LINK_OTHER; /* fragments: TCP over fragmented IP is not reassembled */
    seg->family = 4;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    uint32_t cap = avail < total ? avail : total;
    return tcp(p + ihl, cap - ihl, total - ihl, seg, why);
}

static pcap_link_status ipv6(const uint8_t *p, uint32_t avail, pcap_segment *seg, const char **why)
{
    if (avail < 40)
        return bad(why, "IPv6 header cut short");
    if (p[0] >> 4 != 6)
        return bad(why, "not IPv6");
    uint32_t plen = be16(p + 4);
    if (plen == 0)
        return PCAP_LINK_OTHER; /* jumbogram or TSO: not MQTT traffic we can frame */
    uint8_t next = p[6];
    seg->family = 6;
    memcpy(seg->src, p + 8, 16);
    memcpy(seg->dst, p + 24, 16);
    uint32_t off = 40, end = 40 + plen;
    uint32_t cap = avail < end ? avail : end;
    for (int hops = 0; hops < 16; hops++) {
        switch (next) {
        case 6:
            return tcp(p + off, cap - off, end - off, seg, why);
        case 0: case 43: case 60: /* hop-by-hop, routing, destination options */
            if (cap < off + 8)
                return bad(why, "IPv6 extension header cut short");
            next = p[off];
            off += ((uint32_t)p[off + 1] + 1) * 8;
            break;
        case 44: /* fragment: only an unfragmented "atomic" fragment header is followed */
            if (cap < off + 8)
                return bad(why, "IPv6 fragment header cut short");
            if ((be16(p + off + 2) & 0xfff9) != 0)
                return PCAP_LINK_OTHER;
            next = p[off];
            off += 8;
            break;
        default:
            return PCAP_LINK_OTHER;
        }
        if (off > cap)
            return bad(why, "IPv6 extension headers run past the packet");
    }
    return PCAP_LINK_OTHER;
}

static pcap_link_status ip_any(const uint8_t *p, uint32_t avail, pcap_segment *seg,
                               const char **why)
{
    if (avail < 1)
        return bad(why, "empty IP packet");
    if (p[0] >> 4 == 4)
        return ipv4(p, avail, seg, why);
    if (p[0] >> 4 == 6)
        return ipv6(p, avail, seg, why);
    return bad(why, "IP version is neither 4 nor 6");
}

static pcap_link_status by_ethertype(uint16_t type, const uint8_t *p, uint32_t avail,
                                     pcap_segment *seg, const char **why)
{
    if (type == 0x0800)
        return ipv4(p, avail, seg, why);
    if (type == 0x86DD)
        return ipv6(p, avail, seg, why);
    return PCAP_LINK_OTHER;
}

pcap_link_status pcap_link_decode(int dlt, const uint8_t *f, uint32_t caplen, pcap_segment *seg,
                                  const char **why)
{
    uint32_t off = 0;
    pcap_link_status st;
    *why = NULL;
    switch (dlt) {
    case PCAP_DLT_EN10MB: {
        if (caplen < 14)
            return bad(why, "Ethernet header cut short");
        uint16_t type = be16(f + 12);
        off = 14;
        /* 802.1Q (0x8100), 802.1ad (0x88A8) and the old QinQ 0x9100: 4 bytes each. */
        while (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
            if (caplen < off + 4)
                return bad(why, "VLAN tag cut short");
            type = be16(f + off + 2);
            off += 4;
        }
        seg->ip_offset = off;
        st = by_ethertype(type, f + off, caplen - off, seg, why);
        break;
    }
    case PCAP_DLT_LINUX_SLL:
        if (caplen < 16)
            return bad(why, "Linux cooked header cut short");
        off = 16;
        seg->ip_offset = off;
        st = by_ethertype(be16(f + 14), f + off, caplen - off, seg, why);
        break;
    case PCAP_DLT_LINUX_SLL2:
        if (caplen < 20)
            return bad(why, "Linux cooked v2 header cut short");
        off = 20;
        seg->ip_offset = off;
        st = by_ethertype(be16(f), f + off, caplen - off, seg, why);
        break;
    case PCAP_DLT_NULL:
    case PCAP_DLT_LOOP: {
        if (caplen < 4)
            return bad(why, "loopback header cut short");
        /* The address family: host byte order for NULL (of the capturing host,
         * which may differ from ours), network order for LOOP. AF_INET is 2
         * everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS. */
        uint32_t le = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 |
                      (uint32_t)f[3] << 24;
        uint32_t af = dlt == PCAP_DLT_LOOP ? be32(f) : (le < 256 ? le : be32(f));
        off = 4;
        seg->ip_offset = off;
        if (af == 2)
            st = ipv4(f + off, caplen - off, seg, why);
        else if (af == 10 || af == 24 || af == 28 || af == 30)
            st = ipv6(f + off, caplen - off, seg, why);
        else
            st = PCAP_LINK_OTHER;
        break;
    }
    case PCAP_DLT_RAW:
    case PCAP_DLT_RAW_BSD:
        seg->ip_offset = 0;
        st = ip_any(f, caplen, seg, why);
        break;
    case PCAP_DLT_IPV4:
        seg->ip_offset = 0;
        st = ipv4(f, caplen, seg, why);
        break;
    case PCAP_DLT_IPV6:
        seg->ip_offset = 0;
        st = ipv6(f, caplen, seg, why);
        break;
    default:
        return bad(why, "unsupported link type");
    }
    return st;
}

void pcap_addr_format(uint8_t family, const uint8_t *addr, uint16_t port, char *buf, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (family == 4) {
        inet_ntop(AF_INET, addr, a, sizeof a);
        snprintf(buf, cap, "%s:%u", a, port);
    } else {
        inet_ntop(AF_INET6, addr, a, sizeof a);
        snprintf(buf, cap, "[%s]:%u", a, port);
    }
}
