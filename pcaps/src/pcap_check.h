/*
 * pcap_check: every packet and every exchange of a capture against the spec
 * of the connection's negotiated version. Consumes pcap_flow events, reports
 * violations, each with the normative statement id it breaks (the 3.1.1 id
 * in 3.1 and 3.1.1 connections, the 5.0 id in 5.0 ones; the same string
 * means different things in the two, so a violation carries its version).
 *
 * Checked (beyond everything the codec rejects, reported with its rule):
 *   first packet CONNECT, no second CONNECT, CONNACK first from the server,
 *   nothing after a refused CONNACK or after DISCONNECT, packet ids unused
 *   while in flight, acknowledgements that match what is in flight (PUBACK,
 *   PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK), SUBACK/UNSUBACK reason code
 *   counts, delivered QoS not above the granted QoS, keep alive enforcement,
 *   and the 5.0 limits (Maximum QoS, Retain Available, Receive Maximum, Topic
 *   Alias Maximum, Maximum Packet Size) each side announced.
 * Checks that need the whole history (unknown ids, first packets) are only
 * made on connections seen from their start, with no gap, and with a fresh
 * session (session present 0): otherwise the capture cannot prove a fault.
 */
#ifndef PCAP_CHECK_H
#define PCAP_CHECK_H

#include "pcaps/src/pcap_flow.h"

typedef struct {
    const pcap_event *ev;      /* the event that shows it (its packet, time, connection) */
    mqtt_side by;              /* who broke the rule (may differ from ev->from: keep alive) */
    const char *rule;          /* "MQTT-3.3.1-4" */
    mqtt_version version;      /* the spec the rule id refers to */
    const char *what;          /* the packet type or "stream" */
    const char *message;       /* for people */
} pcap_violation;

typedef void (*pcap_violation_fn)(void *ctx, const pcap_violation *v);

typedef struct pcap_checker pcap_checker;

pcap_checker *pcap_checker_new(pcap_violation_fn fn, void *ctx);
/* Feed every event of a run, in order. */
void pcap_checker_event(pcap_checker *k, const pcap_event *ev);
/* Packets looked at so far. */
uint64_t pcap_checker_packets(const pcap_checker *k);
void pcap_checker_free(pcap_checker *k);

/* Every rule id pcap_check can report, for tests: NULL-terminated list of
 * {version, id} pairs ("4", "MQTT-3.1.0-1", "5", ...). */
extern const char *const pcap_check_rules[];

#endif
