/*
 * Broker checks outside the runs: is the broker there and speaking MQTT
 * (conf_probe_broker, also after each malformed-input run).
 */
#include "conformance/src/engine_int.h"

#include "net/net.h"
#include "net/tls.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- broker checks ---- */

int conf_probe_broker(const char *host, uint16_t port, net_tls_ctx *tls, int timeout_ms, char *msg, size_t msglen)
{
    conf_engine_cfg cfg = {.host = host, .port = port, .tls = tls};
    return conf_probe_target(&cfg, timeout_ms, msg, msglen);
}

int conf_probe_target(const conf_engine_cfg *cfg, int timeout_ms, char *msg, size_t msglen)
{
    const char *host = cfg->host;
    unsigned port = cfg->port;
    int64_t deadline = net_now_ms() + timeout_ms;
    conf_bconn pc;
    int stage;
    char oerr[400];
    if (conf_bconn_open(&pc, cfg, timeout_ms, &stage, oerr, sizeof oerr) < 0) {
        const char *why = strncmp(oerr, "TLS handshake: ", 15) == 0 ? oerr + 15
                        : strncmp(oerr, "WebSocket upgrade: ", 19) == 0 ? oerr + 19 : oerr;
        if (stage == 0) snprintf(msg, msglen, "%s", oerr);
        else snprintf(msg, msglen, "%s:%u accepted %s but %s failed: %s", host, port, stage == 1 ? "TCP" : "the "
                      "connection", stage == 1 ? "the TLS handshake" : "the WebSocket upgrade", why);
        return -1;
    }
    const char *via = pc.ws ? "the WebSocket" : pc.tls ? "TLS" : "TCP";
    mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_CLIENT};
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.clean_start = true;
    p.connect.keep_alive = 10;
    char id[32];
    snprintf(id, sizeof id, "conform-probe-%d", (int)getpid());
    p.connect.client_id = (mqtt_bytes){(const uint8_t *)id, strlen(id)};
    uint8_t buf[128];
    size_t n = 0;
    if (mqtt_encode(&codec, &p, buf, sizeof buf, &n, NULL) != MQTT_OK) {
        snprintf(msg, msglen, "cannot encode the probe CONNECT");
        conf_bconn_close(&pc);
        return -1;
    }
    ssize_t sent = conf_bconn_send(&pc, buf, n, timeout_ms);
    if (sent != (ssize_t)n) {
        snprintf(msg, msglen, "%s:%u accepted %s but the CONNECT could not be sent%s", host, port,
                 via, pc.tls ? " (does it require a client certificate? --cert, --key)" : "");
        conf_bconn_close(&pc);
        return -1;
    }
    uint8_t in[64];
    size_t got = 0;
    codec.from = MQTT_FROM_SERVER;
    for (;;) {
        int left = (int)(deadline - net_now_ms());
        ssize_t k = conf_bconn_recv(&pc, in + got, sizeof in - got, left < 0 ? 0 : left);
        if (k <= 0) {
            snprintf(msg, msglen, "%s:%u accepted %s but %s%s", host, port, via,
                     k == 0 ? "closed the connection without a CONNACK" : k == NET_TIMEOUT
                         ? "sent no CONNACK in time" : "the connection failed",
                     k == NET_TIMEOUT ? ""
                     : pc.tls ? " (does it require a client certificate? --cert, --key)"
                     : pc.ws ? "" : " (a TLS listener? --cafile or --insecure)");
            conf_bconn_close(&pc);
            return -1;
        }
        got += (size_t)k;
        mqtt_packet ack;
        mqtt_error err;
        mqtt_status s = mqtt_decode(&codec, in, got, &ack, &err);
        if (s == MQTT_NEED_MORE && got < sizeof in) continue;
        conf_bconn_close(&pc);
        if (s == MQTT_OK && ack.type == MQTT_CONNACK) return 0;
        snprintf(msg, msglen, "%s:%u answered CONNECT with something other than a CONNACK", host, port);
        return -1;
    }
}

