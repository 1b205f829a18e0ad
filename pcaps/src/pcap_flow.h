/*
 * pcap_flow: a capture in, MQTT events out.
 *
 * Reads every record, finds the TCP connections that carry MQTT (a port in
 * the list, or a CONNECT at the very start of a stream), reassembles each
 * direction (pcap_tcp) and frames and decodes the MQTT packets with
 * libmqttcodec, then hands each event to the caller: a connection opens, a
 * packet, bytes the codec rejects (with its rule id), a gap, a
 * resynchronisation, a note, a close. The commands (dump, check, stats,
 * to-scenario, replay) are all consumers of these events.
 *
 * Views in an event (packet, raw bytes, error, note, conn) are valid only
 * during the callback.
 */
#ifndef PCAP_FLOW_H
#define PCAP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqtt/mqtt.h>

#include "pcaps/src/pcap_reader.h"

/* One MQTT connection, as known so far. */
typedef struct {
    unsigned id;               /* 1, 2, ... in order of appearance */
    uint8_t family;            /* 4 or 6 */
    uint8_t client_addr[16], server_addr[16];
    uint16_t client_port, server_port;
    char client[64], server[64]; /* "127.0.0.1:40000", "[::1]:1883" */
    mqtt_version version;      /* from the CONNECT; guessed when version_guessed */
    bool version_guessed;      /* no CONNECT seen: the version is inferred from the packets */
    bool syn_seen;             /* the capture saw the TCP handshake */
    bool midstream;            /* the capture starts inside this connection */
    int64_t first_sec;         /* time of its first segment */
    uint32_t first_nsec;
    uint64_t packets[2];       /* decoded MQTT packets, by mqtt_side */
    uint64_t bytes[2];         /* TCP payload bytes, by mqtt_side */
} pcap_conn_info;

typedef enum {
    PCAP_EV_OPEN,    /* a new MQTT connection */
    PCAP_EV_PACKET,  /* pkt/raw: a decoded packet */
    PCAP_EV_BAD,     /* raw/err: bytes the codec rejects; err->rule says which rule */
    PCAP_EV_GAP,     /* bytes: lost from the capture (note says what it did to framing) */
    PCAP_EV_RESYNC,  /* bytes: skipped to reach a packet boundary; note says why */
    PCAP_EV_NOTE,    /* note: anything else worth saying (version guessed, truncated stream) */
    PCAP_EV_CLOSE    /* note: how it ended ("FIN from client", "RST from server", "end of capture") */
} pcap_ev_kind;

typedef struct {
    pcap_ev_kind kind;
    const pcap_conn_info *conn;
    mqtt_side from;            /* direction (not meaningful for OPEN and CLOSE) */
    int64_t ts_sec;            /* capture time of the segment that completed it */
    uint32_t ts_nsec;
    int64_t origin_sec;        /* time of the capture's first record (for relative times) */
    uint32_t origin_nsec;
    const mqtt_packet *pkt;    /* PACKET */
    mqtt_version version;      /* PACKET, BAD: the version used to decode */
    const uint8_t *raw;        /* PACKET: the whole packet; BAD: the rejected bytes (at most the frame) */
    size_t raw_len;
    const mqtt_error *err;     /* BAD */
    uint64_t bytes;            /* GAP, RESYNC, NOTE (when it counts bytes) */
    uint64_t stream_offset;    /* PACKET, BAD, GAP, RESYNC: offset in this direction's byte stream */
    const char *note;          /* GAP, RESYNC, NOTE, CLOSE */
    int closer;                /* CLOSE: side that closed first (mqtt_side), -1 if neither */
} pcap_event;

typedef void (*pcap_event_fn)(void *ctx, const pcap_event *ev);

typedef struct {
    const uint16_t *ports;     /* MQTT server ports (the CLI always includes 1883) */
    size_t nports;
    bool no_detect;            /* do not look for CONNECT on other ports */
    size_t max_buffered;       /* bytes of unfinished packets all connections together may buffer
                                  (0 = 256 MiB); beyond it bytes are dropped with a NOTE */
} pcap_flow_options;

typedef struct {
    int linktype;
    uint64_t records;          /* records read */
    uint64_t bad_frames;       /* frames too short or malformed below TCP */
    uint64_t tcp_segments;     /* TCP segments of MQTT connections */
    uint64_t connections;      /* MQTT connections */
    int64_t first_sec, last_sec;
    uint32_t first_nsec, last_nsec;
    char first_bad[200];       /* the first bad frame, for people */
} pcap_flow_summary;

/*
 * Reads the capture to its end and emits every event. Returns 0 when the
 * whole capture was read, -1 when reading stopped on a truncated or corrupt
 * capture (err says where: the file offset). Either way every event before
 * the error was emitted and every connection was closed (PCAP_EV_CLOSE), so
 * nothing decoded is lost. *sum (optional) receives totals.
 */
int pcap_flow_run(pcap_reader *r, const pcap_flow_options *opt, pcap_event_fn fn, void *ctx,
                  pcap_flow_summary *sum, char *err, size_t errlen);

/* "C>S" / "S>C" */
const char *pcap_dir_name(mqtt_side from);

#endif
