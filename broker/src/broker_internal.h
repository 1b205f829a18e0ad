/*
 * broker_internal: the data structures shared by the files of the core
 * (sessions, subscriptions, retained messages, connections) and the
 * functions they call in each other. Nothing here is visible to drivers:
 * they use broker_core.h only.
 *
 * Ownership in one paragraph: the core owns sessions (map by client id),
 * the two tries (subscriptions, retained) and the list of connections. A
 * session owns its subscriptions, its queue and in-flight window, its
 * incoming QoS 2 messages and its Will. Application messages (broker_msg)
 * are immutable and reference counted: the retained store, every queue entry
 * and every in-flight entry holds one reference.
 */
#ifndef BROKER_INTERNAL_H
#define BROKER_INTERNAL_H

#include "broker/src/broker_core.h"

#include <mqtt/mqtt.h>
#include <string.h>

/* ------------------------------------------------------------------ maps */

/* Open addressing hash map of item pointers; items carry their own keys. */
typedef struct {
    uint32_t hash;
    void *item; /* NULL: empty slot */
} broker_map_slot;

typedef struct {
    broker_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} broker_map;

typedef bool (*broker_map_eq)(const void *item, const void *key);

uint32_t broker_hash(const void *data, size_t len, uint32_t seed);
void *broker_map_get(const broker_map *m, uint32_t hash, const void *key, broker_map_eq eq);
void broker_map_put(broker_map *m, uint32_t hash, void *item);
void broker_map_remove(broker_map *m, uint32_t hash, const void *item);
void broker_map_free(broker_map *m);

/* --------------------------------------------------------------- buffers */

typedef struct {
    uint8_t *data;
    size_t off; /* first byte not yet consumed */
    size_t len; /* end of the bytes held */
    size_t cap;
} broker_buf;

/* The count of broker_mem_held() (broker_util.c). */
void broker_mem_add(size_t n);
void broker_mem_sub(size_t n);
/* Whether holding `more` bytes would take the core above memory_limit. */
static inline bool broker_mem_over(const broker_core *core, size_t more);

/* Makes room for n more bytes after len; returns where to write them. */
uint8_t *broker_buf_reserve(broker_buf *b, size_t n);
/* The same, growing geometrically only while that keeps broker_mem_held()
 * within limit (0: none), else to exactly what n needs, so a buffer never
 * takes memory_limit over by a growth step. */
uint8_t *broker_buf_reserve_within(broker_buf *b, size_t n, uint64_t limit);
/* Bytes the buffer must add at least to take n more (0 if it has room). */
size_t broker_buf_growth(const broker_buf *b, size_t n);
void broker_buf_consume(broker_buf *b, size_t n);
void broker_buf_free(broker_buf *b);
static inline size_t broker_buf_pending(const broker_buf *b) { return b->len - b->off; }

/* -------------------------------------------------------------- messages */

/* An application message, immutable once built. All views point into data[]. */
typedef struct broker_msg {
    uint32_t refs;
    uint8_t qos;
    bool retain;
    bool has_expiry;
    bool has_pfi;
    uint8_t pfi;                 /* Payload Format Indicator */
    bool has_content_type, has_response_topic, has_correlation_data;
    int64_t expiry_at;           /* ms, when has_expiry (MQTT-3.3.2-5) */
    size_t alloc;                /* bytes of this allocation (broker_mem) */
    uint64_t pid;                /* persistence: id in journal generation pgen, 0 = not written */
    uint32_t pgen;
    mqtt_bytes topic, payload, content_type, response_topic, correlation_data;
    mqtt_user_property *user_props; /* in wire order (MQTT-3.3.2-18) */
    size_t user_prop_count;
    uint8_t data[];
} broker_msg;

/* Bytes broker_msg_new() would allocate for these parts. */
size_t broker_msg_size(mqtt_bytes topic, mqtt_bytes payload, const mqtt_properties *props);
/* Builds a message; props may be NULL (3.x, $SYS). Copies everything. */
broker_msg *broker_msg_new(mqtt_bytes topic, mqtt_bytes payload, uint8_t qos, bool retain,
                           const mqtt_properties *props, int64_t now);
