/*
 * fz_client: client fuzzing, the same engine from the server's seat.
 *   mqtt-fuzz --client 'CMD {host} {port}' [--runs N] [--seed S] [--out DIR]
 * mqtt-fuzz listens on a free port of 127.0.0.1 and, for every session,
 * starts the client under test (its own process group, stderr to a log) and
 * plays a hostile broker: valid answers built with the codec (CONNACK,
 * SUBACK, UNSUBACK, PUBACK/PUBREC/PUBCOMP, PINGRESP) and unsolicited flows
 * (PUBLISH on the client's topics, PUBREL, acks for unknown packet ids,
 * server DISCONNECT), each sometimes mutated with fz_mutate's operators
 * (garbage, lengths, flags, strings, properties, split, dropped: never a
 * CONNACK), plus packets over the client's Maximum Packet Size, topics with
 * wildcards and a stall in the middle of a packet.
 *
 * Oracles, each a finding class:
 *   crash: the client died of a signal we did not send, or printed a
 *          sanitizer report (AddressSanitizer, UndefinedBehaviorSanitizer,
 *          LeakSanitizer);
 *   hang:  after we sent bytes that break the protocol (what the codec
 *          refuses from a server, including a packet over the client's
 *          Maximum Packet Size) the client neither closed the connection nor
 *          exited within --hang-ms (MQTT-4.8.0-1 in 3.1.1, MQTT-4.13.1-1 in
 *          5.0: MUST close);
 *   spec:  what the client sent does not decode (the codec's rule), or its
 *          first packet is not CONNECT (MQTT-3.1.0-1).
 * A session's record is the list of our writes, each with the number of
 * client bytes seen before it: replayed (--replay FILE), a write waits for
 * that many client bytes (up to --answer-ms), so the minimiser (ddmin over
 * the writes, then over their bytes) and the reproducer need no seed.
 */
#ifndef FZ_CLIENT_H
#define FZ_CLIENT_H

#include "fuzz/live/src/fz_campaign.h"
#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"
#include "fuzz/live/src/fz_opts.h"
#include "fuzz/live/src/fz_rng.h"

#define FZ_CMAX_WRITES 96
#define FZ_CMAX_WRITE 70000

typedef struct {
    uint32_t anchor;   /* client bytes seen before this write */
    bool close;        /* close the connection instead of writing */
    uint32_t len;
    uint8_t *bytes;    /* owned */
} fz_cwrite;

typedef struct {
    fz_cwrite w[FZ_CMAX_WRITES];
    size_t n;
} fz_cscript;

void fz_cscript_free(fz_cscript *s);
int fz_cscript_add(fz_cscript *s, uint32_t anchor, bool close, const uint8_t *b, size_t len);
int fz_cscript_copy(fz_cscript *dst, const fz_cscript *src);
/* Text form, one write a line: "after N send HEX" / "after N close". */
int fz_cscript_write(const fz_cscript *s, FILE *fp);
int fz_cscript_read(fz_cscript *s, FILE *fp, char *err, size_t errlen);

/* What the client sent so far, as the hostile broker knows it. */
typedef struct {
    mqtt_version version;
    bool connected;            /* we sent a CONNACK that accepts */
    uint32_t max_packet_size;  /* the client's (0: none) */
    char topics[4][96];        /* topics that match its filters, or that it published to */
    int ntopics;
    uint16_t next_id;
} fz_cpeer;

/* The hostile broker's next moves. answer: the answer (maybe mutated) to the
 * client packet p, into script s (anchor given); inject: one unsolicited
 * write. Both return the number of writes added. */
int fz_hostile_answer(fz_rng *r, fz_cpeer *peer, const mqtt_packet *p, uint32_t anchor, fz_cscript *s);
int fz_hostile_inject(fz_rng *r, fz_cpeer *peer, uint32_t anchor, fz_cscript *s);

/* One session against the client: live (rng given: decisions as the client
 * speaks, recorded into *script) or replayed (rng NULL: *script played).
 * Returns 1 with *f filled when an oracle fired, 0 when none did, -1 when
 * the client could not be started. *run holds the traffic (conn 0: out =
 * the client's bytes, in = ours), for the pcap; free it with fz_run_free. */
typedef struct {
    const fz_opts *o;
    int listen_fd;
    uint16_t port;
    char logpath[600];
    long execs;
    long writes, violations, closed_in_time; /* what the campaign did: for its closing line */
} fz_cctx;

int fz_client_session(fz_cctx *x, fz_rng *r, fz_cscript *script, fz_run *run, fz_finding *f);

/* The client-fuzzing campaign: returns 0, or 2 when it could not start. */
int fz_client_campaign(const fz_opts *o, fz_stats *st);

#endif
