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

/* The probe's transport: plain TCP or TLS over it. */
typedef struct {
    int fd;
    net_tls *tls;
} probe_conn;

static void probe_close(probe_conn *p)
{
    net_tls_close(p->tls);
    close(p->fd);
}

int conf_probe_broker(const char *host, uint16_t port, net_tls_ctx *tls, int timeout_ms, char *msg, size_t msglen)
{
    int64_t deadline = net_now_ms() + timeout_ms;
    probe_conn pc = {.fd = net_connect(host, port, timeout_ms, msg, msglen)};
    if (pc.fd < 0) return -1;
    int fd = pc.fd;
    if (tls) {
        char err[400];
        pc.tls = net_tls_new(tls, fd, host, err, sizeof err);
        int left = (int)(deadline - net_now_ms());
        if (!pc.tls || net_tls_connect(pc.tls, left < 1 ? 1 : left, err, sizeof err) != 0) {
            const char *why = strncmp(err, "TLS handshake: ", 15) == 0 ? err + 15 : err;
            snprintf(msg, msglen, "%s:%u accepted TCP but the TLS handshake failed: %s", host, port, why);
            probe_close(&pc);
            return -1;
        }
    }
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
        probe_close(&pc);
        return -1;
    }
    ssize_t sent = pc.tls ? net_tls_send_all(pc.tls, buf, n, timeout_ms) : net_send_all(fd, buf, n, timeout_ms);
    if (sent != (ssize_t)n) {
        snprintf(msg, msglen, "%s:%u accepted %s but the CONNECT could not be sent%s", host, port,
                 pc.tls ? "TLS" : "TCP", pc.tls ? " (does it require a client certificate? --cert, --key)" : "");
        probe_close(&pc);
        return -1;
    }
    uint8_t in[64];
    size_t got = 0;
    codec.from = MQTT_FROM_SERVER;
    for (;;) {
        int left = (int)(deadline - net_now_ms());
        ssize_t k = pc.tls ? net_tls_recv_some(pc.tls, in + got, sizeof in - got, left < 0 ? 0 : left)
                           : net_recv_some(fd, in + got, sizeof in - got, left < 0 ? 0 : left);
        if (k <= 0) {
            snprintf(msg, msglen, "%s:%u accepted %s but %s%s", host, port, pc.tls ? "TLS" : "TCP",
                     k == 0 ? "closed the connection without a CONNACK" : k == NET_TIMEOUT
                         ? "sent no CONNACK in time" : "the connection failed",
                     k == NET_TIMEOUT ? ""
                     : pc.tls ? " (does it require a client certificate? --cert, --key)"
                              : " (a TLS listener? --cafile or --insecure)");
            probe_close(&pc);
            return -1;
        }
        got += (size_t)k;
        mqtt_packet ack;
        mqtt_error err;
        mqtt_status s = mqtt_decode(&codec, in, got, &ack, &err);
        if (s == MQTT_NEED_MORE && got < sizeof in) continue;
        probe_close(&pc);
        if (s == MQTT_OK && ack.type == MQTT_CONNACK) return 0;
        snprintf(msg, msglen, "%s:%u answered CONNECT with something other than a CONNACK", host, port);
        return -1;
    }
}