static inline broker_msg *broker_msg_ref(broker_msg *m) { m->refs++; return m; }
void broker_msg_unref(broker_msg *m);
bool broker_msg_expired(const broker_msg *m, int64_t now);

/* ----------------------------------------------------------------- tries */

struct broker_sub;
struct broker_share;

/* One level of a topic trie. Children are found through the trie's map
 * (keyed by parent and segment) and enumerated through the sibling list. */
typedef struct broker_node {
    struct broker_node *parent, *first_child, *next_sibling, *prev_sibling;
    uint32_t hash;
    uint32_t seg_len;
    /* subscription trie */
    struct broker_sub **subs;
    uint32_t nsubs, subs_cap;
    struct broker_share *shares;
    /* retained trie */
    broker_msg *retained;
    char seg[];
} broker_node;

typedef struct {
    broker_node *root;
    broker_map children;
    size_t nodes;
} broker_trie;

/* A topic or filter split at '/'. */
typedef struct {
    mqtt_bytes *levels;
    size_t count, cap;
} broker_levels;

void broker_levels_split(broker_levels *lv, mqtt_bytes topic);
void broker_levels_free(broker_levels *lv);

void broker_trie_init(broker_trie *t);
void broker_trie_free(broker_trie *t);
broker_node *broker_trie_child(const broker_trie *t, const broker_node *parent, mqtt_bytes seg);
broker_node *broker_trie_get_or_add(broker_trie *t, const broker_levels *lv);
broker_node *broker_trie_find(const broker_trie *t, const broker_levels *lv);
/* Frees n and its empty ancestors if they hold nothing. */
void broker_trie_prune(broker_trie *t, broker_node *n);

/* ---------------------------------------------------------- subscriptions */

typedef struct broker_sub {
    struct broker_session *session;
    broker_node *node;
    struct broker_share *share; /* NULL for a non-shared subscription */
    uint32_t subid;             /* Subscription Identifier, 0 = none */
    uint8_t qos;                /* granted */
    bool no_local;
    bool rap;                   /* Retain As Published */
    uint8_t rh;                 /* Retain Handling */
    size_t filter_len;
    char filter[];              /* as subscribed, "$share/g/f" included */
} broker_sub;

/* A shared subscription: one (ShareName, filter) pair and its members. */
typedef struct broker_share {
    struct broker_share *next;
    broker_sub **members;
    size_t count, cap;
    size_t next_pick;           /* round robin */
    size_t name_len;
    char name[];
} broker_share;

/* --------------------------------------------------------------- sessions */

enum {
    DLV_QUEUED = 0,
    DLV_WAIT_PUBACK,
    DLV_WAIT_PUBREC,
    DLV_WAIT_PUBCOMP
};

/* One message on its way to one session. */
typedef struct {
    broker_msg *msg;            /* NULL once PUBREL was sent (WAIT_PUBCOMP) */
    uint16_t packet_id;
    uint8_t qos;                /* delivered QoS: min(publish, subscription) */
    uint8_t state;
    bool retain;                /* RETAIN flag to send */
    bool sent;                  /* sent before: DUP on resend (MQTT-3.3.1-1) */
    bool stored;                /* a retained message sent on subscribe: streamed as the
                                   connection drains, outside max_queued_messages */
    uint16_t nsubids;
    union {
        uint32_t one;
        uint32_t *many;
    } subids;
} broker_delivery;

/* An incoming QoS 2 message between PUBREC and PUBREL (MQTT-4.3.3-10). */
typedef struct {
    uint16_t packet_id;
    broker_msg *msg;            /* NULL: refused (not delivered on PUBREL) */
} broker_rx_qos2;

