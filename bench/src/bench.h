/*
 * mqtt-bench: shared types of the load generator.
 *
 * One process runs `threads` workers (one per core by default); each owns an
 * epoll set and a share of the connections, so no connection ever moves
 * between threads and a connection's state needs no lock. The main thread
 * only sets the phase, prints progress from atomic counters, and merges the
 * workers' results once they have stopped.
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "bench/src/bench_hist.h"
#include "mqtt/codec.h"
#include "net/tls.h"

#define BENCH_VERSION "1.1"
#define BENCH_TOPIC_MAX 1024 /* a topic after %n expansion */
#define BENCH_TXQ 64 /* writes awaiting their TX timestamp per publisher */
#define BENCH_PINGS 8 /* PINGREQ markers in flight per connection */
#define BENCH_WINDOW0_MIN 40 /* messages: a marker every 10 at the least */
#define BENCH_WINDOW0_FANOUT 50 /* past this fan-out, the QoS 0 window shrinks */

typedef enum { BENCH_CONN, BENCH_PUB, BENCH_SUB, BENCH_PUBSUB, BENCH_MERGE } bench_mode;

/* Where a connection goes: TCP or TLS, with WebSockets on top when ws is set. */
typedef enum { BENCH_TCP, BENCH_TLS } bench_transport;

typedef struct {
    bench_mode mode;
    char host[256];
    uint16_t port;
    bench_transport transport;
    bool ws;                              /* ws:// or wss:// */
    char ws_path[1024];                   /* the upgrade's HTTP path */
    net_tls_opts tls;
    mqtt_version version;
    int publishers, subscribers, clients; /* clients: conn mode */
    int slow_subscribers;                 /* more subscribers that never read (a stuck consumer) */
    int expect_pubs;                      /* sub mode: publishers elsewhere, each sending --count */
    bool persistent;                      /* subscribers keep their session (clean 0 / Clean Start 0) */
    uint32_t session_expiry;              /* 5.0: Session Expiry Interval of persistent sessions */
    double reconnect_every, offline;      /* subscribers leave every S s for S s (0 = never) */
    double conn_rate;                     /* new connections per second, 0 = all at once */
    const char *pub_topic, *sub_topic;    /* patterns: %i index, %c client id */
    const char *share_group;              /* subscribe as $share/GROUP/filter */
    int qos, sub_qos;
    bool retain;
    size_t payload_min, payload_max;
    double rate;                          /* messages per second per publisher, 0 = max */
    uint64_t count;                       /* messages per publisher, 0 = use duration */
    double duration, warmup, drain;
    int inflight;                         /* QoS 1/2 window per publisher */
    int qos0_window;                      /* QoS 0: messages the publishers may together be
                                           * ahead of the broker's reading (PINGREQ markers), 0 = no limit */
    const char *client_prefix;
    const char *username, *password;
    uint16_t keepalive;
    int connect_timeout_ms;
    const char *json, *csv, *hist;
    int threads;
    char **source_ips;
    int n_source_ips;
    uint16_t lport_lo, lport_hi;
    pid_t broker_pid;
    bool quiet;
    bool app_rx_time;                     /* receive time from read(), not the kernel's */
    char **merge_files;                   /* merge mode */
    int n_merge_files;
} bench_opts;

/* Errors are counted by kind, never fatal mid-run. */
typedef enum {
    BE_CONNECT,    /* TCP connect refused or failed */
    BE_TIMEOUT,    /* not ready within --connect-timeout */
    BE_TLS,        /* TLS handshake failed */
    BE_CONNACK,    /* CONNACK with a refusal code */
    BE_SUBACK,     /* SUBACK refused a filter */
    BE_DISCONNECT, /* the broker sent DISCONNECT (5.0, with a reason code) */
    BE_CLOSED,     /* the connection closed or failed mid-run */
    BE_PROTOCOL,   /* undecodable bytes or a packet not expected here */
    BE_PUBREFUSED, /* PUBACK/PUBREC with a reason code >= 0x80 */
    BE_SESSION,    /* a persistent session came back without Session Present */
    BE_KINDS
} bench_error_kind;

extern const char *const bench_error_names[BE_KINDS];

/* Counters one worker publishes for the progress line (relaxed atomics). */
typedef struct {
    _Atomic uint64_t sent;      /* PUBLISH queued */
    _Atomic uint64_t expected;  /* deliveries those owe: sent x matching subscriptions */
    _Atomic uint64_t received;  /* new messages of this run (no duplicates) */
    _Atomic uint64_t inflight;  /* QoS 1/2 not completed */
    _Atomic uint64_t connected; /* ready now */
    _Atomic uint64_t settled;   /* ready or failed before ready */
    _Atomic uint64_t errors;
    _Atomic uint64_t pubs_done; /* publishers that sent their --count */
    _Atomic uint64_t pubs_flushed; /* publishers the broker has read to the end (drain) */
} bench_live;

/* What one (publisher, subscriber) pair delivered: see bench_track.h. */
struct bench_track;

typedef enum { ROLE_PUB, ROLE_SUB, ROLE_CONN } bench_role;

typedef enum {
    CS_WAIT,       /* not started yet */
    CS_TCP,        /* non-blocking connect in progress */
    CS_TLS,        /* TLS handshake */
    CS_WS,         /* WebSocket upgrade request sent */
    CS_CONNACK,    /* CONNECT sent */
    CS_SUBACK,     /* SUBSCRIBE sent */
    CS_READY,
    CS_AWAY,       /* left on purpose (--reconnect), back at back_at */
    CS_DEAD
} bench_cstate;

typedef struct {
    uint8_t *data;
    size_t len, cap, off; /* unread / unsent bytes are data[off, len) */
} bench_buf;

