/*
 * bench-broker: the load driver of `make bench-broker`, run against one
 * broker at a time (ours and Debian's mosquitto, by run-bench.sh).
 *
 *   bench-broker --free-port
 *       prints a free TCP port of 127.0.0.1 (for starting mosquitto).
 *   bench-broker --port PORT --pid PID --name NAME [--conns N] [--messages M] [--payload B]
 *       1. idle memory: opens N connections (MQTT 3.1.1 CONNECT, keep alive
 *          60), waits for every CONNACK and reports the broker's RSS growth
 *          (VmRSS of PID) per connection;
 *       2. throughput: one publisher, one subscriber on one topic, M
 *          messages of B bytes at QoS 0, then M/2 at QoS 1 (publisher
 *          window 100, subscriber acking), timed from the first byte sent
 *          to the last message received.
 *   bench-broker --load --port PORT --pid PID --name NAME [--messages M]
 *       the load cases of issue 14, QoS 0, 64-byte payloads, open loop:
 *       fan-in (20 publishers, M messages in all, one '#'-style subscriber),
 *       slow subscriber (one publisher, M messages, one subscriber reading,
 *       one '#' subscriber never reading), retained (10,000 retained
 *       messages, then a new subscriber): deliveries per second, messages
 *       lost, longest publisher stall, retained messages delivered.
 *   Output: one line per figure, "NAME KEY VALUE", parsed by run-bench.sh.
 *
 * Everything goes through net/ and the codec: no hand-made packets. A
 * broker that stops answering makes the driver report what it got after 5 s
 * of silence rather than hang.
 */
#include "net/net.h"

#include <mqtt/mqtt.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SILENCE_MS 5000

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench-broker: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static size_t encode(mqtt_version v, mqtt_packet *pkt, uint8_t *buf, size_t cap)
{
    mqtt_codec codec = {.version = v, .from = MQTT_FROM_CLIENT};
    size_t n;
    mqtt_error err;
    if (mqtt_encode(&codec, pkt, buf, cap, &n, &err) != MQTT_OK) die("encode failed: %s", err.message);
    return n;
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read %s", path);
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static int connect_client(uint16_t port, const char *id, uint16_t keepalive)
{
    char err[256];
    int fd = net_connect("127.0.0.1", port, 5000, err, sizeof err);
    if (fd < 0) die("%s", err);
    mqtt_packet p = {.type = MQTT_CONNECT};
    p.connect.client_id = (mqtt_bytes){(const uint8_t *)id, strlen(id)};
    p.connect.clean_start = true;
    p.connect.keep_alive = keepalive;
    uint8_t buf[128];
    size_t n = encode(MQTT_V311, &p, buf, sizeof buf);
    if (net_send_all(fd, buf, n, 5000) != (ssize_t)n) die("send CONNECT: %s", strerror(errno));
    return fd;
}

/* Reads exactly one small packet (CONNACK, SUBACK) of the expected type. */
static void expect_packet(int fd, mqtt_packet_type type)
{
    uint8_t buf[64];
    size_t len = 0;
    int64_t deadline = net_now_ms() + SILENCE_MS;
    for (;;) {
        mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_SERVER};
        mqtt_packet pkt;
        mqtt_status st = mqtt_decode(&codec, buf, len, &pkt, NULL);
        if (st == MQTT_OK) {
            if (pkt.type != type) die("unexpected %s", mqtt_packet_type_name(pkt.type));
            if (type == MQTT_CONNACK && pkt.connack.reason_code) die("%s", "CONNACK refused");
            return;
        }
        if (st != MQTT_NEED_MORE) die("%s", "undecodable answer");
        int left = (int)(deadline - net_now_ms());
        ssize_t r = net_recv_some(fd, buf + len, sizeof buf - len, left < 0 ? 0 : left);
        if (r <= 0) die("no %s from the broker", mqtt_packet_type_name(type));
        len += (size_t)r;
    }
}

/* ------------------------------------------------------------ idle memory */

