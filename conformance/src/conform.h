/*
 * mqtt-conform: the data model shared by the parser, the engine and the
 * report writers. A parsed scenario is immutable while it runs; values keep
 * their source text so that `${...}` can be substituted per run.
 */
#ifndef CONF_CONFORM_H
#define CONF_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqtt/mqtt.h>

/* Version slots: index into per-version arrays, and bits in version masks. */
enum { CONF_VI_31 = 0, CONF_VI_311 = 1, CONF_VI_5 = 2, CONF_NVERSIONS = 3 };
#define CONF_VBIT(vi) (1u << (vi))
#define CONF_VALL 7u
mqtt_version conf_vi_version(int vi);
const char *conf_vi_name(int vi);          /* "3.1", "3.1.1", "5.0" */
int conf_vi_parse(const char *s, size_t n); /* -1 if not a version */

/* Capabilities a scenario may need and a profile may lack. */
enum {
    CAP_QOS1, CAP_QOS2, CAP_RETAIN, CAP_WILDCARDS, CAP_WILL, CAP_SESSION,
    CAP_SHARED, CAP_SUBID, CAP_TOPIC_ALIAS, CAP_DOLLAR, CAP_ASSIGNED_ID,
    CAP_AUTH, CAP_REQRESP, CAP_MAX_PACKET,
    CAP_CLIENT_KEEP_ALIVE, /* 5.0: the broker keeps the client's Keep Alive (announces no Server Keep Alive) */
    CAP_GRANTS_QOS2,       /* a QoS 2 subscription is granted QoS 2 (section 3.8.4 allows less) */
    CAP_COUNT
};
extern const char *const conf_cap_names[CAP_COUNT];
int conf_cap_parse(const char *s, size_t n); /* -1 if unknown */

/* The level of a normative statement, as the OASIS text of that version words
 * it ("MUST", "SHOULD", "MAY"); LVL_NONE for an id that is not a statement of
 * that version. A broken MUST is a `fail`, a broken SHOULD a `warn`, a MAY is
 * informational (levels.c has the table, keyed by (version, id)). */
typedef enum { LVL_NONE = 0, LVL_MAY, LVL_SHOULD, LVL_MUST } conf_level;
const char *conf_level_name(conf_level l); /* "MUST", "SHOULD", "MAY", "-" */
conf_level conf_rule_level(int vi, const char *id);

/* Field ids: every name=value a scenario may write (fields.c has the table). */
typedef enum {
    F_NONE = 0,
    F_CLIENT_ID, F_CLEAN, F_KEEP_ALIVE, F_USERNAME, F_PASSWORD,
    F_WILL_TOPIC, F_WILL_PAYLOAD, F_WILL_QOS, F_WILL_RETAIN,
    F_PROTOCOL_NAME, F_PROTOCOL_LEVEL,
    F_SESSION_PRESENT, F_REASON_CODE, F_TOPIC, F_PAYLOAD, F_PAYLOAD_LENGTH,
    F_QOS, F_RETAIN, F_DUP, F_PACKET_ID, F_FLAGS,
    F_FILTER, F_NO_LOCAL, F_RAP, F_RH, F_REASON_CODES,
    F_USER_PROPERTY_COUNT, F_SUBID_COUNT,
    F_PROP,      /* a 5.0 property of the packet (prop says which) */
    F_WILL_PROP  /* a 5.0 Will property of CONNECT */
} conf_field_id;

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } conf_op;

/* How a value was written. */
typedef enum {
    VK_WORD,    /* bare word or number */
    VK_QUOTED,  /* "text" (escapes resolved) */
    VK_HEX,     /* hex:...; bytes resolved */
    VK_FILL,    /* fill:N; num = N */
    VK_PRESENT, VK_ABSENT
} conf_vkind;

typedef struct {
    conf_field_id id;
    int prop;          /* mqtt_property_id for F_PROP / F_WILL_PROP */
    conf_op op;
    conf_vkind kind;
    char *text;        /* the value (may hold ${...}), NUL-terminated; bytes for VK_HEX */
    size_t len;
    uint64_t num;      /* VK_FILL */
    int line, col;
} conf_field;

typedef enum { RT_BYTES, RT_STAR, RT_TEXT, RT_MQTTSTR } conf_raw_kind;
typedef struct {
    conf_raw_kind kind;
    char *text;        /* bytes (RT_BYTES) or template text */
    size_t len;
} conf_raw_tok;

