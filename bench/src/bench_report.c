/*
 * bench_report: summary table, JSON, CSV and the mergeable .hist file
 * (bench_report.h). Latencies are printed in ms for people and in us in
 * JSON/CSV, as the JSON shape (latency_us.p50 ...) asks.
 */
#include "bench/src/bench_report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *mode_name(bench_mode m)
{
    static const char *const n[] = {"conn", "pub", "sub", "pubsub", "merge"};
    return n[m];
}

static const double pcts[] = {50, 90, 99, 99.9, 99.99, 100};
static const char *const pct_keys[] = {"p50", "p90", "p99", "p999", "p9999", "max"};
#define NPCT 6

static void lat_line(FILE *f, const char *label, const bench_hist *h)
{
    fprintf(f, "%-14s", label);
    if (!h->total) {
        fprintf(f, "no samples\n");
        return;
    }
    for (int i = 0; i < NPCT; i++)
        fprintf(f, " %s %.3f", pct_keys[i], (double)bench_hist_percentile(h, pcts[i]) / 1e6);
    fprintf(f, "  (%" PRIu64 " samples)\n", h->total);
}

/* The share of the publishers' measured time they spent blocked. */
static double stall_share(const bench_opts *o, const bench_result *r)
{
    double t = r->measure_s * (o->publishers > 0 ? o->publishers : 1);
    return t > 0 ? 100.0 * (double)r->stall_total / 1e9 / t : 0;
}

static void verdict(FILE *f, const bench_result *r)
{
    if (bench_result_status(r) == 0) {
        fprintf(f, "verdict        ok\n");
        return;
    }
    fprintf(f, "verdict        ");
    if (r->lost_violations) fprintf(f, "LOSS at QoS >= 1: %" PRIu64 "; ", r->lost_violations);
    if (r->dup_violations) fprintf(f, "DUPLICATES at QoS 0/2: %" PRIu64 "; ", r->dup_violations);
    if (r->order_violations) fprintf(f, "REORDERED (MQTT-4.6.0-5/6): %" PRIu64 "; ", r->order_violations);
    if (r->unexpected) fprintf(f, "from publishers not subscribed to: %" PRIu64 "; ", r->unexpected);
    if (bench_result_status(r) == 3) fprintf(f, "errors during the run");
    fprintf(f, "\n");
}

void bench_report_summary(FILE *f, const bench_opts *o, const bench_result *r)
{
    if (o->mode != BENCH_MERGE)
        fprintf(f, "mqtt-bench %s %s:%u  mqtt %s  qos %d  payload %zu-%zu B  rate %s\n", mode_name(o->mode),
                o->host, o->port, mqtt_version_name(o->version), o->qos, o->payload_min, o->payload_max,
                o->rate > 0 ? "fixed" : "max");
    fprintf(f, "connections    %" PRIu64 " ready, %" PRIu64 " failed, %" PRIu64 " held at the end"
               " (%.0f/s over %.2f s)\n", r->ready, r->failed, r->held, r->conn_rate, r->connect_s);
    if (r->bytes_per_conn > 0)
        fprintf(f, "broker memory  %.0f B per connection (RSS %ld -> %ld KiB)\n", r->bytes_per_conn,
                r->rss_before_kib, r->rss_after_kib);
    if (o->mode != BENCH_CONN) {
        fprintf(f, "sent           %" PRIu64 " (%.0f msg/s measured over %.2f s), acked %" PRIu64 "\n",
                r->sent, r->sent_rate, r->measure_s, r->acked);
        if (r->gaps_only) /* sub mode: what was owed is known to the publishers only */
            fprintf(f, "received       %" PRIu64 " (%.0f msg/s)\n", r->received, r->received_rate);
        else
            fprintf(f, "received       %" PRIu64 " of %" PRIu64 " owed (%.0f msg/s)\n", r->received,
                    r->expected, r->received_rate);
        fprintf(f, "lost           %" PRIu64 "%s\n", r->lost, r->gaps_only ? " (gaps in sequences only)" : "");
        if (r->unread)
            fprintf(f, "  unread       %" PRIu64 " of the lost were not yet read by the broker when the drain ended\n",
                    r->unread);
        fprintf(f, "duplicates     %" PRIu64 "%s\n", r->duplicates, r->redelivered ? " (plus QoS 2 redeliveries, not delivered twice)" : "");
        fprintf(f, "out of order   %" PRIu64 "\n", r->out_of_order);
        if (o->publishers)
            fprintf(f, "pub stalls     longest %.1f ms, %.1f %% of the publishers' measured time (window or socket full)\n",
                    (double)r->stall_max / 1e6, stall_share(o, r));
        lat_line(f, "latency ms", &r->lat);
        if (r->corrected) lat_line(f, "  from send", &r->lat_sent);
        if (r->to_wire.total) lat_line(f, "  to the wire", &r->to_wire);
        fprintf(f, "               %s\n", r->corrected ? "from when each message was due (coordinated omission corrected)"
                                                       : "from when each message was sent");
    }
    if (r->reconnects)
        fprintf(f, "reconnects     %" PRIu64 " (left with DISCONNECT and came back; connect ms counts them)\n", r->reconnects);
    lat_line(f, "connect ms", &r->conn_lat);
    for (int k = 0; k < BE_KINDS; k++)
        if (r->errors[k])
            fprintf(f, "error %-9s%" PRIu64 "  first: %s\n", bench_error_names[k], r->errors[k], r->first_error[k]);
    if (r->merged_errors) fprintf(f, "errors         %" PRIu64 " (all kinds, from the merged files)\n", r->merged_errors);
    verdict(f, r);
}