typedef struct broker_session {
    struct broker_conn *conn;   /* NULL while offline */
    struct broker_sub **subs;
    broker_delivery *inflight;  /* in send order */
    broker_delivery *queue;     /* ring */
    broker_rx_qos2 *rx;
    broker_msg *will;
    int64_t expires_at;         /* when offline; 0 = never */
    int64_t will_at;            /* delayed will due; 0 = none pending */
    uint64_t match_gen;         /* routing scratch */
    uint32_t match_idx;
    uint32_t nsubs, subs_cap;
    uint32_t ninflight, inflight_cap;
    uint32_t qhead, qlen, qcap;
    uint32_t qstored;           /* queue entries that are retained-on-subscribe (stored) */
    uint64_t qbytes;            /* payload bytes of the other entries (max_queued_bytes) */
    uint64_t dropped;           /* messages dropped for its queue limits (logged at 1, 2, 4, ...) */
    uint32_t nrx, rx_cap;
    uint32_t expiry_interval;   /* seconds (5.0); UINT32_MAX = never */
    uint32_t will_delay;        /* seconds */
    uint32_t hash;
    uint16_t next_packet_id;
    bool persistent;            /* survives the end of its connection */
    bool journaled;             /* persistence: its R_SESSION record is in the journal */
    uint8_t policy;             /* listener of its last connection (ACL checks while offline) */
    char *username;             /* of its last connection, NULL = anonymous (ACL %u) */
    uint16_t client_id_len;     /* MQTT strings are at most 65535 bytes */
    char client_id[];           /* NUL-terminated */
} broker_session;

/* ------------------------------------------------------------ connections */

enum { CONN_NEW = 0, CONN_ACTIVE, CONN_CLOSING };

typedef struct {
    uint8_t *topic;
    size_t len;
} broker_alias;

typedef struct {
    uint8_t *topic;
    size_t len;
    uint32_t hash;
} broker_alias_out;

struct broker_conn {
    broker_core *core;
    void *io;
    broker_session *session;
    struct broker_conn *prev, *next;             /* all connections */
    struct broker_conn *dirty_prev, *dirty_next;
    broker_buf in, out;
    broker_alias *alias_in;                      /* core->opt.max_topic_alias entries */
    broker_alias_out *alias_out;
    struct broker_conn *blocked_on;              /* backlogged subscriber throttling us */
    struct broker_conn **waiters;                /* publishers blocked on us */
    int64_t last_rx;
    int64_t throttle_since;                      /* when its current backlog first throttled a publisher */
    uint32_t nwaiters, waiters_cap;
    size_t in_need;                              /* size of the packet at the front of in, once its
                                                    fixed header is known (0: not yet): nothing is
                                                    decoded before it is all there */
    uint32_t client_max_packet;                  /* 5.0 Maximum Packet Size, 0 = none */
    uint16_t keepalive;                          /* seconds in force, 0 = none */
    uint16_t client_receive_max;                 /* 5.0 Receive Maximum, 65535 default */
    uint16_t client_alias_max;                   /* 5.0 Topic Alias Maximum of the client */
    uint16_t nalias_out;
    char *identity;                              /* verified certificate CN, or NULL */
    uint8_t policy;                              /* listener it came through */
    uint8_t state;
    uint8_t version;                             /* mqtt_version */
    bool dirty;
    bool request_problem_info;                   /* 5.0, default 1 */
    bool congested;                              /* output above out_high_water */
    bool stalled;                                /* backlogged for stall_ms: throttles nobody */
    bool resuming;                               /* on core->resume */
    bool mem_refused;                            /* a delivery to it was refused for memory_limit:
                                                    no PUBLISH is written to it any more, and it
                                                    is disconnected (broker_core_resume) */
    bool unread_over;                            /* it left BROKER_UNREAD_FACTOR x out_high_water
                                                    of answers unread: disconnected likewise */
    size_t unread_answers;                       /* bytes of non-PUBLISH packets written, less the
                                                    bytes it has read since (floor 0) */
    char peer[];                                 /* NUL-terminated */
};

/* ------------------------------------------------------------------- core */

/* One recipient of a message being routed. */
typedef struct {
    broker_session *session;
    uint8_t qos;
    bool retain;
    size_t subid_start, nsubids; /* in core->route_subids */
} broker_target;

struct broker_core {
    broker_options opt;
    int64_t started_at;
    int64_t now;
    int64_t next_deadline;
    bool shutting_down;

    broker_map sessions;
    size_t nsessions;
    broker_trie subs;
    broker_trie retained;
    size_t nretained;
    size_t nsubscriptions;

    broker_conn *conns;
    size_t nconns;
    size_t nconnected;
    broker_conn *dirty_head, *dirty_tail;

