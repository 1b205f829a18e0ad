/*
 * fragile_client: the planted fault of mqtt-fuzz's client-fuzzing test
 * (test-only, never shipped). A tiny MQTT 3.1.1 subscriber:
 *   fragile_client HOST PORT
 * connects, sends CONNECT and SUBSCRIBE fz/# (QoS 1), then reads packets
 * until the server closes. Its defect, a classic of hand-written clients: it
 * trusts the Topic Name's length prefix of a PUBLISH and copies that many
 * bytes from a buffer holding only the Remaining Length: a PUBLISH whose
 * topic length runs past its end reads out of bounds (AddressSanitizer:
 * heap-buffer-overflow). mqtt-fuzz --client does not know it: its mutations
 * of PUBLISH packets must find it.
 */
#include "net/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(int fd, uint8_t *b, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = net_recv_some(fd, b + got, n - got, 5000);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* One packet: its first byte and a malloc'd body of exactly Remaining Length bytes. */
static uint8_t *read_packet(int fd, uint8_t *type, size_t *len)
{
    uint8_t h;
    size_t rl = 0;
    if (read_all(fd, type, 1) != 0) return NULL;
    for (int i = 0; i < 4; i++) {
        if (read_all(fd, &h, 1) != 0) return NULL;
        rl |= (size_t)(h & 0x7f) << (7 * i);
        if (!(h & 0x80)) break;
        if (i == 3) return NULL;
    }
    uint8_t *body = malloc(rl ? rl : 1);
    if (!body || read_all(fd, body, rl) != 0) return free(body), NULL;
    *len = rl;
    return body;
}

static void on_publish(int fd, uint8_t first, const uint8_t *body, size_t len)
{
    char topic[128];
    if (len < 2) return;
    size_t tlen = (size_t)body[0] << 8 | body[1];
    memcpy(topic, body + 2, tlen < sizeof topic ? tlen : sizeof topic - 1); /* the defect: no check against len */
    topic[tlen < sizeof topic ? tlen : sizeof topic - 1] = 0;
    printf("%s\n", topic);
    if ((first >> 1 & 3) == 1 && len >= 4 + tlen) {
        uint8_t puback[4] = {0x40, 2, body[2 + tlen], body[3 + tlen]};
        net_send_all(fd, puback, 4, 1000);
    }
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc != 3) return fprintf(stderr, "usage: fragile_client HOST PORT\n"), 2;
    int fd = net_connect(argv[1], (uint16_t)atoi(argv[2]), 2000, err, sizeof err);
    if (fd < 0) return fprintf(stderr, "fragile_client: %s\n", err), 1;
    static const uint8_t hello[] = {0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 7, 'f', 'r', 'a', 'g', 'i', 'l', 'e',
                                    0x82, 9, 0, 1, 0, 4, 'f', 'z', '/', '#', 1};
    if (net_send_all(fd, hello, sizeof hello, 2000) != (ssize_t)sizeof hello) return 1;
    for (;;) {
        uint8_t type;
        size_t len = 0;
        uint8_t *body = read_packet(fd, &type, &len);
        if (!body) break;
        if (type >> 4 == 3) on_publish(fd, type, body, len);
        free(body);
    }
    close(fd);
    return 0;
}
