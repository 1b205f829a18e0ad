/*
 * bench_hist: the log-linear histogram of bench_hist.h.
 *
 * Layout: index v for v < 256; for v >= 256, with e = floor(log2 v) - 7
 * (so v >> e is in [128, 256)), index 256 + (e - 1) * 128 + ((v >> e) - 128).
 * Bucket width 2^e over a lower bound of at least 128 * 2^e: relative width
 * <= 1/128, so the midpoint is within 1/256 (0.39 %) of every value in it.
 */
#include "bench/src/bench_hist.h"

#include <inttypes.h>
#include <string.h>

#define SMALL (2u * BENCH_HIST_SUB) /* values below this have their own bucket */

void bench_hist_init(bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

unsigned bench_hist_index(uint64_t v)
{
    if (v < SMALL) return (unsigned)v;
    if (v >> BENCH_HIST_MAX_EXP) return BENCH_HIST_BUCKETS - 1;
    unsigned lg = 63u - (unsigned)__builtin_clzll(v);
    unsigned e = lg - 7u;
    return SMALL + (e - 1u) * BENCH_HIST_SUB + (unsigned)((v >> e) - BENCH_HIST_SUB);
}

void bench_hist_bucket_range(unsigned index, uint64_t *lo, uint64_t *hi)
{
    if (index < SMALL) {
        *lo = *hi = index;
        return;
    }
    unsigned e = (index - SMALL) / BENCH_HIST_SUB + 1u;
    uint64_t sub = (index - SMALL) % BENCH_HIST_SUB + BENCH_HIST_SUB;
    *lo = sub << e;
    *hi = ((sub + 1u) << e) - 1u;
}

void bench_hist_record(bench_hist *h, uint64_t ns)
{
    if (ns >> BENCH_HIST_MAX_EXP) h->clamped++;
    h->counts[bench_hist_index(ns)]++;
    h->total++;
    if (ns < h->min) h->min = ns;
    if (ns > h->max) h->max = ns;
    h->sum += (double)ns;
}

void bench_hist_merge(bench_hist *dst, const bench_hist *src)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t bench_hist_percentile(const bench_hist *h, double p)
{
    if (h->total == 0) return 0;
    if (p >= 100.0) return h->max;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->total + 0.999999999);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen < rank) continue;
        uint64_t lo, hi;
        bench_hist_bucket_range(i, &lo, &hi);
        uint64_t mid = lo + (hi - lo) / 2u;
        if (mid < h->min) mid = h->min;
        if (mid > h->max) mid = h->max;
        return mid;
    }
    return h->max;
}

double bench_hist_mean(const bench_hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

int bench_hist_write(const bench_hist *h, FILE *f)
{
    fprintf(f, "hist ns sub %u buckets %u total %" PRIu64 " min %" PRIu64 " max %" PRIu64
               " sum %.0f clamped %" PRIu64 "\n",
            BENCH_HIST_SUB, BENCH_HIST_BUCKETS, h->total, h->total ? h->min : 0, h->max,
            h->sum, h->clamped);
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        if (h->counts[i]) fprintf(f, "b %u %" PRIu64 "\n", i, h->counts[i]);
    fprintf(f, "end\n");
    return ferror(f) ? -1 : 0;
}

/* Parses the header line; returns 0 or -1 with err filled. */
static int read_header(bench_hist *h, const char *line, unsigned lineno, char *err, size_t errlen)
{
    unsigned sub, buckets;
    uint64_t mn;
    if (sscanf(line, "hist ns sub %u buckets %u total %" SCNu64 " min %" SCNu64 " max %" SCNu64
                     " sum %lf clamped %" SCNu64,
               &sub, &buckets, &h->total, &mn, &h->max, &h->sum, &h->clamped) != 7) {
        snprintf(err, errlen, "line %u: malformed histogram header", lineno);
        return -1;
    }
    if (sub != BENCH_HIST_SUB || buckets != BENCH_HIST_BUCKETS) {
        snprintf(err, errlen, "line %u: histogram layout %u/%u, this build uses %u/%u", lineno,
                 sub, buckets, BENCH_HIST_SUB, BENCH_HIST_BUCKETS);
        return -1;
    }
    h->min = h->total ? mn : UINT64_MAX;
    return 0;
}

int bench_hist_read(bench_hist *h, FILE *f, unsigned lines_before, char *err, size_t errlen)
{
    char line[256];
    unsigned lineno = lines_before;
    bool header = false;
    uint64_t sum = 0;
    bench_hist_init(h);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!header) {
            if (strncmp(line, "hist ", 5) != 0) continue;
            if (read_header(h, line, lineno, err, errlen) != 0) return -1;
            header = true;
            continue;
        }
        if (strncmp(line, "end", 3) == 0) {
            if (sum != h->total) {
                snprintf(err, errlen, "line %u: buckets hold %" PRIu64 " values, header says %" PRIu64,
                         lineno, sum, h->total);
                return -1;
            }
            return 0;
        }
        unsigned idx;
        uint64_t n;
        if (sscanf(line, "b %u %" SCNu64, &idx, &n) != 2 || idx >= BENCH_HIST_BUCKETS) {
            snprintf(err, errlen, "line %u: expected \"b INDEX COUNT\" or \"end\"", lineno);
            return -1;
        }
        h->counts[idx] += n;
        sum += n;
    }
    snprintf(err, errlen, header ? "truncated: no \"end\" line" : "no histogram in the file");
    return -1;
}