static FILE *open_out(const char *path)
{
    if (!strcmp(path, "-")) return stdout;
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "mqtt-bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (f != stdout) bad |= fclose(f);
    else fflush(f);
    if (bad) fprintf(stderr, "mqtt-bench: error writing %s\n", path);
    return bad ? -1 : 0;
}

static void json_hist(FILE *f, const char *key, const bench_hist *h)
{
    fprintf(f, "  \"%s\": {\"count\": %" PRIu64, key, h->total);
    for (int i = 0; i < NPCT; i++)
        fprintf(f, ", \"%s\": %.1f", pct_keys[i], (double)bench_hist_percentile(h, pcts[i]) / 1e3);
    fprintf(f, ", \"mean\": %.1f},\n", bench_hist_mean(h) / 1e3);
}

int bench_report_json(const char *path, const bench_opts *o, const bench_result *r)
{
    FILE *f = open_out(path);
    if (!f) return -1;
    fprintf(f, "{\n  \"mode\": \"%s\",\n  \"mqtt\": \"%s\",\n  \"qos\": %d,\n  \"publishers\": %d,\n"
               "  \"subscribers\": %d,\n  \"rate\": %g,\n  \"corrected\": %s,\n",
            mode_name(o->mode), mqtt_version_name(o->version), o->qos, o->publishers, o->subscribers,
            o->rate, r->corrected ? "true" : "false");
    fprintf(f, "  \"sent\": %" PRIu64 ",\n  \"acked\": %" PRIu64 ",\n  \"expected\": %" PRIu64 ",\n"
               "  \"received\": %" PRIu64 ",\n  \"lost\": %" PRIu64 ",\n  \"duplicates\": %" PRIu64 ",\n"
               "  \"out_of_order\": %" PRIu64 ",\n  \"unexpected\": %" PRIu64 ",\n  \"redelivered\": %" PRIu64 ",\n",
            r->sent, r->acked, r->expected, r->received, r->lost, r->duplicates, r->out_of_order,
            r->unexpected, r->redelivered);
    fprintf(f, "  \"violations\": {\"lost\": %" PRIu64 ", \"duplicates\": %" PRIu64 ", \"out_of_order\": %" PRIu64 "},\n",
            r->lost_violations, r->dup_violations, r->order_violations);
    fprintf(f, "  \"measure_s\": %.3f,\n  \"sent_per_s\": %.1f,\n  \"received_per_s\": %.1f,\n",
            r->measure_s, r->sent_rate, r->received_rate);
    fprintf(f, "  \"reconnects\": %" PRIu64 ",\n", r->reconnects);
    fprintf(f, "  \"unread\": %" PRIu64 ",\n  \"publisher_stall_ms\": {\"max\": %.1f, \"total\": %.1f, \"share_pct\": %.1f},\n",
            r->unread, (double)r->stall_max / 1e6, (double)r->stall_total / 1e6, stall_share(o, r));
    json_hist(f, "latency_us", &r->lat);
    json_hist(f, "latency_from_send_us", &r->lat_sent);
    json_hist(f, "connect_us", &r->conn_lat);
    json_hist(f, "send_to_wire_us", &r->to_wire);
    fprintf(f, "  \"connections\": {\"ready\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"held\": %" PRIu64
               ", \"per_s\": %.1f},\n", r->ready, r->failed, r->held, r->conn_rate);
    fprintf(f, "  \"broker_rss_kib\": {\"before\": %ld, \"after\": %ld},\n  \"bytes_per_connection\": %.0f,\n",
            r->rss_before_kib, r->rss_after_kib, r->bytes_per_conn);
    fprintf(f, "  \"errors\": {");
    for (int k = 0; k < BE_KINDS; k++) fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", bench_error_names[k], r->errors[k]);
    fprintf(f, "},\n  \"status\": %d\n}\n", bench_result_status(r));
    return close_out(f, path);
}

