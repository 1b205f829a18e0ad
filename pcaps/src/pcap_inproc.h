/*
 * mqtt-pcap replay --inproc: the reference broker's core in this process
 * (broker/src/broker_driver.h, with the broker's default configuration, as
 * `mqtt-broker -p 0` runs), on a virtual clock (pcap_inproc.c).
 */
#ifndef PCAP_INPROC_H
#define PCAP_INPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct pcap_inproc pcap_inproc;

/* NULL with err filled when the broker cannot be set up. */
pcap_inproc *pcap_inproc_new(char *err, size_t errlen);
void pcap_inproc_free(pcap_inproc *ip);

/* The virtual time, in milliseconds. */
int64_t pcap_inproc_now(const pcap_inproc *ip);

/* A connection to the broker (a non-blocking socket; close it to end it), or -1 with errno. */
int pcap_inproc_connect(pcap_inproc *ip, const char *peer);

/* Sends all of p on fd (the broker reads as it goes). Returns n, -1 (errno
 * set; EPIPE when the broker closed), or NET_TIMEOUT when it stopped reading. */
ssize_t pcap_inproc_send(pcap_inproc *ip, int fd, const void *p, size_t n);

/* As net_recv_some, on the virtual clock: what the broker sent on fd, waiting
 * up to timeout_ms of virtual time (the broker's timers run meanwhile).
 * Returns the count, 0 when the broker closed, -1, or NET_TIMEOUT. */
ssize_t pcap_inproc_recv(pcap_inproc *ip, int fd, void *buf, size_t cap, int timeout_ms);

/* Lets virtual time pass until `due` (the broker's timers run on the way). */
void pcap_inproc_sleep_until(pcap_inproc *ip, int64_t due);

#endif
