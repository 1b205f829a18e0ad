/*
 * bench_hist: a log-linear latency histogram in the manner of HdrHistogram.
 *
 * Values are nanoseconds. Values below 256 ns have a bucket each; above, every
 * power of two is split into 128 equal buckets, so a bucket is at most 1/128 of
 * its lower bound wide: reporting its midpoint is within 0.4 % of any value in
 * it (the issue asks <= 1 % over 1 us .. 1 h). The range ends at 2^42 ns
 * (73 minutes); larger values are clamped into the last bucket and counted in
 * `clamped`. min, max and sum are exact.
 *
 * The bucket layout is fixed, so two histograms merge by adding counts, and
 * the merge has exactly the percentiles of one histogram fed every value:
 * runs made on several machines combine without error (`mqtt-bench merge`).
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_HIST_SUB 128u                 /* buckets per power of two */
#define BENCH_HIST_MAX_EXP 42u              /* values up to 2^42 ns */
#define BENCH_HIST_BUCKETS (2u * BENCH_HIST_SUB + (BENCH_HIST_MAX_EXP - 8u) * BENCH_HIST_SUB)

typedef struct {
    uint64_t counts[BENCH_HIST_BUCKETS];
    uint64_t total;
    uint64_t min, max;   /* exact; min is UINT64_MAX while empty */
    double sum;          /* for the mean */
    uint64_t clamped;    /* values above the range */
} bench_hist;

void bench_hist_init(bench_hist *h);
void bench_hist_record(bench_hist *h, uint64_t ns);
/* Adds every count of src into dst. */
void bench_hist_merge(bench_hist *dst, const bench_hist *src);
/* The value at percentile p (0 < p <= 100): the midpoint of the bucket that
 * holds the value of rank ceil(p/100 * total), clamped to [min, max].
 * 0 when empty. p = 100 gives the exact max. */
uint64_t bench_hist_percentile(const bench_hist *h, double p);
double bench_hist_mean(const bench_hist *h);

/* Bucket of a value and the range [lo, hi] of values it holds (for tests). */
unsigned bench_hist_index(uint64_t ns);
void bench_hist_bucket_range(unsigned index, uint64_t *lo, uint64_t *hi);

/* Text form: a header line, then "b INDEX COUNT" for every non-empty bucket,
 * then "end". Written after the caller's own lines; read back by
 * bench_hist_read, which skips lines it does not know ("counter ..." lines
 * are the caller's). lines_before: lines of the file already read (for the
 * line numbers in err). Returns 0, or -1 with err filled (what and which line). */
int bench_hist_write(const bench_hist *h, FILE *f);
int bench_hist_read(bench_hist *h, FILE *f, unsigned lines_before, char *err, size_t errlen);

#endif
