/*
 * Fuzz harness `config`: the broker's configuration parser
 * (broker/src/broker_config.c) on arbitrary text.
 *
 * Invariants: no crash, leak or hang; a parse either succeeds or fails with
 * a message that names the input and a line ("fuzz.conf:N: ...", one line
 * of text); a successful parse leaves every value in range (max_qos <= 2,
 * ports and listener counts within their limits) and the listener list
 * consistent. `include_dir` inputs are skipped: they read the file system.
 */
#define _GNU_SOURCE /* memmem */
#include "broker/src/broker_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    if (memmem(data, size, "include_dir", 11)) return -1; /* file system: not fuzzed here */
    broker_config cfg;
    broker_config_init(&cfg);
    char err[512] = "";
    int rc = broker_config_parse(&cfg, (const char *)data, size, "fuzz.conf", err, sizeof err);
    if (rc != 0) {
        if (strncmp(err, "fuzz.conf:", 10) != 0 || strchr(err, '\n')) {
            fprintf(stderr, "error message without FILE:LINE or on several lines: %s\n", err);
            abort();
        }
    } else {
        broker_listener l[BROKER_MAX_LISTENERS + 1];
        size_t n = broker_config_listeners(&cfg, l, BROKER_MAX_LISTENERS + 1);
        if (cfg.opts.max_qos > 2 || n == 0 || n > BROKER_MAX_LISTENERS + 1 || cfg.nlisteners > BROKER_MAX_LISTENERS ||
            cfg.nlog_dests > BROKER_MAX_LOG_DESTS) {
            fprintf(stderr, "accepted an out of range configuration\n");
            abort();
        }
        for (size_t i = 0; i < n; i++) {
            broker_security_config s = broker_config_security(&cfg, &l[i]);
            if (s.allow_anonymous != 0 && s.allow_anonymous != 1) abort();
        }
    }
    broker_config_free(&cfg);
    return 0;
}
