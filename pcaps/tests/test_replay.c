/*
 * mqtt-pcap replay against a fixture broker in this process (a thread on
 * 127.0.0.1, port chosen by the kernel), for what a live peer can make the
 * replay spend (issue 14):
 *  - a large answer arriving over many reads is framed and decoded once
 *    (counted through scripts/decode_count.c, not timed): replay reads at
 *    most 64 KiB at a time, so decoding from the first byte on every read
 *    hands the decoder quadratic bytes, whatever the timing;
 *  - a broker flooding packets the capture does not await stops the replay
 *    at PCAP_REPLAY_MAX_UNMATCHED with a message naming the connection and a
 *    non-zero exit, instead of growing without bound.
 * The captures are written with pcap_writer into a temporary file.
 */
#include "helpers.h"

#include <criterion/redirect.h>
#include "scripts/decode_count.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcaps/src/pcap_cli.h"
#include "pcaps/src/pcap_collect.h"
#include "pcaps/src/pcap_rxq.h"

#define CLI PCAP_WRITER_CLIENT
#define SRV PCAP_WRITER_SERVER

/* The fixture broker: answers the CONNECT with `answer`, then sends `flood`
 * (up to flood_max bytes, repeated) until the replay closes, then reads to
 * the end. Every wait is bounded (poll 10 s). */
typedef struct {
    int lfd;
    uint16_t port;
    const uint8_t *answer;
    size_t answer_len;
    const uint8_t *flood;
    size_t flood_len;
    size_t flood_max;
    size_t flooded;
    pthread_t th;
} fixture;

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, 10000) != 1)
            return false;
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static void *serve(void *arg)
{
    fixture *f = arg;
    struct pollfd pl = {f->lfd, POLLIN, 0};
    if (poll(&pl, 1, 10000) != 1)
        return NULL;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    uint8_t in[4096];
    struct pollfd pf = {fd, POLLIN, 0};
    /* The CONNECT (a few bytes: one read is enough on loopback to start). */
    if (poll(&pf, 1, 10000) == 1 && recv(fd, in, sizeof in, 0) > 0 && send_all(fd, f->answer, f->answer_len)) {
        while (f->flood && f->flooded < f->flood_max && send_all(fd, f->flood, f->flood_len))
            f->flooded += f->flood_len;
        while (poll(&pf, 1, 10000) == 1 && recv(fd, in, sizeof in, 0) > 0) {
        }
    }
    close(fd);
    return NULL;
}

