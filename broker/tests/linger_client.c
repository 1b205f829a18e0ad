/*
 * broker-linger-client: integration.sh's check that a DISCONNECT sent to a
 * client that is still sending reaches it (test-only, never shipped).
 *
 *   broker-linger-client PORT
 *
 * Connects to 127.0.0.1:PORT with MQTT 5.0, then sends a malformed PUBLISH
 * (QoS bits 11, MQTT-3.3.1-4 MUST) followed by 2 MB more, and reads until EOF.
 * A broker that closed with unread input would make the kernel send a TCP
 * reset, which can destroy the DISCONNECT it queued; ours shuts down its side
 * and drains. Exit 0 when the first bytes read are DISCONNECT with reason code
 * 0x81 (Malformed Packet) and no reset came; 1 otherwise, with what was seen
 * on stdout (the first bytes in hex, or the reset).
 */
#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TIMEOUT_MS 5000
#define TRAILER (2u * 1000u * 1000u)

static void print_hex(const char *what, const unsigned char *b, size_t n)
{
    printf("%s", what);
    for (size_t i = 0; i < n && i < 8; i++) printf("%02x", b[i]);
    printf("\n");
}

/* Sends CONNECT (5.0, clean start, client id "l") and reads the whole CONNACK. */
static int connect_mqtt5(int fd)
{
    static const unsigned char connect[] = {0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 1, 'l'};
    unsigned char got[64];
    size_t n = 0;
    if (net_send_all(fd, connect, sizeof connect, TIMEOUT_MS) != (ssize_t)sizeof connect) {
        printf("CONNECT not sent: %s\n", strerror(errno));
        return -1;
    }
    while (n < 2 || n < 2u + got[1]) {
        ssize_t r = net_recv_some(fd, got + n, sizeof got - n, TIMEOUT_MS);
        if (r <= 0 || n + (size_t)r >= sizeof got) {
            print_hex("no CONNACK: ", got, n);
            return -1;
        }
        n += (size_t)r;
    }
    return 0;
}

/* The bad PUBLISH and its 2 MB trailer in one send; then everything up to EOF. */
static int send_bad_and_read(int fd)
{
    static unsigned char reply[4096];
    unsigned char *out = calloc(1, 5 + TRAILER);
    size_t have = 0;
    if (out == NULL) { printf("out of memory\n"); return 1; }
    memcpy(out, "\x36\x03\x00\x01" "a", 5);
    ssize_t s = net_send_all(fd, out, 5 + TRAILER, TIMEOUT_MS);
    free(out);
    int reset = s < 0 && (errno == ECONNRESET || errno == EPIPE);
    if (s == NET_TIMEOUT) { printf("the broker stopped reading the trailer\n"); return 1; }
    if (s < 0 && !reset) { printf("send: %s\n", strerror(errno)); return 1; }
    for (int rounds = 0; !reset && rounds < 10000; rounds++) {
        unsigned char buf[65536];
        ssize_t r = net_recv_some(fd, buf, sizeof buf, TIMEOUT_MS);
        if (r == 0) break;
        if (r == NET_TIMEOUT) { printf("no EOF within %d ms\n", TIMEOUT_MS); return 1; }
        if (r < 0) { reset = errno == ECONNRESET; if (!reset) { printf("recv: %s\n", strerror(errno)); return 1; } break; }
        size_t keep = (size_t)r < sizeof reply - have ? (size_t)r : sizeof reply - have;
        memcpy(reply + have, buf, keep);
        have += keep;
    }
    if (reset) {
        printf("reset after %zu bytes: ", have);
        print_hex("", reply, have);
        return 1;
    }
    print_hex("", reply, have < 3 ? have : 3);
    return have >= 3 && reply[0] == 0xe0 && reply[2] == 0x81 ? 0 : 1;
}

int main(int argc, char **argv)
{
    char err[256];
    int port = argc == 2 ? atoi(argv[1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: broker-linger-client PORT\n");
        return 2;
    }
    int fd = net_connect("127.0.0.1", (uint16_t)port, TIMEOUT_MS, err, sizeof err);
    if (fd < 0) { printf("%s\n", err); return 1; }
    int rc = connect_mqtt5(fd) == 0 ? send_bad_and_read(fd) : 1;
    close(fd);
    return rc;
}