static void bench_idle(const char *name, uint16_t port, int pid, int conns)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((rlim_t)conns + 32 > rl.rlim_cur) {
        int n = (int)rl.rlim_cur - 32;
        fprintf(stderr, "bench-broker: RLIMIT_NOFILE is %lu: measuring %d connections instead of %d\n",
                (unsigned long)rl.rlim_cur, n, conns);
        conns = n;
    }
    int *fds = calloc((size_t)conns, sizeof *fds);
    /* Warm up: the first connections pay for one-off allocations. */
    int warm = connect_client(port, "bench-warmup", 60);
    expect_packet(warm, MQTT_CONNACK);
    long before = rss_kib(pid);
    int64_t t0 = net_now_ms();
    char id[64];
    int batch = 50; /* below mosquitto's listen backlog (100): no SYN retransmits */
    for (int i = 0; i < conns; i += batch) {
        int end = i + batch < conns ? i + batch : conns;
        for (int k = i; k < end; k++) {
            snprintf(id, sizeof id, "bench-idle-%06d", k);
            fds[k] = connect_client(port, id, 60);
        }
        for (int k = i; k < end; k++) expect_packet(fds[k], MQTT_CONNACK);
    }
    int64_t t1 = net_now_ms();
    long after = rss_kib(pid);
    printf("%s idle_connections %d\n", name, conns);
    printf("%s rss_before_kib %ld\n", name, before);
    printf("%s rss_after_kib %ld\n", name, after);
    printf("%s bytes_per_connection %.0f\n", name, (double)(after - before) * 1024.0 / conns);
    printf("%s connects_per_sec %.0f\n", name, conns * 1000.0 / (double)(t1 > t0 ? t1 - t0 : 1));
    fflush(stdout);
    for (int i = 0; i < conns; i++) close(fds[i]);
    close(warm);
    fprintf(stderr, "%s: %d connections in %.3f s; closed at %.3f s\n", name, conns, (t1 - t0) / 1000.0,
            (net_now_ms() - t0) / 1000.0);
    free(fds);
}

/* ------------------------------------------------------------- throughput */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} rxbuf;

/* Reads what is there; decodes whole packets; returns PUBLISH count and
 * appends PUBACKs for QoS 1 to *acks. -1 if the connection closed. */
static long drain(int fd, rxbuf *rx, uint8_t *acks, size_t *nacks, size_t acks_cap, long *acked)
{
    if (rx->cap - rx->len < 65536) {
        rx->cap = rx->cap ? rx->cap * 2 : 1 << 20;
        rx->buf = realloc(rx->buf, rx->cap);
    }
    ssize_t r = recv(fd, rx->buf + rx->len, rx->cap - rx->len, MSG_DONTWAIT);
    if (r == 0) return -1;
    if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    rx->len += (size_t)r;
    long pubs = 0;
    size_t off = 0;
    mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_SERVER};
    for (;;) {
        mqtt_packet pkt;
        mqtt_status st = mqtt_decode(&codec, rx->buf + off, rx->len - off, &pkt, NULL);
        if (st == MQTT_NEED_MORE) break;
        if (st != MQTT_OK) die("%s", "broker sent an undecodable packet");
        if (pkt.type == MQTT_PUBLISH) {
            pubs++;
            if (pkt.publish.qos == 1 && acks && *nacks + 8 < acks_cap) {
                mqtt_packet a = {.type = MQTT_PUBACK};
                a.ack.packet_id = pkt.publish.packet_id;
                *nacks += encode(MQTT_V311, &a, acks + *nacks, acks_cap - *nacks);
            }
        } else if (pkt.type == MQTT_PUBACK && acked) {
            (*acked)++;
        }
        off += pkt.length;
    }
    memmove(rx->buf, rx->buf + off, rx->len - off);
    rx->len -= off;
    return pubs;
}

static void send_some(int fd, const uint8_t *data, size_t *off, size_t len)
{
    while (*off < len) {
        ssize_t n = send(fd, data + *off, len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
            die("send: %s", strerror(errno));
        }
        *off += (size_t)n;
    }
}

