/*
 * Fuzz harness `broker`: several in-process clients drive the broker's
 * sans-I/O core (broker/src/broker_core.h) with fuzzer bytes.
 *
 * Input: one options byte, then operations until the input ends. An
 * operation byte holds the operation (low 3 bits) and a client slot (bits
 * 3-4, four slots):
 *   0, 1, 7  FEED: a length byte n, then n bytes the client sends (the slot's
 *            connection is opened first if it has none)
 *   2        STALL: toggles whether this client reads its output (a stalled
 *            reader makes the broker's back-pressure and queues work)
 *   3        DROP: the network connection of the slot goes away
 *   4        TIME: a byte; the clock advances (b < 128: b x 50 ms, else
 *            (b - 127) minutes) and the due timers run
 *   5        READ: a byte n; the client reads n bytes of its output, stalled or not
 *   6        SHUTDOWN: the broker shuts down cleanly
 * Options byte: bits 0-1 max_qos, bit 2 retain off, bit 3 small limits
 * (queues, inflight, high water, packet and message sizes, topic aliases),
 * bit 4 $SYS every second, bit 5 packet tracing, bits 6-7 the mode:
 * 0 plain; 1 persistence (the driver writes the journal before the output it
 * covers); 2 a policy with an ACL and a password check (user "u", password
 * "p"); 3 anonymous clients refused.
 *
 * The driver is the project's one in-process driver (broker/src/broker_driver.h,
 * as mqtt-conform --inproc uses it) over memory transports: it feeds a
 * connection only while it wants to read (the rest waits in the slot, as in a
 * socket buffer), offers output that a stalled client takes only as READ
 * allows, runs the timers due, and closes connections the core wants closed
 * once their output is taken. The journal is written before any output.
 *
 * Invariants: no crash, leak or unbounded memory (ASan, LSan, libFuzzer's
 * malloc/RSS limits); every byte the broker sends decodes cleanly, as a
 * stream, with the codec of the client's protocol level (what the client's
 * own CONNECT says, as the codec reads it) and within the Maximum Packet
 * Size the client announced (5.0 MQTT-3.1.2-24); nothing but AUTH goes to a
 * client before its one CONNACK (MQTT-3.2.0-1), and a client whose CONNECT
 * was not understood gets nothing but the unsupported-version CONNACK
 * (MQTT-3.1.4-1); a connection closed by the broker ends on a packet
 * boundary; log lines are single lines. With persistence, the journal the
 * broker wrote restores completely, and to the same state (snapshot size)
 * as a snapshot of the live broker does.
 */
#include "broker/src/broker_acl.h"
#include "broker/src/broker_core.h"
#include "broker/src/broker_driver.h"
#include "fuzz/fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOTS 4
/* Caller arrays as large as the broker's own (broker_internal.h), so a CONNECT the broker
 * accepts is one this harness can read too. */
