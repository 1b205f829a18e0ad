/*
 * Interoperability with a real third-party peer: Debian's mosquitto_pub
 * (mosquitto-clients 2.0.11) connects to a listener of this test on
 * 127.0.0.1, and every byte it sends must (1) equal the vector written by hand
 * from the spec's layouts, and (2) pass the full decode helper (prefixes,
 * over-read, re-encode). The test answers with packets from mqtt_encode, so
 * mosquitto_pub also checks our encoder: it only goes on to PUBLISH after a
 * CONNACK it accepts, and only DISCONNECTs after a PUBACK it accepts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"
#include "vectors.h"

#define DEADLINE_MS 10000

typedef struct {
    int fd;
    pid_t pid;
    int64_t deadline;
    uint8_t buf[4096];
    size_t len;
} peer;

static void start(peer *p, const char *version)
{
    char err[256], port[16];
    int lfd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
    cr_assert(lfd >= 0, "%s", err);
    snprintf(port, sizeof port, "%u", net_local_port(lfd));
    p->deadline = net_now_ms() + DEADLINE_MS;
    p->len = 0;
    /* A close-on-exec pipe tells a failed exec (the child writes errno) from a
     * started mosquitto_pub (the pipe just closes). */
    int ex[2];
    cr_assert(pipe(ex) == 0 && fcntl(ex[1], F_SETFD, FD_CLOEXEC) == 0);
    p->pid = fork();
    cr_assert(p->pid >= 0, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        close(ex[0]);
        execlp("mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", version,
               "-i", "interop", "-t", "a/b", "-m", "hi", "-q", "1", (char *)NULL);
        int e = errno;
        if (write(ex[1], &e, sizeof e) < 0) _exit(126);
        _exit(127);
    }
    close(ex[1]);
    int exec_errno = 0;
    ssize_t r = read(ex[0], &exec_errno, sizeof exec_errno);
    close(ex[0]);
    if (r > 0) {
        waitpid(p->pid, NULL, 0);
        cr_assert_fail("cannot run mosquitto_pub: %s (install mosquitto-clients)", strerror(exec_errno));
    }
    struct pollfd pf = {lfd, POLLIN, 0};
    int left = (int)(p->deadline - net_now_ms());
    cr_assert(poll(&pf, 1, left > 0 ? left : 0) == 1,
              "mosquitto_pub did not connect within %d ms (is mosquitto-clients installed?)",
              DEADLINE_MS);
    p->fd = accept(lfd, NULL, NULL);
    cr_assert(p->fd >= 0, "accept: %s", strerror(errno));
    close(lfd);
    cr_assert(net_set_nonblocking(p->fd) == 0);
}

/* Reads until one whole packet is buffered; returns its bytes (consumed). */
static size_t next_packet(peer *p, const mqtt_codec *c, uint8_t *out)
{
    for (;;) {
        mqtt_packet pkt;
        mqtt_error e;
        mqtt_status st = mqtt_decode(c, p->buf, p->len, &pkt, &e);
        if (st == MQTT_OK) {
            size_t n = pkt.length;
            memcpy(out, p->buf, n);
            memmove(p->buf, p->buf + n, p->len - n);
            p->len -= n;
            return n;
        }
        cr_assert_eq(st, MQTT_NEED_MORE, "mosquitto_pub sent a packet we reject: %s %s at %zu: %s",
                     mqtt_status_name(st), e.rule, e.offset, e.message);
        int left = (int)(p->deadline - net_now_ms());
        ssize_t got = net_recv_some(p->fd, p->buf + p->len, sizeof p->buf - p->len, left > 0 ? left : 0);
        cr_assert(got > 0, "mosquitto_pub: %s", got == 0 ? "closed the connection" : "no packet in time");
        p->len += (size_t)got;
    }
}

