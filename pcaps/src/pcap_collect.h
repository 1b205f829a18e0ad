/*
 * pcap_collect: every event of a capture run kept in memory, in order, with a
 * copy of its bytes, for the commands that need the whole exchange before they
 * act (replay, to-scenario). Use pcap_collect_event as the pcap_cli_run callback.
 */
#ifndef PCAP_COLLECT_H
#define PCAP_COLLECT_H

#include "pcaps/src/pcap_cli.h"

typedef struct {
    pcap_ev_kind kind;
    unsigned conn;          /* connection id */
    int dir;                /* who sent it (mqtt_side) */
    int64_t ns;             /* capture time */
    mqtt_version version;   /* of the packet, or of the connection for other events */
    uint8_t *raw;           /* copy of the event's bytes (owned), NULL if none */
    size_t len;
    int closer;             /* CLOSE: who closed; OPEN: 1 if the capture starts mid-stream; else -1 */
    char *note;             /* copy of the event's note (owned), NULL if none */
} pcap_item;

/* Most bytes a collection keeps (the events' bytes and notes and their
 * items) when max_held is 0: a capture, compressed perhaps 1000:1, cannot
 * make replay or to-scenario hold more. */
#define PCAP_COLLECT_MAX_BYTES ((size_t)512 << 20)

typedef struct {
    const pcap_cli *cli;    /* its connection filter applies */
    pcap_item *items;
    size_t n, cap;
    bool oom;               /* an event was lost to a failed allocation */
    size_t held;            /* bytes kept, counted against max_held */
    size_t max_held;        /* 0: PCAP_COLLECT_MAX_BYTES */
    bool over;              /* max_held was reached: later events were not kept */
} pcap_collection;

/* pcap_event_fn that appends ev to the pcap_collection ctx. */
void pcap_collect_event(void *ctx, const pcap_event *ev);
/* Frees the items and their copies. */
void pcap_collection_free(pcap_collection *c);

#endif
