/*
 * The engine's private state, shared by its parts (engine.c: the loop,
 * engine_conn.c: connections, engine_recv.c: reading and decoding,
 * engine_send.c: building packets, engine_match.c: waiting for packets,
 * engine_steps.c: one handler per step kind, engine_judge.c: verdicts,
 * probe.c: broker checks). Nothing outside the engine includes this.
 */
#ifndef CONF_ENGINE_INT_H
#define CONF_ENGINE_INT_H

#include "conformance/src/engine.h"
#include "conformance/src/traffic.h"

#include "net/tls.h"

#include <sys/socket.h>

#define DEFAULT_EXPECT_MS 2000
#define DEFAULT_NOTHING_MS 500
/* Timer steps: an event up to this long (times --time-scale) after the
 * spec's bound is on time. 1 s of it is the protocol's own granularity: Keep
 * Alive, Session Expiry, Message Expiry and Will Delay are whole seconds on
 * the wire, and a server that keeps time in whole seconds (mosquitto) acts up
 * to 1 s after the exact moment, depending only on where in its second the
 * interval started; the other 0.5 s is scheduling and poll latency. With less,
 * such a server is on time or late by chance, and verdicts flip between runs. */
#define TIMER_TOLERANCE_MS 1500
/* What one client of a run buffers at most: decoded packets no step has
 * taken yet, and their bytes (also the largest packet it reads). A broker
 * that sends more ends the run as `error` (engine_recv.c). */
#define CONF_RX_PACKETS_MAX 20000u
#define CONF_RX_BYTES_MAX ((size_t)64 << 20)
/* Transcript lines recorded per run; later ones are counted, not kept. */
#define CONF_EVENTS_MAX 20000u
/* A TCP connect the broker has not accepted after this long (times
 * --time-scale) is slow: the kernel is retransmitting the SYN (its backoff:
 * 1 s, 2 s, 4 s ...), usually because the accept queue is full; so is a TLS
 * handshake or a CONNACK that takes this long (a busy broker). The engine
 * then runs fewer scenarios at a time, and the step's clocks wait
 * (engine_wait.c). After CONNECT_GIVE_UP_MS a TCP connect or handshake is
 * `error` (it could not be judged), never a verdict on a rule; a CONNACK
 * missing after CONNACK_GIVE_UP_MS is judged by the step's own deadline. */
#define CONNECT_SLOW_MS 900
#define CONNECT_GIVE_UP_MS 20000
#define CONNACK_GIVE_UP_MS 10000

typedef struct {
    uint8_t *bytes;
    size_t len;
    int64_t t_ms;
    mqtt_packet pkt;
    mqtt_user_property up[64];
    uint32_t sid[32];
    mqtt_subscription subs[8];
    uint8_t *topic_copy;   /* the topic a Topic Alias stood for (5.0), owned */
} rx;

typedef struct {
    uint8_t *p;
    size_t n;
} alias_slot;

/* CS_WS: the WebSocket upgrade is under way (cfg->ws_path, engine_ws.c). */
enum { CS_IDLE, CS_CONNECTING, CS_TLS, CS_WS, CS_OPEN, CS_CLOSED };

typedef struct {
    int fd;
    net_tls *tls;          /* the TLS connection over fd (cfg->tls), NULL: plain TCP */
    int tls_want;          /* NET_TLS_WANT_READ/WRITE: what the TLS layer waits for, 0: nothing */
    struct eng_ws *ws;     /* MQTT over WebSockets on fd (cfg->ws_path), NULL: the bytes go as they are */
    const char *ws_offer;  /* `open protocols=`: offered instead of "mqtt" by the next upgrade, NULL: mqtt */
    int state;
    bool peer_closed;      /* the broker closed (EOF or reset) */
    bool self_closed;      /* we closed (disconnect/drop) */
    bool garbage;          /* undecodable bytes arrived */
    bool any_form;         /* it sent a raw CONNECT of a level this run does not speak: the broker
                              cannot know which version's form to answer in (5.0 MQTT-3.1.2-2) */
    char why[640];         /* how the connection ended, for messages */
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t wlen, wcap;
    rx **inbox;
    size_t nin, incap;
    size_t inbytes;        /* bytes of the packets in the inbox */
    rx *last;              /* what the last expect matched */
    uint16_t alias_max;    /* Topic Alias Maximum this client sent in CONNECT (5.0) */
    uint32_t max_packet;   /* Maximum Packet Size this client sent in CONNECT (5.0), 0: none */
    alias_slot *alias;     /* [alias] -> topic (owned copies), for PUBLISH from the broker */
    size_t nalias;         /* slots allocated (alias_max + 1 once used) */
    uint16_t next_pid;
    int64_t closed_at;
    bool connack_pending;  /* a CONNECT was sent and nothing has come back since (engine_wait.c) */
    conf_traffic *tr;      /* the run's recording (NULL: none) */
    int stream;            /* this connection's stream in it, -1 */
} client;

typedef struct {
    client *cl;
    size_t ncl;
    conf_vars vars;
    size_t step;
    int phase;
    int64_t t0;
    int64_t step_deadline;
    int64_t step_started;
    int64_t ontime_deadline;  /* timer steps: after this the event is late (warn); step_deadline: never (fail) */
    int64_t run_deadline;
    uint16_t pid;          /* shortcut: the packet id in flight */
    uint8_t pub_qos;       /* shortcut: the QoS of the PUBLISH in flight */
    uint8_t want_codes[32];
    size_t nwant;
    int group_matched;     /* member that matched the last group (a|b) expect, -1 */
    bool done;
    int64_t last_tick;      /* when the step machine last ran (connect waits pause the clocks) */
    int64_t connect_wait;   /* time the current step has waited for its connection's set-up (TCP, TLS, CONNACK) */
    conf_traffic *tr;      /* what went over the wire, for the pcap (NULL: not recorded) */
} rt_state;