struct bench_worker;

typedef struct bench_conn {
    struct bench_worker *w;
    bench_role role;
    int index;                /* within its role */
    int global;               /* across all connections: source address choice */
    bench_cstate state;
    int fd;
    net_tls *tls;
    struct net_ws *ws;        /* WebSocket framing, after the upgrade */
    char ws_key[32];          /* the upgrade's Sec-WebSocket-Key */
    bool want_out;            /* EPOLLOUT armed */
    char client_id[64];
    char *topic;              /* publisher: expanded topic; subscriber: filter */
    bool topic_n;             /* publisher: topic has %n, the message's sequence number */
    bench_buf in, out;
    int64_t t_start, t_ready, last_tx;
    /* publisher */
    uint64_t seq, sent, acked;
    uint32_t fanout;          /* deliveries each message owes (matching subscriptions) */
    bool done;                /* sent its --count */
    int64_t next_due;
    size_t stamp_pos, stamp_len; /* last message's stamp in `out`, while out.len == stamp_len */
    int inflight, window;     /* window: --inflight, capped by the server's Receive Maximum */
    /* PINGREQ markers: the broker answers PINGREQ in order after every packet
     * before it (MQTT-3.12.4-1), so a PINGRESP says it has read every message
     * sent before its PINGREQ. ping_seq holds `seq` at each PINGREQ in flight. */
    uint64_t ping_seq[BENCH_PINGS];
    int ping_head, ping_n;
    uint64_t ping_mark;       /* seq at the last PINGREQ */
    uint64_t confirmed;       /* messages the broker has read */
    uint64_t window0;         /* QoS 0: its share of --qos0-window, in messages (0 = none) */
    bool final_ping, flushed; /* drain: the last marker sent / answered */
    int64_t blocked_since;    /* publisher: could not send since (0 = not blocked) */
    int64_t stall_total, stall_max; /* measured time blocked (window or socket full) */
    uint16_t next_id;
    uint8_t *ids;             /* 65536-bit set of packet ids in flight (QoS 1/2) */
    /* subscriber */
    uint8_t granted;
    bool slow;                /* subscribes, then never reads: owed nothing */
    bool paused;              /* not reading (EPOLLIN off) */
    int64_t leave_at, back_at; /* --reconnect: when it next leaves / comes back */
    uint64_t reconnects;
    /* SO_TIMESTAMPING TX: the publisher's writes awaiting the kernel's send
     * time, keyed by the offset of their last byte (plain TCP only). */
    bool tx_on;
    uint64_t tx_bytes;        /* bytes written since the timestamps were switched on */
    struct { uint32_t key; int64_t t; } tx_q[BENCH_TXQ];
    int tx_head, tx_n;
    uint64_t received, foreign, redelivered;
    uint8_t *qos2_ids;        /* ids received at QoS 2 awaiting PUBREL */
    struct bench_track *track;
} bench_conn;

/* Phases, set by the main thread, read by the workers. */
typedef enum { PH_CONNECT, PH_RUN, PH_DRAIN, PH_STOP } bench_phase;

struct bench_run;

typedef struct bench_worker {
    struct bench_run *run;
    int id, epfd, timerfd;
    int64_t timer_at;          /* when the timerfd is armed for, 0 = not */
    pthread_t thread;
    bench_conn **conns;        /* every connection of this worker, in start order */
    int n;
    bench_conn **pubs;         /* its publishers */
    int npubs;
    int next_connect;          /* index into conns of the next one to start */
    int64_t next_connect_at, connect_interval;
    int64_t next_sweep;
    uint64_t rng;
    bench_hist lat;            /* from when each message was due (CO-corrected) */
    bench_hist lat_sent;       /* from when it was sent (what most tools report) */
    bench_hist to_wire;        /* publisher: write() called -> the kernel sent its last byte */
    bench_hist conn_lat;       /* connect start -> CONNACK (or SUBACK) */
    pthread_mutex_t snap_lock; /* guards snap: the progress line's copy of lat */
    bench_hist snap;
    bench_live live;
    uint64_t errors[BE_KINDS];
    char first_error[BE_KINDS][160];
    uint64_t sent_measured, received_measured; /* after warm-up */
    uint64_t dup_seen, ooo_seen, foreign;      /* as they arrive (the final counts come from the pairs) */
    int64_t last_send;         /* last PUBLISH queued (payload clock) */
    int64_t scratch_len;
    uint8_t *scratch;          /* payload being built */
} bench_worker;

typedef struct bench_run {
    const bench_opts *o;
    uint32_t run_id;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    net_tls_ctx *tls_ctx;
    bench_conn *conns;         /* publishers, then subscribers (or conn clients) */
    int nconns;
    bench_worker *workers;
    int nworkers;
    _Atomic int phase;
    _Atomic int64_t t_run;     /* start of publishing (monotonic ns) */
    _Atomic int64_t t_measure; /* end of warm-up */
    _Atomic int64_t t_end;     /* publishing stops */
    bool rate_clock_real;      /* payload timestamps from CLOCK_REALTIME (pub/sub split) */
    int64_t clock_offset;      /* payload clock - monotonic clock */
    int64_t real_offset;       /* CLOCK_REALTIME - monotonic (kernel receive stamps) */
} bench_run;

/* Monotonic clock in ns; bench_payload_clock(run) is the clock of the stamps
 * in payloads: the same in pubsub mode, CLOCK_REALTIME-based when publishers
 * and subscribers run in different processes (pub, sub). */
int64_t bench_now(void);
int64_t bench_payload_clock(const bench_run *r);

/* Counts an error of kind k on connection c; the first message of each kind is kept. */
void bench_error(bench_worker *w, bench_error_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
