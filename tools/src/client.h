/*
 * Shared logic of mqtt-pub and mqtt-sub, the mosquitto_pub / mosquitto_sub
 * compatible command-line clients: their configuration (one option parser for
 * both), the MQTT 5 properties given with -D, and the texts users of
 * mosquitto's clients know (error strings, CONNACK reasons).
 *
 * Invariants: every string in client_cfg is owned by it (client_cfg_free
 * releases all); -D property values are views into argv, which outlives the
 * configuration. Error numbers are mosquitto's (mosq_err_t), because they are
 * the exit codes users see.
 */
#ifndef TOOLS_CLIENT_H
#define TOOLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqtt/mqtt.h>

typedef enum { CLIENT_PUB, CLIENT_SUB } client_kind;

/* mosquitto's error numbers (mosq_err_t), used as exit codes. */
enum {
    CERR_SUCCESS = 0,
    CERR_NOMEM = 1,
    CERR_PROTOCOL = 2,
    CERR_INVAL = 3,
    CERR_NO_CONN = 4,
    CERR_CONN_REFUSED = 5,
    CERR_CONN_LOST = 7,
    CERR_TLS = 8,
    CERR_PAYLOAD_SIZE = 9,
    CERR_NOT_SUPPORTED = 10,
    CERR_ERRNO = 14,
    CERR_EAI = 15,
    CERR_MALFORMED_UTF8 = 18,
    CERR_KEEPALIVE = 19,
    CERR_MALFORMED_PACKET = 21,
    CERR_DUPLICATE_PROPERTY = 22,
    CERR_QOS_NOT_SUPPORTED = 24,
    CERR_OVERSIZE_PACKET = 25,
    CERR_TIMEOUT = 27,
    CERR_RETAIN_NOT_SUPPORTED = 28
};

/* The commands -D accepts properties for, and where they go. */
typedef enum {
    PROPS_CONNECT,
    PROPS_PUBLISH,
    PROPS_SUBSCRIBE,
    PROPS_UNSUBSCRIBE,
    PROPS_DISCONNECT,
    PROPS_WILL,
    PROPS_COUNT
} client_props_cmd;

/* The properties given with -D for one command. `p` is what the encoder reads:
 * its user_properties point into `users`, its subscription identifier into `subid`. */
typedef struct {
    mqtt_properties p;
    mqtt_user_property *users;
    size_t users_cap;
    uint32_t subid;
    bool duplicate; /* a single-valued property was given twice */
} client_props;

/* How mqtt-pub gets its message. */
typedef enum {
    MSGMODE_NONE,
    MSGMODE_CMD,        /* -m */
    MSGMODE_STDIN_LINE, /* -l */
    MSGMODE_STDIN_FILE, /* -s */
    MSGMODE_FILE,       /* -f */
    MSGMODE_NULL        /* -n */
} client_msgmode;

#define CLIENT_PORT_UNSET (-1)

struct net_tls_ctx;