static void bench_throughput(const char *name, uint16_t port, long messages, size_t payload_len, uint8_t qos)
{
    int64_t setup_start = net_now_ms();
    int sub = connect_client(port, qos ? "bench-sub-q1" : "bench-sub-q0", 600);
    expect_packet(sub, MQTT_CONNACK);
    const char *topic = qos ? "bench/q1" : "bench/q0";
    mqtt_subscription s = {.topic_filter = {(const uint8_t *)topic, strlen(topic)}, .qos = qos};
    mqtt_packet sp = {.type = MQTT_SUBSCRIBE};
    sp.subscribe.packet_id = 1;
    sp.subscribe.subscriptions = &s;
    sp.subscribe.count = 1;
    uint8_t small[256];
    size_t n = encode(MQTT_V311, &sp, small, sizeof small);
    net_send_all(sub, small, n, 5000);
    expect_packet(sub, MQTT_SUBACK);
    int pub = connect_client(port, qos ? "bench-pub-q1" : "bench-pub-q0", 600);
    expect_packet(pub, MQTT_CONNACK);
    fprintf(stderr, "%s: QoS %u setup took %.3f s\n", name, qos, (net_now_ms() - setup_start) / 1000.0);

    uint8_t *payload = malloc(payload_len);
    memset(payload, 'x', payload_len);
    /* Two pre-encoded batches of PUBLISH packets, ids 1..100 and 101..200
     * for QoS 1: a batch is reused once the one before it is fully acked
     * (acks come in order), so at most 200 are unacknowledged. */
    enum { BATCH = 100 };
    size_t one_cap = payload_len + strlen(topic) + 16;
    uint8_t *batch[2];
    size_t batch_off[BATCH + 1];
    for (int b = 0; b < 2; b++) {
        batch[b] = malloc(BATCH * one_cap);
        batch_off[0] = 0;
        for (int i = 0; i < BATCH; i++) {
            mqtt_packet p = {.type = MQTT_PUBLISH};
            p.publish.topic = s.topic_filter;
            p.publish.payload = (mqtt_bytes){payload, payload_len};
            p.publish.qos = qos;
            p.publish.packet_id = qos ? (uint16_t)(b * BATCH + i + 1) : 0;
            batch_off[i + 1] = batch_off[i] + encode(MQTT_V311, &p, batch[b] + batch_off[i], one_cap);
        }
    }
    const uint8_t *cur = batch[0];
    int batch_no = 0;
    size_t ack_cap = 1 << 20, nacks = 0, acks_off = 0;
    uint8_t *acks = malloc(ack_cap);
    rxbuf sub_rx = {0}, pub_rx = {0};
    long sent = 0, received = 0, acked = 0;
    size_t cur_off = 0, cur_len = 0; /* the batch being written */
    int64_t start = net_now_ms(), last_progress = start, end = start;
    while (received < messages) {
        if (cur_off == cur_len && sent < messages && (qos == 0 || sent - acked <= BATCH)) {
            long left = messages - sent;
            int k = left < BATCH ? (int)left : BATCH;
            cur = batch[batch_no++ & 1];
            cur_off = 0;
            cur_len = batch_off[k];
            sent += k;
        }
        struct pollfd pf[2] = {{.fd = sub, .events = POLLIN | (acks_off < nacks ? POLLOUT : 0)},
                               {.fd = pub, .events = POLLIN | (cur_off < cur_len ? POLLOUT : 0)}};
        int pr = poll(pf, 2, 200);
        if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        int64_t now = net_now_ms();
        if (pf[1].revents & POLLOUT) send_some(pub, cur, &cur_off, cur_len);
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            long got = drain(sub, &sub_rx, acks, &nacks, ack_cap, NULL);
            if (got < 0) die("%s", "the broker closed the subscriber");
            if (got > 0) {
                received += got;
                last_progress = end = now;
            }
        }
        if (acks_off < nacks) {
            send_some(sub, acks, &acks_off, nacks);
            if (acks_off == nacks) acks_off = nacks = 0;
        }
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            long before = acked;
            if (drain(pub, &pub_rx, NULL, NULL, 0, &acked) < 0) die("%s", "the broker closed the publisher");
            if (acked > before) last_progress = now;
        }
        if (now - last_progress > SILENCE_MS) break; /* messages lost: report what arrived */
    }
    double secs = (double)(end - start) / 1000.0;
    if (secs <= 0) secs = 0.001;
    printf("%s qos%u_messages %ld\n", name, qos, messages);
    printf("%s qos%u_received %ld\n", name, qos, received);
    printf("%s qos%u_seconds %.3f\n", name, qos, secs);
    printf("%s qos%u_msgs_per_sec %.0f\n", name, qos, (double)received / secs);
    fflush(stdout);
    close(pub);
    close(sub);
    free(payload);
    free(batch[0]);
    free(batch[1]);
    free(acks);
    free(sub_rx.buf);
    free(pub_rx.buf);
}

/* ------------------------------------------------------------ load cases */

/* Subscribes fd to filter at QoS 0; waits for the SUBACK if wait (else the
 * caller's reader skips it: retained messages may follow in the same read). */
static void subscribe0(int fd, const char *filter, bool wait)
{
    mqtt_subscription s = {.topic_filter = {(const uint8_t *)filter, strlen(filter)}};
    mqtt_packet sp = {.type = MQTT_SUBSCRIBE};
    sp.subscribe.packet_id = 1;
    sp.subscribe.subscriptions = &s;
    sp.subscribe.count = 1;
    uint8_t buf[256];
    size_t n = encode(MQTT_V311, &sp, buf, sizeof buf);
    net_send_all(fd, buf, n, 5000);
    if (wait) expect_packet(fd, MQTT_SUBACK);
}

