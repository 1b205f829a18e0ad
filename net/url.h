/*
 * url: where a broker is, as users write it: "mqtt://host:1883",
 * "mqtts://host", "ws://host:8080/mqtt", "wss://host/mqtt", with optional
 * "user[:password]@" before the host (mosquitto's -L form); and the plain
 * "HOST:PORT" / "[V6ADDR]:PORT" / "HOST", which stays plain TCP.
 *
 * Default ports: mqtt 1883, mqtts 8883, ws 80, wss 443 (RFC 6455 3).
 * No allocation; every field is a copy in the struct.
 */
#ifndef NET_URL_H
#define NET_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool tls;         /* mqtts:// or wss:// */
    bool ws;          /* ws:// or wss:// */
    bool has_scheme;  /* written as a URL, not HOST:PORT */
    bool has_port;    /* the port was written (else the scheme's default) */
    char host[256];
    uint16_t port;
    /* ws/wss: the HTTP path with its query, "/" when none was written.
     * mqtt/mqtts: what follows the first '/' after the host (mosquitto's -L
     * reads it as the topic), "" when none. */
    char path[1024];
    bool has_user, has_password;
    char user[256];
    char password[256];
} net_url;

/* Parses text into *u. Returns 0, or -1 with err saying what is wrong
 * ("unsupported URL scheme \"http\" (expected mqtt, mqtts, ws or wss)"). */
int net_url_parse(const char *text, net_url *u, char *err, size_t errlen);

#endif