typedef struct {
    client_kind kind;
    const char *progname;  /* "mqtt-pub" or "mqtt-sub", for messages */

    /* Connection (both tools). */
    char *host;
    int port;
    char *ws_path;  /* MQTT over WebSockets (a ws:// or wss:// URL) on this HTTP path; NULL: TCP */
    char *id;
    char *id_prefix;
    int keepalive;
    int qos;
    char *username;
    char *password;
    mqtt_version version;
    bool debug;
    bool quiet;
    bool clean_session;
    long long session_expiry; /* -1: not given */
    char *will_topic;
    char *will_payload;
    size_t will_payloadlen;
    int will_qos;
    bool will_retain;
    unsigned max_inflight;
    client_props props[PROPS_COUNT];
    bool have_props;        /* any -D given */
    bool have_topic_alias;  /* -D publish topic-alias */

    /* TLS, as mosquitto's clients: on with --cafile, --capath,
     * --tls-use-os-certs, an mqtts:// URL or port 8883 (client_tls_wanted). */
    char *cafile;
    char *capath;
    char *certfile;
    char *keyfile;
    char *tls_version;      /* minimum: tlsv1.3, tlsv1.2 (default) or tlsv1.1 */
    bool insecure;          /* do not check the certificate's host name */
    bool tls_use_os_certs;  /* trust the system's CA store */
    struct net_tls_ctx *tls; /* made by client_tls_setup, freed by client_cfg_free */

    /* mqtt-pub */
    char *topic;
    client_msgmode pub_mode;
    uint8_t *message;
    size_t msglen;
    char *file_input;
    bool retain;
    int repeat_count;
    long long repeat_delay_us;

    /* mqtt-sub */
    char **topics;
    int topic_count;
    char **filter_outs;
    int filter_out_count;
    char **unsub_topics;
    int unsub_topic_count;
    bool verbose;
    bool eol;
    int msg_count;
    unsigned timeout;
    bool no_retain;
    bool retained_only;
    bool remove_retained;
    bool retain_as_published;
    bool exit_after_sub;
    char *format;
    bool pretty;
    int random_filter; /* in 1/10000; 10000 = print all */
} client_cfg;

/* Results of client_cfg_load besides 0 (ready to run). */
#define CLIENT_CFG_ERROR 1   /* message printed on stderr */
#define CLIENT_CFG_HELP 2    /* --help */
#define CLIENT_CFG_VERSION 3 /* --version */

/* Parses argv into *cfg (zeroed first) with mosquitto's option set and checks,
 * printing mosquitto's messages for bad options. Returns 0 or a CLIENT_CFG_*. */
int client_cfg_load(client_cfg *cfg, client_kind kind, int argc, char **argv);
void client_cfg_free(client_cfg *cfg);

/* The port to connect to: -p or -L, else 8883 with --cafile/--capath, else 1883. */
int client_port(const client_cfg *cfg);
/* Whether the connection uses TLS (see the TLS fields above). */
bool client_tls_wanted(const client_cfg *cfg);
/* Checks the TLS files and options and makes cfg->tls when TLS is wanted,
 * printing mosquitto's messages (plus one line saying which file and why)
 * on failure. Returns 0, or 1 (the exit status mosquitto's clients give). */
int client_tls_setup(client_cfg *cfg);
/* The TLS part of mqtt-pub's and mqtt-sub's --help, on stdout. */
void client_tls_usage(void);

/* The id to connect with: -i, -I prefix + pid, else NULL (the broker assigns one;
 * for MQTT 3.1, which does not allow that, a random 23-character "mosq-..." id as libmosquitto). */
int client_id_generate(client_cfg *cfg);

/* Prints to stderr unless --quiet, as mosquitto's err_printf. */
void client_err(const client_cfg *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* -D: parses "command name [key] value" at argv[*idx] (the word after -D) and
 * advances *idx to its last word. Returns 0, or 1 after printing the error. */
int client_props_parse(client_cfg *cfg, int argc, char **argv, int *idx);
/* Adds a Session Expiry Interval to the CONNECT properties (as -x does). */
void client_props_set_session_expiry(client_cfg *cfg, uint32_t seconds);
/* Checks every property set as mosquitto does before connecting; prints
 * "Error in CONNECT properties: ..." and returns 1 on a problem. */
int client_props_check(const client_cfg *cfg);
bool client_props_empty(const mqtt_properties *p);
void client_props_free(client_cfg *cfg);

/* Texts exactly as libmosquitto prints them. */
const char *client_strerror(int err);            /* mosquitto_strerror */
const char *client_connack_string(int code);     /* mosquitto_connack_string */
const char *client_reason_string(int code);      /* mosquitto_reason_string */

/* Strict number parsing for options: the whole text is a base-10 number in
 * [min, max]. Returns 0 and sets *out, or -1. */
int client_parse_long(const char *text, long long min, long long max, long long *out);

#endif
