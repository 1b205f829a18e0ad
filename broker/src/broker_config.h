/*
 * broker_config: mqtt-broker's configuration file, mosquitto.conf syntax.
 *
 * One option per line, `name value...`, '#' starts a comment line, blank
 * lines are ignored. Understood today (issue 8 extends this file):
 *   listener PORT [ADDRESS]    a listening socket (repeatable; ADDRESS
 *                              default: all addresses, as mosquitto)
 *   port PORT                  the default listener's port (default 1883)
 *   bind_address ADDRESS       the default listener's address (127.0.0.1)
 *   allow_anonymous BOOL       max_keepalive N       max_queued_messages N
 *   max_inflight_messages N    message_size_limit N  max_packet_size N
 *   sys_interval N             retain_available BOOL max_qos 0|1|2
 *   max_topic_alias N
 * Errors name the file and line: "FILE:LINE: unknown option 'foo'".
 */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include "broker/src/broker_core.h"

#define BROKER_MAX_LISTENERS 16

typedef struct {
    char host[256]; /* "" = all addresses */
    uint16_t port;
} broker_listener;

typedef struct {
    broker_options opts;
    broker_listener listeners[BROKER_MAX_LISTENERS]; /* from `listener` lines */
    size_t nlisteners;
    broker_listener default_listener;                /* from `port` / `bind_address` */
    bool default_set;                                /* `port` or `bind_address` given */
} broker_config;

/* Defaults: broker_options_default(), default listener 127.0.0.1:1883. */
void broker_config_init(broker_config *cfg);

/* Parses text (len bytes, need not be NUL-terminated) named `name` in errors.
 * Returns 0, or -1 with a message "NAME:LINE: ..." in err. */
int broker_config_parse(broker_config *cfg, const char *text, size_t len, const char *name, char *err,
                        size_t errlen);

/* Reads and parses a file. Returns 0, or -1 with a message in err. */
int broker_config_load(broker_config *cfg, const char *path, char *err, size_t errlen);

/* The listeners to open: the `listener` lines, and the default listener when
 * there are none or when `port`/`bind_address` was given. Returns the count. */
size_t broker_config_listeners(const broker_config *cfg, broker_listener *out, size_t cap);

#endif
