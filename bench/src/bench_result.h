/*
 * bench_result: what a run found, gathered from the workers after they
 * stopped (bench_result_collect), and printed or saved by bench_report.
 *
 * Loss, duplicates and order are judged per (publisher, subscription) pair
 * against what the QoS promises:
 *   lost        at QoS 0 allowed ("at most once"), at QoS 1 and 2 a violation
 *               (MQTT-4.3.2 / 4.3.3: at least once / exactly once);
 *   duplicates  at QoS 1 allowed ("at least once", reported), at QoS 0 and 2
 *               a violation (MQTT-4.3.3-2 in 3.1.1: no duplicate delivery);
 *   out of order a violation at every QoS: per topic and QoS, messages of one
 *               publisher reach each subscriber in the order sent
 *               (MQTT-4.6.0-5 in 3.1.1, MQTT-4.6.0-6 in 5.0, MUST).
 * The QoS of a pair is the lower of the publish QoS and the granted one.
 */
#ifndef BENCH_RESULT_H
#define BENCH_RESULT_H

#include "bench/src/bench.h"

typedef struct {
    uint64_t sent, sent_measured, acked, expected, received, received_measured;
    uint64_t lost, duplicates, out_of_order, unexpected, foreign, redelivered;
    uint64_t lost_violations, dup_violations, order_violations;
    uint64_t reconnects;  /* --reconnect: subscribers that left and came back */
    uint64_t unread;      /* sent but not known read by the broker when the run ended */
    int64_t stall_max, stall_total; /* publishers blocked (ns): longest, sum over publishers */
    double measure_s, sent_rate, received_rate;
    bench_hist lat, lat_sent, conn_lat, to_wire;
    uint64_t ready, failed, held; /* held: still connected when the run ended */
    double connect_s, conn_rate;
    long rss_before_kib, rss_after_kib;
    double bytes_per_conn;
    uint64_t errors[BE_KINDS];
    uint64_t merged_errors; /* merge: errors of every kind from the .hist files */
    char first_error[BE_KINDS][160];
    bool gaps_only;   /* sub mode: loss seen from gaps in sequence numbers only */
    bool corrected;   /* fixed rate: latency counted from when each message was due */
} bench_result;

/* Gathers *res from the stopped workers of r. Returns 0 or -1 (out of memory). */
int bench_result_collect(const bench_run *r, bench_result *res);
/* Total errors of every kind. */
uint64_t bench_result_errors(const bench_result *res);
/* 0 fine, 1 violations, 3 errors but no violation (the exit status). */
int bench_result_status(const bench_result *res);

#endif
