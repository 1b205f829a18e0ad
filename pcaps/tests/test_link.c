/*
 * pcap_link: one TCP segment framed by every supported link type, VLAN
 * stacks, IPv6 extension headers, Ethernet padding, and frames that are cut
 * or malformed (reported, never read past).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pcaps/src/pcap_link.h"

/* An IPv4 packet with a TCP segment carrying "MQ" (2 bytes), ports 40000 -> 1883. */
static size_t ipv4_tcp(uint8_t *p)
{
    memset(p, 0, 42);
    p[0] = 0x45;
    p[3] = 42; /* total length */
    p[8] = 64;
    p[9] = 6;
    p[12] = 10, p[15] = 1;
    p[16] = 10, p[19] = 2;
    uint8_t *t = p + 20;
    t[0] = 40000 >> 8, t[1] = 40000 & 255, t[2] = 1883 >> 8, t[3] = 1883 & 255;
    t[7] = 100;
    t[12] = 5 << 4;
    t[13] = 0x18;
    p[40] = 'M', p[41] = 'Q';
    return 42;
}

static size_t ipv6_tcp(uint8_t *p, bool ext)
{
    size_t e = ext ? 8 : 0;
    memset(p, 0, 40 + e + 22);
    p[0] = 0x60;
    p[5] = (uint8_t)(e + 22);
    p[6] = ext ? 0 : 6; /* hop-by-hop options first */
    p[7] = 64;
    p[23] = 1, p[39] = 2;
    if (ext)
        p[40] = 6, p[41] = 0;
    uint8_t *t = p + 40 + e;
    t[0] = 40000 >> 8, t[1] = 40000 & 255, t[2] = 1883 >> 8, t[3] = 1883 & 255;
    t[12] = 5 << 4;
    t[13] = 0x18;
    t[20] = 'M', t[21] = 'Q';
    return 40 + e + 22;
}

static void expect_mq(int dlt, const uint8_t *f, size_t n, int family)
{
    pcap_segment s;
    const char *why;
    cr_assert_eq(pcap_link_decode(dlt, f, (uint32_t)n, &s, &why), PCAP_LINK_TCP, "%s: %s",
                 pcap_link_name(dlt), why ? why : "");
    cr_assert_eq(s.family, family);
    cr_assert_eq(s.sport, 40000);
    cr_assert_eq(s.dport, 1883);
    cr_assert_eq(s.len, 2);
    cr_assert_eq(s.caplen, 2);
    cr_assert_eq(memcmp(s.payload, "MQ", 2), 0);
}

Test(link, ethernet_with_padding_uses_ip_length)
{
    uint8_t f[128] = {0};
    f[12] = 0x08;
    size_t n = 14 + ipv4_tcp(f + 14);
    expect_mq(PCAP_DLT_EN10MB, f, n + 4 /* trailer padding */, 4);
}

Test(link, vlan_and_qinq_tags)
{
    uint8_t f[128] = {0};
    f[12] = 0x88, f[13] = 0xA8; /* 802.1ad */
    f[16] = 0x81, f[17] = 0x00; /* 802.1Q */
    f[20] = 0x08;
    size_t n = 22 + ipv4_tcp(f + 22);
    expect_mq(PCAP_DLT_EN10MB, f, n, 4);
}

Test(link, linux_cooked_v1_and_v2)
{
    uint8_t f[128] = {0};
    f[14] = 0x08;
    expect_mq(PCAP_DLT_LINUX_SLL, f, 16 + ipv4_tcp(f + 16), 4);
    memset(f, 0, sizeof f);
    f[0] = 0x86, f[1] = 0xDD;
    expect_mq(PCAP_DLT_LINUX_SLL2, f, 20 + ipv6_tcp(f + 20, false), 6);
}

Test(link, bsd_loopback_both_byte_orders_and_raw)
{
    uint8_t f[128] = {0};
    f[0] = 2; /* AF_INET, little endian host */
    expect_mq(PCAP_DLT_NULL, f, 4 + ipv4_tcp(f + 4), 4);
    memset(f, 0, sizeof f);
    f[3] = 30; /* AF_INET6 of macOS, big endian host */
    expect_mq(PCAP_DLT_NULL, f, 4 + ipv6_tcp(f + 4, false), 6);
    memset(f, 0, sizeof f);
    expect_mq(PCAP_DLT_RAW, f, ipv4_tcp(f), 4);
    expect_mq(PCAP_DLT_IPV6, f, ipv6_tcp(f, true), 6);
}

Test(link, cut_and_malformed_frames_are_bad_not_read_past)
{
    uint8_t f[128] = {0};
    f[12] = 0x08;
    size_t n = 14 + ipv4_tcp(f + 14);
    pcap_segment s;
    const char *why;
    for (size_t cut = 0; cut < 14 + 40; cut++)
        cr_assert_eq(pcap_link_decode(PCAP_DLT_EN10MB, f, (uint32_t)cut, &s, &why), PCAP_LINK_BAD,
                     "cut at %zu", cut);
    /* Cut inside the payload: TCP, with caplen < len. */
    cr_assert_eq(pcap_link_decode(PCAP_DLT_EN10MB, f, (uint32_t)n - 1, &s, &why), PCAP_LINK_TCP);
    cr_assert_eq(s.len, 2);
    cr_assert_eq(s.caplen, 1);
    f[14] = 0x41; /* IHL 4: too small */
    cr_assert_eq(pcap_link_decode(PCAP_DLT_EN10MB, f, (uint32_t)n, &s, &why), PCAP_LINK_BAD);
    cr_assert(why && strlen(why) > 0);
}

Test(link, udp_and_arp_are_other)
{
    uint8_t f[128] = {0};
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    pcap_segment s;
    const char *why;
    cr_assert_eq(pcap_link_decode(PCAP_DLT_EN10MB, f, 60, &s, &why), PCAP_LINK_OTHER);
    f[13] = 0;
    ipv4_tcp(f + 14);
    f[14 + 9] = 17; /* UDP */
    cr_assert_eq(pcap_link_decode(PCAP_DLT_EN10MB, f, 56, &s, &why), PCAP_LINK_OTHER);
}
