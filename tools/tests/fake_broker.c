/*
 * tools-fake-broker: a scripted, misbehaving MQTT server for mqtt-pub and
 * mqtt-sub's tests of bad peers. It listens on 127.0.0.1 on a free port,
 * prints the port on stdout, serves one client as SCRIPT says, and exits.
 *
 *   close-before-connack   read CONNECT, close
 *   close-after-connack    CONNACK, then close
 *   close-on-publish       CONNACK, close when a PUBLISH arrives (no ack)
 *   ack-then-close:N       CONNACK, acknowledge N PUBLISHes, close on the next
 *   refuse:CODE            CONNACK with return/reason code CODE
 *   silent                 accept and never answer
 *   garbage                CONNACK, then bytes that are not MQTT
 *   deny-subscribe         CONNACK, SUBACK refusing every filter
 *   disconnect:CODE        CONNACK, then DISCONNECT with CODE (5.0) on the first SUBSCRIBE or PUBLISH
 *   qos2-puback            acknowledge every PUBLISH with PUBACK, QoS 2 too (RabbitMQ 3.10 does)
 *   qos2-pubcomp           answer a QoS 2 PUBLISH with PUBCOMP instead of PUBREC
 *
 * Invariant: it never runs longer than 20 seconds, so a test cannot hang on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>

#include <mqtt/mqtt.h>

#include "net/net.h"

#define LIFETIME_MS 20000

static int64_t deadline;
static mqtt_codec enc, dec;

static int left(void)
{
    int64_t l = deadline - net_now_ms();
    return l < 0 ? 0 : (int)l;
}

static void send_pkt(int fd, const mqtt_packet *pkt)
{
    uint8_t buf[512];
    size_t n;
    mqtt_error err;
    if (mqtt_encode(&enc, pkt, buf, sizeof buf, &n, &err) != MQTT_OK) {
        fprintf(stderr, "fake broker: cannot encode %s: %s\n", mqtt_packet_type_name(pkt->type), err.message);
        exit(2);
    }
    net_send_all(fd, buf, n, left());
}

static void connack(int fd, uint8_t code)
{
    mqtt_packet p = {.type = MQTT_CONNACK};
    p.connack.reason_code = code;
    send_pkt(fd, &p);
}

/* Reads the next packet from the client; false when it closed or time is up. */
static bool next_packet(int fd, uint8_t *buf, size_t cap, size_t *have, mqtt_packet *pkt, mqtt_user_property *up,
                        mqtt_subscription *subs)
{
    for (;;) {
        dec.user_properties = up;
        dec.user_properties_cap = 64;
        dec.subscriptions = subs;
        dec.subscriptions_cap = 64;
        mqtt_status st = *have ? mqtt_decode(&dec, buf, *have, pkt, NULL) : MQTT_NEED_MORE;
        if (st == MQTT_OK) return true;
        if (st != MQTT_NEED_MORE) {
            fprintf(stderr, "fake broker: bad packet from the client\n");
            return false;
        }
        ssize_t n = net_recv_some(fd, buf + *have, cap - *have, left());
        if (n <= 0) return false;
        *have += (size_t)n;
    }
}

static void consume(uint8_t *buf, size_t *have, size_t n)
{
    memmove(buf, buf + n, *have - n);
    *have -= n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tools-fake-broker SCRIPT\n");
        return 2;
    }
    const char *script = argv[1];
    const char *colon = strchr(script, ':');
    long arg = colon ? strtol(colon + 1, NULL, 0) : 0;
    size_t name_len = colon ? (size_t)(colon - script) : strlen(script);
