/*
 * fz_finding: what an oracle reports. Each class is its own kind of finding:
 * crash (the broker died, refused connections after it was up, or printed a
 * sanitizer report), hang (no PINGRESP within the bound while idle), memory
 * (resident memory of a spawned broker beyond the bound), spec (the broker's
 * answers break a MUST of the specification; `rule` names it) and diff (the
 * answers differ from the reference broker's where the spec fixes them).
 */
#ifndef FZ_FINDING_H
#define FZ_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FZ_CRASH = 0, FZ_HANG, FZ_MEMORY, FZ_SPEC, FZ_DIFF, FZ_NCLASS } fz_class;

typedef struct {
    fz_class cls;
    char rule[32];       /* normative id (spec, diff), or "" */
    char what[320];      /* one line for people */
    int conn;            /* connection concerned, or -1 */
    int client;          /* its client, or -1 */
    uint8_t packet_type; /* spec/diff: type of the broker packet at fault (0: none or a close) */
    uint8_t expect_type; /* diff: what the reference sent instead (0: nothing) */
    int before;          /* spec/diff: packets that client received before the one at fault */
    int code;            /* spec: the reason code at fault, or -1 */
    bool undecodable;    /* spec: the broker's bytes did not decode */
    bool delivery;       /* diff: the PUBLISH deliveries differ (fz_deliver) */
    char sig[160];       /* grouping key: class, rule, stack or last packets */
    char detail[4096];   /* sanitizer report, exit status ... */
    char expect[2048];   /* diff delivery: the reference's deliveries as scenario steps, or "" */
} fz_finding;

const char *fz_class_name(fz_class c);

#endif