typedef enum {
    ST_CONNECT, ST_OPEN, ST_SEND, ST_SEND_RAW, ST_PUBLISH, ST_SUBSCRIBE,
    ST_UNSUBSCRIBE, ST_ACK, ST_EXPECT, ST_EXPECT_NOTHING, ST_EXPECT_CLOSE,
    ST_CAPTURE, ST_DISCONNECT, ST_DROP, ST_WAIT,
    ST_ACCEPT,      /* broker seat: wait for the client's next connection */
    ST_EXPECT_EXIT, /* broker seat: the client process exits (exit_want says how) */
    ST_EXPECT_OUTPUT /* broker seat: the client process prints `output` (stdout or stderr) */
} conf_step_kind;

/* ST_EXPECT_EXIT: the exit status wanted (0..255), or one of these. */
enum { CONF_EXIT_NONZERO = -1, CONF_EXIT_ANY = -2 };

typedef struct {
    conf_step_kind kind;
    int client;            /* index in scenario clients; -1 for wait; a group's first member */
    uint32_t group;        /* `a|b` steps: bit k set for each member (0: a single client) */
    unsigned vmask;        /* versions this step runs in (guard), CONF_VALL if none */
    mqtt_packet_type ptype; /* send / expect */
    conf_field *fields;
    size_t nfields;
    int64_t ms;            /* within / for / wait; -1 = default */
    bool unordered;
    bool or_close;         /* expect TYPE ... or close: the broker closing instead also passes */
    bool silent;           /* expect close silent: nothing unconsumed may arrive before the close */
    /* Rules this step checks, per version slot (`checks ID...` on the step;
     * without any `checks` in a scenario, its checking steps (expect, expect
     * nothing, expect close, the publish/subscribe/unsubscribe handshakes,
     * capture) get the scenario's rules). A step with no rules is a
     * precondition: when it fails, the run is `error`, never a rule failure. */
    char **rules[CONF_NVERSIONS];
    size_t nrules[CONF_NVERSIONS];
    conf_level level[CONF_NVERSIONS]; /* the highest level of those rules (LVL_NONE: precondition) */
    bool explicit_rules;   /* the step says `checks ...` */
    /* `else skip`: the step checks that the broker offers what the scenario
     * needs (e.g. a CONNACK announcing a small Receive Maximum); when it
     * does not hold, the run is `skip` with what came, not a failure. */
    bool else_skip;
    /* `expect TYPE ... or skip`: the packet not coming within the step's
     * time is a `skip` (the broker need not send it now, e.g. a second QoS 1
     * message while the first is unacknowledged); one that comes is judged. */
    bool or_skip;
    /* `else warn`: a timer's state checked at its on-time bound (e.g. a
     * session that should have expired): a packet that came but does not
     * match is a `warn` finding ("late"), and the run goes on to a later
     * check at the lenient bound, which fails if it still does not hold. */
    bool else_warn;
    /* Timer steps (`timer`): the step waits for a protocol timer (keep alive,
     * expiry, will delay). `within`/`for` are then the spec's bound in real
     * seconds (not scaled); a stated tolerance (scaled) is added, and with
     * `late D` an event after the bound but within D (+ tolerance) is a
     * `warn` with the measured time instead of a `fail`. */
    bool timer;
    int64_t late_ms;       /* -1: no lenient bound */
    conf_raw_tok *raw;
    size_t nraw;
    /* `send frame` (ST_SEND_RAW): a WebSocket frame built by hand around
     * the raw bytes: its first header byte (FIN 0x80, RSV, opcode) and
     * whether the payload goes unmasked (RFC 6455 5.2; engine_ws.c). */
    bool frame;
    uint8_t frame_first;
    bool frame_unmasked;
    /* `open protocols=...` (WebSockets): the subprotocols the upgrade offers
     * instead of "mqtt" ("" for none); NULL: "mqtt". */
    char *ws_protocols;
    conf_field_id cap_field; /* capture */
    int cap_prop;
    char *cap_var;
    int exit_want;         /* ST_EXPECT_EXIT: status, CONF_EXIT_NONZERO or CONF_EXIT_ANY */
    char *output;          /* ST_EXPECT_OUTPUT: the text (may hold ${...}) */
    int line;
    char *src;             /* the source line, for reports */
} conf_step;

