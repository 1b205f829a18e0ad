/*
 * mqtt-bench: an MQTT load generator that measures honestly: latency
 * corrected for coordinated omission, loss / duplicates / reordering judged
 * against the QoS, histograms that merge across machines. main: parse,
 * run (or merge), report, and exit with the verdict.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/src/bench_opts.h"
#include "bench/src/bench_report.h"
#include "bench/src/bench_run.h"

static int outputs(const bench_opts *o, const bench_result *res)
{
    int bad = 0;
    if (o->json) bad |= bench_report_json(o->json, o, res);
    if (o->csv) bad |= bench_report_csv(o->csv, o, res);
    if (o->hist) bad |= bench_report_hist(o->hist, res);
    return bad;
}

static int merge(const bench_opts *o, bench_result *res)
{
    bench_hist_init(&res->lat);
    bench_hist_init(&res->lat_sent);
    bench_hist_init(&res->to_wire);
    bench_hist_init(&res->conn_lat);
    for (int i = 0; i < o->n_merge_files; i++)
        if (bench_report_read_hist(o->merge_files[i], res) != 0) return 2;
    if (res->measure_s > 0) { /* the instances ran side by side: rates add up */
        res->sent_rate = (double)res->sent_measured / res->measure_s;
        res->received_rate = (double)res->received_measured / res->measure_s;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static bench_opts o;
    static bench_result res;
    /* A broker closing a TLS connection must not kill the run: OpenSSL
     * writes without MSG_NOSIGNAL, so the error comes back as EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    int rc = bench_opts_parse(&o, argc, argv);
    if (rc != 0) {
        bench_opts_free(&o);
        return rc > 0 ? 0 : 2;
    }
    if (o.mode == BENCH_MERGE) rc = merge(&o, &res);
    else rc = bench_run_all(&o, &res) == 0 ? 0 : 2;
    if (rc == 0) {
        bool to_stdout = (o.json && !strcmp(o.json, "-")) || (o.csv && !strcmp(o.csv, "-")) ||
                         (o.hist && !strcmp(o.hist, "-"));
        bench_report_summary(to_stdout ? stderr : stdout, &o, &res); /* machines get stdout */
        rc = outputs(&o, &res) ? 2 : bench_result_status(&res);
    }
    bench_opts_free(&o);
    return rc;
}
