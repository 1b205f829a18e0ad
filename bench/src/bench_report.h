/*
 * bench_report: a run's result for people (summary table), for machines
 * (--json, --csv) and for `mqtt-bench merge` (--hist: the counters and the
 * latency histogram in a text file that merges exactly).
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdio.h>

#include "bench/src/bench_result.h"

void bench_report_summary(FILE *f, const bench_opts *o, const bench_result *res);
/* Write to path ("-" = stdout). Return 0, or -1 after printing why. */
int bench_report_json(const char *path, const bench_opts *o, const bench_result *res);
int bench_report_csv(const char *path, const bench_opts *o, const bench_result *res);
int bench_report_hist(const char *path, const bench_result *res);
/* Reads a --hist file and adds it into *res. Returns 0, or -1 after printing why. */
int bench_report_read_hist(const char *path, bench_result *res);

#endif
