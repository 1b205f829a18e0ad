/*
 * broker_core: the sans-I/O protocol core of mqtt-broker.
 *
 * The core owns sessions, subscriptions (a topic trie), retained messages,
 * wills and every timer of the broker. It never touches a socket or a clock:
 * the caller (the epoll loop in event_loop.c, the Criterion tests, the fuzzer
 * in fuzz/fuzz_broker.c, pcap replay) feeds each connection the bytes it
 * received, passes the current time `now` (milliseconds on any monotonic
 * clock) into every call, and collects the bytes the core queued for each
 * connection. One core is single-threaded: call it from one thread only.
 *
 * Typical driver loop:
 *
 *     broker_core *core = broker_core_new(&opts, now);
 *     broker_conn *c = broker_conn_open(core, "127.0.0.1:5000", io, now);
 *     broker_conn_feed(c, bytes, n, now);          // bytes read from the peer
 *     for (broker_conn *d; (d = broker_core_next_dirty(core)); ) {
 *         const uint8_t *out; size_t len = broker_conn_output(d, &out);
 *         ... write up to len bytes, then broker_conn_output_done(d, written, now);
 *         if (broker_conn_should_close(d) && nothing left to write) {
 *             close the transport; broker_conn_close(d, now);  // frees d
 *         }
 *         ... read from d only while broker_conn_wants_read(d)
 *     }
 *     call broker_core_tick(core, now) when now >= broker_core_next_deadline(core)
 *     ...
 *     broker_core_free(core);                      // frees every remaining conn
 *
 * Lifetimes: a broker_conn stays valid until broker_conn_close() or
 * broker_core_free(); the core never frees one by itself, even when it decides
 * to close it (it only sets should_close). Pointers returned by
 * broker_conn_output() stay valid until the next call into the core.
 *
 * Memory exhaustion aborts the process with a message (like redis): every
 * allocation of the core goes through broker_xmalloc() and friends.
 */
#ifndef BROKER_CORE_H
#define BROKER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BROKER_VERSION "0.1.0"

typedef struct broker_core broker_core;
typedef struct broker_conn broker_conn;
typedef struct broker_acl broker_acl; /* broker_acl.h */

/* Severity of a log line. BROKER_LOG_PACKET lines trace every packet (-v). */
typedef enum {
    BROKER_LOG_ERROR = 0,
    BROKER_LOG_WARNING = 1,
    BROKER_LOG_NOTICE = 2,
    BROKER_LOG_INFO = 3,
    BROKER_LOG_DEBUG = 4,
    BROKER_LOG_PACKET = 5
} broker_log_level;

/* Receives one log line (no trailing newline, valid during the call only). */
typedef void (*broker_log_fn)(void *ctx, broker_log_level level, const char *line);

/*
 * Broker behaviour. Fill with broker_options_default(), then change fields.
 * The names follow mosquitto.conf where an equivalent exists.
 */
typedef struct {
    bool allow_anonymous;          /* false: CONNECT without a user name is refused (0x05 / 0x87); the
                                      default of every policy (broker_core_set_policy overrides it) */
    uint16_t max_keepalive;        /* 3.x clients asking more are refused (0x02, as mosquitto);
                                      5.0 clients get a Server Keep Alive of this value */
    uint32_t max_queued_messages;  /* per session, QoS 1/2 while offline and anything while the
                                      connection is congested; 0 = unlimited */
    uint64_t max_queued_bytes;     /* per session, payload bytes queued (as max_queued_messages:
                                      the first limit reached drops); 0 = no limit (mosquitto) */
    uint16_t max_inflight_messages;/* unacknowledged QoS 1/2 PUBLISH per client (and the Receive
                                      Maximum announced to 5.0 clients); 0 = 65535 */
    uint32_t message_size_limit;   /* largest PUBLISH payload accepted, 0 = no limit */
    uint32_t max_packet_size;      /* largest packet accepted from a client (announced to 5.0 clients as
                                      Maximum Packet Size; bigger: 0x95), 0 = protocol maximum */
    uint32_t max_connect_size;     /* most bytes a client may send before its CONNECT is complete
                                      (a CONNECT announcing more is refused, connection closed);
                                      default 32768, 0 = the packet limit only */
    uint16_t max_topic_levels;     /* most levels in a topic name or filter (more: SUBACK 0x97 / 3.x
                                      0x80, PUBLISH acked 0x90 and dropped); default 200, as
                                      mosquitto's TOPIC_HIERARCHY_LIMIT; 0 = no limit */
    uint16_t max_filter_length;    /* longest topic filter in bytes (more: SUBACK 0x97 / 0x80);
                                      default 65535 (the protocol's), 0 = 65535 */
    uint64_t memory_limit;         /* most bytes the core may hold (broker_mem_held: messages,
                                      connection buffers, sessions, queues), as mosquitto's: a
                                      PUBLISH that would exceed it is dropped and its client
                                      disconnected (0x97), CONNECTs are refused (0x97 / 3.x 0x03)
                                      while it is reached, deliveries are dropped (counted);
                                      0 = no limit (default) */
    uint32_t sys_interval;         /* seconds between $SYS/broker/... updates, 0 = none */
    bool retain_available;         /* false: PUBLISH with RETAIN is refused (0x9A) */
    uint8_t max_qos;               /* 0..2: highest QoS granted / accepted */
    uint16_t max_topic_alias;      /* Topic Alias Maximum announced to 5.0 clients (mosquitto: 10) */
    size_t out_high_water;         /* pending output bytes above which a connection is congested:
                                      nothing more is queued in it and its publishers are throttled */
    uint32_t stall_ms;             /* a backlogged connection throttles its publishers for at most
                                      this long per backlog, then its queue limit drops instead
                                      (default 1000) */
    bool trace_packets;            /* log every packet in and out (BROKER_LOG_PACKET) */
    bool persistence;              /* journal every change to retained messages and persistent
                                      sessions (broker_core_journal), see "Persistence" below */
    broker_log_fn log;             /* NULL: no log */
    void *log_ctx;
} broker_options;