    /* scratch, reused by every call (single-threaded) */
    mqtt_user_property *rx_user_props;
    uint32_t *rx_subids;
    mqtt_subscription *rx_subscriptions;
    broker_levels levels;
    broker_target *targets;
    size_t ntargets, targets_cap;
    uint32_t *route_subids;
    size_t nroute_subids, route_subids_cap;
    uint64_t match_gen;
    broker_conn *cur_publisher;                  /* the PUBLISH being handled, for throttling */
    broker_conn *throttle_on;                    /* a backlogged recipient of the message being routed */
    broker_conn **resume;                        /* publishers released with input still buffered */
    size_t nresume, resume_cap;
    size_t nrefused;             /* connections newly marked mem_refused or unread_over, to disconnect */

    broker_policy policies[BROKER_MAX_POLICIES];

    /* persistence (broker_persist.c) */
    broker_buf journal;
    uint32_t pgen;                               /* generation of the current journal */
    uint64_t next_pid;
    broker_map restore_msgs;                     /* pid -> message, during a restore */
    struct broker_orphan *orphans;               /* QoS 2 of clean sessions PUBREC'd, not released */
    bool restoring;

    uint64_t assigned_ids;
    broker_stats stats;
    int64_t next_sys;
    char sys_last[16][40];
};

static inline bool broker_mem_over(const broker_core *core, size_t more)
{
    uint64_t limit = core->opt.memory_limit;
    return limit && (uint64_t)broker_mem_held() + more > limit;
}

/* Capacities of the codec's caller arrays for one decoded packet. */
#define BROKER_RX_USER_PROPS 4096
#define BROKER_RX_SUBIDS 64
#define BROKER_RX_SUBSCRIPTIONS 4096
/* Most outgoing topic aliases the broker assigns per connection. */
#define BROKER_MAX_ALIAS_OUT 64

/* ---------------------------------------------------------------- logging */