int bench_report_csv(const char *path, const bench_opts *o, const bench_result *r)
{
    FILE *f = open_out(path);
    if (!f) return -1;
    fprintf(f, "mode,qos,publishers,subscribers,rate,sent,received,lost,duplicates,out_of_order,"
               "sent_per_s,received_per_s,p50_us,p90_us,p99_us,p999_us,p9999_us,max_us,errors,status\n");
    fprintf(f, "%s,%d,%d,%d,%g,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.1f,%.1f",
            mode_name(o->mode), o->qos, o->publishers, o->subscribers, o->rate, r->sent, r->received,
            r->lost, r->duplicates, r->out_of_order, r->sent_rate, r->received_rate);
    for (int i = 0; i < NPCT; i++) fprintf(f, ",%.1f", (double)bench_hist_percentile(&r->lat, pcts[i]) / 1e3);
    fprintf(f, ",%" PRIu64 ",%d\n", bench_result_errors(r), bench_result_status(r));
    return close_out(f, path);
}

/* The counters a .hist file carries besides the histogram, summed by merge. */
#define COUNTERS(X) X(sent) X(sent_measured) X(acked) X(expected) X(received) X(received_measured) \
    X(lost) X(duplicates) X(out_of_order) X(unexpected) X(lost_violations) X(dup_violations)     \
    X(order_violations) X(ready) X(failed) X(held)

int bench_report_hist(const char *path, const bench_result *r)
{
    FILE *f = open_out(path);
    if (!f) return -1;
    fprintf(f, "mqtt-bench-hist 1\n");
#define PUT(name) fprintf(f, "counter " #name " %" PRIu64 "\n", r->name);
    COUNTERS(PUT)
#undef PUT
    fprintf(f, "counter errors %" PRIu64 "\nmeasure_s %.6f\n", bench_result_errors(r), r->measure_s);
    bench_hist_write(&r->lat, f);
    return close_out(f, path);
}

int bench_report_read_hist(const char *path, bench_result *r)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "mqtt-bench merge: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256], err[160];
    if (!fgets(line, sizeof line, f) || strcmp(line, "mqtt-bench-hist 1\n") != 0) {
        fprintf(stderr, "mqtt-bench merge: %s: not a mqtt-bench histogram (first line)\n", path);
        fclose(f);
        return -1;
    }
    long pos = ftell(f);
    unsigned lines = 1;
    char name[64];
    uint64_t v;
    double secs;
    while (fgets(line, sizeof line, f) && strncmp(line, "hist ", 5) != 0) {
        if (sscanf(line, "measure_s %lf", &secs) == 1 && secs > r->measure_s) r->measure_s = secs;
        if (sscanf(line, "counter %63s %" SCNu64, name, &v) != 2) continue;
#define ADD(n) if (!strcmp(name, #n)) r->n += v;
        COUNTERS(ADD)
#undef ADD
        if (!strcmp(name, "errors")) r->merged_errors += v; /* kinds are not kept across files */
        pos = ftell(f);
        lines++;
    }
    fseek(f, pos, SEEK_SET);
    bench_hist h;
    int rc = bench_hist_read(&h, f, lines, err, sizeof err);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "mqtt-bench merge: %s: %s\n", path, err);
        return -1;
    }
    bench_hist_merge(&r->lat, &h);
    return 0;
}
