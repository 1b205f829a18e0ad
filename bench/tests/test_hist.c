/* Tests of bench_hist: bounded relative error over 1 us .. 1 h, exact merge,
 * and the text file round trip that `mqtt-bench merge` relies on. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "bench/src/bench_hist.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Exact percentile of sorted values, same rank rule as the histogram. */
static uint64_t exact(const uint64_t *v, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

Test(bench_hist, every_bucket_is_within_one_percent)
{
    /* 1 us .. 1 h in ns: the midpoint of each value's bucket is within 1 %. */
    for (uint64_t v = 1000; v <= 3600ull * 1000000000ull; v += v / 97 + 1) {
        uint64_t lo, hi;
        unsigned i = bench_hist_index(v);
        bench_hist_bucket_range(i, &lo, &hi);
        cr_assert(lo <= v && v <= hi, "value %llu outside its bucket [%llu, %llu]", (unsigned long long)v,
                  (unsigned long long)lo, (unsigned long long)hi);
        double mid = (double)lo + (double)(hi - lo) / 2.0;
        cr_assert((mid - (double)v) / (double)v < 0.01 && ((double)v - mid) / (double)v < 0.01,
                  "value %llu: midpoint %.0f", (unsigned long long)v, mid);
    }
}

Test(bench_hist, percentiles_of_random_values_within_one_percent)
{
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    static bench_hist h;
    bench_hist_init(&h);
    for (size_t i = 0; i < N; i++) { /* log-uniform over 1 us .. 1 h */
        v[i] = (uint64_t)(1000.0 * __builtin_pow(3.6e9, (double)(next() % 1000000) / 1e6));
        bench_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof *v, cmp_u64);
    const double ps[] = {1, 10, 50, 90, 99, 99.9, 99.99};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        double e = (double)exact(v, N, ps[k]), got = (double)bench_hist_percentile(&h, ps[k]);
        cr_assert(got >= e * 0.99 && got <= e * 1.01, "p%g: %.0f, exact %.0f", ps[k], got, e);
    }
    cr_assert_eq(bench_hist_percentile(&h, 100), v[N - 1], "max is exact");
    cr_assert_eq(h.min, v[0]);
    free(v);
}

Test(bench_hist, merge_equals_one_histogram_of_all_values)
{
    static bench_hist a, b, all;
    bench_hist_init(&a);
    bench_hist_init(&b);
    bench_hist_init(&all);
    for (int i = 0; i < 100000; i++) {
        uint64_t x = next() % 50000000u, y = next() % 900000u + 5000u;
        bench_hist_record(&a, x);
        bench_hist_record(&b, y);
        bench_hist_record(&all, x);
        bench_hist_record(&all, y);
    }
    bench_hist_merge(&a, &b);
    cr_assert_eq(a.total, all.total);
    for (double p = 0.5; p <= 100; p += 0.5)
        cr_assert_eq(bench_hist_percentile(&a, p), bench_hist_percentile(&all, p), "p%g differs", p);
    cr_assert_eq(bench_hist_percentile(&a, 99.99), bench_hist_percentile(&all, 99.99));
}

Test(bench_hist, file_round_trip_is_exact)
{
    static bench_hist h, back;
    bench_hist_init(&h);
    for (int i = 0; i < 5000; i++) bench_hist_record(&h, next() % 1000000000u);
    FILE *f = tmpfile();
    cr_assert_eq(bench_hist_write(&h, f), 0);
    rewind(f);
    char err[160];
    cr_assert_eq(bench_hist_read(&back, f, 0, err, sizeof err), 0, "%s", err);
    fclose(f);
    cr_assert_eq(back.total, h.total);
    cr_assert_eq(back.min, h.min);
    cr_assert_eq(back.max, h.max);
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) cr_assert_eq(back.counts[i], h.counts[i]);
}

Test(bench_hist, bad_files_are_refused_with_the_line)
{
    static bench_hist h;
    char err[160];
    FILE *f = tmpfile();
    fputs("hist ns sub 128 buckets 4608 total 3 min 1 max 9 sum 12 clamped 0\nb 5 2\nend\n", f);
    rewind(f);
    cr_assert_eq(bench_hist_read(&h, f, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "line 3"), "%s", err);
    fclose(f);
    f = tmpfile();
    fputs("hist ns sub 64 buckets 4608 total 0 min 0 max 0 sum 0 clamped 0\nend\n", f);
    rewind(f);
    cr_assert_eq(bench_hist_read(&h, f, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "layout"), "%s", err);
    fclose(f);
    f = tmpfile();
    fputs("hist ns sub 128 buckets 4608 total 1 min 1 max 1 sum 1 clamped 0\nb 99999 1\nend\n", f);
    rewind(f);
    cr_assert_eq(bench_hist_read(&h, f, 0, err, sizeof err), -1, "bucket index out of range");
    fclose(f);
}

Test(bench_hist, values_beyond_the_range_are_clamped_and_counted)
{
    static bench_hist h;
    bench_hist_init(&h);
    bench_hist_record(&h, (uint64_t)1 << 50);
    cr_assert_eq(h.clamped, 1);
    cr_assert_eq(bench_hist_index((uint64_t)1 << 50), BENCH_HIST_BUCKETS - 1);
    cr_assert_eq(bench_hist_percentile(&h, 100), (uint64_t)1 << 50, "max stays exact");
}
