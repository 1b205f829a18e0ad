/*
 * pcap_writer: write MQTT-over-TCP traffic as a classic pcap file that
 * Wireshark and tshark open and decode as MQTT.
 *
 * The conversation is given as what each side sent (a byte stream per side,
 * in the order it happened); the writer synthesizes the packets around it:
 * Ethernet (DLT_EN10MB) or raw IP (LINKTYPE_RAW) framing, IPv4 or IPv6
 * headers with the real addresses, TCP headers with the real ports,
 * consistent sequence and acknowledgement numbers, checksums, the
 * three-way handshake and the closing FIN/RST. Timestamps are the caller's.
 *
 * Self-contained: libc only (no libpcap), so any part can link it
 * ($(PCAP_WRITER_SRCS) in pcaps/pcaps.mk). Not thread-safe per writer.
 *
 * Typical use (the conformance runner, one scenario's traffic):
 *
 *   char err[256];
 *   pcap_writer *w = pcap_writer_open("reports/x.pcap", PCAP_WRITER_ETHERNET, err, sizeof err);
 *   pcap_writer_conn c;
 *   pcap_writer_conn_init(&c, (struct sockaddr *)&local, (struct sockaddr *)&peer);
 *   pcap_writer_handshake(w, &c, t0_us);
 *   pcap_writer_send(w, &c, PCAP_WRITER_CLIENT, connect_bytes, n, t1_us);
 *   pcap_writer_send(w, &c, PCAP_WRITER_SERVER, connack_bytes, m, t2_us);
 *   pcap_writer_fin(w, &c, PCAP_WRITER_CLIENT, t3_us);
 *   if (pcap_writer_close(w) != 0) ... (a write error happened)
 */
#ifndef PCAP_WRITER_H
#define PCAP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sockaddr;

typedef struct pcap_writer pcap_writer;

/* Link types of the file (their LINKTYPE_ numbers). */
typedef enum {
    PCAP_WRITER_ETHERNET = 1, /* Ethernet II frames with made-up MAC addresses */
    PCAP_WRITER_RAW = 101     /* bare IPv4/IPv6 packets */
} pcap_writer_link;

/* Which side sends. */
enum { PCAP_WRITER_CLIENT = 0, PCAP_WRITER_SERVER = 1 };

/* One TCP connection's addresses and sequence state. Initialise with
 * pcap_writer_conn_init*, then only pass it to the functions below. */
typedef struct {
    uint8_t family;            /* 4 or 6 */
    uint8_t addr[2][16];       /* [PCAP_WRITER_CLIENT], [PCAP_WRITER_SERVER]; IPv4 in 4 bytes */
    uint16_t port[2];
    uint32_t seq[2];           /* next sequence number each side sends */
    uint16_t ip_id[2];
    bool open;                 /* handshake written */
} pcap_writer_conn;

/* Creates (truncates) path and writes the pcap header. NULL on error (err filled). */
pcap_writer *pcap_writer_open(const char *path, pcap_writer_link link, char *err, size_t errlen);

/* Same on an open stream, which the writer then owns (pcap_writer_close closes it). */
pcap_writer *pcap_writer_open_stream(FILE *fp, pcap_writer_link link, char *err, size_t errlen);

/* Largest TCP payload per segment (default 1460; 1..65000). Longer sends are split. */
void pcap_writer_set_mss(pcap_writer *w, uint32_t mss);

/* Whether each pcap_writer_send is followed by a pure ACK from the peer (default true). */
void pcap_writer_set_acks(pcap_writer *w, bool acks);

/* Flushes and closes. Returns 0, or -1 if any write failed (the file is then incomplete). */
int pcap_writer_close(pcap_writer *w);

/* A connection from client to server, both AF_INET or both AF_INET6 (as from
 * getsockname/getpeername). Initial sequence numbers derive from the ports.
 * Returns 0, or -1 if the families are unsupported or differ. */
int pcap_writer_conn_init(pcap_writer_conn *c, const struct sockaddr *client,
                          const struct sockaddr *server);

/* Same from text addresses ("127.0.0.1", "::1"). Returns 0 or -1. */
int pcap_writer_conn_init_text(pcap_writer_conn *c, const char *client_ip, uint16_t client_port,
                               const char *server_ip, uint16_t server_port);

/* SYN, SYN/ACK, ACK at time ts_us (microseconds since the epoch). Returns 0 or -1. */
int pcap_writer_handshake(pcap_writer *w, pcap_writer_conn *c, int64_t ts_us);

/* `len` bytes sent by `side`, as segments of at most the MSS (PSH on the
 * last), then (unless disabled) the peer's ACK. Writes the handshake first if
 * it was not written. Returns 0 or -1. */
int pcap_writer_send(pcap_writer *w, pcap_writer_conn *c, int side, const void *data, size_t len,
                     int64_t ts_us);

/* FIN from `side` and the peer's FIN/ACK and the final ACK (a graceful close). */
int pcap_writer_fin(pcap_writer *w, pcap_writer_conn *c, int side, int64_t ts_us);

/* RST from `side` (an abrupt close). */
int pcap_writer_rst(pcap_writer *w, pcap_writer_conn *c, int side, int64_t ts_us);

/* One segment exactly as given (explicit sequence number and TCP flags, no
 * state change): for tests that need retransmissions, reordering or holes. */
int pcap_writer_segment(pcap_writer *w, const pcap_writer_conn *c, int side, uint8_t flags,
                        uint32_t seq, uint32_t ack, const void *data, size_t len, int64_t ts_us);

/* An IP packet framed for the writer's link type (for rewriting captures). */
int pcap_writer_ip_packet(pcap_writer *w, const void *ip, size_t len, int64_t ts_us);

/* Bytes written so far (including the file header). */
uint64_t pcap_writer_bytes(const pcap_writer *w);

#endif