/* Counters, as published under $SYS/broker/. */
typedef struct {
    uint64_t bytes_received, bytes_sent;
    uint64_t packets_received, packets_sent;
    uint64_t publish_received, publish_sent, publish_dropped;
    uint64_t clients_connected, clients_maximum;
    uint64_t sessions;             /* connected and disconnected (persistent) sessions */
    uint64_t subscriptions;
    uint64_t retained;
} broker_stats;

/* Fills *opts with the defaults (those of mosquitto 2.0 where they exist). */
void broker_options_default(broker_options *opts);

/* A new core. The options are copied. Never NULL (aborts on memory exhaustion). */
broker_core *broker_core_new(const broker_options *opts, int64_t now);

/* Frees the core, every connection still open and every session. */
void broker_core_free(broker_core *core);

/*
 * Runs the timers due at `now`: keep alive expiry (MQTT-3.1.2-24 / 5.0
 * MQTT-3.1.2-22), delayed wills, session expiry, message expiry in queues,
 * $SYS updates, stalled congestion. Returns broker_core_next_deadline().
 */
int64_t broker_core_tick(broker_core *core, int64_t now);

/* The time at which broker_core_tick() has work to do (never later than
 * one second after the last tick). */
int64_t broker_core_next_deadline(const broker_core *core);

/* Starts a clean shutdown: every connection gets DISCONNECT 0x8B (5.0) and
 * should_close. Wills are not published. Idempotent. */
void broker_core_shutdown(broker_core *core, int64_t now);

/*
 * The next connection whose output, read interest or close state changed
 * since it was last returned, or NULL. Each returned connection is removed
 * from the set; the driver writes its output, updates its interest and
 * closes it as needed.
 */
broker_conn *broker_core_next_dirty(broker_core *core);

/* Number of open connections (including those waiting to be closed). */
size_t broker_core_conn_count(const broker_core *core);

/* Copies the counters into *out. */
void broker_core_stats(const broker_core *core, broker_stats *out);

/*
 * A new network connection. `peer` (e.g. "127.0.0.1:5000") names it in log
 * lines and is copied; `io` is the driver's handle, returned by
 * broker_conn_io(). The connection must send CONNECT first (MQTT-3.1.0-1).
 */
broker_conn *broker_conn_open(broker_core *core, const char *peer, void *io, int64_t now);

/*
 * Bytes received from the peer. Complete packets are decoded and handled at
 * once; a partial packet is kept until the rest arrives. Bytes fed after the
 * core decided to close the connection are ignored (MQTT-3.1.4-5 / 5.0
 * MQTT-3.1.4-6). May queue output on this and other connections.
 */
void broker_conn_feed(broker_conn *c, const uint8_t *data, size_t len, int64_t now);

/* The bytes waiting to be sent to the peer: sets *data and returns their count. */
size_t broker_conn_output(const broker_conn *c, const uint8_t **data);

/* The driver sent the first n bytes of broker_conn_output(). */
void broker_conn_output_done(broker_conn *c, size_t n, int64_t now);

/* False while the connection is throttled (a subscriber it publishes to
 * cannot keep up) or closing: the driver should not read from it. */
bool broker_conn_wants_read(const broker_conn *c);

/* True once the core decided to close the connection: send what is left of
 * the output, then close the transport and call broker_conn_close(). */
bool broker_conn_should_close(const broker_conn *c);

/*
 * The transport is gone (peer closed, I/O error, or the driver closed it
 * after should_close). If the core had not decided to close it, this is an
 * abnormal disconnection: the Will is published (or its delay starts).
 * Frees c.
 */
void broker_conn_close(broker_conn *c, int64_t now);

/* The driver's handle given to broker_conn_open(). */
void *broker_conn_io(const broker_conn *c);

/* The client identifier once CONNECT was accepted, else "" (valid while c is). */
const char *broker_conn_client_id(const broker_conn *c);

/* ---------------------------------------------------------------- security */