/* count QoS 0 PUBLISH packets on topic, payload bytes each, in *len bytes. */
static uint8_t *publish_batch(const char *topic, size_t payload_len, int count, bool retain_numbered, size_t *len)
{
    size_t one = payload_len + strlen(topic) + 32;
    uint8_t *buf = malloc(one * (size_t)count), *payload = calloc(1, payload_len + 1);
    memset(payload, 'x', payload_len);
    *len = 0;
    for (int i = 0; i < count; i++) {
        char t[128];
        snprintf(t, sizeof t, "%s/%d", topic, retain_numbered ? i : 0);
        mqtt_packet p = {.type = MQTT_PUBLISH};
        p.publish.topic = (mqtt_bytes){(const uint8_t *)t, strlen(t)};
        p.publish.payload = (mqtt_bytes){payload, payload_len};
        p.publish.retain = retain_numbered;
        *len += encode(MQTT_V311, &p, buf + *len, one);
    }
    free(payload);
    return buf;
}

/*
 * Publishers write open loop (as fast as their sockets take it) into nsubs
 * subscribers, of which those with read[i] false never read. Reports the
 * messages the reading subscribers got, per second, the messages lost
 * (sent x reading subscribers - received) and the longest time a publisher
 * could not write (its socket full: the broker holding it back).
 */
static void run_load(const char *name, const char *what, uint16_t port, int npub, long each, const char **filters,
                     const bool *reads, int nsubs)
{
    int subs[8], pubs[64];
    rxbuf rx[8] = {{0}};
    for (int i = 0; i < nsubs; i++) {
        char id[32];
        snprintf(id, sizeof id, "load-sub-%d", i);
        subs[i] = connect_client(port, id, 600);
        expect_packet(subs[i], MQTT_CONNACK);
        subscribe0(subs[i], filters[i], true);
    }
    size_t blen;
    uint8_t *batch = publish_batch("load", 64, 1000, false, &blen);
    size_t off[64] = {0};
    long rounds[64] = {0}, received = 0;
    int64_t blocked_since[64] = {0}, max_stall = 0;
    for (int k = 0; k < npub; k++) {
        char id[32];
        snprintf(id, sizeof id, "load-pub-%d", k);
        pubs[k] = connect_client(port, id, 600);
        expect_packet(pubs[k], MQTT_CONNACK);
    }
    int64_t start = net_now_ms(), last = start, end = start;
    long rounds_each = each / 1000 > 0 ? each / 1000 : 1;
    for (;;) {
        struct pollfd pf[72];
        int n = 0;
        for (int i = 0; i < nsubs; i++) pf[n++] = (struct pollfd){.fd = subs[i], .events = reads[i] ? POLLIN : 0};
        bool sending = false;
        for (int k = 0; k < npub; k++) {
            sending |= rounds[k] < rounds_each;
            pf[n++] = (struct pollfd){.fd = pubs[k], .events = rounds[k] < rounds_each ? POLLOUT : 0};
        }
        int pr = poll(pf, (nfds_t)n, 100);
        if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        int64_t now = net_now_ms();
        for (int i = 0; i < nsubs; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            long got = drain(subs[i], &rx[i], NULL, NULL, 0, NULL);
            if (got < 0) die("%s", "the broker closed a subscriber");
            if (got > 0) received += got, last = end = now;
        }
        for (int k = 0; k < npub; k++) {
            if (rounds[k] >= rounds_each) continue;
            if (pf[nsubs + k].revents & POLLOUT) {
                if (blocked_since[k] && now - blocked_since[k] > max_stall) max_stall = now - blocked_since[k];
                blocked_since[k] = 0;
                send_some(pubs[k], batch, &off[k], blen);
                if (off[k] == blen) off[k] = 0, rounds[k]++;
            } else if (!blocked_since[k]) {
                blocked_since[k] = now;
            }
        }
        if (sending) last = now;
        if (!sending && now - last > 2000) break; /* everything sent, nothing more arriving */
    }
    int readers = 0;
    for (int i = 0; i < nsubs; i++) readers += reads[i];
    long sent = (long)npub * rounds_each * 1000;
    double secs = (double)(end - start) / 1000.0;
    if (secs <= 0) secs = 0.001;
    printf("%s %s_sent %ld\n", name, what, sent);
    printf("%s %s_delivered %ld\n", name, what, received);
    printf("%s %s_per_sec %.0f\n", name, what, (double)received / secs);
    printf("%s %s_dropped %ld\n", name, what, sent * readers - received);
    printf("%s %s_stall_ms %lld\n", name, what, (long long)max_stall);
    fflush(stdout);
    for (int i = 0; i < nsubs; i++) close(subs[i]), free(rx[i].buf);
    for (int k = 0; k < npub; k++) close(pubs[k]);
    free(batch);
}

