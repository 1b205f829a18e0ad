/*
 * One MQTT client connection for mqtt-pub and mqtt-sub, on the shared
 * transport (net/) and the codec: CONNECT built from the configuration (will,
 * credentials, properties), the read loop that frames and decodes what the
 * broker sends, keepalive PINGREQ, and the QoS 1 / QoS 2 handshakes in both
 * directions. With -d it prints libmosquitto's debug lines on stdout
 * ("Client x sending CONNECT", "Client x received PUBACK (Mid: 1, RC:0)" ...).
 *
 * Single-threaded: the tool calls client_session_run in a loop; events come
 * back through the callbacks, from inside client_session_run. Functions
 * return 0 or a CERR_* number; after an error the connection is closed.
 */
#ifndef TOOLS_CLIENT_SESSION_H
#define TOOLS_CLIENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/src/client.h"
#include "tools/src/client_output.h"

typedef struct client_session client_session;
struct net_tls;

typedef struct {
    /* CONNACK: result 0 is success; else the 3.x return code or 5.0 reason code. */
    void (*on_connack)(client_session *s, void *ctx, int result);
    /* An application message, delivered once its handshake allows (QoS 2: on PUBREL). */
    void (*on_message)(client_session *s, void *ctx, const client_message *msg);
    /* An outgoing PUBLISH is complete: QoS 0 once sent, QoS 1 on PUBACK, QoS 2 on
     * PUBCOMP (or on a PUBREC with an error reason). reason is the 5.0 reason code. */
    void (*on_publish)(client_session *s, void *ctx, uint16_t mid, int reason, const mqtt_properties *props);
    /* SUBACK: one reason code (granted QoS or error) per filter. */
    void (*on_subscribe)(client_session *s, void *ctx, uint16_t mid, mqtt_bytes codes);
    void (*on_unsubscribe)(client_session *s, void *ctx, uint16_t mid);
} client_callbacks;

/* An outgoing QoS 1/2 message waiting for its acknowledgement. */
typedef struct {
    uint16_t mid;
    uint8_t qos;
    bool got_pubrec;
} client_outgoing;

/* An incoming QoS 2 message held until PUBREL. */
typedef struct {
    uint16_t mid;
    uint8_t *packet;    /* copy of the PUBLISH bytes */
    size_t len;
    char *topic;        /* resolved topic (it may have come as an alias) */
} client_incoming;

struct client_session {
    const client_cfg *cfg;
    client_callbacks cb;
    void *ctx;
    int fd;
    struct net_tls *tls;      /* the TLS connection over fd, when cfg->tls */
    struct net_ws *ws;        /* the WebSocket over fd or tls, when cfg->ws_path */
    bool handshaking;         /* TLS handshake under way; CONNECT is sent once it is done */
    bool tls_want_write;      /* the TLS layer waits for fd to be writable */
    mqtt_version version;
    mqtt_codec enc, dec;      /* client -> broker, broker -> client */
    char detail[320];         /* what went wrong, for people, when a call failed */
    int disconnect_reason;    /* reason code of a DISCONNECT from the broker, else -1 */
    char *id;                 /* for debug lines; NULL prints "(null)" as libmosquitto */
    bool connected;           /* CONNACK with success received */
    int keepalive;            /* seconds; the server's Server Keep Alive wins */
    int64_t last_in, last_out, ping_sent;
    uint16_t last_mid;
    uint16_t acks_due[16];   /* SUBSCRIBE/UNSUBSCRIBE packet ids awaiting SUBACK/UNSUBACK */
    size_t n_acks_due;

    uint8_t *in;              /* bytes received, not yet decoded */
    size_t in_len, in_cap;
    uint8_t *out;             /* encode buffer */
    size_t out_cap;
    mqtt_user_property *user_props;
    size_t user_props_cap;
    uint32_t sub_ids[32];

    client_outgoing *outgoing;
    size_t n_outgoing, cap_outgoing;
    client_incoming *incoming;
    size_t n_incoming, cap_incoming;
    char **aliases;           /* topic aliases the broker may use (our Topic Alias Maximum) */
    uint16_t alias_max;

    /* What the broker's CONNACK said (5.0); defaults for 3.x. */
    uint16_t server_receive_max;
    uint8_t server_max_qos;
    bool server_retain;
    uint32_t server_max_packet;
    uint16_t server_alias_max;
};

/* Connects to cfg's broker and sends CONNECT. When the broker cannot be reached,
 * returns CERR_ERRNO or CERR_EAI with the reason in s->detail ("connect HOST:PORT: ...").
 * With TLS (cfg->tls), the handshake runs inside client_session_run, which sends
 * CONNECT when it is done or returns CERR_TLS when it fails (as libmosquitto's loop),
 * within the keepalive like the CONNACK. */
int client_session_open(client_session *s, const client_cfg *cfg, client_callbacks cb, void *ctx);

/* Connects again after client_session_drop (mqtt-sub reconnects as mosquitto_sub). */
int client_session_connect(client_session *s);

/* Waits up to timeout_ms (< 0: until the next keepalive duty) for the broker,
 * or for extra_fd (if >= 0) to become readable (*extra_ready set), handles
 * what arrived and keepalive. Returns 0 or a CERR_* (CERR_CONN_LOST when the
 * broker closed, CERR_KEEPALIVE when it went silent, CERR_PROTOCOL when it
 * broke the protocol; s->detail says what happened, for people). */
int client_session_run(client_session *s, int timeout_ms, int extra_fd, bool *extra_ready);

/* PUBLISH; *mid gets the packet identifier (0 for QoS 0). QoS 0 completes at once. */
int client_publish(client_session *s, const char *topic, const uint8_t *payload, size_t len, int qos,
                   bool retain, const mqtt_properties *props, uint16_t *mid);
/* One SUBSCRIBE for all filters, with the same QoS and options (5.0 bits 2..5). */
int client_subscribe(client_session *s, char *const *filters, int count, int qos, uint8_t options,
                     const mqtt_properties *props);
int client_unsubscribe(client_session *s, const char *filter, const mqtt_properties *props);
/* DISCONNECT (reason for 5.0) and close. */
int client_disconnect(client_session *s, uint8_t reason, const mqtt_properties *props);
/* Closes the socket (if open) without DISCONNECT, keeping the session state. */
void client_session_drop(client_session *s);
/* Frees everything. */
void client_session_close(client_session *s);

/* QoS 1/2 messages sent and not yet acknowledged. */
size_t client_inflight(const client_session *s);
/* Whether another QoS > 0 message may be sent now (-M and the broker's Receive Maximum). */
bool client_can_send(const client_session *s);
bool client_is_open(const client_session *s);

#endif