/* Checks a user name and password (any bytes); true = accepted. */
typedef bool (*broker_password_fn)(void *ctx, const char *username, const uint8_t *password, size_t len);

/*
 * Authentication and authorization of the clients of one listener (or of
 * all, without per_listener_settings), as mosquitto 2.0:
 *  - a CONNECT without a user name is accepted only with allow_anonymous;
 *  - with check_password, a user name must come with its password
 *    (a failure is logged without the password);
 *  - use_identity_as_username: the Common Name of the verified client
 *    certificate (broker_conn_set_identity) is the user name, the
 *    CONNECT's user name and password are ignored, and a connection
 *    without one is refused;
 *  - refusals: CONNACK 0x05 (3.x) / 0x87 Not authorized (5.0);
 *  - acl (broker_acl.h): publishes not allowed are dropped (5.0 PUBACK /
 *    PUBREC 0x87), subscriptions that can deliver nothing are refused
 *    (0x80 / 0x87), and every message is checked for read at delivery.
 * The pointers must stay valid until the policy is replaced or the core
 * freed: on a reload, set the new policy first, then free the old objects.
 */
typedef struct {
    bool allow_anonymous;
    broker_password_fn check_password; /* NULL: no password file */
    void *password_ctx;
    const broker_acl *acl;             /* NULL: no ACL, everything allowed */
    bool use_identity_as_username;
} broker_policy;

#define BROKER_MAX_POLICIES 32

/* Sets policy `index` (< BROKER_MAX_POLICIES, the listener's number).
 * Every policy starts as {allow_anonymous = opts.allow_anonymous}. Applies
 * to new CONNECTs, and to the ACL checks of sessions already connected. */
void broker_core_set_policy(broker_core *core, unsigned index, const broker_policy *p);

/* Sets memory_limit (0: none) while running, as a SIGHUP reload does:
 * mosquitto's "Reloaded on reload signal". A lower limit frees nothing; it
 * refuses what would add to the memory held from then on. */
void broker_core_set_memory_limit(broker_core *core, uint64_t limit);

/* The policy (listener) a connection came through; default 0. Call before
 * feeding it. */
void broker_conn_set_policy(broker_conn *c, unsigned index);

/* The CN of the client certificate the TLS layer verified (copied), or
 * NULL; used with use_identity_as_username. Call before feeding. */
void broker_conn_set_identity(broker_conn *c, const char *cn);

/* ------------------------------------------------------------- persistence */

/*
 * With opts.persistence, the core appends a record to its journal for
 * every change that must survive a restart: retained messages set or
 * deleted, persistent sessions (created, changed, ended), their
 * subscriptions, QoS 1/2 messages queued for them, sent, acknowledged, and
 * incoming QoS 2 messages stored and released. The driver must write the
 * journal to stable storage (write + fsync) BEFORE it sends any output
 * produced since: then no acknowledged message (PUBACK / PUBREC sent) can
 * be lost by a crash. Journal and snapshot share one self-checking format
 * (broker_persist.c): a header, then records each with its length and a
 * CRC-32.
 */

/* The journal bytes produced since the last broker_core_journal_done(). */
size_t broker_core_journal(const broker_core *core, const uint8_t **data);
/* The driver wrote (and synced) all of them. */
void broker_core_journal_done(broker_core *core);
/* A journal file's header for `generation` (fixed size, 17 bytes). */
size_t broker_core_journal_header(uint64_t generation, uint8_t *out, size_t cap);

/*
 * The whole persistent state as a snapshot file of `generation` (a new
 * allocation in *data, free() it). Messages are written once each; later
 * journal records refer to them.
 */
void broker_core_snapshot(broker_core *core, uint64_t generation, uint8_t **data, size_t *len);

typedef struct {
    int kind;              /* 1 snapshot, 2 journal (from the header) */
    uint64_t generation;   /* from the header */
    size_t records;        /* records applied */
    size_t bad_offset;     /* where reading stopped, when it returns -1 */
    char why[160];         /* what was wrong there */
} broker_restore_info;

/*
 * Applies a snapshot or journal file (data, len) to a core that has no
 * connection yet: a snapshot first, then the journal of the same
 * generation. Returns 0 when every record was read, or -1 when it stopped
 * at info->bad_offset (truncated, bad checksum, unknown or inconsistent
 * record): the records before it are applied, nothing after. Restored
 * sessions are offline; their expiry starts again at `now`.
 */
int broker_core_restore(broker_core *core, const uint8_t *data, size_t len, int64_t now, broker_restore_info *info);
/* Ends a restore (frees its message index). Call before feeding anything. */
void broker_core_restore_done(broker_core *core);

/* Allocation that aborts with a message on memory exhaustion. */
void *broker_xmalloc(size_t n);
void *broker_xcalloc(size_t n, size_t size);
void *broker_xrealloc(void *p, size_t n);
/* Bytes the core holds for messages, connection buffers, sessions and their
 * queues (the count memory_limit bounds; process-wide, like mosquitto's). */
size_t broker_mem_held(void);

#ifdef __cplusplus
}
#endif
#endif
