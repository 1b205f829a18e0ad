/*
 * pcap_link: from a captured frame to the TCP segment inside it.
 *
 * Link types: Ethernet (with any number of 802.1Q / 802.1ad tags), Linux
 * cooked capture v1 and v2, raw IP (DLT_RAW and LINKTYPE_IPV4/IPV6), BSD
 * loopback (DLT_NULL, host byte order, and DLT_LOOP, network order). Network
 * layers: IPv4 (options, first fragments only) and IPv6 (extension headers).
 * Pure: no allocation, the segment points into the frame.
 */
#ifndef PCAP_LINK_H
#define PCAP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP flags (the low byte of the TCP header's flag field). */
#define PCAP_TCP_FIN 0x01
#define PCAP_TCP_SYN 0x02
#define PCAP_TCP_RST 0x04
#define PCAP_TCP_PSH 0x08
#define PCAP_TCP_ACK 0x10

/* Link types this module reads, by their libpcap DLT value. */
#define PCAP_DLT_NULL 0
#define PCAP_DLT_EN10MB 1
#define PCAP_DLT_RAW 12        /* DLT_RAW on most systems (LINKTYPE_RAW 101 in files) */
#define PCAP_DLT_RAW_BSD 14    /* DLT_RAW on OpenBSD */
#define PCAP_DLT_LOOP 108
#define PCAP_DLT_LINUX_SLL 113
#define PCAP_DLT_IPV4 228
#define PCAP_DLT_IPV6 229
#define PCAP_DLT_LINUX_SLL2 276

typedef struct {
    uint8_t family;          /* 4 or 6 */
    uint8_t src[16], dst[16];/* addresses, IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;           /* PCAP_TCP_* */
    const uint8_t *payload;  /* captured payload bytes */
    uint32_t len;            /* payload length on the wire (from the IP length) */
    uint32_t caplen;         /* payload bytes captured: caplen < len when the snap length cut it */
    uint32_t ip_offset;      /* where the IP header starts in the frame */
} pcap_segment;

typedef enum {
    PCAP_LINK_TCP = 0,       /* *seg is a TCP segment */
    PCAP_LINK_OTHER = 1,     /* a valid frame that is not TCP (ARP, UDP, a later fragment) */
    PCAP_LINK_BAD = 2        /* too short or malformed: *why says what */
} pcap_link_status;

/* True when `dlt` is a link type pcap_link_decode understands. */
bool pcap_link_supported(int dlt);
/* A name for a link type ("Ethernet", "Linux cooked v2", ...) or "unknown". */
const char *pcap_link_name(int dlt);

/* Decodes frame[0..caplen) of link type dlt. */
pcap_link_status pcap_link_decode(int dlt, const uint8_t *frame, uint32_t caplen,
                                  pcap_segment *seg, const char **why);

/* Formats an address and port: "127.0.0.1:1883" or "[::1]:1883". */
void pcap_addr_format(uint8_t family, const uint8_t *addr, uint16_t port, char *buf, size_t cap);

#endif
