/*
 * fz_exec: plays one session against a broker over TCP (net/) and records
 * everything: the bytes each connection sent and received, opens, closes and
 * refusals with wall-clock times (for the pcap), in order.
 *
 * Pacing: after a packet that the broker must answer (CONNECT, SUBSCRIBE,
 * UNSUBSCRIBE, PINGREQ, PUBLISH QoS 1/2, PUBREL) the executor waits for that
 * answer or the close, up to answer_ms, so what the broker sees does not
 * depend on the machine's load (a SUBSCRIBE is in place before another
 * client publishes). At the end every connection that is still open, sent
 * only whole valid packets and was accepted gets a PINGREQ and must answer
 * PINGRESP within hang_ms (the hang oracle). `plain` replays the same
 * session with no waiting and no end check: the cost of the oracles.
 *
 * Over WebSocket (ws_path set) each connection does the HTTP upgrade first,
 * and each step's bytes travel as one binary frame: the session mutations
 * that split a packet over two writes or put several packets in one write
 * are then a packet split across frames and several packets in one frame
 * (MQTT-6.0.0-2: frames are not packet boundaries). The recorded streams
 * are the MQTT bytes inside the frames.
 */
#ifndef FZ_EXEC_H
#define FZ_EXEC_H

#include "fuzz/live/src/fz_session.h"
#include "net/ws.h"

#include <sys/socket.h>

#define FZ_MAX_CONNS 24
#define FZ_MAX_STREAM (1u << 20)

typedef struct {
    uint8_t *p;
    size_t len, cap;
} fz_buf;

typedef enum { FZ_EV_OPEN, FZ_EV_SEND, FZ_EV_RECV, FZ_EV_CLOSE_CLIENT, FZ_EV_CLOSE_BROKER, FZ_EV_REFUSED } fz_event_kind;

typedef struct {
    uint8_t conn;
    uint8_t kind;     /* fz_event_kind */
    uint32_t off, len; /* SEND/RECV: the bytes in the connection's out/in stream */
    int64_t t_us;     /* wall clock, microseconds since the epoch */
} fz_event;

typedef struct {
    int fd;                  /* -1 once closed */
    net_ws *ws;              /* MQTT over WebSocket (--broker ws://...), else NULL */
    uint8_t client;
    mqtt_version version;    /* from the CONNECT it sent, else the session's */
    bool refused, broker_closed, client_closed;
    bool out_ok;             /* everything sent so far is valid packets, CONNECT first and once */
    bool sent_disconnect, accepted;
    bool synced;             /* answered the end-of-session PINGREQs: every answer is in */
    size_t out_parsed, in_framed;
    fz_buf out, in;
    struct sockaddr_storage local, peer;
} fz_conn;

typedef struct {
    fz_conn conn[FZ_MAX_CONNS];
    size_t nconn;
    fz_event *ev;
    size_t nev, evcap;
    int cur[FZ_MAX_CLIENTS];  /* open connection of each client, or -1 */
    bool closed_by_broker[FZ_MAX_CLIENTS]; /* the client's last connection was closed by the broker */
    int refused;              /* connects refused */
    int hang_conn;            /* connection whose PINGREQ got no answer, or -1 */
    size_t sync_ev;           /* events from here on are the end-of-session PINGREQs */
    size_t end_ev;            /* events from here on are the executor's own closing */
    int64_t t0_us;
} fz_run;

typedef struct {
    const char *host;
    uint16_t port;
    const char *ws_path;     /* MQTT over WebSocket with this HTTP path, NULL: plain TCP */
    int connect_ms, answer_ms, hang_ms;
    bool plain;
} fz_exec_opts;

/* Runs s. Returns 0 (the run is recorded in *run, including refusals), -1 on
 * a local failure (out of memory). Free *run with fz_run_free. */
int fz_exec(const fz_session *s, const fz_exec_opts *o, fz_run *run);
void fz_run_free(fz_run *run);

/* Records n bytes on connection c of a run someone else drives (client
 * fuzzing): FZ_EV_SEND appends them to conn.out, FZ_EV_RECV to conn.in; other
 * kinds are events without bytes. */
void fz_run_record(fz_run *run, size_t c, fz_event_kind kind, const uint8_t *b, size_t n);

/* Microseconds since the epoch. */
int64_t fz_now_us(void);

/* Re-arms TCP_QUICKACK on fd: our ACKs go out at once, so a broker without
 * TCP_NODELAY (mosquitto's default) is not held ~40 ms per answer by Nagle
 * waiting for our delayed ACK. Linux re-disables it after reads. */
void fz_quickack(int fd);

/* Frames the next whole packet of b[off..len): its total size, 0 if incomplete,
 * -1 if the Remaining Length is invalid. */
long fz_frame_size(const uint8_t *b, size_t len, size_t off);

#endif
