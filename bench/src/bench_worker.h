/*
 * bench_worker: one thread's event loop over its share of the connections:
 * starts them at the connection rate, drives connects, TLS, MQTT, publishes
 * on schedule (or as fast as the window and the socket allow), keeps them
 * alive, and stops when the main thread says so.
 */
#ifndef BENCH_WORKER_H
#define BENCH_WORKER_H

#include "bench/src/bench.h"

/* Prepares w (epoll set, timer, histograms). Returns 0 or -1 with err. */
int bench_worker_init(bench_worker *w, bench_run *r, int id, char *err, size_t errlen);
void bench_worker_free(bench_worker *w);
/* The thread body (pthread_create argument: the worker). */
void *bench_worker_main(void *arg);

#endif
