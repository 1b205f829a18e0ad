/*
 * The run engine: executes scenario runs (scenario x version x repeat)
 * against one broker, many at a time, in one poll(2) loop. Every socket is
 * non-blocking and every run has a deadline, so a broker that stalls, sends
 * garbage or closes early makes runs fail, never hang.
 */
#ifndef CONF_ENGINE_H
#define CONF_ENGINE_H

#include "conformance/src/conform.h"
#include "conformance/src/traffic.h"

#include "net/tls.h"

#include <stdio.h>

/* Verdicts of a run:
 * - pass: every check held;
 * - fail: a MUST-level check broke (the step's rules say which);
 * - warn: only SHOULD-level checks broke, or a timer fired late but within
 *   its lenient bound (the findings say which, with the measured time);
 * - skip: not run, with the reason (profile, or what the broker announced);
 * - error: the run could not be judged (a precondition step failed, the
 *   scenario could not be built, the deadline passed);
 * - expected-failure / unexpected-pass: a profile deviation failed / passed;
 * - not run: the broker stopped accepting connections before it. */
typedef enum { V_PENDING, V_PASS, V_FAIL, V_WARN, V_SKIP, V_ERROR, V_XFAIL, V_XPASS, V_NOTRUN, V__COUNT } conf_verdict;
const char *conf_verdict_name(conf_verdict v); /* "pass", "warn", "expected-failure", "not run" ... */
/* True when this verdict makes the exit status 1 (fail, error, unexpected-pass, not run). */
bool conf_verdict_bad(conf_verdict v);
/* The same, and with strict (`--strict`) a warn too. */
bool conf_verdict_bad_strict(conf_verdict v, bool strict);

/* One finding of a run: a check that did not hold (the run's verdict is the
 * worst of them), at the level of the rules of the step that checks it. */
typedef struct {
    int step;               /* index of the step */
    conf_level level;       /* LVL_MUST: fail; LVL_SHOULD (or a late timer): warn; LVL_NONE: precondition */
    char *text;             /* one line: what was expected, what came */
    int64_t measured_ms;    /* timers: when the event came (after the step started), -1 otherwise */
} conf_finding;

enum { EV_SENT, EV_RECV, EV_NOTE, EV_FAIL };
typedef struct {
    int64_t t_ms;   /* since the run started */
    int client;     /* -1: the runner itself */
    int kind;       /* EV_* */
    int step;       /* index of the step that was running */
    char *text;
} conf_event;

typedef struct {
    const conf_scenario *sc;
    int vi;
    int rep;
    char ns[16];
    conf_verdict verdict;
    char *message;          /* why it failed / was skipped / errored */
    int fail_step;          /* index of the failing step, -1 */
    /* Findings: every warn, and the fail or error that ended the run (the
     * last one then); reports show the level and the step's rules
     * (sc->steps[step].rules[vi]). */
    conf_finding *find;
    size_t nfind;
    conf_level level;       /* level of the finding that decided the verdict (LVL_NONE: none or precondition) */
    const char *deviation;  /* reason from the profile, when the run is a known deviation */
    bool deviation_flaky;   /* the profile says `flaky`: a pass stays a pass */
    conf_event *ev;
    size_t nev, evcap;
    int64_t duration_ms;
    char *pcap;             /* path of the pcap written for this run (cfg.pcap_dir/NAME), or NULL */
    void *rt;               /* engine-private while running */
} conf_run;

struct pollfd;

/* How the engine reaches the broker and reads the time, when not over real
 * sockets to host:port on the machine's clock (conf_engine_cfg.transport).
 * mqtt-conform --inproc (inproc.c) makes connections socket pairs to the
 * reference broker's core served in the same process, and time virtual. */
typedef struct {
    void *ctx;
    /* The current time, in milliseconds. */
    int64_t (*now)(void *ctx);
    /* poll(2) of the engine's sockets for up to timeout_ms on this clock; may
     * move the clock forward instead of waiting. Returns as poll(2) does. */
    int (*poll)(void *ctx, struct pollfd *fds, size_t n, int timeout_ms);
    /* A connected, non-blocking stream socket to the broker (`peer` names the
     * client), or -1 with errno set. */
    int (*connect)(void *ctx, const char *peer);
    /* Moves every byte in flight at the current time, so that a blocking
     * reader (the capability probe) finds the answer to what it sent. */
    void (*settle)(void *ctx);
} conf_transport;