typedef struct {
    char *path;            /* as given */
    char *id;              /* area/NN-name */
    char *area;
    char *title;
    unsigned vmask;
    char **rules[CONF_NVERSIONS]; /* ids per version slot (3.1 slot uses 3.1.1 ids) */
    size_t nrules[CONF_NVERSIONS];
    uint32_t needs;        /* CAP bits */
    char **tags;
    size_t ntags;
    char **clients;
    size_t nclients;
    int64_t deadline_ms;
    bool serial;
    bool malformed;        /* sends raw bytes: check the broker afterwards */
    bool websocket;        /* `needs websocket` or a `send frame` step: runs only over WebSockets */
    conf_step *steps;
    size_t nsteps;
    /* Broker seat (`seat broker`, SCENARIOS.md "Scenarios from the broker's
     * seat"): the runner is the server, the client under test is started with
     * `action` (pub, sub) and these options (key=value, values may hold
     * ${...}); each option is also the variable ${key} in the steps. */
    bool broker_seat;
    char *action;
    char **opt_keys, **opt_vals;
    size_t nopts;
} conf_scenario;

/* Parse errors are collected, all of them, before anything runs. */
typedef struct {
    char **msgs;
    size_t count;
} conf_errors;
void conf_error_add(conf_errors *e, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void conf_errors_free(conf_errors *e);

/* Parses one scenario from text (file names errors). Returns NULL on error(s). */
conf_scenario *conf_parse_scenario(const char *file, const char *id, const char *text,
                                   conf_errors *errs);
/* Reads and parses a file; id derived from the path below `root`. */
conf_scenario *conf_parse_file(const char *path, const char *root, conf_errors *errs);
void conf_scenario_free(conf_scenario *s);

/* Loads every *.mqs under dir (sorted by id). Returns count; *out is malloc'd. */
size_t conf_load_dir(const char *dir, conf_scenario ***out, conf_errors *errs);

/* ---- fields.c: names, parse-time checks, building and matching ---- */
typedef enum { FT_NUM, FT_BOOL, FT_STR, FT_BIN, FT_LIST, FT_USERPROP } conf_ftype;

/* Looks a field name up for a step. ptype is the packet type for send/expect
 * (MQTT_CONNECT for connect). Returns 0 and fills id/prop, or -1. */
int conf_field_lookup(const char *name, size_t n, mqtt_packet_type ptype, bool expect,
                      conf_field_id *id, int *prop);
conf_ftype conf_field_type(conf_field_id id, int prop);
const char *conf_field_name(conf_field_id id, int prop);
/* Checks a literal value for its field; NULL if fine, else what was expected. */
const char *conf_field_check(const conf_field *f);

/* Variables of one run (name -> value text). */
typedef struct {
    char *names[32];
    char *values[32];
    size_t count;
} conf_vars;
void conf_vars_set(conf_vars *v, const char *name, const char *value, size_t len);
void conf_vars_free(conf_vars *v);

/* Substitutes ${...} in text[0..len). Returns malloc'd result (NUL-terminated,
 * *outlen set) or NULL with err set when a variable is undefined. */
char *conf_subst(const char *text, size_t len, const char *ns, int vi, const conf_vars *vars,
                 size_t *outlen, char *err, size_t errlen);

/* A packet being built: owns its strings and arrays. */
typedef struct {
    mqtt_packet pkt;
    char *strs[64];
    size_t nstrs;
    mqtt_user_property up[16], wup[16];
    uint32_t subids[16];
    mqtt_subscription subs[32];
} conf_build;
void conf_build_free(conf_build *b);

/* Sets a field of b->pkt from its (substituted) value. 3.x: properties are
 * ignored. Returns NULL or an error message. */
const char *conf_build_set(conf_build *b, int vi, const conf_field *f, const char *val, size_t len);

/* Compares field f (value val) with packet p; NULL if it matches, else a
 * description "reason_code is 0x80, expected 0x00" written into buf.
 * *up_from orders `user_property="k=v"` fields: each one is looked for from
 * that index of the packet's user properties on, and moves it past the pair
 * found, so the pairs written in a step must come in that order (start at 0
 * for each packet). */
const char *conf_match(const mqtt_packet *p, int vi, const conf_field *f, const char *val,
                       size_t len, size_t *up_from, char *buf, size_t cap);
/* Value of field id/prop in p as text (for capture). Returns false if absent. */
bool conf_field_text(const mqtt_packet *p, conf_field_id id, int prop, char *buf, size_t cap);

#endif