#define RX_USER_PROPS 4096
#define RX_SUBIDS 64
#define RX_SUBS 4096

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        FZ_ASSERT(b->p != NULL, "out of memory");
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_drop(buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

typedef struct world world;

typedef struct {
    world *w;
    broker_conn *conn;   /* NULL: no connection in this slot */
    bool stalled;        /* does not read its output ... */
    size_t allow;        /* ... except this much (a READ) */
    buf pending;         /* bytes sent by the client the broker has not read yet */
    buf first;           /* bytes fed so far, until the first packet is understood */
    bool decided;        /* the client's first packet has been looked at */
    mqtt_version version;/* the client's protocol level, UNKNOWN if none applies */
    uint32_t max_packet; /* 5.0 Maximum Packet Size the client announced, 0 = none */
    fz_decoder out;      /* reads what the broker sends */
    buf out_bytes;       /* broker output not yet decoded (a partial packet) */
    size_t out_packets;
    bool connack_seen;
    unsigned id;
} slot;

struct world {
    broker_driver *drv;
    broker_core *core;   /* the driver's */
    broker_options opt;
    int64_t now;
    slot slots[SLOTS];
    unsigned next_id;
    buf journal;         /* persistence: the journal file the driver wrote, header first */
    broker_acl *acl;     /* policy mode: the ACL in force */
};

static mqtt_user_property rx_user[RX_USER_PROPS];
static uint32_t rx_subids[RX_SUBIDS];
static mqtt_subscription rx_subs[RX_SUBS];
/* For what the broker sends: a PUBLISH carries one Subscription Identifier per matching subscription. */
static mqtt_user_property tx_user[RX_USER_PROPS];
static uint32_t tx_subids[RX_USER_PROPS];

/* FUZZ_BROKER_LOG=1 prints the broker's log while reproducing a finding. */
static int show_log = -1;

static void check_log(void *ctx, broker_log_level level, const char *line)
{
    (void)ctx;
    if (show_log < 0) show_log = getenv("FUZZ_BROKER_LOG") != NULL;
    if (show_log) fprintf(stderr, "broker: %s\n", line);
    FZ_ASSERT(line != NULL, "NULL log line");
    FZ_ASSERT((unsigned)level <= BROKER_LOG_PACKET, "log level %d", (int)level);
    FZ_ASSERT(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL,
              "a log line holds a line break (log injection): %s", line);
}

/* The client's first packet, decoded as the broker decodes it: sets the version its output is in. */
static void learn_version(world *w, slot *s, const uint8_t *p, size_t n)
{
    if (s->decided) return;
    buf_add(&s->first, p, n);
    mqtt_codec c = {0};
    c.version = MQTT_VERSION_UNKNOWN;
    c.from = MQTT_FROM_CLIENT;
    c.max_packet_size = w->opt.max_packet_size;
    c.user_properties = rx_user;
    c.user_properties_cap = RX_USER_PROPS;
    c.subscription_identifiers = rx_subids;
    c.subscription_identifiers_cap = RX_SUBIDS;
    c.subscriptions = rx_subs;
    c.subscriptions_cap = RX_SUBS;
    mqtt_packet pkt;
    mqtt_error err = {0};
    mqtt_status st = mqtt_decode(&c, s->first.p, s->first.len, &pkt, &err);
    if (st == MQTT_NEED_MORE) return;
    s->decided = true;
    if (st == MQTT_OK && pkt.type == MQTT_CONNECT) {
        s->version = (mqtt_version)pkt.connect.protocol_level;
        if (s->version == MQTT_V5 && MQTT_HAS_PROP(&pkt.connect.properties, MQTT_PROP_MAXIMUM_PACKET_SIZE))
            s->max_packet = pkt.connect.properties.maximum_packet_size;
    } else if (st == MQTT_ERR_UNSUPPORTED_VERSION) {
        /* The broker may answer with the CONNACK of the spec the error cites (0x01 / 0x84). */
        s->version = err.version == MQTT_V5 ? MQTT_V5 : MQTT_V311;
    }
    free(s->first.p);
    s->first = (buf){0};
}

/* Decodes what the broker sent to slot s; every byte must be part of a valid packet. */
static void check_output(slot *s, const uint8_t *p, size_t n)
{
    if (n == 0) return;
    FZ_ASSERT(s->version != MQTT_VERSION_UNKNOWN,
              "client %u: broker sent %zu bytes (first 0x%02x) to a client whose first packet was no CONNECT",
              s->id, n, p[0]);
    if (s->out_bytes.len == 0 && s->out_packets == 0) {
        fz_decoder_init(&s->out, 0);
        s->out.codec.version = s->version;
        s->out.codec.from = MQTT_FROM_SERVER;
        s->out.codec.max_packet_size = s->max_packet;
        s->out.codec.user_properties = tx_user;
        s->out.codec.user_properties_cap = RX_USER_PROPS;
        s->out.codec.subscription_identifiers = tx_subids;
        s->out.codec.subscription_identifiers_cap = RX_USER_PROPS;
    }
    buf_add(&s->out_bytes, p, n);
    size_t off = 0;
    while (off < s->out_bytes.len) {
        mqtt_packet pkt;
        mqtt_error err = {0};
        const uint8_t *at = s->out_bytes.p + off;
        size_t left = s->out_bytes.len - off;
        mqtt_status st = mqtt_decode(&s->out.codec, at, left, &pkt, &err);
        if (st == MQTT_NEED_MORE) break;
        FZ_ASSERT(st == MQTT_OK,
                  "client %u (%s): packet %zu from the broker does not decode: %s %s at %zu (%s); first byte 0x%02x",
                  s->id, mqtt_version_name(s->version), s->out_packets + 1, mqtt_status_name(st), err.rule,
                  err.offset, err.message, at[0]);
        fz_check_packet(&s->out, &pkt, at, left);
        /* MQTT-3.2.0-1: CONNACK before anything but AUTH (5.0 enhanced authentication), once. */
        if (pkt.type == MQTT_CONNACK) {
            FZ_ASSERT(!s->connack_seen, "client %u: a second CONNACK", s->id);
            s->connack_seen = true;
        } else if (pkt.type != MQTT_AUTH) {
            FZ_ASSERT(s->connack_seen, "client %u: the broker sends %s before CONNACK", s->id,
                      mqtt_packet_type_name(pkt.type));
        }
        s->out_packets++;
        off += pkt.length;
    }
    buf_drop(&s->out_bytes, off);
}

/* Persistence: the driver writes (and syncs) the journal before any output it covers. */
static void write_journal(void *ctx)
{
    world *w = ctx;
    const uint8_t *p;
    size_t n = broker_core_journal(w->core, &p);
    if (n) buf_add(&w->journal, p, n);
    broker_core_journal_done(w->core);
}

static void slot_reset(slot *s)
{
    free(s->pending.p);
    free(s->first.p);
    free(s->out_bytes.p);
    memset(s, 0, sizeof *s);
}

/* ---- the slot as the driver's transport (broker_driver_io) ---- */

/* A socket read returns what is there; the core keeps partial packets itself. */
static long slot_recv(void *ctx, uint8_t *buf, size_t cap)
{
    slot *s = ctx;
    size_t n = s->pending.len < cap ? s->pending.len : cap;
    if (n == 0) return 0;
    learn_version(s->w, s, s->pending.p, n);
    memcpy(buf, s->pending.p, n);
    buf_drop(&s->pending, n);
    return (long)n;
}

/* The client takes everything, or while stalled what a READ allows (all of it
 * once the broker is closing: what is left is read before the close). */
static long slot_send(void *ctx, const uint8_t *p, size_t n)
{
    slot *s = ctx;
    if (s->stalled && !broker_conn_should_close(s->conn)) {
        if (n > s->allow) n = s->allow;
        s->allow -= n;
    }
    check_output(s, p, n);
    return (long)n;
}

/* The transport of slot s is gone: by the broker's decision (closing) or the network's. */
static void slot_closed(void *ctx, bool by_broker)
{
    slot *s = ctx;
    if (by_broker)
        FZ_ASSERT(s->out_bytes.len == 0, "client %u: the broker closed after %zu bytes of an unfinished packet",
                  s->id, s->out_bytes.len);
    slot_reset(s);
}

static const broker_driver_io slot_io = {slot_recv, slot_send, NULL, slot_closed};

/* Everything that can move now (bounded, as the event loop's turns are). */
static void pump(world *w)
{
    for (int round = 0; round < 64 && broker_driver_pump(w->drv, w->now); round++) {}
}

/* The client reads up to n bytes of its output. */
static void read_output(world *w, slot *s, size_t n)
{
    s->allow = n;
    pump(w);
    s->allow = 0;
}

static void run_timers(world *w)
{
    for (int i = 0; i < 1000 && broker_driver_next_deadline(w->drv) <= w->now; i++) pump(w);
}

static void set_options(broker_options *o, uint8_t b)
{
    broker_options_default(o);
    o->max_qos = b & 3;
    if (o->max_qos > 2) o->max_qos = 2;
    o->retain_available = !(b & 4);
    if (b & 8) {
        o->max_queued_messages = 4;
        o->max_inflight_messages = 2;
        o->out_high_water = 512;
        o->message_size_limit = 64;
        o->max_packet_size = 256;
        o->max_topic_alias = 2;
        o->stall_ms = 1000;
    }
    o->sys_interval = (b & 16) ? 1 : 0;
    o->trace_packets = (b & 32) != 0;
    o->log = check_log; /* always: log lines are checked even without packet tracing */
    o->persistence = (b >> 6) == 1;
    if ((b >> 6) == 3) o->allow_anonymous = false;
}

/* Policy mode: user "u" with password "p"; anonymous clients stay allowed, under the ACL. */
static bool check_password(void *ctx, const char *username, const uint8_t *password, size_t len)
{
    (void)ctx;
    return strcmp(username, "u") == 0 && len == 1 && password[0] == 'p';
}

static const char ACL_TEXT[] = "topic read $SYS/#\n"
                               "topic readwrite pub/#\n"
                               "pattern readwrite c/%c/#\n"
                               "user u\n"
                               "topic readwrite #\n"
                               "pattern read u/%u/#\n";

static void set_policy(world *w)
{
    char err[256];
    w->acl = broker_acl_parse(ACL_TEXT, sizeof ACL_TEXT - 1, "fuzz.acl", err, sizeof err);
    FZ_ASSERT(w->acl != NULL, "the harness's ACL is refused: %s", err);
    broker_policy p = {0};
    p.allow_anonymous = true;
    p.check_password = check_password;
    p.acl = w->acl;
    broker_core_set_policy(w->core, 0, &p);
}

static broker_core *restored(const world *w, const uint8_t *file, size_t len, const char *what)
{
    broker_core *core = broker_core_new(&w->opt, w->now);
    broker_restore_info info;
    memset(&info, 0, sizeof info);
    int rc = broker_core_restore(core, file, len, w->now, &info);
    FZ_ASSERT(rc == 0, "%s of %zu bytes does not restore: stopped at %zu after %zu records: %s", what, len,
              info.bad_offset, info.records, info.why);
    broker_core_restore_done(core);
    return core;
}

/* Persistence: the journal restores completely, to the state a snapshot of the live broker gives. */
static void check_persistence(world *w)
{
    write_journal(w);
    uint8_t *live, *a, *b;
    size_t live_len, a_len, b_len;
    broker_core_snapshot(w->core, 1, &live, &live_len);
    broker_core *from_snapshot = restored(w, live, live_len, "a snapshot of the live broker");
    broker_core *from_journal = restored(w, w->journal.p, w->journal.len, "the journal");
    broker_core_snapshot(from_snapshot, 2, &a, &a_len);
    broker_core_snapshot(from_journal, 2, &b, &b_len);
    FZ_ASSERT(a_len == b_len, "restored from the journal: a %zu-byte snapshot; from a live snapshot: %zu bytes",
              b_len, a_len);
    free(live);
    free(a);
    free(b);
    broker_core_free(from_snapshot);
    broker_core_free(from_journal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    world w;
    memset(&w, 0, sizeof w);
    set_options(&w.opt, data[0]);
    w.now = 1000000;
    w.drv = broker_driver_new_core(&w.opt, w.now);
    w.core = broker_driver_core(w.drv);
    if (w.opt.persistence) broker_driver_set_sync(w.drv, write_journal, &w);
    if ((data[0] >> 6) == 2) set_policy(&w);
    if (w.opt.persistence) {
        uint8_t head[64];
        size_t n = broker_core_journal_header(1, head, sizeof head);
        FZ_ASSERT(n > 0 && n <= sizeof head, "journal header of %zu bytes", n);
        buf_add(&w.journal, head, n);
    }

    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i++];
        slot *s = &w.slots[(op >> 3) & 3];
        switch (op & 7) {
        case 0:
        case 1:
        case 7: {
            size_t n = i < size ? data[i++] : 0;
            if (n > size - i) n = size - i;
            if (!s->conn) {
                s->id = ++w.next_id;
                s->w = &w;
                s->conn = broker_driver_open(w.drv, "127.0.0.1:1", &slot_io, s, w.now);
            }
            buf_add(&s->pending, data + i, n);
            i += n;
            break;
        }
        case 2:
            s->stalled = !s->stalled;
            break;
        case 3:
            if (s->conn) broker_driver_drop(w.drv, s->conn, w.now);
            break;
        case 4: {
            uint8_t b = i < size ? data[i++] : 0;
            w.now += b < 128 ? (int64_t)b * 50 : (int64_t)(b - 127) * 60000;
            run_timers(&w);
            break;
        }
        case 5: {
            size_t n = i < size ? data[i++] : 0;
            if (s->conn) read_output(&w, s, n);
            break;
        }
        case 6: broker_core_shutdown(w.core, w.now); break;
        }
        pump(&w);
    }
    /* Every client reads what is left; then the broker goes away with everything it holds. */
    for (int k = 0; k < SLOTS; k++) w.slots[k].stalled = false;
    pump(&w);
    if (w.opt.persistence) check_persistence(&w);
    broker_driver_free(w.drv, w.now);
    broker_acl_free(w.acl);
    free(w.journal.p);
    for (int k = 0; k < SLOTS; k++) slot_reset(&w.slots[k]);
    return 0;
}
