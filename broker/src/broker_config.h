/*
 * broker_config: mqtt-broker's configuration file, mosquitto.conf's format
 * and meaning (mqtt-broker.conf.example documents every option).
 *
 * One option per line, `name value...`; a line whose first non-blank is
 * '#' is a comment; blank lines are ignored. Options that take a path
 * (password_file, acl_file, cafile, certfile, keyfile, capath,
 * persistence_location, log_dest file, include_dir) take the rest of the
 * line, so paths may contain spaces. Every error names the file and line
 * ("FILE:LINE: unknown option 'foo'") and stops the parse: a broker never
 * starts with a half-read configuration.
 *
 * Defaults as mosquitto 2: with no `listener` and no `port`, one listener
 * on 127.0.0.1:1883 that accepts anonymous clients ("local only" mode);
 * once a listener is configured, anonymous clients are refused unless
 * `allow_anonymous true`. Listener options (max_connections, protocol, the
 * TLS options and, with per_listener_settings, allow_anonymous,
 * password_file, acl_file) apply to the last `listener` line above them,
 * or to the default listener (`port`) before any.
 */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include "broker/src/broker_core.h"

#define BROKER_MAX_LISTENERS 16
#define BROKER_MAX_LOG_DESTS 8

/* Authentication and access control settings (global, or one listener's
 * with per_listener_settings). Strings are owned by the config. */
typedef struct {
    int allow_anonymous; /* -1: not set (then: true in local only mode, else false) */
    char *password_file;
    char *acl_file;
} broker_security_config;

typedef struct {
    char host[256];          /* "" = all addresses */
    uint16_t port;
    uint32_t max_connections; /* 0 = no limit */
    bool websockets;          /* `protocol websockets` (else mqtt) */
    /* TLS: the listener is a TLS listener when certfile is set. */
    char *cafile, *capath, *certfile, *keyfile, *tls_version;
    bool require_certificate;
    bool use_identity_as_username;
    broker_security_config sec; /* used with per_listener_settings */
} broker_listener;

enum { BROKER_LOGDEST_STDERR, BROKER_LOGDEST_STDOUT, BROKER_LOGDEST_FILE, BROKER_LOGDEST_SYSLOG };

typedef struct {
    int kind;
    char *path; /* BROKER_LOGDEST_FILE */
} broker_log_dest;

typedef struct {
    broker_options opts;
    broker_listener listeners[BROKER_MAX_LISTENERS]; /* from `listener` lines */
    size_t nlisteners;
    broker_listener default_listener;                /* from `port` / `bind_address` */
    bool default_set;                                /* `port` or `bind_address` given */
    bool per_listener_settings;
    broker_security_config sec;                      /* without per_listener_settings */
    bool persistence;
    char *persistence_location;                      /* directory, NULL = current directory */
    char *persistence_file;                          /* NULL = "mqtt-broker.db" */
    uint32_t autosave_interval;                      /* seconds, 0 = only at shutdown (default 1800) */
    unsigned log_mask;                               /* bit (1 << broker_log_level) per level logged */
    bool log_none;                                   /* log_dest none */
    broker_log_dest log_dests[BROKER_MAX_LOG_DESTS]; /* none given: stderr */
    size_t nlog_dests;
    char *user;                                      /* `user`: drop root privileges to this user */
    /* parse state */
    bool log_type_set, any_security, any_listener_option;
    int depth;
} broker_config;

/* Defaults (mosquitto 2's): broker_options_default(), local only listener. */
void broker_config_init(broker_config *cfg);

/* Frees every string the config holds (the config can be reused after init). */
void broker_config_free(broker_config *cfg);

/* Parses text (len bytes, need not be NUL-terminated) named `name` in errors.
 * Returns 0, or -1 with a message "NAME:LINE: ..." in err. include_dir
 * paths are read from disk. */
int broker_config_parse(broker_config *cfg, const char *text, size_t len, const char *name, char *err,
                        size_t errlen);

/* Reads and parses a file. Returns 0, or -1 with a message in err. */
int broker_config_load(broker_config *cfg, const char *path, char *err, size_t errlen);

/* The listeners to open: the default listener when there is no `listener`
 * line or when `port`/`bind_address` was given, then the `listener` lines.
 * Returns the count. */
size_t broker_config_listeners(const broker_config *cfg, broker_listener *out, size_t cap);

/* Whether no listener was configured (mosquitto's local only mode). */
bool broker_config_local_only(const broker_config *cfg);

/* The security settings in force for listener l (one of those returned by
 * broker_config_listeners), with allow_anonymous resolved to 0 or 1. */
broker_security_config broker_config_security(const broker_config *cfg, const broker_listener *l);

/* Reads a whole file into a new NUL-terminated buffer (at most 64 MiB).
 * Returns it with *len set, or NULL with "PATH: why" in err. */
char *broker_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
