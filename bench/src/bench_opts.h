/*
 * bench_opts: mqtt-bench's command line, one shape for every mode:
 *
 *   mqtt-bench MODE --broker HOST:PORT [OPTIONS]     MODE: conn pub sub pubsub
 *   mqtt-bench merge FILE.hist... [--json F] [--csv F]
 *
 * Every bad value is reported with the option that carried it.
 */
#ifndef BENCH_OPTS_H
#define BENCH_OPTS_H

#include <stdio.h>

#include "bench/src/bench.h"

/* Fills *o from argv. Returns 0 to run, 1 when --help or --version was
 * printed (exit 0), -1 after printing an error to stderr (exit 2). */
int bench_opts_parse(bench_opts *o, int argc, char **argv);
void bench_opts_free(bench_opts *o);
void bench_usage(FILE *f);

/* Expands a topic pattern: %i the index, %c the client id, %% a percent.
 * Returns a malloc'd string, or NULL (out of memory). */
char *bench_expand(const char *pattern, int index, const char *client_id);

#endif