static void reply(peer *p, const mqtt_codec *c, const mqtt_packet *pkt)
{
    uint8_t out[64];
    size_t n;
    mqtt_error e;
    cr_assert_eq(mqtt_encode(c, pkt, out, sizeof out, &n, &e), MQTT_OK, "%s", e.rule);
    int left = (int)(p->deadline - net_now_ms());
    cr_assert_eq(net_send_all(p->fd, out, n, left > 0 ? left : 0), (ssize_t)n);
}

static void finish(peer *p)
{
    close(p->fd);
    int status = 0;
    pid_t done;
    while ((done = waitpid(p->pid, &status, WNOHANG)) == 0 && net_now_ms() < p->deadline)
        poll(NULL, 0, 10); /* poll for the exit, bounded by the deadline */
    if (done == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        cr_assert_fail("mosquitto_pub did not exit");
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "mosquitto_pub failed (status %d): it did not accept our CONNACK or PUBACK", status);
}

static void exchange(const char *version, mqtt_version v, const char *connect_hex,
                     const char *publish_hex)
{
    peer p;
    start(&p, version);
    mqtt_codec server_in = tv_codec(MQTT_VERSION_UNKNOWN, MQTT_FROM_CLIENT);
    mqtt_codec server_out = tv_codec(v, MQTT_FROM_SERVER);
    uint8_t b[4096], want[4096];
    size_t n, m;

    n = next_packet(&p, &server_in, b);
    m = tv_hex(connect_hex, want, sizeof want);
    cr_assert(n == m && memcmp(b, want, n) == 0, "mosquitto_pub's CONNECT differs from the vector");
    const mqtt_packet *k = TV_DECODE_BYTES_OK(&server_in, b, n);
    cr_assert(tv_eq(k->connect.client_id, "interop"));
    cr_assert_eq(k->connect.protocol_level, v);

    mqtt_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = MQTT_CONNACK;
    reply(&p, &server_out, &ack);

    server_in.version = v;
    n = next_packet(&p, &server_in, b);
    m = tv_hex(publish_hex, want, sizeof want);
    cr_assert(n == m && memcmp(b, want, n) == 0, "mosquitto_pub's PUBLISH differs from the vector");
    const mqtt_packet *pub = TV_DECODE_BYTES_OK(&server_in, b, n);
    cr_assert(tv_eq(pub->publish.topic, "a/b"));
    cr_assert(tv_eq(pub->publish.payload, "hi"));
    cr_assert_eq(pub->publish.qos, 1);

    memset(&ack, 0, sizeof ack);
    ack.type = MQTT_PUBACK;
    ack.ack.packet_id = pub->publish.packet_id;
    reply(&p, &server_out, &ack);

    n = next_packet(&p, &server_in, b);
    cr_assert_eq(TV_DECODE_BYTES_OK(&server_in, b, n)->type, MQTT_DISCONNECT);
    cr_assert(n == 2 && b[0] == 0xe0 && b[1] == 0x00);
    finish(&p);
}

Test(codec_interop, mosquitto_pub_31_matches_the_vectors)
{
    exchange("mqttv31", MQTT_V31, "10 15 00 06 'MQIsdp' 03 02 00 3c 00 07 'interop'",
             "32 09 00 03 'a/b' 00 01 'hi'");
}

Test(codec_interop, mosquitto_pub_311_matches_the_vectors)
{
    exchange("mqttv311", MQTT_V311, "10 13 00 04 'MQTT' 04 02 00 3c 00 07 'interop'",
             "32 09 00 03 'a/b' 00 01 'hi'");
}

Test(codec_interop, mosquitto_pub_5_matches_the_vectors)
{
    /* mosquitto_pub announces Receive Maximum 20 (0x21 00 14). */
    exchange("mqttv5", MQTT_V5, "10 17 00 04 'MQTT' 05 02 00 3c 03 21 00 14 00 07 'interop'",
             "32 0a 00 03 'a/b' 00 01 00 'hi'");
}