static void fixture_start(fixture *f)
{
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(f->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->lfd, 1), 0);
    cr_assert_eq(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fixture_stop(fixture *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

/* Writes a one-connection capture: CONNECT, the recorded answer, DISCONNECT. */
static void write_capture(const char *path, const uint8_t *answer, size_t n)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    cr_assert_eq(pcap_writer_conn_init_text(&c, "192.168.1.10", 50000, "192.168.1.1", 1883), 0);
    cr_assert_eq(pcap_writer_handshake(m.w, &c, m.t++), 0);
    uint8_t b[256];
    size_t k = enc_connect(MQTT_V311, "replayer", b, sizeof b);
    cr_assert_eq(pcap_writer_send(m.w, &c, CLI, b, k, m.t++), 0);
    cr_assert_eq(pcap_writer_send(m.w, &c, SRV, answer, n, m.t++), 0);
    k = enc_simple(MQTT_V311, MQTT_FROM_CLIENT, MQTT_DISCONNECT, b, sizeof b);
    cr_assert_eq(pcap_writer_send(m.w, &c, CLI, b, k, m.t++), 0);
    pcap_writer_fin(m.w, &c, CLI, m.t++);
    cap_close(&m);
    FILE *fp = fopen(path, "wb");
    cr_assert(fp);
    cr_assert_eq(fwrite(m.buf, 1, m.len, fp), m.len);
    fclose(fp);
    cap_free(&m);
}

static int replay(const char *path, uint16_t port)
{
    char broker[64];
    snprintf(broker, sizeof broker, "127.0.0.1:%u", port);
    char *argv[] = {(char *)path, "--broker", broker, "--fast", "--timeout", "20000", "--quiet"};
    pcap_cli cli = {.cmd = "replay"};
    cr_assert_eq(pcap_cli_parse(7, argv, &cli), 0);
    return pcap_cmd_replay(&cli);
}

/* A CONNACK and an 8 MiB PUBLISH: at least 128 reads of 64 KiB. Decoding
 * from the first byte on each read hands the decoder over 64 times the
 * packet; framing first hands it the packet once here (the capture reader
 * and the comparison decode it a few times more, whole). */
Test(replay, a_large_answer_over_many_reads_is_decoded_once, .timeout = 120)
{
    size_t plen = 8u << 20;
    uint8_t *answer = malloc(plen + 64);
    cr_assert(answer);
    uint8_t *payload = calloc(1, plen);
    cr_assert(payload);
    size_t n = enc_connack(MQTT_V311, 0, answer, 64);
    n += enc_publish(MQTT_V311, MQTT_FROM_SERVER, 0, 0, "big", payload, plen, answer + n, plen + 64 - n);
    free(payload);
    char path[] = "/tmp/test-replay-XXXXXX";
    int tfd = mkstemp(path);
    cr_assert_geq(tfd, 0);
    close(tfd);
    write_capture(path, answer, n);
    fixture f = {.answer = answer, .answer_len = n};
    fixture_start(&f);
    test_decoded_bytes = 0;
    int rc = replay(path, f.port);
    size_t work = test_decoded_bytes;
    fixture_stop(&f);
    unlink(path);
    free(answer);
    cr_assert_eq(rc, 0, "the live answer matches the recorded one");
    cr_assert_lt(work, 8 * n, "decoded %zu bytes for %zu bytes of answers", work, n);
}

/* A broker that answers the CONNECT and then sends PUBLISH after PUBLISH the
 * capture never awaits (it awaits a PINGRESP that never comes): the replay
 * stops at its bound, says so on stderr, and exits 1, long before the
 * timeout and the flood's end. */
Test(replay, a_flooding_broker_is_stopped_at_the_bound, .timeout = 120, .init = cr_redirect_stderr)
{
    uint8_t answer[64];
    size_t n = enc_connack(MQTT_V311, 0, answer, sizeof answer);
    uint8_t rec[64];
    size_t rn = enc_connack(MQTT_V311, 0, rec, sizeof rec);
    rn += enc_simple(MQTT_V311, MQTT_FROM_SERVER, MQTT_PINGRESP, rec + rn, sizeof rec - rn);
    static uint8_t flood[65536];
    static uint8_t payload[60000];
    size_t fl = 0;
    while (fl + 60100 < sizeof flood)
        fl += enc_publish(MQTT_V311, MQTT_FROM_SERVER, 0, 0, "flood", payload, sizeof payload - 10000,
                          flood + fl, sizeof flood - fl);
    char path[] = "/tmp/test-replay-XXXXXX";
    int tfd = mkstemp(path);
    cr_assert_geq(tfd, 0);
    close(tfd);
    write_capture(path, rec, rn);
    fixture f = {.answer = answer, .answer_len = n, .flood = flood, .flood_len = fl,
                 .flood_max = 2 * PCAP_REPLAY_MAX_UNMATCHED};
    fixture_start(&f);
    int rc = replay(path, f.port);
    fixture_stop(&f);
    unlink(path);
    cr_assert_eq(rc, 1, "the replay stops with differences");
    cr_assert_lt(f.flooded, 2 * PCAP_REPLAY_MAX_UNMATCHED, "stopped before the flood ended (%zu bytes sent)", f.flooded);
    fflush(stderr);
    char text[4096] = "";
    FILE *e = cr_get_redirected_stderr();
    size_t k = fread(text, 1, sizeof text - 1, e);
    text[k] = '\0';
    cr_assert(strstr(text, "c1: bound on unmatched broker packets reached") && strstr(text, "64 MiB"), "stderr: %s",
              text);
}

/* The queue itself, fed one byte at a time: every packet is decoded exactly
 * once (decodes == packets), packets of a type come out in order, the
 * oldest of any type first, and the limit holds the next packet back. */
Test(replay, the_receive_queue_decodes_each_packet_once_and_bounds_what_it_holds)
{
    static uint8_t s[300000];
    static uint8_t payload[200000];
    size_t n = enc_connack(MQTT_V311, 0, s, sizeof s);
    n += enc_publish(MQTT_V311, MQTT_FROM_SERVER, 1, 7, "a", payload, sizeof payload, s + n, sizeof s - n);
    n += enc_simple(MQTT_V311, MQTT_FROM_SERVER, MQTT_PINGRESP, s + n, sizeof s - n);
    n += enc_publish(MQTT_V311, MQTT_FROM_SERVER, 0, 0, "b", "x", 1, s + n, sizeof s - n);
    mqtt_codec codec = {.version = MQTT_V311, .from = MQTT_FROM_SERVER};
    pcap_rxq q = {0};
    size_t total = 0, packets = 0;
    test_decode_calls = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert(pcap_rxq_append(&q, s + i, 1));
        for (pcap_rxq_status st; (st = pcap_rxq_next(&q, &codec, &total, SIZE_MAX, NULL)) != PCAP_RXQ_NEED_MORE;) {
            cr_assert_eq(st, PCAP_RXQ_PACKET);
            packets++;
        }
    }
    cr_assert_eq(packets, 4);
    cr_assert_eq(test_decode_calls, packets, "%zu decodes for %zu packets", test_decode_calls, packets);
    pcap_rx rx;
    cr_assert(pcap_rxq_take(&q, MQTT_PUBLISH, &total, &rx));
    cr_assert_gt(rx.len, sizeof payload, "the large PUBLISH first");
    free(rx.raw);
    cr_assert(pcap_rxq_take_oldest(&q, &total, &rx));
    cr_assert_eq(rx.raw[0] >> 4, MQTT_CONNACK);
    free(rx.raw);
    /* A limit the next packet would pass: it stays buffered, nothing is counted. */
    size_t before = total;
    cr_assert(pcap_rxq_append(&q, s, 4));
    cr_assert_eq(pcap_rxq_next(&q, &codec, &total, total + 4, NULL), PCAP_RXQ_FULL);
    cr_assert_eq(total, before);
    cr_assert_eq(pcap_rxq_next(&q, &codec, &total, SIZE_MAX, NULL), PCAP_RXQ_PACKET);
    /* A broken Remaining Length (five continuation bytes) drops the buffer. */
    static const uint8_t broken[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
    cr_assert(pcap_rxq_append(&q, broken, sizeof broken));
    mqtt_error err;
    cr_assert_eq(pcap_rxq_next(&q, &codec, &total, SIZE_MAX, &err), PCAP_RXQ_BROKEN);
    cr_assert_eq(pcap_rxq_next(&q, &codec, &total, SIZE_MAX, NULL), PCAP_RXQ_NEED_MORE);
    pcap_rxq_free(&q, &total);
    cr_assert_eq(total, 0, "everything counted is given back");
}

/* What replay and to-scenario keep of a capture is bounded (a compressed
 * file can hold far more than its size): past max_held nothing more is kept
 * and `over` says so (the commands then fail with a message); below it,
 * everything is kept. 100 PUBLISH of 10 KB against a bound of 256 KiB. */
static void collect(mem_cap *m, pcap_collection *c)
{
    flow_each(m, pcap_collect_event, c);
}

Test(replay, what_a_capture_makes_replay_keep_is_bounded)
{
    mem_cap m;
    cap_open(&m, PCAP_WRITER_ETHERNET);
    pcap_writer_conn c;
    cr_assert_eq(pcap_writer_conn_init_text(&c, "192.168.1.10", 50000, "192.168.1.1", 1883), 0);
    cr_assert_eq(pcap_writer_handshake(m.w, &c, m.t++), 0);
    static uint8_t b[11000];
    static uint8_t payload[10000];
    size_t k = enc_connect(MQTT_V311, "big", b, sizeof b);
    cr_assert_eq(pcap_writer_send(m.w, &c, CLI, b, k, m.t++), 0);
    for (int i = 0; i < 100; i++) {
        k = enc_publish(MQTT_V311, MQTT_FROM_CLIENT, 0, 0, "t", payload, sizeof payload, b, sizeof b);
        cr_assert_eq(pcap_writer_send(m.w, &c, CLI, b, k, m.t++), 0);
    }
    cap_close(&m);
    pcap_collection small = {.max_held = 256 << 10};
    collect(&m, &small);
    cr_assert(small.over, "the bound was reached");
    cr_assert_leq(small.held, small.max_held);
    cr_assert_lt(small.n, 30, "%zu events kept", small.n);
    pcap_collection_free(&small);
    pcap_collection all = {0};
    collect(&m, &all);
    cr_assert(!all.over);
    cr_assert_geq(all.n, 101, "%zu events kept", all.n);
    pcap_collection_free(&all);
    cap_free(&m);
}