void broker_log(broker_core *core, broker_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line naming the client: `client "id" (peer): ...`. */
void broker_log_conn(broker_conn *c, broker_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void broker_trace_packet(broker_conn *c, const mqtt_packet *pkt, bool incoming);

/* ---------------------------------------------------------- connections */

void broker_mark_dirty(broker_conn *c);
void broker_note_deadline(broker_core *core, int64_t at);

/* Encodes pkt into c's output. Returns false if it could not be encoded for
 * this client (e.g. larger than its Maximum Packet Size): nothing is queued. */
bool broker_send(broker_conn *c, mqtt_packet *pkt);
/* Sends an ack (PUBACK, PUBREC, PUBREL, PUBCOMP) with a reason code. */
void broker_send_ack(broker_conn *c, mqtt_packet_type type, uint16_t id, uint8_t reason,
                     const char *reason_string);
/* A codec set up for this connection and direction. */
void broker_codec(const broker_conn *c, mqtt_codec *codec, mqtt_side from);

/*
 * Closes c for a protocol violation or a policy decision, at most once:
 * logs `rule` and `why` with the client's name, sends DISCONNECT `reason`
 * (5.0, after a successful CONNACK only, MQTT-3.14.0-1), publishes or
 * schedules the Will (unless will == false) and detaches the session.
 */
void broker_conn_fail(broker_conn *c, uint8_t reason, const char *rule, bool will, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Refuses a CONNECT: CONNACK with `code` (3.x return code or 5.0 reason), then close. */
void broker_conn_refuse(broker_conn *c, uint8_t code, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Marks c closing and detaches it from its session (common end of every close). */
void broker_conn_detach(broker_conn *c, bool publish_will);
/* Congestion bookkeeping after output was queued or written. */
void broker_conn_output_changed(broker_conn *c);
/* Back-pressure (broker_conn.c): a connection is backlogged when its output is
 * congested or its session queue holds max_queued_messages / 2 or more; the
 * publisher being handled is then blocked on it (not read) until it drains. */
bool broker_conn_backlogged(const broker_conn *c);
/* A recipient of the message being routed is backlogged: noted, and
 * broker_route decides once every recipient has it (throttles the one least
 * behind unless another recipient keeps up). */
void broker_conn_note_backlog(broker_conn *sub);
void broker_conn_throttle(broker_conn *sub);
void broker_conn_check_release(broker_conn *c);
/* Handles the input released publishers still hold (broker_core.c): called
 * at the end of every driver entry point, never while a packet is handled. */
void broker_core_resume(broker_core *core);

/* -------------------------------------------------------------- sessions */

broker_session *broker_session_find(broker_core *core, const uint8_t *id, size_t len);
broker_session *broker_session_new(broker_core *core, const uint8_t *id, size_t len);
/* Ends a session: subscriptions, queue, in-flight, pending will (published). */
void broker_session_end(broker_core *core, broker_session *s);
/* Queue entries counted against max_queued_messages (retained messages
 * sent on subscribe are not: they are all due, MQTT-3.3.1-6 / 5.0 -9). */
static inline uint32_t broker_session_live_queue(const broker_session *s) { return s->qlen - s->qstored; }
/* A retained message for a new subscription: queued behind what is waiting,
 * never dropped for the queue limit, sent as the connection drains. */
void broker_session_deliver_retained(broker_core *core, broker_session *s, broker_msg *msg, uint8_t qos,
                                     const uint32_t *subids, size_t nsubids);
/* Queues or sends one delivery (takes its own reference on msg). */
void broker_session_deliver(broker_core *core, broker_session *s, broker_msg *msg, uint8_t qos,
                            bool retain, const uint32_t *subids, size_t nsubids);
/* Sends queued messages while the window and the output allow. */
void broker_session_pump(broker_core *core, broker_session *s);
/* Re-sends in-flight PUBLISH (DUP) and PUBREL after a reconnect (MQTT-4.4.0-1). */
void broker_session_resend(broker_core *core, broker_session *s);
/* Drops queued QoS 0 messages when the client goes offline (not kept offline). */
void broker_session_drop_qos0(broker_session *s);
size_t broker_session_window(const broker_session *s);
void broker_delivery_free(broker_delivery *d);
/* The connection's Will: publish it now, or at will_at for a 5.0 Will Delay. */
void broker_session_will_on_close(broker_core *core, broker_session *s, bool publish);
void broker_session_publish_will(broker_core *core, broker_session *s);
void broker_session_schedule_expiry(broker_core *core, broker_session *s);
/* Adds a subscription (options left 0) to s, the trie and its share group. */
broker_sub *broker_sub_add(broker_core *core, broker_session *s, mqtt_bytes filter);
/* Restoring persistent state (broker_persist.c): appends d to the queue or
 * the in-flight window as is (takes it over). */
void broker_session_restore_push(broker_session *s, const broker_delivery *d, bool inflight);
/* Moves the first queued delivery of the message with persistence id pid to
 * the in-flight window with packet_id (sent), or drops it. False if none. */
bool broker_session_restore_send(broker_session *s, uint64_t pid, uint16_t packet_id);
bool broker_session_restore_drop(broker_session *s, uint64_t pid);
/* Removes a subscription from its session, the trie and its share group. */
void broker_sub_remove(broker_core *core, broker_sub *sub);
broker_sub *broker_session_find_sub(broker_session *s, const uint8_t *filter, size_t len);
broker_rx_qos2 *broker_session_find_rx(broker_session *s, uint16_t id);
void broker_session_remove_rx(broker_session *s, broker_rx_qos2 *rx);
broker_delivery *broker_session_find_inflight(broker_session *s, uint16_t id);
void broker_session_remove_inflight(broker_session *s, broker_delivery *d);

/* --------------------------------------------------------------- routing */

/* Delivers msg to every matching subscription; publisher (may be NULL) is
 * the sending session, for No Local. Returns the number of recipients. */
size_t broker_route(broker_core *core, broker_msg *msg, const broker_session *publisher);
/* Stores, replaces or deletes the retained message of msg->topic (MQTT-3.3.1-5..7). */
void broker_retain_store(broker_core *core, broker_msg *msg);
/* Sends the retained messages matching sub's filter to its session. */
void broker_retain_send(broker_core *core, broker_sub *sub);
/* Publishes an application message: retain store + route. Returns recipients. */
size_t broker_publish_msg(broker_core *core, broker_msg *msg, const broker_session *publisher);

/* ------------------------------------------------------------------ $SYS */

void broker_sys_update(broker_core *core, bool force);

/* -------------------------------------------------------------- handlers */

void broker_handle_connect(broker_conn *c, const mqtt_connect *p);
void broker_handle_publish(broker_conn *c, const mqtt_publish *p);
void broker_handle_puback(broker_conn *c, const mqtt_ack *p);
void broker_handle_pubrec(broker_conn *c, const mqtt_ack *p);
void broker_handle_pubrel(broker_conn *c, const mqtt_ack *p);
void broker_handle_pubcomp(broker_conn *c, const mqtt_ack *p);
void broker_handle_subscribe(broker_conn *c, const mqtt_subscribe *p);
void broker_handle_unsubscribe(broker_conn *c, const mqtt_subscribe *p);
void broker_handle_pingreq(broker_conn *c);
void broker_handle_disconnect(broker_conn *c, const mqtt_disconnect *p);
void broker_handle_auth(broker_conn *c, const mqtt_disconnect *p);

/* The auth seam (broker_auth.c): 0 to accept a CONNECT, else the 5.0
 * reason code to refuse it with; *username gets the user name to record
 * (a new allocation, or NULL for an anonymous client). */
uint8_t broker_auth_connect(broker_core *core, broker_conn *c, const mqtt_connect *p, char **username);
/* Whether c may publish to topic: 0 = yes, else the 5.0 reason code. */
uint8_t broker_auth_publish(broker_core *core, const broker_conn *c, mqtt_bytes topic);
/* Whether session s may receive a message on topic (ACL read). */
bool broker_auth_read(broker_core *core, const broker_session *s, mqtt_bytes topic);
/* Whether s may subscribe to filter: 0 = yes, else the 5.0 reason code. */
uint8_t broker_auth_subscribe(broker_core *core, const broker_session *s, mqtt_bytes filter);
/* Whether the Will of s may be published (ACL write on its topic). */
bool broker_auth_will(broker_core *core, const broker_session *s, mqtt_bytes topic);

/* ------------------------------------------------------------ persistence */

/* Journal records (broker_persist.c); each does nothing unless
 * opts.persistence is set and the session is persistent. */
void broker_journal_session(broker_core *core, broker_session *s);   /* created or changed */
void broker_journal_session_end(broker_core *core, broker_session *s);
void broker_journal_sub(broker_core *core, broker_session *s, const broker_sub *sub);
void broker_journal_unsub(broker_core *core, broker_session *s, const broker_sub *sub);
void broker_journal_queue(broker_core *core, broker_session *s, const broker_delivery *d);
void broker_journal_inflight(broker_core *core, broker_session *s, const broker_delivery *d);
void broker_journal_drop(broker_core *core, broker_session *s, const broker_msg *m);
void broker_journal_pubrel(broker_core *core, broker_session *s, uint16_t packet_id);
void broker_journal_done(broker_core *core, broker_session *s, uint16_t packet_id);
void broker_journal_rx(broker_core *core, broker_session *s, uint16_t packet_id, broker_msg *m);
void broker_journal_rx_done(broker_core *core, broker_session *s, uint16_t packet_id);
/* A clean session's incoming QoS 2 message dropped with its session. */
void broker_journal_rx_clean_done(broker_core *core, broker_session *s, uint16_t packet_id);
void broker_journal_retain(broker_core *core, broker_msg *m);        /* set, or delete if empty */

/* Whether topic (a name or filter) has more levels than max_topic_levels. */
static inline bool broker_too_deep(const broker_core *core, mqtt_bytes topic)
{
    size_t max = core->opt.max_topic_levels;
    if (!max || topic.len < max) return false; /* n bytes hold at most n levels... */
    size_t levels = 1;
    for (const uint8_t *p = topic.ptr, *end = topic.ptr + topic.len; (p = memchr(p, '/', (size_t)(end - p))); p++)
        if (++levels > max) return true;
    return false;
}

static inline bool broker_bytes_eq(mqtt_bytes a, const void *p, size_t len)
{
    return a.len == len && (len == 0 || memcmp(a.ptr, p, len) == 0);
}

#endif