/* R retained messages stored, then a new '#' subscriber: how many it gets. */
static void bench_retained(const char *name, uint16_t port, int count)
{
    int pub = connect_client(port, "load-retainer", 600);
    expect_packet(pub, MQTT_CONNACK);
    size_t blen;
    uint8_t *batch = publish_batch("kept", 64, count, true, &blen);
    net_send_all(pub, batch, blen, 30000);
    uint8_t ping[2] = {0xC0, 0}; /* PINGREQ, 3.1.1 */
    net_send_all(pub, ping, 2, 5000);
    expect_packet(pub, MQTT_PINGRESP); /* all processed, in order */
    int sub = connect_client(port, "load-late", 600);
    expect_packet(sub, MQTT_CONNACK);
    subscribe0(sub, "kept/#", false);
    rxbuf rx = {0};
    long got = 0;
    int64_t last = net_now_ms();
    while (got < count && net_now_ms() - last < 2000) {
        struct pollfd pf = {.fd = sub, .events = POLLIN};
        if (poll(&pf, 1, 100) > 0) {
            long n = drain(sub, &rx, NULL, NULL, 0, NULL);
            if (n < 0) break;
            if (n > 0) got += n, last = net_now_ms();
        }
    }
    printf("%s retained_stored %d\n%s retained_delivered %ld\n", name, count, name, got);
    fflush(stdout);
    /* Leave the broker as found: delete them (empty retained payloads). */
    for (int i = 0; i < count; i++) {
        char t[32];
        snprintf(t, sizeof t, "kept/%d", i);
        mqtt_packet p = {.type = MQTT_PUBLISH};
        p.publish.topic = (mqtt_bytes){(const uint8_t *)t, strlen(t)};
        p.publish.retain = true;
        uint8_t b[64];
        size_t n = encode(MQTT_V311, &p, b, sizeof b);
        net_send_all(pub, b, n, 5000);
    }
    close(sub);
    close(pub);
    free(batch);
    free(rx.buf);
}

static void bench_load(const char *name, uint16_t port, long messages)
{
    const char *fan[] = {"load/#"};
    const bool read1[] = {true};
    run_load(name, "fanin", port, 20, messages / 20, fan, read1, 1);
    const char *two[] = {"load/0", "#"};
    const bool slow[] = {true, false};
    run_load(name, "slowsub", port, 1, messages, two, slow, 2);
    bench_retained(name, port, 10000);
}

int main(int argc, char **argv)
{
    long port = -1, pid = -1, conns = 5000, messages = 200000, payload = 64;
    const char *name = "broker";
    bool load = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--free-port") == 0) {
            char err[256];
            int fd = net_listen("127.0.0.1", 0, 1, err, sizeof err);
            if (fd < 0) die("%s", err);
            printf("%u\n", (unsigned)net_local_port(fd));
            close(fd);
            return 0;
        }
        if (strcmp(a, "--load") == 0) {
            load = true;
            continue;
        }
        if (i + 1 == argc) die("%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0) port = atol(v);
        else if (strcmp(a, "--pid") == 0) pid = atol(v);
        else if (strcmp(a, "--name") == 0) name = v;
        else if (strcmp(a, "--conns") == 0) conns = atol(v);
        else if (strcmp(a, "--messages") == 0) messages = atol(v);
        else if (strcmp(a, "--payload") == 0) payload = atol(v);
        else die("unknown option %s", a);
    }
    if (port <= 0 || port > 65535 || pid <= 0 || conns <= 0 || messages <= 0 || payload < 0)
        die("%s", "usage: bench-broker --port PORT --pid PID --name NAME [--conns N] [--messages M] [--payload B]");
    if (load) {
        bench_load(name, (uint16_t)port, messages);
        return 0;
    }
    bench_idle(name, (uint16_t)port, (int)pid, (int)conns);
    bench_throughput(name, (uint16_t)port, messages, (size_t)payload, 0);
    bench_throughput(name, (uint16_t)port, messages / 2, (size_t)payload, 1);
    return 0;
}
