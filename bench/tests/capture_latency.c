/*
 * bench-capture-latency: the independent measurement mqtt-bench's latency is
 * checked against. Reads a capture (tcpdump on loopback) of a pubsub run
 * with the pcaps/ reader, pairs each PUBLISH a client sent to the broker with
 * the same message (publisher, sequence from the bench stamp) going from the
 * broker to a subscriber, and prints the percentiles of the capture-time
 * differences in microseconds: "count N p50 X p90 Y p99 Z".
 *
 *   bench-capture-latency CAPTURE BROKER_PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/src/bench_hist.h"
#include "bench/src/bench_payload.h"
#include "pcaps/src/pcap_flow.h"

typedef struct {
    int64_t *sent;     /* capture time of (publisher 0..7, seq) leaving the client, 0 if unseen */
    size_t cap;
    bench_hist h;
    uint64_t unmatched;
} ctx;

static void on_event(void *arg, const pcap_event *ev)
{
    ctx *c = arg;
    if (ev->kind != PCAP_EV_PACKET || ev->pkt->type != MQTT_PUBLISH) return;
    bench_stamp s;
    const mqtt_publish *p = &ev->pkt->publish;
    if (!bench_stamp_read(p->payload.ptr, p->payload.len, &s) || s.pub >= 8 || s.seq >= c->cap / 8) return;
    size_t k = s.pub * (c->cap / 8) + s.seq;
    int64_t t = ev->ts_sec * 1000000000 + ev->ts_nsec;
    if (ev->from == MQTT_FROM_CLIENT) {
        c->sent[k] = t;
    } else if (c->sent[k]) {
        bench_hist_record(&c->h, (uint64_t)(t > c->sent[k] ? t - c->sent[k] : 0));
    } else {
        c->unmatched++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-capture-latency CAPTURE BROKER_PORT\n");
        return 2;
    }
    char err[256];
    pcap_reader *r = pcap_reader_open_file(argv[1], err, sizeof err);
    if (!r) {
        fprintf(stderr, "bench-capture-latency: %s\n", err);
        return 2;
    }
    static ctx c;
    c.cap = 8u * 1000000u;
    c.sent = calloc(c.cap, sizeof *c.sent);
    bench_hist_init(&c.h);
    uint16_t port = (uint16_t)atoi(argv[2]);
    pcap_flow_options opt = {.ports = &port, .nports = 1};
    int rc = c.sent ? pcap_flow_run(r, &opt, on_event, &c, NULL, err, sizeof err) : -1;
    pcap_reader_close(r);
    free(c.sent);
    if (rc != 0) {
        fprintf(stderr, "bench-capture-latency: %s\n", c.sent ? err : "out of memory");
        return 1;
    }
    printf("count %llu p50 %.1f p90 %.1f p99 %.1f unmatched %llu\n", (unsigned long long)c.h.total,
           bench_hist_percentile(&c.h, 50) / 1e3, bench_hist_percentile(&c.h, 90) / 1e3,
           bench_hist_percentile(&c.h, 99) / 1e3, (unsigned long long)c.unmatched);
    return c.h.total ? 0 : 1;
}
