/*
 * bench_run: one benchmark from options to result: sets up the connections
 * and the workers, walks the phases (connect, run, drain, stop) on the main
 * thread with a progress line, and gathers the result.
 */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "bench/src/bench.h"
#include "bench/src/bench_result.h"

/* Runs the benchmark of *o into *res. Returns 0, or -1 after printing why it
 * could not run at all (exit 2). */
int bench_run_all(const bench_opts *o, bench_result *res);

#endif