typedef struct {
    const char *host;
    uint16_t port;
    /* NULL: TCP (and TLS) to host:port, net_now_ms() as the clock. Else host
     * and port only name the broker in transcripts and captures. */
    const conf_transport *transport;
    const char *username, *password;
    double time_scale;
    int jobs;
    /* TLS for every connection (NULL: plain TCP), made by the caller with
     * net_tls_ctx_new(NET_TLS_CLIENT, ...); `host` is the name checked
     * against the broker's certificate (unless the context is insecure). The
     * handshake runs in the poll loop under the step's and the run's deadlines;
     * a handshake that fails closes the connection with the reason in the
     * transcript ("TLS handshake with HOST:PORT: certificate verify failed ..."). */
    net_tls_ctx *tls;       /* (OpenSSL writes with write(2): the caller ignores SIGPIPE) */
    /* MQTT over WebSockets (NULL: none): after TCP (and TLS), every
     * connection, the probes' too, upgrades with GET ws_path offering the
     * subprotocol "mqtt" (MQTT-6.0.0-3) and carries MQTT in binary frames
     * (engine_ws.c). Captures then hold the MQTT byte stream, not the frames. */
    const char *ws_path;
    /* Captures: with a pcap_dir (which must exist) and a mode other than
     * none, each run's traffic is recorded and written there as
     * <id>@<version>.pcap (conf_traffic_filename) when the mode says so.
     * With TLS the capture holds the decrypted MQTT bytes on the real TCP
     * connection (addresses, ports, times, opens and closes), not the TLS
     * records: what the broker decrypted, not what went over the wire. */
    conf_pcap_mode pcap_mode;
    const char *pcap_dir;
    /* Called once per finished run (not for skipped ones), e.g. for a progress line. */
    void (*on_done)(const conf_run *run, size_t done, size_t total, void *arg);
    void *arg;
    /* No capability probe before the runs (the result's caps stay unprobed
     * and nothing is skipped for an announcement). */
    bool no_probe;
} conf_engine_cfg;

/* What the broker announced for one protocol version, from the probe that
 * runs before the suite (conf_engine_run, unless cfg->no_probe). Numbers are
 * -1 when the CONNACK did not carry the property (its default then applies:
 * 5.0 section 3.2.2.3). */
typedef struct {
    bool probed;            /* a probe of this version ran */
    bool supported;         /* the broker accepted a CONNECT of this version */
    char note[256];         /* why not supported, or what the probe could not learn */
    int64_t max_qos, retain_available, wildcard_available, subid_available, shared_available;
    int64_t topic_alias_max, receive_max, max_packet_size, server_keep_alive;
    int granted_qos2;       /* QoS granted to a QoS 2 subscription, -1: not learnt */
    uint32_t lacks;         /* CAP bits the announcements rule out (scenarios needing them: skip) */
    char lacks_why[CAP_COUNT][96]; /* per CAP bit in lacks: "broker announced Retain Available 0" */
} conf_caps;

typedef struct {
    conf_caps caps[CONF_NVERSIONS]; /* the probe's findings per version slot */
    int jobs_final;         /* runs in parallel at the end: halved whenever TCP connects were slow */
    int died_after;         /* index of the run after which the broker stopped answering, -1 */
    int64_t wall_ms;
    size_t pcap_written;    /* pcap files written */
    size_t pcap_errors;     /* pcaps that could not be written ... */
    char pcap_error[600];   /* ... and the first one's reason */
} conf_engine_result;

/* Runs every run whose verdict is V_PENDING (others are left alone).
 * Returns 0, or -1 if the broker's address cannot be resolved (msg filled). */
int conf_engine_run(const conf_engine_cfg *cfg, conf_run *runs, size_t n, conf_engine_result *res,
                    char *msg, size_t msglen);

/* Connects (over TLS with tls, which may be NULL), sends a 3.1.1 CONNECT and
 * waits for any CONNACK: is the broker there and speaking MQTT? 0 yes, -1
 * with msg filled (a failed TLS handshake says why). */
int conf_probe_broker(const char *host, uint16_t port, net_tls_ctx *tls, int timeout_ms, char *msg, size_t msglen);
/* The same for cfg's broker: host, port, TLS and WebSockets (cfg->ws_path). */
int conf_probe_target(const conf_engine_cfg *cfg, int timeout_ms, char *msg, size_t msglen);

/* The rule ids a finished run's verdict is about, for coverage and reports:
 * fail, warn, expected-failure: the rules of the step that decided it (none
 * when that was a precondition; a warn noted on the way: its step's); pass
 * and unexpected-pass: every rule of the scenario in that version; skip,
 * error, not run: none. Valid while r->sc lives. */
char *const *conf_run_rules(const conf_run *r, size_t *n);

void conf_run_free(conf_run *r);
void conf_run_event(conf_run *r, int client, int kind, int step, int64_t t_ms, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#endif
