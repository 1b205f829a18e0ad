/*
 * fz_eval: one session through every oracle. Plays it against the target
 * (restarting a spawned target that is down), then asks, in this order:
 * crash (the spawned broker died or printed a sanitizer report, or a fresh
 * connection is refused), hang (a live connection got no PINGRESP, or the
 * fresh probe got none), memory (RSS above the bound), spec (fz_oracle) and
 * diff (the same session against the reference, fz_diff). The first that
 * fires is the finding. Also used by the minimiser as its test.
 */
#ifndef FZ_EVAL_H
#define FZ_EVAL_H

#include "fuzz/live/src/fz_cover.h"
#include "fuzz/live/src/fz_exec.h"
#include "fuzz/live/src/fz_finding.h"
#include "fuzz/live/src/fz_opts.h"
#include "fuzz/live/src/fz_target.h"

typedef struct {
    const fz_opts *o;
    fz_target *target;
    fz_target *ref;       /* NULL: no differential oracle */
    fz_exec_opts xo, rxo;
    long execs;           /* sessions executed (campaign and minimisation) */
    bool target_lost;     /* an external broker is down: nothing more can run */
} fz_ctx;

/* Returns 1 with *f filled when an oracle fired, 0 when none did, -1 when the
 * target could not be (re)started (message in f->what). *run holds the
 * target's run either way (free it with fz_run_free). */
int fz_eval(fz_ctx *x, const fz_session *s, fz_run *run, fz_finding *f);

/* Plays s with no oracle at all (the plain replay). */
void fz_eval_plain(fz_ctx *x, const fz_session *s);

#endif
