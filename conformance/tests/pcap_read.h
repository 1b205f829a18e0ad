/*
 * A small, strict reader of the captures the runner writes, for tests: a
 * classic pcap with Ethernet, IPv4 and TCP, turned back into TCP streams
 * (one per client port) with each direction's payload, the flags seen and
 * the record timestamps. It checks what Wireshark relies on: every payload
 * segment starts where the previous one of its direction ended (sequence
 * numbers relative to the SYN), and IP and TCP checksums are correct.
 */
#ifndef CONF_TEST_PCAP_READ_H
#define CONF_TEST_PCAP_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TR_CLIENT = 0, TR_SERVER = 1, TR_MAX_STREAMS = 16 };

typedef struct {
    uint8_t client_ip[4], server_ip[4];
    uint16_t client_port, server_port;
    uint8_t *data[2];          /* payload per direction (malloc'd) */
    size_t len[2];
    bool syn, synack, established;
    bool fin[2], rst[2];       /* which side sent FIN / RST */
    int64_t first_us, last_us; /* timestamps of its first and last record */
} tr_stream;

typedef struct {
    tr_stream s[TR_MAX_STREAMS];
    size_t n;
    size_t records;
    int64_t first_us, last_us;
    bool ordered;              /* record timestamps never go back */
} tr_capture;

/* Reads path; the server is the side using server_port. Returns 0, or -1
 * with err filled (what is wrong and at which record). */
int tr_read(const char *path, uint16_t server_port, tr_capture *out, char *err, size_t errlen);
void tr_free(tr_capture *c);

#endif