#define IS(name) (name_len == strlen(name) && !strncmp(script, name, name_len))

    deadline = net_now_ms() + LIFETIME_MS;
    char err[256];
    int lfd = net_listen("127.0.0.1", 0, 4, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "fake broker: %s\n", err);
        return 2;
    }
    printf("%u\n", net_local_port(lfd));
    fflush(stdout);

    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, left()) != 1) return 1;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0 || net_set_nonblocking(fd) < 0) return 1;

    static uint8_t buf[1 << 20];
    size_t have = 0;
    mqtt_packet pkt;
    mqtt_user_property up[64];
    mqtt_subscription subs[64];
    dec = (mqtt_codec){.version = MQTT_VERSION_UNKNOWN, .from = MQTT_FROM_CLIENT};

    if (IS("silent")) {
        while (left() > 0) {
            ssize_t n = net_recv_some(fd, buf, sizeof buf, left());
            if (n <= 0) break;
        }
        return 0;
    }
    if (!next_packet(fd, buf, sizeof buf, &have, &pkt, up, subs) || pkt.type != MQTT_CONNECT) return 1;
    mqtt_version v = pkt.connect.protocol_level == 5 ? MQTT_V5 : pkt.connect.protocol_level == 3 ? MQTT_V31 : MQTT_V311;
    consume(buf, &have, pkt.length);
    enc = (mqtt_codec){.version = v, .from = MQTT_FROM_SERVER};
    dec.version = v;

    if (IS("close-before-connack")) return 0;
    if (IS("refuse")) {
        connack(fd, (uint8_t)arg);
        shutdown(fd, SHUT_WR);
        while (net_recv_some(fd, buf, sizeof buf, left()) > 0) {
        }
        return 0;
    }
    connack(fd, 0);
    if (IS("close-after-connack")) return 0;
    if (IS("garbage")) {
        static const uint8_t junk[] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff};
        net_send_all(fd, junk, sizeof junk, left());
        while (net_recv_some(fd, buf, sizeof buf, left()) > 0) {
        }
        return 0;
    }
    long acked = 0;
    while (next_packet(fd, buf, sizeof buf, &have, &pkt, up, subs)) {
        consume(buf, &have, pkt.length);
        if (pkt.type == MQTT_DISCONNECT) return 0;
        if (IS("disconnect") && (pkt.type == MQTT_PUBLISH || pkt.type == MQTT_SUBSCRIBE)) {
            mqtt_packet d = {.type = MQTT_DISCONNECT};
            d.disconnect.reason_code = (uint8_t)arg;
            send_pkt(fd, &d);
            return 0;
        }
        if (pkt.type == MQTT_PUBLISH) {
            if (IS("close-on-publish")) return 0;
            if (IS("ack-then-close") && acked++ >= arg) return 0;
            if (pkt.publish.qos > 0) {
                mqtt_packet a = {.type = pkt.publish.qos == 1 || IS("qos2-puback") ? MQTT_PUBACK
                                         : IS("qos2-pubcomp")                      ? MQTT_PUBCOMP
                                                                                   : MQTT_PUBREC};
                a.ack.packet_id = pkt.publish.packet_id;
                send_pkt(fd, &a);
            }
        } else if (pkt.type == MQTT_PUBREL) {
            mqtt_packet a = {.type = MQTT_PUBCOMP};
            a.ack.packet_id = pkt.ack.packet_id;
            send_pkt(fd, &a);
        } else if (pkt.type == MQTT_SUBSCRIBE) {
            uint8_t codes[64];
            for (size_t i = 0; i < pkt.subscribe.count && i < 64; i++)
                codes[i] = IS("deny-subscribe") ? 0x80 : pkt.subscribe.subscriptions[i].qos;
            mqtt_packet a = {.type = MQTT_SUBACK};
            a.suback.packet_id = pkt.subscribe.packet_id;
            a.suback.reason_codes = (mqtt_bytes){codes, pkt.subscribe.count};
            send_pkt(fd, &a);
        } else if (pkt.type == MQTT_PINGREQ) {
            mqtt_packet a = {.type = MQTT_PINGRESP};
            send_pkt(fd, &a);
        }
    }
    return 0;
}