typedef struct {
    const conf_engine_cfg *cfg;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char target[300];
    size_t slow_connects;  /* runs whose TCP connect waited long (a full accept queue): lower the parallelism */
    char **pcap_names;     /* file names written in this invocation (kept unique) */
    size_t npcap;
} engine;

/* Result of a wait: a packet was taken, still waiting, or the run finished. */
enum { W_TAKEN, W_WAIT, W_DONE };
/* Result of a step: done (go on), waiting, or the run ended. */
enum { S_DONE, S_WAIT, S_END };

struct pollfd;
/* The engine's clock and its one wait (engine_clock.c): the transport's
 * (in-process: virtual) or the machine's. */
int64_t eng_now(const engine *e);
int eng_poll(const engine *e, struct pollfd *fds, size_t n, int timeout_ms);
int64_t eng_scaled(const engine *e, int64_t ms);
int64_t eng_rel(const rt_state *rt, int64_t now);
void eng_hexdump(char *out, size_t cap, const uint8_t *p, size_t n);
void eng_fmt_packet(const mqtt_packet *p, int vi, char *buf, size_t cap);
void eng_rx_free(rx *x);
void eng_client_close(client *c);
void eng_client_clear_inbox(client *c);
void eng_client_clear_aliases(client *c);
void eng_rt_free(rt_state *rt);
/* Ends the run (once): V_FAIL is judged by the level of the current step's
 * rules (engine_judge.c); V_PASS becomes V_WARN when a finding was noted.
 * fmt (may be NULL for a pass) is the one-line reason. */
void eng_finish(conf_run *r, conf_verdict v, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Notes a finding that does not end the run: a SHOULD-level deviation, or a
 * timer that fired late (measured_ms >= 0). */
void eng_note(conf_run *r, int64_t now, conf_level level, int64_t measured_ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int eng_start_connect(engine *e, conf_run *r, client *c, int ci, int64_t now);
void eng_tls_begin(engine *e, conf_run *r, client *c, int ci, int64_t now);
void eng_tls_step(engine *e, conf_run *r, client *c, int ci, int64_t now);
void eng_tls_failed(conf_run *r, client *c, int ci, int64_t now, const char *why);
void eng_flush(conf_run *r, client *c, int ci, int64_t now);
int eng_queue(conf_run *r, client *c, int ci, const uint8_t *b, size_t n, int64_t now);
void eng_on_readable(conf_run *r, client *c, int ci, int64_t now);
char *eng_value_of(conf_run *r, const conf_field *f, size_t *len, int64_t now);
int eng_send_packet(engine *e, conf_run *r, int ci, conf_build *b, int64_t now);
int eng_send_from_step(engine *e, conf_run *r, const conf_step *st, mqtt_packet_type t, int64_t now);
int eng_send_ack(engine *e, conf_run *r, int ci, mqtt_packet_type t, uint16_t pid, int64_t now);
int eng_send_raw(engine *e, conf_run *r, const conf_step *st, int64_t now);
/* The bytes of a `send raw` step, values substituted (raw.c). malloc'd, or
 * NULL with err filled (an undefined variable, out of memory). */
uint8_t *conf_raw_bytes(const conf_step *st, const char *ns, int vi, const conf_vars *vars, size_t *out_len,
                        char *err, size_t errlen);
void eng_take(client *c, size_t i);
const char *eng_match_all(conf_run *r, const conf_step *st, const rx *x, char *buf, size_t cap, int64_t now,
                             bool *fatal);
void eng_inbox_summary(const conf_run *r, const client *c, char *out, size_t cap);
int eng_wait_packet(conf_run *r, const conf_step *st, int ci, mqtt_packet_type t, bool unordered,
                       int64_t now, const char *what);
int eng_wait_group(engine *e, conf_run *r, const conf_step *st, int64_t now, const char *what);
void eng_advance(engine *e, conf_run *r, int64_t now);
int64_t eng_next_wakeup(const conf_run *r);
int64_t eng_step_ms(const conf_step *st, int64_t def);
/* A timer step's event came: if after its on-time bound, a finding with the
 * measured time (engine_steps.c). */
void eng_check_late(engine *e, conf_run *r, const conf_step *st, int64_t now);
/* Step handlers: S_DONE, S_WAIT or S_END (engine_handshake.c, engine_expect.c). */
int eng_step_publish(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);
int eng_step_subscribe(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);
int eng_step_expect(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);
int eng_step_expect_nothing(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);
int eng_step_expect_close(engine *e, conf_run *r, const conf_step *st, int ci, int64_t now);
void eng_describe_expect(const conf_step *st, char *out, size_t cap);
bool eng_has_field(const conf_step *st, conf_field_id id);
uint16_t eng_next_pid(client *c);
int eng_apply_fields(conf_run *r, conf_build *b, const conf_step *st, int64_t now);

/* While the current step waits for its client's TCP connect to be accepted,
 * its TLS handshake or its CONNACK, the step's and the run's clocks stop: a
 * set-up delayed by load never becomes a verdict (engine_wait.c). Returns
 * false when the run ended. */
bool eng_pause_for_connect(engine *e, conf_run *r, const conf_step *st, int64_t now);

/* The capability probe of version slot vi (caps.c): fills *c. */
void conf_caps_probe(const conf_engine_cfg *cfg, int vi, conf_caps *c);
/* Pending runs of a version the probe found unsupported, or needing what the
 * broker announced absent, become `skip` with that as the reason. */
void conf_caps_apply(const conf_caps caps[CONF_NVERSIONS], conf_run *runs, size_t n);

#include "conformance/src/engine_ws.h"

#endif
